package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"replenish"
	"replenish/measure"
)

// tx implements storage.Tx over one database/sql transaction.
type tx struct {
	tx sqlTx
}

func (t *tx) exec(ctx context.Context, what, query string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		if isUnique(err) {
			return nil, &replenish.Error{Code: replenish.EConflict, Message: what + " already exists", Err: err}
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &replenish.Error{Code: replenish.ENotFound, Message: what + " not found"}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// mustAffect turns an update that matched no row into not-found.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return &replenish.Error{Code: replenish.ENotFound, Message: what + " not found"}
	}
	return nil
}

// Catalog.

func (t *tx) PutMarketplace(ctx context.Context, m replenish.Marketplace) error {
	_, err := t.exec(ctx, "marketplace", `INSERT INTO marketplaces (code, region, currency, locale, lead_days, lead_sd)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET region = excluded.region, currency = excluded.currency,
			locale = excluded.locale, lead_days = excluded.lead_days, lead_sd = excluded.lead_sd`,
		m.Code, m.Region, m.Currency, m.Locale, m.LeadDays, m.LeadSD)
	return err
}

const marketplaceCols = `code, region, currency, locale, lead_days, lead_sd`

func scanMarketplace(s interface{ Scan(...any) error }) (replenish.Marketplace, error) {
	var m replenish.Marketplace
	err := s.Scan(&m.Code, &m.Region, &m.Currency, &m.Locale, &m.LeadDays, &m.LeadSD)
	return m, err
}

func (t *tx) Marketplace(ctx context.Context, code string) (replenish.Marketplace, error) {
	m, err := scanMarketplace(t.tx.QueryRowContext(ctx, `SELECT `+marketplaceCols+` FROM marketplaces WHERE code = ?`, code))
	if err != nil {
		return m, notFound(err, "marketplace "+code)
	}
	return m, nil
}

func (t *tx) Marketplaces(ctx context.Context) ([]replenish.Marketplace, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+marketplaceCols+` FROM marketplaces ORDER BY region, code`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMarketplace)
}

