package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"replenish"
	"replenish/measure"
	"replenish/storage"
)

// Customers.

func (t *tx) InsertCustomer(ctx context.Context, c replenish.Customer) error {
	_, err := t.exec(ctx, "customer with this email", `INSERT INTO customers (customer_id, email, name, marketplace, locale, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, c.CustomerID, c.Email, c.Name, c.Marketplace, c.Locale, micros(c.CreatedAt))
	return err
}

func (t *tx) Customer(ctx context.Context, customerID string) (replenish.Customer, error) {
	var c replenish.Customer
	var created sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT customer_id, email, name, marketplace, locale, created_at
		FROM customers WHERE customer_id = ?`, customerID).
		Scan(&c.CustomerID, &c.Email, &c.Name, &c.Marketplace, &c.Locale, &created)
	if err != nil {
		return c, notFound(err, "customer "+customerID)
	}
	c.CreatedAt = fromMicros(created)
	return c, nil
}

// Links and grants.

func (t *tx) PutLink(ctx context.Context, l replenish.Link) error {
	_, err := t.exec(ctx, "link", `INSERT INTO links (customer_id, vendor_code, status, grantee_token,
			grantee_refresh, grantee_expires_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (customer_id, vendor_code) DO UPDATE SET status = excluded.status,
			grantee_token = excluded.grantee_token, grantee_refresh = excluded.grantee_refresh,
			grantee_expires_at = excluded.grantee_expires_at, updated_at = excluded.updated_at`,
		l.CustomerID, l.VendorCode, l.Status, l.GranteeToken, l.GranteeRefresh, micros(l.GranteeExpiresAt),
		micros(l.UpdatedAt))
	return err
}

func (t *tx) Link(ctx context.Context, customerID, vendorCode string) (replenish.Link, error) {
	l := replenish.Link{CustomerID: customerID, VendorCode: vendorCode}
	var updated, expires sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT status, grantee_token, grantee_refresh, grantee_expires_at, updated_at,
			(SELECT count(*) FROM endpoints e WHERE e.customer_id = l.customer_id AND e.vendor_code = l.vendor_code
				AND e.deleted_at IS NULL)
		FROM links l WHERE customer_id = ? AND vendor_code = ?`, customerID, vendorCode).
		Scan(&l.Status, &l.GranteeToken, &l.GranteeRefresh, &expires, &updated, &l.Endpoints)
	if err != nil {
		return l, notFound(err, "link with "+vendorCode)
	}
	l.UpdatedAt, l.GranteeExpiresAt = fromMicros(updated), fromMicros(expires)
	return l, nil
}

func (t *tx) InsertGrant(ctx context.Context, g storage.Grant) error {
	_, err := t.exec(ctx, "grant", `INSERT INTO grants (grant_hash, kind, vendor_code, customer_id, expires_at)
		VALUES (?, ?, ?, ?, ?)`, g.Hash, g.Kind, g.VendorCode, g.CustomerID, micros(g.ExpiresAt))
	return err
}

func (t *tx) Grant(ctx context.Context, hash []byte, kind string) (storage.Grant, error) {
	if c := t.tx.cache; c != nil {
		if g, ok := c.grant(hash, kind); ok {
			return g, nil
		}
	}
	g := storage.Grant{Hash: hash, Kind: kind}
	var expires, used, revoked sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT vendor_code, customer_id, expires_at, used_at, revoked_at
		FROM grants WHERE grant_hash = ? AND kind = ?`, hash, kind).
		Scan(&g.VendorCode, &g.CustomerID, &expires, &used, &revoked)
	if err != nil {
		return g, notFound(err, kind)
	}
	g.ExpiresAt, g.UsedAt, g.RevokedAt = fromMicros(expires), fromMicros(used), fromMicros(revoked)
	if c := t.tx.cache; c != nil {
		c.putGrant(g)
	}
	return g, nil
}

