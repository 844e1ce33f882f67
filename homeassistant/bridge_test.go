package homeassistant_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/homeassistant"
	"replenish/storage"
)

// objects are the entities of every slot: component by object ID.
var objects = map[string]string{"level": "sensor", "run_out": "sensor", "next_order": "sensor", "spares": "sensor",
	"low": "binary_sensor", "last_order": "sensor", "order_now": "button", "replaced_today": "button",
	"smart_reorder": "switch"}

func base(h household) string { return "replenish/" + homeassistant.Slug(h.CustomerID) }

// state is the state topic of one entity of a slot.
func state(h household, ep, slot, object string) string {
	return base(h) + "/" + homeassistant.Slug(ep) + "/" + homeassistant.Slug(slot) + "/" + object
}

// TestDiscovery: the bridge publishes, retained, a config for every
// entity of every slot, each valid under Home Assistant's discovery
// schema field by field, one device per endpoint; states are retained and
// follow a new reading; Home Assistant coming online gets everything again.
func TestDiscovery(t *testing.T) {
	w := newWorld(t)
	ann := w.customer("Ann Example")
	w.report(ann, 70, 60, 50, 40)
	w.run()
	p := prefix()
	ha := newHomeAssistant(t, broker, p, base(ann))
	set := w.bridge(ann, true, "mqtt://ha-user:s3cret@127.0.0.1:1883", p)
	if got, want := set.HomeAssistant.BrokerURL, "mqtt://ha-user:xxxxx@127.0.0.1:1883"; got != want {
		t.Errorf("brokerUrl answered %q, want the password masked: %q", got, want)
	}
	w.waitState(ann, replenish.BridgeConnected)

	es := w.endpoints(ann)
	slots := 0
	for _, e := range es {
		slots += len(e.Slots)
	}
	if slots == 0 {
		t.Fatal("the customer has no slots")
	}
	eventually(t, "every entity's config", func() bool { return len(ha.configs()) == len(objects)*slots })
	var vendor struct{ Name string }
	var model struct{ Name string }
	ctx := context.Background()
	if err := w.api.Do(ctx, "GET", "/api/v1/vendor", w.vendor.APIKey, nil, &vendor); err != nil {
		t.Fatal(err)
	}
	if err := w.api.Do(ctx, "GET", "/api/v1/models/"+w.vendor.ModelID, w.vendor.APIKey, nil, &model); err != nil {
		t.Fatal(err)
	}

	uniques := map[string]string{}
	for topic, payload := range ha.configs() {
		component, cfg, problem := checkConfig(topic, payload)
		if problem != "" {
			t.Errorf("%s: %s\n%s", topic, problem, payload)
			continue
		}
		if other, ok := uniques[cfg["unique_id"].(string)]; ok {
			t.Errorf("%s and %s share unique_id %v", topic, other, cfg["unique_id"])
		}
		uniques[cfg["unique_id"].(string)] = topic
		if cfg["availability_topic"] != base(ann)+"/availability" {
			t.Errorf("%s: availability_topic %v, want the one topic %s", topic, cfg["availability_topic"], base(ann)+"/availability")
		}
		m := discoveryTopic.FindStringSubmatch(topic)
		object := ""
		for o := range objects {
			if strings.HasSuffix(m[4], "_"+o) && len(o) > len(object) {
				object = o
			}
		}
		if want := objects[object]; want != component {
			t.Errorf("%s: object %q is a %s, want a %s", topic, object, component, want)
		}
		dev := cfg["device"].(map[string]any)
		if dev["manufacturer"] != vendor.Name || dev["model"] != model.Name || dev["model_id"] != w.vendor.ModelID {
			t.Errorf("%s: device %v, want the vendor %q and model %q", topic, dev, vendor.Name, model.Name)
		}
		if st, ok := cfg["state_topic"].(string); ok {
			eventually(t, "the state of "+topic, func() bool { _, ok := ha.get(st); return ok })
			v, _ := ha.get(st)
			if p := checkState(component, cfg, v); p != "" {
				t.Errorf("%s: state %s: %s", topic, st, p)
			}
		}
		switch object {
		case "level":
			if cfg["state_class"] != "measurement" || cfg["unit_of_measurement"] != "%" {
				t.Errorf("%s: the level is a measurement in %%: %v", topic, payload)
			}
			if pic, _ := cfg["entity_picture"].(string); !strings.HasPrefix(pic, w.URL+"/images/") {
				t.Errorf("%s: entity_picture %q, want the model's image", topic, pic)
			}
		case "run_out", "next_order":
			if cfg["device_class"] != "date" {
				t.Errorf("%s: device_class %v, want date", topic, cfg["device_class"])
			}
		case "low":
			if cfg["device_class"] != "problem" {
				t.Errorf("%s: device_class %v, want problem", topic, cfg["device_class"])
			}
		case "last_order":
			if cfg["json_attributes_topic"] == nil {
				t.Errorf("%s: no attributes topic for product and price", topic)
			}
		}
	}
	// One device per endpoint, named as the customer calls it.
	devices := map[string]string{}
	for _, payload := range ha.configs() {
		var cfg struct {
			Device struct {
				Identifiers []string
				Name        string
			}
		}
		json.Unmarshal([]byte(payload), &cfg)
		devices[cfg.Device.Identifiers[0]] = cfg.Device.Name
	}
	if len(devices) != len(es) {
		t.Errorf("devices %v, want one per endpoint (%d)", devices, len(es))
	}
	for _, e := range es {
		id := "replenish_" + homeassistant.Slug(ann.CustomerID) + "_" + homeassistant.Slug(e.EndpointID)
		if devices[id] != e.FriendlyName {
			t.Errorf("device %s named %q, want %q", id, devices[id], e.FriendlyName)
		}
	}
	ha.wait(base(ann)+"/availability", "online")
	ep, slot := es[0].EndpointID, es[0].Slots[0].SlotID
	ha.wait(state(ann, ep, slot, "level"), "70")
	ha.wait(state(ann, ep, slot, "smart_reorder"), "OFF")
	ha.wait(state(ann, ep, slot, "low"), "OFF")

	// A new reading: the level follows, retained, so that a Home
	// Assistant that connects later has it at once.
	w.report(ann, 35)
	ha.wait(state(ann, ep, slot, "level"), "35")
	late := newHomeAssistant(t, broker, p, base(ann))
	eventually(t, "retained configs and states", func() bool {
		v, _ := late.get(state(ann, ep, slot, "level"))
		return len(late.configs()) == len(objects)*slots && v == "35"
	})

	// Home Assistant restarts and says so: every config again.
	some := p + "/sensor/replenish_" + homeassistant.Slug(ep) + "/" + homeassistant.Slug(slot) + "_level/config"
	before := ha.times(some)
	ha.publish(p+"/status", "online")
	eventually(t, "the configs again after Home Assistant came online", func() bool { return ha.times(some) > before })
}

