package web_test

import (
	"net/http"
	"strings"
	"testing"

	"replenish/linking"
	"replenish/web/browsertest"
)

// TestLinkInBrowser: the customer's browser goes to the authorizeUrl,
// signs in at the simulated vendor, allows, and lands on Replenish's page
// saying the account is linked with the devices found. The vendor's
// events for the customer are then accepted.
func TestLinkInBrowser(t *testing.T) {
	w := oaNew(t)
	b := browsertest.New(t)
	b.Visit(w.start(t).String())
	b.WaitFor("#allow")
	if ask := b.Text("#ask"); !strings.Contains(ask, "Replenish") {
		t.Errorf("the vendor's page says %q, want it to name Replenish", ask)
	}
	b.Fill("#account", "ivan")
	b.Shot("vendor-sign-in")
	b.Click("#allow", "#title")
	b.Shot("linked")
	if loc := b.Location(); !strings.HasPrefix(loc, w.e.URL+linking.CallbackPath+"?") {
		t.Errorf("the browser is at %s, want Replenish's callback page", loc)
	}
	if title := b.Text("#title"); !strings.HasPrefix(title, "Linked with Simulated Printers") {
		t.Errorf("title %q, want Linked with the vendor", title)
	}
	if msg := b.Text("#message"); msg != "2 devices found." {
		t.Errorf("message %q, want 2 devices found.", msg)
	}
	if n := len(gwEndpoints(t, w.e, w.c)); n != oaPrinters {
		t.Errorf("%d endpoints, want %d", n, oaPrinters)
	}
	for i, status := range w.report(t) {
		if status != http.StatusAccepted {
			t.Errorf("report of printer %d: %d, want 202", i, status)
		}
	}
}

// TestLinkInBrowserDeclined: Deny at the vendor lands on a page that says
// nothing was linked.
func TestLinkInBrowserDeclined(t *testing.T) {
	w := oaNew(t)
	b := browsertest.New(t)
	b.Visit(w.start(t).String())
	b.Click("#deny", "#title")
	b.Shot("declined")
	if title, msg := b.Text("#title"), b.Text("#message"); title != "Not linked" || !strings.Contains(msg, "Nothing was changed") {
		t.Errorf("page says %q / %q, want Not linked, nothing changed", title, msg)
	}
	lkNoEndpoints(t, w.e, w.c)
}
