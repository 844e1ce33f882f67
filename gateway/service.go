package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"replenish"
	"replenish/catalog"
	"replenish/engine"
	"replenish/measure"
	"replenish/metrics"
	"replenish/notifications"
	"replenish/orders"
	"replenish/storage"
)

// Service accepts events from vendors' clouds.
type Service struct {
	store storage.Store
	now   func() time.Time
	limit *Limiter
	// deviceLimit is the per-device limit of events over MQTT.
	deviceLimit *Limiter
	orders      *orders.Service
	notify      *notifications.Service
}

// New returns a Service on store; now is the clock, ord places the orders
// that readings lead to, notify tells customers and vendors. It sets no
// rate limit.
func New(store storage.Store, now func() time.Time, ord *orders.Service, notify *notifications.Service) *Service {
	return &Service{store: store, now: now, orders: ord, notify: notify}
}

// Limit sets the per-vendor rate limit of events; nil means none.
func (s *Service) Limit(l *Limiter) { s.limit = l }

// Accept validates and applies one event. headerToken is the bearer token
// of the request. It returns nil once the event is durably stored; a
// message ID the vendor sent before is accepted again with no effect.
// A rejected event changes nothing.
func (s *Service) Accept(ctx context.Context, headerToken string, body []byte) (err error) {
	now := s.now()
	typ := ""
	defer func() { countEvent(typ, err) }()
	r, err := Parse(body, now)
	if err != nil {
		return err
	}
	typ = r.Header.Namespace + "." + r.Header.Name
	token := headerToken
	switch {
	case token == "" && r.Token == "":
		return replenish.Errorf(replenish.EUnauthorized, "a token is required: Authorization: Bearer <access token>")
	case token == "":
		token = r.Token
	case r.Token != "" && r.Token != token:
		field := "event.endpoint.scope.token"
		if r.EndpointID == "" {
			field = "event.payload.scope.token"
		}
		return invalid(field, "does not match the token of the Authorization header")
	}
	return s.store.Write(ctx, func(tx storage.Tx) error {
		g, err := authorize(ctx, tx, token, now)
		if err != nil {
			return err
		}
		// Checked once the vendor is known, before anything is written.
		if err := s.limit.Take("vendor", g.VendorCode, now); err != nil {
			return err
		}
		fresh, err := tx.InsertEvent(ctx, storage.Event{VendorCode: g.VendorCode, MessageID: r.Header.MessageID,
			CustomerID: g.CustomerID, Namespace: r.Header.Namespace, Name: r.Header.Name, Body: body, ReceivedAt: now})
		if err != nil || !fresh {
			return err
		}
		switch {
		case r.Endpoints != nil:
			return s.putEndpoints(ctx, tx, g.VendorCode, g.CustomerID, "event.payload.endpoints", r.Endpoints, now)
		case r.Deleted != nil:
			return s.deleteEndpoints(ctx, tx, g, r.Deleted, now)
		}
		return s.applyReport(ctx, tx, g, r, now)
	})
}

// countEvent records an event's type and outcome (accepted, or the
// refusal's code) in the metrics.
func countEvent(typ string, err error) {
	outcome := "accepted"
	if err != nil {
		outcome = replenish.ErrorCode(err)
	}
	metrics.Event(typ, outcome)
}

// authorize resolves an access token to its vendor and customer.
func authorize(ctx context.Context, tx storage.Tx, token string, now time.Time) (storage.Grant, error) {
	g, err := tx.Grant(ctx, replenish.HashSecret(token), storage.GrantAccess)
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return g, replenish.Errorf(replenish.EUnauthorized, "unknown access token")
	}
	if err != nil {
		return g, err
	}
	if !g.RevokedAt.IsZero() {
		return g, replenish.Errorf(replenish.EDisabled, "the customer unlinked this vendor")
	}
	if !now.Before(g.ExpiresAt) {
		return g, replenish.Errorf(replenish.EUnauthorized, "the access token expired; refresh it at /auth/o2/token")
	}
	return g, nil
}

// applyReport records what a report about one endpoint says of its
// inventory sensors and runs the engine on each slot it moves.
// reported lists the capability instances r reports on.
func reported(r *Report) []string {
	var out []string
	for _, l := range r.Levels {
		out = append(out, l.Instance)
	}
	for _, l := range []*Level{r.Usage, r.Replaced} {
		if l != nil {
			out = append(out, l.Instance)
		}
	}
	return out
}

