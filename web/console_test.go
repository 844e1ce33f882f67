package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The console over HTTP: vendors, models, slots, product lists,
// replenishment-ID requests and test accounts (console.md, api.md). Every
// refusal is followed by a look at the state to show it changed nothing.

// Local shapes of the answers, spelled as the spec names the fields, so
// that a renamed JSON field fails here.
type (
	modelJSON struct {
		VendorCode    string     `json:"vendorCode"`
		ModelID       string     `json:"modelId"`
		Kind          string     `json:"kind"`
		Name          string     `json:"name"`
		DeviceType    string     `json:"deviceType"`
		Certification string     `json:"certification"`
		Marketplaces  []string   `json:"marketplaces"`
		Slots         []slotJSON `json:"slots"`
	}
	slotJSON struct {
		SlotID   string              `json:"slotId"`
		Category string              `json:"category"`
		Products map[string][]string `json:"products"`
		Request  *requestJSON        `json:"replenishmentRequest"`
	}
	requestJSON struct {
		RequestID   string `json:"requestId"`
		VendorCode  string `json:"vendorCode"`
		ModelID     string `json:"modelId"`
		SlotID      string `json:"slotId"`
		SensorType  string `json:"sensorType"`
		Measurement struct {
			Type string `json:"type"`
			Unit string `json:"unit"`
		} `json:"measurement"`
		Status          string   `json:"status"`
		RejectReason    string   `json:"rejectReason"`
		ReplenishmentID string   `json:"replenishmentId"`
		Threshold       *float64 `json:"threshold"`
		Policy          string   `json:"policy"`
		ServiceLevel    *float64 `json:"serviceLevel"`
	}
	listJSON[T any] struct {
		Items []T `json:"items"`
	}
)

var (
	identRE           = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	replenishmentIDRE = regexp.MustCompile(`^rp-[a-z2-7]{26}$`)
)

// createVendor creates a vendor as the operator and returns its API key.
func createVendor(t testing.TB, e *env, code string) string {
	t.Helper()
	var v struct {
		APIKey string `json:"apiKey"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/vendors", e.OperatorKey, map[string]any{"vendorCode": code, "name": "Vendor " + code}, &v)
	if v.APIKey == "" {
		t.Fatalf("vendor %s: no apiKey", code)
	}
	return v.APIKey
}

// createModel creates a SKILL model with modelID (generated when empty).
func createModel(t *testing.T, e *env, key, modelID string) modelJSON {
	t.Helper()
	body := map[string]any{"kind": "SKILL", "name": "Printer"}
	if modelID != "" {
		body["modelId"] = modelID
	}
	var m modelJSON
	e.must(http.StatusCreated, "POST", "/api/v1/models", key, body, &m)
	return m
}

func getModel(t *testing.T, e *env, key, modelID string) modelJSON {
	t.Helper()
	var m modelJSON
	e.must(http.StatusOK, "GET", "/api/v1/models/"+modelID, key, nil, &m)
	return m
}

func slotByID(t *testing.T, m modelJSON, slotID string) slotJSON {
	t.Helper()
	for _, s := range m.Slots {
		if s.SlotID == slotID {
			return s
		}
	}
	t.Fatalf("model %s has no slot %s: %+v", m.ModelID, slotID, m.Slots)
	return slotJSON{}
}

// snapshot is the raw answer of a GET, to show a refusal changed nothing.
func snapshot(t *testing.T, e *env, key, path string) string {
	t.Helper()
	status, raw := e.do("GET", path, key, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, status, raw)
	}
	return string(raw)
}

func unchanged(t *testing.T, e *env, key, path, before, after string) {
	t.Helper()
	if now := snapshot(t, e, key, path); now != before {
		t.Fatalf("GET %s changed after %s:\nbefore %s\nafter  %s", path, after, before, now)
	}
}

// putProduct adds a product of category sold in mp at the marketplace's currency.
func putProduct(t *testing.T, e *env, id, category, mp, currency string) {
	t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/products/"+id, e.OperatorKey, map[string]any{
		"category": category, "packQuantity": 2, "packUnit": "Count",
		"offers": map[string]any{mp: map[string]any{"title": id, "price": "12.99", "currency": currency, "available": true}},
	}, nil)
}

// createCustomer creates a customer as the operator and returns its ID.
func createCustomer(t *testing.T, e *env, email, mp string) string {
	t.Helper()
	var c struct {
		CustomerID string `json:"customerId"`
		APIKey     string `json:"apiKey"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/customers", e.OperatorKey,
		map[string]any{"email": email, "name": "Jo", "marketplace": mp}, &c)
	if c.CustomerID == "" || c.APIKey == "" {
		t.Fatalf("customer %s: no customerId or apiKey", email)
	}
	return c.CustomerID
}

// inkModel is a vendor with a model whose SLOT01 is INK, ready for requests.
func inkModel(t *testing.T, e *env) (key, modelID string) {
	t.Helper()
	key = createVendor(t, e, "acme")
	m := createModel(t, e, key, "printer")
	e.must(http.StatusOK, "PATCH", "/api/v1/models/printer/slots/SLOT01", key, map[string]any{"category": "INK"}, nil)
	return key, m.ModelID
}

func putRequest(t *testing.T, e *env, key, modelID, slotID string, body map[string]any) requestJSON {
	t.Helper()
	var r requestJSON
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/slots/"+slotID+"/replenishment-request", key, body, &r)
	return r
}

func percentLevel(submit bool) map[string]any {
	return map[string]any{"sensorType": "LEVEL", "measurement": map[string]any{"type": "Percentage"},
		"description": "optical ink level sensor", "submit": submit}
}

func requestsWith(t *testing.T, e *env, status string) []requestJSON {
	t.Helper()
	var l listJSON[requestJSON]
	e.must(http.StatusOK, "GET", "/api/v1/replenishment-requests?status="+status, e.OperatorKey, nil, &l)
	return l.Items
}

func hasRequest(rs []requestJSON, id string) bool {
	return slices.ContainsFunc(rs, func(r requestJSON) bool { return r.RequestID == id })
}

