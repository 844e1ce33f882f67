package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"replenish"
	"replenish/storage"
)

// A slot's history: what its tables hold about it, as one list.

func (t *tx) InsertHouseholdChange(ctx context.Context, c storage.HouseholdChange) error {
	_, err := t.exec(ctx, "household inventory change", `INSERT INTO household_changes
			(slot, quantity, delta, source, order_id, reason, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Slot, c.Quantity, c.Delta, c.Source, c.OrderID, c.Reason, micros(c.At))
	return err
}

func (t *tx) InsertSlotChange(ctx context.Context, c storage.SlotChange) error {
	_, err := t.exec(ctx, "slot change", `INSERT INTO slot_changes (slot, kind, message, actor, changed_at)
		VALUES (?, ?, ?, ?, ?)`, c.Slot, c.Kind, c.Message, c.Actor, micros(c.At))
	return err
}

// slotHistory gathers every kind of entry in the same columns: type, at,
// seq (which orders entries of one time and type), amount, delta, order,
// status, actor, message.
const slotHistory = `SELECT * FROM (
	SELECT CASE kind WHEN 'USAGE' THEN 'CONSUMPTION' WHEN 'REPLACED' THEN 'REPLACEMENT' ELSE 'READING' END AS type,
		sample_at AS at, 0 AS seq, amount, used AS delta, '' AS order_id, '' AS status, '' AS actor, '' AS message
		FROM readings WHERE slot = :slot
	UNION ALL
	SELECT 'HOUSEHOLD', changed_at, id, quantity, delta, order_id, '', source, reason
		FROM household_changes WHERE slot = :slot
	UNION ALL
	SELECT 'ORDER', st.at, st.id, NULL, NULL, st.order_id, st.status, st.actor, st.reason
		FROM order_steps st JOIN orders o ON o.order_id = st.order_id WHERE o.slot = :slot
	UNION ALL
	SELECT 'NOTIFICATION', created_at, id, NULL, NULL, order_id, type, '', message
		FROM feed WHERE customer_id = :customer AND endpoint_id = :endpoint AND slot_id = :slotId
	UNION ALL
	SELECT 'CHANGE', changed_at, id, NULL, NULL, '', kind, actor, message
		FROM slot_changes WHERE slot = :slot
) AS h WHERE at >= :from AND at < :to
	AND (:cursor = 0 OR at < :at OR (at = :at AND (type > :type OR (type = :type AND seq < :seq))))
ORDER BY at DESC, type, seq DESC LIMIT :limit`

func (t *tx) SlotHistory(ctx context.Context, sl replenish.EndpointSlot, f storage.HistoryFilter) ([]replenish.HistoryEntry, error) {
	to := int64(1<<63 - 1)
	if !f.To.IsZero() {
		to = f.To.UnixMicro()
	}
	var from int64
	if !f.From.IsZero() {
		from = f.From.UnixMicro()
	}
	cursor, at, typ, seq := 0, int64(0), "", int64(0)
	if c := f.After; c != nil {
		cursor, at, typ, seq = 1, c.At.UnixMicro(), c.Type, c.Seq
	}
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = 1 << 62
	}
	rows, err := t.tx.QueryContext(ctx, slotHistory, sql.Named("slot", sl.ID), sql.Named("customer", sl.CustomerID),
		sql.Named("endpoint", sl.EndpointID), sql.Named("slotId", sl.SlotID), sql.Named("from", from), sql.Named("to", to),
		sql.Named("cursor", cursor), sql.Named("at", at), sql.Named("type", typ), sql.Named("seq", seq),
		sql.Named("limit", limit))
	if err != nil {
		return nil, fmt.Errorf("slot history: %w", err)
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (replenish.HistoryEntry, error) {
		var e replenish.HistoryEntry
		var when sql.NullInt64
		var amount, delta sql.NullFloat64
		if err := s.Scan(&e.Type, &when, &e.Seq, &amount, &delta, &e.OrderID, &e.Status, &e.Actor, &e.Message); err != nil {
			return e, err
		}
		e.At = fromMicros(when)
		if amount.Valid {
			e.Amount = &amount.Float64
		}
		if delta.Valid {
			e.Delta = &delta.Float64
		}
		return e, nil
	})
}

// DeleteReadings looks, on SQLite, at the oldest readings by rowid, which
// follows the order they were received in, so that a pass costs limit rows
// whatever the table's size, with no index on the time of receipt to slow
// every insert. PostgreSQL drops whole months (partitions.go).
func (t *tx) DeleteReadings(ctx context.Context, before time.Time, limit int) (int, error) {
	if t.tx.pg {
		return t.deleteReadingsPG(ctx, before, limit)
	}
	res, err := t.exec(ctx, "readings", `DELETE FROM readings WHERE rowid IN (
		SELECT rowid FROM (SELECT rowid, received_at FROM readings ORDER BY rowid LIMIT ?) WHERE received_at < ?)`,
		limit, before.UnixMicro())
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
