package storagetest

import (
	"context"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

// order is a pending order of the slot with key, placed at placed.
func order(id, customerID string, key int64, placed time.Time) replenish.Order {
	// Reason holds what JSON gives back: strings, float64s, bools.
	return replenish.Order{OrderID: id, CustomerID: customerID, VendorCode: vendorA, EndpointID: "dev-1",
		SlotID: slotID, ProductID: "INK-XL", Quantity: 2, PackQuantity: 300, PackUnit: "US_FLUID_OUNCE",
		Price: "39.99", Currency: "USD", Status: replenish.OrderPending, PlacedAt: placed,
		CancelBy: placed.Add(30 * time.Minute), DueAt: placed.Add(30 * time.Minute), UpdatedAt: placed,
		Reason:  map[string]any{"rule": "threshold", "amount": 120.5, "lowCount": 3.0, "forecast": false},
		SlotKey: key,
		Steps: []replenish.OrderStep{{Status: replenish.OrderPending, At: placed, Actor: replenish.ActorService,
			Reason: "low"}}}
}

func getOrder(t *testing.T, s storage.Store, id string) replenish.Order {
	t.Helper()
	var o replenish.Order
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) { o, err = tx.Order(ctx, id); return err })
	return o
}

func insertOrder(t *testing.T, s storage.Store, o replenish.Order) error {
	return tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertOrder(ctx, o) })
}

func testReadings(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	r := storage.Reading{Slot: key, Kind: storage.ReadingLevel, SampleAt: t0, Amount: 50, ReceivedAt: t0}
	// A repeated sample, in one transaction and in the next.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertReading(ctx, r), tx.InsertReading(ctx, r))
	})
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertReading(ctx, r) })
	r.SampleAt, r.Amount, r.Kind, r.Used = t1, 40, storage.ReadingUsage, 10
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertReading(ctx, r) })
	sl := getEndpoint(t, s, cust1, "dev-1").Slots[0]
	var h []replenish.HistoryEntry
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		h, err = tx.SlotHistory(ctx, sl, storage.HistoryFilter{})
		return err
	})
	fifty, forty, ten := 50.0, 40.0, 10.0
	wantEqual(t, "readings in history", h, []replenish.HistoryEntry{
		{Type: replenish.HistoryConsumption, At: t1, Amount: &forty, Delta: &ten},
		{Type: replenish.HistoryReading, At: t0, Amount: &fifty},
	})
}

func testOrders(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	o1 := order("order-1", cust1, key, t0)
	if err := insertOrder(t, s, o1); err != nil {
		t.Fatalf("InsertOrder: %v", err)
	}
	wantEqual(t, "Order", getOrder(t, s, o1.OrderID), o1)

	o2 := order("order-2", cust1, key, t1)
	o2.Test = true
	wantCode(t, insertOrder(t, s, o2), replenish.EConflict, "second open order for the slot")
	// The refused insert left no step behind.
	wantEqual(t, "Order after the refused second", getOrder(t, s, o1.OrderID), o1)

	// A step from a state the order is not in changes nothing.
	ship := replenish.OrderStep{Status: replenish.OrderShipped, At: t1, Actor: replenish.ActorOperator, Reason: "shipped"}
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.MoveOrder(ctx, o1.OrderID, []string{replenish.OrderReleased}, ship, time.Time{}, "1Z999")
	})
	wantCode(t, err, replenish.EConflict, "MoveOrder from a state the order is not in")
	wantEqual(t, "Order after a refused move", getOrder(t, s, o1.OrderID), o1)
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.MoveOrder(ctx, "no-such-order", []string{replenish.OrderPending}, ship, time.Time{}, "")
	})
	wantCode(t, err, replenish.ENotFound, "MoveOrder of an unknown order")

	cancel := replenish.OrderStep{Status: replenish.OrderCancelled, At: t1, Actor: replenish.ActorCustomer, Reason: "too soon"}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.MoveOrder(ctx, o1.OrderID, []string{replenish.OrderPending}, cancel, time.Time{}, "")
	})
	o1.Status, o1.UpdatedAt, o1.DueAt = replenish.OrderCancelled, t1, time.Time{}
	o1.Steps = append(o1.Steps, cancel)
	wantEqual(t, "Order after MoveOrder", getOrder(t, s, o1.OrderID), o1)
	if err := insertOrder(t, s, o2); err != nil {
		t.Fatalf("InsertOrder after the open one was cancelled: %v", err)
	}
	wantEqual(t, "test Order", getOrder(t, s, o2.OrderID), o2)

	// A tracking reference is kept, and kept when a later step gives none.
	release := replenish.OrderStep{Status: replenish.OrderReleased, At: t1, Actor: replenish.ActorService, Reason: "window ended"}
	ship.At = t1.Add(time.Minute)
	deliver := replenish.OrderStep{Status: replenish.OrderDelivered, At: t1.Add(time.Hour), Actor: replenish.ActorOperator, Reason: "delivered"}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.MoveOrder(ctx, o2.OrderID, []string{replenish.OrderPending}, release, t1.Add(72*time.Hour), ""),
			tx.MoveOrder(ctx, o2.OrderID, []string{replenish.OrderReleased}, ship, time.Time{}, "1Z999"),
			tx.MoveOrder(ctx, o2.OrderID, []string{replenish.OrderShipped}, deliver, time.Time{}, ""))
	})
	o2.Status, o2.UpdatedAt, o2.DueAt, o2.TrackingReference = replenish.OrderDelivered, deliver.At, time.Time{}, "1Z999"
	o2.Steps = append(o2.Steps, release, ship, deliver)
	wantEqual(t, "Order after three steps", getOrder(t, s, o2.OrderID), o2)
}