func TestConsoleAuth(t *testing.T) {
	e := newEnv(t)
	vendorKey := createVendor(t, e, "acme")
	customerKey := func() string {
		var c struct {
			APIKey string `json:"apiKey"`
		}
		e.must(http.StatusCreated, "POST", "/api/v1/customers", e.OperatorKey,
			map[string]any{"email": "jo@example.com", "name": "Jo", "marketplace": "US"}, &c)
		return c.APIKey
	}()

	e.refused(http.StatusUnauthorized, "unauthorized", "", "GET", "/api/v1/marketplaces", "", nil)
	e.refused(http.StatusUnauthorized, "unauthorized", "", "GET", "/api/v1/models", "", nil)
	e.refused(http.StatusUnauthorized, "unauthorized", "", "GET", "/api/v1/models", "rk_v_no_such_key_000000000000000", nil)
	e.refused(http.StatusUnauthorized, "unauthorized", "", "POST", "/api/v1/vendors", "rk_op_no_such_key_00000000000000",
		map[string]any{"vendorCode": "ghost", "name": "Ghost"})

	// A vendor may not act as the operator: the vendor is not created.
	e.refused(http.StatusForbidden, "forbidden", "", "POST", "/api/v1/vendors", vendorKey,
		map[string]any{"vendorCode": "sneaky", "name": "Sneaky"})
	e.refused(http.StatusForbidden, "forbidden", "", "GET", "/api/v1/replenishment-requests", vendorKey, nil)
	createVendor(t, e, "sneaky")
	createVendor(t, e, "ghost")

	// A customer may not act as a vendor: no model appears.
	before := snapshot(t, e, vendorKey, "/api/v1/models")
	e.refused(http.StatusForbidden, "forbidden", "", "POST", "/api/v1/models", customerKey,
		map[string]any{"kind": "SKILL", "name": "Nope"})
	e.refused(http.StatusForbidden, "forbidden", "", "GET", "/api/v1/models", customerKey, nil)
	e.refused(http.StatusForbidden, "forbidden", "", "GET", "/api/v1/vendor", customerKey, nil)
	unchanged(t, e, vendorKey, "/api/v1/models", before, "a customer's POST")

	// Every role may read the marketplaces.
	for _, key := range []string{e.OperatorKey, vendorKey, customerKey} {
		e.must(http.StatusOK, "GET", "/api/v1/marketplaces", key, nil, nil)
	}
}

