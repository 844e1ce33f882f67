// Package devices is the CONNECT_KIT devices' service: their vendor
// provisions them with MQTT credentials and a claim code, a customer
// claims one, and over MQTT they sign in, send events (through the
// gateway's pipeline) and receive directives.
package devices

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/storage"
)

// MaxProvision is how many devices one provisioning call takes.
const MaxProvision = 1000

// Transport carries directives to devices and drops sessions; package
// mqtt's brokers are one.
type Transport interface {
	Directive(deviceID string, payload []byte) error
	Disconnect(deviceID string)
}

// Service provisions, claims and hears devices.
type Service struct {
	store storage.Store
	gw    *gateway.Service
	now   func() time.Time
	log   *slog.Logger

	// ClaimDelay is how long every claim takes at least, so that the time
	// of an answer tells nothing about a code.
	ClaimDelay time.Duration
	// ClaimTries wrong claim codes per customer are allowed each
	// ClaimWindow; more are refused until the window passes.
	ClaimTries  int
	ClaimWindow time.Duration
	// ReportStateAfter is how old a device's newest reading may be when it
	// comes online before it is asked for its state; 0 never asks.
	ReportStateAfter time.Duration

	mu        sync.Mutex
	transport Transport
	wrong     map[string][]time.Time // wrong claim codes by customer
	asked     map[string]time.Time   // ReportState sent, by device
}

// New returns a Service on store that sends events through gw.
func New(store storage.Store, gw *gateway.Service, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, gw: gw, now: now, log: log,
		ClaimDelay: 500 * time.Millisecond, ClaimTries: 5, ClaimWindow: 15 * time.Minute, ReportStateAfter: 24 * time.Hour,
		wrong: map[string][]time.Time{}, asked: map[string]time.Time{}}
}

// Use makes t the transport of directives (nil: MQTT is off).
func (s *Service) Use(t Transport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transport = t
}

