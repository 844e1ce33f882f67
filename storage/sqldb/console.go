package sqldb

import (
	"context"
	"database/sql"
	"encoding/hex"
	"time"

	"replenish"
)

// The console's model changes, listings, images, audit log and API keys.

// keyID names an API key by the first bytes of its hash: enough to tell
// keys apart, nothing that helps guess one.
func keyID(hash []byte) string {
	return hex.EncodeToString(hash[:min(8, len(hash))])
}

func (t *tx) UpdateModel(ctx context.Context, m replenish.Model) error {
	res, err := t.exec(ctx, "model "+m.ModelID, `UPDATE models SET name = ?, device_type = ?, certification = ?,
			certification_reason = ?
		WHERE vendor_code = ? AND model_id = ?`,
		m.Name, m.DeviceType, m.Certification, m.CertificationReason, m.VendorCode, m.ModelID)
	return mustAffect(res, err, "model "+m.ModelID)
}

func (t *tx) DeleteModel(ctx context.Context, vendorCode, modelID string) error {
	res, err := t.exec(ctx, "model "+modelID, `DELETE FROM models WHERE vendor_code = ? AND model_id = ?`, vendorCode, modelID)
	return mustAffect(res, err, "model "+modelID)
}

func (t *tx) DeleteSlot(ctx context.Context, vendorCode, modelID, slotID string) error {
	res, err := t.exec(ctx, "slot "+slotID, `DELETE FROM slots WHERE vendor_code = ? AND model_id = ? AND slot_id = ?`,
		vendorCode, modelID, slotID)
	return mustAffect(res, err, "slot "+slotID)
}

func (t *tx) DeleteRequest(ctx context.Context, requestID string, now time.Time) error {
	if _, err := t.exec(ctx, "retired replenishment ID", `INSERT INTO retired_replenishment_ids
			(replenishment_id, vendor_code, model_id, slot_id, retired_at)
		SELECT replenishment_id, vendor_code, model_id, slot_id, ? FROM replenishment_requests
		WHERE request_id = ? AND replenishment_id IS NOT NULL`, micros(now), requestID); err != nil {
		return err
	}
	res, err := t.exec(ctx, "replenishment request", `DELETE FROM replenishment_requests WHERE request_id = ?`, requestID)
	return mustAffect(res, err, "replenishment request "+requestID)
}

func (t *tx) RemoveModelMarketplace(ctx context.Context, vendorCode, modelID, marketplace string) error {
	for _, q := range []string{
		`DELETE FROM slot_products WHERE vendor_code = ? AND model_id = ? AND marketplace = ?`,
		`DELETE FROM model_images WHERE vendor_code = ? AND model_id = ? AND marketplace = ?`,
	} {
		if _, err := t.exec(ctx, "marketplace "+marketplace, q, vendorCode, modelID, marketplace); err != nil {
			return err
		}
	}
	res, err := t.exec(ctx, "marketplace "+marketplace, `DELETE FROM model_marketplaces
		WHERE vendor_code = ? AND model_id = ? AND marketplace = ?`, vendorCode, modelID, marketplace)
	return mustAffect(res, err, "marketplace "+marketplace+" of model "+modelID)
}

