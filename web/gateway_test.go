package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/linking"
	"replenish/simulator"
	"replenish/web"
)

// gwEndpointJSON is a printer in discovery JSON, one level sensor per ink.
func gwEndpointJSON(endpointID, model string, inks []simulator.Ink) string {
	caps := make([]string, 0, len(inks))
	for _, ink := range inks {
		caps = append(caps, fmt.Sprintf(`{"type":"AlexaInterface","interface":"Alexa.InventoryLevelSensor","version":"3",`+
			`"instance":%q,"properties":{"supported":[{"name":"level"}],"proactivelyReported":true,"retrievable":true},`+
			`"capabilityResources":{"friendlyNames":[{"@type":"text","value":{"text":%q,"locale":"en-US"}}]},`+
			`"configuration":{"measurement":{"@type":"Percentage"},"replenishment":{"@type":"DashReplenishmentId","value":%q}}}`,
			ink.Instance, ink.Name, ink.ReplenishmentID))
	}
	return fmt.Sprintf(`{"endpointId":%q,"manufacturerName":"GW Printers","description":"a test printer","friendlyName":"GW printer",`+
		`"displayCategories":["OTHER"],"additionalAttributes":{"model":%q},"cookie":{"shelf":"kitchen"},"capabilities":[%s]}`,
		endpointID, model, strings.Join(caps, ","))
}

// gwVendor is a registered vendor with its skill endpoint, a working
// vendor cloud that reports one printer.
type gwVendor struct {
	*simulator.Vendor
	skill      *skill
	endpointID string
}

func gwRegister(t testing.TB, e *env) *gwVendor {
	t.Helper()
	s := &skill{now: e.clock.Now}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	api := &simulator.Client{URL: e.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.Register(context.Background(), api, e.OperatorKey, srv.URL, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Endpoint IDs differ per vendor so one customer can link two vendors.
	gv := &gwVendor{Vendor: v, skill: s, endpointID: "gw-printer-" + v.VendorCode}
	s.mu.Lock()
	s.URL, s.secret = srv.URL, v.SigningSecret
	s.answer = workingVendor(gwEndpointJSON(gv.endpointID, v.ModelID, v.Inks))
	s.mu.Unlock()
	return gv
}

func gwCustomer(t testing.TB, e *env) *simulator.Customer {
	t.Helper()
	var c simulator.Customer
	e.must(http.StatusCreated, "POST", "/api/v1/customers", e.OperatorKey, map[string]string{
		"email": "gw." + replenish.NewID("", 8) + "@example.com", "name": "GW Customer", "marketplace": "US"}, &c)
	return &c
}

// gwLink links c with v through the real directives and returns the code
// the skill endpoint received.
func gwLink(t testing.TB, e *env, c *simulator.Customer, v *gwVendor) string {
	t.Helper()
	gwTestAccount(t, e, v.APIKey, v.ModelID, c)
	var l replenish.Link
	e.must(http.StatusCreated, "POST", "/api/v1/links", c.APIKey, map[string]string{"vendorCode": v.VendorCode}, &l)
	if l.Status != replenish.LinkLinked {
		t.Fatalf("link status %q, want %q", l.Status, replenish.LinkLinked)
	}
	v.skill.mu.Lock()
	defer v.skill.mu.Unlock()
	if v.skill.badSigs != 0 || len(v.skill.codes) == 0 {
		t.Fatalf("skill endpoint: %d bad signatures, %d codes", v.skill.badSigs, len(v.skill.codes))
	}
	return v.skill.codes[len(v.skill.codes)-1]
}

// gwTestAccount makes c a test account of a model in the US: until the
// model is certified, only its test accounts may discover its devices.
func gwTestAccount(t testing.TB, e *env, vendorKey, modelID string, c *simulator.Customer) {
	t.Helper()
	e.must(http.StatusNoContent, "PUT", "/api/v1/models/"+modelID+"/marketplaces/US/test-accounts/"+c.CustomerID, vendorKey, nil, nil)
}

// gwOAuth is any answer of the token endpoint.
type gwOAuth struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
}

// gwTokenPost posts form to the token endpoint, with HTTP Basic when
// basic is set, and returns the status and the decoded answer.
func gwTokenPost(t testing.TB, e *env, form url.Values, basic *[2]string) (int, gwOAuth) {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+"/auth/o2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gwOAuth
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("token endpoint: %d %s: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

func gwCodeForm(v *gwVendor, code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {v.ClientID}, "client_secret": {v.ClientSecret}}
}

func gwExchange(t testing.TB, e *env, v *gwVendor, code string) gwOAuth {
	t.Helper()
	status, out := gwTokenPost(t, e, gwCodeForm(v, code), nil)
	if status != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("exchanging the code: %d %+v", status, out)
	}
	return out
}

// refresh renews the world's tokens, as a vendor does once the access
// token expired (after the test's clock moved on by hours).
func (w *gwWorld) refresh(t *testing.T) {
	t.Helper()
	status, out := gwTokenPost(t, w.e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.tok.RefreshToken},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	if status != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("refreshing the tokens: %d %+v", status, out)
	}
	w.tok = out
}

