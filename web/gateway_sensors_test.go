package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/customers"
)

// gwCapability is one inventory capability in discovery JSON.
func gwCapability(iface, instance, name, measurement, rid string) string {
	props := ""
	if iface == "Alexa.InventoryLevelSensor" {
		props = `"properties":{"supported":[{"name":"level"}],"proactivelyReported":true,"retrievable":true},`
	}
	return fmt.Sprintf(`{"type":"AlexaInterface","interface":%q,"version":"3","instance":%q,%s`+
		`"capabilityResources":{"friendlyNames":[{"@type":"text","value":{"text":%q,"locale":"en-US"}}]},`+
		`"configuration":{"measurement":{"@type":%q},"replenishment":{"@type":"DashReplenishmentId","value":%q}}}`,
		iface, instance, props, name, measurement, rid)
}

// gwSensors is a world whose printer also has a pod counter (USAGE, Count,
// threshold 5) and a print-head filter (LEVEL_USAGE, Percentage,
// threshold 10), discovered through an AddOrUpdateReport.
type gwSensors struct {
	*gwWorld
	podsRID, filterRID string
}

const (
	podSensor    = "PodSensor.Main"
	filterSensor = "FilterSensor.Head"
)

func gwWithSensors(t *testing.T) *gwSensors {
	t.Helper()
	w := gwLinked(t)
	e, key := w.e, w.v.APIKey
	model := "/api/v1/models/" + w.v.ModelID
	for _, s := range []struct{ slot, category, sensor, measurement string }{
		{"SLOT05", "DISHWASHER_TABLETS", "USAGE", "Count"},
		{"SLOT06", "WATER_FILTER", "LEVEL_USAGE", "Percentage"},
	} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", model + "/slots", map[string]string{"slotId": s.slot, "category": s.category}},
			{"PUT", model + "/slots/" + s.slot + "/replenishment-request", map[string]any{
				"sensorType": s.sensor, "measurement": map[string]string{"type": s.measurement},
				"description": "a " + s.sensor + " sensor for the gateway tests", "submit": true}},
		} {
			if status, raw := e.do(c.method, c.path, key, c.body); status >= 300 {
				t.Fatalf("%s %s: %d %s", c.method, c.path, status, raw)
			}
		}
	}
	var queue struct{ Items []replenish.Request }
	e.must(http.StatusOK, "GET", "/api/v1/replenishment-requests?status=SUBMITTED", e.OperatorKey, nil, &queue)
	thresholds := map[string]float64{"SLOT05": 5, "SLOT06": 10}
	for _, r := range queue.Items {
		if r.VendorCode == w.v.VendorCode {
			e.must(http.StatusOK, "POST", "/api/v1/replenishment-requests/"+r.RequestID+"/assign", e.OperatorKey,
				map[string]any{"threshold": thresholds[r.SlotID], "policy": "THRESHOLD"}, nil)
		}
	}
	var m replenish.Model
	e.must(http.StatusOK, "GET", model, key, nil, &m)
	s := &gwSensors{gwWorld: w}
	for _, sl := range m.Slots {
		switch sl.SlotID {
		case "SLOT05":
			s.podsRID = sl.Request.ReplenishmentID
		case "SLOT06":
			s.filterRID = sl.Request.ReplenishmentID
		}
	}
	gwAccepted(t, e, w.tok.AccessToken, gwAddOrUpdate(w.tok.AccessToken, s.endpointJSON(w.ep)))
	return s
}

// endpointJSON is the printer with its inks, pod counter and filter.
func (s *gwSensors) endpointJSON(endpointID string) string {
	printer := gwEndpointJSON(endpointID, s.v.ModelID, s.v.Inks)
	extra := "," + gwCapability("Alexa.InventoryUsageSensor", podSensor, "Pods", "Count", s.podsRID) +
		"," + gwCapability("Alexa.InventoryLevelUsageSensor", filterSensor, "Filter", "Percentage", s.filterRID)
	return strings.TrimSuffix(printer, "]}") + extra + "]}"
}

