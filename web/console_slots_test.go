package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// Removing slots, submitting every request at once, and listing test
// accounts.

func TestConsoleRemoveSlot(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")

	// The last slot cannot be removed.
	before := snapshot(t, e, key, "/api/v1/models/printer")
	ae := e.refused(http.StatusConflict, "conflict", "", "DELETE", "/api/v1/models/printer/slots/SLOT01", key, nil)
	if ae.Error.Message == "" {
		t.Fatal("no message for the last slot")
	}
	unchanged(t, e, key, "/api/v1/models/printer", before, "removing the last slot")

	e.must(http.StatusCreated, "POST", "/api/v1/models/printer/slots", key, map[string]any{"slotId": "cyan", "category": "INK"}, nil)
	var m modelJSON
	e.must(http.StatusOK, "DELETE", "/api/v1/models/printer/slots/SLOT01", key, nil, &m)
	if len(m.Slots) != 1 || m.Slots[0].SlotID != "cyan" {
		t.Fatalf("slots after removing SLOT01: %+v", m.Slots)
	}
	e.refused(http.StatusNotFound, "not_found", "", "DELETE", "/api/v1/models/printer/slots/SLOT01", key, nil)
	e.refused(http.StatusConflict, "conflict", "", "DELETE", "/api/v1/models/printer/slots/cyan", key, nil)
	// A removed slot's ID may be used again, afresh.
	e.must(http.StatusCreated, "POST", "/api/v1/models/printer/slots", key, map[string]any{"slotId": "SLOT01", "category": "TONER"}, &m)
	if s := slotByID(t, m, "SLOT01"); s.Category != "TONER" || s.Request != nil {
		t.Fatalf("SLOT01 added again = %+v", s)
	}
}

// Removing a slot retires its replenishment ID: discovery and events that
// name it are refused, the other slots keep working.
func TestConsoleRemoveSlotRetiresReplenishmentID(t *testing.T) {
	w := gwLinked(t)
	e, v := w.e, w.v
	cyan := v.Inks[1]
	if _, raw := e.do("GET", "/api/v1/endpoints", w.c.APIKey, nil); !strings.Contains(string(raw), `"slotId":"SLOT02"`) {
		t.Fatalf("the customer's printer has no SLOT02 before the removal: %s", raw)
	}
	e.must(http.StatusOK, "DELETE", "/api/v1/models/"+v.ModelID+"/slots/SLOT02", v.APIKey, nil, nil)
	for _, r := range requestsWith(t, e, "") {
		if r.ReplenishmentID == cyan.ReplenishmentID {
			t.Fatalf("the retired replenishment ID is still a request: %+v", r)
		}
	}

	// A level report of the removed slot's sensor is refused and changes nothing.
	before := gwSnapshot(t, e, w.c)
	status, raw := e.do("POST", "/v3/events", w.tok.AccessToken,
		gwChange("m-cyan", w.ep, w.tok.AccessToken, gwLevel(cyan.Instance, "40", e.clock.Now())))
	if status < 400 || status >= 500 {
		t.Fatalf("a level of the retired sensor: %d %s, want a refusal", status, raw)
	}
	if after := gwSnapshot(t, e, w.c); after != before {
		t.Fatalf("the refused report changed the customer's view")
	}
	// The customer's printer no longer shows the slot; the other inks still report.
	if _, raw := e.do("GET", "/api/v1/endpoints", w.c.APIKey, nil); strings.Contains(string(raw), `"slotId":"SLOT02"`) ||
		!strings.Contains(string(raw), `"slotId":"SLOT01"`) {
		t.Fatalf("the customer's printer after removing SLOT02: %s", raw)
	}
	gwAccepted(t, e, w.tok.AccessToken, w.black("70"))

	// Discovery naming the retired ID is refused; without it, accepted.
	status, raw = e.do("POST", "/v3/events", w.tok.AccessToken, gwAddOrUpdate(w.tok.AccessToken,
		gwEndpointJSON("printer-2", v.ModelID, v.Inks)))
	if status != http.StatusBadRequest {
		t.Fatalf("discovery with the retired ID: %d %s, want 400", status, raw)
	}
	gwAccepted(t, e, w.tok.AccessToken, gwAddOrUpdate(w.tok.AccessToken,
		gwEndpointJSON("printer-2", v.ModelID, append(v.Inks[:1:1], v.Inks[2:]...))))
}

