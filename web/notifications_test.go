package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/notifications"
	"replenish/orders"
	"replenish/signing"
	"replenish/storage"
)

// receiver is a webhook receiver that checks every signature, counts what
// arrives on the wire, and keeps each notification once, as receivers
// deduplicate by notificationId.
type receiver struct {
	*httptest.Server
	secret string
	now    func() time.Time

	mu      sync.Mutex
	answers []int // status codes to answer, in turn; then 200
	wire    int   // requests received
	badSigs int
	byID    map[string]map[string]any
	types   []string // the type of each kept notification, in order
}

func newReceiver(t *testing.T, now func() time.Time) *receiver {
	r := &receiver{now: now, byID: map[string]map[string]any{}}
	r.Server = httptest.NewServer(r)
	t.Cleanup(r.Close)
	return r
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.wire++
	if err := signing.Verify(rc.secret, r.Header.Get(signing.Header), body, rc.now()); err != nil {
		rc.badSigs++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if len(rc.answers) > 0 {
		code := rc.answers[0]
		rc.answers = rc.answers[1:]
		if code != http.StatusOK {
			http.Error(w, "not now", code)
			return
		}
	}
	var b map[string]any
	json.Unmarshal(body, &b)
	info, _ := b["notificationInfo"].(map[string]any)
	id, _ := info["notificationId"].(string)
	if _, seen := rc.byID[id]; !seen {
		rc.byID[id] = b
		typ, _ := info["notificationType"].(string)
		rc.types = append(rc.types, typ)
	}
}

func (rc *receiver) kept() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.types)
}

// deliver runs the notification worker once.
func deliver(t *testing.T, e *env) {
	t.Helper()
	if _, err := e.Notifications.Deliver(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// vendorHook points the world's vendor's webhook at a new receiver.
func vendorHook(t *testing.T, w *gwWorld) *receiver {
	t.Helper()
	rc := newReceiver(t, w.e.clock.Now)
	rc.secret = w.v.SigningSecret
	var settings map[string]any
	w.e.must(http.StatusOK, "GET", "/api/v1/vendor", w.v.APIKey, nil, &settings)
	w.e.must(http.StatusOK, "PUT", "/api/v1/vendor", w.v.APIKey, map[string]any{
		"skillEndpointUrl": settings["skillEndpointUrl"], "webhookUrl": rc.URL}, nil)
	return rc
}

// TestVendorWebhooks: each of the seven notification types reaches the
// vendor once, signed, with the common body.
func TestVendorWebhooks(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = time.Minute })
	rc := vendorHook(t, w)
	e := w.e
	step := func(want ...string) {
		t.Helper()
		deliver(t, e)
		deliver(t, e) // a second pass sends nothing again
		if got := rc.kept(); !slices.Equal(got, want) {
			t.Fatalf("the vendor got %v, want %v", got, want)
		}
	}
	w.subscribe(t, map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK"})
	step(notifications.SubscriptionChanged)
	w.lowEpisode(t, "6")
	step(notifications.SubscriptionChanged, notifications.OrderPlaced)
	id := w.onlyOrder(t).OrderID
	e.clock.Advance(time.Minute)
	w.tick(t)
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/ship", e.OperatorKey, map[string]string{"trackingReference": "1Z"}, nil)
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+id+"/deliver", e.OperatorKey, nil, nil)
	step(notifications.SubscriptionChanged, notifications.OrderPlaced, notifications.ItemShipped, notifications.ItemDelivered)
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "5")
	second := w.orders(t)[0].OrderID
	e.must(http.StatusOK, "POST", "/api/v1/orders/"+second+"/cancel", e.OperatorKey, map[string]string{"reason": "out of stock"}, nil)
	gwAccepted(t, e, w.tok.AccessToken, gwDelete(w.tok.AccessToken, w.ep))
	all := []string{notifications.SubscriptionChanged, notifications.OrderPlaced, notifications.ItemShipped,
		notifications.ItemDelivered, notifications.OrderPlaced, notifications.OrderCancelled, notifications.DeviceDeregistered}
	step(all...)

	rc.mu.Lock()
	var cancelled map[string]any
	for _, b := range rc.byID {
		if b["notificationInfo"].(map[string]any)["notificationType"] == notifications.OrderCancelled {
			cancelled = b
		}
	}
	wire, bad := rc.wire, rc.badSigs
	rc.mu.Unlock()
	oi := cancelled["orderInfo"].(map[string]any)
	if oi["orderId"] != second || oi["cancelledBy"] != "operator" || oi["reason"] != "out of stock" ||
		cancelled["customerInfo"].(map[string]any)["customerId"] != w.c.CustomerID ||
		cancelled["deviceInfo"].(map[string]any)["endpointId"] != w.ep {
		t.Fatalf("the cancellation's body: %v", cancelled)
	}
	if wire != len(all) || bad != 0 {
		t.Fatalf("%d requests on the wire (%d badly signed) for %d notifications", wire, bad, len(all))
	}

	// The vendor sees its deliveries, and replays one with the same ID.
	var list struct{ Items []notifications.Delivery }
	e.must(http.StatusOK, "GET", "/api/v1/notifications", w.v.APIKey, nil, &list)
	if len(list.Items) != len(all) || list.Items[0].Status != storage.NotificationDelivered || list.Items[0].Attempts != 1 {
		t.Fatalf("deliveries: %+v", list.Items)
	}
	var again notifications.Delivery
	e.must(http.StatusOK, "POST", "/api/v1/notifications/"+list.Items[0].NotificationID+"/redeliver", w.v.APIKey, nil, &again)
	deliver(t, e)
	rc.mu.Lock()
	wire = rc.wire
	rc.mu.Unlock()
	if wire != len(all)+1 || len(rc.kept()) != len(all) {
		t.Fatalf("after a redelivery: %d on the wire, %d kept", wire, len(rc.kept()))
	}
	other := gwRegister(t, e)
	e.refused(http.StatusNotFound, replenish.ENotFound, "", "POST", "/api/v1/notifications/"+list.Items[0].NotificationID+"/redeliver", other.APIKey, nil)
	var theirs struct{ Items []notifications.Delivery }
	e.must(http.StatusOK, "GET", "/api/v1/notifications", other.APIKey, nil, &theirs)
	if len(theirs.Items) != 0 {
		t.Fatalf("another vendor sees %d deliveries", len(theirs.Items))
	}
}

