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

// Orders, their steps and the fulfilment queue.

const orderCols = `order_id, customer_id, vendor_code, slot, endpoint_id, slot_id, product_id, quantity,
	pack_quantity, pack_unit, price, currency, test, status, placed_at, cancel_by, reason, tracking, updated_at, due_at`

func (t *tx) InsertOrder(ctx context.Context, o replenish.Order) error {
	reason, err := json.Marshal(o.Reason)
	if err != nil {
		return fmt.Errorf("order reason: %w", err)
	}
	updated := o.UpdatedAt
	if updated.IsZero() {
		updated = o.PlacedAt
	}
	if _, err = t.exec(ctx, "open order for this slot", `INSERT INTO orders (`+orderCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.OrderID, o.CustomerID, o.VendorCode, o.SlotKey, o.EndpointID, o.SlotID, o.ProductID, o.Quantity,
		o.PackQuantity, o.PackUnit, o.Price, o.Currency, boolInt(o.Test), o.Status, micros(o.PlacedAt),
		micros(o.CancelBy), string(reason), o.TrackingReference, micros(updated), micros(o.DueAt)); err != nil {
		return err
	}
	for _, s := range o.Steps {
		if err := t.insertStep(ctx, o.OrderID, s); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) insertStep(ctx context.Context, orderID string, s replenish.OrderStep) error {
	_, err := t.exec(ctx, "order step", `INSERT INTO order_steps (order_id, status, at, actor, reason)
		VALUES (?, ?, ?, ?, ?)`, orderID, s.Status, micros(s.At), s.Actor, s.Reason)
	return err
}

func scanOrder(s interface{ Scan(...any) error }) (replenish.Order, error) {
	var o replenish.Order
	var test int
	var placed, cancelBy, updated, due sql.NullInt64
	var reason string
	if err := s.Scan(&o.OrderID, &o.CustomerID, &o.VendorCode, &o.SlotKey, &o.EndpointID, &o.SlotID, &o.ProductID,
		&o.Quantity, &o.PackQuantity, &o.PackUnit, &o.Price, &o.Currency, &test, &o.Status, &placed, &cancelBy,
		&reason, &o.TrackingReference, &updated, &due); err != nil {
		return o, err
	}
	o.Test = test == 1
	o.PlacedAt, o.CancelBy, o.UpdatedAt, o.DueAt = fromMicros(placed), fromMicros(cancelBy), fromMicros(updated), fromMicros(due)
	if err := json.Unmarshal([]byte(reason), &o.Reason); err != nil {
		return o, fmt.Errorf("order %s reason: %w", o.OrderID, err)
	}
	return o, nil
}

// withSteps loads the steps of orders, in one query.
func (t *tx) withSteps(ctx context.Context, os []replenish.Order) ([]replenish.Order, error) {
	if len(os) == 0 {
		return os, nil
	}
	at := make(map[string]int, len(os))
	args := make([]any, len(os))
	for i, o := range os {
		at[o.OrderID] = i
		args[i] = o.OrderID
		os[i].Steps = []replenish.OrderStep{}
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT order_id, status, at, actor, reason FROM order_steps
		WHERE order_id IN (?`+strings.Repeat(", ?", len(os)-1)+`) ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var s replenish.OrderStep
		var when sql.NullInt64
		if err := rows.Scan(&id, &s.Status, &when, &s.Actor, &s.Reason); err != nil {
			return nil, err
		}
		s.At = fromMicros(when)
		os[at[id]].Steps = append(os[at[id]].Steps, s)
	}
	return os, rows.Err()
}

func (t *tx) Order(ctx context.Context, orderID string) (replenish.Order, error) {
	o, err := scanOrder(t.tx.QueryRowContext(ctx, `SELECT `+orderCols+` FROM orders WHERE order_id = ?`, orderID))
	if err != nil {
		return o, notFound(err, "order "+orderID)
	}
	os, err := t.withSteps(ctx, []replenish.Order{o})
	if err != nil {
		return o, err
	}
	return os[0], nil
}

func (t *tx) ListOrders(ctx context.Context, f storage.OrderFilter) ([]replenish.Order, error) {
	l := list{equal: [][2]string{{"customer_id", f.CustomerID}, {"vendor_code", f.VendorCode},
		{"endpoint_id", f.EndpointID}, {"slot_id", f.SlotID}, {"status", f.Status}}, order: "placed_at", key: "order_id", limit: f.Limit}
	if f.After != nil {
		l.after, l.afterKey = f.After.PlacedAt, f.After.OrderID
	}
	q, args := l.query(`SELECT ` + orderCols + ` FROM orders`)
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	os, err := collect(rows, scanOrder)
	if err != nil {
		return nil, err
	}
	return t.withSteps(ctx, os)
}

// list is a page of a list, newest first: rows whose columns equal the
// non-empty values of equal, ordered by a time column and a key, after a
// position in that order, at most limit (0: all).
type list struct {
	equal      [][2]string
	order, key string
	after      time.Time // zero: from the start
	afterKey   string
	limit      int
}

func (l list) query(selectFrom string) (string, []any) {
	var where []string
	var args []any
	for _, c := range l.equal {
		if c[1] != "" {
			where = append(where, c[0]+" = ?")
			args = append(args, c[1])
		}
	}
	if !l.after.IsZero() {
		where = append(where, fmt.Sprintf("(%[1]s < ? OR (%[1]s = ? AND %[2]s > ?))", l.order, l.key))
		args = append(args, micros(l.after), micros(l.after), l.afterKey)
	}
	q := selectFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + l.order + " DESC, " + l.key
	if l.limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", l.limit)
	}
	return q, args
}

