package mqtt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	pahopackets "github.com/eclipse/paho.mqtt.golang/packets"
	mochi "github.com/mochi-mqtt/server/v2"
)

// startEmbedded starts a broker on a free port of 127.0.0.1, closed at
// the end of the test, and returns it with its log.
func startEmbedded(t *testing.T, d *testDevices) (*Embedded, *logBuffer) {
	t.Helper()
	log, logs := newTestLog()
	e, err := NewEmbedded(EmbeddedConfig{Listen: "127.0.0.1:0"}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e, logs
}

// deviceOptions are the options of a device's client of the broker at
// addr: MQTT 3.1.1, clean session, no reconnection.
func deviceOptions(addr, id, password string) *paho.ClientOptions {
	return paho.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(id).SetUsername(id).SetPassword(password).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetKeepAlive(30 * time.Second)
}

// connect connects a client, disconnected at the end of the test.
func connect(t *testing.T, opts *paho.ClientOptions) (paho.Client, error) {
	t.Helper()
	c := paho.NewClient(opts)
	if err := waitToken(t, c.Connect()); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func mustConnect(t *testing.T, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	c, err := connect(t, opts)
	if err != nil {
		t.Fatalf("connecting %s: %v", opts.ClientID, err)
	}
	return c
}

// subscribe subscribes at QoS 1 and returns the broker's return code:
// the QoS granted, or 0x80 for a refusal.
func subscribe(t *testing.T, c paho.Client, filter string, handler paho.MessageHandler) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, handler)
	if err := waitToken(t, tok); err != nil {
		t.Fatalf("subscribing to %s: %v", filter, err)
	}
	for _, code := range tok.(*paho.SubscribeToken).Result() { // one, keyed by the filter without any $share/{group}/
		return code
	}
	t.Fatalf("subscribing to %s: no return code", filter)
	return 0
}

func publish(t *testing.T, c paho.Client, topic string, qos byte, payload []byte) {
	t.Helper()
	if err := waitToken(t, c.Publish(topic, qos, false, payload)); err != nil {
		t.Fatalf("publishing on %s: %v", topic, err)
	}
}

// lostSignal returns a connection-lost handler and the channel it closes.
func lostSignal() (paho.ConnectionLostHandler, chan struct{}) {
	lost := make(chan struct{})
	return func(paho.Client, error) { close(lost) }, lost
}

func waitLost(t *testing.T, lost chan struct{}) {
	t.Helper()
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection was not dropped")
	}
}

func TestEmbeddedRefusesConnections(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a", "dev-b": "pw-b", mochi.InlineClientId: "pw-i"})
	e, logs := startEmbedded(t, d)
	for _, c := range []struct {
		name, clientID, user, password, will string
	}{
		{name: "wrong password", clientID: "dev-a", user: "dev-a", password: "pw-b"},
		{name: "unknown device", clientID: "dev-x", user: "dev-x", password: "pw-a"},
		{name: "user name not the client ID", clientID: "dev-a", user: "dev-b", password: "pw-a"},
		{name: "user name not the client ID, its password", clientID: "dev-a", user: "dev-b", password: "pw-b"},
		{name: "no client ID", clientID: "", user: "dev-a", password: "pw-a"},
		{name: "the broker's own client ID", clientID: mochi.InlineClientId, user: mochi.InlineClientId, password: "pw-i"},
		{name: "will on another device's status", clientID: "dev-a", user: "dev-a", password: "pw-a", will: StatusTopic("dev-b")},
		{name: "will on its events", clientID: "dev-a", user: "dev-a", password: "pw-a", will: EventsTopic("dev-a")},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := deviceOptions(e.Addr(), c.clientID, c.password).SetUsername(c.user)
			if c.will != "" {
				opts.SetWill(c.will, "offline", 1, false)
			}
			if _, err := connect(t, opts); !errors.Is(err, pahopackets.ErrorRefusedNotAuthorised) {
				t.Errorf("connect: %v, want %v", err, pahopackets.ErrorRefusedNotAuthorised)
			}
		})
	}
	if !strings.Contains(logs.String(), `msg="mqtt: connection refused" device=dev-a`) {
		t.Errorf("refusals not logged:\n%s", logs)
	}
	mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a").SetWill(StatusTopic("dev-a"), "offline", 1, false))
}

