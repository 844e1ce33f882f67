package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// Certification: what a submission needs, what is locked afterwards, and
// the operator's decisions.

type certJSON struct {
	Certification string                 `json:"certification"`
	Reason        string                 `json:"certificationRejectReason"`
	Listings      map[string]listingJSON `json:"listings"`
}

func certOf(t *testing.T, e *env, key, modelID string) certJSON {
	t.Helper()
	var c certJSON
	e.must(http.StatusOK, "GET", "/api/v1/models/"+modelID, key, nil, &c)
	return c
}

// fillMarketplace gives a model's slots in mp a real product and names.
func fillMarketplace(t *testing.T, e *env, key, modelID, mp, currency string, slots ...string) {
	t.Helper()
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/"+mp, key, nil, nil)
	putProduct(t, e, "INK-"+mp, "INK", mp, currency)
	names := map[string]string{}
	for _, sl := range slots {
		e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/slots/"+sl+"/products/"+mp, key,
			map[string]any{"productIds": []string{"INK-" + mp}}, nil)
		names[sl] = "Ink " + sl
	}
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/"+mp+"/localization", key,
		map[string]any{"deviceName": "Printer " + mp, "slotNames": names}, nil)
}

// readyModel is a model ready for certification in US: SLOT01 (INK) with
// an assigned replenishment ID, names, a product, an image.
func readyModel(t *testing.T, e *env) (key, modelID string) {
	t.Helper()
	key, modelID = inkModel(t, e)
	r := putRequest(t, e, key, modelID, "SLOT01", percentLevel(true))
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", e.OperatorKey,
		map[string]any{"threshold": 10}, nil)
	fillMarketplace(t, e, key, modelID, "US", "USD", "SLOT01")
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/image", key, testImage(t, "png", whiteBG), nil)
	return key, modelID
}

func TestConsoleCertificationMissing(t *testing.T) {
	e := newEnv(t)
	key, modelID := inkModel(t, e)
	submit := "/api/v1/models/" + modelID + "/certification"

	// An empty model: every missing item, field by field.
	before := snapshot(t, e, key, "/api/v1/models/"+modelID)
	ae := e.refused(http.StatusUnprocessableEntity, "not_ready", "", "POST", submit, key, nil)
	for _, f := range []string{"marketplaces", "image", "slots.SLOT01.replenishmentId"} {
		if ae.Error.Fields[f] == "" {
			t.Errorf("empty model: %q not named: %+v", f, ae.Error.Fields)
		}
	}
	unchanged(t, e, key, "/api/v1/models/"+modelID, before, "a refused submission")

	// Two marketplaces added, a second slot, a draft request: each missing
	// name, product list and image is named per marketplace.
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/US", key, nil, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/DE", key, nil, nil)
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+modelID+"/slots", key, map[string]any{"slotId": "cyan", "category": "INK"}, nil)
	putRequest(t, e, key, modelID, "SLOT01", percentLevel(false))
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/DE/localization", key,
		map[string]any{"deviceName": "Drucker", "slotNames": map[string]string{"SLOT01": "Schwarz"}}, nil)
	before = snapshot(t, e, key, "/api/v1/models/"+modelID)
	ae = e.refused(http.StatusUnprocessableEntity, "not_ready", "", "POST", submit, key, nil)
	want := []string{
		"slots.SLOT01.replenishmentId", "slots.cyan.replenishmentId",
		"listings.US.deviceName", "listings.US.slotNames.SLOT01", "listings.US.slotNames.cyan", "listings.US.image",
		"listings.DE.slotNames.cyan", "listings.DE.image",
		"slots.SLOT01.products.US", "slots.cyan.products.US", "slots.SLOT01.products.DE", "slots.cyan.products.DE",
	}
	for _, f := range want {
		if ae.Error.Fields[f] == "" {
			t.Errorf("%q not named: %+v", f, ae.Error.Fields)
		}
	}
	if len(ae.Error.Fields) != len(want) {
		t.Errorf("named %d items, want exactly %d: %+v", len(ae.Error.Fields), len(want), ae.Error.Fields)
	}
	if !strings.Contains(ae.Error.Fields["slots.SLOT01.replenishmentId"], "DRAFT") {
		t.Errorf("a draft request's item does not say so: %q", ae.Error.Fields["slots.SLOT01.replenishmentId"])
	}
	if !strings.Contains(ae.Error.Fields["slots.SLOT01.products.US"], "placeholder") {
		t.Errorf("a placeholder-only list's item does not say so: %q", ae.Error.Fields["slots.SLOT01.products.US"])
	}
	unchanged(t, e, key, "/api/v1/models/"+modelID, before, "a refused submission")
	if c := certOf(t, e, key, modelID); c.Certification != "NONE" {
		t.Fatalf("certification %q after refusals", c.Certification)
	}
}

