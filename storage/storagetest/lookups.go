package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

// testWriteLookups checks that lookups made inside write transactions, as
// the gateway makes them for every event, see every change committed
// before them, and nothing of a write that failed: a store may keep what
// it looked up, but never past a change.
func testWriteLookups(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	lookup := func(what string) replenish.Endpoint {
		t.Helper()
		var e replenish.Endpoint
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			e, err = tx.Endpoint(ctx, cust1, "dev-1")
			return err
		})
		if len(e.Slots) != 1 {
			t.Fatalf("%s: %d slots, want 1", what, len(e.Slots))
		}
		return e
	}
	want := lookup("first lookup")

	// What a caller does to what it got stays its own.
	got := lookup("second lookup")
	got.FriendlyName, got.Slots[0].State.Amount = "Changed by the caller", 999
	wantEqual(t, "Endpoint after the caller changed its copy", lookup("third lookup"), want)

	// A slot's state, written and read back in later transactions, and in
	// the same one.
	state := replenish.SlotState{Amount: 750, LastSampleAt: t1, Capacity: 1000, LowCount: 1}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.SetSlotState(ctx, key, state); err != nil {
			return err
		}
		e, err := tx.Endpoint(ctx, cust1, "dev-1", instance)
		if err == nil && e.Slots[0].State != state {
			t.Errorf("state in the writing transaction: %+v, want %+v", e.Slots[0].State, state)
		}
		return err
	})
	want.Slots[0].State = state
	wantEqual(t, "Endpoint after SetSlotState", lookup("lookup after SetSlotState"), want)

	// failing runs fn in a write that then fails.
	errUndo := errors.New("undo")
	failing := func(fn txFunc) {
		t.Helper()
		err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
			if err := fn(ctx, tx); err != nil {
				return err
			}
			return errUndo
		})
		if !errors.Is(err, errUndo) {
			t.Fatalf("failing write: %v, want its own error", err)
		}
	}
	// A write that fails leaves nothing behind: neither a new state nor a
	// rename it looked up after making it.
	failing(func(ctx context.Context, tx storage.Tx) error {
		renamed := endpoint(cust1, "dev-1", "Renamed, then undone")
		if err := tx.PutEndpoint(ctx, renamed, t1); err != nil {
			return err
		}
		if err := tx.SetSlotState(ctx, key, replenish.SlotState{Amount: 1, LastSampleAt: t1.Add(time.Hour)}); err != nil {
			return err
		}
		_, err := tx.Endpoint(ctx, cust1, "dev-1")
		return err
	})
	wantEqual(t, "Endpoint after a failed write", lookup("lookup after a failed write"), want)
	failing(func(ctx context.Context, tx storage.Tx) error {
		return tx.SetSlotState(ctx, key, replenish.SlotState{Amount: 2})
	})
	wantEqual(t, "Endpoint after a failed SetSlotState", lookup("lookup after a failed SetSlotState"), want)

	// The same for a state written before the endpoint was first looked
	// up in that write.
	key2 := putEndpoint(t, s, endpoint(cust2, "dev-2", "Office"))
	failing(func(ctx context.Context, tx storage.Tx) error {
		if err := tx.SetSlotState(ctx, key2, replenish.SlotState{Amount: 3, LastSampleAt: t1}); err != nil {
			return err
		}
		_, err := tx.Endpoint(ctx, cust2, "dev-2")
		return err
	})
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		e, err := tx.Endpoint(ctx, cust2, "dev-2")
		if err == nil && e.Slots[0].State != (replenish.SlotState{}) {
			t.Errorf("state after a failed write that loaded it: %+v, want none", e.Slots[0].State)
		}
		return err
	})

	// Changes made elsewhere: the customer's choice, the request's
	// threshold (in litres, read back in millilitres), a rename.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetSubscription(ctx, key, replenish.ModeAuto, "INK-XL", "19.99")
	})
	want.Slots[0].Mode, want.Slots[0].ProductID, want.Slots[0].ChosenPrice = replenish.ModeAuto, "INK-XL", "19.99"
	wantEqual(t, "Endpoint after SetSubscription", lookup("lookup after SetSubscription"), want)
	r := assigned()
	r.Threshold = ptr(0.5)
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutRequest(ctx, r) })
	want.Slots[0].Threshold = 500
	wantEqual(t, "Endpoint after a new threshold", lookup("lookup after PutRequest"), want)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.PutEndpoint(ctx, endpoint(cust1, "dev-1", "Pantry"), t1)
	})
	want.FriendlyName = "Pantry"
	wantEqual(t, "Endpoint after a rename", lookup("lookup after PutEndpoint"), want)

	// A deleted endpoint is gone.
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteEndpoint(ctx, cust1, "dev-1", t1) })
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Endpoint(ctx, cust1, "dev-1")
		return err
	})
	wantCode(t, err, replenish.ENotFound, "Endpoint after DeleteEndpoint")

	// A token, revoked.
	access := storage.Grant{Hash: []byte("access-1"), Kind: storage.GrantAccess, VendorCode: vendorA,
		CustomerID: cust1, ExpiresAt: t1}
	grant := func() storage.Grant {
		t.Helper()
		var g storage.Grant
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			g, err = tx.Grant(ctx, access.Hash, access.Kind)
			return err
		})
		return g
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertGrant(ctx, access) })
	wantEqual(t, "Grant", grant(), access)
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.RevokeGrants(ctx, vendorA, cust1, t1) })
	access.RevokedAt = t1
	wantEqual(t, "Grant after RevokeGrants", grant(), access)
}
