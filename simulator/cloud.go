// Package simulator is a reference vendor cloud: the part a device maker
// builds to work with Replenish. It answers directives on its skill
// endpoint (AcceptGrant by exchanging the code for tokens, Discover with
// the customer's devices), keeps each customer's tokens fresh, and sends
// its devices' supply levels to the event gateway as ChangeReports. A
// fleet of printers whose inks drain at random rates, with time
// compressed, drives it in the demo and the tests.
package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/linking"
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
	// Printers is how many printers each linked customer has.
	Printers int
	// Start is the range of a new cartridge's level, in percent, for the
	// first cartridges of a fleet (later ones start full).
	StartMin, StartMax float64
	// DrainMin and DrainMax bound each ink's use, in percent per simulated day.
	DrainMin, DrainMax float64
	Rand               *rand.Rand
	HTTP               *http.Client
	Log                *slog.Logger
}

// Cloud is a simulated vendor cloud.
type Cloud struct {
	cfg Config

	mu       sync.Mutex
	accounts map[string]*Account // by grantee token
	order    []*Account
	oauth    authServer // signs customers in; see oauth.go
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

// Device is one printer.
type Device struct {
	EndpointID   string
	FriendlyName string
	Levels       []float64 // percent, per ink
	Drain        []float64 // percent per simulated day, per ink
	emptySince   []float64 // simulated days spent empty, per ink
}

// NewCloud returns a vendor cloud.
func NewCloud(cfg Config) *Cloud {
	if cfg.Printers == 0 {
		cfg.Printers = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Cloud{cfg: cfg, accounts: map[string]*Account{}}
}

// Accounts returns the linked accounts in the order they linked.
func (c *Cloud) Accounts() []*Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Account(nil), c.order...)
}

// ServeHTTP is the skill endpoint: it checks the signature, then answers
// AcceptGrant and Discover. The authorization server's routes come first.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.serveOAuth(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if err := linking.Verify(c.cfg.SigningSecret, r.Header.Get(linking.SignatureHeader), body, time.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var msg struct {
		Directive struct {
			Header  gateway.Header  `json:"header"`
			Payload json.RawMessage `json:"payload"`
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
		for i := range c.cfg.Printers {
			a.Devices = append(a.Devices, c.newDevice(len(c.order), i))
		}
		c.accounts[a.Grantee] = a
		c.order = append(c.order, a)
	}
	c.mu.Unlock()
	answer(w, "Alexa.Authorization", "AcceptGrant.Response", h, struct{}{})
}

func (c *Cloud) newDevice(account, n int) *Device {
	d := &Device{
		EndpointID:   fmt.Sprintf("printer-%03d-%d-%s", account+1, n+1, replenish.NewID("", 6)),
		FriendlyName: fmt.Sprintf("Printer %d", n+1),
	}
	for range c.cfg.Inks {
		d.Levels = append(d.Levels, math.Round(between(c.cfg.Rand, c.cfg.StartMin, c.cfg.StartMax)))
		d.Drain = append(d.Drain, between(c.cfg.Rand, c.cfg.DrainMin, c.cfg.DrainMax))
		d.emptySince = append(d.emptySince, 0)
	}
	return d
}

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

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
			endpoints = append(endpoints, c.describe(d))
		}
	}
	answer(w, "Alexa.Discovery", "Discover.Response", h, gateway.DiscoveryPayload{Endpoints: endpoints})
}

