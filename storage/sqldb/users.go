package sqldb

import (
	"context"
	"database/sql"
	"time"

	"replenish"
)

// Console users and sessions.

const userCols = `user_id, email, role, vendor_code, customer_id, created_at`

func scanUser(s interface{ Scan(...any) error }, extra ...any) (replenish.User, error) {
	var u replenish.User
	var created sql.NullInt64
	err := s.Scan(append([]any{&u.UserID, &u.Email, &u.Role, &u.VendorCode, &u.CustomerID, &created}, extra...)...)
	u.CreatedAt = fromMicros(created)
	return u, err
}

func (t *tx) InsertUser(ctx context.Context, u replenish.User, passwordHash string) error {
	_, err := t.exec(ctx, "user "+u.Email, `INSERT INTO users (`+userCols+`, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.UserID, u.Email, u.Role, u.VendorCode, u.CustomerID, micros(u.CreatedAt), passwordHash)
	return err
}

func (t *tx) UserByEmail(ctx context.Context, email string) (replenish.User, string, error) {
	var hash string
	u, err := scanUser(t.tx.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE email = ?`, email), &hash)
	if err != nil {
		return u, "", notFound(err, "user "+email)
	}
	return u, hash, nil
}

func (t *tx) Users(ctx context.Context, vendorCode string) ([]replenish.User, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE ? = '' OR vendor_code = ? ORDER BY email`,
		vendorCode, vendorCode)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var us []replenish.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

func (t *tx) HasOperatorUser(ctx context.Context) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = ?`, replenish.RoleOperator).Scan(&n)
	return n > 0, err
}

func (t *tx) InsertSession(ctx context.Context, tokenHash []byte, userID string, now, expiresAt time.Time) error {
	_, err := t.exec(ctx, "session", `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, micros(now), micros(expiresAt))
	return err
}

func (t *tx) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (replenish.User, error) {
	u, err := scanUser(t.tx.QueryRowContext(ctx, `SELECT u.user_id, u.email, u.role, u.vendor_code, u.customer_id, u.created_at
		FROM sessions s JOIN users u ON u.user_id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, micros(now)))
	if err != nil {
		return u, notFound(err, "session")
	}
	return u, nil
}

func (t *tx) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := t.exec(ctx, "session", `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}
