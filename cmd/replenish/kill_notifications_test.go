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

	"replenish/bench"
	"replenish/signing"
)

// TestKillNotifications kills the server with SIGKILL while its worker
// delivers vendor webhooks to a slow receiver, restarts it, and waits for
// the outbox to drain: every notification reached the receiver, which
// keeps each notificationId once, and none was lost; on the wire some may
// have come twice (at least once), never none.
func TestKillNotifications(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	const n = 150
	k := newKillWorld(t, "kn", n)
	bin, db, operatorKey, flags, srv, fleet, devices := k.bin, k.db, k.operatorKey, k.flags, k.srv, k.fleet, k.devices
	ctx := t.Context()

	// The receiver takes 10 ms a request, so that the kill finds the
	// worker in the middle of the outbox.
	var (
		mu       sync.Mutex
		wire     int
		badSigs  int
		received = map[string]int{}
	)
	var secret string
	conn := openDB(t, db)
	if err := conn.QueryRow(`SELECT signing_secret FROM vendors WHERE vendor_code = ?`, fleet.VendorCode).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(10 * time.Millisecond)
		var b struct {
			NotificationInfo struct{ NotificationID string } `json:"notificationInfo"`
		}
		json.Unmarshal(body, &b)
		mu.Lock()
		defer mu.Unlock()
		wire++
		if signing.Verify(secret, r.Header.Get(signing.Header), body, time.Now()) != nil {
			badSigs++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		received[b.NotificationInfo.NotificationID]++
	}))
	t.Cleanup(hook.Close)
	if _, err := conn.Exec(`UPDATE vendors SET webhook_url = ? WHERE vendor_code = ?`, hook.URL, fleet.VendorCode); err != nil {
		t.Fatal(err)
	}

	// Three low readings per device: an order each, released and shipped
	// by itself (a test order): two vendor notifications each.
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now().UTC()
	for d := range n {
		for i := range 3 {
			body := bench.AppendReport(nil, devices[d], fleet.Slots[0].Instance, fmt.Sprintf("kn-%d-%d", d, i), 3,
				start.Add(time.Duration(i+1)*time.Second))
			if err := bench.Post(ctx, client, srv.url, devices[d].Token, body); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(q string) int {
		t.Helper()
		var c int
		if err := conn.QueryRow(q).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	const vendorNotes = `SELECT count(*) FROM notifications WHERE channel = 'vendor_webhook'`
	for deadline := time.Now().Add(30 * time.Second); count(vendorNotes) < 2*n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d vendor notifications queued, want %d", count(vendorNotes), 2*n)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		got := len(received)
		mu.Unlock()
		if got >= n/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d notifications arrived in 30 s", got)
		}
	}
	srv.cmd.Process.Kill()
	srv.cmd.Wait()
	mu.Lock()
	atKill := len(received)
	mu.Unlock()

	startChild(t, bin, db, operatorKey, flags...)
	const open = `SELECT count(*) FROM notifications WHERE status = 'PENDING'`
	for deadline := time.Now().Add(60 * time.Second); count(open) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications still pending a minute after the restart", count(open))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	ids, err := conn.Query(`SELECT notification_id FROM notifications WHERE channel = 'vendor_webhook'`)
	if err != nil {
		t.Fatal(err)
	}
	defer ids.Close()
	missing, twice := 0, 0
	for ids.Next() {
		var id string
		ids.Scan(&id)
		switch c := received[id]; {
		case c == 0:
			missing++
		case c > 1:
			twice++
		}
	}
	t.Logf("%d vendor notifications; %d had arrived at SIGKILL; after the restart %d requests on the wire, %d distinct, %d sent twice, %d badly signed",
		2*n, atKill, wire, len(received), twice, badSigs)
	if missing != 0 || len(received) != 2*n || badSigs != 0 {
		t.Errorf("%d notifications never arrived; the receiver kept %d, want %d", missing, len(received), 2*n)
	}
}