func TestConsoleCertificationSubmit(t *testing.T) {
	e := newEnv(t)
	key, modelID := readyModel(t, e)
	var c certJSON
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/certification", key, nil, &c)
	if c.Certification != "SUBMITTED" || c.Listings["US"].Status != "SUBMITTED" {
		t.Fatalf("after submission: %+v", c)
	}
	// Submitting again is a conflict, not a second submission.
	e.refused(http.StatusConflict, "conflict", "", "POST", "/api/v1/models/"+modelID+"/certification", key, nil)
	// A marketplace's own image is enough where the model has none.
	key2 := createVendor(t, e, "beta")
	createModel(t, e, key2, "p2")
	e.must(http.StatusOK, "PATCH", "/api/v1/models/p2/slots/SLOT01", key2, map[string]any{"category": "INK"}, nil)
	r := putRequest(t, e, key2, "p2", "SLOT01", percentLevel(true))
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", e.OperatorKey, map[string]any{"threshold": 5}, nil)
	fillMarketplace(t, e, key2, "p2", "UK", "GBP", "SLOT01")
	e.refused(http.StatusUnprocessableEntity, "not_ready", "listings.UK.image", "POST", "/api/v1/models/p2/certification", key2, nil)
	e.must(http.StatusOK, "PUT", "/api/v1/models/p2/marketplaces/UK/image", key2, testImage(t, "gif", whiteBG), nil)
	e.must(http.StatusOK, "POST", "/api/v1/models/p2/certification", key2, nil, nil)
}

