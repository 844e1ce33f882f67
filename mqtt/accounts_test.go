package mqtt

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
	pahopackets "github.com/eclipse/paho.mqtt.golang/packets"
)

// testAccounts are accounts by user name: their password and topics.
type testAccounts map[string]struct {
	password string
	topics   []string
}

func (a testAccounts) Account(_ context.Context, username, password string) ([]string, bool) {
	acc, ok := a[username]
	if !ok || acc.password != password {
		return nil, false
	}
	return acc.topics, true
}

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		filter, sub string
		want        bool
	}{
		{"ha_a/#", "ha_a/#", true},
		{"ha_a/#", "ha_a", true},
		{"ha_a/#", "ha_a/sensor/x/config", true},
		{"ha_a/#", "ha_a/+/x/config", true},
		{"ha_a/#", "ha_b/#", false},
		{"ha_a/#", "ha_ab/x", false},
		{"ha_a/#", "#", false},
		{"ha_a/#", "+/status", false},
		{"ha_a/#", "+", false},
		{"ha_a/+", "ha_a/x", true},
		{"ha_a/+", "ha_a/+", true},
		{"ha_a/+", "ha_a/#", false},
		{"ha_a/+", "ha_a/x/y", false},
		{"ha_a/x", "ha_a/x", true},
		{"ha_a/x", "ha_a/+", false},
		{"#", "$SYS/broker/clients", false},
		{"#", "$share/g/ha_a/x", false},
	} {
		if got := covers(c.filter, c.sub); got != c.want {
			t.Errorf("covers(%q, %q) = %v, want %v", c.filter, c.sub, got, c.want)
		}
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"replenish/#", "replenish/v1/#", true},
		{"replenish/+/#", "replenish/v1/#", true},
		{"replenish/v1", "replenish/v1/#", true},
		{"replenish/cu-a/#", "replenish/v1/#", false},
		{"ha_a/#", "replenish/v1/#", false},
		{"#", "replenish/v1/#", true},
		{"a/b", "a/b/c", false},
		{"a/+", "+/b", true},
	} {
		if got := overlaps(c.a, c.b); got != c.want {
			t.Errorf("overlaps(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestEmbeddedAccounts: an account signs in with its password, reaches
// the topics of its filters and no others (nor the devices', whatever it
// is given), cannot take a device's client ID, and is dropped by
// DisconnectAccount; the service account reaches everything, and what
// both publish is delivered and retained.
func TestEmbeddedAccounts(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	log, logs := newTestLog()
	accounts := testAccounts{
		"ha_a": {password: "pw", topics: []string{"ha_a/#", "replenish/a/#"}},
		"ha_v": {password: "pw", topics: []string{"replenish/#", "ha_v/#"}},
	}
	e, err := NewEmbedded(EmbeddedConfig{Listen: "127.0.0.1:0", Accounts: accounts}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	account := func(clientID, user, password string) *paho.ClientOptions {
		return deviceOptions(e.Addr(), clientID, password).SetUsername(user)
	}

	user, password := e.Service()
	if !strings.HasPrefix(user, "replenish_") || len(password) < 32 {
		t.Fatalf("service account %q, %q", user, password)
	}
	if u2, _ := e.Service(); u2 != user {
		t.Fatalf("the service account changed")
	}
	svc := mustConnect(t, account("replenish-a", user, password))
	publish(t, svc, "ha_a/sensor/x/config", 1, []byte("config"))
	if err := waitToken(t, svc.Publish("ha_b/sensor/x/config", 1, true, "other")); err != nil {
		t.Fatal(err)
	}
	if err := waitToken(t, svc.Publish("ha_a/sensor/y/config", 1, true, "retained")); err != nil {
		t.Fatal(err)
	}
	fromHA := newInbox()
	if code := subscribe(t, svc, "replenish/a/#", fromHA.handle); code != 1 {
		t.Fatalf("the service subscribing: code %#x", code)
	}

	for _, c := range []struct{ name, clientID, user, password string }{
		{"wrong password", "ha-1", "ha_a", "wrong"},
		{"unknown account", "ha-1", "ha_x", "pw"},
		{"the service with a wrong password", "s-1", user, "wrong"},
		{"a device's client ID", "dev_123", "ha_a", "pw"},
		{"a connected device's client ID", "dev-a", "ha_a", "pw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.clientID == "dev-a" {
				mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a"))
			}
			if _, err := connect(t, account(c.clientID, c.user, c.password)); !errors.Is(err, pahopackets.ErrorRefusedNotAuthorised) {
				t.Errorf("connect: %v, want %v", err, pahopackets.ErrorRefusedNotAuthorised)
			}
		})
	}
	// A will outside its topics (Home Assistant's default is
	// homeassistant/status) is dropped, not published; one inside is.
	spy := newInbox()
	subscribe(t, svc, "ha_b/#", spy.handle)
	subscribe(t, svc, "ha_a/status", spy.handle)
	for _, will := range []string{"ha_b/status", "ha_a/status"} {
		onLost, lost := lostSignal()
		mustConnect(t, account("ha-w", "ha_a", "pw").SetWill(will, "offline", 1, false).SetConnectionLostHandler(onLost))
		e.DisconnectAccount("ha_a") // dropped, not a clean DISCONNECT: its will goes
		waitLost(t, lost)
	}
	waitFor(t, "the will inside its topics", func() bool { return len(spy.get("ha_a/status")) == 1 })
	if got := spy.get("ha_b/status"); len(got) > 0 {
		t.Errorf("the will outside the account's topics was published: %q", got)
	}

	in := newInbox()
	ha := mustConnect(t, account("ha-1", "ha_a", "pw").SetDefaultPublishHandler(in.handle).
		SetWill("ha_a/status", "offline", 1, false))
	for _, filter := range []string{"ha_b/#", "#", "+/sensor/#", "replenish/b/#", "replenish/v1/dev-a/#", "replenish/#", "$SYS/#"} {
		if code := subscribe(t, ha, filter, nil); code != 0x80 {
			t.Errorf("subscribing to %s: code %#x, want 0x80", filter, code)
		}
	}
	if code := subscribe(t, ha, "ha_a/#", nil); code != 1 {
		t.Fatalf("subscribing to its own tree: code %#x", code)
	}
	waitFor(t, "the retained configs", func() bool { return len(in.get("ha_a/sensor/y/config")) == 1 })
	publish(t, ha, "ha_b/x", 0, []byte("forged")) // dropped at QoS 0
	publish(t, ha, "replenish/a/e/s/order_now/set", 1, []byte("PRESS"))
	waitFor(t, "the command at the service", func() bool { return fromHA.count() == 1 })
	if in.count() != 1 {
		t.Errorf("Home Assistant received %v, want its own retained config alone", in.all())
	}
	if !strings.Contains(logs.String(), `msg="mqtt: subscription refused" client=ha-1 user=ha_a topic=ha_b/#`) {
		t.Errorf("refused subscription not logged:\n%s", logs)
	}

	// Given the whole replenish/ tree, an account still reaches no device.
	v := mustConnect(t, account("ha-v", "ha_v", "pw"))
	for _, filter := range []string{"replenish/v1/dev-a/acks", "replenish/v1/#", "replenish/#"} {
		if code := subscribe(t, v, filter, nil); code != 0x80 {
			t.Errorf("an account given replenish/#, subscribing to %s: code %#x, want 0x80", filter, code)
		}
	}

	// Dropped: its will goes to the service, and it is gone.
	onLost, lost := lostSignal()
	mustConnect(t, account("ha-2", "ha_a", "pw").SetConnectionLostHandler(onLost))
	e.DisconnectAccount("ha_a")
	waitLost(t, lost)
	waitFor(t, "the account's connections gone", func() bool {
		return !slices.ContainsFunc(clientsOf(e), func(u string) bool { return u == "ha_a" })
	})
}

// clientsOf are the user names of the broker's open connections.
func clientsOf(e *Embedded) []string {
	var users []string
	for _, cl := range e.server.Clients.GetAll() {
		if !cl.Closed() {
			users = append(users, string(cl.Properties.Username))
		}
	}
	return users
}