func (t *tx) TakeGrant(ctx context.Context, hash []byte, kind string, now time.Time) (storage.Grant, error) {
	res, err := t.exec(ctx, kind, `UPDATE grants SET used_at = ?
		WHERE grant_hash = ? AND kind = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
		micros(now), hash, kind, micros(now))
	if err := mustAffect(res, err, kind); err != nil {
		return storage.Grant{}, err
	}
	return t.Grant(ctx, hash, kind)
}

func (t *tx) RevokeGrants(ctx context.Context, vendorCode, customerID string, now time.Time) error {
	_, err := t.exec(ctx, "grants", `UPDATE grants SET revoked_at = ?
		WHERE vendor_code = ? AND customer_id = ? AND revoked_at IS NULL`, micros(now), vendorCode, customerID)
	return err
}

// Endpoints.

func (t *tx) PutEndpoint(ctx context.Context, e replenish.Endpoint, now time.Time) error {
	var key int64
	cookie := string(e.Cookie)
	err := t.tx.QueryRowContext(ctx, `INSERT INTO endpoints
			(customer_id, endpoint_id, vendor_code, model_id, friendly_name, created_at, updated_at, cookie)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (customer_id, endpoint_id) DO UPDATE SET model_id = excluded.model_id,
			friendly_name = excluded.friendly_name, updated_at = excluded.updated_at, deleted_at = NULL,
			cookie = excluded.cookie
		WHERE endpoints.vendor_code = excluded.vendor_code
		RETURNING id`, e.CustomerID, e.EndpointID, e.VendorCode, e.ModelID, e.FriendlyName, micros(now), micros(now),
		cookie).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return replenish.Errorf(replenish.EConflict, "endpoint %s belongs to another vendor", e.EndpointID)
	}
	if err != nil {
		return fmt.Errorf("endpoint %s: %w", e.EndpointID, err)
	}
	for _, s := range e.Slots {
		// A replenishment ID is one slot of an endpoint: named under a new
		// instance, the slot is renamed and keeps its state and history.
		res, err := t.exec(ctx, "endpoint slot "+s.Instance, `UPDATE endpoint_slots SET instance = ?, slot_id = ?, name = ?
			WHERE endpoint = ? AND replenishment_id = ? AND instance != ?`,
			s.Instance, s.SlotID, s.Name, key, s.ReplenishmentID, s.Instance)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			if err != nil {
				return err
			}
			continue
		}
		if _, err := t.exec(ctx, "endpoint slot "+s.Instance, `INSERT INTO endpoint_slots
				(endpoint, instance, slot_id, name, replenishment_id, mode, product_id, chosen_price)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint, instance) DO UPDATE SET slot_id = excluded.slot_id, name = excluded.name,
				replenishment_id = excluded.replenishment_id`,
			key, s.Instance, s.SlotID, s.Name, s.ReplenishmentID, s.Mode, s.ProductID, s.ChosenPrice); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) EndpointCookie(ctx context.Context, customerID, endpointID string) (json.RawMessage, error) {
	var raw string
	err := t.tx.QueryRowContext(ctx, `SELECT cookie FROM endpoints WHERE customer_id = ? AND endpoint_id = ?
		AND deleted_at IS NULL`, customerID, endpointID).Scan(&raw)
	if err != nil {
		return nil, notFound(err, "endpoint "+endpointID)
	}
	if raw == "" {
		return nil, nil
	}
	return json.RawMessage(raw), nil
}

// endpointSlots and endpointRequests join each endpoint slot to what its
// replenishment ID declared and to its customer's marketplace, so that the
// engine gets a slot's whole configuration in one row.
const endpointSlots = `SELECT e.endpoint_id, e.vendor_code, e.customer_id, e.model_id,
		coalesce(nullif(e.customer_name, ''), e.friendly_name),
		s.id, s.instance, s.slot_id, s.name, s.replenishment_id, s.mode, s.product_id, s.chosen_price,
		s.amount, s.last_sample_at, s.capacity, s.low_count, s.notified, s.ordered, s.open_order_id, s.replaced_at,
		s.household, s.cancel_streak, s.cooldown_until, s.on_order, s.rate,
		r.sensor_type, r.measurement_type, r.measurement_unit, coalesce(r.threshold, 0), r.policy,
		coalesce(r.service_level, 0), coalesce(m.lead_days, 0), coalesce(m.lead_sd, 0)
	FROM endpoints e
	LEFT JOIN customers c ON c.customer_id = e.customer_id
	LEFT JOIN marketplaces m ON m.code = c.marketplace
	LEFT JOIN endpoint_slots s ON s.endpoint = e.id
		-- A slot whose replenishment ID was retired (its model's slot was
		-- removed) is gone from the endpoint; its history stays.
		AND s.replenishment_id NOT IN (SELECT replenishment_id FROM retired_replenishment_ids) `

const endpointRequests = `
	LEFT JOIN replenishment_requests r ON r.replenishment_id = s.replenishment_id `

// endpoints loads the endpoints that where (over e) selects, with their
// slots.
func (t *tx) endpoints(ctx context.Context, where string, args ...any) ([]replenish.Endpoint, error) {
	rows, err := t.tx.QueryContext(ctx, endpointSlots+endpointRequests+where+` ORDER BY e.id, s.id`+t.lockEndpoints(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []replenish.Endpoint
	for rows.Next() {
		var e replenish.Endpoint
		var (
			key                                                          sql.NullInt64
			instance, slotID, name, rid, mode, product, price, openOrder sql.NullString
			amount, capacity, household, threshold, onOrder              sql.NullFloat64
			level, leadDays, leadSD                                      sql.NullFloat64
			rate                                                         []byte
			last, replaced, cooldown                                     sql.NullInt64
			low, notified, ordered, streak                               sql.NullInt64
			sensor, mtype, munit, policy                                 sql.NullString
		)
		if err := rows.Scan(&e.EndpointID, &e.VendorCode, &e.CustomerID, &e.ModelID, &e.FriendlyName,
			&key, &instance, &slotID, &name, &rid, &mode, &product, &price,
			&amount, &last, &capacity, &low, &notified, &ordered, &openOrder, &replaced,
			&household, &streak, &cooldown, &onOrder, &rate,
			&sensor, &mtype, &munit, &threshold, &policy, &level, &leadDays, &leadSD); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].EndpointID != e.EndpointID || out[len(out)-1].CustomerID != e.CustomerID {
			out = append(out, e)
		}
		if !key.Valid {
			continue
		}
		s := replenish.EndpointSlot{
			ID: key.Int64, EndpointID: e.EndpointID, VendorCode: e.VendorCode, CustomerID: e.CustomerID,
			ModelID: e.ModelID, SlotID: slotID.String, Instance: instance.String, Name: name.String,
			ReplenishmentID: rid.String, SensorType: sensor.String,
			Measurement: replenish.Measurement{Type: measure.Type(mtype.String), Unit: measure.Unit(munit.String)},
			Policy:      policy.String, Mode: mode.String, ProductID: product.String, ChosenPrice: price.String,
			State: replenish.SlotState{Amount: amount.Float64, LastSampleAt: fromMicros(last),
				Capacity: capacity.Float64, LowCount: int(low.Int64), Notified: notified.Int64 == 1,
				Ordered: ordered.Int64 == 1, OpenOrderID: openOrder.String, ReplacedAt: fromMicros(replaced),
				Household: household.Float64, CancelStreak: int(streak.Int64), CooldownUntil: fromMicros(cooldown),
				OnOrder: onOrder.Float64, Rate: decodeRate(rate)},
			Plan: replenish.Plan{ServiceLevel: level.Float64, LeadDays: leadDays.Float64, LeadSD: leadSD.Float64},
		}
		// The operator sets the threshold in the declared unit; the engine
		// works in the base unit.
		s.Threshold, err = measure.ToBase(s.Measurement.Type, threshold.Float64, s.Measurement.Unit)
		if err != nil {
			return nil, fmt.Errorf("endpoint slot %d: threshold: %w", s.ID, err)
		}
		out[len(out)-1].Slots = append(out[len(out)-1].Slots, s)
	}
	return out, rows.Err()
}

func (t *tx) Endpoint(ctx context.Context, customerID, endpointID string, instances ...string) (replenish.Endpoint, error) {
	// The writer keeps whole endpoints (cache.go); the slots asked for
	// are picked from them.
	c := t.tx.cache
	e, ok := c.endpoint(customerID, endpointID, instances)
	if !ok {
		es, err := t.endpoints(ctx, `WHERE e.customer_id = ? AND e.endpoint_id = ? AND e.deleted_at IS NULL`,
			customerID, endpointID)
		if err != nil {
			return replenish.Endpoint{}, err
		}
		if len(es) == 0 {
			return replenish.Endpoint{}, replenish.Errorf(replenish.ENotFound, "endpoint %s not found", endpointID)
		}
		e = es[0]
		c.putEndpoint(e)
		e.Slots = slices.DeleteFunc(e.Slots, func(s replenish.EndpointSlot) bool { return !wanted(instances, s.Instance) })
	}
	if len(e.Slots) == 0 {
		e.Slots = nil // as for an endpoint without slots
	}
	return e, nil
}

// wanted reports whether Endpoint, given instances, returns the slot of
// instance: all slots when none is given.
func wanted(instances []string, instance string) bool {
	return len(instances) == 0 || slices.Contains(instances, instance)
}

func (t *tx) Endpoints(ctx context.Context, customerID string) ([]replenish.Endpoint, error) {
	es, err := t.endpoints(ctx, `WHERE e.customer_id = ? AND e.deleted_at IS NULL`, customerID)
	if es == nil && err == nil {
		es = []replenish.Endpoint{}
	}
	return es, err
}

// setSlotState writes a slot's engine state; the writer's cache updates
// its copy as well, rather than starting over (cache.go).
const setSlotState = `UPDATE endpoint_slots SET amount = ?, last_sample_at = ?, capacity = ?,
		low_count = ?, notified = ?, ordered = ?, open_order_id = ?, replaced_at = ?,
		household = ?, cancel_streak = ?, cooldown_until = ?, on_order = ?, rate = ?
	WHERE id = ?`

func (t *tx) SetSlotState(ctx context.Context, slotKey int64, s replenish.SlotState) error {
	res, err := t.exec(ctx, "slot state", setSlotState, s.Amount, micros(s.LastSampleAt), s.Capacity, s.LowCount, boolInt(s.Notified),
		boolInt(s.Ordered), s.OpenOrderID, micros(s.ReplacedAt), s.Household, s.CancelStreak, micros(s.CooldownUntil),
		s.OnOrder, encodeRate(s.Rate), slotKey)
	if err := mustAffect(res, err, "endpoint slot"); err != nil {
		return err
	}
	t.tx.cache.setState(slotKey, s)
	return nil
}

func (t *tx) SetSubscription(ctx context.Context, slotKey int64, mode, productID, price string) error {
	res, err := t.exec(ctx, "subscription", `UPDATE endpoint_slots SET mode = ?, product_id = ?, chosen_price = ? WHERE id = ?`,
		mode, productID, price, slotKey)
	return mustAffect(res, err, "endpoint slot")
}

// Events and readings.

func (t *tx) InsertEvent(ctx context.Context, e storage.Event) (bool, error) {
	res, err := t.exec(ctx, "event", `INSERT INTO events (vendor_code, message_id, customer_id, namespace, name, body, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (vendor_code, message_id) DO NOTHING`,
		e.VendorCode, e.MessageID, e.CustomerID, e.Namespace, e.Name, e.Body, micros(e.ReceivedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) InsertReading(ctx context.Context, r storage.Reading) error {
	// The same sample sent again (a repeated context property) is one
	// reading. A level, the gateway's most frequent write, leaves kind
	// and used to their defaults.
	if r.Kind == storage.ReadingLevel {
		_, err := t.exec(ctx, "reading", `INSERT INTO readings (slot, sample_at, amount, received_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (slot, sample_at) DO NOTHING`,
			r.Slot, micros(r.SampleAt), r.Amount, micros(r.ReceivedAt))
		return err
	}
	var used any
	if r.Kind == storage.ReadingUsage {
		used = r.Used
	}
	_, err := t.exec(ctx, "reading", `INSERT INTO readings (slot, sample_at, amount, received_at, kind, used)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slot, sample_at) DO NOTHING`,
		r.Slot, micros(r.SampleAt), r.Amount, micros(r.ReceivedAt), r.Kind, used)
	return err
}

// Feed.

func (t *tx) InsertFeed(ctx context.Context, f replenish.FeedEntry) error {
	_, err := t.exec(ctx, "feed entry", `INSERT INTO feed (customer_id, type, endpoint_id, slot_id, order_id, message, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, f.CustomerID, f.Type, f.EndpointID, f.SlotID, f.OrderID, f.Message, string(f.Reason),
		micros(f.CreatedAt))
	return err
}

func (t *tx) Feed(ctx context.Context, customerID string, limit int) ([]replenish.FeedEntry, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, customer_id, type, endpoint_id, slot_id, order_id, message, reason, created_at,
			read_at IS NOT NULL
		FROM feed WHERE customer_id = ? ORDER BY id DESC LIMIT ?`, customerID, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (replenish.FeedEntry, error) {
		var f replenish.FeedEntry
		var created sql.NullInt64
		var reason string
		err := s.Scan(&f.ID, &f.CustomerID, &f.Type, &f.EndpointID, &f.SlotID, &f.OrderID, &f.Message, &reason, &created, &f.Read)
		f.CreatedAt = fromMicros(created)
		if reason != "" {
			f.Reason = json.RawMessage(reason)
		}
		return f, err
	})
}
