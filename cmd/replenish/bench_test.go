package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"replenish/bench"
	"replenish/gateway"
	"replenish/orders"
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

// BenchmarkAccept measures what the gateway and the storage spend on one
// ChangeReport, without HTTP: Parse, the writer's lookups, the event, the
// reading, the slot's state and the group commit, on a real SQLite file.
// 200 goroutines send at once, as the bench command's connections do, so
// that writes form groups; ns/op is wall time per event, cpu-µs/event the
// process's processor time.
func BenchmarkAccept(b *testing.B) {
	ctx := b.Context()
	path := filepath.Join(b.TempDir(), "bench.db")
	operatorKey, err := benchOperator(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	// Register the vendor through the API, as the bench command does, then
	// stop the server so that the benchmark owns the file.
	srvCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		c := config{Addr: "127.0.0.1:0", DB: path, LogLevel: slog.LevelWarn, Orders: orders.DefaultSettings(), OrderTick: time.Second}
		served <- serve(srvCtx, c, slog.New(slog.DiscardHandler), io.Discard, func(u, _ string) { ready <- u })
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
	gw := gateway.New(store, time.Now, orders.New(store, time.Now, orders.DefaultSettings(), nil, slog.New(slog.DiscardHandler)))

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
