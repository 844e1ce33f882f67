package gateway

import (
	"context"
	"encoding/json"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/notifications"
	"replenish/storage"
)

// LimitDevices sets the per-device rate limit of events that devices send
// over MQTT; nil means none. A flood from one device spends only its own
// allowance.
func (s *Service) LimitDevices(l *Limiter) { s.deviceLimit = l }

// AcceptDevice validates and applies one event that a CONNECT_KIT device
// sent over MQTT: the same parsing, rules and storage as Accept, with the
// device's session as its identity instead of a token. It returns nil
// once the event is durably stored; a message ID the device sent before
// is accepted again with no effect. A rejected event changes nothing.
func (s *Service) AcceptDevice(ctx context.Context, deviceID string, body []byte) (err error) {
	now := s.now()
	typ := ""
	defer func() { countEvent(typ, err) }()
	r, err := ParseDevice(body, now)
	if err != nil {
		return err
	}
	typ = r.Header.Namespace + "." + r.Header.Name
	switch {
	case r.EndpointID != "" && r.EndpointID != deviceID:
		return replenish.Errorf(replenish.EForbidden, "event.endpoint.endpointId: a device reports only itself (%s), not %s", deviceID, r.EndpointID)
	case r.Deleted != nil:
		return replenish.Errorf(replenish.EForbidden, "event.payload.endpoints: a device cannot delete itself; its customer releases it")
	}
	for i, e := range r.Endpoints {
		if e.EndpointID != deviceID {
			return replenish.Errorf(replenish.EForbidden, "event.payload.endpoints[%d].endpointId: a device describes only itself (%s), not %s",
				i, deviceID, e.EndpointID)
		}
	}
	return s.store.Write(ctx, func(tx storage.Tx) error {
		d, _, err := tx.Device(ctx, deviceID)
		if replenish.ErrorCode(err) == replenish.ENotFound || (err == nil && !d.RevokedAt.IsZero()) {
			return replenish.Errorf(replenish.EUnauthorized, "device %s is not provisioned or was revoked", deviceID)
		}
		if err != nil {
			return err
		}
		if d.CustomerID == "" {
			return replenish.Errorf(replenish.EForbidden, "device %s is not claimed yet: its customer claims it with the code on the box", deviceID)
		}
		if err := s.deviceLimit.Take("device", deviceID, now); err != nil {
			return err
		}
		// Message IDs are unique per device: two devices' counters may meet.
		fresh, err := tx.InsertEvent(ctx, storage.Event{VendorCode: d.VendorCode, MessageID: deviceID + "/" + r.Header.MessageID,
			CustomerID: d.CustomerID, Namespace: r.Header.Namespace, Name: r.Header.Name, Body: body, ReceivedAt: now})
		if err != nil || !fresh {
			return err
		}
		if err := tx.SetDeviceSeen(ctx, deviceID, "", now); err != nil {
			return err
		}
		g := storage.Grant{VendorCode: d.VendorCode, CustomerID: d.CustomerID}
		if r.Endpoints != nil {
			return s.putEndpoints(ctx, tx, d.VendorCode, d.CustomerID, "event.payload.endpoints", r.Endpoints, now)
		}
		return s.applyReport(ctx, tx, g, r, now)
	})
}

// ClaimDevice makes the device whose claim code has claimHash the
// customer's endpoint, with endpointId = deviceId and one inventory
// sensor per slot of its model, whose instance is the slot ID. As for a
// vendor's discovery, a model not yet certified is claimed only by its
// test accounts. The code is spent only when all of it succeeds.
func (s *Service) ClaimDevice(ctx context.Context, customerID string, claimHash []byte, friendlyName string) (replenish.Endpoint, error) {
	now := s.now()
	var e replenish.Endpoint
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		d, err := tx.ClaimDevice(ctx, claimHash, customerID, now)
		if err != nil {
			return err
		}
		m, err := tx.Model(ctx, d.VendorCode, d.ModelID)
		if err != nil {
			return err
		}
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		de := DeviceEndpoint(m, d.DeviceID, friendlyName, c.Marketplace)
		if len(de.Capabilities) == 0 {
			return replenish.Errorf(replenish.ENotReady, "model %s has no slot with an assigned replenishment ID yet: ask %s", m.ModelID, d.VendorCode)
		}
		if err := s.putEndpoints(ctx, tx, d.VendorCode, customerID, "device", []DiscoveredEndpoint{de}, now); err != nil {
			return err
		}
		e, err = tx.Endpoint(ctx, customerID, d.DeviceID)
		return err
	})
	return e, err
}