// gwWorld is one vendor and one customer linked to it, with the tokens.
type gwWorld struct {
	e    *env
	v    *gwVendor
	c    *simulator.Customer
	code string
	tok  gwOAuth
	ep   string
}

// gwSetup links a customer and leaves the code unexchanged.
func gwSetup(t *testing.T) *gwWorld {
	t.Helper()
	return gwSetupIn(t, newEnv(t))
}

// gwSetupIn is gwSetup in env e.
func gwSetupIn(t testing.TB, e *env) *gwWorld {
	t.Helper()
	v := gwRegister(t, e)
	c := gwCustomer(t, e)
	return &gwWorld{e: e, v: v, c: c, code: gwLink(t, e, c, v), ep: v.endpointID}
}

// gwLinked is gwSetup with the code exchanged for tokens.
func gwLinked(t *testing.T) *gwWorld {
	t.Helper()
	w := gwSetup(t)
	w.tok = gwExchange(t, w.e, w.v, w.code)
	return w
}

func gwStamp(at time.Time) string { return at.UTC().Format("2006-01-02T15:04:05.000Z") }

// gwLevel is one level property; value is raw JSON after "value":, so the
// flat form can carry a unit as `1,"unit":"LITER"`.
func gwLevel(instance, value string, at time.Time) string {
	return fmt.Sprintf(`{"namespace":"Alexa.InventoryLevelSensor","instance":%q,"name":"level","value":%s,"timeOfSample":%q,"uncertaintyInMilliseconds":0}`,
		instance, value, gwStamp(at))
}

// gwChange is a ChangeReport; bodyToken is left out of the body when empty.
func gwChange(msgID, endpointID, bodyToken string, props ...string) []byte {
	scope := ""
	if bodyToken != "" {
		scope = fmt.Sprintf(`"scope":{"type":"BearerToken","token":%q},`, bodyToken)
	}
	return []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa","name":"ChangeReport","payloadVersion":"3","messageId":%q},`+
		`"endpoint":{%s"endpointId":%q},"payload":{"change":{"cause":{"type":"PERIODIC_POLL"},"properties":[%s]}}},"context":{"properties":[]}}`,
		msgID, scope, endpointID, strings.Join(props, ",")))
}

// gwAddOrUpdate is a discovery report of the given endpoints.
func gwAddOrUpdate(token string, endpoints ...string) []byte {
	return []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa.Discovery","name":"AddOrUpdateReport","payloadVersion":"3","messageId":%q},`+
		`"payload":{"endpoints":[%s],"scope":{"type":"BearerToken","token":%q}}}}`,
		replenish.NewUUID(), strings.Join(endpoints, ","), token))
}

// black is a level report of the black ink at the world's clock.
func (w *gwWorld) black(value string) []byte {
	return gwChange(replenish.NewUUID(), w.ep, w.tok.AccessToken, gwLevel("InkSensor.Black", value, w.e.clock.Now()))
}

