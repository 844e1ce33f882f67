package web_test

import (
	"context"
	"testing"
	"time"

	"replenish"
	"replenish/notifications"
	"replenish/storage"
)

// TestKeepReadings: readings that arrived longer ago than the retention
// leave the slot's history; newer ones, and the rest of the history, stay.
func TestKeepReadings(t *testing.T) {
	w := gwLinked(t)
	for _, level := range []string{"90", "80"} {
		w.e.clock.Advance(time.Minute)
		gwAccepted(t, w.e, w.tok.AccessToken, w.black(level))
	}
	w.e.clock.Advance(10 * 24 * time.Hour)
	w.refresh(t)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("70"))

	n, err := w.e.Server.Customers.DropReadings(context.Background(), 5*24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("DropReadings = %d, %v; want the 2 readings of ten days ago", n, err)
	}
	var readings []float64
	for _, h := range w.history(t, "") {
		if h.Type == replenish.HistoryReading {
			readings = append(readings, *h.Amount)
		}
	}
	if len(readings) != 1 || readings[0] != 70 {
		t.Errorf("readings left in the history: %v, want [70]", readings)
	}
	if n, err := w.e.Server.Customers.DropReadings(context.Background(), 5*24*time.Hour); err != nil || n != 0 {
		t.Errorf("a second pass deleted %d (%v), want 0", n, err)
	}
}

// TestKeepNotifications: notifications done with (here, e-mails kept for
// the operator, as no SMTP server is set) leave the outbox once older than
// the retention; a pending one stays whatever its age, and a newer one
// stays.
func TestKeepNotifications(t *testing.T) {
	w := ordWorld(t, nil)
	w.lowEpisode(t, "6")
	// A webhook its receiver has not taken yet, as old as the rest.
	pending := storage.Notification{ID: "pending-1", Channel: storage.ChannelCustomer, Type: "LOW_SUPPLY", CustomerID: w.c.CustomerID,
		Target: "https://example.com/hook", Body: []byte(`{}`), Status: storage.NotificationPending,
		NextAt: w.e.clock.Now().Add(time.Hour), CreatedAt: w.e.clock.Now()}
	if err := w.e.Store.Write(context.Background(), func(tx storage.Tx) error { return tx.InsertNotification(context.Background(), pending) }); err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int {
		t.Helper()
		ns, _, err := w.e.Server.Notifications.List(context.Background(), replenish.Principal{Role: replenish.RoleOperator},
			notifications.Query{Limit: notifications.ListLimit})
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]int{}
		for _, n := range ns {
			by[n.Status]++
		}
		return by
	}
	old := count()
	if old["KEPT"] == 0 || old["PENDING"] == 0 {
		t.Fatalf("outbox after a low episode: %v, want kept e-mails and a pending webhook", old)
	}
	w.e.clock.Advance(10 * 24 * time.Hour)
	newer := pending
	newer.ID, newer.Status, newer.CreatedAt, newer.DeliveredAt = "newer-1", storage.NotificationDelivered, w.e.clock.Now(), w.e.clock.Now()
	if err := w.e.Store.Write(context.Background(), func(tx storage.Tx) error { return tx.InsertNotification(context.Background(), newer) }); err != nil {
		t.Fatal(err)
	}
	n, err := w.e.Server.Notifications.DropDone(context.Background(), 5*24*time.Hour)
	if err != nil || n != old["KEPT"]+old["DELIVERED"]+old["FAILED"] {
		t.Fatalf("DropDone = %d, %v; want the %v done with ten days ago", n, err, old)
	}
	left := count()
	if left["PENDING"] != old["PENDING"] || left["DELIVERED"] != 1 || left["KEPT"] != 0 {
		t.Errorf("left %v: want the pending one and the newer delivered one", left)
	}
}