func testOrderTimers(t *testing.T, s storage.Store) {
	seed(t, s)
	k1 := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	k2 := putEndpoint(t, s, endpoint(cust2, "dev-1", "Office"))
	o1, o2 := order("order-1", cust1, k1, t0), order("order-2", cust2, k2, t0.Add(time.Minute))
	for _, o := range []replenish.Order{o1, o2} {
		if err := insertOrder(t, s, o); err != nil {
			t.Fatal(err)
		}
	}
	due := func(at time.Time) []string {
		t.Helper()
		var ids []string
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			os, err := tx.DueOrders(ctx, at, 10)
			for _, o := range os {
				ids = append(ids, o.OrderID)
			}
			return err
		})
		return ids
	}
	wantEqual(t, "due before either", due(o1.DueAt.Add(-time.Microsecond)), []string(nil))
	wantEqual(t, "due at the first", due(o1.DueAt), []string{"order-1"})
	wantEqual(t, "due later, oldest first", due(o2.DueAt.Add(time.Hour)), []string{"order-1", "order-2"})
	// A step without a timer takes the order off the list; one with a
	// timer puts it back at that time.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.MoveOrder(ctx, "order-1", []string{replenish.OrderPending}, replenish.OrderStep{
			Status: replenish.OrderReleased, At: t1, Actor: replenish.ActorService}, t1.Add(72*time.Hour), "")
	})
	wantEqual(t, "due after the release", due(o2.DueAt.Add(time.Hour)), []string{"order-2"})
	wantEqual(t, "due at the release's timer", due(t1.Add(72*time.Hour)), []string{"order-2", "order-1"})
}

func testOrderLists(t *testing.T, s storage.Store) {
	seed(t, s)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, vendor(vendorB), []byte("b"))
	})
	k1 := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	e2 := endpoint(cust1, "dev-2", "Office")
	k2 := putEndpoint(t, s, e2)
	k3 := putEndpoint(t, s, endpoint(cust2, "dev-1", "Home"))
	var all []replenish.Order
	for i, o := range []replenish.Order{order("a", cust1, k1, t0), order("b", cust1, k2, t0), order("c", cust2, k3, t1)} {
		if i == 1 {
			o.EndpointID = "dev-2"
			o.Status = replenish.OrderCancelled
		}
		if i == 2 {
			o.VendorCode = vendorB
		}
		if err := insertOrder(t, s, o); err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	list := func(f storage.OrderFilter) []string {
		t.Helper()
		var ids []string
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			os, err := tx.ListOrders(ctx, f)
			for _, o := range os {
				ids = append(ids, o.OrderID)
			}
			return err
		})
		return ids
	}
	wantEqual(t, "every order, newest first", list(storage.OrderFilter{}), []string{"c", "a", "b"})
	wantEqual(t, "a customer's", list(storage.OrderFilter{CustomerID: cust1}), []string{"a", "b"})
	wantEqual(t, "a vendor's", list(storage.OrderFilter{VendorCode: vendorB}), []string{"c"})
	wantEqual(t, "by status", list(storage.OrderFilter{CustomerID: cust1, Status: replenish.OrderCancelled}), []string{"b"})
	wantEqual(t, "by endpoint", list(storage.OrderFilter{CustomerID: cust1, EndpointID: "dev-1"}), []string{"a"})
	wantEqual(t, "by slot", list(storage.OrderFilter{CustomerID: cust1, SlotID: slotID}), []string{"a", "b"})
	wantEqual(t, "by another slot", list(storage.OrderFilter{CustomerID: cust1, SlotID: "other"}), []string(nil))
	wantEqual(t, "a page", list(storage.OrderFilter{Limit: 2}), []string{"c", "a"})
	wantEqual(t, "the next page", list(storage.OrderFilter{Limit: 2,
		After: &storage.OrderCursor{PlacedAt: all[0].PlacedAt, OrderID: "a"}}), []string{"b"})
	wantEqual(t, "no customer's orders", list(storage.OrderFilter{CustomerID: "nobody"}), []string(nil))
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		n, err := tx.OrderCounts(ctx)
		wantEqual(t, "OrderCounts", n, map[string]int{replenish.OrderPending: 2, replenish.OrderCancelled: 1})
		return err
	})
}

