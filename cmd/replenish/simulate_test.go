package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"replenish/notifications"
	"replenish/simulator"
)

// fleetDB opens the server's database read-only, to compare what the
// simulator counted with what Replenish stored.
func fleetDB(t *testing.T, path string) func(query string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
}

// TestSimulateFleet runs a small, noisy fleet of every kind against
// "replenish serve" in process and checks the summary against what the
// server stored: every accepted event stored once (repeats deduplicated),
// the StateReports answering the server's ReportState among them, no
// refusal but the mis-stamped reports injected on purpose, and the orders
// and low-supply notices the summary counts.
func TestSimulateFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet runs for a few seconds")
	}
	const key = "rk_op_simulate_fleet_test"
	path := filepath.Join(t.TempDir(), "fleet.db")
	o := fleetDefaults
	// Customers who choose smart reorder open their devices at once, whose
	// levels are unknown: the server asks the vendor for them.
	o.URL, o.OperatorKey = startServeOn(t, key, path, "--report-state-after", "24h"), key
	o.Devices, o.PerCustomer, o.Marketplaces, o.Auto = 40, 3, "US,DE,JP", 0.5
	o.Days, o.Speed, o.Noise, o.Seed, o.Progress = 14, 20*86400, 4, 5, 100*time.Millisecond
	var out, progress lockedBuffer
	res, err := simulate(context.Background(), o, &out, &progress, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	count := fleetDB(t, path)
	vendor := res.Vendor.VendorCode

	// The fleet: every kind linked, by customers of every marketplace.
	if n := count(`SELECT count(*) FROM endpoints WHERE vendor_code = ?`, vendor); n != 40 || res.Devices != 40 {
		t.Errorf("endpoints stored %d, devices counted %d, want 40", n, res.Devices)
	}
	if n := count(`SELECT count(DISTINCT model_id) FROM endpoints WHERE vendor_code = ?`, vendor); n != 4 {
		t.Errorf("endpoints of %d models, want all 4 kinds", n)
	}
	if n := count(`SELECT count(*) FROM links WHERE vendor_code = ?`, vendor); n != res.Customers || n != len(res.People) || n < 40/3 {
		t.Errorf("links %d, customers counted %d and listed %d, want the same, at least 14", n, res.Customers, len(res.People))
	}
	if n := count(`SELECT count(DISTINCT c.marketplace) FROM customers c JOIN links l USING (customer_id) WHERE l.vendor_code = ?`, vendor); n != 3 {
		t.Errorf("customers in %d marketplaces, want 3", n)
	}

	// The models were certified, so customers who are not test accounts
	// could link them, and their orders are real ones.
	if n := count(`SELECT count(*) FROM models WHERE vendor_code = ? AND certification = 'CERTIFIED'`, vendor); n != 4 {
		t.Errorf("%d of 4 models certified", n)
	}
	if n := count(`SELECT count(*) FROM test_accounts WHERE vendor_code = ?`, vendor); n != 0 {
		t.Errorf("%d test accounts, want none: the fleet's customers are ordinary ones", n)
	}
	if n := count(`SELECT count(*) FROM orders WHERE vendor_code = ? AND test = 1`, vendor); n != 0 {
		t.Errorf("%d test orders for certified models and ordinary customers", n)
	}

	// The events: each accepted one stored once, of every kind.
	s := res.Summary
	if s.Day != o.Days {
		t.Errorf("ran %d days, want %d", s.Day, o.Days)
	}
	if n := count(`SELECT count(*) FROM events WHERE vendor_code = ?`, vendor); n != s.Stored {
		t.Errorf("events stored %d, distinct events accepted %d", n, s.Stored)
	}
	for _, name := range []string{"ChangeReport", "InventoryConsumed", "InventoryReplaced"} {
		if n := count(`SELECT count(*) FROM events WHERE vendor_code = ? AND name = ?`, vendor, name); n == 0 {
			t.Errorf("no %s stored", name)
		}
	}
	if n := count(`SELECT count(*) FROM events WHERE vendor_code = ? AND name = 'StateReport'`, vendor); n != s.StateReports || n == 0 {
		t.Errorf("StateReports stored %d, counted %d, want the same and some", n, s.StateReports)
	}
	if s.Accepted+s.RejectedTotal() != s.Sent || s.Accepted-s.Stored <= 0 {
		t.Errorf("sent %d, accepted %d (%d distinct), rejected %d: want repeats accepted without a second event",
			s.Sent, s.Accepted, s.Stored, s.RejectedTotal())
	}
	// The noise happened, and only the broken reports were refused.
	if s.Repeats == 0 || s.Late == 0 || s.Missed == 0 || s.Injected == 0 {
		t.Fatalf("noise: %d repeats, %d late, %d missed, %d injected; the seed should give some of each", s.Repeats, s.Late, s.Missed, s.Injected)
	}
	if s.RejectedTotal() != s.InjectedRejected || s.InjectedRejected != s.Injected ||
		s.Rejected["INVALID_REQUEST_EXCEPTION"] != s.Injected || s.RejectedEvents["ChangeReport"] != s.Injected {
		t.Errorf("rejected %v %v; %d injected, %d of them rejected: want the injected ones alone, as INVALID_REQUEST_EXCEPTION",
			s.Rejected, s.RejectedEvents, s.Injected, s.InjectedRejected)
	}

	// What Replenish decided, as the summary counts it.
	if n := count(`SELECT count(*) FROM orders WHERE vendor_code = ?`, vendor); n != res.Orders || n == 0 {
		t.Errorf("orders stored %d, counted %d, want the same and some", n, res.Orders)
	}
	// Dash's windows: every order is still in its day of grace.
	if n := count(`SELECT count(*) FROM orders WHERE vendor_code = ? AND status = 'PENDING'`, vendor); n != res.OrdersBy["PENDING"] ||
		n != res.Orders || len(res.OrdersBy) != 1 {
		t.Errorf("orders stored PENDING %d, counted by status %v, want all %d PENDING", n, res.OrdersBy, res.Orders)
	}
	if n := count(`SELECT count(*) FROM feed f JOIN links l USING (customer_id) WHERE l.vendor_code = ? AND f.type = 'LOW_SUPPLY'`, vendor); n != res.LowNotices || n == 0 {
		t.Errorf("low-supply notices stored %d, counted %d, want the same and some", n, res.LowNotices)
	}

	text := out.String()
	for _, want := range []string{
		fmt.Sprintf("Simulation over after %d of %d simulated days", o.Days, o.Days),
		fmt.Sprintf("events sent         %d", s.Sent),
		fmt.Sprintf("state reports    %d of them", s.StateReports),
		fmt.Sprintf("rejected            %d: INVALID_REQUEST_EXCEPTION %d", s.Injected, s.Injected),
		"latency             p50 ",
		fmt.Sprintf("orders placed       %d (delivered 0, shipped 0, released 0, pending %d, cancelled 0)", res.Orders, res.Orders),
		fmt.Sprintf("low-supply notices  %d", res.LowNotices),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if p := progress.String(); !strings.Contains(p, fmt.Sprintf("day %d/%d · %d/%d customers", o.Days, o.Days, len(res.People), len(res.People))) {
		t.Errorf("progress lacks the last day:\n%s", p)
	}
	checkWebhooks(t, o.URL, key, res, text, notifications.DeviceRegistered, notifications.SubscriptionChanged, notifications.OrderPlaced)
}

// checkWebhooks: the simulated cloud received, each once and well signed,
// every vendor notification the outbox lists for its vendor (the
// operator's view), each delivered, some of every type of types, and the
// summary counts them by type.
func checkWebhooks(t *testing.T, url, operatorKey string, res *fleetResult, summary string, types ...string) {
	t.Helper()
	api := &simulator.Client{URL: url, HTTP: &http.Client{Timeout: 10 * time.Second}}
	listed, err := simulator.ListNotifications(context.Background(), api, operatorKey,
		neturl.Values{"channel": {"vendor_webhook"}, "vendorCode": {res.Vendor.VendorCode}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, n := range listed {
		want[n.Type]++
		if n.Status != "DELIVERED" {
			t.Errorf("vendor notification %s %s is %s (%s), want DELIVERED", n.NotificationID, n.Type, n.Status, n.LastError)
		}
	}
	w := res.Webhooks
	if !maps.Equal(w.ByType, want) || w.Total() != len(listed) {
		t.Errorf("the cloud received %v (%d), the outbox lists %v (%d)", w.ByType, w.Total(), want, len(listed))
	}
	if w.BadlySigned != 0 || w.Repeats != 0 || w.Unreadable != 0 || res.WebhooksPending != 0 {
		t.Errorf("webhooks %+v, %d pending; want none badly signed, repeated, unreadable or pending", w, res.WebhooksPending)
	}
	for _, typ := range types {
		if w.ByType[typ] == 0 {
			t.Errorf("no %s received: %v", typ, w.ByType)
		}
	}
	line := fmt.Sprintf("vendor webhooks     %d (", len(listed))
	if i := strings.Index(summary, line); i < 0 || !strings.Contains(summary[i:], "), 0 badly signed, 0 repeats\n") {
		t.Errorf("summary lacks %q...%q:\n%s", line, "), 0 badly signed, 0 repeats", summary)
	}
	for _, typ := range types {
		short := strings.TrimSuffix(typ, "Notification")
		if !strings.Contains(summary, fmt.Sprintf("%s %d", short, want[typ])) {
			t.Errorf("summary lacks %s %d:\n%s", short, want[typ], summary)
		}
	}
}

// TestSimulateOrders runs a small fleet on smart reorder against a
// service whose cancellation window is a second, with the clerk shipping
// and delivering and the summary waiting for the orders to settle: the
// watch shows each order's steps, every order ends DELIVERED, and the
// summary's counts by status are those the server stored.
func TestSimulateOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet runs for a few seconds")
	}
	const key = "rk_op_simulate_orders_test"
	path := filepath.Join(t.TempDir(), "orders.db")
	o := fleetDefaults
	o.URL, o.OperatorKey = startServeOn(t, key, path, "--cancel-window", "1s", "--order-tick", "100ms"), key
	o.Devices, o.Kinds, o.PerCustomer, o.Marketplaces, o.Auto = 4, "printer", 1, "US", 1
	o.Days, o.Speed, o.Noise, o.Seed, o.Progress = 10, 10*86400, 0, 3, time.Second
	o.Watch, o.Clerk, o.ShipAfter, o.DeliverAfter, o.Settle = true, true, 200*time.Millisecond, 200*time.Millisecond, 30*time.Second
	var out, progress lockedBuffer
	res, err := simulate(context.Background(), o, &out, &progress, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	count := fleetDB(t, path)
	vendor := res.Vendor.VendorCode
	total := 0
	for _, status := range []string{"PENDING", "RELEASED", "SHIPPED", "DELIVERED", "CANCELLED"} {
		n := count(`SELECT count(*) FROM orders WHERE vendor_code = ? AND status = ?`, vendor, status)
		if n != res.OrdersBy[status] {
			t.Errorf("%s orders stored %d, counted %d", status, n, res.OrdersBy[status])
		}
		total += n
	}
	if total != res.Orders || res.OrdersBy["DELIVERED"] != res.Orders || res.Orders == 0 {
		t.Errorf("orders stored %d, counted %d, by status %v: want all delivered, and some", total, res.Orders, res.OrdersBy)
	}
	if n := count(`SELECT count(*) FROM orders WHERE vendor_code = ? AND tracking LIKE 'SIM%'`, vendor); n != res.Orders {
		t.Errorf("%d of %d orders shipped with the clerk's tracking reference", n, res.Orders)
	}
	text := out.String()
	for _, want := range []string{": PENDING → RELEASED (", ": RELEASED → SHIPPED (tracking SIM", ": SHIPPED → DELIVERED (by operator)",
		fmt.Sprintf("orders placed       %d (delivered %d, shipped 0, released 0, pending 0, cancelled 0)", res.Orders, res.Orders),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "→ DELIVERED"); n != res.Orders {
		t.Errorf("the watch shows %d deliveries of %d orders:\n%s", n, res.Orders, text)
	}
	checkWebhooks(t, o.URL, key, res, text, notifications.DeviceRegistered, notifications.SubscriptionChanged,
		notifications.OrderPlaced, notifications.ItemShipped, notifications.ItemDelivered)
	// The watch shows each of the vendor's notifications once.
	if n := strings.Count(text, " WEBHOOK "); n != res.Webhooks.Total() {
		t.Errorf("the watch shows %d vendor notifications of %d:\n%s", n, res.Webhooks.Total(), text)
	}
	if n := strings.Count(text, " WEBHOOK         ItemDelivered ord-"); n != res.Orders {
		t.Errorf("the watch shows %d ItemDelivered notifications of %d orders:\n%s", n, res.Orders, text)
	}
}

// TestSimulateInterrupted: Ctrl-C stops the fleet early, and the summary
// still comes, counting what the server stored.
func TestSimulateInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet runs for a few seconds")
	}
	const key = "rk_op_simulate_interrupt_test"
	path := filepath.Join(t.TempDir(), "stop.db")
	o := fleetDefaults
	o.URL, o.OperatorKey = startServeOn(t, key, path), key
	o.Devices, o.Days, o.Speed, o.Progress = 10, 1000, 4*86400, 50*time.Millisecond
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var out, progress lockedBuffer
	done := make(chan error, 1)
	var res *fleetResult
	go func() {
		var err error
		res, err = simulate(ctx, o, &out, &progress, slog.New(slog.DiscardHandler))
		done <- err
	}()
	day := regexp.MustCompile(`day ([0-9]+)/1000`)
	reached := func() bool {
		m := day.FindAllStringSubmatch(progress.String(), -1)
		n := 0
		if len(m) > 0 {
			n, _ = strconv.Atoi(m[len(m)-1][1])
		}
		return n >= 3
	}
	for deadline := time.Now().Add(30 * time.Second); !reached(); {
		if time.Now().After(deadline) {
			t.Fatalf("the fleet did not reach day 3:\n%s", progress.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("simulate did not stop after the interrupt")
	}
	if res.Day < 3 || res.Day >= 1000 || !strings.Contains(out.String(), fmt.Sprintf("Simulation over after %d of 1000 simulated days", res.Day)) {
		t.Errorf("stopped at day %d; summary:\n%s", res.Day, out.String())
	}
	// Deliveries cut off by the interrupt may or may not have been stored.
	if n := fleetDB(t, path)(`SELECT count(*) FROM events WHERE vendor_code = ?`, res.Vendor.VendorCode); n < res.Stored || n > res.Stored+res.Interrupted || n == 0 {
		t.Errorf("events stored %d, counted %d accepted and %d cut off by the interrupt", n, res.Stored, res.Interrupted)
	}
}

// TestSimulateHelp: --help explains every flag of the fleet and gives an
// example.
func TestSimulateHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"replenish", "simulate", "--help"}, env(nil), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	help := errOut.String()
	for _, want := range []string{"Example:", "replenish simulate --url", "--url", "--operator-key", "--listen", "--devices",
		"--kinds", "--per-customer", "--marketplaces", "--auto", "--days", "--speed", "--duration", "--concurrency",
		"--noise", "--watch", "--progress", "--seed", "--clerk", "--ship-after", "--deliver-after", "--settle"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}
