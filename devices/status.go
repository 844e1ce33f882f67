package devices

import (
	"context"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/storage"
)

// askInterval is how long a device waits before it is asked for its
// state again, as a vendor's cloud is for its endpoints.
const askInterval = time.Hour

// Status records a device coming online or going offline. One that comes
// online after ReportStateAfter or more without a reading is asked for
// its state (a ReportState directive).
func (s *Service) Status(ctx context.Context, deviceID string, online bool) {
	now := s.now()
	if err := s.gw.DeviceStatus(ctx, deviceID, online, now); err != nil {
		s.log.Warn("device status not recorded", "device", deviceID, "online", online, "err", err)
		return
	}
	if !online || s.ReportStateAfter <= 0 {
		return
	}
	var newest time.Time
	claimed := false
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		d, _, err := tx.Device(ctx, deviceID)
		if err != nil || d.CustomerID == "" {
			return err
		}
		claimed = true
		e, err := tx.Endpoint(ctx, d.CustomerID, deviceID)
		if replenish.ErrorCode(err) == replenish.ENotFound {
			claimed = false
			return nil
		}
		for _, sl := range e.Slots {
			if sl.State.LastSampleAt.After(newest) {
				newest = sl.State.LastSampleAt
			}
		}
		return err
	})
	if err != nil {
		s.log.Warn("device's readings not read", "device", deviceID, "err", err)
		return
	}
	if claimed && now.Sub(newest) >= s.ReportStateAfter {
		s.askState(deviceID, now)
	}
}

// askState sends a device a ReportState directive, at most once each
// askInterval.
func (s *Service) askState(deviceID string, now time.Time) {
	t := s.current()
	if t == nil {
		return
	}
	s.mu.Lock()
	if last, ok := s.asked[deviceID]; ok && now.Sub(last) < askInterval {
		s.mu.Unlock()
		return
	}
	s.asked[deviceID] = now
	for id, at := range s.asked {
		if now.Sub(at) >= askInterval {
			delete(s.asked, id)
		}
	}
	s.mu.Unlock()
	if err := t.Directive(deviceID, gateway.ReportState(deviceID)); err != nil {
		s.log.Warn("ReportState not sent", "device", deviceID, "err", err)
	}
}

// Ask asks a customer's CONNECT_KIT device for its state over MQTT, at
// most once each askInterval, without blocking the page that asks.
func (s *Service) Ask(vendorCode, customerID, deviceID string) {
	go s.askState(deviceID, s.now())
}