func (t *tx) PutListing(ctx context.Context, vendorCode, modelID, marketplace string, l replenish.Listing) error {
	res, err := t.exec(ctx, "listing", `UPDATE model_marketplaces SET status = ?, device_name = ?, reject_reason = ?
		WHERE vendor_code = ? AND model_id = ? AND marketplace = ?`,
		l.Status, l.DeviceName, l.RejectReason, vendorCode, modelID, marketplace)
	if err := mustAffect(res, err, "marketplace "+marketplace+" of model "+modelID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "slot names", `DELETE FROM slot_names WHERE vendor_code = ? AND model_id = ? AND marketplace = ?`,
		vendorCode, modelID, marketplace); err != nil {
		return err
	}
	for slotID, name := range l.SlotNames {
		if _, err := t.exec(ctx, "slot name", `INSERT INTO slot_names (vendor_code, model_id, marketplace, slot_id, name)
			VALUES (?, ?, ?, ?, ?)`, vendorCode, modelID, marketplace, slotID, name); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) PutImage(ctx context.Context, vendorCode, modelID, marketplace string, img replenish.Image) error {
	_, err := t.exec(ctx, "image", `INSERT INTO model_images
			(vendor_code, model_id, marketplace, content_type, width, height, data, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (vendor_code, model_id, marketplace) DO UPDATE SET content_type = excluded.content_type,
			width = excluded.width, height = excluded.height, data = excluded.data, updated_at = excluded.updated_at`,
		vendorCode, modelID, marketplace, img.ContentType, img.Width, img.Height, img.Data, micros(img.UpdatedAt))
	return err
}

func (t *tx) Image(ctx context.Context, vendorCode, modelID, marketplace string) (replenish.Image, error) {
	var img replenish.Image
	var updated sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT content_type, width, height, data, updated_at FROM model_images
		WHERE vendor_code = ? AND model_id = ? AND marketplace = ?`, vendorCode, modelID, marketplace).
		Scan(&img.ContentType, &img.Width, &img.Height, &img.Data, &updated)
	if err != nil {
		return img, notFound(err, "image")
	}
	img.Bytes, img.UpdatedAt = len(img.Data), fromMicros(updated)
	return img, nil
}

func (t *tx) InsertAudit(ctx context.Context, e replenish.AuditEntry) error {
	_, err := t.exec(ctx, "audit entry", `INSERT INTO audit_log (at, actor, vendor_code, model_id, action, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, micros(e.At), e.Actor, e.VendorCode, e.ModelID, e.Action,
		jsonOrNull(e.Before), jsonOrNull(e.After))
	return err
}

func jsonOrNull(b []byte) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}

func (t *tx) Audit(ctx context.Context, vendorCode, modelID string) ([]replenish.AuditEntry, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, at, actor, vendor_code, model_id, action, before, after FROM audit_log
		WHERE (? = '' OR vendor_code = ?) AND (? = '' OR model_id = ?) ORDER BY id`,
		vendorCode, vendorCode, modelID, modelID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (replenish.AuditEntry, error) {
		var e replenish.AuditEntry
		var at sql.NullInt64
		var before, after string
		err := s.Scan(&e.ID, &at, &e.Actor, &e.VendorCode, &e.ModelID, &e.Action, &before, &after)
		e.At, e.Before, e.After = fromMicros(at), []byte(before), []byte(after)
		return e, err
	})
}

func (t *tx) APIKeys(ctx context.Context, vendorCode string) ([]replenish.APIKey, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT key_id, created_at FROM api_keys
		WHERE role = ? AND vendor_code = ? ORDER BY created_at, key_id`, string(replenish.RoleVendor), vendorCode)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (replenish.APIKey, error) {
		var k replenish.APIKey
		var created sql.NullInt64
		err := s.Scan(&k.KeyID, &created)
		k.CreatedAt = fromMicros(created)
		return k, err
	})
}

func (t *tx) DeleteAPIKey(ctx context.Context, vendorCode, keyID string) error {
	res, err := t.exec(ctx, "api key", `DELETE FROM api_keys WHERE role = ? AND vendor_code = ? AND key_id = ?`,
		string(replenish.RoleVendor), vendorCode, keyID)
	return mustAffect(res, err, "API key "+keyID)
}

func (t *tx) SetClientSecret(ctx context.Context, vendorCode string, hash []byte) error {
	res, err := t.exec(ctx, "client secret", `UPDATE vendors SET client_secret_hash = ? WHERE vendor_code = ?`, hash, vendorCode)
	return mustAffect(res, err, "vendor "+vendorCode)
}
