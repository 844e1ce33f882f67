package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

func testNotifications(t *testing.T, s storage.Store) {
	seed(t, s)
	n := func(id, vendor string, at time.Time) storage.Notification {
		return storage.Notification{ID: id, Channel: storage.ChannelVendor, Type: "OrderPlacedNotification",
			VendorCode: vendor, CustomerID: cust1, EndpointID: "dev-1", SlotID: slotID, OrderID: "o-1",
			Target: "https://acme.example/hook", Body: []byte(`{"a":1}`), Status: storage.NotificationPending,
			NextAt: at, CreatedAt: at}
	}
	n1, n2 := n("n-1", vendorA, t0), n("n-2", vendorB, t1)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertNotification(ctx, n1), tx.InsertNotification(ctx, n2))
	})
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertNotification(ctx, n1) })
	wantCode(t, err, replenish.EConflict, "the same notification ID twice")
	// claim claims what is due at at, until until.
	claim := func(at, until time.Time) []string {
		t.Helper()
		var ids []string
		write(t, s, func(ctx context.Context, tx storage.Tx) error {
			ns, err := tx.ClaimNotifications(ctx, at, until, 10)
			for _, n := range ns {
				ids = append(ids, n.ID)
				wantEqual(t, "a claimed notification's next attempt", n.NextAt, until)
			}
			return err
		})
		return ids
	}
	// Claimed until the time it is claimed at, a notification stays due.
	due := func(at time.Time) []string { return claim(at, at) }
	wantEqual(t, "due at t0", due(t0), []string{"n-1"})
	wantEqual(t, "due at t1", due(t1), []string{"n-1", "n-2"})
	n1.Status, n1.Attempts, n1.NextAt, n1.DeliveredAt = storage.NotificationDelivered, 1, time.Time{}, t1
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetNotification(ctx, n1) })
	wantEqual(t, "due once delivered", due(t1.Add(time.Hour)), []string{"n-2"})
	// A claim holds until its lease runs out: nobody else takes it.
	later := t1.Add(2 * time.Hour)
	wantEqual(t, "claimed", claim(later, later.Add(time.Minute)), []string{"n-2"})
	wantEqual(t, "claimed again within the lease", claim(later.Add(30*time.Second), later.Add(time.Hour)), []string(nil))
	wantEqual(t, "claimed again once the lease ran out", claim(later.Add(time.Minute), later.Add(time.Minute)), []string{"n-2"})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		n, err := tx.PendingNotifications(ctx)
		wantEqual(t, "PendingNotifications", n, map[string]int{storage.ChannelVendor: 1})
		return err
	})
	var got storage.Notification
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		got, err = tx.Notification(ctx, "n-1")
		return err
	})
	wantEqual(t, "Notification", got, n1)
	list := func(f storage.NotificationFilter) []string {
		t.Helper()
		var ids []string
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			ns, err := tx.ListNotifications(ctx, f)
			for _, n := range ns {
				ids = append(ids, n.ID)
			}
			return err
		})
		return ids
	}
	wantEqual(t, "all, newest first", list(storage.NotificationFilter{}), []string{"n-2", "n-1"})
	wantEqual(t, "a vendor's", list(storage.NotificationFilter{VendorCode: vendorA}), []string{"n-1"})
	wantEqual(t, "by status", list(storage.NotificationFilter{Status: storage.NotificationPending}), []string{"n-2"})
	wantEqual(t, "a page", list(storage.NotificationFilter{Limit: 1}), []string{"n-2"})
	wantEqual(t, "after the page", list(storage.NotificationFilter{Before: &storage.NotificationCursor{CreatedAt: t1, ID: "n-2"}}), []string{"n-1"})
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetNotification(ctx, n("n-9", vendorA, t0)) })
	wantCode(t, err, replenish.ENotFound, "SetNotification of an unknown one")
}

func testNotificationSettings(t *testing.T, s storage.Store) {
	seed(t, s)
	var got replenish.NotificationSettings
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		got, err = tx.NotificationSettings(ctx, cust1)
		return err
	})
	wantEqual(t, "a new customer's settings", got, replenish.DefaultNotificationSettings())
	set := replenish.DefaultNotificationSettings()
	set.Email, set.WebhookURL, set.Types[replenish.FeedLowSupply] = false, "https://home.example/hook", false
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.PutNotificationSettings(ctx, cust1, set, "whsec_1")
	})
	var secret string
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		if got, err = tx.NotificationSettings(ctx, cust1); err != nil {
			return err
		}
		secret, err = tx.WebhookSecret(ctx, cust1)
		return err
	})
	wantEqual(t, "settings", got, set)
	wantEqual(t, "secret", secret, "whsec_1")
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		secret, err = tx.WebhookSecret(ctx, cust2)
		return err
	})
	wantEqual(t, "no secret", secret, "")
}