// TestCommands: Home Assistant's buttons and switch go through the API's
// use cases as the customer; what they refuse is logged and changes
// nothing.
func TestCommands(t *testing.T) {
	w := newWorld(t)
	ann, bob := w.customer("Ann Example"), w.customer("Bob Example")
	w.report(ann, 70, 60, 50, 40)
	w.run()
	p := prefix()
	ha := newHomeAssistant(t, broker, p, base(ann))
	w.bridge(ann, true, "127.0.0.1:1883", p)
	w.waitState(ann, replenish.BridgeConnected)
	es := w.endpoints(ann)
	ep, slot := es[0].EndpointID, es[0].Slots[0].SlotID
	ha.wait(state(ann, ep, slot, "last_order"), "None")
	command := func(object, payload string) { ha.publish(state(ann, ep, slot, object)+"/set", payload) }

	// Order now: exactly one order, through the API's rules.
	command("order_now", "PRESS")
	ha.wait(state(ann, ep, slot, "last_order"), replenish.OrderPending)
	os := w.orders(ann)
	if len(os) != 1 || os[0].EndpointID != ep || os[0].SlotID != slot || os[0].Steps[0].Actor != replenish.ActorCustomer {
		t.Fatalf("orders after order now: %+v", os)
	}
	attrs, _ := ha.get(state(ann, ep, slot, "last_order") + "/attributes")
	var a map[string]any
	json.Unmarshal([]byte(attrs), &a)
	if a["order_id"] != os[0].OrderID || a["price"] != os[0].Price || a["product_id"] != os[0].ProductID || a["product"] == "" {
		t.Errorf("last order's attributes %s, want order %s with product and price", attrs, os[0].OrderID)
	}
	// A second press while the order is open is refused, and logged.
	command("order_now", "press")
	eventually(t, "the second press refused in the log", func() bool {
		return w.log.count("command refused", "order_now", "code=conflict") == 1
	})
	if os := w.orders(ann); len(os) != 1 {
		t.Errorf("%d orders after a second press, want 1", len(os))
	}

	// Replaced today records the installed part.
	command("replaced_today", "PRESS")
	eventually(t, "the installed date", func() bool {
		at := w.endpoints(ann)[0].Slots[0].InstalledAt
		return at != nil && time.Since(*at) < time.Minute
	})

	// The switch sets the mode: ON is AUTO, OFF is NOTIFY.
	mode := func() string { return w.endpoints(ann)[0].Slots[0].Mode }
	command("smart_reorder", "ON")
	eventually(t, "AUTO", func() bool { return mode() == replenish.ModeAuto })
	ha.wait(state(ann, ep, slot, "smart_reorder"), "ON")
	command("smart_reorder", "OFF")
	eventually(t, "NOTIFY", func() bool { return mode() == replenish.ModeNotify })
	ha.wait(state(ann, ep, slot, "smart_reorder"), "OFF")

	// Malformed payloads change nothing, and are logged.
	command("smart_reorder", "MAYBE")
	command("replaced_today", `{"at":"yesterday"}`)
	eventually(t, "the malformed commands in the log", func() bool {
		return w.log.count("command refused", "smart_reorder", "MAYBE") == 1 &&
			w.log.count("command refused", "replaced_today", "code=invalid") == 1
	})
	if mode() != replenish.ModeNotify {
		t.Errorf("mode %s after a malformed command, want NOTIFY", mode())
	}

	// Another customer's endpoint on Ann's topics: refused, Bob unchanged.
	bobEP := w.endpoints(bob)[0]
	if bobEP.EndpointID == ep {
		t.Fatalf("Bob's endpoint has Ann's ID %s: the test needs them apart", ep)
	}
	ha.publish(base(ann)+"/"+homeassistant.Slug(bobEP.EndpointID)+"/"+homeassistant.Slug(slot)+"/order_now/set", "PRESS")
	ha.publish(base(ann)+"/"+homeassistant.Slug(bobEP.EndpointID)+"/"+homeassistant.Slug(slot)+"/smart_reorder/set", "ON")
	eventually(t, "the commands for Bob's endpoint refused", func() bool {
		return w.log.count("command refused", homeassistant.Slug(bobEP.EndpointID), "code=not_found") == 2
	})
	if os := w.orders(bob); len(os) != 0 {
		t.Errorf("Bob has orders %+v after commands on Ann's topics", os)
	}
	if m := w.endpoints(bob)[0].Slots[0].Mode; m != replenish.ModeNotify {
		t.Errorf("Bob's mode %s, want NOTIFY", m)
	}

	// The API's route is the same use case: Ann orders another slot; a
	// second is 409; Bob's endpoint is 404 to her.
	ctx := context.Background()
	other := es[0].Slots[1].SlotID
	var o replenish.Order
	path := "/api/v1/endpoints/" + ep + "/slots/" + other + "/orders"
	if err := w.api.Do(ctx, "POST", path, ann.APIKey, nil, &o); err != nil || o.SlotID != other {
		t.Fatalf("order now through the API: %v %+v", err, o)
	}
	ha.wait(state(ann, ep, other, "last_order"), replenish.OrderPending)
	if err := w.api.Do(ctx, "POST", path, ann.APIKey, nil, nil); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("a second order through the API: %v, want 409", err)
	}
	err := w.api.Do(ctx, "POST", "/api/v1/endpoints/"+bobEP.EndpointID+"/slots/"+slot+"/orders", ann.APIKey, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Ann orders on Bob's endpoint: %v, want 404", err)
	}
	if os := w.orders(bob); len(os) != 0 {
		t.Errorf("Bob has orders %+v", os)
	}
}

