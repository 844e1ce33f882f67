package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/bench"
	"replenish/storage/pgtest"
	"replenish/storage/sqldb"
)

// TestTwoInstances starts two serve processes at once on one PostgreSQL
// database (they migrate it once), sends each device's low readings to
// both: the same messages to each at the same moment, and different ones
// to each at once. Every slot gets exactly one order and one of each
// notification. Then one instance is killed with SIGKILL in the middle of
// the outbox, and the other finishes its timers and its deliveries,
// taking over what the dead one had claimed once the claims run out.
func TestTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills server processes")
	}
	db := pgtest.URL(t)
	const n = 120
	ctx := t.Context()
	bin := buildChild(t, t.TempDir())
	operatorKey := replenish.NewSecret("rk_op_")
	flags := []string{"--cancel-window", "1s", "--order-tick", "50ms", "--test-delivery-after", "1h", "--claim-lease", "2s"}

	// Started at once, the two migrate the new database one after the other.
	var a, b *server
	var wg sync.WaitGroup
	for _, s := range []**server{&a, &b} {
		wg.Go(func() {
			srv, err := startServer(bin, db, operatorKey, func(line string) { t.Log(line) }, flags...)
			if err != nil {
				t.Error(err)
				return
			}
			*s = srv
		})
	}
	wg.Wait()
	for _, s := range []*server{a, b} {
		if s != nil {
			t.Cleanup(s.kill)
		}
	}
	if a == nil || b == nil {
		t.FailNow()
	}

	fleet, devices, conn, err := seedChild(ctx, a.url, operatorKey, db, "ti", n)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var c int
		if err := conn.QueryRow(sqldb.Bind(db, query), args...).Scan(&c); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return c
	}
	if m := count(`SELECT count(*) FROM schema_migrations`); m == 0 {
		t.Fatal("no migration recorded")
	}

	// The vendor's webhook takes 5 ms a request, so that the kill finds
	// the outbox half sent.
	var (
		mu       sync.Mutex
		received = map[string]int{}
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(5 * time.Millisecond)
		var note struct {
			NotificationInfo struct{ NotificationID string } `json:"notificationInfo"`
		}
		json.Unmarshal(body, &note)
		mu.Lock()
		received[note.NotificationInfo.NotificationID]++
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	if _, err := conn.Exec(sqldb.Bind(db, `UPDATE vendors SET webhook_url = ? WHERE vendor_code = ?`), hook.URL, fleet.VendorCode); err != nil {
		t.Fatal(err)
	}

	// Per device: three low readings, each sent to both instances at the
	// same moment (a vendor cloud retrying on another instance); then two
	// more, different, one to each instance at once.
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now().UTC().Truncate(time.Second)
	ink := fleet.Slots[0].Instance
	reading := func(d, i int) []byte {
		return bench.AppendReport(nil, devices[d], ink, fmt.Sprintf("ti-%d-%d", d, i), 3, start.Add(time.Duration(i+1)*time.Second))
	}
	post := func(url string, d, i int) {
		if err := bench.Post(ctx, client, url, devices[d].Token, reading(d, i)); err != nil {
			t.Errorf("device %d reading %d to %s: %v", d, i, url, err)
		}
	}
	next := make(chan int)
	var senders sync.WaitGroup
	for range 12 {
		senders.Go(func() {
			for d := range next {
				for i := range 3 {
					var both sync.WaitGroup
					both.Go(func() { post(a.url, d, i) })
					both.Go(func() { post(b.url, d, i) })
					both.Wait()
				}
				var both sync.WaitGroup
				both.Go(func() { post(a.url, d, 3) })
				both.Go(func() { post(b.url, d, 4) })
				both.Wait()
			}
		})
	}
	for d := range n {
		next <- d
	}
	close(next)
	senders.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Kill one instance once the outbox is under way.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		got := len(received)
		mu.Unlock()
		if got >= n/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d notifications arrived in 30 s", got)
		}
	}
	a.kill()
	mu.Lock()
	atKill := len(received)
	mu.Unlock()

	// The other finishes: every order released and shipped (test orders
	// ship by themselves), every notification delivered.
	const unfinished = `SELECT (SELECT count(*) FROM orders WHERE status != 'SHIPPED') +
		(SELECT count(*) FROM notifications WHERE status = 'PENDING')`
	for deadline := time.Now().Add(60 * time.Second); count(unfinished) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the kill: %d orders not shipped or notifications pending", count(unfinished))
		}
	}

	events := count(`SELECT count(*) FROM events WHERE vendor_code = ?`, fleet.VendorCode)
	orders := count(`SELECT count(*) FROM orders`)
	slots := count(`SELECT count(DISTINCT slot) FROM orders`)
	placed := count(`SELECT count(*) FROM feed WHERE type = 'ORDER_PLACED'`)
	badSteps := count(`SELECT count(*) FROM (SELECT order_id FROM order_steps GROUP BY order_id
		HAVING count(*) != 3 OR sum(CASE WHEN status = 'PENDING' THEN 1 ELSE 0 END) != 1
			OR sum(CASE WHEN status = 'RELEASED' THEN 1 ELSE 0 END) != 1
			OR sum(CASE WHEN status = 'SHIPPED' THEN 1 ELSE 0 END) != 1) AS bad`)
	notes := count(`SELECT count(*) FROM notifications WHERE channel = 'vendor_webhook'`)
	perOrder := count(`SELECT count(*) FROM (SELECT order_id, type FROM notifications WHERE channel = 'vendor_webhook'
		GROUP BY order_id, type HAVING count(*) != 1) AS twice`)
	missing := 0
	rows, err := conn.Query(`SELECT notification_id FROM notifications WHERE channel = 'vendor_webhook'`)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	wire := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if received[id] == 0 {
			missing++
		}
	}
	rows.Close()
	for _, c := range received {
		wire += c
	}
	t.Logf("%d events kept of %d sent (%d distinct); %d orders for %d slots, %d ORDER_PLACED; %d vendor notifications, %d had arrived at the kill, %d requests on the wire",
		events, 8*n, 5*n, orders, slots, placed, notes, atKill, wire)
	if events != 5*n {
		t.Errorf("%d events kept, want %d: each message once", events, 5*n)
	}
	if orders != n || slots != n || placed != n || badSteps != 0 {
		t.Errorf("want %d orders, one per slot, each placed, released and shipped once (%d are not), and %d ORDER_PLACED",
			n, badSteps, n)
	}
	if notes != 2*n || perOrder != 0 || missing != 0 {
		t.Errorf("%d vendor notifications (want %d: placed and shipped per order), %d doubled, %d never delivered",
			notes, 2*n, perOrder, missing)
	}
}