// gwAccepted posts an event and requires 202 with an empty body.
func gwAccepted(t testing.TB, e *env, token string, body []byte) {
	t.Helper()
	status, raw := e.do("POST", "/v3/events", token, body)
	if status != http.StatusAccepted || len(raw) != 0 {
		t.Fatalf("POST /v3/events: %d %q, want 202 and an empty body", status, raw)
	}
}

// gwSnapshot is what a customer sees: devices, levels and feed.
func gwSnapshot(t *testing.T, e *env, c *simulator.Customer) string {
	t.Helper()
	_, es := e.do("GET", "/api/v1/endpoints", c.APIKey, nil)
	_, feed := e.do("GET", "/api/v1/feed", c.APIKey, nil)
	return string(es) + "\n" + string(feed)
}

// gwException is the gateway's error body.
type gwException struct {
	Header  struct{ Namespace, Name, MessageID string }
	Payload struct{ Code, Description string }
}

// gwRefused posts an event and requires the exception status and code,
// and that the customer's view did not change.
func gwRefused(t *testing.T, e *env, c *simulator.Customer, token string, body []byte, status int, code string) gwException {
	t.Helper()
	before := gwSnapshot(t, e, c)
	got, raw := e.do("POST", "/v3/events", token, body)
	var x gwException
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatalf("not an exception body: %d %s", got, raw)
	}
	if got != status || x.Payload.Code != code {
		t.Fatalf("got %d %s, want %d %s: %s", got, x.Payload.Code, status, code, raw)
	}
	if x.Header.Namespace != "System" || x.Header.Name != "Exception" || x.Header.MessageID == "" || x.Payload.Description == "" {
		t.Fatalf("exception shape: %s", raw)
	}
	if after := gwSnapshot(t, e, c); after != before {
		t.Fatalf("a refused event changed what the customer sees:\nbefore %s\nafter  %s", before, after)
	}
	return x
}

// gwEndpoints lists the customer's devices.
func gwEndpoints(t *testing.T, e *env, c *simulator.Customer) []customers.Endpoint {
	t.Helper()
	var out struct{ Items []customers.Endpoint }
	e.must(http.StatusOK, "GET", "/api/v1/endpoints", c.APIKey, nil, &out)
	return out.Items
}

// gwSlot finds one slot of one device.
func gwSlot(t *testing.T, e *env, c *simulator.Customer, endpointID, slotID string) customers.Slot {
	t.Helper()
	for _, ep := range gwEndpoints(t, e, c) {
		for _, s := range ep.Slots {
			if ep.EndpointID == endpointID && s.SlotID == slotID {
				return s
			}
		}
	}
	t.Fatalf("no slot %s on %s", slotID, endpointID)
	return customers.Slot{}
}

// gwWantLevel requires the black ink (SLOT01) to show value in percent.
func gwWantLevel(t *testing.T, w *gwWorld, value float64) {
	t.Helper()
	s := gwSlot(t, w.e, w.c, w.ep, "SLOT01")
	if s.Level == nil || s.Level.Value != value || s.Level.Type != "Percentage" || s.Status != replenish.StatusOK {
		t.Fatalf("black ink: level %+v status %s, want %v Percentage and OK", s.Level, s.Status, value)
	}
}

