package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"replenish"
	"replenish/devices"
	"replenish/gateway"
	"replenish/mqtt"
)

// Kit is a simulated CONNECT_KIT device: a Device that talks to Replenish
// itself over MQTT, with its own credentials, rather than through a
// vendor's cloud. It publishes its reports on its events topic and waits
// for each one's ack, sending it again (same message ID) when none comes;
// it answers ReportState directives with a StateReport and keeps the
// SetLowSupply notices it gets, as its display would.
type Kit struct {
	*Device
	Password string
	// AckTimeout is how long it waits for an ack before sending again;
	// Attempts is how many times it sends one event at most.
	AckTimeout time.Duration
	Attempts   int

	client paho.Client
	stats  *Stats

	mu      sync.Mutex
	pending map[string]chan devices.Ack // by message ID
	notices []LowSupply
}

// LowSupply is a SetLowSupply notice a kit received.
type LowSupply = gateway.LowSupplyPayload

// NewKit returns a kit for device d with its MQTT password; st counts
// what it sends (nil: nothing is counted).
func NewKit(d *Device, password string, st *Stats) *Kit {
	return &Kit{Device: d, Password: password, AckTimeout: 5 * time.Second, Attempts: 5, stats: st,
		pending: map[string]chan devices.Ack{}}
}

// Connect signs the kit in at broker (tcp://host:port), with its last
// will, subscribes to its acks and directives, and says it is online.
func (k *Kit) Connect(ctx context.Context, broker string) error {
	id := k.EndpointID
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetUsername(id).SetPassword(k.Password).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(false).SetOrderMatters(false).
		SetConnectTimeout(10*time.Second).SetMaxReconnectInterval(2*time.Second).SetWill(mqtt.StatusTopic(id), "offline", 1, false)
	o.SetOnConnectHandler(func(c paho.Client) {
		// Subscribed again on every reconnection: the session is clean.
		c.SubscribeMultiple(map[string]byte{mqtt.AcksTopic(id): 1, mqtt.DirectivesTopic(id): 1}, k.receive)
		c.Publish(mqtt.StatusTopic(id), 1, false, "online")
	})
	k.client = paho.NewClient(o)
	t := k.client.Connect()
	select {
	case <-t.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("kit %s: connecting to %s: %w", id, broker, err)
	}
	return nil
}

// Close says goodbye cleanly: no last will is sent.
func (k *Kit) Close() {
	if k.client != nil {
		k.client.Disconnect(250)
	}
}

// Notices returns the low-supply notices the kit received.
func (k *Kit) Notices() []LowSupply {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]LowSupply(nil), k.notices...)
}

// receive handles what Replenish sends the kit: acks and directives.
func (k *Kit) receive(_ paho.Client, m paho.Message) {
	_, kind, _ := mqtt.ParseTopic(m.Topic())
	switch kind {
	case "acks":
		var a devices.Ack
		if json.Unmarshal(m.Payload(), &a) != nil {
			return
		}
		k.mu.Lock()
		ch := k.pending[a.MessageID]
		k.mu.Unlock()
		if ch != nil {
			select {
			case ch <- a:
			default: // an ack of a resent event already answered
			}
		}
	case "directives":
		var msg struct {
			Directive struct {
				Header  gateway.Header  `json:"header"`
				Payload json.RawMessage `json:"payload"`
			} `json:"directive"`
		}
		if json.Unmarshal(m.Payload(), &msg) != nil {
			return
		}
		switch h := msg.Directive.Header; h.Name {
		case "ReportState":
			go k.answerState(h.CorrelationToken)
		case gateway.SetLowSupply:
			var n LowSupply
			if json.Unmarshal(msg.Directive.Payload, &n) == nil {
				k.mu.Lock()
				k.notices = append(k.notices, n)
				k.mu.Unlock()
			}
		}
	}
}

// answerState sends the StateReport that answers a ReportState.
func (k *Kit) answerState(correlation string) {
	m, ok := k.stateReport(correlation, replenish.NewUUID(), time.Now())
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(k.Attempts)*k.AckTimeout)
	defer cancel()
	k.Send(ctx, m)
	if k.stats != nil {
		k.stats.update(func(s *Summary) { s.StateReports++ })
	}
}

// stateReport is a StateReport with the kit's levels in its context.
func (k *Kit) stateReport(correlation, messageID string, at time.Time) (message, bool) {
	m, ok := k.levelReport("", messageID, at)
	if !ok {
		return m, false
	}
	var msg map[string]map[string]any
	json.Unmarshal(m.body, &msg)
	change := msg["event"]["payload"].(map[string]any)["change"].(map[string]any)
	msg["event"]["header"] = gateway.Header{Namespace: "Alexa", Name: "StateReport", PayloadVersion: "3",
		MessageID: messageID, CorrelationToken: correlation}
	msg["event"]["payload"] = map[string]any{}
	msg["context"] = map[string]any{"properties": change["properties"]}
	m.name = "StateReport"
	m.body, _ = json.Marshal(msg)
	return m, true
}

// errNoAck is a delivery that got no ack in all its attempts.
var errNoAck = errors.New("no ack")