// gwSensorEvent is an InventoryConsumed or InventoryReplaced of one sensor
// instance of endpointID, with payload as given.
func gwSensorEvent(msgID, namespace, name, instance, endpointID, token, payload string) []byte {
	inst := ""
	if instance != "" {
		inst = fmt.Sprintf(`"instance":%q,`, instance)
	}
	return []byte(fmt.Sprintf(`{"event":{"header":{"namespace":%q,"name":%q,%s"payloadVersion":"3","messageId":%q},`+
		`"endpoint":{"scope":{"type":"BearerToken","token":%q},"endpointId":%q},"payload":%s}}`,
		namespace, name, inst, msgID, token, endpointID, payload))
}

// consumed is an InventoryConsumed of the world's printer sampled at the
// world's clock; usage is raw JSON.
func (s *gwSensors) consumed(namespace, instance, usage string) []byte {
	return gwSensorEvent(replenish.NewUUID(), namespace, "InventoryConsumed", instance, s.ep, s.tok.AccessToken,
		fmt.Sprintf(`{"usage":%s,"timeOfSample":%q}`, usage, gwStamp(s.e.clock.Now())))
}

func (s *gwSensors) pods(used int) []byte {
	return s.consumed("Alexa.InventoryUsageSensor", podSensor, fmt.Sprintf(`{"@type":"Count","value":%d}`, used))
}

func (s *gwSensors) filter(used int) []byte {
	return s.consumed("Alexa.InventoryLevelUsageSensor", filterSensor, fmt.Sprintf(`{"@type":"Percentage","value":%d}`, used))
}

func (s *gwSensors) replaced(payload string) []byte {
	return gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryLevelUsageSensor", "InventoryReplaced", filterSensor,
		s.ep, s.tok.AccessToken, payload)
}

// wantAmount requires slot's amount to be value.
func (s *gwSensors) wantAmount(t *testing.T, slotID string, value float64) customers.Slot {
	t.Helper()
	sl := gwSlot(t, s.e, s.c, s.ep, slotID)
	if sl.Level == nil || sl.Level.Value != value {
		t.Fatalf("%s: level %+v, want %v", slotID, sl.Level, value)
	}
	return sl
}

func (s *gwSensors) setHousehold(t *testing.T, quantity float64, reason string) {
	t.Helper()
	s.e.must(http.StatusOK, "PUT", "/api/v1/endpoints/"+s.ep+"/slots/SLOT05/household-inventory", s.c.APIKey,
		map[string]any{"quantity": quantity, "reason": reason}, nil)
}