// After submission, each kind of change by the vendor is refused with 423
// and changes nothing; adding a marketplace, filling it in and submitting
// it still work, as do test accounts; the operator may change anything.
func TestConsoleCertificationLocks(t *testing.T) {
	e := newEnv(t)
	key, modelID := readyModel(t, e)
	e.must(http.StatusCreated, "POST", "/api/v1/models/"+modelID+"/slots", key, map[string]any{"slotId": "cyan", "category": "INK"}, nil)
	r := putRequest(t, e, key, modelID, "cyan", percentLevel(true))
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", e.OperatorKey, map[string]any{"threshold": 10}, nil)
	fillMarketplace(t, e, key, modelID, "US", "USD", "SLOT01", "cyan")
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/certification", key, nil, nil)

	m := "/api/v1/models/" + modelID
	png := testImage(t, "png", whiteBG)
	locked := []struct {
		name, method, path string
		body               any
	}{
		{"rename the model", "PATCH", m, map[string]any{"name": "New name"}},
		{"delete the model", "DELETE", m, nil},
		{"add a slot", "POST", m + "/slots", map[string]any{"slotId": "yellow", "category": "INK"}},
		{"change a slot's category", "PATCH", m + "/slots/cyan", map[string]any{"category": "TONER"}},
		{"remove a slot", "DELETE", m + "/slots/cyan", nil},
		{"change a product list", "PUT", m + "/slots/SLOT01/products/US", map[string]any{"productIds": []string{"PLACEHOLDER-BATTERIES-US"}}},
		{"change a request", "PUT", m + "/slots/SLOT01/replenishment-request", percentLevel(false)},
		{"submit requests", "POST", m + "/replenishment-requests/submit", nil},
		{"rename in a marketplace", "PUT", m + "/marketplaces/US/localization", map[string]any{"deviceName": "Other"}},
		{"replace the default image", "PUT", m + "/image", png},
		{"set a submitted marketplace's image", "PUT", m + "/marketplaces/US/image", png},
		{"remove a submitted marketplace", "DELETE", m + "/marketplaces/US", nil},
	}
	for _, c := range locked {
		before := snapshot(t, e, key, m)
		ae := e.refused(http.StatusLocked, "locked", "", c.method, c.path, key, c.body)
		if !strings.Contains(ae.Error.Message, "only add marketplaces") {
			t.Errorf("%s: the message does not name the rule: %q", c.name, ae.Error.Message)
		}
		unchanged(t, e, key, m, before, c.name)
	}

	// Test accounts stay open.
	cust := createCustomer(t, e, "tester@example.com", "US")
	e.must(http.StatusNoContent, "PUT", m+"/marketplaces/US/test-accounts/"+cust, key, nil, nil)

	// A new marketplace: added, filled in, submitted on its own.
	fillMarketplace(t, e, key, modelID, "CA", "CAD", "SLOT01", "cyan")
	e.must(http.StatusOK, "PUT", m+"/marketplaces/CA/image", key, png, nil)
	if c := certOf(t, e, key, modelID); c.Certification != "SUBMITTED" || c.Listings["CA"].Status != "DRAFT" || c.Listings["US"].Status != "SUBMITTED" {
		t.Fatalf("after adding CA: %+v", c)
	}
	// An incomplete new marketplace is refused naming only its items.
	e.must(http.StatusOK, "PUT", m+"/marketplaces/MX", key, nil, nil)
	ae := e.refused(http.StatusUnprocessableEntity, "not_ready", "listings.MX.deviceName", "POST", m+"/marketplaces/MX/certification", key, nil)
	for f := range ae.Error.Fields {
		if !strings.Contains(f, "MX") {
			t.Errorf("submitting MX names %q", f)
		}
	}
	var c certJSON
	e.must(http.StatusOK, "POST", m+"/marketplaces/CA/certification", key, nil, &c)
	if c.Listings["CA"].Status != "SUBMITTED" {
		t.Fatalf("CA after its submission: %+v", c.Listings["CA"])
	}
	e.refused(http.StatusConflict, "conflict", "", "POST", m+"/marketplaces/CA/certification", key, nil)
	// Once submitted, CA is locked like the rest.
	before := snapshot(t, e, key, m)
	e.refused(http.StatusLocked, "locked", "", "PUT", m+"/marketplaces/CA/localization", key, map[string]any{"deviceName": "X"})
	unchanged(t, e, key, m, before, "renaming in submitted CA")

	// The operator is never locked out, and its changes are recorded.
	e.must(http.StatusOK, "PATCH", "/api/v1/vendors/acme/models/"+modelID, e.OperatorKey, map[string]any{"name": "Fixed by the operator"}, nil)
	e.must(http.StatusOK, "DELETE", "/api/v1/vendors/acme/models/"+modelID+"/marketplaces/MX", e.OperatorKey, nil, nil)
	var log listJSON[auditJSON]
	e.must(http.StatusOK, "GET", m+"/audit", key, nil, &log)
	actions := []string{}
	for _, a := range log.Items {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions, ","); !strings.HasSuffix(got, "change model details,remove marketplace MX") {
		t.Fatalf("audit actions: %s", got)
	}
	e.must(http.StatusNoContent, "DELETE", "/api/v1/vendors/acme/models/"+modelID, e.OperatorKey, nil, nil)
}

