package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/simulator"
	"replenish/storage"
)

// gwCertify sets a model's certification through storage, as the
// operator's approval does.
func gwCertify(t *testing.T, e *env, vendorCode, modelID, state string) {
	t.Helper()
	err := e.Store.Write(context.Background(), func(tx storage.Tx) error {
		m, err := tx.Model(context.Background(), vendorCode, modelID)
		if err != nil {
			return err
		}
		m.Certification = state
		return tx.UpdateModel(context.Background(), m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGatewayDiscoveryRules: each rule of an inventory capability in
// discovery, over AddOrUpdateReport; nothing changes after a refusal.
func TestGatewayDiscoveryRules(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	inks := w.v.Inks
	printer := gwEndpointJSON("gw-second", w.v.ModelID, inks)
	rows := []struct {
		name, naming string
		endpoint     string
	}{
		{"interface other than the request's sensor", "capabilities[1].interface",
			strings.Replace(printer, `"interface":"Alexa.InventoryLevelSensor","version":"3","instance":"InkSensor.Cyan"`,
				`"interface":"Alexa.InventoryUsageSensor","version":"3","instance":"InkSensor.Cyan"`, 1)},
		{"measurement other than the request's", "capabilities[3].configuration.measurement.@type",
			strings.Replace(printer, `"measurement":{"@type":"Percentage"},"replenishment":{"@type":"DashReplenishmentId","value":"`+inks[3].ReplenishmentID,
				`"measurement":{"@type":"Count"},"replenishment":{"@type":"DashReplenishmentId","value":"`+inks[3].ReplenishmentID, 1)},
		{"no replenishment", "capabilities[0].configuration.replenishment",
			strings.Replace(printer, `,"replenishment":{"@type":"DashReplenishmentId","value":"`+inks[0].ReplenishmentID+`"}`, "", 1)},
		{"no measurement", "capabilities[0].configuration.measurement",
			strings.Replace(printer, `"measurement":{"@type":"Percentage"},"replenishment":{"@type":"DashReplenishmentId","value":"`+inks[0].ReplenishmentID,
				`"replenishment":{"@type":"DashReplenishmentId","value":"`+inks[0].ReplenishmentID, 1)},
		{"an instance twice", "capabilities[1].instance", strings.Replace(printer, `"instance":"InkSensor.Cyan"`, `"instance":"InkSensor.Black"`, 1)},
		{"an unknown replenishment ID", "capabilities[2].configuration.replenishment.value",
			strings.Replace(printer, inks[2].ReplenishmentID, "rp-no-such-id", 1)},
		{"additionalAttributes.model of another model", "additionalAttributes.model", gwEndpointJSON("gw-second", "other-model", inks)},
		{"a malformed endpointId", "endpoints[0].endpointId", gwEndpointJSON("bad id!", w.v.ModelID, inks)},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			x := gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, r.endpoint), http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
			if !strings.Contains(x.Payload.Description, r.naming) {
				t.Errorf("description %q does not name %q", x.Payload.Description, r.naming)
			}
		})
	}

	t.Run("replenishment IDs of two models", func(t *testing.T) {
		other := gwSecondModel(t, e, w.v.Vendor)
		mixed := strings.Replace(printer, inks[3].ReplenishmentID, other, 1)
		x := gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, mixed), http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
		if !strings.Contains(x.Payload.Description, "capabilities[3].configuration.replenishment.value") {
			t.Errorf("description %q does not name the fourth capability", x.Payload.Description)
		}
	})

	t.Run("a retired replenishment ID", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Yellow", "60", e.clock.Now())))
		e.must(http.StatusOK, "DELETE", "/api/v1/models/"+w.v.ModelID+"/slots/SLOT04", w.v.APIKey, nil, nil)
		x := gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, printer), http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
		if !strings.Contains(x.Payload.Description, "capabilities[3].configuration.replenishment.value") ||
			!strings.Contains(x.Payload.Description, "retired") {
			t.Errorf("description %q does not name the fourth capability as retired", x.Payload.Description)
		}
		// Its sensor on a device already discovered reports no more.
		e.clock.Advance(time.Minute)
		x = gwRefused(t, e, w.c, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Yellow", "50", e.clock.Now())),
			http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
		if !strings.Contains(x.Payload.Description, "no inventory sensor InkSensor.Yellow") {
			t.Errorf("description %q does not say the sensor is gone", x.Payload.Description)
		}
		for _, ep := range gwEndpoints(t, e, w.c) {
			for _, s := range ep.Slots {
				if s.SlotID == "SLOT04" {
					t.Errorf("the removed slot is still shown on %s: %+v", ep.EndpointID, s)
				}
			}
		}
		// The device without the removed slot is welcome.
		gwAccepted(t, e, tok, gwAddOrUpdate(tok, gwEndpointJSON("gw-second", w.v.ModelID, inks[:3])))
	})
}