func TestEmbeddedEventAcked(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	d.delay = 50 * time.Millisecond
	e, _ := startEmbedded(t, d)
	c := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a"))
	in := newInbox()
	if code := subscribe(t, c, AcksTopic("dev-a"), in.handle); code != 1 {
		t.Fatalf("subscribing to its acks: code %#x", code)
	}
	publish(t, c, EventsTopic("dev-a"), 1, event("m-1"))
	// The broker acks the PUBLISH once the event is stored.
	if got := d.eventsOf("dev-a"); !slices.Equal(got, []string{"m-1"}) {
		t.Errorf("events stored at the PUBACK = %q, want [m-1]", got)
	}
	waitFor(t, "the ack", func() bool { return len(in.get(AcksTopic("dev-a"))) > 0 })
	if got := in.get(AcksTopic("dev-a")); !slices.Equal(got, []string{ackOf("m-1")}) {
		t.Errorf("acks = %q, want %q", got, ackOf("m-1"))
	}
}

func TestEmbeddedManyDevices(t *testing.T) {
	const devices, events = 50, 20
	passwords := map[string]string{}
	ids := make([]string, devices)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev-%02d", i)
		passwords[ids[i]] = "pw-" + ids[i]
	}
	d := newTestDevices(passwords)
	d.delay = 5 * time.Millisecond
	e, _ := startEmbedded(t, d)
	in := newInbox()
	clients := make([]paho.Client, devices)
	for i, id := range ids {
		clients[i] = mustConnect(t, deviceOptions(e.Addr(), id, passwords[id]))
		subscribe(t, clients[i], AcksTopic(id), in.handle)
	}

	var tokens []paho.Token
	for j := range events {
		for i, id := range ids {
			tokens = append(tokens, clients[i].Publish(EventsTopic(id), 1, false, event(fmt.Sprintf("%s-%02d", id, j))))
		}
	}
	for _, tok := range tokens {
		if err := waitToken(t, tok); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every ack", func() bool { return in.count() == devices*events })

	for _, id := range ids {
		var want, wantAcks []string
		for j := range events {
			want = append(want, fmt.Sprintf("%s-%02d", id, j))
			wantAcks = append(wantAcks, ackOf(want[j]))
		}
		if got := d.eventsOf(id); !slices.Equal(got, want) {
			t.Errorf("%s: events stored %q, want %q", id, got, want)
		}
		if got := in.get(AcksTopic(id)); !slices.Equal(got, wantAcks) {
			t.Errorf("%s: acks %q, want %q", id, got, wantAcks)
		}
	}
	if n := d.maxConcurrentEvents(); n < 2 {
		t.Errorf("at most %d events handled at once: devices are handled one by one", n)
	}
}

