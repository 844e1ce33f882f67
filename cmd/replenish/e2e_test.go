package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"replenish"
	"replenish/simulator"
	"replenish/storage/pgtest"
)

// startServe runs "replenish serve" through run, as main does, on a free
// port and a temporary database, and returns its base URL.
func startServe(t *testing.T, operatorKey string) string {
	t.Helper()
	return startServeOn(t, operatorKey, filepath.Join(t.TempDir(), "e2e.db"))
}

// startServeOn is startServe on the database file db; flags come after
// startServe's own, and so take precedence.
func startServeOn(t *testing.T, operatorKey, db string, flags ...string) string {
	t.Helper()
	url, _ := startServeMQTT(t, operatorKey, db, flags...)
	return url
}

// startServeMQTT is startServeOn that also returns the embedded MQTT
// broker's address.
func startServeMQTT(t *testing.T, operatorKey, db string, flags ...string) (url, mqttAddr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs, logw := io.Pipe()
	done := make(chan error, 1)
	// Devices report on the test's schedule only: no ReportState asks.
	args := append([]string{"replenish", "serve", "--addr", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--db", db, "--operator-key", operatorKey,
		"--report-state-after", "0"}, flags...)
	go func() {
		err := run(ctx, args, func(string) string { return "" }, io.Discard, logw)
		logw.CloseWithError(err)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	addr := watchReady(logs, func(line string) { t.Log(line) })
	select {
	case a := <-addr:
		return "http://" + a.addr, a.mqtt
	case err := <-done:
		t.Fatalf("serve stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not log that it was ready")
	}
	return "", ""
}

// eachStore runs fn on each database the service runs on: a new SQLite
// file, and a new PostgreSQL schema when REPLENISH_TEST_POSTGRES is set.
func eachStore(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "e2e.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.URL(t)) })
}

// TestEndToEnd walks the whole path through the real wiring: register,
// assign, link, discover, report, then low supply in NOTIFY gives one feed
// entry and AUTO gives exactly one order, whatever is sent again; on
// SQLite and on PostgreSQL.
func TestEndToEnd(t *testing.T) { eachStore(t, endToEnd) }

func endToEnd(t *testing.T, db string) {
	ctx := context.Background()
	const operatorKey = "rk_op_end_to_end_test"
	api := &simulator.Client{URL: startServeOn(t, operatorKey, db), HTTP: &http.Client{Timeout: 10 * time.Second}}

	// The vendor's cloud, in process, on a port of its own.
	var cloud atomic.Pointer[simulator.Cloud]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	skill := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cloud.Load().ServeHTTP(w, r)
	})}
	go skill.Serve(ln)
	t.Cleanup(func() { skill.Close() })

	v, err := simulator.Register(ctx, api, operatorKey, "http://"+ln.Addr().String(), 10)
	if err != nil {
		t.Fatal(err)
	}
	cloud.Store(simulator.NewCloud(simulator.Config{
		ReplenishURL: api.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret, SigningSecret: v.SigningSecret,
		ModelID: v.ModelID, Inks: v.Inks, StartMin: 80, StartMax: 80, DrainMin: 1, DrainMax: 1,
		Rand: rand.New(rand.NewPCG(1, 2)), HTTP: api.HTTP,
	}))
	ada, err := simulator.AddCustomer(ctx, api, operatorKey, v, "Ada Lovelace")
	if err != nil {
		t.Fatal(err)
	}
	grace, err := simulator.AddCustomer(ctx, api, operatorKey, v, "Grace Hopper")
	if err != nil {
		t.Fatal(err)
	}
	if err := simulator.SetMode(ctx, api, ada, replenish.ModeAuto); err != nil {
		t.Fatal(err)
	}

	// Discovery created one printer with four ink slots for each customer,
	// in NOTIFY mode unless the customer chose otherwise.
	for _, c := range []struct {
		who  *simulator.Customer
		mode string
	}{{ada, replenish.ModeAuto}, {grace, replenish.ModeNotify}} {
		es := endpoints(t, api, c.who)
		if len(es) != 1 || len(es[0].Slots) != 4 {
			t.Fatalf("%s: endpoints after discovery = %+v, want one printer with four slots", c.who.Name, es)
		}
		for _, s := range es[0].Slots {
			if s.Mode != c.mode || s.Status != replenish.StatusUnknown || s.ProductID == "" {
				t.Errorf("%s slot %s: mode %s status %s product %q, want %s, UNKNOWN and a product",
					c.who.Name, s.SlotID, s.Mode, s.Status, s.ProductID, c.mode)
			}
		}
	}
	accounts := cloud.Load().Accounts()
	if len(accounts) != 2 {
		t.Fatalf("the vendor cloud has %d accounts, want 2", len(accounts))
	}
	adaAcct, graceAcct := accounts[0], accounts[1]

	at := time.Now().UTC().Add(-time.Hour)
	report := func(a *simulator.Account, black float64, id string) {
		t.Helper()
		at = at.Add(time.Minute)
		d := a.Devices[0]
		d.Levels = []float64{black, 60, 60, 60}
		if _, err := cloud.Load().Report(ctx, a, d, id, at); err != nil {
			t.Fatalf("report: %v", err)
		}
	}

	// NOTIFY: two low readings are not enough, the third tells the
	// customer once, and further low readings tell nothing more.
	report(graceAcct, 50, replenish.NewUUID())
	report(graceAcct, 8, replenish.NewUUID())
	report(graceAcct, 8, replenish.NewUUID())
	if f := feed(t, api, grace); len(f) != 0 {
		t.Fatalf("feed after two low readings = %+v, want nothing yet", f)
	}
	report(graceAcct, 8, replenish.NewUUID())
	report(graceAcct, 7, replenish.NewUUID())
	report(graceAcct, 6, replenish.NewUUID())
	f := feed(t, api, grace)
	if len(f) != 1 || f[0].Type != replenish.FeedLowSupply || f[0].SlotID != "SLOT01" {
		t.Fatalf("feed after a low episode = %+v, want one LOW_SUPPLY for SLOT01", f)
	}
	if s := endpoints(t, api, grace)[0].Slots[0]; s.Status != replenish.StatusLow || s.Level == nil || s.Level.Value != 6 {
		t.Errorf("black ink = %+v, want LOW at 6 %%", s)
	}
	if os := customerOrders(t, api, grace); len(os) != 0 {
		t.Errorf("NOTIFY placed orders: %+v", os)
	}

	// AUTO: a repeated message ID has no second effect, whether it is an
	// identical retry or carries a newer sample; only a third distinct low
	// reading orders, and only once.
	report(adaAcct, 9, replenish.NewUUID())
	retried := replenish.NewUUID()
	report(adaAcct, 9, retried)
	d := adaAcct.Devices[0]
	if _, err := cloud.Load().Report(ctx, adaAcct, d, retried, at); err != nil {
		t.Fatalf("identical retry: %v", err)
	}
	report(adaAcct, 9, retried)
	if os := customerOrders(t, api, ada); len(os) != 0 {
		t.Fatalf("orders after two distinct low readings and their repeats = %+v, want none", os)
	}
	third := replenish.NewUUID()
	report(adaAcct, 9, third)
	if _, err := cloud.Load().Report(ctx, adaAcct, d, third, at); err != nil {
		t.Fatalf("identical retry: %v", err)
	}
	report(adaAcct, 8, replenish.NewUUID())
	report(adaAcct, 5, replenish.NewUUID())
	os := customerOrders(t, api, ada)
	if len(os) != 1 {
		t.Fatalf("orders = %+v, want exactly one", os)
	}
	o := os[0]
	if o.Status != replenish.OrderPending || o.SlotID != "SLOT01" || o.ProductID != "SIM-INK-BLACK" ||
		o.Price != "19.99" || o.Currency != "USD" || !o.Test || !o.CancelBy.Equal(o.PlacedAt.Add(24*time.Hour)) {
		t.Errorf("order = %+v, want a PENDING test order of SIM-INK-BLACK at 19.99 USD, cancellable for 24 h", o)
	}
	if o.Reason["threshold"] != 10.0 || o.Reason["consecutiveLowReadings"] != 3.0 {
		t.Errorf("order reason = %v, want threshold 10 and 3 low readings", o.Reason)
	}
	if s := endpoints(t, api, ada)[0].Slots[0]; s.OpenOrderID != o.OrderID {
		t.Errorf("black ink's open order = %q, want %s", s.OpenOrderID, o.OrderID)
	}
	if f := feed(t, api, ada); len(f) != 1 || f[0].Type != replenish.FeedOrderPlaced || f[0].OrderID != o.OrderID {
		t.Errorf("feed = %+v, want one ORDER_PLACED", f)
	}

	// The customer cancels; the order says so and the slot has none open.
	var cancelled replenish.Order
	if err := api.Do(ctx, "POST", "/api/v1/orders/"+o.OrderID+"/cancel", ada.APIKey, nil, &cancelled); err != nil {
		t.Fatal(err)
	}
	if cancelled.Status != replenish.OrderCancelled {
		t.Errorf("cancelled order status = %s", cancelled.Status)
	}
	if s := endpoints(t, api, ada)[0].Slots[0]; s.OpenOrderID != "" {
		t.Errorf("open order after cancelling = %q, want none", s.OpenOrderID)
	}
	// Another customer cannot see or cancel it.
	var ae *simulator.APIError
	if err := api.Do(ctx, "POST", "/api/v1/orders/"+o.OrderID+"/cancel", grace.APIKey, nil, nil); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("grace cancelling ada's order: %v, want 404", err)
	}
}

type slotView struct {
	SlotID, Mode, Status, ProductID, OpenOrderID string
	Level                                        *struct{ Value float64 }
}

func endpoints(t *testing.T, api *simulator.Client, c *simulator.Customer) []struct{ Slots []slotView } {
	t.Helper()
	var out struct{ Items []struct{ Slots []slotView } }
	if err := api.Do(context.Background(), "GET", "/api/v1/endpoints", c.APIKey, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

func feed(t *testing.T, api *simulator.Client, c *simulator.Customer) []replenish.FeedEntry {
	t.Helper()
	var out struct{ Items []replenish.FeedEntry }
	if err := api.Do(context.Background(), "GET", "/api/v1/feed", c.APIKey, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}

func customerOrders(t *testing.T, api *simulator.Client, c *simulator.Customer) []replenish.Order {
	t.Helper()
	var out struct{ Items []replenish.Order }
	if err := api.Do(context.Background(), "GET", "/api/v1/orders", c.APIKey, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Items
}
