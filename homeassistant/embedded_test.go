package homeassistant_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	pahopackets "github.com/eclipse/paho.mqtt.golang/packets"

	"replenish"
	"replenish/homeassistant"
	"replenish/mqtt"
)

// embedded starts Replenish's own broker for the world, on a free port,
// with its customers' Home Assistant accounts, closed when the test ends.
func (w *world) embedded() *mqtt.Embedded {
	w.t.Helper()
	log := slog.New(slog.NewTextHandler(w.log, nil))
	e, err := mqtt.NewEmbedded(mqtt.EmbeddedConfig{Listen: "127.0.0.1:0", Accounts: homeassistant.NewAccounts(w.store)},
		w.srv.Devices, log)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { e.Close() })
	return e
}

// runOn starts a bridge, as run does, that has e as Replenish's own broker.
func (w *world) runOn(e *mqtt.Embedded) {
	w.t.Helper()
	set := w.testSettings()
	set.Own = homeassistant.Own(e, "", w.URL)
	b := homeassistant.New(w.store, w.srv.Customers, w.srv.Orders, func() time.Time { return time.Now().UTC() },
		slog.New(slog.NewTextHandler(w.log, nil)), set)
	w.srv.HomeAssistant = b
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { b.Run(ctx) })
	w.t.Cleanup(func() { cancel(); wg.Wait() })
}

// signIn connects "Home Assistant" to addr as user with password, and
// subscribes to its discovery prefix and the customer's topics (base).
func signIn(t *testing.T, addr, user, password, prefix, base string) (*homeAssistant, error) {
	t.Helper()
	h := &homeAssistant{t: t, prefix: prefix, last: map[string]string{}, seen: map[string]int{}}
	opts := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("ha-" + replenish.NewID("", 10)).
		SetUsername(user).SetPassword(password).SetCleanSession(true).SetAutoReconnect(false).SetOrderMatters(false)
	h.c = paho.NewClient(opts)
	if tok := h.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { h.c.Disconnect(100) })
	if code := h.subscribe(prefix+"/#", base+"/#"); code != 0 {
		t.Fatalf("Home Assistant subscribing to its own topics: code %#x", code)
	}
	return h, nil
}

// subscribe subscribes to filters at QoS 0, as Home Assistant does for
// discovery and states, and returns the broker's code for the last: 0,
// or 0x80 for a refusal. (At QoS 1, mochi refuses a SUBSCRIBE whose
// packet ID its own delivery under way has, with 0x91.)
func (h *homeAssistant) subscribe(filters ...string) byte {
	h.t.Helper()
	var code byte
	for _, f := range filters {
		tok := h.c.Subscribe(f, 0, func(_ paho.Client, m paho.Message) {
			h.mu.Lock()
			h.last[m.Topic()] = string(m.Payload())
			h.seen[m.Topic()]++
			h.mu.Unlock()
		})
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			h.t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
		for _, c := range tok.(*paho.SubscribeToken).Result() {
			code = c
		}
	}
	return code
}

