package simulator

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/notifications"
	"replenish/signing"
)

func TestWebhookURL(t *testing.T) {
	for skill, want := range map[string]string{
		"http://127.0.0.1:4000":           "http://127.0.0.1:4000/webhooks",
		"http://127.0.0.1:4000/":          "http://127.0.0.1:4000/webhooks",
		"https://cloud.example/skill?x=1": "https://cloud.example/webhooks",
	} {
		if got := WebhookURL(skill); got != want {
			t.Errorf("WebhookURL(%q) = %q, want %q", skill, got, want)
		}
	}
}

// TestWebhooks: a fleet's vendor, registered with RegisterFleet, is told
// of its device, the customer's change of mode and the orders' steps at
// the cloud's webhook; the cloud counts each notification once by type,
// as many as the vendor's outbox lists delivered, hands each to
// Notified, refuses a bad signature (401) and counts a redelivery as a
// repeat, not a second notification.
func TestWebhooks(t *testing.T) {
	ctx := context.Background()
	api, _, ntf, clk := newService(t)
	var cloud *Cloud
	skill := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cloud.ServeHTTP(w, r) }))
	t.Cleanup(skill.Close)
	kind := printer(10, 80, 80, 1, 1)
	v, err := RegisterFleet(ctx, api, testOperatorKey, skill.URL, []Kind{kind}, []string{"US"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Certify(ctx, api, testOperatorKey, v, []string{"US"}); err != nil {
		t.Fatal(err)
	}
	var settings struct{ WebhookURL string }
	if err := api.Do(ctx, "GET", "/api/v1/vendor", v.APIKey, nil, &settings); err != nil || settings.WebhookURL != skill.URL+WebhookPath {
		t.Fatalf("the vendor's webhook URL is %q (%v), want %s", settings.WebhookURL, err, skill.URL+WebhookPath)
	}
	var mu sync.Mutex
	told := map[string]int{}
	cloud = NewCloud(Config{ReplenishURL: api.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, NewDevices: FleetDevices([][]*Kind{{v.Kinds[0]}}, 1), HTTP: api.HTTP,
		Notified: func(b notifications.Body) {
			mu.Lock()
			told[b.NotificationInfo.NotificationType]++
			mu.Unlock()
		}})

	// A customer links a printer, chooses smart reorder, and every ink
	// runs low: four orders; she cancels one.
	cu, err := NewCustomer(ctx, api, testOperatorKey, "Ada Lovelace", "US")
	if err == nil {
		err = Link(ctx, api, cu, v.VendorCode)
	}
	if err == nil {
		err = SetMode(ctx, api, cu, replenish.ModeAuto)
	}
	if err != nil {
		t.Fatal(err)
	}
	a := cloud.Accounts()[0]
	d := a.Devices[0]
	d.Levels = []float64{5, 5, 5, 5}
	at := clk.Now().Add(-time.Hour)
	for range 3 {
		at = at.Add(time.Minute)
		if _, err := cloud.Report(ctx, a, d, replenish.NewUUID(), at); err != nil {
			t.Fatal(err)
		}
	}
	if id, err := CancelNth(ctx, api, cu, 1, "I bought one at the shop", time.Millisecond); id == "" || err != nil {
		t.Fatalf("cancelling the first order: %q, %v", id, err)
	}
	if _, err := ntf.Deliver(ctx); err != nil {
		t.Fatal(err)
	}

	listed, err := ListNotifications(ctx, api, v.APIKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, n := range listed {
		if n.Status != "DELIVERED" {
			t.Errorf("notification %s %s is %s (%s), want DELIVERED", n.NotificationID, n.Type, n.Status, n.LastError)
		}
		want[n.Type]++
	}
	got := cloud.Webhooks()
	for _, typ := range []string{notifications.DeviceRegistered, notifications.SubscriptionChanged, notifications.OrderPlaced,
		notifications.OrderCancelled} {
		if got.ByType[typ] == 0 {
			t.Errorf("no %s received: %v", typ, got.ByType)
		}
	}
	mu.Lock()
	if !maps.Equal(got.ByType, want) || !maps.Equal(told, want) || got.Total() != len(listed) {
		t.Errorf("received %v (%d), told %v; the outbox lists %v (%d)", got.ByType, got.Total(), told, want, len(listed))
	}
	mu.Unlock()
	if got.BadlySigned != 0 || got.Repeats != 0 || got.Unreadable != 0 {
		t.Errorf("received %+v, want no bad signature, repeat or unreadable body", got)
	}

	// A redelivery is the same notification again: a repeat.
	if err := api.Do(ctx, "POST", "/api/v1/notifications/"+listed[0].NotificationID+"/redeliver", v.APIKey, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ntf.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	// A body signed with another secret, or not signed, is refused.
	body := listed[0].Body
	for _, sig := range []string{signing.Sign("not the vendor's secret", time.Now(), body), ""} {
		req, _ := http.NewRequest("POST", skill.URL+WebhookPath, bytes.NewReader(body))
		req.Header.Set(signing.Header, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a webhook signed %q answered %d, want 401", sig, resp.StatusCode)
		}
	}
	after := cloud.Webhooks()
	if !maps.Equal(after.ByType, want) || after.Repeats != 1 || after.BadlySigned != 2 {
		t.Errorf("after a redelivery and two bad signatures: %+v; want the same counts, 1 repeat, 2 badly signed", after)
	}
	if n, err := ListNotifications(ctx, api, testOperatorKey, url.Values{"channel": {"vendor_webhook"}, "vendorCode": {v.VendorCode}}); err != nil || len(n) != len(listed) {
		t.Errorf("the operator lists %d of the vendor's webhooks (%v), the vendor %d", len(n), err, len(listed))
	}
}
