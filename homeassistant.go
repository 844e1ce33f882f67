package replenish

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// HomeAssistant is a customer's Home Assistant bridge: the broker that
// Replenish publishes their supplies to (the settings) and how that is
// going (Status).
type HomeAssistant struct {
	CustomerID string
	Enabled    bool
	// BrokerURL is the broker's address without credentials, in one
	// spelling: mqtt://host:port or mqtts://host:port.
	BrokerURL string
	Username  string
	Password  string
	// DiscoveryPrefix is the first topic level of Home Assistant's MQTT
	// discovery.
	DiscoveryPrefix string
	// Embedded has the bridge publish to Replenish's own MQTT broker
	// rather than the customer's (BrokerURL, Username and Password are
	// then empty), where their Home Assistant signs in as Account, and
	// the discovery prefix is Account too: a private topic tree.
	Embedded bool
	// Account is Home Assistant's user name on Replenish's broker
	// (HomeAssistantAccount), "" for none; AccountHash is the SHA-256 of
	// its password (HashSecret), which is shown once and never stored.
	Account     string
	AccountHash []byte
	// Generation counts changes of the settings, so that a bridge
	// already running sees that it must start over.
	Generation int64
	UpdatedAt  time.Time
	Status     HomeAssistantStatus
	// Published are the discovery topics a bridge published configs on,
	// which turning it off empties.
	Published []string
}

// HomeAssistantStatus is how a customer's bridge is doing.
type HomeAssistantStatus struct {
	State string
	// Since is when the bridge entered State.
	Since time.Time
	// LastError is why the last attempt failed ("" once connected).
	LastError string
	// NextAttemptAt is when a bridge that failed tries again.
	NextAttemptAt time.Time
}

// Home Assistant bridge states.
const (
	BridgeOff        = "OFF"        // turned off, its entities removed
	BridgeConnecting = "CONNECTING" // turned on, not connected yet
	BridgeConnected  = "CONNECTED"  // publishing
	BridgeRetrying   = "RETRYING"   // the broker is down or refused us: trying again at NextAttemptAt
	BridgeRemoving   = "REMOVING"   // turned off, its entities not removed yet
)

// DefaultDiscoveryPrefix is Home Assistant's own default.
const DefaultDiscoveryPrefix = "homeassistant"

// PasswordMask stands for a broker password in answers; sent back in a
// brokerUrl, it keeps the password stored.
const PasswordMask = "xxxxx"

// Broker is an MQTT broker's address with the credentials to sign in.
type Broker struct {
	URL      string // mqtt://host:port or mqtts://host:port
	Username string
	Password string
}

// ParseBrokerURL reads the address of a customer's MQTT broker, with the
// user name and password it may carry. It is lenient in what it takes:
// the schemes mqtt, tcp (plain) and mqtts, ssl, tls, mqtt+ssl, mqtt+tls
// (TLS) in any case, or none at all (plain), and a missing port (1883,
// or 8883 with TLS); and strict in what it gives: mqtt://host:port or
// mqtts://host:port. It returns what is wrong in problem, "" for none.
func ParseBrokerURL(s string) (b Broker, problem string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return b, "required: the address of your MQTT broker, such as mqtt://user:password@homeassistant.local:1883"
	}
	if !strings.Contains(s, "://") {
		s = "mqtt://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return b, "not an address: use mqtt://user:password@host:1883 (or mqtts:// for TLS)"
	}
	scheme, port := "", ""
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		scheme, port = "mqtt", "1883"
	case "mqtts", "ssl", "tls", "mqtt+ssl", "mqtt+tls":
		scheme, port = "mqtts", "8883"
	default:
		return b, "the scheme must be mqtt:// (or tcp://), or mqtts:// (or ssl://) for TLS"
	}
	host := u.Hostname()
	switch {
	case host == "":
		return b, "names no host: use mqtt://host:1883"
	case u.Path != "" && u.Path != "/":
		return b, "must not have a path: an MQTT broker is a host and a port"
	case u.RawQuery != "" || u.Fragment != "":
		return b, "must not have a query or a fragment"
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return b, "the port must be a number from 1 to 65535"
		}
		port = p
	}
	b.URL = scheme + "://" + net.JoinHostPort(host, port)
	if u.User != nil {
		b.Username = u.User.Username()
		b.Password, _ = u.User.Password()
	}
	return b, ""
}

// MaskedURL is the broker's address as answers show it: with the user
// name, and the password (if any) replaced by PasswordMask.
func (b Broker) MaskedURL() string {
	if b.URL == "" || b.Username == "" && b.Password == "" {
		return b.URL
	}
	scheme, rest, _ := strings.Cut(b.URL, "://")
	user := url.User(b.Username)
	if b.Password != "" {
		user = url.UserPassword(b.Username, PasswordMask)
	}
	return scheme + "://" + user.String() + "@" + rest
}

// HomeAssistantAccount is the user name of a customer's Home Assistant on
// Replenish's own broker, ha_<slug>, which is also their discovery prefix
// there: the one topic level that is theirs alone.
func HomeAssistantAccount(customerID string) string { return "ha_" + TopicSlug(customerID) }

// TopicSlug is an ID as one MQTT topic level and a Home Assistant object
// ID: the ID itself when it has only ASCII letters, digits, _ and -,
// otherwise those with _ for the rest, and a short hash of the ID to
// keep two IDs apart.
func TopicSlug(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if s := b.String(); s == id && s != "" {
		return s
	}
	sum := sha256.Sum256([]byte(id))
	return b.String() + "_" + hex.EncodeToString(sum[:4])
}

// Broker returns the bridge's broker with its credentials.
func (h HomeAssistant) Broker() Broker {
	return Broker{URL: h.BrokerURL, Username: h.Username, Password: h.Password}
}

// DiscoveryPrefixProblem says what is wrong with a discovery prefix: it
// is one MQTT topic level, without wildcards, spaces or control
// characters, not starting with $ (the broker's own topics), at most 64
// characters. It returns "" for a good one.
func DiscoveryPrefixProblem(p string) string {
	switch {
	case p == "":
		return "required: one topic level, " + DefaultDiscoveryPrefix + " unless you changed it in Home Assistant"
	case len(p) > 64:
		return "at most 64 characters"
	case strings.HasPrefix(p, "$"):
		return "must not start with $: those topics are the broker's"
	case strings.ContainsAny(p, "/+#"):
		return "one topic level: no /, + or #"
	case strings.IndexFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "no spaces or control characters"
	}
	return ""
}