func (t *tx) PutProduct(ctx context.Context, p replenish.Product) error {
	if _, err := t.exec(ctx, "product", `INSERT INTO products (product_id, category, pack_quantity, pack_unit)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (product_id) DO UPDATE SET category = excluded.category,
			pack_quantity = excluded.pack_quantity, pack_unit = excluded.pack_unit`,
		p.ProductID, p.Category, p.PackQuantity, p.PackUnit); err != nil {
		return err
	}
	if _, err := t.exec(ctx, "product offers", `DELETE FROM product_offers WHERE product_id = ?`, p.ProductID); err != nil {
		return err
	}
	for mp, o := range p.Offers {
		if _, err := t.exec(ctx, "product offer", `INSERT INTO product_offers
			(product_id, marketplace, title, price, currency, available) VALUES (?, ?, ?, ?, ?, ?)`,
			p.ProductID, mp, o.Title, o.Price, o.Currency, boolInt(o.Available)); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) Product(ctx context.Context, productID string) (replenish.Product, error) {
	ps, err := t.products(ctx, `WHERE p.product_id = ?`, productID)
	if err != nil {
		return replenish.Product{}, err
	}
	if len(ps) == 0 {
		return replenish.Product{}, replenish.Errorf(replenish.ENotFound, "product %s not found", productID)
	}
	return ps[0], nil
}

func (t *tx) Products(ctx context.Context) ([]replenish.Product, error) {
	return t.products(ctx, "")
}

func (t *tx) products(ctx context.Context, where string, args ...any) ([]replenish.Product, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT p.product_id, p.category, p.pack_quantity, p.pack_unit,
			o.marketplace, o.title, o.price, o.currency, o.available
		FROM products p LEFT JOIN product_offers o ON o.product_id = p.product_id `+where+`
		ORDER BY p.product_id, o.marketplace`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []replenish.Product
	for rows.Next() {
		var p replenish.Product
		var mp, title, price, currency sql.NullString
		var avail sql.NullInt64
		if err := rows.Scan(&p.ProductID, &p.Category, &p.PackQuantity, &p.PackUnit,
			&mp, &title, &price, &currency, &avail); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ProductID != p.ProductID {
			p.Offers = map[string]replenish.Offer{}
			out = append(out, p)
		}
		if mp.Valid {
			out[len(out)-1].Offers[mp.String] = replenish.Offer{Title: title.String, Price: price.String,
				Currency: currency.String, Available: avail.Int64 == 1}
		}
	}
	return out, rows.Err()
}

// API keys.

func (t *tx) InsertAPIKey(ctx context.Context, hash []byte, p replenish.Principal, now time.Time) error {
	_, err := t.exec(ctx, "api key", `INSERT INTO api_keys (key_hash, key_id, role, vendor_code, customer_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hash, keyID(hash), string(p.Role), p.VendorCode, p.CustomerID, micros(now))
	return err
}

func (t *tx) PrincipalByKey(ctx context.Context, hash []byte) (replenish.Principal, error) {
	var p replenish.Principal
	var role string
	err := t.tx.QueryRowContext(ctx, `SELECT role, vendor_code, customer_id, key_id FROM api_keys WHERE key_hash = ?`, hash).
		Scan(&role, &p.VendorCode, &p.CustomerID, &p.KeyID)
	if err != nil {
		return p, notFound(err, "api key")
	}
	p.Role = replenish.Role(role)
	return p, nil
}

func (t *tx) HasOperator(ctx context.Context) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE role = ?`, string(replenish.RoleOperator)).Scan(&n)
	return n > 0, err
}

// Vendors.

func (t *tx) InsertVendor(ctx context.Context, v replenish.Vendor, clientSecretHash []byte) error {
	exits, _ := json.Marshal(orEmpty(v.Settings.AllowedExitURIs))
	_, err := t.exec(ctx, "vendor "+v.Code, `INSERT INTO vendors (vendor_code, name, client_id, client_secret_hash,
			signing_secret, skill_endpoint_url, oauth_auth_url, oauth_token_url, oauth_client_id,
			oauth_client_secret, webhook_url, allowed_exit_uris, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.Code, v.Name, v.ClientID, clientSecretHash, v.SigningSecret, v.Settings.SkillEndpointURL,
		v.Settings.OAuthAuthorizationURL, v.Settings.OAuthTokenURL, v.Settings.OAuthClientID,
		v.Settings.OAuthClientSecret, v.Settings.WebhookURL, string(exits), micros(v.CreatedAt))
	return err
}

const vendorCols = `vendor_code, name, client_id, signing_secret, skill_endpoint_url, oauth_auth_url,
	oauth_token_url, oauth_client_id, oauth_client_secret, webhook_url, allowed_exit_uris, created_at`

func scanVendor(s interface{ Scan(...any) error }, extra ...any) (replenish.Vendor, error) {
	var v replenish.Vendor
	var exits string
	var created sql.NullInt64
	dest := append([]any{&v.Code, &v.Name, &v.ClientID, &v.SigningSecret, &v.Settings.SkillEndpointURL,
		&v.Settings.OAuthAuthorizationURL, &v.Settings.OAuthTokenURL, &v.Settings.OAuthClientID,
		&v.Settings.OAuthClientSecret, &v.Settings.WebhookURL, &exits, &created}, extra...)
	if err := s.Scan(dest...); err != nil {
		return v, err
	}
	v.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(exits), &v.Settings.AllowedExitURIs); err != nil {
		return v, fmt.Errorf("vendor %s: allowed exit URIs: %w", v.Code, err)
	}
	return v, nil
}

func (t *tx) Vendor(ctx context.Context, code string) (replenish.Vendor, error) {
	v, err := scanVendor(t.tx.QueryRowContext(ctx, `SELECT `+vendorCols+` FROM vendors WHERE vendor_code = ?`, code))
	if err != nil {
		return v, notFound(err, "vendor "+code)
	}
	return v, nil
}