func (s *Service) applyReport(ctx context.Context, tx storage.Tx, g storage.Grant, r *Report, now time.Time) error {
	e, err := tx.Endpoint(ctx, g.CustomerID, r.EndpointID, reported(r)...)
	if err == nil && r.Error != nil && e.VendorCode == g.VendorCode {
		// The device failed: each slot's history says so.
		for _, sl := range e.Slots {
			msg := "the vendor's cloud reported " + r.Error.Type
			if r.Error.Message != "" {
				msg += ": " + r.Error.Message
			}
			if err := tx.InsertSlotChange(ctx, storage.SlotChange{Slot: sl.ID, Kind: storage.ChangeDeviceError,
				Actor: replenish.ActorVendor, Message: msg, At: now}); err != nil {
				return err
			}
		}
		return nil
	}
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return invalid("event.endpoint.endpointId", "unknown endpoint "+r.EndpointID+"; report it in discovery first")
	}
	if err != nil {
		return err
	}
	if e.VendorCode != g.VendorCode {
		return replenish.Errorf(replenish.EForbidden, "endpoint %s belongs to another vendor", r.EndpointID)
	}
	slots := map[string]*replenish.EndpointSlot{}
	window := s.orders.Settings().CancelWindow
	for i := range e.Slots {
		e.Slots[i].Plan.Window = window // forecasts count it in
		slots[e.Slots[i].Instance] = &e.Slots[i]
	}
	// sensor finds the slot of a reported instance and checks that it is
	// the kind of sensor the report needs.
	sensor := func(l Level, instanceField, sensorType, what string) (*replenish.EndpointSlot, error) {
		sl := slots[l.Instance]
		if sl == nil {
			return nil, invalid(instanceField, "endpoint "+e.EndpointID+" has no inventory sensor "+l.Instance)
		}
		if sl.SensorType != sensorType {
			return nil, invalid(instanceField, fmt.Sprintf("sensor %s is a %s sensor (%s), not %s",
				l.Instance, sl.SensorType, SensorInterface[sl.SensorType], what))
		}
		return sl, nil
	}
	for _, l := range r.Levels {
		sl, err := sensor(l, l.Field+".instance", replenish.SensorLevel, "a level sensor")
		if err != nil {
			return err
		}
		amount, err := baseAmount(l, sl)
		if err != nil {
			return err
		}
		if err := tx.InsertReading(ctx, storage.Reading{Slot: sl.ID, Kind: storage.ReadingLevel, SampleAt: l.SampleAt,
			Amount: amount, ReceivedAt: now}); err != nil {
			return err
		}
		st, decisions, moved := engine.Apply(*sl, engine.Reading{Amount: amount, SampleAt: l.SampleAt}, now)
		if err := s.settle(ctx, tx, &e, sl, st, decisions, moved, now); err != nil {
			return err
		}
	}
	if l := r.Usage; l != nil {
		sensorType := replenish.SensorUsage
		if r.Header.Namespace == LevelUsageSensor {
			sensorType = replenish.SensorLevelUsage
		}
		sl, err := sensor(*l, "event.header.instance", sensorType, "an "+r.Header.Namespace)
		if err != nil {
			return err
		}
		used, err := baseAmount(*l, sl)
		if err != nil {
			return err
		}
		st, decisions, moved := engine.Consume(*sl, used, l.SampleAt, now)
		if moved {
			// History keeps what was left after each report.
			if err := tx.InsertReading(ctx, storage.Reading{Slot: sl.ID, Kind: storage.ReadingUsage, SampleAt: l.SampleAt,
				Amount: st.Amount, Used: used, ReceivedAt: now}); err != nil {
				return err
			}
		}
		if err := s.settle(ctx, tx, &e, sl, st, decisions, moved, now); err != nil {
			return err
		}
	}
	if l := r.Replaced; l != nil {
		sl, err := sensor(*l, "event.header.instance", replenish.SensorLevelUsage, "an "+LevelUsageSensor)
		if err != nil {
			return err
		}
		level := 100.0
		if l.Value != nil {
			if level, err = baseAmount(*l, sl); err != nil {
				return err
			}
		}
		st, decisions, moved := engine.Replace(*sl, level, l.SampleAt, now)
		if moved {
			if err := tx.InsertReading(ctx, storage.Reading{Slot: sl.ID, Kind: storage.ReadingReplaced, SampleAt: l.SampleAt,
				Amount: st.Amount, ReceivedAt: now}); err != nil {
				return err
			}
		}
		if err := s.settle(ctx, tx, &e, sl, st, decisions, moved, now); err != nil {
			return err
		}
	}
	return nil
}