func TestGatewayRefusesBadEvents(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	// A level first, so that a wrongly applied refusal would show.
	gwAccepted(t, e, tok, w.black(`{"@type":"Percentage","value":50}`))
	gwWantLevel(t, w, 50)
	now := e.clock.Now()
	rows := []struct {
		name         string
		token        string
		body         []byte
		status       int
		code, naming string
	}{
		{"malformed JSON", tok, []byte(`{"event":{"header":`), 400, "INVALID_REQUEST_EXCEPTION", "body"},
		{"unknown event", tok, bytes.Replace(w.black("5"), []byte(`"name":"ChangeReport"`), []byte(`"name":"TurnOn"`), 1),
			400, "INVALID_REQUEST_EXCEPTION", "event.header.name"},
		{"no token", "", gwChange(replenish.NewUUID(), w.ep, "", gwLevel("InkSensor.Black", "5", now)),
			401, "INVALID_ACCESS_TOKEN_EXCEPTION", ""},
		{"unknown token", "Atza|unknown", gwChange(replenish.NewUUID(), w.ep, "", gwLevel("InkSensor.Black", "5", now)),
			401, "INVALID_ACCESS_TOKEN_EXCEPTION", ""},
		{"unknown token in body only", "", gwChange(replenish.NewUUID(), w.ep, "Atza|unknown", gwLevel("InkSensor.Black", "5", now)),
			401, "INVALID_ACCESS_TOKEN_EXCEPTION", ""},
		{"unknown endpoint", tok, gwChange(replenish.NewUUID(), "no-such-printer", tok, gwLevel("InkSensor.Black", "5", now)),
			400, "INVALID_REQUEST_EXCEPTION", "event.endpoint.endpointId"},
		{"unknown instance", tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Green", "5", now)),
			400, "INVALID_REQUEST_EXCEPTION", "event.payload.change.properties[0].instance"},
		{"volume for a percentage slot", tok, gwChange(replenish.NewUUID(), w.ep, tok,
			gwLevel("InkSensor.Black", `{"@type":"Volume","value":1,"unit":"LITER"}`, now)),
			400, "INVALID_REQUEST_EXCEPTION", "event.payload.change.properties[0].value"},
		{"flat volume unit for a percentage slot", tok, gwChange(replenish.NewUUID(), w.ep, tok,
			gwLevel("InkSensor.Black", `1,"unit":"LITER"`, now)),
			400, "INVALID_REQUEST_EXCEPTION", "event.payload.change.properties[0]"},
		// The good level comes first: a refusal must not half-apply the event.
		{"second property broken", tok, gwChange(replenish.NewUUID(), w.ep, tok,
			gwLevel("InkSensor.Black", "5", now), gwLevel("InkSensor.Green", "5", now)),
			400, "INVALID_REQUEST_EXCEPTION", "event.payload.change.properties[1].instance"},
		{"body token differs from header", tok, gwChange(replenish.NewUUID(), w.ep, "Atza|other", gwLevel("InkSensor.Black", "5", now)),
			400, "INVALID_REQUEST_EXCEPTION", "event.endpoint.scope.token"},
		{"sample too far in the future", tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Black", "5", now.Add(6*time.Minute))),
			400, "INVALID_REQUEST_EXCEPTION", "timeOfSample"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			x := gwRefused(t, e, w.c, r.token, r.body, r.status, r.code)
			if !strings.Contains(x.Payload.Description, r.naming) {
				t.Errorf("description %q does not name %q", x.Payload.Description, r.naming)
			}
		})
	}
	t.Run("body over 1 MiB", func(t *testing.T) {
		// A valid report padded with spaces to one byte over the limit.
		body := w.black("5")
		body = append(body, bytes.Repeat([]byte(" "), web.MaxBody+1-len(body))...)
		gwRefused(t, e, w.c, tok, body, http.StatusRequestEntityTooLarge, "REQUEST_ENTITY_TOO_LARGE_EXCEPTION")
	})
	t.Run("body of exactly 1 MiB", func(t *testing.T) {
		e.clock.Advance(time.Second) // a newer sample than the first
		body := w.black("45")
		body = append(body, bytes.Repeat([]byte(" "), web.MaxBody-len(body))...)
		gwAccepted(t, e, tok, body)
		gwWantLevel(t, w, 45)
	})
	t.Run("refused message ID is not spent", func(t *testing.T) {
		// A refused event is not stored, so its message ID still works.
		id := replenish.NewUUID()
		at := e.clock.Now().Add(time.Second)
		gwRefused(t, e, w.c, tok, gwChange(id, w.ep, tok, gwLevel("InkSensor.Green", "44", at)), 400, "INVALID_REQUEST_EXCEPTION")
		gwAccepted(t, e, tok, gwChange(id, w.ep, tok, gwLevel("InkSensor.Black", "44", at)))
		gwWantLevel(t, w, 44)
	})
}

