package storagetest

import (
	"context"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

// testLinkStates: a state is found by its hash whatever its condition, is
// used once, and expired ones can be dropped.
func testLinkStates(t *testing.T, s storage.Store) {
	seed(t, s)
	fresh := storage.LinkState{Hash: []byte("state-1"), CustomerID: cust1, VendorCode: vendorA,
		Verifier: "verifier-1", ExpiresAt: t1}
	old := storage.LinkState{Hash: []byte("state-2"), CustomerID: cust2, VendorCode: vendorA,
		Verifier: "verifier-2", ExpiresAt: t0}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertLinkState(ctx, fresh), tx.InsertLinkState(ctx, old))
	})
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertLinkState(ctx, fresh) })
	wantCode(t, err, replenish.EConflict, "InsertLinkState of a hash twice")

	get := func(what string, hash []byte, want storage.LinkState) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.LinkState(ctx, hash)
			wantEqual(t, what, got, want)
			return err
		})
	}
	get("LinkState", fresh.Hash, fresh)
	get("LinkState of an expired one", old.Hash, old)
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.LinkState(ctx, []byte("no-such-state"))
		return err
	})
	wantCode(t, err, replenish.ENotFound, "LinkState of an unknown hash")

	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UseLinkState(ctx, fresh.Hash, t0) })
	fresh.UsedAt = t0
	get("LinkState after UseLinkState", fresh.Hash, fresh)
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UseLinkState(ctx, fresh.Hash, t1) })
	wantCode(t, err, replenish.ENotFound, "UseLinkState a second time")
	get("LinkState after a second UseLinkState", fresh.Hash, fresh)

	// Dropping what expired before t0+1µs takes old and leaves fresh.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteLinkStates(ctx, t0.Add(time.Microsecond))
	})
	get("LinkState after DeleteLinkStates", fresh.Hash, fresh)
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.LinkState(ctx, old.Hash)
		return err
	})
	wantCode(t, err, replenish.ENotFound, "LinkState of a deleted one")
}

// testGranteeTokens: a link keeps the vendor's refresh token and the
// expiry of its access token, and forgets them when they are cleared.
func testGranteeTokens(t *testing.T, s storage.Store) {
	seed(t, s)
	l := replenish.Link{CustomerID: cust1, VendorCode: vendorA, Status: replenish.LinkLinked, UpdatedAt: t0,
		GranteeToken: "vendor-access-1", GranteeRefresh: "vendor-refresh-1", GranteeExpiresAt: t1}
	get := func(what string, want replenish.Link) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.Link(ctx, cust1, vendorA)
			wantEqual(t, what, got, want)
			return err
		})
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutLink(ctx, l) })
	get("Link with the vendor's tokens", l)
	l.GranteeToken, l.GranteeRefresh, l.GranteeExpiresAt = "vendor-access-2", "vendor-refresh-2", t1.Add(time.Hour)
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutLink(ctx, l) })
	get("Link after a refresh", l)
	l.Status, l.GranteeToken, l.GranteeRefresh, l.GranteeExpiresAt = replenish.LinkUnlinked, "", "", time.Time{}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutLink(ctx, l) })
	get("Link after unlinking", l)
}
