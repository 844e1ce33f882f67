package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// The outbox, the customers' notification settings, and read feed entries.

const notificationCols = `notification_id, channel, type, vendor_code, customer_id, endpoint_id, slot_id, order_id,
	target, body, status, attempts, next_at, last_error, created_at, delivered_at`

func (t *tx) InsertNotification(ctx context.Context, n storage.Notification) error {
	_, err := t.exec(ctx, "notification", `INSERT INTO notifications (`+notificationCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.Channel, n.Type, n.VendorCode, n.CustomerID, n.EndpointID, n.SlotID, n.OrderID, n.Target, n.Body,
		n.Status, n.Attempts, micros(n.NextAt), n.LastError, micros(n.CreatedAt), micros(n.DeliveredAt))
	return err
}

func scanNotification(s interface{ Scan(...any) error }) (storage.Notification, error) {
	var n storage.Notification
	var next, created, delivered sql.NullInt64
	err := s.Scan(&n.ID, &n.Channel, &n.Type, &n.VendorCode, &n.CustomerID, &n.EndpointID, &n.SlotID, &n.OrderID,
		&n.Target, &n.Body, &n.Status, &n.Attempts, &next, &n.LastError, &created, &delivered)
	n.NextAt, n.CreatedAt, n.DeliveredAt = fromMicros(next), fromMicros(created), fromMicros(delivered)
	return n, err
}

func (t *tx) Notification(ctx context.Context, id string) (storage.Notification, error) {
	n, err := scanNotification(t.tx.QueryRowContext(ctx, `SELECT `+notificationCols+` FROM notifications
		WHERE notification_id = ?`, id))
	if err != nil {
		return n, notFound(err, "notification "+id)
	}
	return n, nil
}

func (t *tx) ClaimNotifications(ctx context.Context, now, until time.Time, limit int) ([]storage.Notification, error) {
	// seq on PostgreSQL is SQLite's rowid: the order rows were written in.
	order := "rowid"
	if t.tx.pg {
		order = "seq"
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications
		WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, `+order+` LIMIT ?`+t.skipLocked(),
		micros(now), limit)
	if err != nil {
		return nil, err
	}
	ns, err := collect(rows, scanNotification)
	if err != nil {
		return nil, err
	}
	for i := range ns {
		if _, err := t.exec(ctx, "notification", `UPDATE notifications SET next_at = ? WHERE notification_id = ?`,
			micros(until), ns[i].ID); err != nil {
			return nil, err
		}
		ns[i].NextAt = until
	}
	return ns, nil
}

func (t *tx) SetNotification(ctx context.Context, n storage.Notification) error {
	res, err := t.exec(ctx, "notification", `UPDATE notifications SET status = ?, attempts = ?, next_at = ?,
			last_error = ?, delivered_at = ?
		WHERE notification_id = ?`, n.Status, n.Attempts, micros(n.NextAt), n.LastError, micros(n.DeliveredAt), n.ID)
	return mustAffect(res, err, "notification "+n.ID)
}

func (t *tx) ListNotifications(ctx context.Context, f storage.NotificationFilter) ([]storage.Notification, error) {
	l := list{equal: [][2]string{{"vendor_code", f.VendorCode}, {"customer_id", f.CustomerID},
		{"channel", f.Channel}, {"status", f.Status}}, order: "created_at", key: "notification_id", limit: f.Limit}
	if f.Before != nil {
		l.after, l.afterKey = f.Before.CreatedAt, f.Before.ID
	}
	q, args := l.query(`SELECT ` + notificationCols + ` FROM notifications`)
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanNotification)
}

func (t *tx) NotificationSettings(ctx context.Context, customerID string) (replenish.NotificationSettings, error) {
	var s replenish.NotificationSettings
	var types string
	err := t.tx.QueryRowContext(ctx, `SELECT email, feed, webhook_url, types FROM notification_settings
		WHERE customer_id = ?`, customerID).Scan(&s.Email, &s.Feed, &s.WebhookURL, &types)
	if err == sql.ErrNoRows {
		return replenish.DefaultNotificationSettings(), nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(types), &s.Types); err != nil {
		return s, fmt.Errorf("notification settings of %s: %w", customerID, err)
	}
	return s, nil
}

func (t *tx) PutNotificationSettings(ctx context.Context, customerID string, s replenish.NotificationSettings, secret string) error {
	types, err := json.Marshal(s.Types)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "notification settings", `INSERT INTO notification_settings
			(customer_id, email, feed, webhook_url, webhook_secret, types)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email, feed = excluded.feed,
			webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret, types = excluded.types`,
		customerID, boolInt(s.Email), boolInt(s.Feed), s.WebhookURL, secret, string(types))
	return err
}

func (t *tx) WebhookSecret(ctx context.Context, customerID string) (string, error) {
	var secret string
	err := t.tx.QueryRowContext(ctx, `SELECT webhook_secret FROM notification_settings WHERE customer_id = ?`,
		customerID).Scan(&secret)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return secret, err
}

func (t *tx) MarkFeedRead(ctx context.Context, customerID string, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		_, err := t.exec(ctx, "feed", `UPDATE feed SET read_at = ? WHERE customer_id = ? AND read_at IS NULL`,
			micros(now), customerID)
		return err
	}
	args := []any{micros(now), customerID}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := t.exec(ctx, "feed", `UPDATE feed SET read_at = ? WHERE customer_id = ? AND read_at IS NULL
		AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	return err
}

func (t *tx) SilentEndpoints(ctx context.Context, before time.Time, limit int) ([]storage.SilentEndpoint, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT e.customer_id, e.endpoint_id, max(s.last_sample_at) AS newest
		FROM endpoints e JOIN endpoint_slots s ON s.endpoint = e.id
		WHERE e.deleted_at IS NULL
		GROUP BY e.id
		HAVING max(s.last_sample_at) < ?
			AND (e.silent_told_at IS NULL OR e.silent_told_at <= max(s.last_sample_at))
		ORDER BY newest LIMIT ?`, micros(before), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (storage.SilentEndpoint, error) {
		var e storage.SilentEndpoint
		var newest sql.NullInt64
		err := s.Scan(&e.CustomerID, &e.EndpointID, &newest)
		e.Newest = fromMicros(newest)
		return e, err
	})
}

func (t *tx) MarkSilentTold(ctx context.Context, customerID, endpointID string, newest, at time.Time) (bool, error) {
	res, err := t.exec(ctx, "endpoint", `UPDATE endpoints SET silent_told_at = ?
		WHERE customer_id = ? AND endpoint_id = ? AND (silent_told_at IS NULL OR silent_told_at <= ?)`,
		micros(at), customerID, endpointID, micros(newest))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) PendingNotifications(ctx context.Context) (map[string]int, error) {
	return t.counts(ctx, `SELECT channel, count(*) FROM notifications WHERE status = ? GROUP BY channel`,
		storage.NotificationPending)
}

func (t *tx) DeleteNotifications(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := t.exec(ctx, "notifications", `DELETE FROM notifications WHERE notification_id IN (
		SELECT notification_id FROM notifications WHERE status IN (?, ?, ?) AND created_at < ?
		ORDER BY created_at LIMIT ?)`,
		storage.NotificationDelivered, storage.NotificationFailed, storage.NotificationKept, micros(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
