package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"replenish/storage/sqldb"
)

// TestBenchMQTT runs bench mqtt with tiny figures: the devices are
// provisioned, claimed and connected, their events are acked at more than
// 0 a second with latencies, none fails, and every event counted is in
// the database.
func TestBenchMQTT(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench-mqtt.db")
	var stdout strings.Builder
	var stderr lockedBuffer
	err := run(t.Context(), []string{"replenish", "bench", "mqtt", "--devices", "20", "--inflight", "2",
		"--warmup", "200ms", "--duration", "1s", "--runs", "1", "--db", db},
		func(string) string { return "" }, &stdout, &stderr)
	out := stdout.String()
	if err != nil {
		t.Fatalf("bench mqtt: %v\n%s\n%s", err, out, stderr.String())
	}
	t.Log(out)
	line := regexp.MustCompile(`run 1  mqtt +(\d+) events/s  p50 ([\d.]+)ms  p90 [\d.]+ms  p99 ([\d.]+)ms  max [\d.]+ms`).FindStringSubmatch(out)
	if line == nil || strings.Contains(out, "FAILED") || !strings.Contains(out, "median of 1 runs") {
		t.Fatalf("want a measurement with no failure, and its median:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(line[1], 64)
	p99, _ := strconv.ParseFloat(line[3], 64)
	if rate <= 0 || p99 <= 0 {
		t.Fatalf("%v events/s, p99 %vms: want acks counted, and their latencies", rate, p99)
	}

	// The counted events, sent and acked in the 1 s window, are stored,
	// and so are those of the warm-up and after the window.
	raw, err := sqldb.OpenRaw(db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var stored int
	if err := raw.QueryRow(`SELECT count(*) FROM events WHERE message_id LIKE 'dev_%'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if float64(stored)+0.5 < rate {
		t.Fatalf("%d device events stored; %.0f were counted as acked", stored, rate)
	}
}
