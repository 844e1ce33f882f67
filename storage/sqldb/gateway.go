package sqldb

import (
	"context"
	"time"
)

// Endpoints removed or renamed, retired replenishment IDs.

func (t *tx) DeleteEndpoint(ctx context.Context, customerID, endpointID string, now time.Time) error {
	res, err := t.exec(ctx, "endpoint", `UPDATE endpoints SET deleted_at = ?, updated_at = ?
		WHERE customer_id = ? AND endpoint_id = ? AND deleted_at IS NULL`, micros(now), micros(now), customerID, endpointID)
	return mustAffect(res, err, "endpoint "+endpointID)
}

func (t *tx) SetCustomerName(ctx context.Context, customerID, endpointID, name string, now time.Time) error {
	res, err := t.exec(ctx, "endpoint", `UPDATE endpoints SET customer_name = ?, updated_at = ?
		WHERE customer_id = ? AND endpoint_id = ? AND deleted_at IS NULL`, name, micros(now), customerID, endpointID)
	return mustAffect(res, err, "endpoint "+endpointID)
}

func (t *tx) IsRetired(ctx context.Context, replenishmentID string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM retired_replenishment_ids WHERE replenishment_id = ?`,
		replenishmentID).Scan(&n)
	return n > 0, err
}
