package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"replenish"
	"replenish/console"
	"replenish/customers"
	"replenish/notifications"
)

// decodeTargets are the request types decode fills, named and anonymous
// alike: what the API's handlers read their bodies into.
var decodeTargets = []func() any{
	func() any { return new(console.NewModel) },
	func() any { return new(console.ModelPatch) },
	func() any { return new(console.RequestInput) },
	func() any { return new(console.Assignment) },
	func() any { return new(console.Localization) },
	func() any { return new(productIn) },
	func() any { return new(customers.Subscription) },
	func() any { return new(customers.Household) },
	func() any { return new(customers.Installed) },
	func() any { return new(notifications.SettingsInput) },
	func() any {
		return new(struct {
			FriendlyName *string `json:"friendlyName"`
		})
	},
	func() any {
		return new(struct {
			IDs []int64 `json:"ids"`
		})
	},
	func() any {
		return new(struct {
			ProductIDs []string `json:"productIds"`
		})
	},
	func() any {
		return new(struct {
			SkillEndpointURL  string   `json:"skillEndpointUrl"`
			AllowedExitURIs   []string `json:"allowedExitUris"`
			OAuthClientSecret string   `json:"oauthClientSecret"`
		})
	},
}

// requestSeeds are the golden request bodies under testdata/requests,
// one valid body of each kind the API takes.
func requestSeeds(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no golden requests under testdata/requests: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = bytes.TrimSpace(raw)
	}
	return out
}

// FuzzDecode: whatever a client sends as a JSON body, decode neither
// panics nor refuses it with anything but a 4xx that names a field
// ("body" when the JSON itself is malformed); what it accepts encodes
// back to JSON that decodes to the same value.
func FuzzDecode(f *testing.F) {
	for _, raw := range requestSeeds(f) {
		f.Add(raw)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"name":`, `{} {}`, `{"unknown":1}`, `{"threshold":"x"}`,
		`{"offers":{"US":{"price":19.99}}}`, `{"quantity":1e400}`, `{"ids":[1,-2,3.5]}`, "\xef\xbb\xbf{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range decodeTargets {
			v := target()
			err := decodeBytes(body, v)
			if err != nil {
				checkRefusal(t, body, v, err)
				continue
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T accepted %q but does not encode: %v", v, body, err)
			}
			w := target()
			if err := decodeBytes(again, w); err != nil {
				t.Fatalf("%T accepted %q, encoded it as %s, and refuses that: %v", v, body, again, err)
			}
			if !reflect.DeepEqual(v, w) {
				t.Fatalf("%T: %q decodes to %+v, its encoding %s to %+v", v, body, v, again, w)
			}
		}
	})
}

// decodeBytes runs decode on body as a handler would.
func decodeBytes(body []byte, v any) error {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/fuzz", bytes.NewReader(body))
	return decode(httptest.NewRecorder(), r, v)
}

// checkRefusal requires err to be a client's error with a status below
// 500 that names a field, or a body over the limit.
func checkRefusal(t *testing.T, body []byte, v any, err error) {
	t.Helper()
	var e *replenish.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T: %q refused with an error of no code: %v", v, body, err)
	}
	if status := statusOf[e.Code]; status == 0 || status >= 500 {
		t.Fatalf("%T: %q refused as %s (%d): %v", v, body, e.Code, status, err)
	}
	if e.Code == replenish.ETooLarge {
		return
	}
	if e.Code != replenish.EInvalid || len(e.Fields) == 0 {
		t.Fatalf("%T: %q refused without naming a field: %v", v, body, err)
	}
	for field, problem := range e.Fields {
		if field == "" || problem == "" {
			t.Fatalf("%T: %q refused with field %q, problem %q", v, body, field, problem)
		}
		if field == "body" && !strings.Contains(problem, "JSON") {
			t.Fatalf("%T: %q refused as a body without saying what is wrong with its JSON: %q", v, body, problem)
		}
	}
}
