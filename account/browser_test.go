package account_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"replenish/web/browsertest"
)

// axeSource is axe-core's engine (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// TestCustomerPagesInBrowser is a customer's way through the pages in a
// real browser: a vendor's link while signed out, sign-up, linking the
// vendor through its own sign-in page, then each of the seven page types
// from a vendor link with an allowed exitUri: a change on each, and back
// to the vendor's app through the exitUri. Every page is kept as a
// screenshot at phone and desktop width and checked with axe-core.
func TestCustomerPagesInBrowser(t *testing.T) {
	w := newWorld(t, true)
	// The vendor's app, where exitUri leads.
	app := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html lang="en"><title>Printer app</title><h1 id="back">Back in the printer app</h1><p id="path">%s</p></html>`, r.URL.Path)
	}))
	t.Cleanup(app.Close)
	w.allowExits(app.URL + "/app/*")
	exit := func(page string) string { return app.URL + "/app/" + page }

	b := browsertest.New(t)
	// A vendor's link, signed out: sign-in, then sign-up, keeping the way back.
	first := w.URL + w.page("dart_device_list", exit("devices"))
	b.Visit(first)
	b.WaitFor("#sign-in")
	check(t, b, "sign-in")
	b.Click("#to-sign-up", "#sign-up")
	b.Fill("#name", "Robin")
	b.Fill("#email", "robin@example.com")
	b.Fill("#password", "short")
	submit(t, b, "#sign-up button[type=submit]")
	if got := b.Value("#email"); got != "robin@example.com" || !strings.Contains(b.Text("#password-error"), "10 to 200") {
		t.Errorf("the refused sign-up kept %q and says %q", got, b.Text("#password-error"))
	}
	check(t, b, "sign-up-refused")
	b.Fill("#password", "robin's long password")
	submit(t, b, "#sign-up button[type=submit]")
	if loc := b.Location(); loc != first {
		t.Fatalf("after sign-up the browser is at %s, want the vendor's link %s", loc, first)
	}
	check(t, b, "device-list-empty")

	// The customer's ID, which the vendor adds as a test account.
	b.Visit(w.URL + "/account/profile")
	id := b.Text("#customer-id")
	check(t, b, "profile")
	w.testAccount(&customer{ID: id})

	// Linking through the vendor's own sign-in page.
	b.Visit(first)
	b.Click("#link-vendor", "#allow")
	b.Fill("#account", "robin")
	b.Shot("vendor-sign-in")
	b.Click("#allow", "#title")
	if title := b.Text("#title"); !strings.HasPrefix(title, "Linked with") {
		t.Fatalf("the callback page says %q", title)
	}
	b.Shot("linked")
	b.Click("#continue", "main")
	// Three weeks of readings, with a new black cartridge on day 12.
	start := time.Now().Add(-21 * 24 * time.Hour)
	for day := range 21 {
		black := 80 - 6*float64(day)
		if day >= 12 {
			black = 100 - 5*float64(day-12)
		}
		w.reportAt(start.Add(time.Duration(day)*24*time.Hour), black, 90-2*float64(day), 60-2*float64(day), 50-2*float64(day))
	}

	// Each page type from a vendor link with an allowed exitUri.
	b.Visit(w.URL + w.page("dart_landing", exit("landing")))
	check(t, b, "dart_landing")
	b.Click("#continue", ".device")
	if !strings.Contains(b.Location(), "/dart_device_list?vendorCode=") {
		t.Errorf("the landing page's button leads to %s, want the device list", b.Location())
	}
	back(t, b, "/app/landing")

	b.Visit(w.URL + w.page("dart_device_list", exit("devices")))
	b.WaitFor("meter")
	check(t, b, "dart_device_list")
	back(t, b, "/app/devices")

	// Settings: rename the printer; saving returns to the app.
	b.Visit(w.URL + w.page("settings", exit("settings")))
	check(t, b, "settings")
	b.Fill("input[name=friendlyName]", "Study printer")
	submit(t, b, "form[id^=settings-] button[type=submit]")
	atApp(t, b, "/app/settings")
	b.Visit(w.URL + w.page("dart_device_list", ""))
	if !strings.Contains(b.Text(".device h2"), "Study printer") {
		t.Errorf("the device list shows %q, want the new name", b.Text(".device h2"))
	}

	// Supply tracking: the price is on the page before AUTO is saved.
	b.Visit(w.URL + w.page("sensor_tracking_selection", exit("supplies")))
	if price := b.Text("form[id^=subscription-] .price"); !strings.HasSuffix(price, " USD") {
		t.Errorf("the first product's price reads %q, want an amount in USD", price)
	}
	check(t, b, "sensor_tracking_selection")
	b.Click("form[id^=subscription-] input[name=productId]", "")
	b.Click("form[id^=subscription-] input[value=AUTO]", "")
	submit(t, b, "form[id^=subscription-] button[type=submit]")
	atApp(t, b, "/app/supplies")

	// product_selection is the same page.
	b.Visit(w.URL + w.page("product_selection", exit("supplies")))
	if got := b.Text("h1"); got != "Supply tracking" {
		t.Errorf("product_selection shows %q", got)
	}

	// Household inventory: a refused amount keeps what was typed; then set.
	b.Visit(w.URL + w.page("inventory_management", exit("inventory")))
	b.Fill("form[id^=household-] input[name=amount]", "two")
	b.Fill("form[id^=household-] input[name=reason]", "bought a pack")
	submit(t, b, "form[id^=household-] button[type=submit]")
	if got := b.Value("form[id^=household-] input[name=amount]"); got != "two" {
		t.Errorf("the refused amount shows %q, want what was typed", got)
	}
	if msg := b.Text("form[id^=household-] .field-error"); !strings.Contains(msg, "number") {
		t.Errorf("the amount's message is %q", msg)
	}
	check(t, b, "inventory_management-refused")
	b.Fill("form[id^=household-] input[name=amount]", "2")
	submit(t, b, "form[id^=household-] button[type=submit]")
	atApp(t, b, "/app/inventory")
	b.Visit(w.URL + w.page("inventory_management", exit("inventory")))
	check(t, b, "inventory_management")
	if got := b.Text(".slot-head strong"); got != "2" {
		t.Errorf("the inventory page says %q at home, want 2", got)
	}

	// History: the chart, and another period.
	b.Visit(w.URL + w.page("inventory_history", exit("history")))
	b.WaitFor("svg.chart polyline")
	check(t, b, "inventory_history")
	b.Select("#days", "7")
	submit(t, b, "#period button")
	if !strings.Contains(b.Location(), "days=7") || b.Value("#days") != "7" {
		t.Errorf("the history period did not change: %s", b.Location())
	}
	back(t, b, "/app/history")

	// Installed part: "I replaced it today".
	b.Visit(w.URL + w.page("installed_inventory", exit("installed")))
	check(t, b, "installed_inventory")
	submit(t, b, "form[id^=installed-] button[value=today]")
	atApp(t, b, "/app/installed")
	b.Visit(w.URL + w.page("installed_inventory", ""))
	if got, want := b.Text(".installed-at"), time.Now().UTC().Format("2 Jan 2006"); got != want {
		t.Errorf("installed on %q, want today %q", got, want)
	}

	// The pages around them.
	for _, p := range []string{"home", "orders", "feed", "notifications", "vendors"} {
		path := "/account/" + p
		if p == "home" {
			path = "/account/"
		}
		b.Visit(w.URL + path)
		check(t, b, p+"-page")
	}

	// The mobile deep link opens the web page.
	b.Visit(w.URL + "/spa/index.html#v2/drs/partner/page/inventory_history?vendorCode=" + w.vendor.VendorCode +
		"&modelId=" + w.vendor.ModelID + "&settings=true")
	b.WaitFor("svg.chart")
	if loc := b.Location(); !strings.Contains(loc, "/drs/partner/page/inventory_history?") {
		t.Errorf("the deep link opened %s", loc)
	}
}

// check keeps the page as a screenshot at phone (360 px) and desktop
// (1280 px) width, checks that the phone's page does not scroll
// sideways, and runs axe-core on it: no serious or critical violations.
func check(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	b.Do(chromedp.EmulateViewport(360, 780))
	b.Shot(name + "-phone")
	wide, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if wide {
		t.Errorf("%s: wider than a 360 px phone screen", name)
	}
	b.Do(chromedp.EmulateViewport(1280, 900))
	b.Shot(name + "-desktop")
	axe(t, b, name)
	b.Do(chromedp.EmulateViewport(412, 915))
}

// axe injects axe-core into the page and fails t on serious or critical
// violations, naming each rule and element.
func axe(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`)); err != nil {
		t.Fatal(err)
	}
	loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+"\n;true")); err != nil {
			t.Fatalf("%s: injecting axe-core: %v", name, err)
		}
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
			({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: running axe-core: %v", name, err)
	}
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		t.Fatalf("%s: axe-core answered %s", name, raw)
	}
	for _, v := range violations {
		t.Errorf("%s: axe-core %s violation %s (%s) at %v", name, v.Impact, v.ID, v.Help, v.Nodes)
	}
}

// submit clicks the submit button sel and waits until the next page has
// loaded.
func submit(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__stale = true`)); err != nil {
		t.Fatal(err)
	}
	b.Click(sel, "")
	for {
		loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.__stale && document.readyState === "complete"`))
		if err == nil && loaded {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page after %s did not load", sel)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// back follows the page's way back to the vendor's app.
func back(t *testing.T, b *browsertest.Browser, path string) {
	t.Helper()
	submit(t, b, "#exit")
	atApp(t, b, path)
}

// atApp checks that the browser is back in the vendor's app at path.
func atApp(t *testing.T, b *browsertest.Browser, path string) {
	t.Helper()
	b.WaitFor("#back")
	u, err := url.Parse(b.Location())
	if err != nil || u.Path != path {
		t.Errorf("the browser is at %s, want the app's %s", b.Location(), path)
	}
}
