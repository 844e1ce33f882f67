package account_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"replenish/simulator"
	"replenish/web/browsertest"
)

// TestClaimDeviceInBrowser: a customer adds a CONNECT_KIT device with the
// code on its box, in a real browser. A wrong code is refused on the form
// with what to check, and what was typed is kept; the right one, typed in
// lower case with a space, adds the device, which the home page shows
// with its connection and a way to remove it; removing it takes it away.
func TestClaimDeviceInBrowser(t *testing.T) {
	w := newWorldOf(t, false, []simulator.Kind{simulator.KitOf(simulator.Kinds[0])})
	ps, err := simulator.ProvisionKits(context.Background(), w.api, w.vendor, w.vendor.ModelID, []string{"SN-0001"})
	if err != nil {
		t.Fatal(err)
	}
	dev := ps[0]

	b := browsertest.New(t)
	b.Visit(w.URL + "/account/sign-up")
	b.Fill("#name", "Robin")
	b.Fill("#email", "robin.kit@example.com")
	b.Fill("#password", "robin's long password")
	submit(t, b, "#sign-up button[type=submit]")
	b.Visit(w.URL + "/account/profile")
	w.testAccount(&customer{ID: b.Text("#customer-id")})

	b.Visit(w.URL + "/account/")
	b.Click("#to-claim", "#claim")
	check(t, b, "claim")
	b.Fill("#claim-code", "ABCDE-FGHJK")
	b.Fill("#claim-name", "Kitchen printer")
	submit(t, b, "#claim-submit")
	if msg := b.Text("#claim-code-error"); !strings.Contains(msg, "no device has this claim code") {
		t.Fatalf("a wrong code says %q", msg)
	}
	if got := b.Value("#claim-name"); got != "Kitchen printer" {
		t.Errorf("the refused form kept the name %q", got)
	}
	check(t, b, "claim-refused")

	b.Fill("#claim-code", strings.ToLower(strings.Replace(dev.ClaimCode, "-", " ", 1)))
	submit(t, b, "#claim-submit")
	if loc := b.Location(); !strings.Contains(loc, "dart_device_list") || !strings.Contains(loc, "done=claimed") {
		t.Fatalf("after the claim the browser is at %s, want the device list", loc)
	}
	b.Visit(w.URL + "/account/")
	card := "#device-" + dev.DeviceID
	b.WaitFor(card)
	if got := b.Text(card + " h2"); got != "Kitchen printer" {
		t.Errorf("the device card is named %q", got)
	}
	if got := b.Text("#connectivity-" + dev.DeviceID); !strings.HasPrefix(got, "Not connected yet") {
		t.Errorf("the device's connection reads %q", got)
	}
	check(t, b, "home-with-kit")

	submit(t, b, "#remove-"+dev.DeviceID)
	if notice := b.Text("main"); !strings.Contains(notice, "Removed.") {
		t.Errorf("after removing, the page says %q", notice)
	}
	left, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector("`+card+`") !== null`))
	if err != nil {
		t.Fatal(err)
	}
	if left {
		t.Error("the removed device is still on the home page")
	}
}
