package sqldb

import (
	"context"
	"time"

	"replenish"
)

// Calendar feed tokens.

func (t *tx) CalendarToken(ctx context.Context, customerID string) (string, error) {
	var token string
	err := t.tx.QueryRowContext(ctx, `SELECT token FROM calendar_tokens WHERE customer_id = ?`, customerID).Scan(&token)
	if err != nil {
		return "", notFound(err, "calendar token of "+customerID)
	}
	return token, nil
}

func (t *tx) PutCalendarToken(ctx context.Context, customerID, token string, now time.Time) error {
	_, err := t.exec(ctx, "calendar token", `INSERT INTO calendar_tokens (customer_id, token, token_hash, created_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET token = excluded.token, token_hash = excluded.token_hash,
			created_at = excluded.created_at`,
		customerID, token, replenish.HashSecret(token), micros(now))
	return err
}

func (t *tx) CalendarCustomer(ctx context.Context, hash []byte) (string, error) {
	var customerID string
	err := t.tx.QueryRowContext(ctx, `SELECT customer_id FROM calendar_tokens WHERE token_hash = ?`, hash).Scan(&customerID)
	if err != nil {
		return "", notFound(err, "calendar")
	}
	return customerID, nil
}
