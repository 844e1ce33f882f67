package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"replenish"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"replenish/bench"
	"replenish/gateway"
	"replenish/notifications"
	"replenish/orders"
	"replenish/storage"
	"replenish/storage/sqldb"
)

// TestBench runs the bench command with small figures: the preload holds
// exactly what was asked, a second run reuses it, a run with other figures
// refuses the file, and every event sent to Replenish is answered 202 and
// stored.
func TestBench(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench.db")
	bench := func(preloadEndpoints, preloadReadings string) (string, error) {
		var out strings.Builder
		err := run(t.Context(), []string{"replenish", "bench", "--endpoints", "30", "--conns", "4",
			"--warmup", "0s", "--duration", "300ms", "--runs", "1", "--db", db,
			"--preload-endpoints", preloadEndpoints, "--preload-readings", preloadReadings},
			func(string) string { return "" }, &out, &out)
		return out.String(), err
	}
	out, err := bench("10", "45")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	t.Log(out)
	// How many events fall in so short a window depends on the machine's
	// load; that none failed, and that all are stored, does not.
	line := regexp.MustCompile(`run 1  replenish +(\d+) events/s`).FindStringSubmatch(out)
	if line == nil || strings.Contains(out, "FAILED") || !strings.Contains(out, "ratio") {
		t.Fatalf("want a Replenish measurement with no failure, a ratio:\n%s", out)
	}

	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(query string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	preloaded := `FROM endpoints e JOIN endpoint_slots s ON s.endpoint = e.id WHERE e.customer_id LIKE 'pre-%'`
	if n := count(`SELECT count(DISTINCT e.id) ` + preloaded); n != 10 {
		t.Errorf("%d preloaded endpoints, want 10", n)
	}
	// 45 readings over 40 slots: 2 for the first 5, 1 for the others.
	if n := count(`SELECT count(*) FROM readings WHERE slot IN (SELECT s.id ` + preloaded + `)`); n != 45 {
		t.Errorf("%d preloaded readings, want 45", n)
	}
	// The events counted at 202 are in the database, and so are those
	// answered after the window.
	// The rate is printed rounded: events = rate × 0.3 s, within 0.15.
	rate, _ := strconv.ParseFloat(line[1], 64)
	if n := count(`SELECT count(*) FROM events WHERE message_id LIKE '%-real1-%'`); float64(n)+0.5 < rate*0.3 || n == 0 {
		t.Errorf("%d events stored; %.0f were counted at 202", n, rate*0.3)
	}

	out, err = bench("10", "45")
	if err != nil || !strings.Contains(out, "preload: reusing 10 endpoints and 45 readings") {
		t.Errorf("a second run with the same figures: %v\n%s", err, out)
	}
	if _, err := bench("20", "45"); err == nil || !strings.Contains(err.Error(), "holds 10 preloaded endpoints and 45 readings") {
		t.Errorf("a run with other figures on the same file: %v, want a refusal", err)
	}
}

// benchSetup makes a database at path with the bench command's vendor,
// registered through the API as the bench command does; then it stops the
// server, so that the benchmark owns the file.
func benchSetup(b *testing.B, path string) bench.Fleet {
	b.Helper()
	ctx := b.Context()
	operatorKey, err := benchOperator(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		c := defaults(path)
		c.LogLevel = slog.LevelWarn
		served <- serve(srvCtx, c, slog.New(slog.DiscardHandler), io.Discard, func(s started) { ready <- s.URL })
	}()
	var fleet bench.Fleet
	select {
	case u := <-ready:
		fleet, err = benchFleet(ctx, u, operatorKey)
	case err = <-served:
	}
	stop()
	<-served
	if err != nil {
		b.Fatal(err)
	}
	return fleet
}

// BenchmarkAccept measures what the gateway and the storage spend on one
// ChangeReport, without HTTP: Parse, the writer's lookups, the event, the
// reading, the slot's state and the group commit, on a real SQLite file.
// 200 goroutines send at once, as the bench command's connections do, so
// that writes form groups; ns/op is wall time per event, cpu-µs/event the
// process's processor time.
func BenchmarkAccept(b *testing.B) {
	ctx := b.Context()
	path := filepath.Join(b.TempDir(), "bench.db")
	fleet := benchSetup(b, path)
	const endpoints = 50000
	devices, err := bench.SeedDevices(ctx, path, "b", fleet, endpoints, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	store, err := sqldb.OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.DiscardHandler)
	ntf := notifications.New(store, time.Now, nil, log, "http://replenish.bench.example")
	gw := gateway.New(store, time.Now, orders.New(store, time.Now, orders.DefaultSettings(), nil, log, ntf), ntf)

	var seq atomic.Int64
	send := func(n int64) error {
		d := devices[n%endpoints]
		pass := n / endpoints
		body := bench.AppendReport(nil, d, fleet.Slots[pass%int64(len(fleet.Slots))].Instance,
			"m-"+strconv.FormatInt(n, 10), 95-pass%90, time.Now())
		return gw.Accept(ctx, d.Token, body)
	}
	// The writer's cache starts full, as in a service that has run a while:
	// one report for each device first, from as many senders.
	const senders = 200
	var warm sync.WaitGroup
	for range senders {
		warm.Go(func() {
			for n := seq.Add(1) - 1; n < endpoints; n = seq.Add(1) - 1 {
				if err := send(n); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	warm.Wait()
	if b.Failed() {
		return
	}
	b.SetParallelism(max(1, senders/runtime.GOMAXPROCS(0)))
	cpu := bench.ProcessCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(bench.ProcessCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/event")
}

// benchOrders makes a database with n devices whose first ink slot each
// has a PENDING order, due now, and returns the store and an order service
// with manual fulfilment.
func benchOrders(b *testing.B, n int) (*sqldb.DB, *orders.Service) {
	b.Helper()
	ctx := b.Context()
	path := filepath.Join(b.TempDir(), "orders.db")
	fleet := benchSetup(b, path)
	now := time.Now().UTC()
	if _, err := bench.SeedDevices(ctx, path, "o", fleet, n, now); err != nil {
		b.Fatal(err)
	}
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	at := now.UnixMicro()
	for _, q := range []string{
		`INSERT INTO orders (order_id, customer_id, vendor_code, slot, endpoint_id, slot_id, product_id, quantity,
			pack_quantity, pack_unit, price, currency, test, status, placed_at, cancel_by, reason, updated_at, due_at)
		SELECT 'bo-' || s.id, e.customer_id, e.vendor_code, s.id, e.endpoint_id, s.slot_id, s.product_id, 1,
			1, 'Count', '19.99', 'USD', 0, 'PENDING', ?1, ?1, '{}', ?1, ?1
		FROM endpoints e JOIN endpoint_slots s ON s.endpoint = e.id WHERE s.instance = ?2`,
		`INSERT INTO order_steps (order_id, status, at, actor, reason)
		SELECT order_id, 'PENDING', ?1, 'service', 'placed' FROM orders WHERE ?2 != ''`,
		`UPDATE endpoint_slots SET mode = 'AUTO', ordered = 1, open_order_id = 'bo-' || id WHERE instance = ?2 AND ?1 > 0`,
	} {
		if _, err := conn.ExecContext(ctx, q, at, fleet.Slots[0].Instance); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close()
	store, err := sqldb.OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	log := slog.New(slog.DiscardHandler)
	ntf := notifications.New(store, time.Now, nil, log, "http://replenish.bench.example")
	return store, orders.New(store, time.Now, orders.DefaultSettings(), nil, log, ntf)
}

// BenchmarkOrderRelease measures the release timer: b.N orders are due,
// and one pass of the timers releases them all, Batch to a transaction.
// Run it with a fixed count: -benchtime 20000x.
func BenchmarkOrderRelease(b *testing.B) {
	_, ord := benchOrders(b, b.N)
	b.ResetTimer()
	moved, err := ord.Tick(b.Context())
	b.StopTimer()
	if err != nil || moved != b.N {
		b.Fatalf("released %d of %d: %v", moved, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkOrderLifecycle measures an order's life after placement: the
// timer releases b.N orders, then 50 operators at once ship and deliver
// each through the order service (two transactions per order), raising
// each slot's household inventory. Run it with a fixed count.
func BenchmarkOrderLifecycle(b *testing.B) {
	store, ord := benchOrders(b, b.N)
	var ids []string
	if err := store.Read(b.Context(), func(tx storage.Tx) error {
		os, err := tx.ListOrders(b.Context(), storage.OrderFilter{})
		for _, o := range os {
			ids = append(ids, o.OrderID)
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}
	op := replenish.Principal{Role: replenish.RoleOperator, KeyID: "bench"}
	var next atomic.Int64
	b.ResetTimer()
	if _, err := ord.Tick(b.Context()); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(ids)); i = next.Add(1) - 1 {
				if _, err := ord.Ship(b.Context(), op, ids[i], ""); err != nil {
					b.Error(err)
					return
				}
				if _, err := ord.Deliver(b.Context(), op, ids[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