// TestTurnOff: turning the bridge off empties every config (Home
// Assistant removes the entities), says Replenish is offline, and
// disconnects.
func TestTurnOff(t *testing.T) {
	w := newWorld(t)
	ann := w.customer("Ann Example")
	w.report(ann, 70, 60, 50, 40)
	w.run()
	p := prefix()
	ha := newHomeAssistant(t, broker, p, base(ann))
	w.bridge(ann, true, "mqtt://127.0.0.1", p)
	w.waitState(ann, replenish.BridgeConnected)
	eventually(t, "the configs", func() bool { return len(ha.configs()) == len(objects)*4 })
	published := ha.configs()

	set := w.bridge(ann, false, "mqtt://127.0.0.1", p)
	if st := set.HomeAssistant.Status.State; st != replenish.BridgeRemoving && st != replenish.BridgeOff {
		t.Errorf("state right after turning off %s, want REMOVING", st)
	}
	w.waitState(ann, replenish.BridgeOff)
	for topic := range published {
		ha.wait(topic, "")
	}
	ha.wait(base(ann)+"/availability", "offline")
	es := w.endpoints(ann)
	ha.wait(state(ann, es[0].EndpointID, es[0].Slots[0].SlotID, "level"), "")
	var h replenish.HomeAssistant
	w.store.Read(context.Background(), func(tx storage.Tx) (err error) {
		h, err = tx.HomeAssistant(context.Background(), ann.CustomerID)
		return err
	})
	if len(h.Published) != 0 {
		t.Errorf("published topics after turning off: %v", h.Published)
	}
	// Nothing more comes once off.
	time.Sleep(500 * time.Millisecond)
	if n := len(ha.configs()); n != 0 {
		t.Errorf("%d configs after turning off", n)
	}
}

