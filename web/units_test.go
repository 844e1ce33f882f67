package web_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"replenish"
)

// TestGatewayConvertsUnits: a washing machine whose detergent sensor
// declares litres reports in US gallons, fluid ounces and millilitres; the
// level shows in litres, and the threshold (0.5 L) is compared in the same
// base unit. A weight is refused.
func TestGatewayConvertsUnits(t *testing.T) {
	e := newEnv(t)
	op := e.OperatorKey
	e.must(http.StatusOK, "PUT", "/api/v1/products/SIM-DETERGENT", op, map[string]any{
		"category": "DETERGENT", "packQuantity": 1.5, "packUnit": "LITER",
		"offers": map[string]any{"US": map[string]any{"title": "Detergent 1.5 L", "price": "9.99", "currency": "USD", "available": true}},
	}, nil)
	var v struct{ VendorCode, APIKey, ClientID, ClientSecret, SigningSecret string }
	e.must(http.StatusCreated, "POST", "/api/v1/vendors", op, map[string]string{"vendorCode": "washers", "name": "Washers"}, &v)
	model := "/api/v1/models/washer-1"
	e.must(http.StatusCreated, "POST", "/api/v1/models", v.APIKey, map[string]string{"kind": "SKILL", "name": "Washer", "modelId": "washer-1"}, nil)
	e.must(http.StatusOK, "PUT", model+"/marketplaces/US", v.APIKey, nil, nil)
	e.must(http.StatusOK, "PATCH", model+"/slots/SLOT01", v.APIKey, map[string]string{"category": "DETERGENT"}, nil)
	e.must(http.StatusOK, "PUT", model+"/slots/SLOT01/products/US", v.APIKey, map[string]any{"productIds": []string{"SIM-DETERGENT"}}, nil)
	var req replenish.Request
	e.must(http.StatusOK, "PUT", model+"/slots/SLOT01/replenishment-request", v.APIKey, map[string]any{
		"sensorType": "LEVEL", "measurement": map[string]string{"type": "Volume", "unit": "LITER"},
		"description": "detergent tank", "submit": true}, &req)
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+req.RequestID+"/assign", op,
		map[string]any{"threshold": 0.5, "policy": "THRESHOLD"}, &req)

	s := &skill{now: e.clock.Now, secret: v.SigningSecret, answer: workingVendor(fmt.Sprintf(
		`{"endpointId":"washer-1","friendlyName":"Washer","displayCategories":["WASHER"],"capabilities":[`+
			`{"type":"AlexaInterface","interface":"Alexa.InventoryLevelSensor","version":"3","instance":"Detergent",`+
			`"configuration":{"measurement":{"@type":"Volume","unit":"LITER"},"replenishment":{"@type":"DashReplenishmentId","value":%q}}}]}`,
		req.ReplenishmentID))}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e.must(http.StatusOK, "PUT", "/api/v1/vendor", v.APIKey, map[string]string{"skillEndpointUrl": srv.URL}, nil)
	c := gwCustomer(t, e)
	gwTestAccount(t, e, v.APIKey, "washer-1", c)
	e.must(http.StatusCreated, "POST", "/api/v1/links", c.APIKey, map[string]string{"vendorCode": "washers"}, nil)
	_, codes, _, _, _ := s.state()
	status, tok := gwTokenPost(t, e, url.Values{"grant_type": {"authorization_code"}, "code": {codes[0]},
		"client_id": {v.ClientID}, "client_secret": {v.ClientSecret}}, nil)
	if status != http.StatusOK {
		t.Fatalf("exchanging the code: %d %+v", status, tok)
	}

	report := func(value string) {
		t.Helper()
		e.clock.Advance(time.Minute)
		gwAccepted(t, e, tok.AccessToken, gwChange(replenish.NewUUID(), "washer-1", "", gwLevel("Detergent", value, e.clock.Now())))
	}
	level := func() (float64, string, string) {
		t.Helper()
		sl := gwSlot(t, e, c, "washer-1", "SLOT01")
		if sl.Level == nil {
			t.Fatal("no level")
		}
		return sl.Level.Value, string(sl.Level.Unit), sl.Status
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

	report(`{"@type":"Volume","value":2,"unit":"US_FLUID_GALLON"}`)
	if v, unit, st := level(); !near(v, 2*3.785411784) || unit != "LITER" || st != replenish.StatusOK {
		t.Fatalf("2 US gallons shown as %v %s (%s), want 7.570823568 LITER and OK", v, unit, st)
	}
	report(`1500,"unit":"MILLILITER"`) // the flat form
	if v, _, _ := level(); !near(v, 1.5) {
		t.Fatalf("1500 mL shown as %v L", v)
	}
	gwRefused(t, e, c, tok.AccessToken, gwChange(replenish.NewUUID(), "washer-1", "",
		gwLevel("Detergent", `{"@type":"Weight","value":1,"unit":"KILOGRAM"}`, e.clock.Now().Add(time.Minute))),
		http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")

	// 16 US fl oz is 473.18 mL, under the 0.5 L threshold: low on the third.
	report(`{"@type":"Volume","value":16,"unit":"US_FLUID_OUNCE"}`)
	report(`{"@type":"Volume","value":16,"unit":"US_FLUID_OUNCE"}`)
	feed := func() []replenish.FeedEntry {
		t.Helper()
		var out struct{ Items []replenish.FeedEntry }
		e.must(http.StatusOK, "GET", "/api/v1/feed", c.APIKey, nil, &out)
		return out.Items
	}
	if f := feed(); len(f) != 0 {
		t.Fatalf("feed after two low readings: %+v", f)
	}
	report(`{"@type":"Volume","value":0.45,"unit":"LITER"}`)
	f := feed()
	if len(f) != 1 || f[0].Type != replenish.FeedLowSupply {
		t.Fatalf("feed after three readings under 0.5 L: %+v, want one LOW_SUPPLY", f)
	}
	if _, _, st := level(); st != replenish.StatusLow {
		t.Fatalf("status %s, want LOW", st)
	}
	// 17 US fl oz (502.75 mL) is just over the threshold: it resets the count.
	report(`{"@type":"Volume","value":17,"unit":"US_FLUID_OUNCE"}`)
	if _, _, st := level(); st != replenish.StatusOK {
		t.Fatalf("status after 17 fl oz %s, want OK", st)
	}
}