func TestConsoleSubmitAllRequests(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+modelID+"/slots", key, map[string]any{"slotId": "cyan", "category": "INK"}, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+modelID+"/slots", key, map[string]any{"slotId": "yellow", "category": "INK"}, nil)
	submit := "/api/v1/models/" + modelID + "/replenishment-requests/submit"

	// Drafts for two slots, none for the third: nothing is submitted and
	// the answer names the slot without a request.
	black := putRequest(t, e, key, modelID, "SLOT01", percentLevel(false))
	cyan := putRequest(t, e, key, modelID, "cyan", percentLevel(false))
	before := snapshot(t, e, key, "/api/v1/models/"+modelID)
	e.refused(http.StatusUnprocessableEntity, "not_ready", "slots.yellow.replenishmentRequest", "POST", submit, key, nil)
	unchanged(t, e, key, "/api/v1/models/"+modelID, before, "a refused submission")
	if len(requestsWith(t, e, "SUBMITTED")) != 0 {
		t.Fatal("a refused submission submitted something")
	}

	yellow := putRequest(t, e, key, modelID, "yellow", percentLevel(false))
	// The operator rejects cyan after it was submitted once; submitting all
	// resubmits it with the drafts.
	putRequest(t, e, key, modelID, "cyan", percentLevel(true))
	var rej requestJSON
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+cyan.RequestID+"/reject", e.OperatorKey,
		map[string]any{"reason": "describe the sensor's accuracy"}, &rej)
	if got := slotByID(t, getModel(t, e, key, modelID), "cyan").Request; got.Status != "REJECTED" || got.RejectReason != "describe the sensor's accuracy" {
		t.Fatalf("the vendor sees cyan as %+v", got)
	}

	var l listJSON[requestJSON]
	e.must(http.StatusOK, "POST", submit, key, nil, &l)
	if len(l.Items) != 3 {
		t.Fatalf("submitted %d requests, want 3", len(l.Items))
	}
	for _, r := range l.Items {
		if r.Status != "SUBMITTED" {
			t.Fatalf("request of %s is %s after submitting all", r.SlotID, r.Status)
		}
	}
	queue := requestsWith(t, e, "SUBMITTED")
	for _, id := range []string{black.RequestID, cyan.RequestID, yellow.RequestID} {
		if !hasRequest(queue, id) {
			t.Fatalf("request %s not in the operator's queue", id)
		}
	}
	// Assigned ones stay assigned when all are submitted again.
	var a requestJSON
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+black.RequestID+"/assign", e.OperatorKey,
		map[string]any{"threshold": 15, "policy": "THRESHOLD"}, &a)
	e.must(http.StatusOK, "POST", submit, key, nil, &l)
	if s := slotByID(t, getModel(t, e, key, modelID), "SLOT01").Request; s.Status != "ASSIGNED" || s.ReplenishmentID != a.ReplenishmentID {
		t.Fatalf("SLOT01 after submitting again = %+v", s)
	}
	// The operator's decisions are in the vendor's audit log, with the
	// request before and after.
	var log listJSON[auditJSON]
	e.must(http.StatusOK, "GET", "/api/v1/audit", key, nil, &log)
	var decided []string
	for _, a := range log.Items {
		decided = append(decided, a.Action)
	}
	if got := strings.Join(decided, ","); got != "reject replenishment request of slot cyan,assign replenishment request of slot SLOT01" {
		t.Fatalf("audited decisions: %s", got)
	}
	if !strings.Contains(string(log.Items[1].Before), `"status":"SUBMITTED"`) || !strings.Contains(string(log.Items[1].After), a.ReplenishmentID) {
		t.Fatalf("assignment audit: before %s, after %s", log.Items[1].Before, log.Items[1].After)
	}

	// A slot without a category cannot be submitted.
	createModel(t, e, key, "bare")
	putRequest(t, e, key, "bare", "SLOT01", percentLevel(false))
	e.refused(http.StatusUnprocessableEntity, "not_ready", "slots.SLOT01.category", "POST",
		"/api/v1/models/bare/replenishment-requests/submit", key, nil)
}

func TestConsoleListTestAccounts(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "printer")
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/US", key, nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/models/printer/marketplaces/UK", key, nil, nil)
	path := "/api/v1/models/printer/marketplaces/US/test-accounts"
	var l listJSON[struct {
		CustomerID string `json:"customerId"`
	}]
	e.must(http.StatusOK, "GET", path, key, nil, &l)
	if len(l.Items) != 0 {
		t.Fatalf("test accounts of a new marketplace: %+v", l.Items)
	}
	a := createCustomer(t, e, "a@example.com", "US")
	b := createCustomer(t, e, "b@example.com", "US")
	e.must(http.StatusNoContent, "PUT", path+"/"+a, key, nil, nil)
	e.must(http.StatusNoContent, "PUT", path+"/"+b, key, nil, nil)
	e.must(http.StatusNoContent, "PUT", path+"/"+a, key, nil, nil) // again: no change
	e.must(http.StatusOK, "GET", path, key, nil, &l)
	if len(l.Items) != 2 {
		t.Fatalf("US test accounts: %+v, want 2", l.Items)
	}
	e.must(http.StatusOK, "GET", "/api/v1/models/printer/marketplaces/UK/test-accounts", key, nil, &l)
	if len(l.Items) != 0 {
		t.Fatalf("UK test accounts: %+v, want none", l.Items)
	}
	e.must(http.StatusNoContent, "DELETE", path+"/"+a, key, nil, nil)
	e.must(http.StatusOK, "GET", path, key, nil, &l)
	if len(l.Items) != 1 || l.Items[0].CustomerID != b {
		t.Fatalf("US test accounts after removing a: %+v", l.Items)
	}
	e.refused(http.StatusNotFound, "not_found", "", "GET", "/api/v1/models/printer/marketplaces/JP/test-accounts", key, nil)
	other := createVendor(t, e, "other")
	e.refused(http.StatusNotFound, "not_found", "", "GET", path, other, nil)
	// The operator lists them too.
	e.must(http.StatusOK, "GET", "/api/v1/vendors/acme/models/printer/marketplaces/US/test-accounts", e.OperatorKey, nil, &l)
	if len(l.Items) != 1 {
		t.Fatalf("operator sees %+v", l.Items)
	}
}