func TestGatewayUsageSensor(t *testing.T) {
	s := gwWithSensors(t)
	e, tok := s.e, s.tok.AccessToken
	if sl := s.wantAmount(t, "SLOT05", 0); sl.SensorType != replenish.SensorUsage || sl.Status != replenish.StatusUnknown {
		t.Fatalf("pods before any report: %+v, want a USAGE slot, UNKNOWN", sl)
	}
	s.setHousehold(t, 10, "bought a box of 10")
	s.wantAmount(t, "SLOT05", 10)

	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, s.pods(2))
	if sl := s.wantAmount(t, "SLOT05", 8); sl.Status != replenish.StatusOK || sl.LevelAt == nil {
		t.Fatalf("pods after a report: %+v, want OK with a time", sl)
	}

	t.Run("a retry counts once", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		body := s.pods(1)
		gwAccepted(t, e, tok, body)
		gwAccepted(t, e, tok, body)
		s.wantAmount(t, "SLOT05", 7)
	})
	t.Run("refusals", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		rows := []struct {
			name, naming string
			body         []byte
		}{
			{"no instance", "event.header.instance", s.consumed("Alexa.InventoryUsageSensor", "", `{"@type":"Count","value":1}`)},
			{"unknown instance", "event.header.instance", s.consumed("Alexa.InventoryUsageSensor", "PodSensor.Other", `{"@type":"Count","value":1}`)},
			{"a level sensor's instance", "event.header.instance", s.consumed("Alexa.InventoryUsageSensor", "InkSensor.Black", `{"@type":"Percentage","value":1}`)},
			{"the other usage interface", "event.header.instance", s.consumed("Alexa.InventoryLevelUsageSensor", podSensor, `{"@type":"Count","value":1}`)},
			{"another measurement", "event.payload.usage", s.consumed("Alexa.InventoryUsageSensor", podSensor, `{"@type":"Percentage","value":1}`)},
			{"negative usage", "event.payload.usage", s.consumed("Alexa.InventoryUsageSensor", podSensor, `{"@type":"Count","value":-1}`)},
			{"no usage", "event.payload.usage", gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryUsageSensor", "InventoryConsumed", podSensor, s.ep, tok,
				fmt.Sprintf(`{"timeOfSample":%q}`, gwStamp(e.clock.Now())))},
			{"no timeOfSample", "event.payload.timeOfSample", gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryUsageSensor", "InventoryConsumed", podSensor, s.ep, tok,
				`{"usage":{"@type":"Count","value":1}}`)},
			{"sampled in the future", "event.payload.timeOfSample", gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryUsageSensor", "InventoryConsumed", podSensor, s.ep, tok,
				fmt.Sprintf(`{"usage":{"@type":"Count","value":1},"timeOfSample":%q}`, gwStamp(e.clock.Now().Add(6*time.Minute))))},
			{"unknown endpoint", "event.endpoint.endpointId", gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryUsageSensor", "InventoryConsumed", podSensor, "no-such-printer", tok,
				fmt.Sprintf(`{"usage":{"@type":"Count","value":1},"timeOfSample":%q}`, gwStamp(e.clock.Now())))},
		}
		for _, r := range rows {
			t.Run(r.name, func(t *testing.T) {
				x := gwRefused(t, e, s.c, tok, r.body, http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
				if !strings.Contains(x.Payload.Description, r.naming) {
					t.Errorf("description %q does not name %q", x.Payload.Description, r.naming)
				}
			})
		}
	})
	t.Run("three low reports tell the customer once", func(t *testing.T) {
		for i, want := range []float64{5, 4, 3, 2} {
			e.clock.Advance(time.Minute)
			used := 1
			if i == 0 {
				used = 2
			}
			gwAccepted(t, e, tok, s.pods(used))
			s.wantAmount(t, "SLOT05", want)
		}
		if n := gwFeedCount(t, e, s.c.APIKey, replenish.FeedLowSupply, "SLOT05"); n != 1 {
			t.Fatalf("%d low-supply entries for the pods, want 1", n)
		}
		if sl := gwSlot(t, e, s.c, s.ep, "SLOT05"); sl.Status != replenish.StatusLow {
			t.Fatalf("pods status %s, want LOW", sl.Status)
		}
		// Counting a new box re-arms the slot.
		s.setHousehold(t, 30, "bought a box of 30")
		if sl := s.wantAmount(t, "SLOT05", 30); sl.Status != replenish.StatusOK {
			t.Fatalf("pods status after a new box %s, want OK", sl.Status)
		}
	})
}

// gwFeedCount counts the customer's feed entries of a type for a slot.
func gwFeedCount(t *testing.T, e *env, key, typ, slotID string) int {
	t.Helper()
	var feed struct{ Items []replenish.FeedEntry }
	e.must(http.StatusOK, "GET", "/api/v1/feed", key, nil, &feed)
	n := 0
	for _, f := range feed.Items {
		if f.Type == typ && f.SlotID == slotID {
			n++
		}
	}
	return n
}

