package homeassistant

// Replenish's own broker: for a customer without a broker of their own,
// the bridge publishes to the embedded one, where their Home Assistant
// signs in with an account of its own and sees only the customer's
// topics.

import (
	"context"
	"crypto/subtle"
	"net"
	"net/url"

	"replenish"
	"replenish/mqtt"
	"replenish/storage"
)

// OwnBroker is Replenish's embedded MQTT broker as the bridge uses it;
// the zero value is none (an external broker for devices, or none at
// all), and bridges that are embedded then fail until there is one.
type OwnBroker struct {
	// URL is where the bridge connects (mqtt:// or mqtts://host:port),
	// as Username with Password: the broker's service account.
	URL, Username, Password string
	// PublicURL is where customers' Home Assistant connects, as the
	// settings tell them; its host is the name TLS checks.
	PublicURL string
	// Disconnect drops the connections of an account that stopped
	// working (the bridge turned off, a new password).
	Disconnect func(account string)
}

// Own is the started embedded broker e as the bridge uses it. publicURL
// is where Home Assistant reaches it ("": the address e listens on, with
// the host of baseURL when that is every address); the bridge connects
// to the address e listens on (the loopback one when that is every
// address), over TLS when e speaks it, checking the public name.
func Own(e *mqtt.Embedded, publicURL, baseURL string) OwnBroker {
	host, port, _ := net.SplitHostPort(e.Addr())
	scheme := "mqtt"
	if e.Secure() {
		scheme = "mqtts"
	}
	every := host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified()
	if publicURL == "" {
		public := host
		if u, err := url.Parse(baseURL); every && err == nil && u.Hostname() != "" {
			public = u.Hostname()
		}
		publicURL = scheme + "://" + net.JoinHostPort(public, port)
	}
	if every {
		host = "127.0.0.1"
	}
	user, password := e.Service()
	return OwnBroker{URL: scheme + "://" + net.JoinHostPort(host, port), Username: user, Password: password,
		PublicURL: publicURL, Disconnect: e.DisconnectAccount}
}

// OwnBroker is where customers' Home Assistant reaches Replenish's own
// broker, "" when this Replenish runs none (or b is nil): the settings
// refuse the embedded mode then.
func (b *Bridge) OwnBroker() string {
	if b == nil {
		return ""
	}
	return b.set.Own.PublicURL
}

// AccountTopics are the topic filters of a customer's Home Assistant on
// Replenish's broker: their discovery prefix (the account's name) and
// their states and commands.
func AccountTopics(customerID string) []string {
	return []string{replenish.HomeAssistantAccount(customerID) + "/#", topicsOf(customerID, "").Base + "/#"}
}

// Accounts are the customers' Home Assistant accounts on Replenish's own
// broker, for mqtt.EmbeddedConfig: an account works while its bridge is
// on and embedded, with the password last made.
type Accounts struct{ store storage.Store }

// NewAccounts returns the accounts stored in store.
func NewAccounts(store storage.Store) *Accounts { return &Accounts{store: store} }

// Account returns the topics of account username if password is its
// password and its bridge is on.
func (a *Accounts) Account(ctx context.Context, username, password string) ([]string, bool) {
	var h replenish.HomeAssistant
	err := a.store.Read(ctx, func(tx storage.Tx) (err error) {
		h, err = tx.HomeAssistantAccount(ctx, username)
		return err
	})
	if err != nil || !h.Enabled || !h.Embedded || len(h.AccountHash) == 0 ||
		subtle.ConstantTimeCompare(h.AccountHash, replenish.HashSecret(password)) != 1 {
		return nil, false
	}
	return AccountTopics(h.CustomerID), true
}

var _ mqtt.Accounts = (*Accounts)(nil)
