package account_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestExitURIOnlyWhenAllowed: an exitUri on the vendor's list is offered
// on every page and saving returns there; any other is never offered,
// not even as text, and saving stays on the page.
func TestExitURIOnlyWhenAllowed(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Gus")
	w.link(c)
	w.report(60, 60, 60, 60)
	ep := c.endpoints()[0]

	for _, exit := range []string{exitAllowed, exitPrefix + "printer/1"} {
		for _, pt := range pageTypes {
			status, body := c.get(w.page(pt, exit))
			href := `id="exit" href="` + strings.ReplaceAll(exit, "&", "&amp;") + `"`
			if status != http.StatusOK || !strings.Contains(body, href) {
				t.Errorf("%s with allowed exitUri %s: %d, no way back", pt, exit, status)
			}
		}
		status, loc, _ := c.post(w.page("settings", exit), url.Values{"action": {"settings"}, "endpointId": {ep}, "friendlyName": {"Den"}})
		if status != http.StatusSeeOther || loc != exit {
			t.Errorf("saving with an allowed exitUri: %d to %q, want 303 to %s", status, loc, exit)
		}
	}
	// The pages' links to one another keep the allowed exitUri.
	_, body := c.get(w.page("settings", exitAllowed))
	if !strings.Contains(body, "exitUri="+url.QueryEscape(exitAllowed)) {
		t.Error("the settings page's links to the other pages drop the exitUri")
	}

	for _, exit := range []string{"https://evil.example/phish", exitAllowed + "/more", "https://printers.example/app/done?x=1",
		"javascript:alert(1)", "simprinter:/back/", "//printers.example/app/done", "data:text/html,hi"} {
		for _, pt := range pageTypes {
			status, body := c.get(w.page(pt, exit))
			if status != http.StatusOK {
				t.Errorf("%s with exitUri %s: %d, want the page without a way back", pt, exit, status)
			}
			if strings.Contains(body, `id="exit"`) || strings.Contains(body, exit) || strings.Contains(body, url.QueryEscape(exit)) {
				t.Errorf("%s offers exitUri %q, which is not on the vendor's list", pt, exit)
			}
		}
		page := w.page("settings", exit)
		status, loc, _ := c.post(page, url.Values{"action": {"settings"}, "endpointId": {ep}, "friendlyName": {"Den"}})
		if status != http.StatusSeeOther || strings.Contains(loc, "evil") || !strings.HasPrefix(loc, "/drs/partner/page/settings?") {
			t.Errorf("saving with exitUri %s: %d to %q, want back to the page", exit, status, loc)
		}
	}
}

var orderIDRe = regexp.MustCompile(`id="order-(ord-[^"]+)"`)