// Publish sends body, any event at all, as Send does, and returns its ack.
func (k *Kit) Publish(ctx context.Context, body []byte) (devices.Ack, error) {
	return k.Send(ctx, message{name: "event", body: body})
}

// Connected reports whether the kit's session is up.
func (k *Kit) Connected() bool { return k.client != nil && k.client.IsConnectionOpen() }

// Send publishes one event and waits for its ack, sending it again with
// the same message ID while none comes, up to Attempts times; a 429 or
// 503 ack is waited out and sent again too. It returns the last ack, and
// an error unless it is 202.
func (k *Kit) Send(ctx context.Context, m message) (devices.Ack, error) {
	id := messageIDOf(m.body)
	ch := make(chan devices.Ack, 1)
	k.mu.Lock()
	k.pending[id] = ch
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		delete(k.pending, id)
		k.mu.Unlock()
	}()
	began := time.Now()
	topic := mqtt.EventsTopic(k.EndpointID)
	for attempt := 1; attempt <= k.Attempts; attempt++ {
		if attempt > 1 && k.stats != nil {
			k.stats.update(func(s *Summary) { s.Resent++ })
		}
		k.client.Publish(topic, 1, false, m.body)
		select {
		case a := <-ch:
			if (a.Status == 429 || a.Status == 503) && attempt < k.Attempts {
				time.Sleep(time.Second)
				continue
			}
			if k.stats != nil {
				k.stats.delivered(m, false, a.Status, a.Code, time.Since(began))
			}
			var err error
			if a.Status != 202 {
				err = fmt.Errorf("%s %s: %d %s: %s", k.EndpointID, m.name, a.Status, a.Code, a.Description)
			}
			return a, err
		case <-time.After(k.AckTimeout):
		case <-ctx.Done():
			if k.stats != nil {
				k.stats.update(func(s *Summary) { s.Interrupted++ })
			}
			return devices.Ack{}, ctx.Err()
		}
	}
	if k.stats != nil {
		k.stats.delivered(m, false, 0, "", time.Since(began))
	}
	return devices.Ack{}, fmt.Errorf("%s %s: %w after %d attempts", k.EndpointID, m.name, errNoAck, k.Attempts)
}

// Day is one simulated day of the kit: use (unless it is the first day),
// then its reports, each sent until acked.
func (k *Kit) Day(ctx context.Context, use bool) error {
	if use {
		k.step(1)
	}
	var errs []error
	for _, m := range k.messages("", time.Now(), replenish.NewUUID) {
		if _, err := k.Send(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Report sends the kit's level report at time at, with messageID, until
// acked: a test or the demo sends a reading of its choice.
func (k *Kit) Report(ctx context.Context, messageID string, at time.Time) (int, error) {
	m, ok := k.levelReport("", messageID, at)
	if !ok {
		return 0, fmt.Errorf("kit %s has no level sensor", k.EndpointID)
	}
	a, err := k.Send(ctx, m)
	return a.Status, err
}

// messageIDOf reads an event's message ID.
func messageIDOf(body []byte) string {
	var m struct {
		Event struct {
			Header struct{ MessageID string } `json:"header"`
		} `json:"event"`
	}
	json.Unmarshal(body, &m)
	return strings.TrimSpace(m.Event.Header.MessageID)
}

// KitOf is kind k as a CONNECT_KIT model: its own model ID, and each
// slot's sensor instance its slot ID, as a claimed device's are.
func KitOf(k Kind) Kind {
	k.ConnectKit = true
	k.Name += "-kit"
	k.ModelID += "-kit"
	k.ModelName += " (Connect Kit)"
	k.Slots = slices.Clone(k.Slots)
	for i := range k.Slots {
		k.Slots[i].Instance = k.Slots[i].SlotID
	}
	return k
}

// ProvisionKits has the vendor provision devices of its CONNECT_KIT model
// with these serial numbers, and returns their credentials and codes.
func ProvisionKits(ctx context.Context, c *Client, v *Vendor, modelID string, serials []string) ([]devices.Provisioned, error) {
	var out struct{ Devices []devices.Provisioned }
	for start := 0; start < len(serials); start += devices.MaxProvision {
		batch := serials[start:min(start+devices.MaxProvision, len(serials))]
		var got struct{ Devices []devices.Provisioned }
		if err := c.Do(ctx, "POST", "/api/v1/models/"+modelID+"/devices", v.APIKey, map[string]any{"devices": batch}, &got); err != nil {
			return nil, err
		}
		out.Devices = append(out.Devices, got.Devices...)
	}
	return out.Devices, nil
}

// ClaimKit has a customer claim a device with its code, naming it. Until
// the model is certified, only its test accounts can (TestAccount).
func ClaimKit(ctx context.Context, c *Client, cu *Customer, code, name string) error {
	return c.Do(ctx, "POST", "/api/v1/devices/claim", cu.APIKey, map[string]string{"claimCode": code, "friendlyName": name}, nil)
}

// TestAccount has the vendor make a customer a test account of its model
// in marketplace mp.
func TestAccount(ctx context.Context, c *Client, v *Vendor, modelID, mp string, cu *Customer) error {
	return c.Do(ctx, "PUT", "/api/v1/models/"+modelID+"/marketplaces/"+mp+"/test-accounts/"+cu.CustomerID, v.APIKey, nil, nil)
}
