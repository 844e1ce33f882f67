package notifications

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// HomeAssistantInput is a change of a customer's Home Assistant bridge; a
// field left out keeps its value.
type HomeAssistantInput struct {
	Enabled *bool `json:"enabled"`
	// BrokerURL may carry the user name and password; a password sent as
	// replenish.PasswordMask (as answers show it) keeps the one stored.
	BrokerURL       *string `json:"brokerUrl"`
	DiscoveryPrefix *string `json:"discoveryPrefix"`
	// Status is read-only: accepted, so that the settings as answered
	// can be sent back changed, and ignored.
	Status json.RawMessage `json:"status"`
}

// HomeAssistantView is a customer's Home Assistant bridge as answered:
// the broker's password is masked, never shown.
type HomeAssistantView struct {
	Enabled         bool         `json:"enabled"`
	BrokerURL       string       `json:"brokerUrl"`
	DiscoveryPrefix string       `json:"discoveryPrefix"`
	Status          BridgeStatus `json:"status"`
}

// BridgeStatus is how the bridge is doing: OFF, CONNECTING, CONNECTED,
// RETRYING (with the last error and the next attempt) or REMOVING (turned
// off, its entities not yet removed from Home Assistant).
type BridgeStatus struct {
	State         string     `json:"state"`
	Since         *time.Time `json:"since,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
}

// homeAssistantView shows h as answers do.
func homeAssistantView(h replenish.HomeAssistant) HomeAssistantView {
	v := HomeAssistantView{Enabled: h.Enabled, BrokerURL: h.Broker().MaskedURL(), DiscoveryPrefix: h.DiscoveryPrefix,
		Status: BridgeStatus{State: h.Status.State, LastError: h.Status.LastError}}
	if !h.Status.Since.IsZero() {
		v.Status.Since = &h.Status.Since
	}
	if !h.Status.NextAttemptAt.IsZero() {
		v.Status.NextAttemptAt = &h.Status.NextAttemptAt
	}
	return v
}

// homeAssistant returns a customer's bridge, or the one of a customer
// who never set it: off, with Home Assistant's default prefix.
func homeAssistant(ctx context.Context, tx storage.Tx, customerID string) (replenish.HomeAssistant, error) {
	h, err := tx.HomeAssistant(ctx, customerID)
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return replenish.HomeAssistant{CustomerID: customerID, DiscoveryPrefix: replenish.DefaultDiscoveryPrefix,
			Status: replenish.HomeAssistantStatus{State: replenish.BridgeOff}}, nil
	}
	return h, err
}

// checkHomeAssistant checks what can be checked of a change without the
// stored settings, and puts the values in their one spelling: the broker
// parsed, the prefix trimmed of spaces and slashes.
func checkHomeAssistant(in *HomeAssistantInput, f replenish.Fields) (broker *replenish.Broker) {
	if in == nil {
		return nil
	}
	if in.BrokerURL != nil && strings.TrimSpace(*in.BrokerURL) != "" {
		b, problem := replenish.ParseBrokerURL(*in.BrokerURL)
		if problem != "" {
			f.Add("homeAssistant.brokerUrl", problem)
		}
		broker = &b
	}
	if in.DiscoveryPrefix != nil {
		p := strings.Trim(strings.TrimSpace(*in.DiscoveryPrefix), "/")
		if p == "" {
			p = replenish.DefaultDiscoveryPrefix
		}
		if problem := replenish.DiscoveryPrefixProblem(p); problem != "" {
			f.Add("homeAssistant.discoveryPrefix", problem)
		}
		in.DiscoveryPrefix = &p
	}
	return broker
}

// putHomeAssistant applies a checked change to a customer's bridge in tx.
// Turning it on needs a broker; turning it off, or moving it to another
// broker or prefix, leaves the bridge to remove what it published.
func putHomeAssistant(ctx context.Context, tx storage.Tx, customerID string, in *HomeAssistantInput,
	broker *replenish.Broker, now time.Time) (replenish.HomeAssistant, error) {
	cur, err := homeAssistant(ctx, tx, customerID)
	if err != nil || in == nil {
		return cur, err
	}
	next := cur
	if in.BrokerURL != nil {
		switch {
		case broker == nil:
			next.BrokerURL, next.Username, next.Password = "", "", ""
		case broker.Password == replenish.PasswordMask && cur.Password != "":
			next.BrokerURL, next.Username = broker.URL, broker.Username
		default:
			next.BrokerURL, next.Username, next.Password = broker.URL, broker.Username, broker.Password
		}
	}
	if in.DiscoveryPrefix != nil {
		next.DiscoveryPrefix = *in.DiscoveryPrefix
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	if next.Enabled && next.BrokerURL == "" {
		return cur, replenish.FieldError("homeAssistant.brokerUrl",
			"required to turn the bridge on: the address of your MQTT broker, such as mqtt://user:password@homeassistant.local:1883")
	}
	same := next.Enabled == cur.Enabled && next.Broker() == cur.Broker() && next.DiscoveryPrefix == cur.DiscoveryPrefix
	if same {
		return cur, nil
	}
	switch {
	case next.Enabled:
		next.Status = replenish.HomeAssistantStatus{State: replenish.BridgeConnecting, Since: now}
	case len(cur.Published) > 0 || cur.Status.State == replenish.BridgeConnected || cur.Status.State == replenish.BridgeRemoving:
		next.Status = replenish.HomeAssistantStatus{State: replenish.BridgeRemoving, Since: now}
	default:
		next.Status = replenish.HomeAssistantStatus{State: replenish.BridgeOff, Since: now}
	}
	if err := tx.PutHomeAssistant(ctx, next, now); err != nil {
		return cur, err
	}
	next.Generation++
	return next, nil
}
