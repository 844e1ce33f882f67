package gateway_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/gateway"
)

// now is the fixed clock of every test; sampleAt is two minutes before it.
var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const (
	sampleAt = "2026-11-22T09:58:00.000Z"
	token    = "access-token-1"
)

type obj = map[string]any

// levelProp is an Alexa.InventoryLevelSensor level in the nested form.
func levelProp(instance string, percent int) obj {
	return obj{
		"namespace": gateway.LevelSensor, "instance": instance, "name": "level",
		"value":        obj{"@type": "Percentage", "value": percent},
		"timeOfSample": sampleAt, "uncertaintyInMilliseconds": 0,
	}
}

// changeReport is a valid ChangeReport of one ink level.
func changeReport() obj {
	return obj{
		"event": obj{
			"header": obj{"namespace": "Alexa", "name": "ChangeReport", "payloadVersion": "3", "messageId": "msg-0001"},
			"endpoint": obj{
				"scope":      obj{"type": "BearerToken", "token": token},
				"endpointId": "printer-1",
			},
			"payload": obj{"change": obj{
				"cause":      obj{"type": "PERIODIC_POLL"},
				"properties": []any{levelProp("InkSensor.Black", 42)},
			}},
		},
		"context": obj{"properties": []any{}},
	}
}

// addOrUpdateReport is a valid AddOrUpdateReport of one printer with one
// ink level sensor.
func addOrUpdateReport() obj {
	return obj{
		"event": obj{
			"header": obj{"namespace": "Alexa.Discovery", "name": "AddOrUpdateReport", "payloadVersion": "3", "messageId": "msg-0002"},
			"payload": obj{
				"scope":     obj{"type": "BearerToken", "token": token},
				"endpoints": []any{endpoint("printer-1")},
			},
		},
	}
}

func endpoint(id string) obj {
	return obj{
		"endpointId": id, "manufacturerName": "Acme", "description": "Acme ink printer",
		"friendlyName": "Printer", "displayCategories": []any{"PRINTER"},
		"capabilities": []any{obj{
			"type": "AlexaInterface", "interface": gateway.LevelSensor, "version": "3",
			"instance": "InkSensor.Black",
			"properties": obj{"supported": []any{obj{"name": "level"}},
				"proactivelyReported": true, "retrievable": true},
			"configuration": obj{
				"measurement":   obj{"@type": "Percentage"},
				"replenishment": obj{"@type": "DashReplenishmentId", "value": "rid-black"},
			},
		}},
	}
}

// at walks m down path: object keys, or list indexes written as "0", "1".
func at(m obj, path ...string) obj {
	var cur any = m
	for _, p := range path {
		switch c := cur.(type) {
		case obj:
			cur = c[p]
		case []any:
			i := int(p[0] - '0')
			cur = c[i]
		}
	}
	return cur.(obj)
}

func header(m obj) obj      { return at(m, "event", "header") }
func change(m obj) obj      { return at(m, "event", "payload", "change") }
func prop0(m obj) obj       { return at(m, "event", "payload", "change", "properties", "0") }
func discovery(m obj) obj   { return at(m, "event", "payload") }
func capability0(m obj) obj { return at(m, "event", "payload", "endpoints", "0", "capabilities", "0") }

// allowedID cycles through the messageId alphabet to length n.
func allowedID(n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
	var b strings.Builder
	for i := range n {
		b.WriteByte(set[i%len(set)])
	}
	return b.String()
}