func TestGatewayExpiredToken(t *testing.T) {
	w := gwLinked(t)
	w.e.clock.Advance(59 * time.Minute)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("30"))
	w.e.clock.Advance(2 * time.Minute) // 61 minutes after the exchange
	x := gwRefused(t, w.e, w.c, w.tok.AccessToken, w.black("5"), http.StatusUnauthorized, "INVALID_ACCESS_TOKEN_EXCEPTION")
	if !strings.Contains(x.Payload.Description, "expired") {
		t.Errorf("description %q does not say the token expired", x.Payload.Description)
	}
	gwWantLevel(t, w, 30)
}

func TestGatewayUnlinkedSkill(t *testing.T) {
	w := gwLinked(t)
	gwAccepted(t, w.e, w.tok.AccessToken, w.black("30"))
	w.e.must(http.StatusNoContent, "DELETE", "/api/v1/links/"+w.v.VendorCode, w.c.APIKey, nil, nil)
	gwRefused(t, w.e, w.c, w.tok.AccessToken, w.black("5"), http.StatusForbidden, "SKILL_DISABLED_EXCEPTION")
	gwRefused(t, w.e, w.c, w.tok.AccessToken,
		gwAddOrUpdate(w.tok.AccessToken, gwEndpointJSON("gw-new-printer", w.v.ModelID, w.v.Inks)),
		http.StatusForbidden, "SKILL_DISABLED_EXCEPTION")
	// The refresh token is revoked too.
	status, out := gwTokenPost(t, w.e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {w.tok.RefreshToken},
		"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	if status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Errorf("refresh after unlink: %d %+v, want 400 invalid_grant", status, out)
	}
}

// TestGatewayOtherVendor has one customer linked to two vendors: each
// vendor's token reaches only its own endpoints and replenishment IDs.
func TestGatewayOtherVendor(t *testing.T) {
	a := gwLinked(t)
	e := a.e
	b := gwRegister(t, e)
	bTok := gwExchange(t, e, b, gwLink(t, e, a.c, b))
	if n := len(gwEndpoints(t, e, a.c)); n != 2 {
		t.Fatalf("the customer has %d endpoints after linking two vendors, want 2", n)
	}
	gwAccepted(t, e, bTok.AccessToken, gwChange(replenish.NewUUID(), b.endpointID, bTok.AccessToken,
		gwLevel("InkSensor.Black", "70", e.clock.Now())))

	t.Run("endpoint of another vendor", func(t *testing.T) {
		gwRefused(t, e, a.c, a.tok.AccessToken, gwChange(replenish.NewUUID(), b.endpointID, a.tok.AccessToken,
			gwLevel("InkSensor.Black", "5", e.clock.Now())), http.StatusForbidden, "INSUFFICIENT_PERMISSION_EXCEPTION")
	})
	t.Run("replenishment ID of another vendor", func(t *testing.T) {
		gwRefused(t, e, a.c, a.tok.AccessToken,
			gwAddOrUpdate(a.tok.AccessToken, gwEndpointJSON("gw-stolen-printer", b.ModelID, b.Inks)),
			http.StatusForbidden, "INSUFFICIENT_PERMISSION_EXCEPTION")
	})
	if s := gwSlot(t, e, a.c, b.endpointID, "SLOT01"); s.Level == nil || s.Level.Value != 70 {
		t.Errorf("vendor B's black ink: %+v, want 70", s.Level)
	}
}

