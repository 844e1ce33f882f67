// Package simulator is a reference vendor cloud: the part a device maker
// builds to work with Replenish. It answers directives on its skill
// endpoint (AcceptGrant by exchanging the code for tokens, Discover with
// the customer's devices), receives and verifies Replenish's vendor
// notifications on its webhook, keeps each customer's tokens fresh, and sends
// its devices' supplies to the event gateway: levels as ChangeReports,
// usage as InventoryConsumed, replaced parts as InventoryReplaced. A fleet
// of printers, washing machines, coffee machines and vacuums, used in
// compressed time with the noise of real devices, drives it in the
// simulate and demo commands and in the tests.
package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/linking"
	"replenish/notifications"
	"replenish/signing"
)

// Ink is one consumable slot of the simulated printer model.
type Ink struct {
	Instance        string // the sensor instance, e.g. "InkSensor.Black"
	Name            string // its friendly name
	ReplenishmentID string
}

// Config is what a vendor cloud knows about itself and Replenish.
type Config struct {
	ReplenishURL  string // base URL of Replenish, for /auth/o2/token and /v3/events
	ClientID      string // the vendor's client at Replenish's token endpoint
	ClientSecret  string
	SigningSecret string // checks directives from Replenish
	ModelID       string
	Inks          []Ink
	// NewDevices returns the devices of the account-th customer to link
	// (counting from 0). When nil, each customer has Printers printers of
	// ModelID with Inks, their levels and use drawn from the ranges below.
	NewDevices func(account int) []*Device
	Printers   int
	// Start is the range of a new cartridge's level, in percent, for the
	// first cartridges of a fleet (later ones start full).
	StartMin, StartMax float64
	// DrainMin and DrainMax bound each ink's use, in percent per simulated day.
	DrainMin, DrainMax float64
	Rand               *rand.Rand
	HTTP               *http.Client
	Log                *slog.Logger
	// Stats, when set, counts the StateReports the cloud sends in answer
	// to ReportState as deliveries, as the fleet's events are.
	Stats *Stats
	// Notified, when set, is called with each vendor notification the
	// cloud receives at WebhookPath, once per notificationId, after its
	// signature is checked. It must not block for long.
	Notified func(notifications.Body)
}

// Cloud is a simulated vendor cloud.
type Cloud struct {
	cfg Config

	mu       sync.Mutex
	accounts map[string]*Account // by grantee token
	order    []*Account
	oauth    authServer // signs customers in; see oauth.go
	// reports are the StateReports being sent (reportstate.go).
	reports sync.WaitGroup
	hooks   webhooks // the vendor notifications received (webhooks.go), under mu
}

// Account is one customer of the vendor, known by the grantee token
// Replenish sent in AcceptGrant (or the account signed in, see oauth.go).
type Account struct {
	Grantee string
	Devices []*Device

	mu      sync.Mutex
	access  string
	refresh string
	expires time.Time
}

// NewCloud returns a vendor cloud.
func NewCloud(cfg Config) *Cloud {
	if cfg.Printers == 0 {
		cfg.Printers = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.NewDevices == nil {
		cfg.NewDevices = printers(cfg)
	}
	return &Cloud{cfg: cfg, accounts: map[string]*Account{}}
}

// printers makes each customer's devices when the configuration names
// only a printer model and its inks. It runs under the cloud's lock.
func printers(cfg Config) func(account int) []*Device {
	k := printer(10, cfg.StartMin, cfg.StartMax, cfg.DrainMin, cfg.DrainMax)
	ink := k.Slots[0]
	k.ModelID, k.Slots = cfg.ModelID, nil
	for _, i := range cfg.Inks {
		ink.Instance, ink.Name, ink.ReplenishmentID = i.Instance, i.Name, i.ReplenishmentID
		k.Slots = append(k.Slots, ink)
	}
	return func(account int) []*Device {
		var ds []*Device
		for n := range cfg.Printers {
			r := rand.New(rand.NewPCG(cfg.Rand.Uint64(), cfg.Rand.Uint64()))
			ds = append(ds, NewDevice(&k, fmt.Sprintf("printer-%03d-%d-%s", account+1, n+1, replenish.NewID("", 6)),
				fmt.Sprintf("Printer %d", n+1), r))
		}
		return ds
	}
}

// Accounts returns the linked accounts in the order they linked.
func (c *Cloud) Accounts() []*Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Account(nil), c.order...)
}

// DeviceCount is the number of devices of all linked accounts.
func (c *Cloud) DeviceCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, a := range c.order {
		n += len(a.Devices)
	}
	return n
}

