package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"replenish"
	"replenish/storage"
)

// storedProduct reads product id straight from the database.
func storedProduct(t *testing.T, e *env, id string) replenish.Product {
	t.Helper()
	var p replenish.Product
	err := e.Store.Read(context.Background(), func(tx storage.Tx) (err error) {
		p, err = tx.Product(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatalf("product %s: %v", id, err)
	}
	return p
}

// TestConsoleProductNormalized: a client reading the contract may send a
// category as words and a price as a JSON number; the product is stored
// and answered in the one canonical spelling, with the price a string.
func TestConsoleProductNormalized(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/products/FILTER-1"
	// Raw bytes, so that 19.99 reaches the server as the literal sent.
	status, raw := e.do("PUT", path, e.OperatorKey, []byte(`{"category":"water filter","packQuantity":1,"packUnit":"Count",
		"offers":{"US":{"title":"Filter","price":19.99,"currency":"usd","available":true},
		"de":{"title":"Filter","price":20,"currency":"EUR","available":true}}}`))
	if status != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", path, status, raw)
	}
	for _, want := range []string{`"category":"WATER_FILTER"`, `"US":{"title":"Filter","price":"19.99","currency":"USD"`,
		`"DE":{"title":"Filter","price":"20.00","currency":"EUR"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("PUT answered %s, want it to contain %s", raw, want)
		}
	}
	want := replenish.Product{ProductID: "FILTER-1", Category: "WATER_FILTER", PackQuantity: 1, PackUnit: "Count",
		Offers: map[string]replenish.Offer{
			"US": {Title: "Filter", Price: "19.99", Currency: "USD", Available: true},
			"DE": {Title: "Filter", Price: "20.00", Currency: "EUR", Available: true},
		}}
	if got := storedProduct(t, e, "FILTER-1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %+v, want %+v", got, want)
	}
	// A string price is read the same way.
	var answer struct {
		Category string                     `json:"category"`
		Offers   map[string]json.RawMessage `json:"offers"`
	}
	e.must(http.StatusOK, "PUT", "/api/v1/products/FILTER-2", e.OperatorKey, map[string]any{
		"category": "Water-Filter", "packQuantity": 1, "packUnit": "Count",
		"offers": map[string]any{"US": map[string]any{"title": "Filter", "price": " 19.990 ", "currency": "USD", "available": true}},
	}, &answer)
	if answer.Category != "WATER_FILTER" || !strings.Contains(string(answer.Offers["US"]), `"price":"19.99"`) {
		t.Fatalf("PUT answered category %q, offer %s; want WATER_FILTER and price \"19.99\"", answer.Category, answer.Offers["US"])
	}

	// What is truly wrong is refused by its field, and changes nothing.
	before := storedProduct(t, e, "FILTER-1")
	for _, c := range []struct{ price, field string }{
		{`-1`, "offers.US.price"},
		{`"-1.00"`, "offers.US.price"},
		{`"abc"`, "offers.US.price"},
		{`1e400`, "offers.US.price"},
		{`1.999e1`, "offers.US.price"},
		{`"NaN"`, "offers.US.price"},
		{`19.9999`, "offers.US.price"},
		{`19.99000000000000000001`, "offers.US.price"}, // a float64 would read 19.99
		{`1000000000`, "offers.US.price"},
		{`true`, "offers.US.price"},
		{`{"amount":1}`, "offers.US.price"},
		{`null`, "offers.US.price"},
	} {
		body := fmt.Sprintf(`{"category":"water filter","packQuantity":1,"packUnit":"Count",
			"offers":{"US":{"title":"Changed","price":%s,"currency":"USD","available":false}}}`, c.price)
		ae := e.refused(http.StatusBadRequest, "invalid", c.field, "PUT", path, e.OperatorKey, []byte(body))
		if len(ae.Error.Fields) != 1 {
			t.Errorf("price %s: fields %v, want %s alone", c.price, ae.Error.Fields, c.field)
		}
		if got := storedProduct(t, e, "FILTER-1"); !reflect.DeepEqual(got, before) {
			t.Fatalf("price %s was refused but the product changed: %+v", c.price, got)
		}
	}
	// A lower-case marketplace names its field as sent.
	e.refused(http.StatusBadRequest, "invalid", "offers.us.price", "PUT", path, e.OperatorKey,
		[]byte(`{"category":"INK","packQuantity":1,"packUnit":"Count","offers":{"us":{"title":"x","price":"x","currency":"USD"}}}`))
	e.refused(http.StatusBadRequest, "invalid", "category", "PUT", path, e.OperatorKey,
		[]byte(`{"category":"water.filter","packQuantity":1,"packUnit":"Count","offers":{"US":{"title":"x","price":1,"currency":"USD"}}}`))
	if got := storedProduct(t, e, "FILTER-1"); !reflect.DeepEqual(got, before) {
		t.Fatalf("refused PUTs changed the product: %+v", got)
	}
}

// TestConsoleSlotCategoryNormalized: a slot's category may be sent as
// words, added or changed, and reads back canonical; the product list then
// takes the catalog's products of that category.
func TestConsoleSlotCategoryNormalized(t *testing.T) {
	e := newEnv(t)
	key := createVendor(t, e, "acme")
	createModel(t, e, key, "fridge")
	e.must(http.StatusOK, "PUT", "/api/v1/models/fridge/marketplaces/US", key, nil, nil)
	var m modelJSON
	e.must(http.StatusCreated, "POST", "/api/v1/models/fridge/slots", key, map[string]any{"slotId": "filter", "category": "water filter"}, &m)
	if c := slotByID(t, m, "filter").Category; c != "WATER_FILTER" {
		t.Fatalf("POST slot: category %q, want WATER_FILTER", c)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/models/fridge/slots/SLOT01", key, map[string]any{"category": " Coffee Pods "}, &m)
	if c := slotByID(t, m, "SLOT01").Category; c != "COFFEE_PODS" {
		t.Fatalf("PATCH slot: category %q, want COFFEE_PODS", c)
	}
	m = getModel(t, e, key, "fridge")
	if a, b := slotByID(t, m, "filter").Category, slotByID(t, m, "SLOT01").Category; a != "WATER_FILTER" || b != "COFFEE_PODS" {
		t.Fatalf("GET: categories %q and %q, want WATER_FILTER and COFFEE_PODS", a, b)
	}
	putProduct(t, e, "FILTER-1", "water-filter", "US", "usd")
	e.must(http.StatusOK, "PUT", "/api/v1/models/fridge/slots/filter/products/US", key, map[string]any{"productIds": []string{"FILTER-1"}}, nil)

	before := snapshot(t, e, key, "/api/v1/models/fridge")
	ae := e.refused(http.StatusBadRequest, "invalid", "category", "PATCH", "/api/v1/models/fridge/slots/SLOT01", key, map[string]any{"category": "coffee"})
	if !strings.Contains(ae.Error.Fields["category"], "COFFEE_PODS") {
		t.Errorf("an unknown category says %q, want the valid ones listed", ae.Error.Fields["category"])
	}
	unchanged(t, e, key, "/api/v1/models/fridge", before, "a refused category")
}

// TestPagesProductFormNormalized: the operator's product form reads the
// price and currency as the API does.
func TestPagesProductFormNormalized(t *testing.T) {
	e := newEnv(t)
	consoleUsers(t, e)
	c := pageClient(t)
	post(t, c, e.URL+"/console/sign-in", signInForm(opEmail, opPassword))
	form := url.Values{"productId": {"FILTER-1"}, "category": {"WATER_FILTER"}, "packQuantity": {"1"}, "packUnit": {"Count"},
		"marketplace": {"US"}, "currency": {"usd"}, "title": {"Filter"}, "price": {" 19.9 "}, "available": {"on"}}
	resp, body := post(t, c, e.URL+"/console/operator/products", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("product form: %d\n%s", resp.StatusCode, body)
	}
	if o := storedProduct(t, e, "FILTER-1").Offers["US"]; o.Price != "19.90" || o.Currency != "USD" {
		t.Fatalf("stored offer %+v, want price 19.90 in USD", o)
	}
	form.Set("price", "-1")
	resp, body = post(t, c, e.URL+"/console/operator/products", form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "must not be negative") {
		t.Fatalf("negative price: %d, want 400 saying it must not be negative\n%s", resp.StatusCode, body)
	}
	if o := storedProduct(t, e, "FILTER-1").Offers["US"]; o.Price != "19.90" {
		t.Fatalf("a refused price changed the offer: %+v", o)
	}
}