func TestGatewayAcceptsReports(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken

	gwAccepted(t, e, tok, w.black(`{"@type":"Percentage","value":42}`))
	gwWantLevel(t, w, 42)
	if s := gwSlot(t, e, w.c, w.ep, "SLOT02"); s.Level != nil || s.Status != replenish.StatusUnknown {
		t.Errorf("cyan ink, never reported: level %+v status %s, want none and UNKNOWN", s.Level, s.Status)
	}

	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, w.black("41")) // the flat form
	gwWantLevel(t, w, 41)

	e.clock.Advance(time.Minute)
	power := fmt.Sprintf(`{"namespace":"Alexa.PowerController","name":"powerState","value":"ON","timeOfSample":%q,"uncertaintyInMilliseconds":0}`,
		gwStamp(e.clock.Now()))
	gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, power, gwLevel("InkSensor.Black", "40", e.clock.Now())))
	gwWantLevel(t, w, 40)

	// The header token alone is enough.
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), w.ep, "", gwLevel("InkSensor.Black", "39", e.clock.Now())))
	gwWantLevel(t, w, 39)

	// An older reading is accepted but does not move the level back.
	gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Black", "90", e.clock.Now().Add(-time.Hour))))
	gwWantLevel(t, w, 39)

	// A retry of a message ID already seen has no second effect.
	id := replenish.NewUUID()
	e.clock.Advance(time.Minute)
	at := e.clock.Now()
	gwAccepted(t, e, tok, gwChange(id, w.ep, tok, gwLevel("InkSensor.Black", "38", at)))
	gwAccepted(t, e, tok, gwChange(id, w.ep, tok, gwLevel("InkSensor.Black", "20", at.Add(time.Second))))
	gwWantLevel(t, w, 38)
}

func TestGatewayAddOrUpdateReport(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken

	t.Run("unknown replenishment ID", func(t *testing.T) {
		inks := append([]simulator.Ink(nil), w.v.Inks...)
		inks[2].ReplenishmentID = "no-such-replenishment-id"
		x := gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, gwEndpointJSON("gw-second", w.v.ModelID, inks)),
			http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
		if !strings.Contains(x.Payload.Description, "capabilities[2].configuration.replenishment") {
			t.Errorf("description %q does not name the capability", x.Payload.Description)
		}
	})
	t.Run("model differs from the replenishment IDs", func(t *testing.T) {
		x := gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, gwEndpointJSON("gw-second", "other-model", w.v.Inks)),
			http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
		if !strings.Contains(x.Payload.Description, "additionalAttributes.model") {
			t.Errorf("description %q does not name additionalAttributes.model", x.Payload.Description)
		}
	})
	t.Run("valid report adds an endpoint", func(t *testing.T) {
		gwAccepted(t, e, tok, gwAddOrUpdate(tok, gwEndpointJSON("gw-second", w.v.ModelID, w.v.Inks)))
		es := gwEndpoints(t, e, w.c)
		if len(es) != 2 {
			t.Fatalf("%d endpoints, want 2: %+v", len(es), es)
		}
		for _, ep := range es {
			if len(ep.Slots) != 4 || ep.ModelID != w.v.ModelID || ep.VendorCode != w.v.VendorCode {
				t.Errorf("endpoint %+v, want 4 slots of %s/%s", ep, w.v.VendorCode, w.v.ModelID)
			}
		}
		gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), "gw-second", tok, gwLevel("InkSensor.Cyan", "64", e.clock.Now())))
		if s := gwSlot(t, e, w.c, "gw-second", "SLOT02"); s.Level == nil || s.Level.Value != 64 {
			t.Errorf("new endpoint's cyan ink: %+v, want 64", s.Level)
		}
	})
}

func TestTokenExchange(t *testing.T) {
	w := gwSetup(t)
	status, out := gwTokenPost(t, w.e, gwCodeForm(w.v, w.code), nil)
	if status != http.StatusOK || out.AccessToken == "" || out.RefreshToken == "" || out.AccessToken == out.RefreshToken ||
		out.TokenType != "bearer" || out.ExpiresIn != 3600 {
		t.Fatalf("exchange: %d %+v, want 200 with two tokens, bearer, 3600", status, out)
	}
	// Codes are single-use.
	status, again := gwTokenPost(t, w.e, gwCodeForm(w.v, w.code), nil)
	if status != http.StatusBadRequest || again.Error != linking.ErrInvalidGrant {
		t.Fatalf("second exchange: %d %+v, want 400 invalid_grant", status, again)
	}
	w.tok = out
	gwAccepted(t, w.e, out.AccessToken, w.black("55"))
}