func TestConsoleCreateVendor(t *testing.T) {
	e := newEnv(t)
	var v struct {
		VendorCode, Name, APIKey, ClientID, ClientSecret, SigningSecret string
	}
	e.must(http.StatusCreated, "POST", "/api/v1/vendors", e.OperatorKey,
		map[string]any{"vendorCode": "acme", "name": "Acme Printers"}, &v)
	if v.VendorCode != "acme" || v.Name != "Acme Printers" || v.APIKey == "" || v.ClientID == "" ||
		v.ClientSecret == "" || v.SigningSecret == "" {
		t.Fatalf("created vendor lacks a field: %+v", v)
	}
	// The key given is the vendor's.
	var got struct {
		VendorCode string `json:"vendorCode"`
		Name       string `json:"name"`
		ClientID   string `json:"clientId"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/vendor", v.APIKey, nil, &got)
	if got.VendorCode != "acme" || got.Name != "Acme Printers" || got.ClientID != v.ClientID {
		t.Fatalf("GET /api/v1/vendor = %+v, want acme, Acme Printers, %s", got, v.ClientID)
	}
	// The answer holds the secrets once; later reads never show them.
	for _, secret := range []string{v.ClientSecret, v.SigningSecret, v.APIKey} {
		if strings.Contains(snapshot(t, e, v.APIKey, "/api/v1/vendor"), secret) {
			t.Fatalf("GET /api/v1/vendor shows a secret")
		}
	}

	// vendorCode: 2 to 32 of [a-z0-9.-].
	for _, bad := range []string{"a", strings.Repeat("b", 33), "Acme", "acme_co", "ac me", ""} {
		e.refused(http.StatusBadRequest, "invalid", "vendorCode", "POST", "/api/v1/vendors", e.OperatorKey,
			map[string]any{"vendorCode": bad, "name": "Bad"})
	}
	createVendor(t, e, strings.Repeat("c", 32))
	createVendor(t, e, "a1")
	createVendor(t, e, "acme.eu-2")

	e.refused(http.StatusBadRequest, "invalid", "name", "POST", "/api/v1/vendors", e.OperatorKey,
		map[string]any{"vendorCode": "noname", "name": " "})

	// A duplicate is refused and leaves the first vendor as it was.
	e.refused(http.StatusConflict, "conflict", "vendorCode", "POST", "/api/v1/vendors", e.OperatorKey,
		map[string]any{"vendorCode": "acme", "name": "Impostor"})
	e.must(http.StatusOK, "GET", "/api/v1/vendor", v.APIKey, nil, &got)
	if got.Name != "Acme Printers" || got.ClientID != v.ClientID {
		t.Fatalf("after a duplicate, GET /api/v1/vendor = %+v", got)
	}

	// Unknown fields and malformed JSON are refused before anything is stored.
	e.refused(http.StatusBadRequest, "invalid", "vendorKode", "POST", "/api/v1/vendors", e.OperatorKey,
		map[string]any{"vendorCode": "typo", "name": "Typo", "vendorKode": "x"})
	e.refused(http.StatusBadRequest, "invalid", "", "POST", "/api/v1/vendors", e.OperatorKey,
		[]byte(`{"vendorCode":"broken","name":`))
	e.refused(http.StatusBadRequest, "invalid", "", "POST", "/api/v1/vendors", e.OperatorKey, []byte(`not json`))
	createVendor(t, e, "typo")
	createVendor(t, e, "broken")
}

func TestConsoleVendorSettings(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	type view struct {
		SkillEndpointURL      string   `json:"skillEndpointUrl"`
		OAuthAuthorizationURL string   `json:"oauthAuthorizationUrl"`
		OAuthTokenURL         string   `json:"oauthTokenUrl"`
		OAuthClientID         string   `json:"oauthClientId"`
		WebhookURL            string   `json:"webhookUrl"`
		AllowedExitURIs       []string `json:"allowedExitUris"`
		OAuthClientSecretSet  bool     `json:"oauthClientSecretSet"`
	}
	var v view
	e.must(http.StatusOK, "GET", "/api/v1/vendor", key, nil, &v)
	if v.OAuthClientSecretSet {
		t.Fatal("a new vendor has oauthClientSecretSet true")
	}

	const secret = "oauth-secret-4f9c2a7e"
	settings := map[string]any{
		"skillEndpointUrl":      "https://skill.acme.example/alexa",
		"oauthAuthorizationUrl": "https://acme.example/oauth/authorize",
		"oauthTokenUrl":         "https://acme.example/oauth/token",
		"oauthClientId":         "replenish",
		"oauthClientSecret":     secret,
		"webhookUrl":            "https://hooks.acme.example/replenish",
		"allowedExitUris":       []string{"https://acme.example/done", "acmeapp://back"},
	}
	status, raw := e.do("PUT", "/api/v1/vendor", key, settings)
	if status != http.StatusOK || strings.Contains(string(raw), secret) {
		t.Fatalf("PUT /api/v1/vendor: %d %s (the secret must not be read back)", status, raw)
	}
	body := snapshot(t, e, key, "/api/v1/vendor")
	if strings.Contains(body, secret) {
		t.Fatalf("GET /api/v1/vendor shows the OAuth client secret: %s", body)
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	want := view{SkillEndpointURL: "https://skill.acme.example/alexa", OAuthAuthorizationURL: "https://acme.example/oauth/authorize",
		OAuthTokenURL: "https://acme.example/oauth/token", OAuthClientID: "replenish", WebhookURL: "https://hooks.acme.example/replenish",
		AllowedExitURIs: []string{"https://acme.example/done", "acmeapp://back"}, OAuthClientSecretSet: true}
	if fmt.Sprint(v) != fmt.Sprint(want) {
		t.Fatalf("GET /api/v1/vendor = %+v, want %+v", v, want)
	}

	// Refusals name the field and keep the settings.
	with := func(field string, value any) map[string]any {
		m := map[string]any{}
		for k, v := range settings {
			m[k] = v
		}
		m[field] = value
		return m
	}
	refusals := []struct {
		field string
		value any
		named string
	}{
		{"skillEndpointUrl", "ftp://x", "skillEndpointUrl"},
		{"skillEndpointUrl", "not a url", "skillEndpointUrl"},
		{"skillEndpointUrl", "/alexa", "skillEndpointUrl"},
		{"webhookUrl", "https://", "webhookUrl"},
		{"oauthTokenUrl", "mailto:ops@acme.example", "oauthTokenUrl"},
		{"allowedExitUris", []string{"acme.example/done"}, "allowedExitUris[0]"},
		{"allowedExitUris", []string{"https://acme.example/", "/relative"}, "allowedExitUris[1]"},
	}
	for _, r := range refusals {
		e.refused(http.StatusBadRequest, "invalid", r.named, "PUT", "/api/v1/vendor", key, with(r.field, r.value))
		unchanged(t, e, key, "/api/v1/vendor", body, "a refused "+r.field)
	}
	e.refused(http.StatusBadRequest, "invalid", "oauthClientSecrets", "PUT", "/api/v1/vendor", key,
		with("oauthClientSecrets", "x"))
	unchanged(t, e, key, "/api/v1/vendor", body, "an unknown field")

	// A PUT without the secret keeps it, since the vendor cannot read it back.
	delete(settings, "oauthClientSecret")
	e.must(http.StatusOK, "PUT", "/api/v1/vendor", key, settings, nil)
	unchanged(t, e, key, "/api/v1/vendor", body, "a PUT without oauthClientSecret")
}

func TestConsoleCreateModel(t *testing.T) {
	e := newEnv(t)
	acme := createVendor(t, e, "acme")
	other := createVendor(t, e, "other")

	// name is 1 to 60 characters, counted as characters, not bytes.
	name60 := strings.Repeat("é", 60)
	var m modelJSON
	e.must(http.StatusCreated, "POST", "/api/v1/models", acme,
		map[string]any{"kind": "SKILL", "name": name60, "modelId": "printer-1.0_A"}, &m)
	if m.Name != name60 || m.ModelID != "printer-1.0_A" || m.Kind != "SKILL" || m.VendorCode != "acme" {
		t.Fatalf("created model = %+v", m)
	}
	// A new model has exactly one slot, SLOT01, without a category.
	if len(m.Slots) != 1 || m.Slots[0].SlotID != "SLOT01" || m.Slots[0].Category != "" || len(m.Marketplaces) != 0 {
		t.Fatalf("new model: slots %+v, marketplaces %v; want only SLOT01 without category", m.Slots, m.Marketplaces)
	}
	if got := getModel(t, e, acme, "printer-1.0_A"); got.Name != name60 || len(got.Slots) != 1 || got.Slots[0].SlotID != "SLOT01" {
		t.Fatalf("GET model = %+v", got)
	}

	before := snapshot(t, e, acme, "/api/v1/models")
	refusals := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"kind": "SKILL", "name": strings.Repeat("é", 61)}, "name"},
		{map[string]any{"kind": "SKILL", "name": ""}, "name"},
		{map[string]any{"kind": "SKILL", "name": "   "}, "name"},
		{map[string]any{"kind": "SKILL"}, "name"},
		{map[string]any{"kind": "SKILL", "name": "P", "modelId": "bad id"}, "modelId"},
		{map[string]any{"kind": "SKILL", "name": "P", "modelId": "bad/id"}, "modelId"},
		{map[string]any{"kind": "SKILL", "name": "P", "modelId": strings.Repeat("m", 65)}, "modelId"},
		{map[string]any{"kind": "CONNECT_KIT", "name": "P"}, "deviceType"},
		{map[string]any{"kind": "SKILL", "name": "P", "deviceType": "ack-printer"}, "deviceType"},
		{map[string]any{"kind": "TOASTER", "name": "P"}, "kind"},
		{map[string]any{"kind": "skill", "name": "P"}, "kind"},
		{map[string]any{"name": "P"}, "kind"},
	}
	for _, r := range refusals {
		e.refused(http.StatusBadRequest, "invalid", r.field, "POST", "/api/v1/models", acme, r.body)
	}
	unchanged(t, e, acme, "/api/v1/models", before, "refused models")

	// A duplicate modelId of the same vendor is a conflict; the first stays.
	e.refused(http.StatusConflict, "conflict", "modelId", "POST", "/api/v1/models", acme,
		map[string]any{"kind": "SKILL", "name": "Again", "modelId": "printer-1.0_A"})
	unchanged(t, e, acme, "/api/v1/models", before, "a duplicate modelId")

	// The same modelId under another vendor is another model.
	createModel(t, e, other, "printer-1.0_A")
	createModel(t, e, acme, strings.Repeat("m", 64))

	// A generated modelId is usable.
	gen := createModel(t, e, acme, "")
	if !identRE.MatchString(gen.ModelID) {
		t.Fatalf("generated modelId %q does not match %s", gen.ModelID, identRE)
	}
	getModel(t, e, acme, gen.ModelID)

	// CONNECT_KIT needs a deviceType and keeps it.
	var ck modelJSON
	e.must(http.StatusCreated, "POST", "/api/v1/models", acme,
		map[string]any{"kind": "CONNECT_KIT", "name": "Washer", "deviceType": "ack-washer"}, &ck)
	if ck.Kind != "CONNECT_KIT" || ck.DeviceType != "ack-washer" {
		t.Fatalf("CONNECT_KIT model = %+v", ck)
	}

	// Each vendor lists and reads only its own models.
	var l listJSON[modelJSON]
	e.must(http.StatusOK, "GET", "/api/v1/models", acme, nil, &l)
	if len(l.Items) != 4 {
		t.Fatalf("acme lists %d models, want 4", len(l.Items))
	}
	for _, m := range l.Items {
		if m.VendorCode != "acme" {
			t.Fatalf("acme lists a model of %s", m.VendorCode)
		}
	}
	e.must(http.StatusOK, "GET", "/api/v1/models", other, nil, &l)
	if len(l.Items) != 1 || l.Items[0].VendorCode != "other" {
		t.Fatalf("other lists %+v, want only its printer-1.0_A", l.Items)
	}
	e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/models/"+gen.ModelID, other, nil)
	e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/models/"+ck.ModelID, other, nil)
	// other's printer-1.0_A is still its own, not acme's with the long name.
	if got := getModel(t, e, other, "printer-1.0_A"); got.VendorCode != "other" || got.Name == name60 {
		t.Fatalf("other's model = %+v", got)
	}
}

func TestConsoleMarketplaces(t *testing.T) {
	e := newEnv(t)
	var l listJSON[struct {
		Code     string `json:"code"`
		Region   string `json:"region"`
		Currency string `json:"currency"`
		Locale   string `json:"locale"`
	}]
	e.must(http.StatusOK, "GET", "/api/v1/marketplaces", e.OperatorKey, nil, &l)
	want := map[string]string{
		"US": "NA", "CA": "NA", "MX": "NA", "BR": "NA",
		"UK": "EU", "DE": "EU", "FR": "EU", "IT": "EU", "ES": "EU", "NL": "EU", "SE": "EU", "PL": "EU",
		"BE": "EU", "IE": "EU", "TR": "EU", "IN": "EU", "AE": "EU", "SA": "EU", "EG": "EU",
		"JP": "FE", "AU": "FE", "SG": "FE",
	}
	got := map[string]string{}
	for _, m := range l.Items {
		if m.Currency == "" || m.Locale == "" {
			t.Errorf("marketplace %s lacks currency or locale: %+v", m.Code, m)
		}
		got[m.Code] = m.Region
	}
	if len(l.Items) != 22 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("marketplaces %v (%d), want %v", got, len(l.Items), want)
	}

	// Adding one to a model: every slot gets the placeholder product.
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	e.must(http.StatusCreated, "POST", "/api/v1/models/printer/slots", key, map[string]any{"slotId": "SLOT02", "category": "TONER"}, nil)
	before := snapshot(t, e, key, "/api/v1/models/printer")
	e.refused(http.StatusBadRequest, "invalid", "marketplace", "PUT", "/api/v1/models/printer/marketplaces/XX", key, nil)
	e.refused(http.StatusBadRequest, "invalid", "marketplace", "PUT", "/api/v1/models/printer/marketplaces/us", key, nil)
	unchanged(t, e, key, "/api/v1/models/printer", before, "an unknown marketplace")

	var m modelJSON
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, &m)
	if fmt.Sprint(m.Marketplaces) != "[US]" {
		t.Fatalf("marketplaces %v, want [US]", m.Marketplaces)
	}
	m = getModel(t, e, key, "printer")
	for _, s := range m.Slots {
		if fmt.Sprint(s.Products) != "map[US:[PLACEHOLDER-BATTERIES-US]]" {
			t.Fatalf("slot %s products %v, want the US placeholder", s.SlotID, s.Products)
		}
	}
	// Adding it again changes nothing.
	before = snapshot(t, e, key, "/api/v1/models/printer")
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, nil)
	unchanged(t, e, key, "/api/v1/models/printer", before, "adding US twice")

	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/nosuch/marketplaces/US", key, nil)
}

func TestConsoleSlots(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/DE", key, nil, nil)

	// A new slot starts with the placeholder in every marketplace of the model.
	var m modelJSON
	e.must(http.StatusCreated, "POST", "/api/v1/models/printer/slots", key,
		map[string]any{"slotId": "black-ink.1", "category": "INK"}, &m)
	s := slotByID(t, m, "black-ink.1")
	if s.Category != "INK" || fmt.Sprint(s.Products) != "map[DE:[PLACEHOLDER-BATTERIES-DE] US:[PLACEHOLDER-BATTERIES-US]]" {
		t.Fatalf("new slot = %+v", s)
	}
	if len(m.Slots) != 2 || m.Slots[0].SlotID != "SLOT01" {
		t.Fatalf("slots %+v, want SLOT01 then black-ink.1", m.Slots)
	}

	before := snapshot(t, e, key, "/api/v1/models/printer")
	for _, r := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"slotId": "SLOT03", "category": "CHEESE"}, "category"},
		{map[string]any{"slotId": "SLOT03", "category": "inks"}, "category"},
		{map[string]any{"slotId": "SLOT03"}, "category"},
		{map[string]any{"slotId": "bad slot", "category": "INK"}, "slotId"},
		{map[string]any{"slotId": "", "category": "INK"}, "slotId"},
		{map[string]any{"slotId": strings.Repeat("s", 65), "category": "INK"}, "slotId"},
	} {
		e.refused(http.StatusBadRequest, "invalid", r.field, "POST", "/api/v1/models/printer/slots", key, r.body)
	}
	e.refused(http.StatusConflict, "conflict", "slotId", "POST", "/api/v1/models/printer/slots", key,
		map[string]any{"slotId": "SLOT01", "category": "TONER"})
	unchanged(t, e, key, "/api/v1/models/printer", before, "refused slots")

	// PATCH sets the category; a bad one is refused and changes nothing.
	e.must(http.StatusOK, "PATCH", "/api/v1/models/printer/slots/SLOT01", key, map[string]any{"category": "TONER"}, &m)
	if c := slotByID(t, m, "SLOT01").Category; c != "TONER" {
		t.Fatalf("SLOT01 category %q after PATCH, want TONER", c)
	}
	if c := slotByID(t, getModel(t, e, key, "printer"), "SLOT01").Category; c != "TONER" {
		t.Fatalf("GET: SLOT01 category %q, want TONER", c)
	}
	before = snapshot(t, e, key, "/api/v1/models/printer")
	e.refused(http.StatusBadRequest, "invalid", "category", "PATCH", "/api/v1/models/printer/slots/SLOT01", key,
		map[string]any{"category": "CHEESE"})
	e.refused(http.StatusNotFound, "not_found", "", "PATCH", "/api/v1/models/printer/slots/NOPE", key,
		map[string]any{"category": "INK"})
	unchanged(t, e, key, "/api/v1/models/printer", before, "refused PATCHes")

	// Another vendor cannot touch the model.
	other := createVendor(t, e, "other")
	e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/models/printer/slots", other,
		map[string]any{"slotId": "SLOT09", "category": "INK"})
	unchanged(t, e, key, "/api/v1/models/printer", before, "another vendor's POST")
}

func TestConsoleProducts(t *testing.T) {
	e := newEnv(t)
	putProduct(t, e, "INK-1", "INK", "US", "USD")
	putProduct(t, e, "INK-2", "INK", "US", "USD")
	putProduct(t, e, "TONER-1", "TONER", "US", "USD")
	putProduct(t, e, "INK-DE", "INK", "DE", "EUR")

	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, nil)
	e.must(http.StatusOK, "PATCH", "/api/v1/models/printer/slots/SLOT01", key, map[string]any{"category": "INK"}, nil)
	const list = "/api/v1/models/printer/slots/SLOT01/products/US"

	var m modelJSON
	e.must(http.StatusOK, "PUT", list, key, map[string]any{"productIds": []string{"INK-1"}}, &m)
	if got := slotByID(t, m, "SLOT01").Products["US"]; fmt.Sprint(got) != "[INK-1]" {
		t.Fatalf("US list %v, want [INK-1] (replacing the placeholder)", got)
	}

	before := snapshot(t, e, key, "/api/v1/models/printer")
	for _, r := range []struct {
		ids   []string
		field string
	}{
		{[]string{"TONER-1"}, "productIds[0]"},          // another category
		{[]string{"INK-1", "TONER-1"}, "productIds[1]"}, // another category, second
		{[]string{"INK-DE"}, "productIds[0]"},           // not sold in US
		{[]string{"INK-1", "NO-SUCH"}, "productIds[1]"}, // not in the catalog
		{[]string{}, "productIds"},
		{nil, "productIds"},
	} {
		e.refused(http.StatusBadRequest, "invalid", r.field, "PUT", list, key, map[string]any{"productIds": r.ids})
	}
	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/printer/slots/SLOT01/products/DE", key,
		map[string]any{"productIds": []string{"INK-DE"}})
	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/printer/slots/NOPE/products/US", key,
		map[string]any{"productIds": []string{"INK-1"}})
	unchanged(t, e, key, "/api/v1/models/printer", before, "refused product lists")

	// A valid list replaces the old one, in the order given.
	e.must(http.StatusOK, "PUT", list, key, map[string]any{"productIds": []string{"INK-2", "INK-1"}}, nil)
	if got := slotByID(t, getModel(t, e, key, "printer"), "SLOT01").Products["US"]; fmt.Sprint(got) != "[INK-2 INK-1]" {
		t.Fatalf("US list %v, want [INK-2 INK-1]", got)
	}

	// Product refusals: the offer's currency must be the marketplace's, the
	// price a decimal. A refused product is not stored, and a refused
	// change keeps the product as it was.
	offer := func(price, currency string) map[string]any {
		return map[string]any{"category": "INK", "packQuantity": 1, "packUnit": "Count",
			"offers": map[string]any{"US": map[string]any{"title": "Ink", "price": price, "currency": currency, "available": true}}}
	}
	for _, r := range []struct {
		body  map[string]any
		field string
	}{
		{offer("12.99", "EUR"), "offers.US.currency"},
		{offer("12,99", "USD"), "offers.US.price"},
		{offer("twelve", "USD"), "offers.US.price"},
		{offer("-1.00", "USD"), "offers.US.price"},
		{offer("", "USD"), "offers.US.price"},
	} {
		e.refused(http.StatusBadRequest, "invalid", r.field, "PUT", "/api/v1/products/INK-NEW", e.OperatorKey, r.body)
	}
	toner := offer("12,99", "USD")
	toner["category"] = "TONER"
	e.refused(http.StatusBadRequest, "invalid", "offers.US.price", "PUT", "/api/v1/products/INK-1", e.OperatorKey, toner)
	e.refused(http.StatusBadRequest, "invalid", "productIds[0]", "PUT", list, key, map[string]any{"productIds": []string{"INK-NEW"}})
	e.must(http.StatusOK, "PUT", list, key, map[string]any{"productIds": []string{"INK-1"}}, nil)
}

func TestConsoleRequestDraftAndSubmit(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	path := "/api/v1/models/" + modelID + "/slots/SLOT01/replenishment-request"

	draft := putRequest(t, e, key, modelID, "SLOT01", percentLevel(false))
	if draft.Status != "DRAFT" || draft.RequestID == "" || draft.SensorType != "LEVEL" || draft.Measurement.Type != "Percentage" {
		t.Fatalf("draft = %+v", draft)
	}
	if r := slotByID(t, getModel(t, e, key, modelID), "SLOT01").Request; r == nil || r.Status != "DRAFT" {
		t.Fatalf("GET model: SLOT01 request %+v, want DRAFT", r)
	}
	if hasRequest(requestsWith(t, e, "SUBMITTED"), draft.RequestID) {
		t.Fatal("a draft is listed as SUBMITTED")
	}

	before := snapshot(t, e, key, "/api/v1/models/"+modelID)
	for _, r := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"sensorType": "GAUGE", "measurement": map[string]any{"type": "Percentage"}}, "sensorType"},
		{map[string]any{"sensorType": "level", "measurement": map[string]any{"type": "Percentage"}}, "sensorType"},
		{map[string]any{"sensorType": "LEVEL_USAGE", "measurement": map[string]any{"type": "Count"}}, "measurement.type"},
		{map[string]any{"sensorType": "LEVEL", "measurement": map[string]any{"type": "Length"}}, "measurement.type"},
		{map[string]any{"sensorType": "LEVEL", "measurement": map[string]any{"type": "Volume"}}, "measurement.unit"},
		{map[string]any{"sensorType": "USAGE", "measurement": map[string]any{"type": "Volume", "unit": "GRAM"}}, "measurement.unit"},
		{map[string]any{"sensorType": "LEVEL", "measurement": map[string]any{"type": "Weight", "unit": "LITER"}}, "measurement.unit"},
		{map[string]any{"sensorType": "LEVEL", "measurement": map[string]any{"type": "Percentage", "unit": "LITER"}}, "measurement.unit"},
	} {
		r.body["submit"] = true
		e.refused(http.StatusBadRequest, "invalid", r.field, "PUT", path, key, r.body)
	}
	unchanged(t, e, key, "/api/v1/models/"+modelID, before, "refused requests")

	// A slot without a category cannot submit; nothing is saved.
	createModel(t, e, key, "bare")
	before = snapshot(t, e, key, "/api/v1/models/bare")
	e.refused(http.StatusBadRequest, "invalid", "category", "PUT", "/api/v1/models/bare/slots/SLOT01/replenishment-request",
		key, percentLevel(true))
	unchanged(t, e, key, "/api/v1/models/bare", before, "a submit without category")

	// Volume with its unit, submitted.
	sub := putRequest(t, e, key, modelID, "SLOT01", map[string]any{"sensorType": "USAGE",
		"measurement": map[string]any{"type": "Volume", "unit": "MILLILITER"}, "description": "ink drops", "submit": true})
	if sub.Status != "SUBMITTED" || sub.Measurement.Type != "Volume" || sub.Measurement.Unit != "MILLILITER" {
		t.Fatalf("submitted = %+v", sub)
	}
	if r := slotByID(t, getModel(t, e, key, modelID), "SLOT01").Request; r == nil || r.Status != "SUBMITTED" || r.RequestID != sub.RequestID {
		t.Fatalf("GET model: SLOT01 request %+v, want SUBMITTED %s", r, sub.RequestID)
	}
	if !hasRequest(requestsWith(t, e, "SUBMITTED"), sub.RequestID) {
		t.Fatal("the submitted request is not listed with status=SUBMITTED")
	}
	if hasRequest(requestsWith(t, e, "DRAFT"), sub.RequestID) {
		t.Fatal("the submitted request is still listed with status=DRAFT")
	}
	e.refused(http.StatusBadRequest, "invalid", "status", "GET", "/api/v1/replenishment-requests?status=WAITING", e.OperatorKey, nil)
	e.refused(http.StatusBadRequest, "invalid", "status", "GET", "/api/v1/replenishment-requests?status=submitted", e.OperatorKey, nil)
}

func TestConsoleRequestAssign(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	req := putRequest(t, e, key, modelID, "SLOT01", percentLevel(true))
	assign := "/api/v1/replenishment-requests/" + req.RequestID + "/assign"

	all := snapshot(t, e, e.OperatorKey, "/api/v1/replenishment-requests")
	for _, r := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"policy": "THRESHOLD"}, "threshold"},
		{map[string]any{"threshold": 101, "policy": "THRESHOLD"}, "threshold"},
		{map[string]any{"threshold": -1, "policy": "THRESHOLD"}, "threshold"},
		{map[string]any{"threshold": "ten", "policy": "THRESHOLD"}, "threshold"},
		{map[string]any{"threshold": 10, "policy": "SOMETIMES"}, "policy"},
		{map[string]any{"threshold": 10, "serviceLevel": 49.9}, "serviceLevel"},
		{map[string]any{"threshold": 10, "serviceLevel": "99.95"}, "serviceLevel"},
		{map[string]any{"threshold": 10, "serviceLevel": 100}, "serviceLevel"},
		{map[string]any{"threshold": 10, "serviceLevel": "high"}, "serviceLevel"},
		{map[string]any{"threshold": 10, "serviceLevel": true}, "serviceLevel"},
	} {
		e.refused(http.StatusBadRequest, "invalid", r.field, "POST", assign, e.OperatorKey, r.body)
	}
	e.refused(http.StatusNotFound, "not_found", "", "POST", "/api/v1/replenishment-requests/rq-nosuch/assign", e.OperatorKey,
		map[string]any{"threshold": 10, "policy": "THRESHOLD"})
	unchanged(t, e, e.OperatorKey, "/api/v1/replenishment-requests", all, "refused assignments")

	// Lenient in what it takes: a policy in any case, numbers as strings,
	// a service level with a per-cent sign.
	var got requestJSON
	e.must(http.StatusOK, "POST", assign, e.OperatorKey,
		map[string]any{"threshold": "10", "policy": " threshold", "serviceLevel": "97.5 %"}, &got)
	if got.Status != "ASSIGNED" || !replenishmentIDRE.MatchString(got.ReplenishmentID) ||
		got.Threshold == nil || *got.Threshold != 10 || got.Policy != "THRESHOLD" ||
		got.ServiceLevel == nil || *got.ServiceLevel != 97.5 {
		t.Fatalf("assigned = %+v, want ASSIGNED with an rp- ID, threshold 10, THRESHOLD at 97.5 %%", got)
	}
	r := slotByID(t, getModel(t, e, key, modelID), "SLOT01").Request
	if r == nil || r.Status != "ASSIGNED" || r.ReplenishmentID != got.ReplenishmentID {
		t.Fatalf("the vendor sees %+v, want ASSIGNED %s", r, got.ReplenishmentID)
	}
	if !hasRequest(requestsWith(t, e, "ASSIGNED"), req.RequestID) || hasRequest(requestsWith(t, e, "SUBMITTED"), req.RequestID) {
		t.Fatal("the assigned request is not listed as ASSIGNED only")
	}

	// Decided is decided: no second assignment, no rejection, no vendor change.
	all = snapshot(t, e, e.OperatorKey, "/api/v1/replenishment-requests")
	model := snapshot(t, e, key, "/api/v1/models/"+modelID)
	e.refused(http.StatusConflict, "conflict", "", "POST", assign, e.OperatorKey, map[string]any{"threshold": 20, "policy": "FORECAST"})
	e.refused(http.StatusConflict, "conflict", "", "POST", "/api/v1/replenishment-requests/"+req.RequestID+"/reject",
		e.OperatorKey, map[string]any{"reason": "too late"})
	e.refused(http.StatusConflict, "conflict", "", "PUT", "/api/v1/models/"+modelID+"/slots/SLOT01/replenishment-request",
		key, percentLevel(false))
	unchanged(t, e, e.OperatorKey, "/api/v1/replenishment-requests", all, "changes to an assigned request")
	unchanged(t, e, key, "/api/v1/models/"+modelID, model, "changes to an assigned request")

	// The 100 limit is for Percentage only; the policy defaults to FORECAST.
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+modelID+"/slots", key, map[string]any{"slotId": "PODS", "category": "COFFEE_PODS"}, nil)
	pods := putRequest(t, e, key, modelID, "PODS", map[string]any{"sensorType": "USAGE",
		"measurement": map[string]any{"type": "Count"}, "submit": true})
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+pods.RequestID+"/assign", e.OperatorKey,
		map[string]any{"threshold": 150}, &got)
	if got.Status != "ASSIGNED" || got.Policy != "FORECAST" || *got.Threshold != 150 || !replenishmentIDRE.MatchString(got.ReplenishmentID) ||
		got.ServiceLevel == nil || *got.ServiceLevel != 95 {
		t.Fatalf("Count request assigned = %+v, want FORECAST at the default 95 %%", got)
	}
	if got.ReplenishmentID == r.ReplenishmentID {
		t.Fatal("two slots got the same replenishment ID")
	}
}

// TestConsoleChangeAssignment: the operator changes an assigned request's
// policy; what is not sent stays, a bad value names its field and changes
// nothing, and only an assigned request has a policy to change.
func TestConsoleChangeAssignment(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	req := putRequest(t, e, key, modelID, "SLOT01", percentLevel(true))
	change := "/api/v1/replenishment-requests/" + req.RequestID
	e.refused(http.StatusConflict, "conflict", "", "PATCH", change, e.OperatorKey, map[string]any{"serviceLevel": 90})

	e.must(http.StatusOK, "POST", change+"/assign", e.OperatorKey, map[string]any{"threshold": 10, "policy": "THRESHOLD"}, nil)
	all := snapshot(t, e, e.OperatorKey, "/api/v1/replenishment-requests")
	for _, r := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"serviceLevel": 99.95}, "serviceLevel"},
		{map[string]any{"serviceLevel": 20, "policy": "FORECAST"}, "serviceLevel"},
		{map[string]any{"threshold": -5, "policy": "FORECAST"}, "threshold"},
		{map[string]any{"policy": "NEVER"}, "policy"},
	} {
		e.refused(http.StatusBadRequest, "invalid", r.field, "PATCH", change, e.OperatorKey, r.body)
	}
	e.refused(http.StatusForbidden, "forbidden", "", "PATCH", change, key, map[string]any{"policy": "FORECAST"})
	unchanged(t, e, e.OperatorKey, "/api/v1/replenishment-requests", all, "refused changes")

	var got requestJSON
	e.must(http.StatusOK, "PATCH", change, e.OperatorKey, map[string]any{"policy": "forecast", "serviceLevel": 0.9}, &got)
	if got.Policy != "FORECAST" || got.ServiceLevel == nil || *got.ServiceLevel != 90 || got.Threshold == nil || *got.Threshold != 10 {
		t.Fatalf("changed = %+v, want FORECAST at 90 %% (0.9 read as a fraction), threshold still 10", got)
	}
}

func TestConsoleRequestReject(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	req := putRequest(t, e, key, modelID, "SLOT01", percentLevel(true))
	reject := "/api/v1/replenishment-requests/" + req.RequestID + "/reject"

	all := snapshot(t, e, e.OperatorKey, "/api/v1/replenishment-requests")
	e.refused(http.StatusBadRequest, "invalid", "reason", "POST", reject, e.OperatorKey, map[string]any{})
	e.refused(http.StatusBadRequest, "invalid", "reason", "POST", reject, e.OperatorKey, map[string]any{"reason": "  "})
	unchanged(t, e, e.OperatorKey, "/api/v1/replenishment-requests", all, "rejections without a reason")

	const reason = "describe how the sensor measures the level"
	var got requestJSON
	e.must(http.StatusOK, "POST", reject, e.OperatorKey, map[string]any{"reason": reason}, &got)
	if got.Status != "REJECTED" || got.RejectReason != reason || got.ReplenishmentID != "" {
		t.Fatalf("rejected = %+v", got)
	}
	r := slotByID(t, getModel(t, e, key, modelID), "SLOT01").Request
	if r == nil || r.Status != "REJECTED" || r.RejectReason != reason {
		t.Fatalf("the vendor sees %+v, want REJECTED with the reason", r)
	}
	if !hasRequest(requestsWith(t, e, "REJECTED"), req.RequestID) {
		t.Fatal("the rejected request is not listed with status=REJECTED")
	}
	e.refused(http.StatusConflict, "conflict", "", "POST", "/api/v1/replenishment-requests/"+req.RequestID+"/assign",
		e.OperatorKey, map[string]any{"threshold": 10})

	// The vendor answers by resubmitting: SUBMITTED again, the reason gone.
	again := putRequest(t, e, key, modelID, "SLOT01", map[string]any{"sensorType": "LEVEL",
		"measurement": map[string]any{"type": "Percentage"}, "description": "optical sensor, 0 to 100 %", "submit": true})
	if again.Status != "SUBMITTED" || again.RejectReason != "" {
		t.Fatalf("resubmitted = %+v", again)
	}
	r = slotByID(t, getModel(t, e, key, modelID), "SLOT01").Request
	if r == nil || r.Status != "SUBMITTED" || r.RejectReason != "" {
		t.Fatalf("after resubmitting the vendor sees %+v", r)
	}
	if !hasRequest(requestsWith(t, e, "SUBMITTED"), again.RequestID) {
		t.Fatal("the resubmitted request is not listed with status=SUBMITTED")
	}
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+again.RequestID+"/assign", e.OperatorKey,
		map[string]any{"threshold": 15, "policy": "THRESHOLD"}, nil)
}

func TestConsoleCustomers(t *testing.T) {
	e := newEnv(t)
	var c struct {
		CustomerID  string `json:"customerId"`
		APIKey      string `json:"apiKey"`
		Email       string `json:"email"`
		Marketplace string `json:"marketplace"`
		Locale      string `json:"locale"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/customers", e.OperatorKey,
		map[string]any{"email": "jo@example.com", "name": "Jo", "marketplace": "DE"}, &c)
	if c.CustomerID == "" || c.APIKey == "" || c.Email != "jo@example.com" || c.Marketplace != "DE" || c.Locale != "de-DE" {
		t.Fatalf("created customer = %+v", c)
	}
	e.must(http.StatusOK, "GET", "/api/v1/marketplaces", c.APIKey, nil, nil)

	for _, r := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"email": "not-an-email", "name": "Al", "marketplace": "US"}, "email"},
		{map[string]any{"email": "Al <al@example.com>", "name": "Al", "marketplace": "US"}, "email"},
		{map[string]any{"email": "", "name": "Al", "marketplace": "US"}, "email"},
		{map[string]any{"email": "al@example.com", "name": "Al", "marketplace": "XX"}, "marketplace"},
		{map[string]any{"email": "al@example.com", "name": "Al"}, "marketplace"},
		{map[string]any{"email": "al@example.com", "name": "", "marketplace": "US"}, "name"},
	} {
		e.refused(http.StatusBadRequest, "invalid", r.field, "POST", "/api/v1/customers", e.OperatorKey, r.body)
	}
	// None of the refused ones was stored: the address is still free.
	createCustomer(t, e, "al@example.com", "US")

	e.refused(http.StatusConflict, "conflict", "email", "POST", "/api/v1/customers", e.OperatorKey,
		map[string]any{"email": "jo@example.com", "name": "Jo Two", "marketplace": "US"})
}