// TestVendorWebhookDiscovery: linking a device, and unlinking the vendor,
// are told to the vendor.
func TestVendorWebhookDiscovery(t *testing.T) {
	e := newEnv(t)
	v := gwRegister(t, e)
	w := &gwWorld{e: e, v: v}
	rc := vendorHook(t, w)
	w.c = gwCustomer(t, e)
	w.code = gwLink(t, e, w.c, v)
	deliver(t, e)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/links/"+v.VendorCode, w.c.APIKey, nil, nil)
	deliver(t, e)
	if got, want := rc.kept(), []string{notifications.DeviceRegistered, notifications.DeviceDeregistered}; !slices.Equal(got, want) {
		t.Fatalf("the vendor got %v, want %v", got, want)
	}
}

// TestWebhookRetries: 5xx, 408 and 429 are tried again with backoff; any
// other 4xx fails at once; a receiver that is down is tried again.
func TestWebhookRetries(t *testing.T) {
	w := ordWorld(t, nil)
	e := w.e
	rc := vendorHook(t, w)
	rc.answers = []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusRequestTimeout}
	w.subscribe(t, map[string]string{"mode": "AUTO"})
	list := func() notifications.Delivery {
		t.Helper()
		var l struct{ Items []notifications.Delivery }
		e.must(http.StatusOK, "GET", "/api/v1/notifications", w.v.APIKey, nil, &l)
		return l.Items[0]
	}
	for i, wait := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second} {
		e.clock.Advance(wait)
		deliver(t, e)
		if d := list(); d.Attempts != i+1 {
			t.Fatalf("attempt %d: %+v", i+1, d)
		}
	}
	if d := list(); d.Status != storage.NotificationDelivered || len(rc.kept()) != 1 {
		t.Fatalf("after three refusals to retry: %+v", d)
	}
	rc.answers = []int{http.StatusGone}
	w.subscribe(t, map[string]string{"mode": "NOTIFY"})
	deliver(t, e)
	e.clock.Advance(time.Hour)
	deliver(t, e)
	if d := list(); d.Status != storage.NotificationFailed || d.Attempts != 1 || !strings.Contains(d.LastError, "410") {
		t.Fatalf("after a 410: %+v", d)
	}
	rc.Close() // down
	w.subscribe(t, map[string]string{"mode": "OFF"})
	deliver(t, e)
	if d := list(); d.Status != storage.NotificationPending || d.NextAttemptAt == nil {
		t.Fatalf("with the receiver down: %+v", d)
	}
	e.clock.Advance(25 * time.Hour)
	deliver(t, e)
	if d := list(); d.Status != storage.NotificationFailed {
		t.Fatalf("after 24 hours down: %+v", d)
	}
}