// DeviceEndpoint describes a CONNECT_KIT device as discovery would: one
// inventory capability per slot of its model with an assigned
// replenishment ID, whose instance is the slot ID, named as the model's
// listing in marketplace names the slot. friendlyName "" takes the
// listing's device name.
func DeviceEndpoint(m replenish.Model, deviceID, friendlyName, marketplace string) DiscoveredEndpoint {
	l := m.Listings[marketplace]
	if friendlyName == "" {
		friendlyName = l.DeviceName
	}
	if friendlyName == "" {
		friendlyName = m.Name
	}
	de := DiscoveredEndpoint{EndpointID: deviceID, FriendlyName: friendlyName, ManufacturerName: m.VendorCode,
		Description: m.Name, AdditionalAttributes: &AdditionalAttributes{Model: m.ModelID}}
	for _, sl := range m.Slots {
		req := sl.Request
		if req == nil || req.Status != replenish.RequestAssigned {
			continue
		}
		name := l.SlotNames[sl.SlotID]
		if name == "" {
			name = req.Description
		}
		if name == "" {
			name = sl.SlotID
		}
		capa := Capability{Type: "AlexaInterface", Interface: SensorInterface[req.SensorType], Version: "3", Instance: sl.SlotID,
			CapabilityResources: &CapabilityResources{FriendlyNames: []FriendlyName{{Type: "text"}}},
			Configuration: &CapabilityConfig{
				Measurement:   &MeasurementConfig{Type: string(req.Measurement.Type), Unit: string(req.Measurement.Unit)},
				Replenishment: &ReplenishmentConfig{Type: "DashReplenishmentId", Value: req.ReplenishmentID},
			}}
		capa.CapabilityResources.FriendlyNames[0].Value.Text = name
		de.Capabilities = append(de.Capabilities, capa)
	}
	return de
}

// ReleaseDevice is a customer giving up a CONNECT_KIT device: as when a
// vendor deletes an endpoint, its pending order is cancelled and its
// vendor told; the device is nobody's until claimed again with a new
// code from its vendor.
func (s *Service) ReleaseDevice(ctx context.Context, customerID, endpointID string) error {
	now := s.now()
	return s.store.Write(ctx, func(tx storage.Tx) error {
		e, err := tx.Endpoint(ctx, customerID, endpointID)
		if err != nil {
			return err
		}
		d, _, err := tx.Device(ctx, endpointID)
		if replenish.ErrorCode(err) == replenish.ENotFound || (err == nil && d.CustomerID != customerID) {
			return replenish.Errorf(replenish.EConflict, "endpoint %s comes from %s's cloud: remove it in %s's app, or unlink %s",
				endpointID, e.VendorCode, e.VendorCode, e.VendorCode)
		}
		if err != nil {
			return err
		}
		if err := s.orders.CancelPending(ctx, tx, e, "the customer released the device", now); err != nil {
			return err
		}
		if err := tx.DeleteEndpoint(ctx, customerID, endpointID, now); err != nil {
			return err
		}
		if err := tx.ReleaseDevice(ctx, endpointID); err != nil {
			return err
		}
		return s.notify.Vendor(ctx, tx, notifications.DeviceDeregistered, e, notifications.Body{}, now)
	})
}

// DeviceStatus records a device coming online or going offline, as its
// MQTT session and last will say.
func (s *Service) DeviceStatus(ctx context.Context, deviceID string, online bool, at time.Time) error {
	c := replenish.ConnectivityOffline
	if online {
		c = replenish.ConnectivityOnline
	}
	return s.store.Write(ctx, func(tx storage.Tx) error { return tx.SetDeviceSeen(ctx, deviceID, c, at) })
}

// SetLowSupply is the name of the directive that tells a CONNECT_KIT
// device, for its display, that one of its supplies is low.
const SetLowSupply = "SetLowSupply"

// LowSupplyPayload is a SetLowSupply directive's payload: the slot, its
// level as the customer reads it, and the forecast's run-out date
// (YYYY-MM-DD, left out while unknown).
type LowSupplyPayload struct {
	Instance   string `json:"instance"`
	Level      string `json:"level"`
	RunOutDate string `json:"runOutDate,omitempty"`
	Message    string `json:"message"`
}

// tellDevice queues a SetLowSupply directive for e when it is a claimed
// CONNECT_KIT device: a vendor's cloud has its own way to its devices.
func (s *Service) tellDevice(ctx context.Context, tx storage.Tx, e *replenish.Endpoint, sl *replenish.EndpointSlot, msg string, now time.Time) error {
	d, _, err := tx.Device(ctx, e.EndpointID)
	if replenish.ErrorCode(err) == replenish.ENotFound || (err == nil && d.CustomerID != e.CustomerID) {
		return nil
	}
	if err != nil {
		return err
	}
	p := LowSupplyPayload{Instance: sl.Instance, Level: engine.DescribeAmount(sl), Message: msg}
	if o := engine.Forecast(*sl, now); !o.RunOut.IsZero() {
		p.RunOutDate = o.RunOut.UTC().Format(time.DateOnly)
	}
	body, err := json.Marshal(Message{Directive: &Directive{
		Header:   Header{Namespace: "Replenish", Name: SetLowSupply, PayloadVersion: "3", MessageID: replenish.NewUUID()},
		Endpoint: &EndpointRef{EndpointID: e.EndpointID}, Payload: p}})
	if err != nil {
		return err
	}
	return s.notify.Device(ctx, tx, SetLowSupply, *e, body, now)
}

// ReportState is a ReportState directive to a device, which it answers
// with a StateReport on its events topic.
func ReportState(deviceID string) []byte {
	b, _ := json.Marshal(Message{Directive: &Directive{
		Header: Header{Namespace: "Alexa", Name: "ReportState", PayloadVersion: "3", MessageID: replenish.NewUUID(),
			CorrelationToken: replenish.NewUUID()},
		Endpoint: &EndpointRef{EndpointID: deviceID}, Payload: struct{}{}}})
	return b
}
