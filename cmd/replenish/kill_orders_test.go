package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/bench"
	"replenish/storage/sqldb"
)

// TestKillOrders kills the server with SIGKILL while low readings place
// orders and the release timer releases them, restarts it on the same
// file, and has the vendor send every reading again. Then each slot that
// went low has exactly one order, placed once, released once: a crash
// between deciding and answering, or between a timer's due time and its
// step, neither loses nor repeats one.
func TestKillOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	const n = 300
	k := newKillWorld(t, "ko", n)
	bin, db, operatorKey, flags, srv, fleet, devices := k.bin, k.db, k.operatorKey, k.flags, k.srv, k.fleet, k.devices
	ctx := t.Context()

	// Three low readings per device, the same samples and message IDs
	// each time they are sent, as a vendor's cloud retries them.
	start := time.Now().UTC().Truncate(time.Second)
	ink := fleet.Slots[0].Instance
	reading := func(d, i int) []byte {
		return bench.AppendReport(nil, devices[d], ink, fmt.Sprintf("ko-%d-%d", d, i), 3, start.Add(time.Duration(i+1)*time.Second))
	}
	client := &http.Client{Timeout: 10 * time.Second}
	conn := openDB(t, db)
	releasedNow := func() int {
		var r int
		if err := conn.QueryRow(`SELECT count(*) FROM orders WHERE status != 'PENDING'`).Scan(&r); err != nil {
			t.Error(err)
		}
		return r
	}
	// sendAll sends every reading to url; with stopAt, it kills the server
	// once stopAt readings were acknowledged and the timer released some
	// orders, so that both are under way at the kill.
	sendAll := func(url string, stopAt int) (acked int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		next := 0
		for range 16 {
			wg.Go(func() {
				// A device's readings go one after the other, in order,
				// as a device samples them.
				for {
					mu.Lock()
					d := next
					next++
					mu.Unlock()
					if d >= n {
						return
					}
					for i := range 3 {
						if err := bench.Post(ctx, client, url, devices[d].Token, reading(d, i)); err != nil {
							return
						}
						mu.Lock()
						acked++
						mu.Unlock()
					}
				}
			})
		}
		if stopAt > 0 {
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				mu.Lock()
				a := acked
				mu.Unlock()
				if a >= stopAt && releasedNow() > 0 {
					break
				}
			}
			srv.cmd.Process.Kill()
			srv.cmd.Wait()
		}
		wg.Wait()
		return acked
	}
	before := sendAll(srv.url, 3*n/2)
	if before == 0 {
		t.Fatal("no reading was acknowledged before the kill")
	}

	var atKill, releasedAtKill int
	if err := conn.QueryRow(`SELECT count(*), coalesce(sum(status != 'PENDING'), 0) FROM orders`).Scan(&atKill, &releasedAtKill); err != nil {
		t.Fatal(err)
	}

	again := startChild(t, bin, db, operatorKey, flags...)
	if after := sendAll(again.url, 0); after != 3*n {
		t.Fatalf("after the restart %d of %d readings were acknowledged", after, 3*n)
	}
	// The timer releases what is pending, including what was due while
	// the server was down.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var pending int
		if err := conn.QueryRow(`SELECT count(*) FROM orders WHERE status = 'PENDING'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d orders still pending 30 s after the restart", pending)
		}
	}
	var orders, slots, placed, released, badSteps int
	q := func(query string, dest *int) {
		t.Helper()
		if err := conn.QueryRow(query).Scan(dest); err != nil {
			t.Fatal(err)
		}
	}
	q(`SELECT count(*) FROM orders`, &orders)
	q(`SELECT count(DISTINCT slot) FROM orders`, &slots)
	q(`SELECT count(*) FROM feed WHERE type = 'ORDER_PLACED'`, &placed)
	q(`SELECT count(*) FROM order_steps WHERE status = 'RELEASED'`, &released)
	// Every order: placed once, released once, shipped once (a test order).
	q(`SELECT count(*) FROM (SELECT order_id FROM order_steps GROUP BY order_id
		HAVING count(*) != 3 OR sum(status = 'PENDING') != 1 OR sum(status = 'RELEASED') != 1 OR sum(status = 'SHIPPED') != 1)`, &badSteps)
	t.Logf("%d readings acknowledged before SIGKILL (%d orders, %d of them released); after the restart and a resend of all %d: %d orders for %d slots, %d ORDER_PLACED notices, %d releases",
		before, atKill, releasedAtKill, 3*n, orders, slots, placed, released)
	if orders != n || slots != n || placed != n || released != n || badSteps != 0 {
		t.Errorf("want %d orders, one per slot, each placed and released once; %d orders have other steps", n, badSteps)
	}
}

// killWorld is a server process on a file of its own, with the bench
// command's vendor and n seeded devices on smart reorder, and order
// windows of a second: what the kill tests start from.
type killWorld struct {
	bin, db, operatorKey string
	flags                []string
	srv                  *server
	fleet                bench.Fleet
	devices              []bench.Device
}

func newKillWorld(t *testing.T, prefix string, n int) killWorld {
	t.Helper()
	dir := t.TempDir()
	k := killWorld{bin: buildChild(t, dir), db: filepath.Join(dir, prefix+".db"), operatorKey: replenish.NewSecret("rk_op_"),
		// Short windows: orders are released within a second of being
		// placed. Claims of the outbox run out after 2 s: a restart resends what
		// the killed process had claimed without waiting long.
		flags: []string{"--cancel-window", "1s", "--order-tick", "50ms", "--test-delivery-after", "1h", "--claim-lease", "2s"}}
	k.srv = startChild(t, k.bin, k.db, k.operatorKey, k.flags...)
	var err error
	if k.fleet, err = benchFleet(t.Context(), k.srv.url, k.operatorKey); err != nil {
		t.Fatal(err)
	}
	if k.devices, err = bench.SeedDevices(t.Context(), k.db, prefix, k.fleet, n, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := autoReorder(t.Context(), k.db); err != nil {
		t.Fatal(err)
	}
	return k
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sqldb.OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