// TestCustomerChannels: the customer's settings choose the feed, a
// webhook of theirs (signed with a secret shown once) and the types.
func TestCustomerChannels(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	rc := newReceiver(t, e.clock.Now)
	var set notifications.SettingsView
	e.must(http.StatusOK, "GET", "/api/v1/notification-settings", w.c.APIKey, nil, &set)
	if !set.Email || !set.Feed || set.WebhookURL != "" || !set.Types[replenish.FeedLowSupply] {
		t.Fatalf("the default settings: %+v", set)
	}
	e.refused(http.StatusBadRequest, replenish.EInvalid, "webhookUrl", "PUT", "/api/v1/notification-settings", w.c.APIKey,
		map[string]any{"webhookUrl": "http://home.example/hook"})
	e.refused(http.StatusBadRequest, replenish.EInvalid, "types.LOUD", "PUT", "/api/v1/notification-settings", w.c.APIKey,
		map[string]any{"types": map[string]bool{"LOUD": true}})
	e.must(http.StatusOK, "PUT", "/api/v1/notification-settings", w.c.APIKey, map[string]any{"webhookUrl": rc.URL, "email": false}, &set)
	if !strings.HasPrefix(set.WebhookSecret, "whsec_") || set.Email {
		t.Fatalf("settings with a webhook: %+v", set)
	}
	rc.secret = set.WebhookSecret
	set = notifications.SettingsView{}
	e.must(http.StatusOK, "GET", "/api/v1/notification-settings", w.c.APIKey, nil, &set)
	if set.WebhookSecret != "" || set.WebhookURL != rc.URL {
		t.Fatalf("the secret was shown twice: %+v", set)
	}

	w.lowEpisode(t, "6") // NOTIFY: one LOW_SUPPLY
	deliver(t, e)
	if got := rc.kept(); !slices.Equal(got, []string{replenish.FeedLowSupply}) || len(w.feed(t)) != 1 {
		t.Fatalf("webhook %v, feed %d; want one LOW_SUPPLY each", got, len(w.feed(t)))
	}
	// Low supply off, the feed off: nothing anywhere.
	e.must(http.StatusOK, "PUT", "/api/v1/notification-settings", w.c.APIKey,
		map[string]any{"types": map[string]bool{"low_supply": false}}, &set)
	if set.Types[replenish.FeedLowSupply] || set.WebhookURL != rc.URL {
		t.Fatalf("settings after turning LOW_SUPPLY off: %+v", set)
	}
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, w.tok.AccessToken, w.black("100"))
	w.lowEpisode(t, "6")
	deliver(t, e)
	if got := rc.kept(); len(got) != 1 || len(w.feed(t)) != 1 {
		t.Fatalf("with LOW_SUPPLY off: webhook %v, feed %d", got, len(w.feed(t)))
	}
	// The feed's entries are read one by one or all at once.
	f := w.feed(t)
	if f[0].Read {
		t.Fatalf("a new entry is read: %+v", f[0])
	}
	e.must(http.StatusNoContent, "POST", "/api/v1/feed/read", w.c.APIKey, map[string]any{"ids": []int64{f[0].ID}}, nil)
	if f := w.feed(t); !f[0].Read {
		t.Fatalf("not marked read: %+v", f[0])
	}
}

// TestNotReporting: a device silent for the window is told of once, and
// again only after it reported since.
func TestNotReporting(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	silent := func() int {
		t.Helper()
		n, err := e.Notifications.CheckSilent(context.Background(), 72*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	gwAccepted(t, e, w.tok.AccessToken, w.black("80"))
	e.clock.Advance(71 * time.Hour)
	if n := silent(); n != 0 {
		t.Fatalf("told of a device silent for 71 hours")
	}
	e.clock.Advance(2 * time.Hour)
	if n, again := silent(), silent(); n != 1 || again != 0 {
		t.Fatalf("told %d then %d times, want once", n, again)
	}
	f := w.feed(t)
	if len(f) != 1 || f[0].Type != replenish.FeedNotReporting || f[0].EndpointID != w.ep || !strings.Contains(f[0].Message, "GW printer") {
		t.Fatalf("feed %+v, want one NOT_REPORTING for the printer", f)
	}
	if sl := gwSlot(t, e, w.c, w.ep, "SLOT01"); sl.Status != replenish.StatusNotReporting {
		t.Fatalf("slot status %s", sl.Status)
	}
	w.refresh(t)
	gwAccepted(t, e, w.tok.AccessToken, w.black("79"))
	if n := silent(); n != 0 {
		t.Fatalf("told of a device that reported again")
	}
	e.clock.Advance(73 * time.Hour)
	if n := silent(); n != 1 {
		t.Fatalf("a second silence was told %d times", n)
	}
}