func TestEmbeddedACL(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a", "dev-b": "pw-b", "dev-c": "pw-c"})
	e, logs := startEmbedded(t, d)

	a := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a"))
	inA := newInbox()
	if code := subscribe(t, a, "replenish/v1/dev-a/#", inA.handle); code != 1 {
		t.Fatalf("subscribing to its own topics: code %#x", code)
	}
	// Not on another device's topics, nor forging its own acks or
	// directives: dropped at QoS 0.
	for _, topic := range []string{EventsTopic("dev-b"), StatusTopic("dev-b"), AcksTopic("dev-a"), DirectivesTopic("dev-a"), "other"} {
		publish(t, a, topic, 0, event("forged"))
	}
	// The broker handles a connection's packets in order: by the time
	// its own event is acked, the others went wherever they would.
	publish(t, a, EventsTopic("dev-a"), 1, event("real"))
	waitFor(t, "the ack", func() bool { return inA.count() > 0 })
	if got := inA.get(AcksTopic("dev-a")); !slices.Equal(got, []string{ackOf("real")}) {
		t.Errorf("dev-a acks = %q, want just %q", got, ackOf("real"))
	}
	if inA.count() != 1 {
		t.Errorf("dev-a received %v, want just the ack", inA.all())
	}
	if got := d.eventsOf("dev-b"); len(got) > 0 {
		t.Errorf("dev-b got events %q from dev-a", got)
	}
	if got := d.statusesOf("dev-b"); len(got) > 0 {
		t.Errorf("dev-b got statuses %v from dev-a", got)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="mqtt: publish refused" device=dev-a topic=replenish/v1/dev-b/events`) {
		t.Errorf("refused publish not logged:\n%s", logs)
	}

	// At QoS 1, an MQTT 3.1.1 client can only be disconnected.
	onLost, lost := lostSignal()
	a2 := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a").SetConnectionLostHandler(onLost))
	a2.Publish(EventsTopic("dev-b"), 1, false, event("forged-qos1"))
	waitLost(t, lost)
	if got := d.eventsOf("dev-b"); len(got) > 0 {
		t.Errorf("dev-b got events %q from dev-a", got)
	}

	// dev-c's messages all go to its default handler, once each: paho
	// would hand a message to the handler of every filter that matches,
	// refused or not.
	inC := newInbox()
	c := mustConnect(t, deviceOptions(e.Addr(), "dev-c", "pw-c").SetDefaultPublishHandler(inC.handle))
	for _, filter := range []string{
		AcksTopic("dev-b"), DirectivesTopic("dev-b"), "replenish/v1/dev-b/#",
		"replenish/v1/+/acks", "replenish/v1/#", "#", "$share/g/replenish/v1/dev-b/acks",
		EventsTopic("dev-c"), StatusTopic("dev-c"),
	} {
		if code := subscribe(t, c, filter, nil); code != 0x80 {
			t.Errorf("subscribing to %s: code %#x, want 0x80", filter, code)
		}
	}
	if code := subscribe(t, c, "replenish/v1/dev-c/+", nil); code != 1 {
		t.Errorf("subscribing to replenish/v1/dev-c/+: code %#x, want 1", code)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="mqtt: subscription refused" device=dev-c topic=replenish/v1/dev-b/acks`) {
		t.Errorf("refused subscription not logged:\n%s", logs)
	}

	b := mustConnect(t, deviceOptions(e.Addr(), "dev-b", "pw-b"))
	inB := newInbox()
	subscribe(t, b, AcksTopic("dev-b"), inB.handle)
	publish(t, b, EventsTopic("dev-b"), 1, event("b-1"))
	waitFor(t, "dev-b's ack", func() bool { return inB.count() > 0 })
	// A directive queued to dev-c after dev-b's ack: had dev-c been
	// subscribed to that ack, it would get it first.
	if err := e.Directive("dev-c", []byte("d-1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dev-c's directive", func() bool { return inC.count() > 0 })
	if got := inC.get(DirectivesTopic("dev-c")); !slices.Equal(got, []string{"d-1"}) || inC.count() != 1 {
		t.Errorf("dev-c received %v, want just its directive", inC.all())
	}
}

func TestEmbeddedStatus(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a", "dev-b": "pw-b"})
	e, _ := startEmbedded(t, d)

	conns := make(chan net.Conn, 1)
	a := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a").
		SetWill(StatusTopic("dev-a"), "offline", 1, false).
		SetCustomOpenConnectionFn(func(uri *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c, err := net.Dial("tcp", uri.Host)
			if err == nil {
				conns <- c
			}
			return c, err
		}))
	publish(t, a, StatusTopic("dev-a"), 1, []byte("maybe"))
	if err := waitToken(t, a.Publish(StatusTopic("dev-a"), 1, true, []byte("  ONLINE "))); err != nil {
		t.Fatal(err)
	}
	// Statuses are recorded before the PUBACK too.
	if got := d.statusesOf("dev-a"); !slices.Equal(got, []bool{true}) {
		t.Errorf("statuses = %v, want [true]", got)
	}
	if got := e.server.Topics.Messages("#"); len(got) > 0 {
		t.Errorf("the broker retained %v", got)
	}
	// The connection breaks: the will says offline.
	(<-conns).Close()
	waitFor(t, "offline", func() bool { return len(d.statusesOf("dev-a")) == 2 })
	if got := d.statusesOf("dev-a"); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("statuses = %v, want [true false]", got)
	}

	// A clean DISCONNECT sends no will, and leaves the status.
	b := mustConnect(t, deviceOptions(e.Addr(), "dev-b", "pw-b").SetWill(StatusTopic("dev-b"), "offline", 1, false))
	publish(t, b, StatusTopic("dev-b"), 1, []byte("online"))
	b.Disconnect(100)
	waitFor(t, "the session's end", func() bool {
		_, ok := e.server.Clients.Get("dev-b")
		return !ok
	})
	if got := d.statusesOf("dev-b"); !slices.Equal(got, []bool{true}) {
		t.Errorf("statuses after a clean disconnect = %v, want [true]", got)
	}
}

