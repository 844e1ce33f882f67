package mqtt

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// mosquitto is where the tests look for a broker (Debian's Mosquitto,
// anonymous).
const mosquitto = "127.0.0.1:1883"

func needMosquitto(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", mosquitto, time.Second)
	if err != nil {
		t.Skipf("no MQTT broker at %s: %v", mosquitto, err)
	}
	c.Close()
}

// runPrefix is unique to the test run, so that what other runs left on
// the broker, or do on it meanwhile, does not interfere: their instances
// get this run's events too (the filters match every device), but their
// testDevices ignore devices they do not know.
func runPrefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b) + "-"
}

func startExternal(t *testing.T, d *testDevices, clientID, group string) *External {
	t.Helper()
	log, _ := newTestLog()
	x, err := NewExternal(ExternalConfig{URL: "mqtt://" + mosquitto, ClientID: clientID, Group: group}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func TestExternalSharedSubscription(t *testing.T) {
	needMosquitto(t)
	const events = 100
	p := runPrefix()
	dev := p + "dev"
	var instances [2]*testDevices
	var xs [2]*External
	for i := range instances {
		instances[i] = newTestDevices(map[string]string{dev: ""})
		instances[i].delay = 5 * time.Millisecond
		xs[i] = startExternal(t, instances[i], fmt.Sprintf("%sreplenish-%d", p, i), p+"group")
	}

	in := newInbox()
	device := mustConnect(t, paho.NewClientOptions().AddBroker("tcp://"+mosquitto).
		SetClientID(dev).SetAutoReconnect(false).SetDefaultPublishHandler(in.handle))
	subscribe(t, device, AcksTopic(dev), nil)
	subscribe(t, device, DirectivesTopic(dev), nil)
	var tokens []paho.Token
	for i := range events {
		tokens = append(tokens, device.Publish(EventsTopic(dev), 1, false, event(fmt.Sprintf("m-%03d", i))))
	}
	for _, tok := range tokens {
		if err := waitToken(t, tok); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every ack", func() bool { return len(in.get(AcksTopic(dev))) >= events })

	// Close waits for the messages being handled: no more Event calls.
	for _, x := range xs {
		x.Close()
	}
	acks := map[string]int{}
	for _, a := range in.get(AcksTopic(dev)) {
		acks[a]++
	}
	stored := map[string]int{}
	for i, d := range instances {
		got := d.eventsOf(dev)
		if len(got) == 0 {
			t.Errorf("instance %d handled no event", i)
		}
		for _, id := range got {
			stored[id]++
		}
	}
	for i := range events {
		id := fmt.Sprintf("m-%03d", i)
		if acks[ackOf(id)] != 1 || stored[id] != 1 {
			t.Errorf("%s: stored %d times, acked %d times; want once", id, stored[id], acks[ackOf(id)])
		}
	}
	if len(acks) != events {
		t.Errorf("%d different acks, want %d", len(acks), events)
	}
	if n := max(instances[0].maxConcurrentEvents(), instances[1].maxConcurrentEvents()); n < 2 {
		t.Errorf("at most %d events handled at once by an instance: want them handled concurrently", n)
	}
	t.Logf("events handled by each instance: %d, %d", len(instances[0].eventsOf(dev)), len(instances[1].eventsOf(dev)))
}

func TestExternalStatusAndDirective(t *testing.T) {
	needMosquitto(t)
	p := runPrefix()
	dev := p + "dev"
	d := newTestDevices(map[string]string{dev: ""})
	x := startExternal(t, d, p+"replenish", p+"group")

	in := newInbox()
	device := mustConnect(t, paho.NewClientOptions().AddBroker("tcp://"+mosquitto).
		SetClientID(dev).SetAutoReconnect(false).SetDefaultPublishHandler(in.handle))
	subscribe(t, device, DirectivesTopic(dev), nil)
	publish(t, device, StatusTopic(dev), 1, []byte("Online"))
	waitFor(t, "online", func() bool { return len(d.statusesOf(dev)) > 0 })
	if got := d.statusesOf(dev); !slices.Equal(got, []bool{true}) {
		t.Errorf("statuses = %v, want [true]", got)
	}

	if err := x.Directive(dev, []byte("d-1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the directive", func() bool { return in.count() > 0 })
	if got := in.get(DirectivesTopic(dev)); !slices.Equal(got, []string{"d-1"}) {
		t.Errorf("directives = %q", got)
	}
	x.Disconnect(dev) // a no-op
	if !device.IsConnected() {
		t.Error("Disconnect dropped the device from an external broker")
	}
}

func TestExternalBrokerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	log, _ := newTestLog()
	x, err := NewExternal(ExternalConfig{URL: "mqtt://replenish:s3cret@" + addr}, newTestDevices(nil), log)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	err = x.Start()
	if err == nil {
		t.Fatal("Start succeeded with no broker")
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q: want the address without the password", err)
	}
}

func TestExternalBadURL(t *testing.T) {
	log, _ := newTestLog()
	for _, u := range []string{"", "http://broker:80", "mqtt://:1883"} {
		if _, err := NewExternal(ExternalConfig{URL: u}, newTestDevices(nil), log); err == nil {
			t.Errorf("NewExternal(%q) succeeded", u)
		}
	}
}