// putEmbedded changes the customer's bridge through the API and returns
// the answer.
func (w *world) putEmbedded(h household, fields map[string]any) settings {
	w.t.Helper()
	var s settings
	if err := w.api.Do(context.Background(), "PUT", "/api/v1/notification-settings", h.APIKey,
		map[string]any{"homeAssistant": fields}, &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// TestEmbedded: a customer without a broker of their own turns the bridge
// on Replenish's broker; their Home Assistant signs in with the account
// answered once, sees the configs and states in its private tree, orders
// through the command topic with the API's checks, reaches no other
// customer's or device's topics; a new password replaces the old; turned
// off, the configs are emptied and the account no longer signs in.
func TestEmbedded(t *testing.T) {
	w := newWorld(t)
	ann, bob := w.customer("Ann Example"), w.customer("Bob Example")
	w.report(ann, 70, 60, 50, 40)
	e := w.embedded()
	w.runOn(e)
	slug := homeassistant.Slug(ann.CustomerID)

	set := w.putEmbedded(ann, map[string]any{"enabled": true, "embedded": "true", "brokerUrl": "ignored"})
	acc := set.HomeAssistant.Account
	if !set.HomeAssistant.Embedded || set.HomeAssistant.BrokerURL != "" || acc == nil || acc.Password == "" ||
		acc.BrokerURL != "mqtt://"+e.Addr() || acc.Username != "ha_"+slug || acc.DiscoveryPrefix != "ha_"+slug ||
		set.HomeAssistant.DiscoveryPrefix != "ha_"+slug {
		t.Fatalf("turned on embedded: %+v %+v", set.HomeAssistant, acc)
	}
	if got := w.settings(ann).HomeAssistant; got.Account == nil || got.Account.Password != "" || got.Account.Username != acc.Username {
		t.Errorf("GET shows the account %+v: want it without the password", got.Account)
	}
	// The answer sent back changes nothing, and shows no password.
	if again := w.putEmbedded(ann, map[string]any{"enabled": true, "embedded": true, "account": acc}); again.HomeAssistant.Account.Password != "" {
		t.Errorf("the answer sent back made a new password")
	}
	w.waitState(ann, replenish.BridgeConnected)

	prefix, base := acc.DiscoveryPrefix, base(ann)
	if _, err := signIn(t, e.Addr(), acc.Username, "wrong", prefix, base); !errors.Is(err, pahopackets.ErrorRefusedNotAuthorised) {
		t.Errorf("a wrong password: %v, want refused", err)
	}
	ha, err := signIn(t, e.Addr(), acc.Username, acc.Password, prefix, base)
	if err != nil {
		t.Fatalf("Home Assistant signing in with the account: %v", err)
	}
	eventually(t, "every entity's config under "+prefix, func() bool { return len(ha.configs()) == len(objects)*4 })
	for topic, payload := range ha.configs() {
		if _, _, problem := checkConfig(topic, payload); problem != "" {
			t.Errorf("%s: %s", topic, problem)
		}
	}
	es := w.endpoints(ann)
	ep, slot := es[0].EndpointID, es[0].Slots[0].SlotID
	ha.wait(base+"/availability", "online")
	ha.wait(state(ann, ep, slot, "level"), "70")

	// Order now through the command topic: the API's use case and checks.
	ha.publish(state(ann, ep, slot, "order_now")+"/set", "PRESS")
	ha.wait(state(ann, ep, slot, "last_order"), replenish.OrderPending)
	if os := w.orders(ann); len(os) != 1 || os[0].Steps[0].Actor != replenish.ActorCustomer {
		t.Fatalf("orders after order now: %+v", os)
	}
	ha.publish(state(ann, ep, slot, "order_now")+"/set", "PRESS")
	eventually(t, "the second press refused", func() bool { return w.log.count("command refused", "order_now", "code=conflict") == 1 })

	// Nothing of anyone else's.
	bobSlug := homeassistant.Slug(bob.CustomerID)
	for _, filter := range []string{"ha_" + bobSlug + "/#", "replenish/" + bobSlug + "/#", "replenish/v1/#",
		"replenish/v1/+/directives", "homeassistant/#", "#", "+/status"} {
		if code := ha.subscribe(filter); code != 0x80 {
			t.Errorf("subscribing to %s: code %#x, want refused", filter, code)
		}
	}
	if n := w.log.count("subscription refused", "user="+acc.Username); n < 7 {
		t.Errorf("%d refused subscriptions logged, want 7", n)
	}

	// A new password: answered once; the old one is dropped and refused.
	renewed := w.putEmbedded(ann, map[string]any{"newPassword": true}).HomeAssistant.Account
	if renewed == nil || renewed.Password == "" || renewed.Password == acc.Password {
		t.Fatalf("a new password: %+v", renewed)
	}
	eventually(t, "the old password's connection dropped", func() bool { return !ha.c.IsConnectionOpen() })
	if _, err := signIn(t, e.Addr(), acc.Username, acc.Password, prefix, base); err == nil {
		t.Error("the old password still signs in")
	}
	ha, err = signIn(t, e.Addr(), acc.Username, renewed.Password, prefix, base)
	if err != nil {
		t.Fatalf("the new password: %v", err)
	}
	eventually(t, "the retained configs again", func() bool { return len(ha.configs()) == len(objects)*4 })
	published := ha.configs()

	// Off: Home Assistant sees the configs emptied, then the account stops.
	w.putEmbedded(ann, map[string]any{"enabled": false})
	w.waitState(ann, replenish.BridgeOff)
	for topic := range published {
		ha.wait(topic, "")
	}
	eventually(t, "the connection dropped", func() bool { return !ha.c.IsConnectionOpen() })
	if _, err := signIn(t, e.Addr(), acc.Username, renewed.Password, prefix, base); !errors.Is(err, pahopackets.ErrorRefusedNotAuthorised) {
		t.Errorf("signing in once off: %v, want refused", err)
	}
	// What the broker keeps: no config.
	user, password := e.Service()
	watcher, err := signIn(t, e.Addr(), user, password, prefix, base)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(watcher.configs()); n != 0 {
		t.Errorf("%d configs retained once off", n)
	}
}

// TestEmbeddedSettings: without a broker of its own, Replenish refuses
// the embedded mode by its field and changes nothing; newPassword needs
// the embedded mode; going back to a broker of one's own deletes the
// account.
func TestEmbeddedSettings(t *testing.T) {
	w := newWorld(t)
	ann := w.customer("Ann Example") // no bridge yet: no broker of its own
	put := func(fields map[string]any) (int, string) {
		raw, _ := json.Marshal(map[string]any{"homeAssistant": fields})
		req, _ := http.NewRequest("PUT", w.URL+"/api/v1/notification-settings", strings.NewReader(string(raw)))
		req.Header.Set("Authorization", "Bearer "+ann.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	before := w.settings(ann)
	for _, c := range []struct {
		fields map[string]any
		field  string
	}{
		{map[string]any{"enabled": true, "embedded": true}, "homeAssistant.embedded"},
		{map[string]any{"embedded": "TRUE"}, "homeAssistant.embedded"},
		{map[string]any{"embedded": "maybe"}, "homeAssistant.embedded"},
		{map[string]any{"newPassword": true}, "homeAssistant.newPassword"},
		{map[string]any{"newPassword": 1}, "homeAssistant.newPassword"},
	} {
		status, body := put(c.fields)
		if status != http.StatusBadRequest || !strings.Contains(body, c.field) {
			t.Errorf("%v: %d %s, want 400 naming %s", c.fields, status, body, c.field)
		}
		if strings.Contains(body, "embedded") && c.fields["embedded"] == true && !strings.Contains(body, "no MQTT broker of its own") {
			t.Errorf("%v: %s, want it to say there is no broker", c.fields, body)
		}
		if after := w.settings(ann); after.HomeAssistant.Embedded || after.HomeAssistant.Account != nil ||
			after.HomeAssistant.Status != before.HomeAssistant.Status {
			t.Errorf("%v changed the settings to %+v", c.fields, after.HomeAssistant)
		}
	}
	if status, body := put(map[string]any{"embedded": "false", "newPassword": "false"}); status != http.StatusOK {
		t.Errorf("embedded false, as a string: %d %s", status, body)
	}

	// With a broker: the account is made, and deleted when the customer
	// goes back to their own broker, whose prefix is Home Assistant's
	// default again.
	e := w.embedded()
	w.runOn(e)
	set := w.putEmbedded(ann, map[string]any{"embedded": true})
	if set.HomeAssistant.Account == nil || set.HomeAssistant.Account.Password == "" || set.HomeAssistant.Enabled {
		t.Fatalf("embedded while off: %+v", set.HomeAssistant)
	}
	// Off, the account does not sign in.
	if _, err := signIn(t, e.Addr(), set.HomeAssistant.Account.Username, set.HomeAssistant.Account.Password, "x", "y"); err == nil {
		t.Error("the account of a bridge that is off signs in")
	}
	back := w.putEmbedded(ann, map[string]any{"embedded": false, "brokerUrl": "mqtt://broker.example"}).HomeAssistant
	if back.Embedded || back.Account != nil || back.DiscoveryPrefix != replenish.DefaultDiscoveryPrefix ||
		back.BrokerURL != "mqtt://broker.example:1883" {
		t.Errorf("back to their own broker: %+v", back)
	}
	again := w.putEmbedded(ann, map[string]any{"embedded": true}).HomeAssistant.Account
	if again == nil || again.Password == "" || again.Password == set.HomeAssistant.Account.Password {
		t.Errorf("embedded again: %+v, want a new account with a new password", again)
	}
}
