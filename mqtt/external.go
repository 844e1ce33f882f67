package mqtt

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"replenish"
)

// operationTimeout bounds each exchange with the external broker.
const operationTimeout = 15 * time.Second

// ExternalConfig configures Replenish as a client of an existing broker.
type ExternalConfig struct {
	// URL is the broker's address, with the user name and password if it
	// wants them: tcp:// or mqtt:// (plain), ssl:// or mqtts:// (TLS), as
	// in mqtts://replenish:secret@broker.example:8883.
	URL string
	// ClientID is this instance's client ID, which no other client may
	// use; replenish-<random> if empty.
	ClientID string
	// Group is the shared-subscription group of the Replenish instances
	// that split the devices' messages between them; "replenish" if empty.
	Group string
}

// External is Replenish as a client of an existing broker (such as
// Mosquitto), which devices connect to and which authenticates them and
// keeps each to its own topics: the device ID is taken from the topic.
//
// The instances of a Group share the subscriptions to the events and
// status topics, so each message goes to one of them. Messages are
// handled concurrently, an event's PUBACK sent once it is handled (that
// is stored); one device's events may be handled out of order, as they
// may be split between instances anyway.
type External struct {
	client  paho.Client
	broker  string // the URL without the password, for logs and errors
	group   string
	devices Devices
	log     *slog.Logger

	// subscribed takes the outcome of the subscriptions after the first
	// connection, for Start.
	subscribed chan error

	// ctx is for the calls to devices, cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool           // no more messages are handled
	running sync.WaitGroup // the messages being handled
}

var _ Transport = (*External)(nil)

// NewExternal prepares a client of the broker at cfg.URL; Start connects.
func NewExternal(cfg ExternalConfig, devices Devices, log *slog.Logger) (*External, error) {
	b, problem := replenish.ParseBrokerURL(cfg.URL)
	if problem != "" {
		return nil, fmt.Errorf("mqtt: broker URL: %s", problem)
	}
	id := cfg.ClientID
	if id == "" {
		r := make([]byte, 6)
		rand.Read(r)
		id = "replenish-" + hex.EncodeToString(r)
	}
	x := &External{
		broker:     b.MaskedURL(),
		group:      cfg.Group,
		devices:    devices,
		log:        log,
		subscribed: make(chan error, 1),
	}
	if x.group == "" {
		x.group = "replenish"
	}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	opts := paho.NewClientOptions().AddBroker(b.URL).SetClientID(id).
		SetUsername(b.Username).SetPassword(b.Password).
		SetTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}). // for mqtts
		SetCleanSession(true).SetOrderMatters(false).
		SetKeepAlive(30 * time.Second).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		SetAutoReconnect(true).SetMaxReconnectInterval(30 * time.Second).
		SetOnConnectHandler(x.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			x.log.Warn("mqtt: connection to the broker lost, reconnecting", "broker", x.broker, "err", err)
		})
	x.client = paho.NewClient(opts)
	return x, nil
}

// Start connects to the broker and subscribes. Once started, the client
// reconnects by itself, and subscribes again.
func (x *External) Start() error {
	if err := wait(x.client.Connect()); err != nil {
		return fmt.Errorf("mqtt: connecting to %s: %w", x.broker, err)
	}
	if err := <-x.subscribed; err != nil {
		x.client.Disconnect(0)
		return fmt.Errorf("mqtt: subscribing at %s: %w", x.broker, err)
	}
	return nil
}

// Close disconnects, and waits for the messages being handled.
func (x *External) Close() error {
	x.client.Disconnect(250)
	x.mu.Lock()
	x.closing = true
	x.mu.Unlock()
	x.running.Wait()
	x.cancel()
	return nil
}

// Directive publishes payload on the device's directives topic (QoS 1,
// not retained).
func (x *External) Directive(deviceID string, payload []byte) error {
	if !validDeviceID(deviceID) {
		return fmt.Errorf("mqtt: directive: %q is not a device ID", deviceID)
	}
	if err := wait(x.client.Publish(DirectivesTopic(deviceID), 1, false, payload)); err != nil {
		return fmt.Errorf("mqtt: directive to %s: %w", deviceID, err)
	}
	return nil
}

// Disconnect does nothing: the operator's broker owns the sessions, and
// refuses a revoked device by its own authentication.
func (x *External) Disconnect(string) {}

// onConnect subscribes, after each connection: the session is clean.
func (x *External) onConnect(c paho.Client) {
	err := x.subscribe(c)
	if err != nil {
		x.log.Error("mqtt: subscribing", "broker", x.broker, "err", err)
	}
	select {
	case x.subscribed <- err:
	default: // not the first connection
	}
}

// subscribe shares the subscriptions to every device's events and
// status with the instances of the group.
func (x *External) subscribe(c paho.Client) error {
	share := "$share/" + x.group + "/" + topicRoot + "+/"
	t := c.SubscribeMultiple(map[string]byte{share + kindEvents: 1, share + kindStatus: 1}, x.handle)
	if err := wait(t); err != nil {
		return err
	}
	for filter, code := range t.(*paho.SubscribeToken).Result() {
		if code > 2 {
			return fmt.Errorf("the broker refused %s (code %#x)", filter, code)
		}
	}
	return nil
}

// handle handles an event or a status, in a goroutine of its own.
func (x *External) handle(_ paho.Client, m paho.Message) {
	x.mu.Lock()
	if x.closing {
		x.mu.Unlock()
		return
	}
	x.running.Add(1)
	x.mu.Unlock()
	defer x.running.Done()

	deviceID, kind, ok := ParseTopic(m.Topic())
	switch {
	case !ok:
		x.log.Warn("mqtt: message on an unexpected topic", "topic", m.Topic())
	case kind == kindEvents:
		ack := x.devices.Event(x.ctx, deviceID, m.Payload())
		if ack == nil {
			return
		}
		if err := wait(x.client.Publish(AcksTopic(deviceID), 1, false, ack)); err != nil {
			x.log.Error("mqtt: publishing an ack", "device", deviceID, "err", err)
		}
	case kind == kindStatus:
		reportStatus(x.ctx, x.devices, x.log, deviceID, m.Payload())
	}
}

// wait waits for an exchange with the broker, at most operationTimeout.
func wait(t paho.Token) error {
	if !t.WaitTimeout(operationTimeout) {
		return fmt.Errorf("no answer from the broker in %s", operationTimeout)
	}
	return t.Error()
}
