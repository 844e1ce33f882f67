package storagetest

import (
	"context"
	"testing"

	"replenish"
	"replenish/storage"
)

func testUsers(t *testing.T, s storage.Store) {
	seed(t, s)
	op := replenish.User{UserID: "us-op", Email: "op@example.com", Role: replenish.RoleOperator, CreatedAt: t0}
	ven := replenish.User{UserID: "us-ven", Email: "ven@example.com", Role: replenish.RoleVendor, VendorCode: vendorA, CreatedAt: t1}
	hasOperator := func() bool {
		var has bool
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) { has, err = tx.HasOperatorUser(ctx); return err })
		return has
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertUser(ctx, ven, "hash-ven") })
	if hasOperator() {
		t.Error("HasOperatorUser true with only a vendor user")
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertUser(ctx, op, "hash-op") })
	if !hasOperator() {
		t.Error("HasOperatorUser false after inserting an operator user")
	}
	again := ven
	again.UserID = "us-other"
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertUser(ctx, again, "x") }),
		replenish.EConflict, "InsertUser with a taken e-mail")
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, hash, err := tx.UserByEmail(ctx, ven.Email)
		if err != nil {
			return err
		}
		wantEqual(t, "UserByEmail", got, ven)
		wantEqual(t, "password hash", hash, "hash-ven")
		_, _, err = tx.UserByEmail(ctx, "nobody@example.com")
		wantCode(t, err, replenish.ENotFound, "UserByEmail of an unknown e-mail")
		all, err := tx.Users(ctx, "")
		if err != nil {
			return err
		}
		wantEqual(t, "Users (all, by e-mail)", all, []replenish.User{op, ven})
		mine, err := tx.Users(ctx, vendorA)
		if err != nil {
			return err
		}
		wantEqual(t, "Users of "+vendorA, mine, []replenish.User{ven})
		return nil
	})
}

func testSessions(t *testing.T, s storage.Store) {
	seed(t, s)
	u := replenish.User{UserID: "us-ven", Email: "ven@example.com", Role: replenish.RoleVendor, VendorCode: vendorA, CreatedAt: t0}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertUser(ctx, u, "h"), tx.InsertSession(ctx, []byte("tok"), u.UserID, t0, t1))
	})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, err := tx.SessionUser(ctx, []byte("tok"), t0)
		if err != nil {
			return err
		}
		wantEqual(t, "SessionUser", got, u)
		_, err = tx.SessionUser(ctx, []byte("tok"), t1)
		wantCode(t, err, replenish.ENotFound, "SessionUser at its expiry")
		_, err = tx.SessionUser(ctx, []byte("other"), t0)
		wantCode(t, err, replenish.ENotFound, "SessionUser of an unknown token")
		return nil
	})
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteSession(ctx, []byte("tok")) })
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.SessionUser(ctx, []byte("tok"), t0)
		wantCode(t, err, replenish.ENotFound, "SessionUser after DeleteSession")
		return nil
	})
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteSession(ctx, []byte("tok")) })
}