// A device that reconnects takes its old session over, whose will says
// offline: however slow recording that is, the device ends online.
func TestEmbeddedTakeoverKeepsOnline(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	d.offlineDelay = 200 * time.Millisecond
	e, _ := startEmbedded(t, d)
	opts := func() *paho.ClientOptions {
		return deviceOptions(e.Addr(), "dev-a", "pw-a").SetWill(StatusTopic("dev-a"), "offline", 1, false)
	}
	first := mustConnect(t, opts())
	publish(t, first, StatusTopic("dev-a"), 1, []byte("online"))
	second := mustConnect(t, opts())
	publish(t, second, StatusTopic("dev-a"), 1, []byte("online"))
	// The first connection's goroutine, which published its will, is done.
	waitFor(t, "one connection", func() bool { return atomic.LoadInt64(&e.server.Info.ClientsConnected) == 1 })
	got := d.statusesOf("dev-a")
	if len(got) == 0 || !got[len(got)-1] {
		t.Errorf("statuses = %v, want online last", got)
	}
}

// The will of a connection that another has taken over, published only
// after the new one said online, is skipped.
func TestEmbeddedStaleStatusSkipped(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	e, _ := startEmbedded(t, d)
	old := e.server.NewClient(nil, "test", "dev-a", false)
	current := e.server.NewClient(nil, "test", "dev-a", false)
	e.server.Clients.Add(current)
	e.status(current, "dev-a", []byte("online"))
	e.status(old, "dev-a", []byte("offline"))
	if got := d.statusesOf("dev-a"); !slices.Equal(got, []bool{true}) {
		t.Errorf("statuses = %v, want [true]", got)
	}
	e.status(current, "dev-a", []byte("offline"))
	if got := d.statusesOf("dev-a"); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("statuses = %v, want [true false]", got)
	}
}