// baseAmount reads a reported value in the slot's measurement and returns
// it in the measurement's base unit.
func baseAmount(l Level, sl *replenish.EndpointSlot) (float64, error) {
	v, err := measure.ParseValue(l.Value, l.Unit, sl.Measurement.Type)
	if err != nil {
		// measure names the member at fault ("value.unit: ...").
		member, problem, _ := strings.Cut(err.Error(), ": ")
		if l.Field == "event.payload.usage" || l.Field == "event.payload.newAbsoluteLevel" {
			// The payload's member is the value itself.
			member = strings.TrimPrefix(strings.TrimPrefix(member, "value"), ".")
			if member == "" {
				return 0, invalid(l.Field, problem)
			}
		}
		return 0, invalid(l.Field+"."+member, problem)
	}
	amount, err := v.Base()
	if err != nil {
		return 0, invalid(l.Field+".value", err.Error())
	}
	return amount, nil
}

// settle carries out the engine's decisions for a slot and stores its new
// state, when the report moved it.
func (s *Service) settle(ctx context.Context, tx storage.Tx, e *replenish.Endpoint, sl *replenish.EndpointSlot,
	st replenish.SlotState, decisions []engine.Decision, moved bool, now time.Time) error {
	if !moved {
		return nil
	}
	sl.State = st
	for _, d := range decisions {
		if err := s.carryOut(ctx, tx, e, sl, d, now); err != nil {
			return err
		}
	}
	return tx.SetSlotState(ctx, sl.ID, sl.State)
}

// deleteEndpoints removes the endpoints of a DeleteReport. An endpoint
// Replenish does not know is skipped: a vendor's cloud reports all its
// devices, and discovery skipped those without inventory sensors. A
// pending order of a removed endpoint is cancelled, since the device it
// would feed is gone; an order already released to fulfilment goes on.
func (s *Service) deleteEndpoints(ctx context.Context, tx storage.Tx, g storage.Grant, ids []string, now time.Time) error {
	for i, id := range ids {
		e, err := tx.Endpoint(ctx, g.CustomerID, id)
		if replenish.ErrorCode(err) == replenish.ENotFound {
			continue
		}
		if err != nil {
			return err
		}
		if e.VendorCode != g.VendorCode {
			return replenish.Errorf(replenish.EForbidden, "event.payload.endpoints[%d].endpointId: endpoint %s belongs to another vendor", i, id)
		}
		if err := s.orders.CancelPending(ctx, tx, e, g.VendorCode+" removed the device", now); err != nil {
			return err
		}
		if err := tx.DeleteEndpoint(ctx, g.CustomerID, id, now); err != nil {
			return err
		}
		if err := s.notify.Vendor(ctx, tx, notifications.DeviceDeregistered, e, notifications.Body{}, now); err != nil {
			return err
		}
	}
	return nil
}

// Unlinked tells the vendor, in the caller's transaction, that each of
// the customer's endpoints of the vendor is gone: the customer unlinked it.
func (s *Service) Unlinked(ctx context.Context, tx storage.Tx, customerID, vendorCode string, now time.Time) error {
	es, err := tx.Endpoints(ctx, customerID)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.VendorCode != vendorCode {
			continue
		}
		if err := s.notify.Vendor(ctx, tx, notifications.DeviceDeregistered, e, notifications.Body{}, now); err != nil {
			return err
		}
	}
	return nil
}

// carryOut does what a decision asks, in the same transaction as the
// reading that led to it.
func (s *Service) carryOut(ctx context.Context, tx storage.Tx, e *replenish.Endpoint, sl *replenish.EndpointSlot, d engine.Decision, now time.Time) error {
	switch d.Kind {
	case engine.NotifyLow:
		why, err := json.Marshal(d.Reason)
		if err != nil {
			return err
		}
		msg := lowMessage(e, sl, d.Reason)
		if err := s.notify.Customer(ctx, tx, replenish.FeedEntry{CustomerID: e.CustomerID, Type: replenish.FeedLowSupply,
			EndpointID: e.EndpointID, SlotID: sl.SlotID, CreatedAt: now, Message: msg, Reason: why}); err != nil {
			return err
		}
		return s.tellDevice(ctx, tx, e, sl, msg, now)
	case engine.PlaceOrder:
		_, err := s.orders.Place(ctx, tx, e, sl, d, now)
		return err
	case engine.UsedSpare:
		return tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: sl.ID, Quantity: engine.Household(*sl),
			Delta: -d.Amount, Source: storage.HouseholdRefill, At: now,
			Reason: "the device was refilled: a spare from home went in"})
	case engine.SparesGone:
		if err := tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: sl.ID, Quantity: 0,
			Delta: -d.Amount, Source: storage.HouseholdDevice, At: now,
			Reason: "the device stayed empty: the spares at home seem to be used up"}); err != nil {
			return err
		}
		return s.notify.Customer(ctx, tx, replenish.FeedEntry{CustomerID: e.CustomerID, Type: replenish.FeedLowSupply,
			EndpointID: e.EndpointID, SlotID: sl.SlotID, CreatedAt: now,
			Message: fmt.Sprintf("%s on %s has stayed empty, so the spares recorded at home seem to be used up: "+
				"the household inventory is now 0. If you still have some, set the number on the inventory page.",
				sl.Name, e.FriendlyName)})
	}
	return fmt.Errorf("unknown decision %q", d.Kind)
}

