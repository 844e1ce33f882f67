package simulator

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/calendar"
	"replenish/console"
	"replenish/customers"
	"replenish/devices"
	"replenish/gateway"
	"replenish/linking"
	"replenish/notifications"
	"replenish/orders"
	"replenish/storage/sqldb"
	"replenish/users"
	"replenish/web"
)

const testOperatorKey = "rk_op_simulator_clerk_test"

// testClock is the service's clock, which the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newService runs a real Replenish over HTTP, on a SQLite file of the
// test's own, with manual fulfilment and a clock the test moves; it
// returns a client of its API, its order service, whose timers the test
// runs with Tick, and its notification service, whose worker the test
// runs with Deliver.
func newService(t *testing.T) (*Client, *orders.Service, *notifications.Service, *testClock) {
	t.Helper()
	ctx := context.Background()
	store, err := sqldb.OpenSQLite(ctx, filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &testClock{now: time.Now().UTC().Truncate(time.Millisecond)}
	con := console.New(store, clk.Now)
	if _, err := con.Bootstrap(ctx, testOperatorKey); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client := &http.Client{Timeout: 10 * time.Second}
	hs := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + hs.Listener.Addr().String()
	ntf := notifications.New(store, clk.Now, client, log, baseURL)
	ord := orders.New(store, clk.Now, orders.DefaultSettings(), client, log, ntf)
	gw := gateway.New(store, clk.Now, ord, ntf)
	srv := &web.Server{Store: store, Console: con, Customers: customers.New(store, clk.Now, ntf), Orders: ord,
		Notifications: ntf, Gateway: gw, Devices: devices.New(store, gw, clk.Now, log), Linking: linking.New(store, gw, client, log, clk.Now, baseURL),
		Users: users.New(store, clk.Now), Log: log}
	srv.Calendar = calendar.New(store, srv.Customers, clk.Now)
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &Client{URL: hs.URL, HTTP: client}, ord, ntf, clk
}

// placeOrders registers a certified printer model, links two ordinary
// customers on smart reorder, and has their printers report every ink
// low three times: eight orders, PENDING. It returns the vendor and the
// customers.
func placeOrders(t *testing.T, api *Client, clk *testClock) (*Vendor, []*Customer) {
	t.Helper()
	ctx := context.Background()
	var cloud *Cloud
	skill := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cloud.ServeHTTP(w, r) }))
	t.Cleanup(skill.Close)
	v, err := Register(ctx, api, testOperatorKey, skill.URL, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := Certify(ctx, api, testOperatorKey, v, []string{"US"}); err != nil {
		t.Fatal(err)
	}
	cloud = NewCloud(Config{ReplenishURL: api.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, ModelID: v.ModelID, Inks: v.Inks, StartMin: 80, StartMax: 80,
		DrainMin: 1, DrainMax: 1, Rand: rand.New(rand.NewPCG(1, 2)), HTTP: api.HTTP})
	var people []*Customer
	for _, name := range []string{"Ada Lovelace", "Grace Hopper"} {
		cu, err := NewCustomer(ctx, api, testOperatorKey, name, "US")
		if err == nil {
			err = Link(ctx, api, cu, v.VendorCode)
		}
		if err == nil {
			err = SetMode(ctx, api, cu, replenish.ModeAuto)
		}
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, cu)
	}
	at := clk.Now().Add(-time.Hour)
	for _, a := range cloud.Accounts() {
		d := a.Devices[0]
		d.Levels = []float64{5, 5, 5, 5}
		for range 3 {
			at = at.Add(time.Minute)
			if _, err := cloud.Report(ctx, a, d, replenish.NewUUID(), at); err != nil {
				t.Fatal(err)
			}
		}
	}
	return v, people
}

// byStatus lists every order of the vendor through the operator's API,
// a page of three at a time, and counts them by status.
func byStatus(t *testing.T, api *Client, vendorCode string) (map[string]int, []replenish.Order) {
	t.Helper()
	os, err := ListOrders(context.Background(), api, testOperatorKey, url.Values{"vendorCode": {vendorCode}, "limit": {"3"}})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, o := range os {
		n[o.Status]++
	}
	return n, os
}