func (t *tx) Vendors(ctx context.Context) ([]replenish.Vendor, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+vendorCols+` FROM vendors ORDER BY vendor_code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []replenish.Vendor
	for rows.Next() {
		v, err := scanVendor(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (t *tx) VendorByClientID(ctx context.Context, clientID string) (replenish.Vendor, []byte, error) {
	var hash []byte
	v, err := scanVendor(t.tx.QueryRowContext(ctx, `SELECT `+vendorCols+`, client_secret_hash FROM vendors WHERE client_id = ?`, clientID), &hash)
	if err != nil {
		return v, nil, notFound(err, "client")
	}
	return v, hash, nil
}

func (t *tx) UpdateVendorSettings(ctx context.Context, code string, s replenish.VendorSettings) error {
	exits, _ := json.Marshal(orEmpty(s.AllowedExitURIs))
	res, err := t.exec(ctx, "vendor settings", `UPDATE vendors SET skill_endpoint_url = ?, oauth_auth_url = ?,
			oauth_token_url = ?, oauth_client_id = ?, oauth_client_secret = ?, webhook_url = ?, allowed_exit_uris = ?
		WHERE vendor_code = ?`,
		s.SkillEndpointURL, s.OAuthAuthorizationURL, s.OAuthTokenURL, s.OAuthClientID, s.OAuthClientSecret,
		s.WebhookURL, string(exits), code)
	return mustAffect(res, err, "vendor "+code)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Models.

func (t *tx) InsertModel(ctx context.Context, m replenish.Model) error {
	_, err := t.exec(ctx, "model "+m.ModelID, `INSERT INTO models (vendor_code, model_id, kind, name, device_type, certification, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, m.VendorCode, m.ModelID, m.Kind, m.Name, m.DeviceType, m.Certification, micros(m.CreatedAt))
	return err
}

func (t *tx) Model(ctx context.Context, vendorCode, modelID string) (replenish.Model, error) {
	ms, err := t.models(ctx, `WHERE vendor_code = ? AND model_id = ?`, vendorCode, modelID)
	if err != nil {
		return replenish.Model{}, err
	}
	if len(ms) == 0 {
		return replenish.Model{}, replenish.Errorf(replenish.ENotFound, "model %s not found", modelID)
	}
	return ms[0], nil
}

func (t *tx) Models(ctx context.Context, vendorCode string) ([]replenish.Model, error) {
	return t.models(ctx, `WHERE vendor_code = ?`, vendorCode)
}

