package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
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
	// Embedded puts the bridge on Replenish's own broker, with an account
	// for the customer's Home Assistant (brokerUrl and discoveryPrefix
	// are then ignored); false goes back to a broker of their own, and
	// the account is deleted.
	Embedded *Flag `json:"embedded"`
	// NewPassword gives the account a new password, answered this once;
	// the old one stops working.
	NewPassword *Flag `json:"newPassword"`
	// Status and Account are read-only: accepted, so that the settings
	// as answered can be sent back changed, and ignored.
	Status  json.RawMessage `json:"status"`
	Account json.RawMessage `json:"account"`
}

// Flag is a boolean read leniently: true or false, or either as a string
// in any case, with spaces around.
type Flag bool

// UnmarshalJSON reads true, false, "true" or "false"; anything else is
// refused as not a boolean, by the field's name.
func (f *Flag) UnmarshalJSON(b []byte) error {
	s := string(b)
	var text string
	if json.Unmarshal(b, &text) == nil {
		s = text
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*f = true
	case "false":
		*f = false
	default:
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[bool]()}
	}
	return nil
}

// on reports whether f is given and true.
func (f *Flag) on() bool { return f != nil && bool(*f) }

// HomeAssistantView is a customer's Home Assistant bridge as answered:
// the broker's password is masked, never shown.
type HomeAssistantView struct {
	Enabled bool `json:"enabled"`
	// Embedded: the bridge is on Replenish's own broker; Account says
	// how Home Assistant signs in there.
	Embedded        bool                  `json:"embedded"`
	BrokerURL       string                `json:"brokerUrl"`
	DiscoveryPrefix string                `json:"discoveryPrefix"`
	Account         *HomeAssistantAccount `json:"account,omitempty"`
	Status          BridgeStatus          `json:"status"`
}

// HomeAssistantAccount is what the customer sets in Home Assistant's MQTT
// integration to use Replenish's own broker.
type HomeAssistantAccount struct {
	// BrokerURL is the broker's address, "" when this Replenish no
	// longer runs one.
	BrokerURL string `json:"brokerUrl"`
	Username  string `json:"username"`
	// Password is shown once: in the answer that made it.
	Password        string `json:"password,omitempty"`
	DiscoveryPrefix string `json:"discoveryPrefix"`
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

// homeAssistantView shows h as answers do, with ownBroker the address of
// Replenish's own broker and the account's password if it was just made.
func homeAssistantView(h replenish.HomeAssistant, ownBroker, password string) HomeAssistantView {
	v := HomeAssistantView{Enabled: h.Enabled, Embedded: h.Embedded, BrokerURL: h.Broker().MaskedURL(),
		DiscoveryPrefix: h.DiscoveryPrefix, Status: BridgeStatus{State: h.Status.State, LastError: h.Status.LastError}}
	if h.Embedded {
		v.Account = &HomeAssistantAccount{BrokerURL: ownBroker, Username: h.Account, Password: password,
			DiscoveryPrefix: h.DiscoveryPrefix}
	}
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
// Turning it on needs a broker: the customer's, or Replenish's own (at
// ownBroker, "" for none) with an account whose password, when made, is
// returned. Turning it off, or moving it to another broker or prefix,
// leaves the bridge to remove what it published.
func putHomeAssistant(ctx context.Context, tx storage.Tx, customerID string, in *HomeAssistantInput,
	broker *replenish.Broker, ownBroker string, now time.Time) (h replenish.HomeAssistant, password string, err error) {
	cur, err := homeAssistant(ctx, tx, customerID)
	if err != nil || in == nil {
		return cur, "", err
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
	if in.Embedded != nil {
		next.Embedded = bool(*in.Embedded)
	}
	switch {
	case next.Embedded && ownBroker == "" && (in.Embedded.on() || in.NewPassword.on() || next.Enabled && !cur.Enabled):
		return cur, "", replenish.FieldError("homeAssistant.embedded",
			"this Replenish runs no MQTT broker of its own; give brokerUrl, the address of yours")
	case next.Embedded:
		// Replenish's broker: the customer's own broker is forgotten, and
		// the prefix is the account's, a topic tree of their own.
		next.BrokerURL, next.Username, next.Password = "", "", ""
		next.Account = replenish.HomeAssistantAccount(customerID)
		next.DiscoveryPrefix = next.Account
		if len(next.AccountHash) == 0 || in.NewPassword.on() {
			password = replenish.NewSecret("")
			next.AccountHash = replenish.HashSecret(password)
		}
	case in.NewPassword.on():
		return cur, "", replenish.FieldError("homeAssistant.newPassword",
			"only for an account on Replenish's broker: set embedded to true")
	case cur.Embedded:
		// Back to a broker of their own: the account is deleted, and the
		// prefix is Home Assistant's default unless given.
		next.Account, next.AccountHash = "", nil
		if in.DiscoveryPrefix == nil {
			next.DiscoveryPrefix = replenish.DefaultDiscoveryPrefix
		}
	}
	if next.Enabled && !next.Embedded && next.BrokerURL == "" {
		return cur, "", replenish.FieldError("homeAssistant.brokerUrl",
			"required to turn the bridge on: the address of your MQTT broker, such as mqtt://user:password@homeassistant.local:1883")
	}
	same := next.Enabled == cur.Enabled && next.Broker() == cur.Broker() && next.DiscoveryPrefix == cur.DiscoveryPrefix &&
		next.Embedded == cur.Embedded && next.Account == cur.Account && bytes.Equal(next.AccountHash, cur.AccountHash)
	if same {
		return cur, "", nil
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
		return cur, "", err
	}
	next.Generation++
	return next, password, nil
}