// gwSecondModel registers a second model of v, with one assigned LEVEL
// Percentage slot, and returns its replenishment ID.
func gwSecondModel(t *testing.T, e *env, v *simulator.Vendor) string {
	t.Helper()
	model := "/api/v1/models/gw-other"
	e.must(http.StatusCreated, "POST", "/api/v1/models", v.APIKey, map[string]string{"kind": "SKILL", "name": "Other printer", "modelId": "gw-other"}, nil)
	e.must(http.StatusOK, "PUT", model+"/marketplaces/US", v.APIKey, nil, nil)
	e.must(http.StatusOK, "PATCH", model+"/slots/SLOT01", v.APIKey, map[string]string{"category": "INK"}, nil)
	var req replenish.Request
	e.must(http.StatusOK, "PUT", model+"/slots/SLOT01/replenishment-request", v.APIKey, map[string]any{
		"sensorType": "LEVEL", "measurement": map[string]string{"type": "Percentage"},
		"description": "ink level", "submit": true}, &req)
	e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+req.RequestID+"/assign", e.OperatorKey,
		map[string]any{"threshold": 10, "policy": "THRESHOLD"}, &req)
	return req.ReplenishmentID
}

// TestGatewayCertification: before a model is certified only its test
// accounts discover its devices, and their orders are test orders; once
// certified, everyone may, and other customers' orders are real.
func TestGatewayCertification(t *testing.T) {
	w := gwLinked(t) // a test account
	e, tok := w.e, w.tok.AccessToken
	stranger := gwCustomer(t, e)
	e.refused(http.StatusBadGateway, replenish.EVendor, "", "POST", "/api/v1/links", stranger.APIKey,
		map[string]string{"vendorCode": w.v.VendorCode})
	if n := len(gwEndpoints(t, e, stranger)); n != 0 {
		t.Fatalf("a customer who is not a test account of an uncertified model has %d endpoints", n)
	}

	// A test account removed from the model can no longer add devices.
	e.must(http.StatusNoContent, "DELETE", "/api/v1/models/"+w.v.ModelID+"/marketplaces/US/test-accounts/"+w.c.CustomerID, w.v.APIKey, nil, nil)
	x := gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, gwEndpointJSON("gw-second", w.v.ModelID, w.v.Inks)),
		http.StatusForbidden, "INSUFFICIENT_PERMISSION_EXCEPTION")
	if !strings.Contains(x.Payload.Description, "not certified") {
		t.Errorf("description %q does not say the model is not certified", x.Payload.Description)
	}
	for _, state := range []string{replenish.CertSubmitted, replenish.CertRejected} {
		gwCertify(t, e, w.v.VendorCode, w.v.ModelID, state)
		gwRefused(t, e, w.c, tok, gwAddOrUpdate(tok, gwEndpointJSON("gw-second", w.v.ModelID, w.v.Inks)),
			http.StatusForbidden, "INSUFFICIENT_PERMISSION_EXCEPTION")
	}
	gwTestAccount(t, e, w.v.APIKey, w.v.ModelID, w.c)

	// The test account's order, before certification, is a test order.
	order := func(c *simulator.Customer, token, endpointID string) replenish.Order {
		t.Helper()
		e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+endpointID+"/slots/SLOT01/subscription", c.APIKey,
			map[string]string{"mode": "AUTO", "productId": "SIM-INK-BLACK"}, nil)
		for _, v := range []string{"9", "8", "7"} {
			e.clock.Advance(time.Second)
			gwAccepted(t, e, token, gwChange(replenish.NewUUID(), endpointID, token, gwLevel("InkSensor.Black", v, e.clock.Now())))
		}
		var orders struct{ Items []replenish.Order }
		e.must(http.StatusOK, "GET", "/api/v1/orders", c.APIKey, nil, &orders)
		if len(orders.Items) != 1 {
			t.Fatalf("%d orders, want 1", len(orders.Items))
		}
		return orders.Items[0]
	}
	gwCertify(t, e, w.v.VendorCode, w.v.ModelID, replenish.CertNone)
	if o := order(w.c, tok, w.ep); !o.Test {
		t.Errorf("a test account's order of an uncertified model: %+v, want a test order", o)
	}

	gwCertify(t, e, w.v.VendorCode, w.v.ModelID, replenish.CertCertified)
	code := func() string {
		var l replenish.Link
		e.must(http.StatusCreated, "POST", "/api/v1/links", stranger.APIKey, map[string]string{"vendorCode": w.v.VendorCode}, &l)
		w.v.skill.mu.Lock()
		defer w.v.skill.mu.Unlock()
		return w.v.skill.codes[len(w.v.skill.codes)-1]
	}()
	sTok := gwExchange(t, e, w.v, code)
	if o := order(stranger, sTok.AccessToken, w.ep); o.Test {
		t.Errorf("a customer's order of a certified model: %+v, want a real order", o)
	}
}