func testFulfilments(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	if err := insertOrder(t, s, order("order-1", cust1, key, t0)); err != nil {
		t.Fatal(err)
	}
	// Queued twice (a retried release) is queued once.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertFulfilment(ctx, "order-1", t0), tx.InsertFulfilment(ctx, "order-1", t1))
	})
	claim := func(at, until time.Time) []storage.Fulfilment {
		t.Helper()
		var fs []storage.Fulfilment
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			fs, err = tx.ClaimFulfilments(ctx, at, until, 10)
			return err
		})
		return fs
	}
	// Claimed until the time it is claimed at, a request stays due.
	due := func(at time.Time) []storage.Fulfilment { return claim(at, at) }
	f := storage.Fulfilment{OrderID: "order-1", NextAt: t0, CreatedAt: t0}
	wantEqual(t, "queued", due(t0), []storage.Fulfilment{f})
	// A claim holds until its lease runs out.
	lease := t0.Add(time.Minute)
	wantEqual(t, "claimed", claim(t0, lease), []storage.Fulfilment{{OrderID: "order-1", NextAt: lease, CreatedAt: t0}})
	wantEqual(t, "claimed within the lease", claim(t0.Add(time.Second), lease), []storage.Fulfilment{})
	wantEqual(t, "claimed once the lease ran out", len(claim(lease, lease)), 1)
	f.Attempts, f.NextAt, f.LastError = 1, t1, "503"
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetFulfilment(ctx, f) })
	wantEqual(t, "due before the retry", due(t0.Add(time.Minute)), []storage.Fulfilment{})
	wantEqual(t, "due at the retry", due(t1), []storage.Fulfilment{f})
	f.Attempts, f.NextAt, f.LastError, f.SentAt = 2, time.Time{}, "", t1
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetFulfilment(ctx, f) })
	wantEqual(t, "due once sent", due(t1.Add(24*time.Hour)), []storage.Fulfilment{})
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetFulfilment(ctx, storage.Fulfilment{OrderID: "no-such"})
	})
	wantCode(t, err, replenish.ENotFound, "SetFulfilment of an order never queued")
}