// TestBrokerFailures: a broker that refuses the credentials and one that
// is down hold up only their own customers' bridges, which retry with a
// growing pause and show why; a customer whose broker works is served
// meanwhile, and a fixed password connects.
func TestBrokerFailures(t *testing.T) {
	w := newWorld(t)
	ann, bob, cid := w.customer("Ann Example"), w.customer("Bob Example"), w.customer("Cid Example")
	secured := mosquitto(t, "bob", "right-password")
	w.run()
	p := prefix()
	ha := newHomeAssistant(t, broker, p, base(ann))
	w.bridge(bob, true, "mqtt://bob:wrong-password@"+secured, p)
	w.bridge(cid, true, "mqtt://127.0.0.1:1", p) // nothing listens on port 1
	w.bridge(ann, true, "mqtt://127.0.0.1:1883", p)

	annSince := w.waitState(ann, replenish.BridgeConnected).Since
	eventually(t, "Ann's configs", func() bool { return len(ha.configs()) == len(objects)*4 })
	refused := w.waitState(bob, replenish.BridgeRetrying)
	if !strings.Contains(strings.ToLower(refused.LastError), "not authorized") &&
		!strings.Contains(strings.ToLower(refused.LastError), "bad user name or password") {
		t.Errorf("Bob's last error %q, want the broker's refusal", refused.LastError)
	}
	down := w.waitState(cid, replenish.BridgeRetrying)
	if !strings.Contains(down.LastError, "refused") {
		t.Errorf("Cid's last error %q, want connection refused", down.LastError)
	}
	for _, st := range []struct {
		who string
		s   storageStatus
	}{{"Bob", storageStatus(refused)}, {"Cid", storageStatus(down)}} {
		if st.s.NextAttemptAt == nil || st.s.Since == nil || !st.s.NextAttemptAt.After(*st.s.Since) {
			t.Errorf("%s's status %+v: want when it tries next", st.who, st.s)
		}
		if strings.Contains(st.s.LastError, "wrong-password") {
			t.Errorf("%s's error shows the password: %q", st.who, st.s.LastError)
		}
	}
	// It keeps trying: a later attempt, a later status.
	eventually(t, "Bob's next attempt", func() bool {
		st := w.settings(bob).HomeAssistant.Status
		return st.State == replenish.BridgeRetrying && st.Since.After(*refused.Since)
	})
	// Ann was served all along, on one connection.
	if st := w.settings(ann).HomeAssistant.Status; st.State != replenish.BridgeConnected || !st.Since.Equal(*annSince) {
		t.Errorf("Ann's bridge %+v while the others fail, want connected since %v", st, annSince)
	}
	// The right password: Bob's bridge connects.
	w.bridge(bob, true, "mqtt://bob:right-password@"+secured, p)
	st := w.waitState(bob, replenish.BridgeConnected)
	if st.LastError != "" || st.NextAttemptAt != nil {
		t.Errorf("Bob connected with %+v, want no error or next attempt", st)
	}
}

