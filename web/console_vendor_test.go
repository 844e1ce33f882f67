package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Vendor settings: which URLs are accepted, and the rotation of the
// vendor's credentials.

func TestConsoleVendorURLs(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	for _, u := range []string{
		"https://skill.acme.example/alexa", "https://acme.example:8443/x?y=1",
		"http://localhost:8080/alexa", "http://127.0.0.1:9/x", "http://127.1.2.3/", "http://[::1]:8080/",
	} {
		e.must(http.StatusOK, "PUT", "/api/v1/vendor", key, map[string]any{"skillEndpointUrl": u, "webhookUrl": u}, nil)
	}
	before := snapshot(t, e, key, "/api/v1/vendor")
	for _, c := range []struct{ field, value string }{
		{"skillEndpointUrl", "http://skill.acme.example/alexa"},
		{"webhookUrl", "http://10.0.0.1/hook"},
		{"oauthTokenUrl", "http://localhost.acme.example/token"},
		{"oauthAuthorizationUrl", "https://user:pass@acme.example/auth"},
		{"oauthAuthorizationUrl", "https://acme.example/auth#top"},
		{"skillEndpointUrl", "ftp://acme.example/"},
		{"skillEndpointUrl", "https:///alexa"},
		{"skillEndpointUrl", "acme.example/alexa"},
	} {
		e.refused(http.StatusBadRequest, "invalid", c.field, "PUT", "/api/v1/vendor", key, map[string]any{c.field: c.value})
		unchanged(t, e, key, "/api/v1/vendor", before, "refused "+c.value)
	}

	ok := []string{"https://acme.example/done", "https://acme.example/app/*", "acmeapp://back", "acmeapp:*", "https://acme.example*"}
	e.must(http.StatusOK, "PUT", "/api/v1/vendor", key, map[string]any{"allowedExitUris": ok}, nil)
	before = snapshot(t, e, key, "/api/v1/vendor")
	for _, bad := range []string{
		"https://acme.*.example/", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,hi",
		"file:///etc/passwd", "https:///done", "/relative", "*",
	} {
		e.refused(http.StatusBadRequest, "invalid", "allowedExitUris[1]", "PUT", "/api/v1/vendor", key,
			map[string]any{"allowedExitUris": []string{"https://acme.example/", bad}})
		unchanged(t, e, key, "/api/v1/vendor", before, "refused exit URI "+bad)
	}
}