// TestAnotherCustomerAndSignedOutSeeNothing: a customer sees none of
// another's devices or orders on any page, and changes nothing of
// theirs by naming them; a signed-out visitor only ever reaches the
// sign-in page.
func TestAnotherCustomerAndSignedOutSeeNothing(t *testing.T) {
	w := newWorld(t, false)
	a := w.signUp("Hal")
	w.link(a)
	w.report(60, 60, 60, 60)
	ep := a.endpoints()[0]
	_, body := a.get(w.page("sensor_tracking_selection", ""))
	slot := regexp.MustCompile(`name="slotId" value="([^"]+)"`).FindStringSubmatch(body)[1]
	product := regexp.MustCompile(`name="productId" value="([^"]+)"`).FindStringSubmatch(body)[1]
	if status, _, _ := a.post(w.page("sensor_tracking_selection", ""), url.Values{"action": {"subscription"},
		"endpointId": {ep}, "slotId": {slot}, "mode": {"AUTO"}, "productId": {product}}); status != http.StatusSeeOther {
		t.Fatalf("AUTO: %d", status)
	}
	for range 3 { // three low readings: an automatic order
		time.Sleep(5 * time.Millisecond)
		w.report(5, 60, 60, 60)
	}
	_, body = a.get("/account/orders")
	m := orderIDRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no order on the orders page after a low level in AUTO: %s", body)
	}
	order := m[1]

	if status, body := a.get("/orders/" + order); status != http.StatusOK || !strings.Contains(body, "Cancel this order") {
		t.Errorf("the order's own page (from its e-mail): %d, want 200 with a way to cancel", status)
	}

	b := w.signUp("Ivy")
	if status, body := b.get("/orders/" + order); status != http.StatusNotFound || strings.Contains(body, product) {
		t.Errorf("another customer's order page: %d, want 404", status)
	}
	pages := []string{"/account/", "/account/orders", "/account/feed", "/account/notifications", "/account/profile", "/account/vendors"}
	for _, pt := range pageTypes {
		pages = append(pages, w.page(pt, exitAllowed), strings.Replace(w.page(pt, ""), "/drs/partner/page/", "/", 1))
	}
	for _, p := range pages {
		status, body := b.get(p)
		if status != http.StatusOK {
			t.Errorf("%s as another customer: %d, want 200", p, status)
		}
		for _, secret := range []string{ep, order, a.ID, a.Email} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows another customer's %s", p, secret)
			}
		}
	}
	forms := map[string]url.Values{
		"settings":                  {"action": {"settings"}, "endpointId": {ep}, "friendlyName": {"Mine now"}, "smartReorder": {"on"}},
		"sensor_tracking_selection": {"action": {"subscription"}, "endpointId": {ep}, "slotId": {slot}, "mode": {"OFF"}},
		"inventory_management":      {"action": {"household"}, "endpointId": {ep}, "slotId": {slot}, "change": {"set"}, "amount": {"9"}, "reason": {"x"}},
		"installed_inventory":       {"action": {"installed"}, "endpointId": {ep}, "slotId": {slot}, "when": {"today"}},
	}
	for pt, form := range forms {
		status, _, body := b.post(w.page(pt, ""), form)
		if status != http.StatusNotFound || strings.Contains(body, ep) {
			t.Errorf("%s form on another's device: %d, want 404 naming nothing of theirs", pt, status)
		}
	}
	if status, _, _ := b.post("/account/orders/"+order+"/cancel", nil); status != http.StatusNotFound {
		t.Errorf("cancelling another's order: %d, want 404", status)
	}
	_, body = a.get(w.page("settings", ""))
	if strings.Contains(body, "Mine now") {
		t.Error("another customer renamed the printer")
	}
	if _, body = a.get("/account/orders"); !strings.Contains(body, `class="badge PENDING"`) {
		t.Error("the order is no longer pending after another customer tried to cancel it")
	}

	anon := &customer{t: t, w: w, http: newClient(t)}
	for _, p := range append(pages, "/orders/"+order) {
		status, body := anon.get(p)
		if status != http.StatusSeeOther || strings.Contains(body, ep) {
			t.Errorf("%s signed out: %d, want a redirect to sign-in", p, status)
		}
	}
	for pt, form := range forms {
		resp, err := anon.http.PostForm(w.URL+w.page(pt, ""), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/sign-in?next=") {
			t.Errorf("%s form signed out: %d to %s, want sign-in", pt, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// The owner cancels the order on the orders page.
	status, loc, _ := a.post("/account/orders/"+order+"/cancel", url.Values{"reason": {"have spares"}})
	if status != http.StatusSeeOther || loc != "/account/orders?done=cancelled" {
		t.Fatalf("cancel: %d to %s", status, loc)
	}
	if _, body = a.get("/account/orders"); !strings.Contains(body, `class="badge CANCELLED"`) {
		t.Error("the cancelled order is not shown cancelled")
	}
	if status, _, body := a.post("/account/orders/"+order+"/cancel", nil); status != http.StatusSeeOther && status != http.StatusBadRequest {
		t.Errorf("cancelling again: %d %s", status, body)
	}
	if _, body = a.get("/account/orders"); !strings.Contains(body, "Printer 1 · Black ink") {
		t.Error("the order does not name its printer and ink")
	}

	// The feed told of the order; marking it read.
	if _, body = a.get("/account/feed"); !strings.Contains(body, `<li class="unread">`) {
		t.Fatalf("the feed has no unread entry after an order: %s", body)
	}
	if status, loc, _ := a.post("/account/feed/read", nil); status != http.StatusSeeOther || loc != "/account/feed" {
		t.Errorf("mark read: %d to %s", status, loc)
	}
	if _, body = a.get("/account/feed"); strings.Contains(body, `class="unread"`) {
		t.Error("entries are still unread after marking all read")
	}
}

// TestCrossSiteFormRefused: a form posted from another site is refused
// before it changes anything.
func TestCrossSiteFormRefused(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Jo")
	req, _ := http.NewRequest("POST", w.URL+"/account/notifications", strings.NewReader("email=on"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form: %d, want 403", resp.StatusCode)
	}
}

// TestNotificationSettingsForm: settings are saved; a bad webhook URL is
// refused by its field with what was typed kept.
func TestNotificationSettingsForm(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Kai")
	status, _, body := c.post("/account/notifications", url.Values{"email": {"on"}, "types": {"LOW_SUPPLY"}, "webhookUrl": {"ftp://nope"}})
	if status != http.StatusBadRequest || !strings.Contains(body, `id="n-webhook-error"`) || !strings.Contains(body, `value="ftp://nope"`) {
		t.Errorf("a bad webhook: %d, want 400 with the message by the field and the URL kept", status)
	}
	status, loc, _ := c.post("/account/notifications", url.Values{"email": {"on"}, "types": {"LOW_SUPPLY"}})
	if status != http.StatusSeeOther || loc != "/account/notifications?done=saved" {
		t.Fatalf("save: %d to %s", status, loc)
	}
	_, body = c.get("/account/notifications")
	if !strings.Contains(body, `id="n-LOW_SUPPLY" name="types" value="LOW_SUPPLY" checked`) ||
		strings.Contains(body, `id="n-ORDER_PLACED" name="types" value="ORDER_PLACED" checked`) ||
		strings.Contains(body, `id="n-feed" name="feed" value="on" checked`) {
		t.Error("the saved settings are not shown as saved")
	}
}

// TestOddInputNeverBreaksAPage: whatever a link or a form carries, a page
// answers with a whole page that says what is wrong (200, 400 or 404),
// never an error of ours, an empty page or someone's data.
func TestOddInputNeverBreaksAPage(t *testing.T) {
	w := newWorld(t, false)
	c := w.signUp("Max")
	w.link(c)
	w.report(50, 50, 50, 50)
	odd := []string{"", "\x00", "<script>alert(1)</script>", strings.Repeat("x", 5000), "'; DROP TABLE customers; --",
		"true\r\nSet-Cookie: x=y", "1e309"}
	for _, pt := range pageTypes {
		for _, param := range []string{"vendorCode", "modelId", "settings", "exitUri", "returnUrl", "days"} {
			for _, v := range odd {
				u, _ := url.Parse(w.page(pt, ""))
				q := u.Query()
				q.Set(param, v)
				status, body := c.get(u.Path + "?" + q.Encode())
				if status != http.StatusOK && status != http.StatusBadRequest && status != http.StatusNotFound {
					t.Errorf("%s %s=%.20q: %d", pt, param, v, status)
				}
				if !strings.HasPrefix(body, "<!doctype html>") || strings.Contains(body, "<script>alert") || strings.Contains(body, "goroutine") {
					t.Errorf("%s %s=%.20q: not a whole, safe page", pt, param, v)
				}
			}
		}
	}
	ep := c.endpoints()[0]
	forms := map[string][]string{ // each form's action, then its fields
		"settings":                  {"settings", "endpointId", "friendlyName", "smartReorder"},
		"sensor_tracking_selection": {"subscription", "endpointId", "slotId", "mode", "productId"},
		"inventory_management":      {"household", "slotId", "change", "amount", "reason"},
		"installed_inventory":       {"installed", "slotId", "when", "date"},
		"dart_device_list":          {"settings", "action"},
	}
	for pt, fields := range forms {
		for _, field := range fields[1:] {
			for _, v := range odd {
				form := url.Values{"action": {fields[0]}, "endpointId": {ep}, "slotId": {"SLOT01"}}
				form.Set(field, v)
				status, _, body := c.post(w.page(pt, ""), form)
				if status != http.StatusSeeOther && status != http.StatusBadRequest && status != http.StatusNotFound {
					t.Errorf("%s form %s=%.20q: %d %.200s", pt, field, v, status, body)
				}
				if status != http.StatusSeeOther && (!strings.HasPrefix(body, "<!doctype html>") || strings.Contains(body, "<script>alert")) {
					t.Errorf("%s form %s=%.20q: not a whole, safe page", pt, field, v)
				}
			}
		}
	}
}