// lowMessage tells the customer that a supply is low, and what to do next.
func lowMessage(e *replenish.Endpoint, sl *replenish.EndpointSlot, why engine.Reason) string {
	msg := fmt.Sprintf("%s on %s is low (%s left).", sl.Name, e.FriendlyName, engine.DescribeAmount(sl))
	switch {
	case why.Spare > 0:
		spare := fmt.Sprintf("%g", why.Spare)
		if sl.Measurement.Type != measure.Percentage {
			spare += " " + measure.UnitName(measure.BaseUnit(sl.Measurement.Type))
		}
		msg += fmt.Sprintf(" You have spares at home (%s): use one. Smart reorder orders when none is left.", spare)
	case why.Held == engine.HeldCooldown:
		msg += fmt.Sprintf(" Smart reorder waits until %s, since you cancelled its last order.",
			sl.State.CooldownUntil.Format("2006-01-02 15:04 MST"))
	case why.Held == engine.HeldCancels:
		msg += " Smart reorder waits until this supply is full again, since you cancelled its last two orders."
	case sl.Mode == replenish.ModeAuto && sl.ProductID == "":
		msg += " Choose a product so that smart reorder can order it."
	}
	return msg
}

// PutEndpoints creates or updates a customer's endpoints from discovery,
// all or none; field names where they were in the message.
func (s *Service) PutEndpoints(ctx context.Context, vendorCode, customerID, field string, es []DiscoveredEndpoint) error {
	if err := CheckEndpoints(field, es); err != nil {
		return err
	}
	now := s.now()
	return s.store.Write(ctx, func(tx storage.Tx) error {
		return s.putEndpoints(ctx, tx, vendorCode, customerID, field, es, now)
	})
}