// storageStatus is a status as GET answers it.
type storageStatus = struct {
	State         string     `json:"state"`
	Since         *time.Time `json:"since,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
}

// TestLease: two instances on one database run a customer's bridge once
// between them; when the one that runs it stops, the other takes over.
func TestLease(t *testing.T) {
	w := newWorld(t)
	ann := w.customer("Ann Example")
	w.report(ann, 70)
	_, stopFirst := w.run()
	p := prefix()
	ha := newHomeAssistant(t, broker, p, base(ann))
	w.bridge(ann, true, "mqtt://127.0.0.1:1883", p)
	first := w.waitState(ann, replenish.BridgeConnected)
	w.run() // a second instance
	// Both would connect with the same client ID and throw each other
	// out; one holds the lease, so the connection stays.
	time.Sleep(1500 * time.Millisecond)
	if st := w.settings(ann).HomeAssistant.Status; st.State != replenish.BridgeConnected || !st.Since.Equal(*first.Since) {
		t.Fatalf("status %+v after a second instance started, want the first connection (since %v)", st, first.Since)
	}
	stopFirst()
	ha.wait(base(ann)+"/availability", "offline")
	eventually(t, "the second instance's connection", func() bool {
		st := w.settings(ann).HomeAssistant.Status
		v, _ := ha.get(base(ann) + "/availability")
		return st.State == replenish.BridgeConnected && st.Since.After(*first.Since) && v == "online"
	})
}

// TestSettings: the homeAssistant field of the notification settings is
// read leniently, refused by its field without changing anything, and
// never shows the password.
func TestSettings(t *testing.T) {
	w := newWorld(t)
	ann := w.customer("Ann Example")
	ctx := context.Background()
	put := func(body map[string]any) (int, string) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("PUT", w.URL+"/api/v1/notification-settings", strings.NewReader(string(raw)))
		req.Header.Set("Authorization", "Bearer "+ann.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, out.String()
	}
	ha := func(fields map[string]any) map[string]any { return map[string]any{"homeAssistant": fields} }

	got := w.settings(ann).HomeAssistant
	if got.Enabled || got.BrokerURL != "" || got.DiscoveryPrefix != "homeassistant" || got.Status.State != replenish.BridgeOff {
		t.Errorf("a new customer's bridge %+v, want off with the prefix homeassistant", got)
	}

	for _, c := range []struct {
		in                   map[string]any
		field                string
		brokerURL, discovery string
	}{
		{ha(map[string]any{"brokerUrl": "TCP://Broker.Example"}), "", "mqtt://Broker.Example:1883", "homeassistant"},
		{ha(map[string]any{"brokerUrl": " ssl://u:p%40ss@broker.example "}), "", "mqtts://u:xxxxx@broker.example:8883", "homeassistant"},
		{ha(map[string]any{"brokerUrl": "broker.example:1884", "discoveryPrefix": " /ha/ "}), "", "mqtt://broker.example:1884", "ha"},
		{ha(map[string]any{"brokerUrl": "mqtts://[::1]"}), "", "mqtts://[::1]:8883", "ha"},
		{ha(map[string]any{"discoveryPrefix": ""}), "", "mqtts://[::1]:8883", "homeassistant"},
		{ha(map[string]any{"brokerUrl": "http://broker.example"}), "homeAssistant.brokerUrl", "", ""},
		{ha(map[string]any{"brokerUrl": "mqtt://broker.example/path"}), "homeAssistant.brokerUrl", "", ""},
		{ha(map[string]any{"brokerUrl": "mqtt://broker.example:70000"}), "homeAssistant.brokerUrl", "", ""},
		{ha(map[string]any{"discoveryPrefix": "a/b"}), "homeAssistant.discoveryPrefix", "", ""},
		{ha(map[string]any{"discoveryPrefix": "home+assistant"}), "homeAssistant.discoveryPrefix", "", ""},
		{ha(map[string]any{"discoveryPrefix": "$SYS"}), "homeAssistant.discoveryPrefix", "", ""},
		{ha(map[string]any{"enabled": "yes"}), "homeAssistant.enabled", "", ""},
		{ha(map[string]any{"enabled": true, "brokerUrl": ""}), "homeAssistant.brokerUrl", "", ""},
		{map[string]any{"email": false, "homeAssistant": map[string]any{"brokerUrl": "ftp://x"}}, "homeAssistant.brokerUrl", "", ""},
	} {
		before := w.settings(ann)
		status, body := put(c.in)
		if c.field != "" {
			if status != http.StatusBadRequest || !strings.Contains(body, c.field) {
				t.Errorf("%v: %d %s, want 400 naming %s", c.in, status, body, c.field)
			}
			if after := w.settings(ann); !reflect.DeepEqual(after, before) {
				t.Errorf("%v changed the settings from %+v to %+v", c.in, before, after)
			}
			continue
		}
		s := w.settings(ann).HomeAssistant
		if status != http.StatusOK || s.BrokerURL != c.brokerURL || s.DiscoveryPrefix != c.discovery {
			t.Errorf("%v: %d, settings %+v, want broker %s and prefix %s (%s)", c.in, status, s, c.brokerURL, c.discovery, body)
		}
	}

	// The password is stored to sign in with, answered masked, and kept
	// when the masked address comes back, with the rest of the answer.
	stored := func() replenish.HomeAssistant {
		var h replenish.HomeAssistant
		w.store.Read(ctx, func(tx storage.Tx) (err error) {
			h, err = tx.HomeAssistant(ctx, ann.CustomerID)
			return err
		})
		return h
	}
	if status, body := put(ha(map[string]any{"brokerUrl": "mqtt://ann:s3cret@broker.example"})); status != 200 || strings.Contains(body, "s3cret") {
		t.Errorf("answer %d %s shows the password", status, body)
	}
	var raw map[string]any
	w.api.Do(ctx, "GET", "/api/v1/notification-settings", ann.APIKey, nil, &raw)
	back, _ := json.Marshal(raw["homeAssistant"])
	if strings.Contains(string(back), "s3cret") {
		t.Errorf("GET shows the password: %s", back)
	}
	var again map[string]any
	json.Unmarshal(back, &again)
	if status, body := put(map[string]any{"homeAssistant": again}); status != 200 {
		t.Errorf("the answer sent back: %d %s", status, body)
	}
	if h := stored(); h.Password != "s3cret" || h.Username != "ann" || h.BrokerURL != "mqtt://broker.example:1883" {
		t.Errorf("stored %+v after the masked address came back, want the password kept", h)
	}
	if status, _ := put(ha(map[string]any{"brokerUrl": "mqtt://ann:new@broker.example"})); status != 200 || stored().Password != "new" {
		t.Errorf("a new password was not stored")
	}
	if status, _ := put(ha(map[string]any{"brokerUrl": "mqtt://broker.example"})); status != 200 || stored().Password != "" {
		t.Errorf("an address without credentials kept the old password")
	}
}