func TestTokenExpiredCode(t *testing.T) {
	w := gwLinked(t)
	code := gwLink(t, w.e, gwCustomer(t, w.e), w.v)
	w.e.clock.Advance(6 * time.Minute)
	status, out := gwTokenPost(t, w.e, gwCodeForm(w.v, code), nil)
	if status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Fatalf("exchanging a 6-minute-old code: %d %+v, want 400 invalid_grant", status, out)
	}
}

func TestTokenClientAuth(t *testing.T) {
	w := gwSetup(t)
	wrong := gwCodeForm(w.v, w.code)
	wrong.Set("client_secret", "not-the-secret")
	status, out := gwTokenPost(t, w.e, wrong, nil)
	if status != http.StatusUnauthorized || out.Error != linking.ErrInvalidClient {
		t.Fatalf("wrong secret: %d %+v, want 401 invalid_client", status, out)
	}
	// A refused client did not spend the code; HTTP Basic authenticates.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {w.code}}
	status, out = gwTokenPost(t, w.e, form, &[2]string{w.v.ClientID, w.v.ClientSecret})
	if status != http.StatusOK || out.AccessToken == "" || out.TokenType != "bearer" {
		t.Fatalf("HTTP Basic exchange after a wrong secret: %d %+v, want 200", status, out)
	}
	w.tok = out
	gwAccepted(t, w.e, out.AccessToken, w.black("55"))
}

func TestTokenGrantTypes(t *testing.T) {
	w := gwSetup(t)
	for _, c := range []struct {
		grant, want string
	}{{"password", linking.ErrUnsupportedGrantType}, {"", linking.ErrInvalidRequest}} {
		form := gwCodeForm(w.v, w.code)
		if c.grant == "" {
			form.Del("grant_type")
		} else {
			form.Set("grant_type", c.grant)
		}
		status, out := gwTokenPost(t, w.e, form, nil)
		if status != http.StatusBadRequest || out.Error != c.want {
			t.Errorf("grant_type %q: %d %+v, want 400 %s", c.grant, status, out, c.want)
		}
	}
	gwExchange(t, w.e, w.v, w.code) // the refusals did not spend the code
}

func TestTokenRefreshRotates(t *testing.T) {
	w := gwLinked(t)
	refresh := func(token string) (int, gwOAuth) {
		return gwTokenPost(t, w.e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token},
			"client_id": {w.v.ClientID}, "client_secret": {w.v.ClientSecret}}, nil)
	}
	status, fresh := refresh(w.tok.RefreshToken)
	if status != http.StatusOK || fresh.AccessToken == "" || fresh.RefreshToken == "" ||
		fresh.AccessToken == w.tok.AccessToken || fresh.RefreshToken == w.tok.RefreshToken ||
		fresh.TokenType != "bearer" || fresh.ExpiresIn != 3600 {
		t.Fatalf("refresh: %d %+v, want 200 with new tokens", status, fresh)
	}
	if status, out := refresh(w.tok.RefreshToken); status != http.StatusBadRequest || out.Error != linking.ErrInvalidGrant {
		t.Fatalf("old refresh token again: %d %+v, want 400 invalid_grant", status, out)
	}
	w.tok = fresh
	gwAccepted(t, w.e, fresh.AccessToken, w.black("66"))
	gwWantLevel(t, w, 66)
	// The new refresh token works in turn, even after the access token expired.
	w.e.clock.Advance(61 * time.Minute)
	if status, out := refresh(fresh.RefreshToken); status != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("second refresh: %d %+v, want 200", status, out)
	}
}