// putEndpoints checks each endpoint's inventory capabilities against the
// replenishment IDs they name, then stores the endpoints. A new slot is in
// NOTIFY mode with the first product of its list in the customer's
// marketplace.
func (s *Service) putEndpoints(ctx context.Context, tx storage.Tx, vendorCode, customerID, field string, es []DiscoveredEndpoint, now time.Time) error {
	c, err := tx.Customer(ctx, customerID)
	if err != nil {
		return err
	}
	models := map[string]replenish.Model{}
	allowed := map[string]bool{} // models this customer may discover
	for i, de := range es {
		f := fmt.Sprintf("%s[%d]", field, i)
		e := replenish.Endpoint{EndpointID: de.EndpointID, VendorCode: vendorCode, CustomerID: customerID,
			FriendlyName: de.FriendlyName, Cookie: de.Cookie}
		for j, capa := range de.Capabilities {
			if !isInventory(capa.Interface) {
				continue
			}
			cf := fmt.Sprintf("%s.capabilities[%d]", f, j)
			rid := capa.Configuration.Replenishment.Value
			req, err := tx.RequestByReplenishmentID(ctx, rid)
			if replenish.ErrorCode(err) == replenish.ENotFound {
				retired, err := tx.IsRetired(ctx, rid)
				if err != nil {
					return err
				}
				if retired {
					return invalid(cf+".configuration.replenishment.value", "replenishment ID "+rid+
						" was retired: its slot was removed from the model; update the device's firmware or configuration")
				}
			}
			if replenish.ErrorCode(err) == replenish.ENotFound || (err == nil && req.Status != replenish.RequestAssigned) {
				return invalid(cf+".configuration.replenishment.value", "unknown replenishment ID "+rid)
			}
			if err != nil {
				return err
			}
			if req.VendorCode != vendorCode {
				return replenish.Errorf(replenish.EForbidden, "%s: replenishment ID %s was issued to another vendor", cf, rid)
			}
			if e.ModelID == "" {
				e.ModelID = req.ModelID
			} else if e.ModelID != req.ModelID {
				return invalid(cf+".configuration.replenishment.value", fmt.Sprintf(
					"replenishment ID %s is of model %s, the endpoint's other sensors of model %s", rid, req.ModelID, e.ModelID))
			}
			if want := SensorInterface[req.SensorType]; capa.Interface != want {
				return invalid(cf+".interface", fmt.Sprintf("replenishment ID %s declares a %s sensor: %s", rid, req.SensorType, want))
			}
			if mt := capa.Configuration.Measurement; mt.Type != string(req.Measurement.Type) {
				return invalid(cf+".configuration.measurement.@type", fmt.Sprintf(
					"replenishment ID %s measures %s, not %s", rid, req.Measurement.Type, mt.Type))
			}
			m, ok := models[req.ModelID]
			if !ok {
				if m, err = tx.Model(ctx, vendorCode, req.ModelID); err != nil {
					return err
				}
				models[req.ModelID] = m
			}
			e.Slots = append(e.Slots, replenish.EndpointSlot{
				Instance: capa.Instance, SlotID: req.SlotID, ReplenishmentID: rid, Name: capabilityName(capa, c.Locale),
				Mode: replenish.ModeNotify, ProductID: defaultProduct(m, req.SlotID, c.Marketplace),
			})
		}
		if e.ModelID == "" {
			// Not a replenishment device: a vendor's cloud reports all its
			// devices, and those without inventory sensors are no concern here.
			continue
		}
		if a := de.AdditionalAttributes; a != nil && a.Model != "" && a.Model != e.ModelID {
			return invalid(f+".additionalAttributes.model", fmt.Sprintf("is %s, but the replenishment IDs are of model %s", a.Model, e.ModelID))
		}
		// Checked once the description is known to be right, so that a
		// vendor's mistake is reported as such.
		if !allowed[e.ModelID] {
			if err := mayDiscover(ctx, tx, models[e.ModelID], customerID); err != nil {
				return err
			}
			allowed[e.ModelID] = true
		}
		_, err := tx.Endpoint(ctx, customerID, e.EndpointID)
		known := err == nil
		if err != nil && replenish.ErrorCode(err) != replenish.ENotFound {
			return err
		}
		if err := tx.PutEndpoint(ctx, e, now); err != nil {
			if replenish.ErrorCode(err) == replenish.EConflict {
				return invalid(f+".endpointId", "this customer has "+e.EndpointID+" from another vendor")
			}
			return err
		}
		if !known {
			if err := s.notify.Vendor(ctx, tx, notifications.DeviceRegistered, e, notifications.Body{}, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// mayDiscover refuses the endpoints of a model not yet certified to a
// customer who is not one of its test accounts (console.md): until the
// operator certifies it, a model is tried by its test accounts only.
func mayDiscover(ctx context.Context, tx storage.Tx, m replenish.Model, customerID string) error {
	if m.Certification == replenish.CertCertified {
		return nil
	}
	test, err := tx.IsTestAccount(ctx, m.VendorCode, m.ModelID, customerID)
	if err != nil || test {
		return err
	}
	return replenish.Errorf(replenish.EForbidden, "model %s is not certified (%s): until it is, only its test accounts can discover its devices",
		m.ModelID, m.Certification)
}

// capabilityName picks the capability's friendly name in the customer's
// locale, else its first text name, else its instance.
func capabilityName(c Capability, locale string) string {
	name := c.Instance
	if c.CapabilityResources == nil {
		return name
	}
	for i, fn := range c.CapabilityResources.FriendlyNames {
		if fn.Type != "text" || fn.Value.Text == "" {
			continue
		}
		if fn.Value.Locale == locale {
			return fn.Value.Text
		}
		if i == 0 || name == c.Instance {
			name = fn.Value.Text
		}
	}
	return name
}

// defaultProduct is the first product of the slot's list in marketplace
// mp, or the marketplace's placeholder when the model has no list there.
func defaultProduct(m replenish.Model, slotID, mp string) string {
	for _, sl := range m.Slots {
		if sl.SlotID == slotID && len(sl.Products[mp]) > 0 {
			return sl.Products[mp][0]
		}
	}
	return catalog.PlaceholderProductID(mp)
}