func TestGatewayLevelUsageSensor(t *testing.T) {
	s := gwWithSensors(t)
	e, tok := s.e, s.tok.AccessToken

	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, s.filter(30))
	s.wantAmount(t, "SLOT06", 70) // a part never reported is new
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, s.filter(25))
	s.wantAmount(t, "SLOT06", 45)

	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, s.replaced(`{}`)) // newAbsoluteLevel defaults to 100 %, replaceDate to now
	if sl := s.wantAmount(t, "SLOT06", 100); sl.InstalledAt == nil || !sl.InstalledAt.Equal(e.clock.Now()) {
		t.Fatalf("filter replaced at %v, want %v", sl.InstalledAt, e.clock.Now())
	}
	e.clock.Advance(time.Minute)
	gwAccepted(t, e, tok, s.filter(5))
	s.wantAmount(t, "SLOT06", 95)

	e.clock.Advance(30 * time.Minute)
	replacedAt := e.clock.Now().Add(-10 * time.Minute)
	gwAccepted(t, e, tok, s.replaced(fmt.Sprintf(`{"newAbsoluteLevel":{"@type":"Percentage","value":80},"replaceDate":%q}`, gwStamp(replacedAt))))
	if sl := s.wantAmount(t, "SLOT06", 80); sl.InstalledAt == nil || !sl.InstalledAt.Equal(replacedAt) {
		t.Fatalf("filter replaced at %v, want %v", sl.InstalledAt, replacedAt)
	}
	// Usage sampled before the replacement was the old part's.
	gwAccepted(t, e, tok, gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryLevelUsageSensor", "InventoryConsumed", filterSensor, s.ep, tok,
		fmt.Sprintf(`{"usage":{"@type":"Percentage","value":20},"timeOfSample":%q}`, gwStamp(replacedAt.Add(-time.Minute)))))
	s.wantAmount(t, "SLOT06", 80)

	for _, r := range []struct {
		name, naming string
		body         []byte
	}{
		{"replaceDate not ISO-8601", "event.payload.replaceDate", s.replaced(`{"replaceDate":"22/11/2026"}`)},
		{"replaceDate in the future", "event.payload.replaceDate", s.replaced(fmt.Sprintf(`{"replaceDate":%q}`, gwStamp(e.clock.Now().Add(time.Hour))))},
		{"level over 100 %", "event.payload.newAbsoluteLevel", s.replaced(`{"newAbsoluteLevel":{"@type":"Percentage","value":101}}`)},
		{"level in another measurement", "event.payload.newAbsoluteLevel", s.replaced(`{"newAbsoluteLevel":{"@type":"Count","value":1}}`)},
		{"replaced on a usage sensor", "event.header.instance", gwSensorEvent(replenish.NewUUID(), "Alexa.InventoryLevelUsageSensor", "InventoryReplaced", podSensor, s.ep, tok, `{}`)},
		{"usage over 100 %", "event.payload.usage", s.filter(101)},
	} {
		t.Run(r.name, func(t *testing.T) {
			x := gwRefused(t, e, s.c, tok, r.body, http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
			if !strings.Contains(x.Payload.Description, r.naming) {
				t.Errorf("description %q does not name %q", x.Payload.Description, r.naming)
			}
		})
	}
	t.Run("a worn part is low", func(t *testing.T) {
		for _, used := range []int{70, 1, 1} {
			e.clock.Advance(time.Minute)
			gwAccepted(t, e, tok, s.filter(used))
		}
		s.wantAmount(t, "SLOT06", 8)
		if n := gwFeedCount(t, e, s.c.APIKey, replenish.FeedLowSupply, "SLOT06"); n != 1 {
			t.Fatalf("%d low-supply entries for the filter, want 1", n)
		}
	})
}