// ServeHTTP is the skill endpoint: it checks the signature, then answers
// AcceptGrant and Discover. The authorization server's routes and the
// vendor's webhook (WebhookPath) come first.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.serveOAuth(w, r) {
		return
	}
	if r.URL.Path == WebhookPath {
		c.receiveWebhook(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if err := signing.Verify(c.cfg.SigningSecret, r.Header.Get(signing.Header), body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var msg struct {
		Directive struct {
			Header   gateway.Header       `json:"header"`
			Endpoint *gateway.EndpointRef `json:"endpoint"`
			Payload  json.RawMessage      `json:"payload"`
		} `json:"directive"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(w, "not a directive", http.StatusBadRequest)
		return
	}
	h := msg.Directive.Header
	switch h.Namespace + "/" + h.Name {
	case "Alexa.Authorization/AcceptGrant":
		c.acceptGrant(w, r.Context(), h, msg.Directive.Payload)
	case "Alexa.Discovery/Discover":
		c.discover(w, h, msg.Directive.Payload)
	case "Alexa/ReportState":
		c.reportState(w, h, msg.Directive.Endpoint)
	default:
		http.Error(w, "unsupported directive "+h.Namespace+"/"+h.Name, http.StatusBadRequest)
	}
}

func (c *Cloud) acceptGrant(w http.ResponseWriter, ctx context.Context, h gateway.Header, payload json.RawMessage) {
	var p struct {
		Grant   struct{ Code string }  `json:"grant"`
		Grantee struct{ Token string } `json:"grantee"`
	}
	json.Unmarshal(payload, &p)
	a := &Account{Grantee: c.accountKey(p.Grantee.Token)}
	err := a.exchange(ctx, c.cfg, url.Values{"grant_type": {"authorization_code"}, "code": {p.Grant.Code}})
	if err != nil {
		c.cfg.Log.Warn("accept grant failed", "err", err)
		answer(w, "Alexa.Authorization", "ErrorResponse", h, map[string]string{
			"type": "ACCEPT_GRANT_FAILED", "message": "could not exchange the code: " + err.Error()})
		return
	}
	c.mu.Lock()
	if old, ok := c.accounts[a.Grantee]; ok {
		// A customer who links again keeps their printers.
		old.setTokens(a)
	} else {
		a.Devices = c.cfg.NewDevices(len(c.order))
		c.accounts[a.Grantee] = a
		c.order = append(c.order, a)
	}
	c.mu.Unlock()
	answer(w, "Alexa.Authorization", "AcceptGrant.Response", h, struct{}{})
}

func (c *Cloud) discover(w http.ResponseWriter, h gateway.Header, payload json.RawMessage) {
	var p struct {
		Scope gateway.Scope `json:"scope"`
	}
	json.Unmarshal(payload, &p)
	key := c.accountKey(p.Scope.Token)
	c.mu.Lock()
	a := c.accounts[key]
	c.mu.Unlock()
	endpoints := []gateway.DiscoveredEndpoint{}
	if a != nil {
		for _, d := range a.Devices {
			endpoints = append(endpoints, d.describe())
		}
	}
	answer(w, "Alexa.Discovery", "Discover.Response", h, gateway.DiscoveryPayload{Endpoints: endpoints})
}

// answer writes a synchronous response event to a directive.
func answer(w http.ResponseWriter, namespace, name string, h gateway.Header, payload any) {
	raw, _ := json.Marshal(payload)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(gateway.Message{Event: &gateway.Event{
		Header: gateway.Header{Namespace: namespace, Name: name, PayloadVersion: "3",
			MessageID: replenish.NewUUID(), CorrelationToken: h.CorrelationToken},
		Payload: raw,
	}})
}

// exchange calls Replenish's token endpoint and keeps the tokens.
func (a *Account) exchange(ctx context.Context, cfg Config, form url.Values) error {
	form.Set("client_id", cfg.ClientID)
	form.Set("client_secret", cfg.ClientSecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.ReplenishURL+"/auth/o2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := cfg.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		linking.TokenResponse
		linking.OAuthError
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("token endpoint answered HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token endpoint answered HTTP %d: %s %s", resp.StatusCode, out.Code, out.Description)
	}
	a.mu.Lock()
	a.access, a.refresh = out.AccessToken, out.RefreshToken
	a.expires = time.Now().Add(time.Duration(out.ExpiresIn) * time.Second)
	a.mu.Unlock()
	return nil
}

func (a *Account) setTokens(from *Account) {
	from.mu.Lock()
	access, refresh, expires := from.access, from.refresh, from.expires
	from.mu.Unlock()
	a.mu.Lock()
	a.access, a.refresh, a.expires = access, refresh, expires
	a.mu.Unlock()
}

// token returns a valid access token, refreshing it a minute before it expires.
func (a *Account) token(ctx context.Context, cfg Config) (string, error) {
	a.mu.Lock()
	access, refresh, expires := a.access, a.refresh, a.expires
	a.mu.Unlock()
	if time.Until(expires) > time.Minute {
		return access, nil
	}
	if err := a.exchange(ctx, cfg, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); err != nil {
		return "", err
	}
	return a.token(ctx, cfg)
}

// Report sends one ChangeReport with every level of d, sampled at time
// at, and returns the gateway's HTTP status. messageID names the report;
// sending the same one twice is how a retry looks.
func (c *Cloud) Report(ctx context.Context, a *Account, d *Device, messageID string, at time.Time) (int, error) {
	token, err := a.token(ctx, c.cfg)
	if err != nil {
		return 0, err
	}
	m, ok := d.levelReport(token, messageID, at)
	if !ok {
		return 0, fmt.Errorf("%s has no level sensor", d.EndpointID)
	}
	status, _, _, err := c.send(ctx, m)
	return status, err
}

// send posts one event to the gateway. It returns the HTTP status and,
// for a refusal, the exception's code, how long the gateway asked to wait
// before trying again, and an error describing the refusal.
func (c *Cloud) send(ctx context.Context, m message) (int, string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ReplenishURL+"/v3/events", bytes.NewReader(m.body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+m.token)
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		var exc struct {
			Payload struct{ Code, Description string } `json:"payload"`
		}
		json.NewDecoder(resp.Body).Decode(&exc)
		return resp.StatusCode, exc.Payload.Code, retryAfter(resp.Header.Get("Retry-After")),
			fmt.Errorf("gateway answered HTTP %d %s: %s", resp.StatusCode, exc.Payload.Code, exc.Payload.Description)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, "", 0, nil
}