func (t *tx) MoveOrder(ctx context.Context, orderID string, from []string, step replenish.OrderStep, due time.Time, tracking string) error {
	args := []any{step.Status, micros(step.At), micros(due), tracking, tracking, orderID}
	for _, s := range from {
		args = append(args, s)
	}
	res, err := t.exec(ctx, "order", `UPDATE orders SET status = ?, updated_at = ?, due_at = ?,
			tracking = CASE WHEN ? = '' THEN tracking ELSE ? END
		WHERE order_id = ? AND status IN (?`+strings.Repeat(", ?", len(from)-1)+`)`, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		if err != nil {
			return err
		}
		return t.insertStep(ctx, orderID, step)
	}
	var status string
	if err := t.tx.QueryRowContext(ctx, `SELECT status FROM orders WHERE order_id = ?`, orderID).Scan(&status); err != nil {
		return notFound(err, "order "+orderID)
	}
	return replenish.Errorf(replenish.EConflict, "order %s is %s: it cannot become %s", orderID, status, step.Status)
}

func (t *tx) DueOrders(ctx context.Context, now time.Time, limit int) ([]replenish.Order, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+orderCols+` FROM orders
		WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, order_id LIMIT ?`+t.skipLocked(), micros(now), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanOrder)
}

func (t *tx) InsertFulfilment(ctx context.Context, orderID string, now time.Time) error {
	_, err := t.exec(ctx, "fulfilment", `INSERT INTO fulfilments (order_id, next_at, created_at) VALUES (?, ?, ?)
		ON CONFLICT (order_id) DO NOTHING`, orderID, micros(now), micros(now))
	return err
}

func (t *tx) ClaimFulfilments(ctx context.Context, now, until time.Time, limit int) ([]storage.Fulfilment, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT order_id, attempts, next_at, last_error, sent_at, created_at
		FROM fulfilments WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY next_at, order_id LIMIT ?`+t.skipLocked(),
		micros(now), limit)
	if err != nil {
		return nil, err
	}
	fs, err := collect(rows, func(s interface{ Scan(...any) error }) (storage.Fulfilment, error) {
		var f storage.Fulfilment
		var next, sent, created sql.NullInt64
		err := s.Scan(&f.OrderID, &f.Attempts, &next, &f.LastError, &sent, &created)
		f.NextAt, f.SentAt, f.CreatedAt = fromMicros(next), fromMicros(sent), fromMicros(created)
		return f, err
	})
	if err != nil {
		return nil, err
	}
	for i := range fs {
		if _, err := t.exec(ctx, "fulfilment", `UPDATE fulfilments SET next_at = ? WHERE order_id = ?`,
			micros(until), fs[i].OrderID); err != nil {
			return nil, err
		}
		fs[i].NextAt = until
	}
	return fs, nil
}

func (t *tx) SetFulfilment(ctx context.Context, f storage.Fulfilment) error {
	res, err := t.exec(ctx, "fulfilment", `UPDATE fulfilments SET attempts = ?, next_at = ?, last_error = ?, sent_at = ?
		WHERE order_id = ?`, f.Attempts, micros(f.NextAt), f.LastError, micros(f.SentAt), f.OrderID)
	return mustAffect(res, err, "fulfilment of order "+f.OrderID)
}

func (t *tx) OrderCounts(ctx context.Context) (map[string]int, error) {
	return t.counts(ctx, `SELECT status, count(*) FROM orders GROUP BY status`)
}

// counts runs query, which selects a name and a count per row, into a map.
func (t *tx) counts(ctx context.Context, query string, args ...any) (map[string]int, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}