// describe is a printer as discovery reports it: one level sensor per ink,
// each naming its slot's replenishment ID.
func (c *Cloud) describe(d *Device) gateway.DiscoveredEndpoint {
	e := gateway.DiscoveredEndpoint{
		EndpointID: d.EndpointID, ManufacturerName: "Simulated Printers", Description: "A simulated ink-jet printer",
		FriendlyName: d.FriendlyName, DisplayCategories: []string{"OTHER"},
		AdditionalAttributes: &gateway.AdditionalAttributes{Model: c.cfg.ModelID},
	}
	for _, ink := range c.cfg.Inks {
		name := gateway.FriendlyName{Type: "text"}
		name.Value.Text, name.Value.Locale = ink.Name, "en-US"
		e.Capabilities = append(e.Capabilities, gateway.Capability{
			Type: "AlexaInterface", Interface: gateway.LevelSensor, Version: "3", Instance: ink.Instance,
			Properties: &gateway.CapabilityProps{Supported: []gateway.SupportedProperty{{Name: "level"}},
				ProactivelyReported: true, Retrievable: true},
			CapabilityResources: &gateway.CapabilityResources{FriendlyNames: []gateway.FriendlyName{name}},
			Configuration: &gateway.CapabilityConfig{
				Measurement:   &gateway.MeasurementConfig{Type: "Percentage"},
				Replenishment: &gateway.ReplenishmentConfig{Type: "DashReplenishmentId", Value: ink.ReplenishmentID},
			},
		})
	}
	return e
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

// Report sends one ChangeReport with every ink level of d, sampled at
// time at, and returns the gateway's HTTP status. messageID names the
// report; sending the same one twice is how a retry looks.
func (c *Cloud) Report(ctx context.Context, a *Account, d *Device, messageID string, at time.Time) (int, error) {
	token, err := a.token(ctx, c.cfg)
	if err != nil {
		return 0, err
	}
	body, err := json.Marshal(c.changeReport(d, token, messageID, at))
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ReplenishURL+"/v3/events", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		var exc struct {
			Payload struct{ Code, Description string } `json:"payload"`
		}
		json.NewDecoder(resp.Body).Decode(&exc)
		return resp.StatusCode, fmt.Errorf("gateway answered HTTP %d %s: %s", resp.StatusCode, exc.Payload.Code, exc.Payload.Description)
	}
	return resp.StatusCode, nil
}

// changeReport builds the Alexa ChangeReport for d's levels.
func (c *Cloud) changeReport(d *Device, token, messageID string, at time.Time) map[string]any {
	props := []map[string]any{}
	for i, ink := range c.cfg.Inks {
		props = append(props, map[string]any{
			"namespace": gateway.LevelSensor, "instance": ink.Instance, "name": "level",
			"value":        map[string]any{"@type": "Percentage", "value": int(math.Round(d.Levels[i]))},
			"timeOfSample": at.UTC().Format("2006-01-02T15:04:05.000Z"), "uncertaintyInMilliseconds": 0,
		})
	}
	return map[string]any{
		"event": map[string]any{
			"header": gateway.Header{Namespace: "Alexa", Name: "ChangeReport", PayloadVersion: "3", MessageID: messageID},
			"endpoint": gateway.EndpointRef{Scope: &gateway.Scope{Type: "BearerToken", Token: token},
				EndpointID: d.EndpointID},
			"payload": map[string]any{"change": map[string]any{
				"cause": map[string]string{"type": "PERIODIC_POLL"}, "properties": props}},
		},
		"context": map[string]any{"properties": []any{}},
	}
}

// Run drains the fleet's inks in compressed time, speed simulated seconds
// per real second, and reports every device's levels every tick, until ctx
// ends. An ink that runs dry is replaced a simulated day or two later, as
// a customer would. onReport, if set, sees each report's outcome.
func (c *Cloud) Run(ctx context.Context, speed float64, tick time.Duration, onReport func(d *Device, status int, err error)) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	days := speed * tick.Seconds() / 86400 // simulated days per tick
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, a := range c.Accounts() {
			for _, d := range a.Devices {
				c.step(d, days)
				status, err := c.Report(ctx, a, d, replenish.NewUUID(), time.Now())
				if ctx.Err() != nil {
					return nil // the run ended mid-report: not a refusal
				}
				if onReport != nil {
					onReport(d, status, err)
				}
			}
		}
	}
}

// step drains d's inks by days of use.
func (c *Cloud) step(d *Device, days float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range d.Levels {
		if d.Levels[i] > 0 {
			d.Levels[i] = max(0, d.Levels[i]-d.Drain[i]*days)
			continue
		}
		d.emptySince[i] += days
		if d.emptySince[i] >= 1+c.cfg.Rand.Float64() {
			d.Levels[i], d.emptySince[i] = 100, 0
		}
	}
}
