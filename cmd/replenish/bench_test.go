package main

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
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