func TestEmbeddedDirective(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	e, _ := startEmbedded(t, d)
	c := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a"))
	in := newInbox()
	subscribe(t, c, DirectivesTopic("dev-a"), in.handle)
	if err := e.Directive("dev-a", []byte(`{"directive":"replenish"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the directive", func() bool { return in.count() > 0 })
	if got := in.get(DirectivesTopic("dev-a")); !slices.Equal(got, []string{`{"directive":"replenish"}`}) {
		t.Errorf("directives = %q", got)
	}
	for _, bad := range []string{"", "a/b", "+", "#"} {
		if err := e.Directive(bad, []byte("x")); err == nil {
			t.Errorf("Directive(%q) succeeded", bad)
		}
	}
}

func TestEmbeddedDisconnect(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a", "dev-b": "pw-b"})
	e, _ := startEmbedded(t, d)
	onLost, lost := lostSignal()
	a := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a").
		SetWill(StatusTopic("dev-a"), "offline", 1, false).SetConnectionLostHandler(onLost))
	publish(t, a, StatusTopic("dev-a"), 1, []byte("online"))

	e.Disconnect("dev-a")
	waitLost(t, lost)
	waitFor(t, "offline", func() bool { return slices.Equal(d.statusesOf("dev-a"), []bool{true, false}) })

	// Neither an unknown device nor Replenish's own client.
	e.Disconnect("dev-x")
	e.Disconnect(mochi.InlineClientId)
	b := mustConnect(t, deviceOptions(e.Addr(), "dev-b", "pw-b"))
	in := newInbox()
	subscribe(t, b, DirectivesTopic("dev-b"), in.handle)
	if err := e.Directive("dev-b", []byte("d-1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the directive", func() bool { return in.count() > 0 })
}

func TestEmbeddedPacketSize(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	e, _ := startEmbedded(t, d)
	onLost, lost := lostSignal()
	c := mustConnect(t, deviceOptions(e.Addr(), "dev-a", "pw-a").SetConnectionLostHandler(onLost))
	padded := func(id string, size int) []byte {
		p := event(id)
		return append(p[:len(p)-1], []byte(`,"pad":"`+strings.Repeat("x", size-len(p)-9)+`"}`)...)
	}
	publish(t, c, EventsTopic("dev-a"), 1, padded("fits", 60<<10))
	c.Publish(EventsTopic("dev-a"), 1, false, padded("too-large", 70<<10))
	waitLost(t, lost)
	if got := d.eventsOf("dev-a"); !slices.Equal(got, []string{"fits"}) {
		t.Errorf("events = %q, want [fits]", got)
	}
}

func TestEmbeddedKeepalive(t *testing.T) {
	d := newTestDevices(map[string]string{"dev-a": "pw-a", "dev-b": "pw-b"})
	e, _ := startEmbedded(t, d)
	for id, asked := range map[string]time.Duration{"dev-a": 0, "dev-b": 60 * time.Second} {
		mustConnect(t, deviceOptions(e.Addr(), id, d.passwords[id]).SetKeepAlive(asked))
		cl, ok := e.server.Clients.Get(id)
		if !ok {
			t.Fatalf("%s: no session", id)
		}
		want := uint16(asked.Seconds())
		if asked == 0 {
			want = maxKeepalive
		}
		if cl.State.Keepalive != want {
			t.Errorf("%s asked for %s: keepalive %d s, want %d s", id, asked, cl.State.Keepalive, want)
		}
	}
}

func TestEmbeddedConfig(t *testing.T) {
	log, _ := newTestLog()
	d := newTestDevices(nil)
	if _, err := NewEmbedded(EmbeddedConfig{}, d, log); err == nil {
		t.Error("no address accepted")
	}
	if _, err := NewEmbedded(EmbeddedConfig{Listen: "127.0.0.1:0", TLSCert: "cert.pem"}, d, log); err == nil {
		t.Error("a certificate without a key accepted")
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e, err := NewEmbedded(EmbeddedConfig{Listen: busy.Addr().String()}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.Start(); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("Start on an address in use: %v", err)
	}
}

func TestEmbeddedTLS(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t)
	d := newTestDevices(map[string]string{"dev-a": "pw-a"})
	log, _ := newTestLog()
	e, err := NewEmbedded(EmbeddedConfig{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile}, d, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	c := mustConnect(t, paho.NewClientOptions().AddBroker("ssl://"+e.Addr()).
		SetClientID("dev-a").SetUsername("dev-a").SetPassword("pw-a").SetAutoReconnect(false).
		SetTLSConfig(&tls.Config{RootCAs: roots}))
	in := newInbox()
	subscribe(t, c, AcksTopic("dev-a"), in.handle)
	publish(t, c, EventsTopic("dev-a"), 1, event("m-1"))
	waitFor(t, "the ack", func() bool { return in.count() > 0 })
}

// selfSigned writes a certificate for 127.0.0.1 and its key to PEM
// files, and returns them with a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}