func TestConsoleRotateClientSecret(t *testing.T) {
	e := newEnv(t)
	var v struct {
		APIKey       string `json:"apiKey"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	e.must(http.StatusCreated, "POST", "/api/v1/vendors", e.OperatorKey, map[string]any{"vendorCode": "acme", "name": "Acme"}, &v)
	// A refresh with a made-up token tells a known client (400
	// invalid_grant) from an unknown one (401 invalid_client).
	client := func(secret string) (int, string) {
		status, out := gwTokenPost(t, e, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"made-up"},
			"client_id": {v.ClientID}, "client_secret": {secret}}, nil)
		return status, out.Error
	}
	if status, code := client(v.ClientSecret); status != http.StatusBadRequest || code != "invalid_grant" {
		t.Fatalf("the first secret: %d %s", status, code)
	}
	var cs struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	e.must(http.StatusOK, "POST", "/api/v1/vendor/client-secret", v.APIKey, nil, &cs)
	if cs.ClientID != v.ClientID || cs.ClientSecret == "" || cs.ClientSecret == v.ClientSecret {
		t.Fatalf("rotation answered %+v", cs)
	}
	if status, code := client(v.ClientSecret); status != http.StatusUnauthorized || code != "invalid_client" {
		t.Fatalf("the old secret after rotation: %d %s, want 401 invalid_client", status, code)
	}
	if status, code := client(cs.ClientSecret); status != http.StatusBadRequest || code != "invalid_grant" {
		t.Fatalf("the new secret: %d %s", status, code)
	}
	// Shown once: never read back.
	if body := snapshot(t, e, v.APIKey, "/api/v1/vendor"); strings.Contains(body, cs.ClientSecret) {
		t.Fatal("GET /api/v1/vendor shows the client secret")
	}
	e.refused(http.StatusForbidden, "forbidden", "", "POST", "/api/v1/vendor/client-secret", e.OperatorKey, nil)
}

func TestConsoleAPIKeys(t *testing.T) {
	e := newEnv(t)
	first := createVendor(t, e, "acme")
	type keyJSON struct {
		KeyID     string `json:"keyId"`
		APIKey    string `json:"apiKey"`
		CreatedAt string `json:"createdAt"`
	}
	var l listJSON[keyJSON]
	e.must(http.StatusOK, "GET", "/api/v1/vendor/api-keys", first, nil, &l)
	if len(l.Items) != 1 || l.Items[0].KeyID == "" || l.Items[0].APIKey != "" {
		t.Fatalf("a new vendor's keys: %+v", l.Items)
	}
	firstID := l.Items[0].KeyID

	// The last key cannot be revoked.
	e.refused(http.StatusConflict, "conflict", "", "DELETE", "/api/v1/vendor/api-keys/"+firstID, first, nil)
	e.must(http.StatusOK, "GET", "/api/v1/vendor", first, nil, nil)

	var k keyJSON
	e.must(http.StatusCreated, "POST", "/api/v1/vendor/api-keys", first, nil, &k)
	if k.APIKey == "" || k.KeyID == "" || k.KeyID == firstID || k.CreatedAt == "" {
		t.Fatalf("new key: %+v", k)
	}
	e.must(http.StatusOK, "GET", "/api/v1/vendor", k.APIKey, nil, nil)
	listed := snapshot(t, e, first, "/api/v1/vendor/api-keys")
	if strings.Contains(listed, k.APIKey) || strings.Contains(listed, first) {
		t.Fatalf("the key list shows a key: %s", listed)
	}

	// Another vendor cannot revoke it; an unknown key is not found.
	other := createVendor(t, e, "other")
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/vendor/api-keys/"+firstID, other, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/vendor/api-keys/nope", first, nil)
	e.must(http.StatusOK, "GET", "/api/v1/vendor", first, nil, nil)

	// Revoked with the new key, the first key stops working.
	e.must(http.StatusNoContent, "DELETE", "/api/v1/vendor/api-keys/"+firstID, k.APIKey, nil, nil)
	e.refused(http.StatusUnauthorized, "unauthorized", "", "GET", "/api/v1/vendor", first, nil)
	e.must(http.StatusOK, "GET", "/api/v1/vendor/api-keys", k.APIKey, nil, &l)
	if len(l.Items) != 1 || l.Items[0].KeyID != k.KeyID {
		t.Fatalf("keys after revoking the first: %+v", l.Items)
	}
	e.refused(http.StatusConflict, "conflict", "", "DELETE", "/api/v1/vendor/api-keys/"+k.KeyID, k.APIKey, nil)
}

// TestConsoleListVendors: the operator lists every vendor, by code and
// without credentials, through the API and on the vendors page, including
// a vendor made through the API that has no console user.
func TestConsoleListVendors(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e) // inkco, with console users
	apiOnly := createVendor(t, e, "acme")

	var got struct {
		Items []map[string]any `json:"items"`
	}
	e.must(http.StatusOK, "GET", "/api/v1/vendors", e.OperatorKey, nil, &got)
	var codes []string
	for _, v := range got.Items {
		codes = append(codes, v["vendorCode"].(string))
		for field := range v {
			if field != "vendorCode" && field != "name" && field != "createdAt" {
				t.Errorf("vendor %v shows %q: lists carry no credentials", v["vendorCode"], field)
			}
		}
	}
	if strings.Join(codes, ",") != "acme,inkco" {
		t.Fatalf("vendors %v, want acme,inkco", codes)
	}
	e.refused(http.StatusForbidden, "forbidden", "", "GET", "/api/v1/vendors", apiOnly, nil)

	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	resp, body := get(t, c, e.URL+"/console/operator/vendors")
	for _, code := range []string{"acme", "inkco"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/console/operator/vendors/`+code+`"`) {
			t.Fatalf("vendors page (%d) does not link %s:\n%s", resp.StatusCode, code, body)
		}
	}
}
