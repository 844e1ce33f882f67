package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"replenish"
	"replenish/bench"
	"replenish/storage/sqldb"
)

// startChild starts the binary at bin serving the database db on a free
// port, and returns once it answers; the test ends it.
func startChild(t *testing.T, bin, db, operatorKey string, flags ...string) *server {
	t.Helper()
	srv, err := startServer(bin, db, operatorKey, func(line string) { t.Log(line) }, flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.kill)
	return srv
}

// buildChild builds the replenish binary into dir.
func buildChild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "replenish")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestKillDurability kills the server with SIGKILL while many connections
// send events, restarts it on the same file, and requires every event it
// had answered 202 to be in the database: an acknowledged event is
// durable, whatever happens to the process.
func TestKillDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	dir := t.TempDir()
	bin := buildChild(t, dir)
	db := filepath.Join(dir, "kill.db")
	operatorKey := replenish.NewSecret("rk_op_")
	srv := startChild(t, bin, db, operatorKey)

	ctx := t.Context()
	fleet, err := benchFleet(ctx, srv.url, operatorKey)
	if err != nil {
		t.Fatal(err)
	}
	devices, err := bench.SeedDevices(ctx, db, "kill", fleet, 500, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}

	// Connections send reports, each with a new message ID, and keep the
	// IDs answered 202, until the server is gone.
	const conns = 64
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns},
		Timeout: 10 * time.Second}
	var (
		mu     sync.Mutex
		acked  []string
		sent   atomic.Int64
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	for c := range conns {
		wg.Go(func() {
			for i := 0; ; i++ {
				d := devices[(c*31+i)%len(devices)]
				id := fmt.Sprintf("kill-%d-%d", c, i)
				body := bench.AppendReport(nil, d, fleet.Slots[i%len(fleet.Slots)].Instance, id, int64(90-i%80), time.Now())
				sent.Add(1)
				if err := bench.Post(ctx, client, srv.url, d.Token, body); err != nil {
					failed.Add(1)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	// Kill once the load is well under way.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 2000 || time.Now().After(deadline) {
			break
		}
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	wg.Wait()
	mu.Lock()
	ids := acked
	mu.Unlock()
	if len(ids) == 0 {
		t.Fatal("no event was acknowledged before the kill")
	}

	// The restarted server opens the file, recovering its write-ahead log,
	// and takes a repeat of an acknowledged event as a repeat.
	again := startChild(t, bin, db, operatorKey)
	d := devices[0]
	if err := bench.Post(ctx, client, again.url, d.Token, bench.AppendReport(nil, d, fleet.Slots[0].Instance,
		ids[0], 50, time.Now())); err != nil {
		t.Errorf("a repeat after the restart: %v", err)
	}
	found := countEvents(t, db, ids)
	t.Logf("sent %d events on %d connections; %d answered 202 before SIGKILL, %d failed with the server gone; %d of the %d acknowledged are in the database after the restart",
		sent.Load(), conns, len(ids), failed.Load(), found, len(ids))
	if found != len(ids) {
		t.Errorf("%d acknowledged events are missing after the kill", len(ids)-found)
	}
}

// countEvents counts how many of the message IDs the database holds.
func countEvents(t *testing.T, path string, ids []string) int {
	t.Helper()
	db, err := sqldb.OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := 0
	for _, id := range ids {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM events WHERE message_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		found += n
	}
	return found
}