// TestClerk: the clerk ships each released order of its vendor once it
// has seen it released for ShipAfter, with its tracking reference, and
// delivers it once it has seen it shipped for DeliverAfter; it leaves
// pending and cancelled orders, and other vendors' orders, alone. A
// customer cancels her second order with CancelNth.
func TestClerk(t *testing.T) {
	ctx := context.Background()
	api, ord, _, clk := newService(t)
	v, people := placeOrders(t, api, clk)

	// The list follows its cursor: eight orders in pages of three.
	n, os := byStatus(t, api, v.VendorCode)
	if len(os) != 8 || n[replenish.OrderPending] != 8 {
		t.Fatalf("orders placed: %v, want 8 PENDING", n)
	}
	ids := map[string]bool{}
	for _, o := range os {
		ids[o.OrderID] = true
	}
	if len(ids) != 8 {
		t.Fatalf("the pages repeat orders: %d distinct of %d", len(ids), len(os))
	}
	// A customer cancels her second order while it is pending.
	mine, err := ListOrders(ctx, api, people[1].APIKey, nil)
	if err != nil || len(mine) != 4 {
		t.Fatalf("Grace's orders: %d, %v; want 4", len(mine), err)
	}
	id, err := CancelNth(ctx, api, people[1], 2, "I bought one at a shop", time.Millisecond)
	if err != nil || id != mine[2].OrderID {
		t.Fatalf("cancelling the second order: %q, %v; want %s", id, err, mine[2].OrderID)
	}
	var o replenish.Order
	if err := api.Do(ctx, "GET", "/api/v1/orders/"+id, people[1].APIKey, nil, &o); err != nil {
		t.Fatal(err)
	}
	if last := o.Steps[len(o.Steps)-1]; o.Status != replenish.OrderCancelled || last.Actor != replenish.ActorCustomer ||
		last.Reason != "I bought one at a shop" {
		t.Errorf("the second order: %s, last step %+v; want CANCELLED by the customer, for her reason", o.Status, last)
	}
	// Once cancelled, or before it exists, there is nothing to cancel.
	if id, err := CancelNth(ctx, api, people[1], 2, "again", time.Millisecond); id != "" || err != nil {
		t.Errorf("cancelling it again: %q, %v; want nothing done", id, err)
	}
	soon, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if id, err := CancelNth(soon, api, people[1], 5, "later", time.Millisecond); id != "" || err != nil {
		t.Errorf("cancelling a fifth order: %q, %v; want nothing done", id, err)
	}

	clerk := &Clerk{API: api, Key: testOperatorKey, VendorCode: v.VendorCode, ShipAfter: time.Minute, DeliverAfter: 2 * time.Minute}
	other := &Clerk{API: api, Key: testOperatorKey, VendorCode: "sim-other"}
	t0 := time.Now()
	pass := func(c *Clerk, at time.Duration, want int) {
		t.Helper()
		if moved, err := c.Pass(ctx, t0.Add(at)); err != nil || moved != want {
			t.Fatalf("pass at %s: moved %d, %v; want %d", at, moved, err, want)
		}
	}
	// Pending orders are not the clerk's.
	pass(clerk, 0, 0)
	clk.Advance(orders.DefaultSettings().CancelWindow)
	if _, err := ord.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := byStatus(t, api, v.VendorCode); n[replenish.OrderReleased] != 7 {
		t.Fatalf("after the cancellation window: %v, want 7 RELEASED", n)
	}
	pass(other, time.Hour, 0)
	pass(clerk, time.Second, 0) // first seen released
	pass(clerk, time.Minute, 0)
	pass(clerk, time.Minute+time.Second, 7)
	n, os = byStatus(t, api, v.VendorCode)
	if n[replenish.OrderShipped] != 7 || n[replenish.OrderCancelled] != 1 {
		t.Fatalf("after shipping: %v, want 7 SHIPPED and 1 CANCELLED", n)
	}
	for _, o := range os {
		last := o.Steps[len(o.Steps)-1]
		if o.Status == replenish.OrderShipped && (o.TrackingReference != TrackingReference(o.OrderID) || last.Actor != replenish.ActorOperator) {
			t.Errorf("order %s shipped with tracking %q by %s, want %q by the operator", o.OrderID, o.TrackingReference, last.Actor,
				TrackingReference(o.OrderID))
		}
	}
	pass(clerk, 3*time.Minute, 0)
	pass(clerk, 3*time.Minute+time.Second, 7)
	pass(clerk, time.Hour, 0)
	if n, _ := byStatus(t, api, v.VendorCode); n[replenish.OrderDelivered] != 7 || n[replenish.OrderCancelled] != 1 || len(n) != 2 {
		t.Fatalf("after delivery: %v, want 7 DELIVERED and 1 CANCELLED", n)
	}
}
