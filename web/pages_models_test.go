package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"replenish"
)

// checkbox is how the consumables page renders a product's checkbox in
// the picker of slot in mp.
func checkbox(slot, mp, productID string, checked bool) string {
	s := `id="products-` + slot + `-` + mp + `-` + productID + `" name="productIds" value="` + productID + `"`
	if checked {
		s += " checked"
	}
	return s + ">"
}

// TestPagesProductPicker: a slot's products in a marketplace are picked
// from the catalog's products of its category on offer there, the
// current list ticked; a refusal names the list and keeps what was
// ticked; a slot with nothing on offer says what to do.
func TestPagesProductPicker(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	putProduct(t, e, "INK-A", "INK", "US", "USD")
	putProduct(t, e, "INK-B", "INK", "US", "USD")
	putProduct(t, e, "TONER-1", "TONER", "US", "USD")
	putProduct(t, e, "INK-DE", "INK", "DE", "EUR")
	e.must(http.StatusOK, "PUT", "/api/v1/products/INK-GONE", e.OperatorKey, map[string]any{
		"category": "INK", "packQuantity": 1, "packUnit": "Count",
		"offers": map[string]any{"US": map[string]any{"title": "Gone", "price": "1.00", "currency": "USD", "available": false}},
	}, nil)
	ven := pageClient(t)
	post(t, ven, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))
	post(t, ven, e.URL+"/console/models", url.Values{"kind": {"SKILL"}, "name": {"Printer"}, "modelId": {"p"}})
	post(t, ven, e.URL+"/console/models/p/marketplaces", url.Values{"marketplace": {"US"}})
	post(t, ven, e.URL+"/console/models/p/slots/SLOT01/category", url.Values{"category": {"INK"}})
	if resp, _ := post(t, ven, e.URL+"/console/models/p/slots", url.Values{"slotId": {"PAPER1"}, "category": {"PAPER"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a slot: %d", resp.StatusCode)
	}
	page := e.URL + "/console/models/p/consumables"
	placeholder := "PLACEHOLDER-BATTERIES-US"

	_, body := get(t, ven, page)
	for _, want := range []string{checkbox("SLOT01", "US", placeholder, true), checkbox("SLOT01", "US", "INK-A", false),
		checkbox("SLOT01", "US", "INK-B", false), "12.99 USD", "Placeholder product, for testing",
		"The catalog has no PAPER product on offer in US. Ask the operator to add your products to the catalog"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the consumables page lacks %q\n%s", want, body)
		}
	}
	for _, not := range []string{"TONER-1", "INK-DE", "INK-GONE", "The catalog has no INK product"} {
		if strings.Contains(body, not) {
			t.Fatalf("the consumables page offers %q: another category, marketplace, or no longer available\n%s", not, body)
		}
	}

	form := page[:len(page)-len("consumables")] + "slots/SLOT01/products/US"
	resp, _ := post(t, ven, form, url.Values{"productIds": {"INK-B", "INK-A"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving two products: %d", resp.StatusCode)
	}
	if got := serviceModel(t, e, "inkco", "p").Slots[0].Products["US"]; !slices.Equal(got, []string{"INK-B", "INK-A"}) {
		t.Fatalf("SLOT01 lists %v in US, want [INK-B INK-A]", got)
	}
	_, body = get(t, ven, page)
	for _, want := range []string{checkbox("SLOT01", "US", placeholder, false), checkbox("SLOT01", "US", "INK-A", true),
		checkbox("SLOT01", "US", "INK-B", true)} {
		if !strings.Contains(body, want) {
			t.Fatalf("after saving, the page lacks %q\n%s", want, body)
		}
	}

	// A product of another category is refused by the list's field, what
	// was ticked stays ticked, and the list stays as it was.
	resp, body = post(t, ven, form, url.Values{"productIds": {"INK-A", "TONER-1"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "TONER-1 is TONER, the slot is INK") ||
		!strings.Contains(body, `<fieldset class="picker invalid">`) ||
		!strings.Contains(body, checkbox("SLOT01", "US", "INK-A", true)) || !strings.Contains(body, checkbox("SLOT01", "US", "INK-B", false)) {
		t.Fatalf("a product of another category: %d, want 400 by the list, keeping INK-A ticked and INK-B not\n%s", resp.StatusCode, body)
	}
	resp, body = post(t, ven, form, url.Values{})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at least one product") {
		t.Fatalf("nothing ticked: %d, want 400 asking for a product\n%s", resp.StatusCode, body)
	}
	if got := serviceModel(t, e, "inkco", "p").Slots[0].Products["US"]; !slices.Equal(got, []string{"INK-B", "INK-A"}) {
		t.Fatalf("after refusals SLOT01 lists %v in US, want it unchanged", got)
	}

	// A listed product out of stock stays listed, shown ticked and marked.
	e.must(http.StatusOK, "PUT", "/api/v1/products/INK-B", e.OperatorKey, map[string]any{
		"category": "INK", "packQuantity": 1, "packUnit": "Count",
		"offers": map[string]any{"US": map[string]any{"title": "B", "price": "1.00", "currency": "USD", "available": false}},
	}, nil)
	_, body = get(t, ven, page)
	if !strings.Contains(body, checkbox("SLOT01", "US", "INK-B", true)) || !strings.Contains(body, "not on offer for this slot in US now") {
		t.Fatalf("a listed product off offer is not shown ticked and marked\n%s", body)
	}
}

// TestPagesOperatorModel: from the vendors page the operator reaches any
// vendor's model and, after its submission, changes its details, deletes
// a marketplace and deletes the model, each confirmed and each recorded
// in the audit log; a vendor user may not see these pages.
func TestPagesOperatorModel(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	key, modelID := readyModel(t, e) // vendor acme, no console user
	fillMarketplace(t, e, key, modelID, "CA", "CAD", "SLOT01")
	e.must(http.StatusOK, "PUT", "/api/v1/models/"+modelID+"/marketplaces/CA/image", key, testImage(t, "png", whiteBG), nil)
	e.must(http.StatusOK, "POST", "/api/v1/models/"+modelID+"/certification", key, nil, nil)
	op, ven := pageClient(t), pageClient(t)
	post(t, op, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	post(t, ven, e.URL+"/console/sign-in", signInForm(vendorEmail, vendorPassword))

	_, body := get(t, op, e.URL+"/console/operator/vendors")
	if !strings.Contains(body, `<a href="/console/operator/vendors/inkco">`) || !strings.Contains(body, `<a href="/console/operator/vendors/acme">`) ||
		!strings.Contains(body, `id="open-vendor"`) {
		t.Fatalf("the vendors page does not link every vendor, or cannot open one by code\n%s", body)
	}
	resp, _ := get(t, op, e.URL+"/console/operator/vendors?open=acme")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/operator/vendors/acme" {
		t.Fatalf("opening acme by code: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	modelPage := "/console/operator/vendors/acme/models/" + modelID
	_, body = get(t, op, e.URL+"/console/operator/vendors/acme")
	if !strings.Contains(body, `href="`+modelPage+`"`) {
		t.Fatalf("the vendor's page does not link its model\n%s", body)
	}
	resp, body = get(t, op, e.URL+modelPage)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="model-certification">SUBMITTED`) || !strings.Contains(body, `id="marketplace-CA"`) {
		t.Fatalf("the operator's model page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ = get(t, op, e.URL+"/console/operator/vendors/nobody"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown vendor: %d, want 404", resp.StatusCode)
	}

	// A vendor user gets 403 on every one of these pages and forms, and
	// nothing changes.
	for _, c := range []struct{ method, path string }{
		{"GET", "/console/operator/vendors/acme"}, {"GET", modelPage},
		{"POST", modelPage + "/details"}, {"POST", modelPage + "/marketplaces/CA/remove"}, {"POST", modelPage + "/delete"},
	} {
		var resp *http.Response
		if c.method == "GET" {
			resp, _ = get(t, ven, e.URL+c.path)
		} else {
			resp, _ = post(t, ven, e.URL+c.path, url.Values{"name": {"Hijacked"}, "confirm": {"yes"}})
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a vendor user: %s %s answers %d, want 403", c.method, c.path, resp.StatusCode)
		}
	}
	if m := serviceModel(t, e, "acme", modelID); m.Name != "Printer" || len(m.Marketplaces) != 2 {
		t.Fatalf("a vendor user's posts changed the model: %+v", m)
	}

	auditActions := func() []string {
		t.Helper()
		es, err := e.Server.Console.Audit(t.Context(), replenish.Principal{Role: replenish.RoleOperator, Name: "check"}, "acme", modelID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range es {
			out = append(out, a.Actor+": "+a.Action)
		}
		return out
	}
	before := auditActions()

	// Details: a refusal names the field, keeps the input, changes nothing.
	long := strings.Repeat("x", 61)
	resp, body = post(t, op, e.URL+modelPage+"/details", url.Values{"name": {long}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="details-name" name="name" value="`+long+`" class="invalid"`) {
		t.Fatalf("a 61-character name: %d, want 400 by the name input\n%s", resp.StatusCode, body)
	}
	if m := serviceModel(t, e, "acme", modelID); m.Name != "Printer" {
		t.Fatalf("a refused name changed the model to %q", m.Name)
	}
	resp, _ = post(t, op, e.URL+modelPage+"/details", url.Values{"name": {"Printer 2"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != modelPage+"?done=saved" {
		t.Fatalf("changing the name: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if m := serviceModel(t, e, "acme", modelID); m.Name != "Printer 2" {
		t.Fatalf("the name is %q after the operator's change", m.Name)
	}

	// Deleting a marketplace asks for confirmation first.
	resp, body = post(t, op, e.URL+modelPage+"/marketplaces/CA/remove", url.Values{})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "tick the box to confirm the deletion") {
		t.Fatalf("an unconfirmed deletion of CA: %d, want 400 asking to confirm\n%s", resp.StatusCode, body)
	}
	if m := serviceModel(t, e, "acme", modelID); !slices.Contains(m.Marketplaces, "CA") {
		t.Fatal("an unconfirmed deletion removed CA")
	}
	resp, _ = post(t, op, e.URL+modelPage+"/marketplaces/CA/remove", url.Values{"confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleting CA: %d", resp.StatusCode)
	}
	if m := serviceModel(t, e, "acme", modelID); !slices.Equal(m.Marketplaces, []string{"US"}) {
		t.Fatalf("after deleting CA the model is sold in %v", m.Marketplaces)
	}
	want := append(before, "operator "+opEmail+": change model details", "operator "+opEmail+": remove marketplace CA")
	if got := auditActions(); !slices.Equal(got, want) {
		t.Fatalf("the audit log holds %q, want %q: the refused and unconfirmed changes are not recorded", got, want)
	}
	_, body = get(t, op, e.URL+modelPage)
	for _, want := range []string{"operator " + opEmail + "</td><td>change model details", "operator " + opEmail + "</td><td>remove marketplace CA"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the model's audit log lacks %q\n%s", want, body)
		}
	}

	// Deleting the model, confirmed, leads back to the vendor's models.
	resp, _ = post(t, op, e.URL+modelPage+"/delete", url.Values{"confirm": {"no"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unconfirmed deletion of the model: %d, want 400", resp.StatusCode)
	}
	if serviceModel(t, e, "acme", modelID).ModelID != modelID {
		t.Fatal("an unconfirmed deletion deleted the model")
	}
	resp, _ = post(t, op, e.URL+modelPage+"/delete", url.Values{"confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/operator/vendors/acme?done=deleted" {
		t.Fatalf("deleting the model: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := e.Server.Console.Model(t.Context(), "acme", modelID); replenish.ErrorCode(err) != replenish.ENotFound {
		t.Fatalf("after deletion the model answers %v", err)
	}
	_, body = get(t, op, e.URL+"/console/operator/vendors/acme?done=deleted")
	if !strings.Contains(body, "Deleted.") || !strings.Contains(body, `id="vendor-models-empty"`) {
		t.Fatalf("the vendor's page after the deletion\n%s", body)
	}
	_, body = get(t, op, e.URL+"/console/operator/audit")
	if !strings.Contains(body, "operator "+opEmail+"</td><td><a href=\""+modelPage+"\">acme <code>"+modelID+"</code></a></td><td>delete model") {
		t.Fatalf("the audit log lacks the deletion\n%s", body)
	}
}
