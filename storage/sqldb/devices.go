package sqldb

import (
	"context"
	"database/sql"
	"time"

	"replenish"
)

// CONNECT_KIT devices.

const deviceColumns = `device_id, vendor_code, model_id, serial_number, COALESCE(customer_id, ''),
	created_at, claimed_at, revoked_at, last_seen_at, connectivity`

func scanDevice(s interface{ Scan(...any) error }, extra ...any) (replenish.Device, error) {
	var d replenish.Device
	var created int64
	var claimed, revoked, seen sql.NullInt64
	dest := append([]any{&d.DeviceID, &d.VendorCode, &d.ModelID, &d.SerialNumber, &d.CustomerID,
		&created, &claimed, &revoked, &seen, &d.Connectivity}, extra...)
	if err := s.Scan(dest...); err != nil {
		return d, err
	}
	d.CreatedAt = fromMicrosInt(created)
	d.ClaimedAt, d.RevokedAt, d.LastSeenAt = fromMicros(claimed), fromMicros(revoked), fromMicros(seen)
	return d, nil
}

func (t *tx) InsertDevice(ctx context.Context, d replenish.Device, passwordHash, claimHash []byte) error {
	_, err := t.exec(ctx, "device "+d.SerialNumber+" of model "+d.ModelID, `INSERT INTO devices
		(device_id, vendor_code, model_id, serial_number, password_hash, claim_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		d.DeviceID, d.VendorCode, d.ModelID, d.SerialNumber, passwordHash, claimHash, micros(d.CreatedAt))
	return err
}

func (t *tx) Device(ctx context.Context, deviceID string) (replenish.Device, []byte, error) {
	var hash []byte
	d, err := scanDevice(t.tx.QueryRowContext(ctx, `SELECT `+deviceColumns+`, password_hash
		FROM devices WHERE device_id = ?`, deviceID), &hash)
	if err != nil {
		return d, nil, notFound(err, "device "+deviceID)
	}
	return d, hash, nil
}

func (t *tx) Devices(ctx context.Context, vendorCode, modelID string) ([]replenish.Device, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices
		WHERE vendor_code = ? AND model_id = ? ORDER BY serial_number`, vendorCode, modelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []replenish.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (t *tx) ClaimDevice(ctx context.Context, claimHash []byte, customerID string, now time.Time) (replenish.Device, error) {
	d, err := scanDevice(t.tx.QueryRowContext(ctx, `UPDATE devices SET customer_id = ?, claimed_at = ?, claim_hash = NULL
		WHERE claim_hash = ? AND customer_id IS NULL AND revoked_at IS NULL
		RETURNING `+deviceColumns, customerID, micros(now), claimHash))
	if err != nil {
		return d, notFound(err, "claim code")
	}
	return d, nil
}

func (t *tx) SetClaimCode(ctx context.Context, deviceID string, claimHash []byte) error {
	res, err := t.exec(ctx, "claim code", `UPDATE devices SET claim_hash = ?
		WHERE device_id = ? AND revoked_at IS NULL`, claimHash, deviceID)
	return mustAffect(res, err, "device "+deviceID)
}

func (t *tx) ReleaseDevice(ctx context.Context, deviceID string) error {
	res, err := t.exec(ctx, "release", `UPDATE devices SET customer_id = NULL, claimed_at = NULL
		WHERE device_id = ? AND customer_id IS NOT NULL`, deviceID)
	return mustAffect(res, err, "claimed device "+deviceID)
}

func (t *tx) RevokeDevice(ctx context.Context, deviceID string, now time.Time) error {
	res, err := t.exec(ctx, "revoke", `UPDATE devices SET revoked_at = ?, claim_hash = NULL
		WHERE device_id = ? AND revoked_at IS NULL`, micros(now), deviceID)
	return mustAffect(res, err, "device "+deviceID)
}

func (t *tx) SetDeviceSeen(ctx context.Context, deviceID, connectivity string, at time.Time) error {
	res, err := t.exec(ctx, "device seen", `UPDATE devices
		SET last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < ? THEN ? ELSE last_seen_at END,
			connectivity = CASE WHEN ? = '' THEN connectivity ELSE ? END
		WHERE device_id = ?`, micros(at), micros(at), connectivity, connectivity, deviceID)
	return mustAffect(res, err, "device "+deviceID)
}