func (s *Service) current() Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Provisioned is a new device with its credentials and claim code, which
// are shown this once.
type Provisioned struct {
	DeviceID     string `json:"deviceId"`
	SerialNumber string `json:"serialNumber"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	ClaimCode    string `json:"claimCode"`
}

// Provision creates devices of a CONNECT_KIT model, all or none.
func (s *Service) Provision(ctx context.Context, vendorCode, modelID string, serials []string) ([]Provisioned, error) {
	switch {
	case len(serials) == 0:
		return nil, replenish.FieldError("devices", "at least one device: {\"devices\":[{\"serialNumber\":\"SN-0001\"}]}")
	case len(serials) > MaxProvision:
		return nil, replenish.FieldError("devices", fmt.Sprintf("at most %d devices a call; send the rest in another", MaxProvision))
	}
	f := replenish.Fields{}
	seen := map[string]int{}
	for i, sn := range serials {
		field := fmt.Sprintf("devices[%d].serialNumber", i)
		switch {
		case sn == "":
			f.Add(field, "required")
		case len(sn) > 64:
			f.Add(field, "at most 64 characters")
		case strings.ContainsFunc(sn, func(r rune) bool { return r < 0x21 || r == 0x7f }):
			f.Add(field, "must not contain spaces or control characters")
		}
		if j, ok := seen[sn]; ok && sn != "" {
			f.Add(field, fmt.Sprintf("%s is listed twice (also devices[%d])", sn, j))
		}
		seen[sn] = i
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Provisioned, len(serials))
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		m, err := tx.Model(ctx, vendorCode, modelID)
		if err != nil {
			return err
		}
		if m.Kind != replenish.KindConnectKit {
			return replenish.Errorf(replenish.EConflict, "model %s is a %s model: its devices talk through your cloud; only %s models' devices are provisioned here",
				modelID, m.Kind, replenish.KindConnectKit)
		}
		for i, sn := range serials {
			p := Provisioned{DeviceID: replenish.NewID("dev_", 20), SerialNumber: sn,
				Password: replenish.NewSecret(""), ClaimCode: NewClaimCode()}
			p.Username = p.DeviceID
			d := replenish.Device{DeviceID: p.DeviceID, VendorCode: vendorCode, ModelID: modelID, SerialNumber: sn, CreatedAt: now}
			err := tx.InsertDevice(ctx, d, replenish.HashSecret(p.Password), claimHash(p.ClaimCode))
			if replenish.ErrorCode(err) == replenish.EConflict {
				return replenish.FieldError(fmt.Sprintf("devices[%d].serialNumber", i),
					"model "+modelID+" has a device "+sn+" already: revoke it first to provision the serial number again")
			}
			if err != nil {
				return err
			}
			out[i] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// View is a device as its vendor sees it.
type View struct {
	replenish.Device
	Claimed      bool       `json:"claimed"`
	Revoked      bool       `json:"revoked"`
	LastSeenAt   *time.Time `json:"lastSeenAt"`
	Connectivity string     `json:"connectivity,omitempty"`
}

func view(d replenish.Device) View {
	v := View{Device: d, Claimed: d.CustomerID != "", Revoked: !d.RevokedAt.IsZero(), Connectivity: d.Connectivity}
	if !d.LastSeenAt.IsZero() {
		v.LastSeenAt = &d.LastSeenAt
	}
	return v
}

// List lists a vendor model's devices.
func (s *Service) List(ctx context.Context, vendorCode, modelID string) ([]View, error) {
	var out []View
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		if _, err := tx.Model(ctx, vendorCode, modelID); err != nil {
			return err
		}
		ds, err := tx.Devices(ctx, vendorCode, modelID)
		for _, d := range ds {
			out = append(out, view(d))
		}
		return err
	})
	return out, err
}

// own returns a vendor's device; another vendor's is not found.
func own(ctx context.Context, tx storage.Tx, vendorCode, deviceID string) (replenish.Device, error) {
	d, _, err := tx.Device(ctx, deviceID)
	if err == nil && (d.VendorCode != vendorCode || !d.RevokedAt.IsZero()) {
		err = replenish.Errorf(replenish.ENotFound, "device %s not found", deviceID)
	}
	return d, err
}

// Revoke revokes a vendor's device and drops its session: it can no
// longer sign in or be claimed.
func (s *Service) Revoke(ctx context.Context, vendorCode, deviceID string) error {
	now := s.now()
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if _, err := own(ctx, tx, vendorCode, deviceID); err != nil {
			return err
		}
		return tx.RevokeDevice(ctx, deviceID, now)
	})
	if err != nil {
		return err
	}
	if t := s.current(); t != nil {
		t.Disconnect(deviceID)
	}
	return nil
}

// NewCode gives a vendor's unclaimed device a new claim code (one that
// its customer released, or whose box was lost), shown this once.
func (s *Service) NewCode(ctx context.Context, vendorCode, deviceID string) (string, error) {
	code := NewClaimCode()
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		d, err := own(ctx, tx, vendorCode, deviceID)
		if err != nil {
			return err
		}
		if d.CustomerID != "" {
			return replenish.Errorf(replenish.EConflict, "device %s is claimed: its customer releases it first", deviceID)
		}
		return tx.SetClaimCode(ctx, deviceID, claimHash(code))
	})
	return code, err
}

// Claim makes the device whose code this is the customer's endpoint. A
// wrong code is not found, after the same delay as a right one; a
// customer who sends ClaimTries wrong ones in ClaimWindow waits.
func (s *Service) Claim(ctx context.Context, customerID, code, friendlyName string) (replenish.Endpoint, error) {
	start := time.Now()
	defer func() {
		if wait := s.ClaimDelay - time.Since(start); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
	}()
	now := s.now()
	if err := s.mayClaim(customerID, now); err != nil {
		return replenish.Endpoint{}, err
	}
	norm := NormalizeClaimCode(code)
	if len(norm) < 8 || len(norm) > 12 {
		s.wrongCode(customerID, now)
		return replenish.Endpoint{}, replenish.FieldError("claimCode", "the 8 to 12 letters and digits on the device or its box")
	}
	if len(friendlyName) > 128 {
		return replenish.Endpoint{}, replenish.FieldError("friendlyName", "at most 128 characters")
	}
	e, err := s.gw.ClaimDevice(ctx, customerID, claimHash(norm), strings.TrimSpace(friendlyName))
	if replenish.ErrorCode(err) == replenish.ENotFound {
		s.wrongCode(customerID, now)
		return e, replenish.Errorf(replenish.ENotFound, "no device has this claim code: check it on the device or its box (a code works once)")
	}
	return e, err
}

// mayClaim refuses a customer who sent too many wrong codes lately.
func (s *Service) mayClaim(customerID string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	recent := s.wrong[customerID][:0]
	for _, at := range s.wrong[customerID] {
		if now.Sub(at) < s.ClaimWindow {
			recent = append(recent, at)
		}
	}
	if len(recent) == 0 {
		delete(s.wrong, customerID)
		return nil
	}
	s.wrong[customerID] = recent
	if len(recent) < s.ClaimTries {
		return nil
	}
	return &replenish.Error{Code: replenish.EThrottled, RetryAfter: recent[0].Add(s.ClaimWindow).Sub(now),
		Message: fmt.Sprintf("%d wrong claim codes in %s: wait before trying again", len(recent), s.ClaimWindow)}
}

func (s *Service) wrongCode(customerID string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wrong[customerID] = append(s.wrong[customerID], now)
}

// Release gives up a customer's device: it is no longer their endpoint.
func (s *Service) Release(ctx context.Context, customerID, endpointID string) error {
	return s.gw.ReleaseDevice(ctx, customerID, endpointID)
}

// claimAlphabet has no letters or digits that look alike (0 O, 1 I L).
const claimAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// NewClaimCode returns a random 10-character claim code (49 bits), in two
// groups of five for reading aloud: "ABCDE-FGHJK".
func NewClaimCode() string {
	var b [10]byte
	rand.Read(b[:])
	out := make([]byte, 0, 11)
	for i, c := range b {
		if i == 5 {
			out = append(out, '-')
		}
		// 256 is not a multiple of 31; the slight bias costs under a bit.
		out = append(out, claimAlphabet[int(c)%len(claimAlphabet)])
	}
	return string(out)
}

// NormalizeClaimCode reads a code as a person types it: any case, with
// spaces or dashes anywhere.
func NormalizeClaimCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
}

func claimHash(code string) []byte { return replenish.HashSecret(NormalizeClaimCode(code)) }

// Authenticate reports whether a device may sign in with password: it
// exists, is not revoked, and the password's hash matches.
func (s *Service) Authenticate(ctx context.Context, deviceID, password string) bool {
	var hash []byte
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		d, h, err := tx.Device(ctx, deviceID)
		if err == nil && !d.RevokedAt.IsZero() {
			err = replenish.Errorf(replenish.ENotFound, "revoked")
		}
		hash = h
		return err
	})
	if err != nil {
		if replenish.ErrorCode(err) != replenish.ENotFound {
			s.log.Warn("device sign-in not checked", "device", deviceID, "err", err)
		}
		return false
	}
	return subtle.ConstantTimeCompare(hash, replenish.HashSecret(password)) == 1
}

// Ack is the answer to a device's event, on its acks topic.
type Ack struct {
	MessageID   string `json:"messageId"`
	Status      int    `json:"status"`
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

// Event runs one event from a device through the gateway and returns its
// ack: 202 once it is durable, else the gateway's code and status.
func (s *Service) Event(ctx context.Context, deviceID string, payload []byte) []byte {
	err := s.gw.AcceptDevice(ctx, deviceID, payload)
	a := Ack{MessageID: messageID(payload), Status: 202}
	if err != nil {
		var e *replenish.Error
		if !errors.As(err, &e) || e.Code == replenish.EInternal {
			s.log.Error("device event failed", "device", deviceID, "err", err)
			e = replenish.Errorf(replenish.EInternal, "internal error: send the event again")
		}
		a.Code, a.Status = gateway.Exception(e.Code)
		a.Description = e.Message
	}
	b, _ := json.Marshal(a)
	return b
}

// messageID reads the event's message ID, as well as it can, so that
// even a refused event's ack names it.
func messageID(payload []byte) string {
	var m struct {
		Event struct {
			Header struct {
				MessageID any `json:"messageId"`
			} `json:"header"`
		} `json:"event"`
	}
	if json.Unmarshal(payload, &m) != nil {
		return ""
	}
	id, _ := m.Event.Header.MessageID.(string)
	return id
}