func testSlotHistory(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	other := putEndpoint(t, s, endpoint(cust2, "dev-1", "Office"))
	sl := getEndpoint(t, s, cust1, "dev-1").Slots[0]
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	o := order("order-1", cust1, key, at(2))
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(
			tx.InsertReading(ctx, storage.Reading{Slot: key, Kind: storage.ReadingLevel, SampleAt: at(1), Amount: 10, ReceivedAt: at(1)}),
			tx.InsertReading(ctx, storage.Reading{Slot: other, Kind: storage.ReadingLevel, SampleAt: at(1), Amount: 99, ReceivedAt: at(1)}),
			tx.InsertOrder(ctx, o),
			tx.InsertFeed(ctx, replenish.FeedEntry{CustomerID: cust1, Type: replenish.FeedOrderPlaced, EndpointID: "dev-1",
				SlotID: slotID, OrderID: "order-1", Message: "ordered", CreatedAt: at(2)}),
			tx.InsertFeed(ctx, replenish.FeedEntry{CustomerID: cust2, Type: replenish.FeedLowSupply, EndpointID: "dev-1",
				SlotID: slotID, Message: "another customer's", CreatedAt: at(2)}),
			tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: key, Quantity: 3, Delta: 3,
				Source: storage.HouseholdCustomer, Reason: "bought", At: at(3)}),
			tx.InsertSlotChange(ctx, storage.SlotChange{Slot: key, Kind: storage.ChangeSubscription, Message: "chose AUTO",
				Actor: replenish.ActorCustomer, At: at(4)}),
		)
	})
	ten, three := 10.0, 3.0
	all := []replenish.HistoryEntry{
		{Type: replenish.HistoryChange, At: at(4), Status: storage.ChangeSubscription, Actor: replenish.ActorCustomer, Message: "chose AUTO"},
		{Type: replenish.HistoryHousehold, At: at(3), Amount: &three, Delta: &three, Actor: storage.HouseholdCustomer, Message: "bought"},
		{Type: replenish.HistoryNotification, At: at(2), OrderID: "order-1", Status: replenish.FeedOrderPlaced, Message: "ordered"},
		{Type: replenish.HistoryOrder, At: at(2), OrderID: "order-1", Status: replenish.OrderPending, Actor: replenish.ActorService, Message: "low"},
		{Type: replenish.HistoryReading, At: at(1), Amount: &ten},
	}
	history := func(f storage.HistoryFilter) []replenish.HistoryEntry {
		t.Helper()
		var h []replenish.HistoryEntry
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) { h, err = tx.SlotHistory(ctx, sl, f); return err })
		for i := range h {
			h[i].Seq = 0 // storage's own numbering
		}
		return h
	}
	wantEqual(t, "the whole history, newest first", history(storage.HistoryFilter{}), all)
	wantEqual(t, "from and to", history(storage.HistoryFilter{From: at(2), To: at(4)}), all[1:4])
	var h []replenish.HistoryEntry
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		h, err = tx.SlotHistory(ctx, sl, storage.HistoryFilter{Limit: 3})
		return err
	})
	if len(h) != 3 {
		t.Fatalf("a page of 3: %d entries", len(h))
	}
	last := h[2]
	got := history(storage.HistoryFilter{After: &storage.HistoryCursor{At: last.At, Type: last.Type, Seq: last.Seq}})
	wantEqual(t, "after the cursor", got, all[3:])

	// Retention: readings received before a time go, oldest first, a
	// batch at a time; the rest of the history stays.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertReading(ctx, storage.Reading{Slot: key, Kind: storage.ReadingLevel, SampleAt: at(5), Amount: 8, ReceivedAt: at(5)})
	})
	deleted := func(before time.Time, limit int) int {
		t.Helper()
		var n int
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			n, err = tx.DeleteReadings(ctx, before, limit)
			return err
		})
		return n
	}
	wantEqual(t, "deleted, a batch of 1", deleted(at(2), 1), 1)
	wantEqual(t, "deleted, the next batch", deleted(at(2), 10), 1)
	wantEqual(t, "deleted, none left that old", deleted(at(2), 10), 0)
	eight := 8.0
	wantEqual(t, "the history after retention", history(storage.HistoryFilter{}),
		append([]replenish.HistoryEntry{{Type: replenish.HistoryReading, At: at(5), Amount: &eight}}, all[:4]...))
}

func testCustomerName(t *testing.T, s storage.Store) {
	seed(t, s)
	putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetCustomerName(ctx, cust1, "dev-1", "Study printer", t1)
	})
	wantEqual(t, "the customer's name", getEndpoint(t, s, cust1, "dev-1").FriendlyName, "Study printer")
	// The vendor's next discovery does not undo it.
	putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen again"))
	wantEqual(t, "the customer's name after discovery", getEndpoint(t, s, cust1, "dev-1").FriendlyName, "Study printer")
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetCustomerName(ctx, cust1, "dev-1", "", t1) })
	wantEqual(t, "the vendor's name back", getEndpoint(t, s, cust1, "dev-1").FriendlyName, "Kitchen again")
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetCustomerName(ctx, cust2, "dev-1", "x", t1)
	})
	wantCode(t, err, replenish.ENotFound, "SetCustomerName of another customer's endpoint")
}

// testRenamedInstance: a replenishment ID is one slot of an endpoint; a
// discovery naming it under a new instance renames the sensor and keeps
// the slot, its state and its history.
func testRenamedInstance(t *testing.T, s storage.Store) {
	seed(t, s)
	e := endpoint(cust1, "dev-1", "Kitchen")
	key := putEndpoint(t, s, e)
	st := replenish.SlotState{Amount: 40, LastSampleAt: t0, Capacity: 100, LowCount: 1, Household: 2}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetSlotState(ctx, key, st) })
	for _, name := range []string{"InkSensor.K", "InkSensor.Black.v2", "InkSensor.K"} {
		e.Slots[0].Instance = name
		write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutEndpoint(ctx, e, t1) })
		got := getEndpoint(t, s, cust1, "dev-1")
		if len(got.Slots) != 1 || got.Slots[0].ID != key || got.Slots[0].Instance != name || got.Slots[0].State != st {
			t.Fatalf("after rediscovery as %s: %+v, want the one slot %d renamed, its state kept", name, got.Slots, key)
		}
	}
}