// models loads models and everything under them, one query per table.
func (t *tx) models(ctx context.Context, where string, args ...any) ([]replenish.Model, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT vendor_code, model_id, kind, name, device_type, certification,
			certification_reason, created_at
		FROM models `+where+` ORDER BY created_at, model_id`, args...)
	if err != nil {
		return nil, err
	}
	ms, err := collect(rows, func(s interface{ Scan(...any) error }) (replenish.Model, error) {
		var m replenish.Model
		var created sql.NullInt64
		err := s.Scan(&m.VendorCode, &m.ModelID, &m.Kind, &m.Name, &m.DeviceType, &m.Certification,
			&m.CertificationReason, &created)
		m.CreatedAt = fromMicros(created)
		m.Marketplaces = []string{}
		m.Listings = map[string]replenish.Listing{}
		m.Slots = []replenish.Slot{}
		return m, err
	})
	if err != nil || len(ms) == 0 {
		return ms, err
	}
	index := map[[2]string]*replenish.Model{}
	for i := range ms {
		index[[2]string{ms[i].VendorCode, ms[i].ModelID}] = &ms[i]
	}
	if err := t.modelParts(ctx, index, where, args); err != nil {
		return nil, err
	}
	return ms, nil
}

// modelParts fills in the marketplaces, slots, product lists and requests
// of the models selected by where, one query per table. Each query's
// first two columns are the model's key; fill scans the rest.
func (t *tx) modelParts(ctx context.Context, index map[[2]string]*replenish.Model, where string, args []any) error {
	in := ` WHERE (vendor_code, model_id) IN (SELECT vendor_code, model_id FROM models ` + where + `)`
	each := func(query string, dest func() []any, fill func(m *replenish.Model)) error {
		rows, err := t.tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key [2]string
			if err := rows.Scan(append([]any{&key[0], &key[1]}, dest()...)...); err != nil {
				return err
			}
			if m := index[key]; m != nil {
				fill(m)
			}
		}
		return rows.Err()
	}

	var mp, slotID string
	var l replenish.Listing
	if err := each(`SELECT vendor_code, model_id, marketplace, status, device_name, reject_reason
		FROM model_marketplaces`+in+` ORDER BY position`,
		func() []any {
			l = replenish.Listing{SlotNames: map[string]string{}}
			return []any{&mp, &l.Status, &l.DeviceName, &l.RejectReason}
		},
		func(m *replenish.Model) {
			m.Marketplaces = append(m.Marketplaces, mp)
			m.Listings[mp] = l
		}); err != nil {
		return err
	}
	var slotName string
	if err := each(`SELECT vendor_code, model_id, marketplace, slot_id, name FROM slot_names`+in,
		func() []any { return []any{&mp, &slotID, &slotName} },
		func(m *replenish.Model) {
			if l, ok := m.Listings[mp]; ok {
				l.SlotNames[slotID] = slotName
			}
		}); err != nil {
		return err
	}
	var img replenish.ImageInfo
	var updated sql.NullInt64
	if err := each(`SELECT vendor_code, model_id, marketplace, content_type, width, height, length(data), updated_at
		FROM model_images`+in,
		func() []any { return []any{&mp, &img.ContentType, &img.Width, &img.Height, &img.Bytes, &updated} },
		func(m *replenish.Model) {
			info := img
			info.UpdatedAt = fromMicros(updated)
			if mp == "" {
				m.Image = &info
			} else if l, ok := m.Listings[mp]; ok {
				l.Image = &info
				m.Listings[mp] = l
			}
		}); err != nil {
		return err
	}

	var slot replenish.Slot
	if err := each(`SELECT vendor_code, model_id, slot_id, category FROM slots`+in+` ORDER BY position`,
		func() []any {
			slot = replenish.Slot{Products: map[string][]string{}}
			return []any{&slot.SlotID, &slot.Category}
		},
		func(m *replenish.Model) { m.Slots = append(m.Slots, slot) }); err != nil {
		return err
	}
	slotOf := func(m *replenish.Model, slotID string) *replenish.Slot {
		for i := range m.Slots {
			if m.Slots[i].SlotID == slotID {
				return &m.Slots[i]
			}
		}
		return nil
	}

	var productID string
	if err := each(`SELECT vendor_code, model_id, slot_id, marketplace, product_id FROM slot_products`+in+` ORDER BY position`,
		func() []any { return []any{&slotID, &mp, &productID} },
		func(m *replenish.Model) {
			if s := slotOf(m, slotID); s != nil {
				s.Products[mp] = append(s.Products[mp], productID)
			}
		}); err != nil {
		return err
	}

	var r requestRow
	return each(`SELECT vendor_code, model_id, `+requestCols+` FROM replenishment_requests`+in+` ORDER BY slot_id`,
		func() []any { r = requestRow{}; return r.dest() },
		func(m *replenish.Model) {
			if s := slotOf(m, r.SlotID); s != nil {
				req := r.request()
				req.VendorCode, req.ModelID = m.VendorCode, m.ModelID
				s.Request = &req
			}
		})
}

func (t *tx) AddModelMarketplace(ctx context.Context, vendorCode, modelID, marketplace string) error {
	_, err := t.exec(ctx, "marketplace "+marketplace+" of model "+modelID, `INSERT INTO model_marketplaces
			(vendor_code, model_id, marketplace, position)
		VALUES (?, ?, ?, (SELECT count(*) FROM model_marketplaces WHERE vendor_code = ? AND model_id = ?))`,
		vendorCode, modelID, marketplace, vendorCode, modelID)
	return err
}

func (t *tx) InsertSlot(ctx context.Context, vendorCode, modelID string, s replenish.Slot) error {
	_, err := t.exec(ctx, "slot "+s.SlotID, `INSERT INTO slots (vendor_code, model_id, slot_id, category, position)
		VALUES (?, ?, ?, ?, (SELECT coalesce(max(position), -1) + 1 FROM slots WHERE vendor_code = ? AND model_id = ?))`,
		vendorCode, modelID, s.SlotID, s.Category, vendorCode, modelID)
	return err
}

func (t *tx) SetSlotCategory(ctx context.Context, vendorCode, modelID, slotID, category string) error {
	res, err := t.exec(ctx, "slot", `UPDATE slots SET category = ? WHERE vendor_code = ? AND model_id = ? AND slot_id = ?`,
		category, vendorCode, modelID, slotID)
	return mustAffect(res, err, "slot "+slotID)
}

func (t *tx) SetSlotProducts(ctx context.Context, vendorCode, modelID, slotID, marketplace string, productIDs []string) error {
	if _, err := t.exec(ctx, "product list", `DELETE FROM slot_products
		WHERE vendor_code = ? AND model_id = ? AND slot_id = ? AND marketplace = ?`,
		vendorCode, modelID, slotID, marketplace); err != nil {
		return err
	}
	for i, id := range productIDs {
		if _, err := t.exec(ctx, "product "+id+" in the list", `INSERT INTO slot_products
			(vendor_code, model_id, slot_id, marketplace, product_id, position) VALUES (?, ?, ?, ?, ?, ?)`,
			vendorCode, modelID, slotID, marketplace, id, i); err != nil {
			return err
		}
	}
	return nil
}

// Replenishment-ID requests.

const requestCols = `request_id, slot_id, sensor_type, measurement_type, measurement_unit, description,
	status, reject_reason, replenishment_id, threshold, policy, service_level, submitted_at, decided_at, updated_at`

// requestRow is a request as scanned, with its nullable columns.
type requestRow struct {
	replenish.Request
	mtype, munit                string
	rid                         sql.NullString
	threshold, level            sql.NullFloat64
	submitted, decided, updated sql.NullInt64
}

func (r *requestRow) dest() []any {
	return []any{&r.RequestID, &r.SlotID, &r.SensorType, &r.mtype, &r.munit, &r.Description, &r.Status,
		&r.RejectReason, &r.rid, &r.threshold, &r.Policy, &r.level, &r.submitted, &r.decided, &r.updated}
}

func (r *requestRow) request() replenish.Request {
	q := r.Request
	q.Measurement = replenish.Measurement{Type: measure.Type(r.mtype), Unit: measure.Unit(r.munit)}
	q.ReplenishmentID = r.rid.String
	if r.threshold.Valid {
		v := r.threshold.Float64
		q.Threshold = &v
	}
	if r.level.Valid {
		v := r.level.Float64
		q.ServiceLevel = &v
	}
	if t := fromMicros(r.submitted); !t.IsZero() {
		q.SubmittedAt = &t
	}
	if t := fromMicros(r.decided); !t.IsZero() {
		q.DecidedAt = &t
	}
	q.UpdatedAt = fromMicros(r.updated)
	return q
}

func (t *tx) PutRequest(ctx context.Context, r replenish.Request) error {
	var rid, threshold, level, submitted, decided any
	if r.ReplenishmentID != "" {
		rid = r.ReplenishmentID
	}
	if r.ServiceLevel != nil {
		level = *r.ServiceLevel
	}
	if r.Threshold != nil {
		threshold = *r.Threshold
	}
	if r.SubmittedAt != nil {
		submitted = micros(*r.SubmittedAt)
	}
	if r.DecidedAt != nil {
		decided = micros(*r.DecidedAt)
	}
	_, err := t.exec(ctx, "replenishment request", `INSERT INTO replenishment_requests (request_id, vendor_code, model_id,
			slot_id, sensor_type, measurement_type, measurement_unit, description, status, reject_reason,
			replenishment_id, threshold, policy, service_level, submitted_at, decided_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (request_id) DO UPDATE SET sensor_type = excluded.sensor_type,
			measurement_type = excluded.measurement_type, measurement_unit = excluded.measurement_unit,
			description = excluded.description, status = excluded.status, reject_reason = excluded.reject_reason,
			replenishment_id = excluded.replenishment_id, threshold = excluded.threshold, policy = excluded.policy,
			service_level = excluded.service_level, submitted_at = excluded.submitted_at, decided_at = excluded.decided_at, updated_at = excluded.updated_at`,
		r.RequestID, r.VendorCode, r.ModelID, r.SlotID, r.SensorType, string(r.Measurement.Type),
		string(r.Measurement.Unit), r.Description, r.Status, r.RejectReason, rid, threshold, r.Policy, level,
		submitted, decided, micros(r.UpdatedAt))
	return err
}

func (t *tx) requests(ctx context.Context, where string, args ...any) ([]replenish.Request, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT vendor_code, model_id, `+requestCols+`
		FROM replenishment_requests `+where+` ORDER BY updated_at, request_id`, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (replenish.Request, error) {
		var r requestRow
		err := s.Scan(append([]any{&r.VendorCode, &r.ModelID}, r.dest()...)...)
		return r.request(), err
	})
}

