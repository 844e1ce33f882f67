package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"replenish"
)

// goldenRequest is the name of route's golden body under
// testdata/requests: the method and the path after /api/v1/, its slashes
// as underscores, without braces; an operator's twin of a vendor's model
// route shares the vendor's.
func goldenRequest(route string) string {
	method, path, _ := strings.Cut(route, " ")
	path = strings.TrimPrefix(path, "/api/v1/")
	if rest, ok := strings.CutPrefix(path, "vendors/{vendorCode}/models"); ok && !strings.Contains(rest, "certification/") {
		path = "models" + rest
	}
	path = strings.NewReplacer("/", "_", "{", "", "}", "").Replace(path)
	return method + "_" + path
}

// bodyRoutes are the API routes that take a body, sorted, each with the
// path filled for w's parties and the key of a party the route lets in
// (the owner of what the path names).
func bodyRoutes(tb testing.TB, w *gwWorld, order string) (routes []string, paths, keys map[string]string) {
	tb.Helper()
	fill := strings.NewReplacer("{vendorCode}", w.v.VendorCode, "{modelId}", w.v.ModelID, "{slotId}", "SLOT01",
		"{mp}", "US", "{endpointId}", w.ep, "{orderId}", order, "{notificationId}", "no-such-notification",
		"{requestId}", "no-such-request", "{keyId}", "no-such-key", "{customerId}", w.c.CustomerID,
		"{productId}", "SIM-INK-BLACK")
	keyOf := map[replenish.Role]string{operator: w.e.OperatorKey, vendor: w.v.APIKey, customer: w.c.APIKey,
		fulfilment: testFulfilmentKey}
	paths, keys = map[string]string{}, map[string]string{}
	for _, route := range w.e.Server.APIRoutes() {
		method, pattern, _ := strings.Cut(route, " ")
		if method != "POST" && method != "PUT" && method != "PATCH" {
			continue
		}
		roles, ok := rolesOf(route)
		if !ok || len(roles) == 0 {
			tb.Fatalf("%s: no rule in roleRules", route)
		}
		routes = append(routes, route)
		paths[route], keys[route] = fill.Replace(pattern), keyOf[roles[0]]
	}
	slices.Sort(routes)
	return routes, paths, keys
}

// FuzzAPIBody sends any body to any API route that takes one, with the
// key of a party the route lets in, through the real handler on a real
// database: no answer is a 5xx, every refusal is the API's error shape,
// and a 400 names the field at fault ("body" for malformed JSON).
func FuzzAPIBody(f *testing.F) {
	w := ordWorld(f, nil)
	w.lowEpisode(f, "6")
	order := w.onlyOrder(f).OrderID
	routes, paths, keys := bodyRoutes(f, w, order)
	h := w.e.Server.Handler()

	golden := map[string][]byte{}
	dir := filepath.Join("testdata", "requests")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		golden[strings.TrimSuffix(e.Name(), ".json")] = bytes.TrimSpace(raw)
	}
	for i, route := range routes {
		if raw, ok := golden[goldenRequest(route)]; ok {
			f.Add(uint8(i), raw)
		}
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), []byte(`{"`))
	}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		route := routes[int(which)%len(routes)]
		method, _, _ := strings.Cut(route, " ")
		req := httptest.NewRequest(method, paths[route], bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+keys[route])
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		status, raw := rec.Code, rec.Body.Bytes()
		if status >= 500 {
			t.Fatalf("%s with %q: %d %s", route, body, status, raw)
		}
		if status < 400 {
			return
		}
		var ae apiError
		if err := json.Unmarshal(raw, &ae); err != nil || ae.Error.Code == "" || ae.Error.Message == "" {
			t.Fatalf("%s with %q: %d and not the API's error shape: %s", route, body, status, raw)
		}
		if status == http.StatusBadRequest {
			if len(ae.Error.Fields) == 0 {
				t.Fatalf("%s with %q: 400 naming no field: %s", route, body, raw)
			}
			for field := range ae.Error.Fields {
				if field == "" {
					t.Fatalf("%s with %q: 400 naming an empty field: %s", route, body, raw)
				}
			}
		}
	})
}

// TestGoldenRequestsAccepted: each golden request body is one the API
// takes on its route, so that the fuzz seeds start from real requests.
func TestGoldenRequestsAccepted(t *testing.T) {
	w := ordWorld(t, nil)
	w.lowEpisode(t, "6")
	routes, paths, keys := bodyRoutes(t, w, w.onlyOrder(t).OrderID)
	used := map[string]bool{}
	for _, route := range routes {
		name := goldenRequest(route)
		raw, err := os.ReadFile(filepath.Join("testdata", "requests", name+".json"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		used[name] = true
		method, _, _ := strings.Cut(route, " ")
		status, answer := w.e.do(method, paths[route], keys[route], raw)
		// The world's IDs do not all exist (a request, a product), and a
		// certified model is locked: what matters is that the body passed.
		if status == http.StatusBadRequest || status >= 500 {
			t.Errorf("%s with its golden body %s: %d %s", route, raw, status, answer)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !used[name] {
			t.Errorf("%s matches no route", f)
		}
	}
}