func TestConsoleCertificationDecisions(t *testing.T) {
	e := newEnv(t)
	key, modelID := readyModel(t, e)
	op := "/api/v1/vendors/acme/models/" + modelID + "/certification"

	// Nothing to decide before submission; a vendor may not decide.
	e.refused(http.StatusConflict, "conflict", "", "POST", op+"/approve", e.OperatorKey, nil)
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/certification", key, nil, nil)
	e.refused(http.StatusForbidden, "forbidden", "", "POST", op+"/approve", key, nil)
	e.refused(http.StatusBadRequest, "invalid", "reason", "POST", op+"/reject", e.OperatorKey, map[string]any{"reason": ""})
	if c := certOf(t, e, key, modelID); c.Certification != "SUBMITTED" {
		t.Fatalf("after refused decisions: %+v", c)
	}

	// Rejected: the vendor sees why and may change the model again.
	var c certJSON
	e.must(http.StatusOK, "POST", op+"/reject", e.OperatorKey, map[string]any{"reason": "the image shows another model"}, &c)
	if c = certOf(t, e, key, modelID); c.Certification != "REJECTED" || c.Reason != "the image shows another model" || c.Listings["US"].Status != "DRAFT" {
		t.Fatalf("after rejection: %+v", c)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/image", key, testImage(t, "bmp", whiteBG), nil)
	e.refused(http.StatusConflict, "conflict", "", "POST", op+"/approve", e.OperatorKey, nil)

	// Resubmitted and approved: certified, and still locked for the vendor.
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/certification", key, nil, nil)
	e.must(http.StatusOK, "POST", op+"/approve", e.OperatorKey, nil, &c)
	if c = certOf(t, e, key, modelID); c.Certification != "CERTIFIED" || c.Reason != "" || c.Listings["US"].Status != "CERTIFIED" {
		t.Fatalf("after approval: %+v", c)
	}
	e.refused(http.StatusLocked, "locked", "", "PATCH", "/api/v1/models/"+modelID, key, map[string]any{"name": "X"})
	e.refused(http.StatusConflict, "conflict", "", "POST", op+"/approve", e.OperatorKey, nil)

	// A marketplace added after certification: rejected back to a draft
	// with the reason, then submitted again and approved; the model stays
	// certified throughout.
	fillMarketplace(t, e, key, modelID, "UK", "GBP", "SLOT01")
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/marketplaces/UK/certification", key, nil, nil)
	e.must(http.StatusOK, "POST", op+"/reject", e.OperatorKey, map[string]any{"reason": "UK name is American"}, nil)
	if c = certOf(t, e, key, modelID); c.Certification != "CERTIFIED" || c.Listings["UK"].Status != "DRAFT" ||
		c.Listings["UK"].RejectReason != "UK name is American" || c.Listings["US"].Status != "CERTIFIED" {
		t.Fatalf("after rejecting UK: %+v", c)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/UK/localization", key,
		map[string]any{"deviceName": "Printer (UK)", "slotNames": map[string]string{"SLOT01": "Black ink cartridge"}}, nil)
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/marketplaces/UK/certification", key, nil, nil)
	e.must(http.StatusOK, "POST", op+"/approve", e.OperatorKey, nil, nil)
	if c = certOf(t, e, key, modelID); c.Listings["UK"].Status != "CERTIFIED" || c.Listings["UK"].RejectReason != "" {
		t.Fatalf("after approving UK: %+v", c.Listings["UK"])
	}

	// Every decision is in the audit log.
	var log listJSON[auditJSON]
	e.must(http.StatusOK, "GET", "/api/v1/models/"+modelID+"/audit", key, nil, &log)
	n := 0
	for _, a := range log.Items {
		if strings.HasSuffix(a.Action, "certification") && strings.HasPrefix(a.Actor, "operator") {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d certification decisions audited, want 4: %+v", n, log.Items)
	}
}