func testFeedRead(t *testing.T, s storage.Store) {
	seed(t, s)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		for i := range 3 {
			for _, c := range []string{cust1, cust2} {
				if err := tx.InsertFeed(ctx, replenish.FeedEntry{CustomerID: c, Type: replenish.FeedLowSupply,
					Message: "low", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	reads := func(c string) []bool {
		t.Helper()
		var out []bool
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			fs, err := tx.Feed(ctx, c, 10)
			for _, f := range fs {
				out = append(out, f.Read)
			}
			return err
		})
		return out
	}
	var oldest int64
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		fs, err := tx.Feed(ctx, cust1, 10)
		if len(fs) > 0 {
			oldest = fs[len(fs)-1].ID
		}
		return err
	})
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.MarkFeedRead(ctx, cust1, []int64{oldest}, t1)
	})
	wantEqual(t, "one read", reads(cust1), []bool{false, false, true})
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.MarkFeedRead(ctx, cust1, nil, t1) })
	wantEqual(t, "all read", reads(cust1), []bool{true, true, true})
	wantEqual(t, "another customer's untouched", reads(cust2), []bool{false, false, false})
}

func testSilentEndpoints(t *testing.T, s storage.Store) {
	seed(t, s)
	putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	putEndpoint(t, s, endpoint(cust1, "dev-2", "Office"))
	sampled := func(endpointID string, at time.Time) {
		t.Helper()
		sl := getEndpoint(t, s, cust1, endpointID).Slots[0]
		sl.State.LastSampleAt = at
		write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetSlotState(ctx, sl.ID, sl.State) })
	}
	silent := func(before time.Time) []storage.SilentEndpoint {
		t.Helper()
		var got []storage.SilentEndpoint
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			got, err = tx.SilentEndpoints(ctx, before, 10)
			return err
		})
		return got
	}
	mark := func(endpointID string, newest, at time.Time) bool {
		t.Helper()
		var marked bool
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			marked, err = tx.MarkSilentTold(ctx, cust1, endpointID, newest, at)
			return err
		})
		return marked
	}
	sampled("dev-1", t0)
	sampled("dev-2", t1)
	wantEqual(t, "silent before t0", silent(t0), []storage.SilentEndpoint{})
	wantEqual(t, "silent before t1", silent(t1), []storage.SilentEndpoint{{CustomerID: cust1, EndpointID: "dev-1", Newest: t0}})
	later := t1.Add(time.Hour)
	wantEqual(t, "silent before later, oldest first", silent(later), []storage.SilentEndpoint{
		{CustomerID: cust1, EndpointID: "dev-1", Newest: t0}, {CustomerID: cust1, EndpointID: "dev-2", Newest: t1}})
	// Told once: a second worker with the same list finds it told.
	wantEqual(t, "marked", mark("dev-1", t0, later), true)
	wantEqual(t, "marked again by another worker", mark("dev-1", t0, later.Add(time.Second)), false)
	wantEqual(t, "silent once told", silent(later), []storage.SilentEndpoint{{CustomerID: cust1, EndpointID: "dev-2", Newest: t1}})
	// Reporting again, then silent again, it is told again.
	again := later.Add(time.Hour)
	sampled("dev-1", again)
	wantEqual(t, "silent again", len(silent(again.Add(time.Hour))), 2)
	wantEqual(t, "marked after reporting again", mark("dev-1", again, again.Add(time.Hour)), true)
}

func testDeleteNotifications(t *testing.T, s storage.Store) {
	seed(t, s)
	statuses := []string{storage.NotificationDelivered, storage.NotificationFailed, storage.NotificationKept, storage.NotificationPending}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		for i, st := range statuses {
			for j, at := range []time.Time{t0, t1} {
				n := storage.Notification{ID: fmt.Sprintf("d-%d-%d", i, j), Channel: storage.ChannelEmail, Type: "LOW_SUPPLY",
					CustomerID: cust1, Target: "c1@example.com", Body: []byte(`{}`), Status: st, NextAt: at, CreatedAt: at}
				if err := tx.InsertNotification(ctx, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
	del := func(limit int) int {
		var n int
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			n, err = tx.DeleteNotifications(ctx, t1, limit)
			return err
		})
		return n
	}
	// Three done before t1, in batches; the pending one and the newer stay.
	wantEqual(t, "deleted in a batch of 2", del(2), 2)
	wantEqual(t, "deleted in the next", del(2), 1)
	wantEqual(t, "deleted once all are gone", del(2), 0)
	var left []string
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		ns, err := tx.ListNotifications(ctx, storage.NotificationFilter{Limit: 100})
		for _, n := range ns {
			left = append(left, n.ID)
		}
		return err
	})
	slices.Sort(left)
	wantEqual(t, "left", left, []string{"d-0-1", "d-1-1", "d-2-1", "d-3-0", "d-3-1"})
}