func TestConsoleTestAccounts(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, nil)
	account := func(id string) string { return "/api/v1/models/printer/marketplaces/US/test-accounts/" + id }

	ids := make([]string, 11)
	for i := range ids {
		ids[i] = createCustomer(t, e, fmt.Sprintf("tester%d@example.com", i), "US")
	}
	for _, id := range ids[:10] {
		e.must(http.StatusNoContent, "PUT", account(id), key, nil, nil)
	}
	// Putting one already there is not a new account.
	e.must(http.StatusNoContent, "PUT", account(ids[3]), key, nil, nil)

	// The 11th is refused and not stored.
	e.refused(http.StatusConflict, "conflict", "", "PUT", account(ids[10]), key, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", account(ids[10]), key, nil)

	// Removing one makes room; then the model is full again, which shows
	// the other nine are still there.
	e.must(http.StatusNoContent, "DELETE", account(ids[0]), key, nil, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", account(ids[0]), key, nil)
	e.must(http.StatusNoContent, "PUT", account(ids[10]), key, nil, nil)
	e.refused(http.StatusConflict, "conflict", "", "PUT", account(ids[0]), key, nil)
	for _, id := range ids[1:] {
		e.must(http.StatusNoContent, "DELETE", account(id), key, nil, nil)
	}

	// The limit is per marketplace: a full US leaves CA empty.
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/CA", key, nil, nil)
	e.must(http.StatusNoContent, "PUT", "/api/v1/models/printer/marketplaces/CA/test-accounts/"+ids[0], key, nil, nil)

	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/printer/marketplaces/DE/test-accounts/"+ids[1], key, nil)
	e.refused(http.StatusNotFound, "not_found", "", "PUT", account("cu-nosuchcustomer"), key, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", account("cu-nosuchcustomer"), key, nil)
	e.refused(http.StatusNotFound, "not_found", "", "PUT", "/api/v1/models/nosuch/marketplaces/US/test-accounts/"+ids[1], key, nil)

	// Another vendor's key reaches neither the model nor its accounts.
	other := createVendor(t, e, "other")
	e.refused(http.StatusNotFound, "not_found", "", "PUT", account(ids[1]), other, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/models/printer/marketplaces/CA/test-accounts/"+ids[0], other, nil)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/models/printer/marketplaces/CA/test-accounts/"+ids[0], key, nil, nil)
}

func TestConsoleErrorShape(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	check := func(method, path, key string, body any, status int, code string, fields ...string) {
		t.Helper()
		got, raw := e.do(method, path, key, body)
		if got != status {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, status, raw)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(raw, &top); err != nil || len(top) != 1 || top["error"] == nil {
			t.Fatalf("%s %s: body is not {\"error\":{...}}: %s", method, path, raw)
		}
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(top["error"], &inner); err != nil {
			t.Fatalf("%s %s: error is not an object: %s", method, path, raw)
		}
		for k := range inner {
			if k != "code" && k != "message" && k != "fields" {
				t.Fatalf("%s %s: unexpected member %q in error: %s", method, path, k, raw)
			}
		}
		var ae struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		}
		if err := json.Unmarshal(top["error"], &ae); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
		if ae.Code != code || ae.Message == "" {
			t.Fatalf("%s %s: code %q message %q, want code %q and a message", method, path, ae.Code, ae.Message, code)
		}
		var names []string
		for k, v := range ae.Fields {
			if v == "" {
				t.Fatalf("%s %s: field %s has no problem text: %s", method, path, k, raw)
			}
			names = append(names, k)
		}
		slices.Sort(names)
		slices.Sort(fields)
		if fmt.Sprint(names) != fmt.Sprint(fields) {
			t.Fatalf("%s %s: fields %v, want %v: %s", method, path, names, fields, raw)
		}
	}
	// Every problem of a request is reported at once, by its camelCase name.
	check("POST", "/api/v1/models", key, map[string]any{"kind": "LAMP", "name": "", "modelId": "no way"},
		http.StatusBadRequest, "invalid", "kind", "name", "modelId")
	check("PUT", "/api/v1/vendor", key, map[string]any{"skillEndpointUrl": "ftp://x", "webhookUrl": "nope",
		"oauthAuthorizationUrl": "x", "allowedExitUris": []string{"https://ok.example/", "nope"}},
		http.StatusBadRequest, "invalid", "skillEndpointUrl", "webhookUrl", "oauthAuthorizationUrl", "allowedExitUris[1]")
	check("PUT", "/api/v1/products/P1", e.OperatorKey, map[string]any{"category": "X", "packQuantity": 0, "packUnit": "BUCKET",
		"offers": map[string]any{}}, http.StatusBadRequest, "invalid", "category", "packQuantity", "packUnit", "offers")
	// Errors without fields leave "fields" out or empty.
	check("GET", "/api/v1/models", "", nil, http.StatusUnauthorized, "unauthorized")
	check("POST", "/api/v1/vendors", key, map[string]any{"vendorCode": "x1", "name": "X"}, http.StatusForbidden, "forbidden")
	check("GET", "/api/v1/models/nosuch", key, nil, http.StatusNotFound, "not_found")
}

// TestConsoleUnknownRoute: a route the API does not have answers in the
// API's error shape, not in plain text.
func TestConsoleUnknownRoute(t *testing.T) {
	e := newEnv(t)
	ae := e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/no-such-thing", e.OperatorKey, nil)
	if !strings.Contains(ae.Error.Message, "/api/v1/no-such-thing") {
		t.Errorf("message %q does not name the route", ae.Error.Message)
	}
}

// TestConsoleWrongMethod: a route with the wrong method says which
// methods the path takes.
func TestConsoleWrongMethod(t *testing.T) {
	e := newEnv(t)
	status, raw := e.do("DELETE", "/api/v1/models", e.OperatorKey, nil)
	var ae apiError
	if err := json.Unmarshal(raw, &ae); err != nil || status != http.StatusMethodNotAllowed || ae.Error.Code != "method_not_allowed" ||
		!strings.Contains(ae.Error.Message, "GET, POST") {
		t.Fatalf("DELETE /api/v1/models: %d %s, want 405 method_not_allowed naming GET, POST", status, raw)
	}
}
