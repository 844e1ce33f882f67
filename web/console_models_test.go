package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Model details, deletion, the operator's twin routes and the audit log.

type auditJSON struct {
	ID         int64           `json:"id"`
	At         string          `json:"at"`
	Actor      string          `json:"actor"`
	VendorCode string          `json:"vendorCode"`
	ModelID    string          `json:"modelId"`
	Action     string          `json:"action"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

func TestConsolePatchModel(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	var ck modelJSON
	e.must(http.StatusCreated, "POST", "/api/v1/models", key,
		map[string]any{"kind": "CONNECT_KIT", "name": "Washer", "modelId": "washer", "deviceType": "ack-washer"}, &ck)

	var m modelJSON
	e.must(http.StatusOK, "PATCH", "/api/v1/models/printer", key, map[string]any{"name": "Ink-jet 2"}, &m)
	if m.Name != "Ink-jet 2" || getModel(t, e, key, "printer").Name != "Ink-jet 2" {
		t.Fatalf("renamed model = %+v", m)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/models/washer", key, map[string]any{"deviceType": "ack-washer-2"}, &m)
	if m.DeviceType != "ack-washer-2" || m.Name != "Washer" {
		t.Fatalf("CONNECT_KIT after a new deviceType = %+v", m)
	}

	before := snapshot(t, e, key, "/api/v1/models")
	for _, c := range []struct {
		model string
		body  map[string]any
		field string
	}{
		{"printer", map[string]any{"name": ""}, "name"},
		{"printer", map[string]any{"name": strings.Repeat("x", 61)}, "name"},
		{"printer", map[string]any{"deviceType": "ack-printer"}, "deviceType"},
		{"washer", map[string]any{"deviceType": ""}, "deviceType"},
		{"washer", map[string]any{"deviceType": "bad type"}, "deviceType"},
		{"washer", map[string]any{"name": "W", "deviceType": ""}, "deviceType"},
		{"printer", map[string]any{"modelId": "other"}, "modelId"},
		{"printer", map[string]any{"kind": "CONNECT_KIT"}, "kind"},
	} {
		e.refused(http.StatusBadRequest, "invalid", c.field, "PATCH", "/api/v1/models/"+c.model, key, c.body)
	}
	unchanged(t, e, key, "/api/v1/models", before, "refused changes")
	e.refused(http.StatusNotFound, "not_found", "", "PATCH", "/api/v1/models/nope", key, map[string]any{"name": "X"})
	other := createVendor(t, e, "other")
	e.refused(http.StatusNotFound, "not_found", "", "PATCH", "/api/v1/models/printer", other, map[string]any{"name": "X"})
	unchanged(t, e, key, "/api/v1/models", before, "changes by a stranger")
}

func TestConsoleDeleteModel(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	r := putRequest(t, e, key, modelID, "SLOT01", percentLevel(true))
	var a requestJSON
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", e.OperatorKey,
		map[string]any{"threshold": 10}, &a)
	other := createVendor(t, e, "other")
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/models/"+modelID, other, nil)
	getModel(t, e, key, modelID)

	e.must(http.StatusNoContent, "DELETE", "/api/v1/models/"+modelID, key, nil, nil)
	e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/models/"+modelID, key, nil)
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/models/"+modelID, key, nil)
	// Its requests are gone from the queue, and its modelId is free again.
	if rs := requestsWith(t, e, ""); hasRequest(rs, r.RequestID) {
		t.Fatalf("the deleted model's request is still listed: %+v", rs)
	}
	m := createModel(t, e, key, modelID)
	if len(m.Slots) != 1 || m.Slots[0].Request != nil {
		t.Fatalf("a new model with the deleted one's ID inherits %+v", m.Slots)
	}
}

func TestConsoleOperatorRoutes(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	base := "/api/v1/vendors/acme/models"

	// The operator reads and changes any vendor's models through the twin
	// routes; a vendor key may not use them, and the operator's key may
	// not use the vendor's own routes.
	var l listJSON[modelJSON]
	e.must(http.StatusOK, "GET", base, e.OperatorKey, nil, &l)
	if len(l.Items) != 1 || l.Items[0].ModelID != modelID {
		t.Fatalf("operator lists %+v", l.Items)
	}
	e.refused(http.StatusForbidden, "forbidden", "", "GET", base, key, nil)
	e.refused(http.StatusForbidden, "forbidden", "", "GET", "/api/v1/models", e.OperatorKey, nil)
	e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/vendors/nobody/models/"+modelID, e.OperatorKey, nil)

	// A vendor's own changes are not audited.
	e.must(http.StatusOK, "PATCH", "/api/v1/models/"+modelID, key, map[string]any{"name": "By the vendor"}, nil)
	var log listJSON[auditJSON]
	e.must(http.StatusOK, "GET", "/api/v1/models/"+modelID+"/audit", key, nil, &log)
	if len(log.Items) != 0 {
		t.Fatalf("vendor changes were audited: %+v", log.Items)
	}

	var m modelJSON
	e.must(http.StatusOK, "PATCH", base+"/"+modelID, e.OperatorKey, map[string]any{"name": "By the operator"}, &m)
	if m.Name != "By the operator" || getModel(t, e, key, modelID).Name != "By the operator" {
		t.Fatalf("operator's change not made: %+v", m)
	}
	e.must(http.StatusCreated, "POST", base+"/"+modelID+"/slots", e.OperatorKey, map[string]any{"slotId": "cyan", "category": "INK"}, nil)
	e.must(http.StatusCreated, "POST", base, e.OperatorKey, map[string]any{"kind": "SKILL", "name": "Op's", "modelId": "op-made"}, nil)
	e.must(http.StatusNoContent, "DELETE", base+"/op-made", e.OperatorKey, nil, nil)
	// A refused operator change records nothing.
	e.refused(http.StatusBadRequest, "invalid", "name", "PATCH", base+"/"+modelID, e.OperatorKey, map[string]any{"name": ""})

	// The vendor reads every operator change of its models: who, when,
	// what, and the model before and after.
	e.must(http.StatusOK, "GET", "/api/v1/audit", key, nil, &log)
	wantActions := []string{"change model details", "add slot cyan", "create model", "delete model"}
	if len(log.Items) != len(wantActions) {
		t.Fatalf("audit log has %d entries, want %d: %+v", len(log.Items), len(wantActions), log.Items)
	}
	for i, a := range log.Items {
		if a.Action != wantActions[i] || !strings.HasPrefix(a.Actor, "operator") || a.VendorCode != "acme" || a.At == "" {
			t.Fatalf("audit entry %d = %+v, want action %q by the operator", i, a, wantActions[i])
		}
	}
	var before, after modelJSON
	if err := json.Unmarshal(log.Items[0].Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(log.Items[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if before.Name != "By the vendor" || after.Name != "By the operator" {
		t.Fatalf("audit before/after names = %q/%q", before.Name, after.Name)
	}
	if string(log.Items[2].Before) != "null" || string(log.Items[3].After) != "null" {
		t.Fatalf("create/delete entries: before %s, after %s; want null", log.Items[2].Before, log.Items[3].After)
	}
	// Per model, and the operator sees them all; another vendor sees none.
	e.must(http.StatusOK, "GET", "/api/v1/models/"+modelID+"/audit", key, nil, &log)
	if len(log.Items) != 2 {
		t.Fatalf("model audit has %d entries, want 2", len(log.Items))
	}
	e.must(http.StatusOK, "GET", "/api/v1/audit", e.OperatorKey, nil, &log)
	if len(log.Items) != 4 {
		t.Fatalf("operator's audit has %d entries, want 4", len(log.Items))
	}
	other := createVendor(t, e, "other")
	e.must(http.StatusOK, "GET", "/api/v1/audit", other, nil, &log)
	if len(log.Items) != 0 {
		t.Fatalf("another vendor sees %d audit entries", len(log.Items))
	}
	e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/models/"+modelID+"/audit", other, nil)
}