func encode(t testing.TB, m obj) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseRefuses(t *testing.T) {
	prop := "event.payload.change.properties[0]"
	tests := []struct {
		name   string
		base   func() obj
		mutate func(m obj)
		raw    string // sent instead of base when set
		field  string
	}{
		{name: "malformed JSON", raw: `{"event":{"header":`, field: "body"},
		{name: "two JSON values", raw: `{} {}`, field: "body"},
		{name: "not an object", raw: `[1,2]`, field: "body"},
		{name: "missing event", raw: `{"context":{"properties":[]}}`, field: "event"},

		{"payloadVersion 2", changeReport, func(m obj) { header(m)["payloadVersion"] = "2" }, "", "event.header.payloadVersion"},
		{"payloadVersion missing", changeReport, func(m obj) { delete(header(m), "payloadVersion") }, "", "event.header.payloadVersion"},

		{"messageId empty", changeReport, func(m obj) { header(m)["messageId"] = "" }, "", "event.header.messageId"},
		{"messageId 128 characters", changeReport, func(m obj) { header(m)["messageId"] = allowedID(128) }, "", "event.header.messageId"},
		{"messageId with a space", changeReport, func(m obj) { header(m)["messageId"] = "msg 0001" }, "", "event.header.messageId"},
		{"messageId with an underscore", changeReport, func(m obj) { header(m)["messageId"] = "msg_0001" }, "", "event.header.messageId"},

		{"endpoint missing", changeReport, func(m obj) { delete(at(m, "event"), "endpoint") }, "", "event.endpoint"},
		{"endpointId with a slash", changeReport, func(m obj) { at(m, "event", "endpoint")["endpointId"] = "printer/1" }, "", "event.endpoint.endpointId"},
		{"endpointId empty", changeReport, func(m obj) { at(m, "event", "endpoint")["endpointId"] = "" }, "", "event.endpoint.endpointId"},
		{"endpointId 257 characters", changeReport, func(m obj) { at(m, "event", "endpoint")["endpointId"] = strings.Repeat("a", 257) }, "", "event.endpoint.endpointId"},

		{"timeOfSample without Z", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T09:58:00.000" }, "", prop + ".timeOfSample"},
		{"timeOfSample with an offset", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T09:58:00.000+00:00" }, "", prop + ".timeOfSample"},
		{"timeOfSample with 4 fraction digits", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T09:58:00.0000Z" }, "", prop + ".timeOfSample"},
		{"timeOfSample not a real date", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-02-30T09:58:00Z" }, "", prop + ".timeOfSample"},
		{"timeOfSample missing", changeReport, func(m obj) { delete(prop0(m), "timeOfSample") }, "", prop + ".timeOfSample"},
		{"timeOfSample 6 minutes ahead", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T10:06:00Z" }, "", prop + ".timeOfSample"},
		{"timeOfSample just over 5 minutes ahead", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T10:05:00.001Z" }, "", prop + ".timeOfSample"},
		// Go's zero time once reached the database as a NULL (a 500):
		// every time before 2000 is a device whose clock was never set.
		{"timeOfSample of year 1", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "0001-01-01T00:00:00Z" }, "", prop + ".timeOfSample"},
		{"timeOfSample of the Unix epoch", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "1970-01-01T00:00:00Z" }, "", prop + ".timeOfSample"},
		{"timeOfSample just before 2000", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "1999-12-31T23:59:59.999Z" }, "", prop + ".timeOfSample"},
		{"a cookie that is not an object", addOrUpdateReport, func(m obj) { at(m, "event", "payload", "endpoints", "0")["cookie"] = "x" },
			"", "event.payload.endpoints[0].cookie"},
		{"a cookie over 5000 bytes", addOrUpdateReport, func(m obj) {
			at(m, "event", "payload", "endpoints", "0")["cookie"] = obj{"k": strings.Repeat("v", 5000)}
		}, "", "event.payload.endpoints[0].cookie"},
		{"an instance of 129 bytes", addOrUpdateReport, func(m obj) { capability0(m)["instance"] = strings.Repeat("i", 129) },
			"", "event.payload.endpoints[0].capabilities[0].instance"},
		{"two sensors with one replenishment ID", addOrUpdateReport, func(m obj) {
			e := at(m, "event", "payload", "endpoints", "0")
			second := obj{}
			for k, v := range capability0(m) {
				second[k] = v
			}
			second["instance"] = "InkSensor.Black2"
			e["capabilities"] = append(e["capabilities"].([]any), second)
		}, "", "event.payload.endpoints[0].capabilities[1].configuration.replenishment.value"},

		{"cause.type unknown", changeReport, func(m obj) { at(change(m), "cause")["type"] = "USER_INTERACTION" }, "", "event.payload.change.cause.type"},
		{"cause.type empty", changeReport, func(m obj) { at(change(m), "cause")["type"] = "" }, "", "event.payload.change.cause.type"},
		{"cause missing", changeReport, func(m obj) { delete(change(m), "cause") }, "", "event.payload.change.cause.type"},

		{"unknown event name", changeReport, func(m obj) { header(m)["name"] = "Foo" }, "", "event.header.name"},
		{"unknown event namespace", changeReport, func(m obj) { header(m)["namespace"] = "Alexa.Foo" }, "", "event.header.name"},

		{"level without instance", changeReport, func(m obj) { delete(prop0(m), "instance") }, "", prop + ".instance"},
		{"level without value", changeReport, func(m obj) { delete(prop0(m), "value") }, "", prop + ".value"},
		{"inventory property other than level", changeReport, func(m obj) { prop0(m)["name"] = "usage" }, "", prop + ".name"},
		// Context levels are readings too, so they are checked like changed ones.
		{"bad level in context", changeReport, func(m obj) {
			p := levelProp("InkSensor.Cyan", 70)
			p["timeOfSample"] = "yesterday"
			at(m, "context")["properties"] = []any{p}
		}, "", "context.properties[0].timeOfSample"},

		{"discovery without scope", addOrUpdateReport, func(m obj) { delete(discovery(m), "scope") }, "", "event.payload.scope.token"},
		{"discovery with an empty token", addOrUpdateReport, func(m obj) { at(discovery(m), "scope")["token"] = "" }, "", "event.payload.scope.token"},
		{"discovery with no endpoint", addOrUpdateReport, func(m obj) { discovery(m)["endpoints"] = []any{} }, "", "event.payload.endpoints"},
		{"discovery with a duplicate endpointId", addOrUpdateReport, func(m obj) {
			discovery(m)["endpoints"] = []any{endpoint("printer-1"), endpoint("printer-2"), endpoint("printer-1")}
		}, "", "event.payload.endpoints[2].endpointId"},
		{"discovery endpointId with a space", addOrUpdateReport, func(m obj) { at(discovery(m), "endpoints", "0")["endpointId"] = "printer 1" }, "", "event.payload.endpoints[0].endpointId"},
		{"inventory capability without replenishment", addOrUpdateReport, func(m obj) { delete(at(capability0(m), "configuration"), "replenishment") }, "",
			"event.payload.endpoints[0].capabilities[0].configuration.replenishment"},
		{"inventory capability without configuration", addOrUpdateReport, func(m obj) { delete(capability0(m), "configuration") }, "",
			"event.payload.endpoints[0].capabilities[0].configuration.replenishment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.raw)
			if tc.raw == "" {
				m := tc.base()
				tc.mutate(m)
				body = encode(t, m)
			}
			_, err := gateway.Parse(body, now)
			var e *replenish.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v, want a *replenish.Error", err)
			}
			if e.Code != replenish.EInvalid {
				t.Errorf("Code = %q, want %q", e.Code, replenish.EInvalid)
			}
			if _, ok := e.Fields[tc.field]; !ok {
				t.Errorf("Fields = %v, want %q named", e.Fields, tc.field)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		base   func() obj
		mutate func(m obj)
		check  func(t *testing.T, r *gateway.Report)
	}{
		{"ChangeReport", changeReport, func(obj) {}, func(t *testing.T, r *gateway.Report) {
			if r.EndpointID != "printer-1" || r.Token != token || r.Header.MessageID != "msg-0001" {
				t.Errorf("EndpointID %q, Token %q, MessageID %q; want printer-1, %s, msg-0001", r.EndpointID, r.Token, r.Header.MessageID, token)
			}
			if r.Endpoints != nil || r.Deleted != nil || r.Usage != nil || r.Replaced != nil {
				t.Error("a ChangeReport reports levels only")
			}
			l := oneLevel(t, r)
			if l.Instance != "InkSensor.Black" || l.Field != "event.payload.change.properties[0]" {
				t.Errorf("level %s at %s, want InkSensor.Black at event.payload.change.properties[0]", l.Instance, l.Field)
			}
			if want := time.Date(2026, 11, 22, 9, 58, 0, 0, time.UTC); !l.SampleAt.Equal(want) {
				t.Errorf("SampleAt = %s, want %s", l.SampleAt, want)
			}
			sameJSON(t, "Value", l.Value, `{"@type":"Percentage","value":42}`)
		}},
		// Without scope the token comes from the Authorization header only.
		{"ChangeReport without scope", changeReport, func(m obj) { delete(at(m, "event", "endpoint"), "scope") }, func(t *testing.T, r *gateway.Report) {
			if r.Token != "" || r.EndpointID != "printer-1" {
				t.Errorf("Token %q, EndpointID %q; want none, printer-1", r.Token, r.EndpointID)
			}
		}},
		{"messageId of 1 character", changeReport, func(m obj) { header(m)["messageId"] = "7" }, func(t *testing.T, r *gateway.Report) {
			if r.Header.MessageID != "7" {
				t.Errorf("MessageID = %q", r.Header.MessageID)
			}
		}},
		{"messageId of 127 allowed characters", changeReport, func(m obj) { header(m)["messageId"] = allowedID(127) }, func(t *testing.T, r *gateway.Report) {
			if r.Header.MessageID != allowedID(127) {
				t.Errorf("MessageID = %q", r.Header.MessageID)
			}
		}},
		{"endpointId of 256 characters", changeReport, func(m obj) { at(m, "event", "endpoint")["endpointId"] = strings.Repeat("a", 256) }, func(t *testing.T, r *gateway.Report) {
			if r.EndpointID != strings.Repeat("a", 256) {
				t.Errorf("EndpointID = %q", r.EndpointID)
			}
		}},
		{"endpointId with all allowed punctuation", changeReport, func(m obj) { at(m, "event", "endpoint")["endpointId"] = "Az09_-=#;:?@&" }, func(t *testing.T, r *gateway.Report) {
			if r.EndpointID != "Az09_-=#;:?@&" {
				t.Errorf("EndpointID = %q", r.EndpointID)
			}
		}},
		{"timeOfSample without fraction", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T09:58:07Z" },
			wantSample(time.Date(2026, 11, 22, 9, 58, 7, 0, time.UTC))},
		{"timeOfSample with 1 fraction digit", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T09:58:07.5Z" },
			wantSample(time.Date(2026, 11, 22, 9, 58, 7, 500e6, time.UTC))},
		{"timeOfSample with 3 fraction digits", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T09:58:07.123Z" },
			wantSample(time.Date(2026, 11, 22, 9, 58, 7, 123e6, time.UTC))},
		{"timeOfSample 4 minutes ahead", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T10:04:00Z" },
			wantSample(now.Add(4 * time.Minute))},
		{"timeOfSample exactly 5 minutes ahead", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2026-11-22T10:05:00.000Z" },
			wantSample(now.Add(5 * time.Minute))},
		{"timeOfSample at 2000", changeReport, func(m obj) { prop0(m)["timeOfSample"] = "2000-01-01T00:00:00Z" },
			wantSample(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))},
		{"an instance of 128 bytes", addOrUpdateReport, func(m obj) { capability0(m)["instance"] = strings.Repeat("i", 128) },
			func(t *testing.T, r *gateway.Report) {}},
		{"every cause type", changeReport, func(obj) {}, func(t *testing.T, _ *gateway.Report) {
			for _, c := range []string{"APP_INTERACTION", "PHYSICAL_INTERACTION", "PERIODIC_POLL", "RULE_TRIGGER", "VOICE_INTERACTION"} {
				m := changeReport()
				at(change(m), "cause")["type"] = c
				if _, err := gateway.Parse(encode(t, m), now); err != nil {
					t.Errorf("cause %s: %v", c, err)
				}
			}
		}},
		// A vendor cloud sends all its changes to one gateway: others are skipped, even without instance or timeOfSample.
		{"properties of other interfaces are ignored", changeReport, func(m obj) {
			change(m)["properties"] = []any{
				obj{"namespace": "Alexa.PowerController", "name": "powerState", "value": "ON", "timeOfSample": sampleAt},
				levelProp("InkSensor.Black", 42),
				obj{"namespace": "Alexa.EndpointHealth", "name": "connectivity", "value": obj{"value": "OK"}},
			}
		}, func(t *testing.T, r *gateway.Report) {
			if l := oneLevel(t, r); l.Field != "event.payload.change.properties[1]" || l.Instance != "InkSensor.Black" {
				t.Errorf("level %s at %s, want InkSensor.Black at properties[1]", l.Instance, l.Field)
			}
		}},
		{"levels in context are collected", changeReport, func(m obj) {
			at(m, "context")["properties"] = []any{
				obj{"namespace": "Alexa.EndpointHealth", "name": "connectivity", "value": obj{"value": "OK"}, "timeOfSample": sampleAt},
				levelProp("InkSensor.Cyan", 70),
			}
		}, func(t *testing.T, r *gateway.Report) {
			got := map[string]string{}
			for _, l := range r.Levels {
				got[l.Instance] = l.Field
			}
			want := map[string]string{"InkSensor.Black": "event.payload.change.properties[0]", "InkSensor.Cyan": "context.properties[1]"}
			if len(got) != len(want) || got["InkSensor.Black"] != want["InkSensor.Black"] || got["InkSensor.Cyan"] != want["InkSensor.Cyan"] {
				t.Errorf("levels %v, want %v", got, want)
			}
		}},
		// The flat form can only be read knowing the slot, so Parse keeps it raw.
		{"flat form keeps raw value and unit", changeReport, func(m obj) {
			p := prop0(m)
			p["value"] = 2.5
			p["unit"] = "LITER"
		}, func(t *testing.T, r *gateway.Report) {
			l := oneLevel(t, r)
			sameJSON(t, "Value", l.Value, `2.5`)
			sameJSON(t, "Unit", l.Unit, `"LITER"`)
		}},
		{"StateReport levels come from context", changeReport, func(m obj) {
			header(m)["name"] = "StateReport"
			at(m, "event")["payload"] = obj{}
			at(m, "context")["properties"] = []any{levelProp("InkSensor.Black", 42)}
		}, func(t *testing.T, r *gateway.Report) {
			if l := oneLevel(t, r); l.Field != "context.properties[0]" {
				t.Errorf("level at %s, want context.properties[0]", l.Field)
			}
		}},
		{"AddOrUpdateReport", addOrUpdateReport, func(obj) {}, func(t *testing.T, r *gateway.Report) {
			if r.Endpoints == nil || r.Token != token {
				t.Errorf("Endpoints %v, Token %q; want some, %s", r.Endpoints, r.Token, token)
			}
			if len(r.Endpoints) != 1 || r.Endpoints[0].EndpointID != "printer-1" {
				t.Fatalf("Endpoints = %+v, want printer-1", r.Endpoints)
			}
			c := r.Endpoints[0].Capabilities
			if len(c) != 1 || c[0].Configuration == nil || c[0].Configuration.Replenishment == nil || c[0].Configuration.Replenishment.Value != "rid-black" {
				t.Errorf("capabilities = %+v, want one with replenishment rid-black", c)
			}
		}},
		// Non-inventory capabilities need no replenishment configuration.
		{"AddOrUpdateReport with a non-inventory capability", addOrUpdateReport, func(m obj) {
			e := at(discovery(m), "endpoints", "0")
			e["capabilities"] = append(e["capabilities"].([]any), obj{"type": "AlexaInterface", "interface": "Alexa.PowerController", "version": "3"})
		}, func(t *testing.T, r *gateway.Report) {
			if len(r.Endpoints) != 1 || len(r.Endpoints[0].Capabilities) != 2 {
				t.Errorf("Endpoints = %+v, want one with two capabilities", r.Endpoints)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.base()
			tc.mutate(m)
			r, err := gateway.Parse(encode(t, m), now)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func oneLevel(t *testing.T, r *gateway.Report) gateway.Level {
	t.Helper()
	if len(r.Levels) != 1 {
		t.Fatalf("Levels = %+v, want exactly one", r.Levels)
	}
	return r.Levels[0]
}

func wantSample(want time.Time) func(t *testing.T, r *gateway.Report) {
	return func(t *testing.T, r *gateway.Report) {
		if l := oneLevel(t, r); !l.SampleAt.Equal(want) {
			t.Errorf("SampleAt = %s, want %s", l.SampleAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	}
}

// sameJSON compares raw JSON by meaning, not by spacing or key order.
func sameJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s %s: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}
