package sqldb

import (
	"context"
	"database/sql"
	"time"

	"replenish/storage"
)

// Sign-ins at a vendor's authorization page.

func (t *tx) InsertLinkState(ctx context.Context, s storage.LinkState) error {
	_, err := t.exec(ctx, "link state", `INSERT INTO link_states (state_hash, customer_id, vendor_code, verifier, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.Hash, s.CustomerID, s.VendorCode, s.Verifier, micros(s.ExpiresAt))
	return err
}

func (t *tx) LinkState(ctx context.Context, hash []byte) (storage.LinkState, error) {
	s := storage.LinkState{Hash: hash}
	var expires, used sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT customer_id, vendor_code, verifier, expires_at, used_at
		FROM link_states WHERE state_hash = ?`, hash).
		Scan(&s.CustomerID, &s.VendorCode, &s.Verifier, &expires, &used)
	if err != nil {
		return s, notFound(err, "link state")
	}
	s.ExpiresAt, s.UsedAt = fromMicros(expires), fromMicros(used)
	return s, nil
}

func (t *tx) UseLinkState(ctx context.Context, hash []byte, now time.Time) error {
	res, err := t.exec(ctx, "link state", `UPDATE link_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL`,
		micros(now), hash)
	return mustAffect(res, err, "link state")
}

func (t *tx) DeleteLinkStates(ctx context.Context, expiredBefore time.Time) error {
	_, err := t.exec(ctx, "link states", `DELETE FROM link_states WHERE expires_at < ?`, micros(expiredBefore))
	return err
}
