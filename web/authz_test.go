package web_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"replenish"
	"replenish/users"
)

// roleRules say which kinds of key each API route takes, by its pattern:
// the first rule whose method and path prefix match. A route that no rule
// matches fails TestAuthorizationMatrix, so a route added later must
// state who may use it.
var roleRules = []struct {
	method, prefix string // method "" matches any
	roles          []replenish.Role
}{
	{"GET", "/api/v1/openapi.json", nil}, // public
	{"GET", "/api/v1/marketplaces", []replenish.Role{operator, vendor, customer}},
	{"", "/api/v1/vendors", []replenish.Role{operator}},
	{"", "/api/v1/customers", []replenish.Role{operator}},
	{"", "/api/v1/products/", []replenish.Role{operator}},
	{"", "/api/v1/replenishment-requests", []replenish.Role{operator}},
	{"", "/api/v1/vendor/", []replenish.Role{vendor}},
	{"", "/api/v1/vendor", []replenish.Role{vendor}},
	{"", "/api/v1/models", []replenish.Role{vendor}},
	{"GET", "/api/v1/audit", []replenish.Role{operator, vendor}},
	{"", "/api/v1/endpoints", []replenish.Role{customer}},
	{"", "/api/v1/feed", []replenish.Role{customer}},
	{"", "/api/v1/notification-settings", []replenish.Role{customer}},
	{"POST", "/api/v1/calendar-token", []replenish.Role{customer}},
	{"GET", "/api/v1/links", []replenish.Role{vendor}}, // the link builder
	{"", "/api/v1/links", []replenish.Role{customer}},
	{"GET", "/api/v1/orders", []replenish.Role{operator, vendor, customer, fulfilment}},
	{"POST", "/api/v1/orders/{orderId}/cancel", []replenish.Role{operator, customer, fulfilment}},
	{"POST", "/api/v1/orders/", []replenish.Role{operator, fulfilment}},
	{"", "/api/v1/test-orders", []replenish.Role{vendor}},
	{"", "/api/v1/notifications", []replenish.Role{operator, vendor}},
	{"POST", "/api/v1/devices/claim", []replenish.Role{customer}},
	{"", "/api/v1/devices/", []replenish.Role{vendor}},
}

const (
	operator   = replenish.RoleOperator
	vendor     = replenish.RoleVendor
	customer   = replenish.RoleCustomer
	fulfilment = replenish.RoleFulfilment
)

func rolesOf(route string) ([]replenish.Role, bool) {
	method, path, _ := strings.Cut(route, " ")
	for _, r := range roleRules {
		if (r.method == "" || r.method == method) && strings.HasPrefix(path, r.prefix) {
			return r.roles, true
		}
	}
	return nil, false
}

