package web_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The OpenAPI document describes exactly the registered API routes.
func TestConsoleOpenAPI(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
		Paths map[string]map[string]struct {
			Summary     string          `json:"summary"`
			RequestBody json.RawMessage `json:"requestBody"`
			Responses   map[string]struct {
				Description string `json:"description"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	// Served without a key.
	e.must(http.StatusOK, "GET", "/api/v1/openapi.json", "", nil, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("openapi %q, info %+v: want an OpenAPI 3.1 document with a title and version", doc.OpenAPI, doc.Info)
	}

	var described []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			described = append(described, route)
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s: needs a summary and its responses", route)
			}
			for status, r := range op.Responses {
				if r.Description == "" {
					t.Errorf("%s: response %s has no description", route, status)
				}
			}
		}
	}
	registered := e.Server.APIRoutes()
	slices.Sort(described)
	slices.Sort(registered)
	for _, r := range registered {
		if _, found := slices.BinarySearch(described, r); !found {
			t.Errorf("route %s is registered but not described in web/openapi.json", r)
		}
	}
	for _, d := range described {
		if _, found := slices.BinarySearch(registered, d); !found {
			t.Errorf("route %s is described in web/openapi.json but not registered", d)
		}
	}
	if len(registered) < 30 {
		t.Fatalf("only %d routes registered: the check is not seeing them", len(registered))
	}

	// Every schema referenced is defined.
	raw := snapshotNoKey(t, e, "/api/v1/openapi.json")
	for _, ref := range strings.Split(raw, `"$ref":`)[1:] {
		name := strings.TrimPrefix(strings.Split(strings.TrimSpace(ref), `"`)[1], "#/components/schemas/")
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %q is referenced but not defined", name)
		}
	}
}

func snapshotNoKey(t *testing.T, e *env, path string) string {
	t.Helper()
	status, raw := e.do("GET", path, "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d", path, status)
	}
	return string(raw)
}