// TestGatewayStateReport: the answers to ReportState carry readings in
// context.properties, like any other report.
func TestGatewayStateReport(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	for i, name := range []string{"StateReport", "Response"} {
		e.clock.Advance(time.Minute)
		value := 60 - i
		body := []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa","name":%q,"payloadVersion":"3","messageId":%q,"correlationToken":"c-1"},`+
			`"endpoint":{"scope":{"type":"BearerToken","token":%q},"endpointId":%q},"payload":{}},"context":{"properties":[%s]}}`,
			name, replenish.NewUUID(), tok, w.ep, gwLevel("InkSensor.Black", fmt.Sprint(value), e.clock.Now())))
		gwAccepted(t, e, tok, body)
		gwWantLevel(t, w, float64(value))
	}
	x := gwRefused(t, e, w.c, tok, []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa","name":"StateReport","payloadVersion":"3","messageId":%q},`+
		`"endpoint":{"endpointId":%q},"payload":{}},"context":{"properties":[%s]}}`,
		replenish.NewUUID(), w.ep, gwLevel("InkSensor.Green", "10", e.clock.Now()))), http.StatusBadRequest, "INVALID_REQUEST_EXCEPTION")
	if !strings.Contains(x.Payload.Description, "context.properties[0].instance") {
		t.Errorf("description %q does not name context.properties[0].instance", x.Payload.Description)
	}
}

func TestHouseholdInventoryRules(t *testing.T) {
	s := gwWithSensors(t)
	e := s.e
	path := "/api/v1/endpoints/" + s.ep + "/slots/SLOT05/household-inventory"
	s.setHousehold(t, 12, "counted them")
	for _, r := range []struct {
		name, field string
		body        any
	}{
		{"no quantity", "quantity", map[string]any{"reason": "x"}},
		{"negative", "quantity", map[string]any{"quantity": -1, "reason": "x"}},
		{"a fraction of a pod", "quantity", map[string]any{"quantity": 1.5, "reason": "x"}},
		{"no reason", "reason", map[string]any{"quantity": 3}},
		{"reason too long", "reason", map[string]any{"quantity": 3, "reason": strings.Repeat("x", 201)}},
		{"unknown field", "count", map[string]any{"count": 3, "reason": "x"}},
	} {
		t.Run(r.name, func(t *testing.T) {
			e.refused(http.StatusBadRequest, replenish.EInvalid, r.field, "PUT", path, s.c.APIKey, r.body)
			s.wantAmount(t, "SLOT05", 12)
		})
	}
	e.refused(http.StatusNotFound, replenish.ENotFound, "", "PUT", "/api/v1/endpoints/no-such/slots/SLOT05/household-inventory",
		s.c.APIKey, map[string]any{"quantity": 3, "reason": "x"})
	e.refused(http.StatusForbidden, replenish.EForbidden, "", "PUT", path, s.v.APIKey, map[string]any{"quantity": 3, "reason": "x"})
	s.wantAmount(t, "SLOT05", 12)
}

// TestGatewayErrorResponse: a vendor's cloud reporting that a device
// failed (after a ReportState it deferred) is kept in each slot's history,
// never taken as a reading.
func TestGatewayErrorResponse(t *testing.T) {
	w := gwLinked(t)
	e := w.e
	gwAccepted(t, e, w.tok.AccessToken, w.black("50"))
	body := func(payload string) []byte {
		return gwSensorEvent(replenish.NewUUID(), "Alexa", "ErrorResponse", "", w.ep, w.tok.AccessToken, payload)
	}
	gwAccepted(t, e, w.tok.AccessToken, body(`{"type":"ENDPOINT_UNREACHABLE","message":"the printer is off"}`))
	h := w.history(t, "")
	if h[0].Type != replenish.HistoryChange || h[0].Status != "DEVICE_ERROR" || !strings.Contains(h[0].Message, "ENDPOINT_UNREACHABLE: the printer is off") {
		t.Fatalf("history %+v, want the device's error first", h)
	}
	if sl := gwSlot(t, e, w.c, w.ep, "SLOT01"); sl.Level == nil || sl.Level.Value != 50 {
		t.Fatalf("the error moved the level: %+v", sl.Level)
	}
	status, raw := e.do("POST", "/v3/events", w.tok.AccessToken, body(`{"message":"no type"}`))
	if status != http.StatusBadRequest || !strings.Contains(string(raw), "event.payload.type") {
		t.Fatalf("an ErrorResponse without a type: %d %s", status, raw)
	}
}