func (t *tx) oneRequest(ctx context.Context, what, where string, args ...any) (replenish.Request, error) {
	rs, err := t.requests(ctx, where, args...)
	if err != nil {
		return replenish.Request{}, err
	}
	if len(rs) == 0 {
		return replenish.Request{}, replenish.Errorf(replenish.ENotFound, "%s not found", what)
	}
	return rs[0], nil
}

func (t *tx) Request(ctx context.Context, requestID string) (replenish.Request, error) {
	return t.oneRequest(ctx, "replenishment request "+requestID, `WHERE request_id = ?`, requestID)
}

func (t *tx) Requests(ctx context.Context, status string) ([]replenish.Request, error) {
	if status == "" {
		return t.requests(ctx, "")
	}
	return t.requests(ctx, `WHERE status = ?`, status)
}

func (t *tx) RequestByReplenishmentID(ctx context.Context, replenishmentID string) (replenish.Request, error) {
	return t.oneRequest(ctx, "replenishment ID "+replenishmentID, `WHERE replenishment_id = ?`, replenishmentID)
}

// Test accounts.

func (t *tx) PutTestAccount(ctx context.Context, vendorCode, modelID, marketplace, customerID string) error {
	_, err := t.exec(ctx, "test account", `INSERT INTO test_accounts (vendor_code, model_id, marketplace, customer_id)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, vendorCode, modelID, marketplace, customerID)
	return err
}

func (t *tx) DeleteTestAccount(ctx context.Context, vendorCode, modelID, marketplace, customerID string) error {
	res, err := t.exec(ctx, "test account", `DELETE FROM test_accounts
		WHERE vendor_code = ? AND model_id = ? AND marketplace = ? AND customer_id = ?`,
		vendorCode, modelID, marketplace, customerID)
	return mustAffect(res, err, "test account "+customerID)
}

func (t *tx) TestAccounts(ctx context.Context, vendorCode, modelID, marketplace string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT customer_id FROM test_accounts
		WHERE vendor_code = ? AND model_id = ? AND marketplace = ? ORDER BY customer_id`, vendorCode, modelID, marketplace)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var id string
		return id, s.Scan(&id)
	})
}

func (t *tx) IsTestAccount(ctx context.Context, vendorCode, modelID, customerID string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM test_accounts
		WHERE vendor_code = ? AND model_id = ? AND customer_id = ?`, vendorCode, modelID, customerID).Scan(&n)
	return n > 0, err
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