// TestAuthorizationMatrix sends every API route with every kind of
// credential: none, a wrong one, the gateway's access token, the console
// session cookies of a vendor's user and of the operator's (as a cookie
// and as a key), the operator's key, a vendor's and a customer's (owners
// of what the path names, and others), the commerce system's. Who may not use a route is refused before
// anything happens; another party never reaches what the path names; and
// what the owners had is as it was.
func TestAuthorizationMatrix(t *testing.T) {
	w := ordWorld(t, nil)
	e := w.e
	w.lowEpisode(t, "6")
	order := w.onlyOrder(t)
	// Another vendor with no model of that ID (the simulator's vendors
	// all name theirs alike).
	var otherVendor struct{ APIKey string }
	e.must(http.StatusCreated, "POST", "/api/v1/vendors", e.OperatorKey, map[string]string{"vendorCode": "otherco", "name": "Other Co"}, &otherVendor)
	otherCustomer := gwCustomer(t, e)
	keys := map[string]struct {
		key  string
		role replenish.Role
	}{
		"operator":       {e.OperatorKey, operator},
		"vendor":         {w.v.APIKey, vendor},
		"other vendor":   {otherVendor.APIKey, vendor},
		"customer":       {w.c.APIKey, customer},
		"other customer": {otherCustomer.APIKey, customer},
		"fulfilment":     {testFulfilmentKey, fulfilment},
	}
	fill := strings.NewReplacer("{vendorCode}", w.v.VendorCode, "{modelId}", w.v.ModelID, "{slotId}", "SLOT01",
		"{mp}", "US", "{endpointId}", w.ep, "{orderId}", order.OrderID, "{notificationId}", "no-such-notification",
		"{requestId}", "no-such-request", "{keyId}", "no-such-key", "{customerId}", w.c.CustomerID,
		"{productId}", "SIM-INK-BLACK", "{deviceId}", "no-such-device")
	// queries are what a route needs besides its path to answer its owner.
	queries := map[string]string{"GET /api/v1/links": "?pageType=dart_device_list&locale=en-US"}
	before := func() string {
		var m, o, ep []byte
		_, m = e.do("GET", "/api/v1/models/"+w.v.ModelID, w.v.APIKey, nil)
		_, o = e.do("GET", "/api/v1/orders/"+order.OrderID, w.c.APIKey, nil)
		_, ep = e.do("GET", "/api/v1/endpoints", w.c.APIKey, nil)
		return string(m) + string(o) + string(ep)
	}
	start := before()

	// Console users of the owning vendor and of the operator, signed in:
	// their session cookies open pages, never the API, which takes keys
	// only (so that a page another site opens cannot use the API).
	sessions := map[string]string{}
	for name, u := range map[string]users.NewUser{
		"vendor user":   {Email: "ann@" + w.v.VendorCode + ".example", Password: "ann's long password", Role: vendor, VendorCode: w.v.VendorCode},
		"operator user": {Email: "op@replenish.example", Password: "operator password", Role: operator},
	} {
		if _, err := e.Server.Users.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		s, err := e.Server.Users.SignIn(t.Context(), u.Email, u.Password)
		if err != nil {
			t.Fatal(err)
		}
		sessions[name] = s.Token
	}

	routes := e.Server.APIRoutes()
	for _, route := range routes {
		roles, ok := rolesOf(route)
		if !ok {
			t.Errorf("%s: no rule says who may use it; add one to roleRules", route)
			continue
		}
		method, pattern, _ := strings.Cut(route, " ")
		path := fill.Replace(pattern) + queries[route]
		if roles == nil {
			continue // public
		}
		for _, cred := range []string{"", "rk_not_a_key", w.tok.AccessToken} {
			if status, _ := e.do(method, path, cred, map[string]any{}); status != http.StatusUnauthorized {
				t.Errorf("%s with credential %.12q: %d, want 401", route, cred, status)
			}
		}
		for name, token := range sessions {
			if status, raw := doCookie(t, e, method, path, token); status != http.StatusUnauthorized {
				t.Errorf("%s with the %s's session cookie: %d, want 401: %s", route, name, status, raw)
			}
			if status, raw := e.do(method, path, token, map[string]any{}); status != http.StatusUnauthorized {
				t.Errorf("%s with the %s's session token as a key: %d, want 401: %s", route, name, status, raw)
			}
		}
		for name, k := range keys {
			allowed := slices.Contains(roles, k.role)
			if !allowed {
				if status, _ := e.do(method, path, k.key, map[string]any{}); status != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403", route, name, status)
				}
				continue
			}
			// Another party reaches nothing the path names.
			names := strings.Contains(pattern, "{modelId}") || strings.Contains(pattern, "{endpointId}") ||
				strings.Contains(pattern, "{orderId}") || strings.Contains(pattern, "{notificationId}")
			if names && strings.HasPrefix(name, "other") {
				if status, raw := e.do(method, path, k.key, map[string]any{}); status != http.StatusNotFound {
					t.Errorf("%s as %s: %d, want 404: %s", route, name, status, raw)
				}
			}
			// The owners may read.
			if method == "GET" && !strings.HasPrefix(name, "other") {
				if status, raw := e.do(method, path, k.key, nil); status/100 != 2 {
					t.Errorf("%s as %s: %d, want 2xx: %s", route, name, status, raw)
				}
			}
		}
	}
	if after := before(); after != start {
		t.Errorf("the owners' model, order or devices changed:\n%s\n%s", start, after)
	}
}

// doCookie sends an empty JSON object to path with a console session
// cookie and no Authorization header, as a signed-in browser would.
func doCookie(t *testing.T, e *env, method, path, session string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "replenish_session", Value: session})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}
