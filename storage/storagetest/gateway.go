package storagetest

import (
	"context"
	"testing"

	"replenish"
	"replenish/storage"
)

// testDeleteEndpoint: a deleted endpoint is hidden from every lookup and
// from its link's count, keeps its slot, and comes back with its state
// when discovered again.
func testDeleteEndpoint(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	putEndpoint(t, s, endpoint(cust1, "dev-2", "Office"))
	st := replenish.SlotState{Amount: 42, LastSampleAt: t0, Capacity: 100}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.SetSlotState(ctx, key, st),
			tx.PutLink(ctx, replenish.Link{CustomerID: cust1, VendorCode: vendorA, Status: replenish.LinkLinked, GranteeToken: "g", UpdatedAt: t0}))
	})
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteEndpoint(ctx, cust1, "dev-1", t1) })
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Endpoint(ctx, cust1, "dev-1")
		wantCode(t, err, replenish.ENotFound, "Endpoint of a deleted endpoint")
		es, err := tx.Endpoints(ctx, cust1)
		if err != nil {
			return err
		}
		if len(es) != 1 || es[0].EndpointID != "dev-2" {
			t.Errorf("Endpoints after the delete: %+v, want dev-2 only", es)
		}
		l, err := tx.Link(ctx, cust1, vendorA)
		wantEqual(t, "the link's endpoint count", l.Endpoints, 1)
		return err
	})
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteEndpoint(ctx, cust1, "dev-1", t1) })
	wantCode(t, err, replenish.ENotFound, "DeleteEndpoint of a deleted endpoint")
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteEndpoint(ctx, cust2, "dev-2", t1) })
	wantCode(t, err, replenish.ENotFound, "DeleteEndpoint of another customer's endpoint")

	putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen again"))
	got := getEndpoint(t, s, cust1, "dev-1")
	wantEqual(t, "the slot key after rediscovery", got.Slots[0].ID, key)
	wantEqual(t, "the state after rediscovery", got.Slots[0].State, st)
	wantEqual(t, "the name after rediscovery", got.FriendlyName, "Kitchen again")
}

func testHouseholdChanges(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: key, Quantity: 30, Delta: 30,
			Source: storage.HouseholdCustomer, Reason: "bought a box", At: t0}),
			tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: key, Quantity: 28, Delta: -2,
				Source: storage.HouseholdCustomer, Reason: "counted them", At: t1}))
	})
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: key + 1000, Quantity: 1, Reason: "no such slot", At: t1})
	})
	if err == nil {
		t.Error("InsertHouseholdChange of a slot that does not exist succeeded")
	}
}
