package storagetest

import (
	"context"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

func testHomeAssistant(t *testing.T, s storage.Store) {
	seed(t, s)
	err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.HomeAssistant(ctx, cust1)
		return err
	})
	wantCode(t, err, replenish.ENotFound, "HomeAssistant of a customer who never set it")

	on := replenish.HomeAssistant{CustomerID: cust1, Enabled: true, BrokerURL: "mqtt://ha.example:1883",
		Username: "user", Password: "pass word", DiscoveryPrefix: "homeassistant",
		Status: replenish.HomeAssistantStatus{State: replenish.BridgeConnecting, Since: t0}}
	off := replenish.HomeAssistant{CustomerID: cust2, BrokerURL: "mqtts://other.example:8883", DiscoveryPrefix: "ha",
		Status: replenish.HomeAssistantStatus{State: replenish.BridgeOff, Since: t0}}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.PutHomeAssistant(ctx, on, t0), tx.PutHomeAssistant(ctx, off, t0))
	})
	get := func(c string) replenish.HomeAssistant {
		t.Helper()
		var h replenish.HomeAssistant
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			h, err = tx.HomeAssistant(ctx, c)
			return err
		})
		return h
	}
	want := on
	want.Generation, want.UpdatedAt = 1, t0
	wantEqual(t, "c1's bridge", get(cust1), want)
	bridges := func() []string {
		t.Helper()
		var ids []string
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			hs, err := tx.HomeAssistantBridges(ctx)
			for _, h := range hs {
				ids = append(ids, h.CustomerID)
			}
			return err
		})
		return ids
	}
	wantEqual(t, "bridges to run", bridges(), []string{cust1})

	// The lease: one owner at a time, until it ends or is released.
	claim := func(c, owner string, now time.Time) bool {
		t.Helper()
		var ok bool
		write(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			ok, err = tx.ClaimHomeAssistant(ctx, c, owner, now, now.Add(time.Minute))
			return err
		})
		return ok
	}
	wantEqual(t, "a claims the free lease", claim(cust1, "a", t0), true)
	wantEqual(t, "b cannot claim a's lease", claim(cust1, "b", t0.Add(30*time.Second)), false)
	wantEqual(t, "a renews its lease", claim(cust1, "a", t0.Add(50*time.Second)), true)
	wantEqual(t, "b cannot claim the renewed lease", claim(cust1, "b", t0.Add(90*time.Second)), false)
	wantEqual(t, "b claims the lease once it ended", claim(cust1, "b", t0.Add(111*time.Second)), true)
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.ReleaseHomeAssistant(ctx, cust1, "a") })
	wantEqual(t, "a's release of b's lease changes nothing", claim(cust1, "a", t0.Add(112*time.Second)), false)
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.ReleaseHomeAssistant(ctx, cust1, "b") })
	wantEqual(t, "a claims a released lease", claim(cust1, "a", t0.Add(113*time.Second)), true)
	wantEqual(t, "no lease of a customer without a bridge", claim("nobody", "a", t0), false)

	// The owner records its status and what it published; another
	// instance cannot.
	st := get(cust1)
	st.Status = replenish.HomeAssistantStatus{State: replenish.BridgeRetrying, Since: t1, LastError: "connection refused",
		NextAttemptAt: t1.Add(time.Minute)}
	st.Published = []string{"homeassistant/sensor/replenish_e1/ink_level/config", "homeassistant/button/replenish_e1/ink_order_now/config"}
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetHomeAssistantStatus(ctx, "b", st) })
	wantCode(t, err, replenish.EConflict, "SetHomeAssistantStatus by an instance without the lease")
	wantEqual(t, "status after a refused write", get(cust1).Status, on.Status)
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetHomeAssistantStatus(ctx, "a", st) })
	wantEqual(t, "status written by the owner", get(cust1), st)

	// Settings changed meanwhile: a status of the old generation is not
	// written, the published topics are.
	changed := on
	changed.Enabled, changed.Status = false, replenish.HomeAssistantStatus{State: replenish.BridgeRemoving, Since: t1}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutHomeAssistant(ctx, changed, t1) })
	h := get(cust1)
	wantEqual(t, "generation after a change", h.Generation, int64(2))
	wantEqual(t, "status after a change", h.Status, changed.Status)
	wantEqual(t, "published topics are kept by a change", h.Published, st.Published)
	stale := st
	stale.Status.State, stale.Published = replenish.BridgeConnected, nil
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetHomeAssistantStatus(ctx, "a", stale) })
	h = get(cust1)
	wantEqual(t, "a stale generation's status is not written", h.Status, changed.Status)
	wantEqual(t, "its published topics are", len(h.Published), 0)
	wantEqual(t, "a bridge being removed still runs", bridges(), []string{cust1})
	h.Status = replenish.HomeAssistantStatus{State: replenish.BridgeOff, Since: t1}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetHomeAssistantStatus(ctx, "a", h) })
	wantEqual(t, "bridges once removed", len(bridges()), 0)

	// Replenish's own broker: the account is stored with the settings,
	// found by its user name, kept by a status, and gone once cleared.
	account := func(name string) (replenish.HomeAssistant, error) {
		var h replenish.HomeAssistant
		err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			h, err = tx.HomeAssistantAccount(ctx, name)
			return err
		})
		return h, err
	}
	_, err = account("")
	wantCode(t, err, replenish.ENotFound, "HomeAssistantAccount of no name (bridges without an account)")
	emb := off
	emb.Enabled, emb.Embedded, emb.BrokerURL = true, true, ""
	emb.Account, emb.AccountHash, emb.DiscoveryPrefix = "ha_c2", replenish.HashSecret("first"), "ha_c2"
	emb.Status = replenish.HomeAssistantStatus{State: replenish.BridgeConnecting, Since: t1}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutHomeAssistant(ctx, emb, t1) })
	want = emb
	want.Generation, want.UpdatedAt = 2, t1
	wantEqual(t, "an embedded bridge", get(cust2), want)
	got, err := account("ha_c2")
	wantCode(t, err, "", "HomeAssistantAccount")
	wantEqual(t, "the bridge found by its account", got, want)
	_, err = account("ha_c1")
	wantCode(t, err, replenish.ENotFound, "HomeAssistantAccount of an account no one has")
	taken := on
	taken.Account = "ha_c2"
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutHomeAssistant(ctx, taken, t1) })
	wantCode(t, err, replenish.EConflict, "PutHomeAssistant with another customer's account")
	wantEqual(t, "c1's bridge after a refused account", get(cust1).Account, "")
	wantEqual(t, "c1's bridge after a refused account", get(cust1).Generation, int64(2))
	wantEqual(t, "claims the embedded bridge", claim(cust2, "a", t1), true)
	withStatus := get(cust2)
	withStatus.Status = replenish.HomeAssistantStatus{State: replenish.BridgeConnected, Since: t1}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetHomeAssistantStatus(ctx, "a", withStatus) })
	wantEqual(t, "the account after a status", get(cust2), withStatus)
	// A new password replaces the hash.
	emb.AccountHash = replenish.HashSecret("second")
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutHomeAssistant(ctx, emb, t1) })
	wantEqual(t, "the new password's hash", get(cust2).AccountHash, replenish.HashSecret("second"))
	// Back to a broker of their own: no account.
	own := emb
	own.Embedded, own.Account, own.AccountHash, own.BrokerURL = false, "", nil, "mqtt://ha.example:1883"
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutHomeAssistant(ctx, own, t1) })
	h = get(cust2)
	wantEqual(t, "no longer embedded", []any{h.Embedded, h.Account, h.AccountHash, h.BrokerURL},
		[]any{false, "", []byte(nil), "mqtt://ha.example:1883"})
	_, err = account("ha_c2")
	wantCode(t, err, replenish.ENotFound, "HomeAssistantAccount once cleared")
}
