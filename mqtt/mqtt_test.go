package mqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestTopics(t *testing.T) {
	for _, c := range []struct {
		topic, device, kind string
	}{
		{EventsTopic("dev-1"), "dev-1", "events"},
		{AcksTopic("dev-1"), "dev-1", "acks"},
		{DirectivesTopic("dev-1"), "dev-1", "directives"},
		{StatusTopic("dev-1"), "dev-1", "status"},
		{"replenish/v1/dev-1/other", "", ""},
		{"replenish/v1/+/events", "", ""},
		{"replenish/v1/#", "", ""},
		{"replenish/v1//events", "", ""},
		{"replenish/v1/a/b/events", "", ""},
		{"replenish/v2/dev-1/events", "", ""},
		{"$share/g/replenish/v1/dev-1/events", "", ""},
	} {
		device, kind, ok := ParseTopic(c.topic)
		if device != c.device || kind != c.kind || ok != (c.kind != "") {
			t.Errorf("ParseTopic(%q) = %q, %q, %v; want %q, %q", c.topic, device, kind, ok, c.device, c.kind)
		}
	}
	if got := EventsTopic("d"); got != "replenish/v1/d/events" {
		t.Errorf("EventsTopic = %q", got)
	}
}

// testDevices is a Devices in memory: devices and their passwords, and
// what the transport handed it.
type testDevices struct {
	passwords    map[string]string
	delay        time.Duration // how long storing an event takes
	offlineDelay time.Duration // how long recording an offline status takes

	mu         sync.Mutex
	events     map[string][]string // the messageIds of each device's events, in the order stored
	statuses   map[string][]bool
	running    int // Event calls under way
	maxRunning int
}

func newTestDevices(passwords map[string]string) *testDevices {
	return &testDevices{passwords: passwords, events: map[string][]string{}, statuses: map[string][]bool{}}
}

func (d *testDevices) Authenticate(_ context.Context, deviceID, password string) bool {
	want, ok := d.passwords[deviceID]
	return ok && password == want
}

// Event stores the event and acks it with its messageId and status 202.
// It ignores the devices it does not know: another test run's, on the
// same broker.
func (d *testDevices) Event(_ context.Context, deviceID string, payload []byte) []byte {
	if _, ok := d.passwords[deviceID]; !ok {
		return nil
	}
	var e struct {
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil
	}
	d.mu.Lock()
	d.running++
	d.maxRunning = max(d.maxRunning, d.running)
	d.mu.Unlock()

	time.Sleep(d.delay) // the work of storing it

	d.mu.Lock()
	d.running--
	d.events[deviceID] = append(d.events[deviceID], e.MessageID)
	d.mu.Unlock()
	ack, err := json.Marshal(map[string]any{"messageId": e.MessageID, "status": 202})
	if err != nil {
		panic(err)
	}
	return ack
}

// Status records the status of a device it knows once its work is done.
func (d *testDevices) Status(_ context.Context, deviceID string, online bool) {
	if _, ok := d.passwords[deviceID]; !ok {
		return
	}
	if !online {
		time.Sleep(d.offlineDelay)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.statuses[deviceID] = append(d.statuses[deviceID], online)
}

func (d *testDevices) eventsOf(deviceID string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.events[deviceID])
}

func (d *testDevices) statusesOf(deviceID string) []bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.statuses[deviceID])
}

func (d *testDevices) maxConcurrentEvents() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxRunning
}

func (d *testDevices) eventCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, ids := range d.events {
		n += len(ids)
	}
	return n
}

// inbox collects the messages a client receives, by topic.
type inbox struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func newInbox() *inbox { return &inbox{msgs: map[string][]string{}} }

func (b *inbox) handle(_ paho.Client, m paho.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs[m.Topic()] = append(b.msgs[m.Topic()], string(m.Payload()))
}

func (b *inbox) get(topic string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.msgs[topic])
}

// all returns every message received, by topic.
func (b *inbox) all() map[string][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := map[string][]string{}
	for topic, ms := range b.msgs {
		m[topic] = slices.Clone(ms)
	}
	return m
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, ms := range b.msgs {
		n += len(ms)
	}
	return n
}

// waitFor waits until cond holds, checking every few milliseconds, and
// fails the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logBuffer is a log that tests can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLog() (*slog.Logger, *logBuffer) {
	b := new(logBuffer)
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// event is an event payload with messageId id.
func event(id string) []byte { return []byte(`{"messageId":"` + id + `","type":"measurement"}`) }

// ackOf is the ack that testDevices returns for event(id).
func ackOf(id string) string { return `{"messageId":"` + id + `","status":202}` }

// waitToken waits for an MQTT exchange of a test client.
func waitToken(t *testing.T, tok paho.Token) error {
	t.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("no answer from the broker in 10 s")
	}
	return tok.Error()
}

// TestQuietConnectionEnds: the broker's nameless warnings (a connection
// that ended with an error) go out at DEBUG with a name, or not at all;
// its real warnings stay warnings.
func TestQuietConnectionEnds(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf bytes.Buffer
		log := slog.New(atLeast{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}), slog.LevelWarn})
		log.Warn("", "error", "EOF")
		log.Info("client connected")
		log.Warn("error processing packet", "client", "dev_x")
		got := buf.String()
		if !strings.Contains(got, `level=WARN msg="error processing packet"`) || strings.Contains(got, "client connected") {
			t.Errorf("at %v: %s", level, got)
		}
		ended := strings.Contains(got, `level=DEBUG msg="mqtt connection ended" error=EOF`)
		if ended != (level == slog.LevelDebug) || strings.Contains(got, `msg=""`) {
			t.Errorf("at %v, the nameless warning: %s", level, got)
		}
	}
}
