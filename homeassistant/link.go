package homeassistant

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"replenish"
	"replenish/customers"
	"replenish/storage"
)

// link is one customer's bridge in this instance: it connects to the
// customer's broker, publishes, takes commands, and on failure tries
// again after a pause that doubles.
type link struct {
	b          *Bridge
	customerID string
	pokes      chan struct{}
	cancel     context.CancelFunc
	gen        atomic.Int64
}

func (l *link) poke() {
	select {
	case l.pokes <- struct{}{}:
	default:
	}
}

func (l *link) generation() int64 { return l.gen.Load() }

// errLease ends a link whose lease another instance took.
var errLease = errors.New("the lease is another instance's")

// errDone ends a link whose bridge was turned off and whose entities are
// removed.
var errDone = errors.New("turned off")

func (l *link) run(ctx context.Context) {
	pause := l.b.set.RetryMin
	for ctx.Err() == nil {
		h, err := l.read(ctx)
		if err != nil {
			l.b.log.Error("home assistant: reading the bridge", "customer", l.customerID, "err", err)
		} else {
			l.gen.Store(h.Generation)
			if !h.Enabled && h.Status.State == replenish.BridgeOff {
				return
			}
			err = l.connect(ctx, h)
			switch {
			case ctx.Err() != nil, errors.Is(err, errLease), errors.Is(err, errDone):
				return
			case err == nil: // the settings changed: start over at once
				pause = l.b.set.RetryMin
				continue
			}
			if err := l.failed(ctx, h, err, pause); errors.Is(err, errLease) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		case <-l.pokes:
		}
		pause = min(2*pause, l.b.set.RetryMax)
	}
}

// read reads the customer's bridge.
func (l *link) read(ctx context.Context) (h replenish.HomeAssistant, err error) {
	err = l.b.store.Read(ctx, func(tx storage.Tx) (err error) {
		h, err = tx.HomeAssistant(ctx, l.customerID)
		return err
	})
	return h, err
}

// failed records that connecting to the broker of h, or serving it,
// failed with err, and that the next attempt comes after pause.
func (l *link) failed(ctx context.Context, h replenish.HomeAssistant, err error, pause time.Duration) error {
	next := l.b.now().Add(pause)
	broker := h.BrokerURL
	if h.Embedded {
		broker = "replenish's own"
	}
	l.b.log.Warn("home assistant: bridge failed", "customer", l.customerID, "broker", broker, "err", err,
		"retry_at", next)
	// What the failed connection published is in the database, not in h.
	if fresh, err := l.read(ctx); err == nil {
		h.Published = fresh.Published
	}
	state := replenish.BridgeRetrying
	if !h.Enabled {
		state = replenish.BridgeRemoving
	}
	return l.status(ctx, h, replenish.HomeAssistantStatus{State: state, Since: l.b.now(), LastError: err.Error(),
		NextAttemptAt: next})
}

// status records the bridge's status and what it published.
func (l *link) status(ctx context.Context, h replenish.HomeAssistant, st replenish.HomeAssistantStatus) error {
	h.Status = st
	err := l.b.store.Write(ctx, func(tx storage.Tx) error { return tx.SetHomeAssistantStatus(ctx, l.b.owner, h) })
	if replenish.ErrorCode(err) == replenish.EConflict {
		return errLease
	}
	if err != nil && ctx.Err() == nil {
		l.b.log.Error("home assistant: status", "customer", l.customerID, "err", err)
	}
	return err
}

// message is an MQTT message as a handler saw it.
type message struct {
	topic   string
	payload []byte
}

// connect connects to the broker of h and serves it until the settings
// change (nil), ctx ends, or the broker fails.
func (l *link) connect(ctx context.Context, h replenish.HomeAssistant) error {
	t := topicsOf(l.customerID, h.DiscoveryPrefix)
	lost := make(chan error, 1)
	msgs := make(chan message, 64)
	broker, err := l.broker(h)
	if err != nil {
		return err
	}
	opts, err := clientOptions(broker, l.customerID)
	if err != nil {
		return err
	}
	opts.SetWill(t.Availability(), "offline", 1, true)
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		select {
		case lost <- err:
		default:
		}
	})
	c := mqtt.NewClient(opts)
	if err := wait(c.Connect()); err != nil {
		return err
	}
	s := &conn{link: l, c: c, h: h, t: t, sent: map[string]string{}}
	defer s.close()
	if !h.Enabled {
		if err := s.remove(ctx, h.Published, true); err != nil {
			return err
		}
		s.dropAccount(ctx, h, true)
		s.h.Status = replenish.HomeAssistantStatus{State: replenish.BridgeOff, Since: l.b.now()}
		if err := s.record(ctx); err != nil {
			return err
		}
		return errDone
	}
	handle := func(_ mqtt.Client, m mqtt.Message) {
		select {
		case msgs <- message{topic: m.Topic(), payload: slices.Clone(m.Payload())}:
		case <-ctx.Done():
		}
	}
	if err := wait(c.SubscribeMultiple(map[string]byte{t.Status(): 1, t.Commands(): 1}, handle)); err != nil {
		return err
	}
	if err := s.publish(ctx, []Message{{Topic: t.Availability(), Payload: "online"}}); err != nil {
		return err
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	s.h.Status = replenish.HomeAssistantStatus{State: replenish.BridgeConnected, Since: l.b.now()}
	if err := s.record(ctx); err != nil {
		return err
	}
	tick := time.NewTicker(l.b.set.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-lost:
			return fmt.Errorf("connection lost: %w", err)
		case m := <-msgs:
			if m.topic == t.Status() {
				if strings.EqualFold(strings.TrimSpace(string(m.payload)), "online") {
					// Home Assistant (re)started: it may have lost what
					// it knew, so everything again.
					clear(s.sent)
				}
			} else {
				s.command(ctx, m)
			}
		case <-tick.C:
		case <-l.pokes:
		}
		changed, err := s.reread(ctx)
		if err != nil || changed {
			return err
		}
		if err := s.refresh(ctx); err != nil {
			return err
		}
	}
}

// dropAccount drops the connections of the account of h, on Replenish's
// own broker, which stopped working: Accounts refuses it at its next
// sign-in, but a connection keeps what it was allowed until then. After
// removing entities, it first gives the broker a second to deliver the
// empty configs, which a dropped connection could miss: Home Assistant
// would then keep the entities.
func (l *link) dropAccount(ctx context.Context, h replenish.HomeAssistant, removed bool) {
	if !h.Embedded || h.Account == "" || l.b.set.Own.Disconnect == nil {
		return
	}
	if removed {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	l.b.set.Own.Disconnect(h.Account)
}

// errNoOwnBroker fails a bridge on Replenish's own broker when this
// Replenish runs none (its operator moved devices to an external broker).
var errNoOwnBroker = errors.New("this Replenish runs no MQTT broker of its own: give the bridge the address of yours")

// broker is where the bridge of h publishes: the customer's broker, or
// Replenish's own with its service account.
func (l *link) broker(h replenish.HomeAssistant) (tlsBroker, error) {
	if !h.Embedded {
		return tlsBroker{Broker: h.Broker()}, nil
	}
	own := l.b.set.Own
	if own.URL == "" {
		return tlsBroker{}, errNoOwnBroker
	}
	// TLS checks the name Home Assistant uses, which the certificate is
	// for; the bridge connects to the address the broker listens on.
	u, _ := url.Parse(own.PublicURL)
	return tlsBroker{Broker: replenish.Broker{URL: own.URL, Username: own.Username, Password: own.Password},
		serverName: u.Hostname()}, nil
}

// tlsBroker is a broker with the name its TLS certificate has, when that
// is not its address's host.
type tlsBroker struct {
	replenish.Broker
	serverName string
}

// clientOptions are the MQTT client's options for broker b: its own
// reconnection off (the link retries, and records why), a clean start
// each time, and the client ID replenish-<customer>, which a second
// connection of the same bridge would take over.
func clientOptions(b tlsBroker, customerID string) (*mqtt.ClientOptions, error) {
	scheme, hostPort, _ := strings.Cut(b.URL, "://")
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", b.URL, err)
	}
	if b.serverName != "" {
		host = b.serverName
	}
	opts := mqtt.NewClientOptions().SetClientID("replenish-" + Slug(customerID)).
		SetUsername(b.Username).SetPassword(b.Password).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).SetKeepAlive(30 * time.Second).
		SetOrderMatters(false)
	switch scheme {
	case "mqtts":
		opts.AddBroker("ssl://" + hostPort)
		opts.SetTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
	default:
		opts.AddBroker("tcp://" + hostPort)
	}
	return opts, nil
}

// wait waits for an MQTT operation, at most 15 seconds.
func wait(t mqtt.Token) error {
	if !t.WaitTimeout(15 * time.Second) {
		return errors.New("the broker did not answer in 15 seconds")
	}
	return t.Error()
}

// conn is one connection of a link.
type conn struct {
	*link
	c mqtt.Client
	h replenish.HomeAssistant
	t Topics
	// sent is what each topic holds, as this connection last published it.
	sent map[string]string
	// slots are the customer's slots by the slugs of their command
	// topics: endpoint slug, slot slug.
	slots map[[2]string][2]string
}

// record writes the bridge's status and published topics, as s.h holds
// them.
func (s *conn) record(ctx context.Context) error { return s.status(ctx, s.h, s.h.Status) }

// close tells Home Assistant that Replenish is offline, and disconnects.
func (s *conn) close() {
	if s.c.IsConnectionOpen() {
		s.c.Publish(s.t.Availability(), 1, true, "offline").WaitTimeout(2 * time.Second)
	}
	s.c.Disconnect(250)
}

// publish publishes messages, retained, and waits for the broker.
func (s *conn) publish(ctx context.Context, ms []Message) error {
	tokens := make([]mqtt.Token, 0, len(ms))
	for _, m := range ms {
		tokens = append(tokens, s.c.Publish(m.Topic, 1, true, m.Payload))
	}
	for i, t := range tokens {
		if err := wait(t); err != nil {
			return fmt.Errorf("publish %s: %w", ms[i].Topic, err)
		}
		s.sent[ms[i].Topic] = ms[i].Payload
	}
	return ctx.Err()
}

// refresh publishes the configs and states that changed since this
// connection last published them, removes the entities of slots that
// are gone, and records the discovery topics.
func (s *conn) refresh(ctx context.Context) error {
	devices, err := s.b.devices(ctx, s.customerID)
	if err != nil {
		return err
	}
	configs, states := Messages(s.t, s.customerID, devices, s.b.origin(), s.b.set.BaseURL)
	s.slots = map[[2]string][2]string{}
	for _, d := range devices {
		for _, sl := range d.Endpoint.Slots {
			s.slots[[2]string{Slug(d.Endpoint.EndpointID), Slug(sl.SlotID)}] = [2]string{d.Endpoint.EndpointID, sl.SlotID}
		}
	}
	var out []Message
	current := map[string]bool{}
	for _, m := range append(configs, states...) {
		current[m.Topic] = true
		if sent, ok := s.sent[m.Topic]; !ok || sent != m.Payload {
			out = append(out, m)
		}
	}
	// Configs first: Home Assistant subscribes to a state topic once it
	// knows the entity, and the retained state reaches it then.
	topics := make([]string, 0, len(configs))
	for _, m := range configs {
		topics = append(topics, m.Topic)
	}
	var gone []string
	for _, topic := range s.h.Published {
		if !current[topic] {
			gone = append(gone, topic)
		}
	}
	// What may be on the broker is recorded before it is published, so
	// that turning the bridge off in between still removes it.
	if added := slices.DeleteFunc(slices.Clone(topics), func(t string) bool { return slices.Contains(s.h.Published, t) }); len(added) > 0 {
		s.h.Published = slices.Sorted(slices.Values(append(slices.Clone(s.h.Published), added...)))
		if err := s.record(ctx); err != nil {
			return err
		}
	}
	if err := s.publish(ctx, out); err != nil {
		return err
	}
	if err := s.remove(ctx, gone, false); err != nil {
		return err
	}
	slices.Sort(topics)
	if !slices.Equal(topics, s.h.Published) {
		s.h.Published = topics
		return s.record(ctx)
	}
	return nil
}

// remove empties the discovery topics given (Home Assistant then removes
// their entities), with the states of slots the customer no longer has;
// all empties every state of the customer's devices too.
func (s *conn) remove(ctx context.Context, configs []string, all bool) error {
	if len(configs) == 0 && !all {
		return nil
	}
	ms := make([]Message, 0, len(configs))
	for _, topic := range configs {
		ms = append(ms, Message{Topic: topic})
	}
	states := map[string]bool{}
	for topic := range s.sent {
		states[topic] = true
	}
	if all {
		devices, err := s.b.devices(ctx, s.customerID)
		if err != nil {
			return err
		}
		_, current := Messages(s.t, s.customerID, devices, s.b.origin(), s.b.set.BaseURL)
		for _, m := range current {
			states[m.Topic] = true
		}
	}
	for topic := range states {
		rest, ok := strings.CutPrefix(topic, s.t.Base+"/")
		parts := strings.Split(rest, "/")
		if !ok || len(parts) < 3 {
			continue // the availability, and configs
		}
		if _, current := s.slots[[2]string{parts[0], parts[1]}]; all || !current {
			ms = append(ms, Message{Topic: topic})
		}
	}
	if err := s.publish(ctx, ms); err != nil {
		return err
	}
	for _, m := range ms {
		delete(s.sent, m.Topic)
	}
	s.h.Published = slices.DeleteFunc(slices.Clone(s.h.Published), func(t string) bool { return slices.Contains(configs, t) })
	return s.record(ctx)
}

// reread reads the settings again; changed reports that they changed in a
// way that needs a new connection (another broker or prefix), after
// removing the entities this connection published. Turned off, the
// bridge removes them and is done (errDone).
func (s *conn) reread(ctx context.Context) (changed bool, err error) {
	var h replenish.HomeAssistant
	err = s.b.store.Read(ctx, func(tx storage.Tx) (err error) {
		h, err = tx.HomeAssistant(ctx, s.customerID)
		return err
	})
	if err != nil || h.Generation == s.h.Generation {
		return false, err
	}
	s.gen.Store(h.Generation)
	if h.Enabled && h.Embedded == s.h.Embedded && h.Broker() == s.h.Broker() && h.DiscoveryPrefix == s.h.DiscoveryPrefix {
		// Turned off and on again meanwhile, or a new password: the same
		// connection serves, and Home Assistant signs in again with the
		// new password.
		if !bytes.Equal(h.AccountHash, s.h.AccountHash) {
			s.dropAccount(ctx, s.h, false)
		}
		h.Published, h.Status = s.h.Published, s.h.Status
		s.h = h
		return false, s.record(ctx)
	}
	// Off, or elsewhere: the entities leave this broker first, and Home
	// Assistant sees them go before its account stops working.
	if err := s.remove(ctx, s.h.Published, true); err != nil {
		return true, err
	}
	s.dropAccount(ctx, s.h, true)
	if h.Enabled {
		return true, nil
	}
	h.Published = s.h.Published
	s.h = h
	s.h.Status = replenish.HomeAssistantStatus{State: replenish.BridgeOff, Since: s.b.now()}
	if err := s.record(ctx); err != nil {
		return true, err
	}
	return true, errDone
}

// command carries out a command from Home Assistant through the use case
// the API uses, as the customer; one it refuses is logged and changes
// nothing.
func (s *conn) command(ctx context.Context, m message) {
	payload := strings.ToUpper(strings.TrimSpace(string(m.payload)))
	parts := strings.Split(strings.TrimPrefix(m.topic, s.t.Base+"/"), "/")
	err := func() error {
		if len(parts) != 4 {
			return replenish.Errorf(replenish.EInvalid, "not a command topic")
		}
		ids, ok := s.slots[[2]string{parts[0], parts[1]}]
		if !ok {
			return replenish.Errorf(replenish.ENotFound, "no device or slot of this customer has these topics")
		}
		ep, slot := ids[0], ids[1]
		switch {
		case parts[2] == objOrderNow && payload == Press:
			o, err := s.b.orders.OrderNow(ctx, s.customerID, ep, slot)
			if err == nil {
				s.b.log.Info("home assistant: order now", "customer", s.customerID, "endpoint", ep, "slot", slot, "order", o.OrderID)
			}
			return err
		case parts[2] == objReplaced && payload == Press:
			_, err := s.b.customers.SetInstalled(ctx, s.customerID, ep, slot,
				customers.Installed{InstalledAt: s.b.now().UTC().Format(time.RFC3339)})
			return err
		case parts[2] == objSmart && (payload == "ON" || payload == "OFF"):
			mode := replenish.ModeNotify
			if payload == "ON" {
				mode = replenish.ModeAuto
			}
			_, err := s.b.customers.SetSubscription(ctx, s.customerID, ep, slot, customers.Subscription{Mode: mode})
			return err
		case parts[2] == objOrderNow, parts[2] == objReplaced:
			return replenish.FieldError("payload", "a button sends "+Press)
		case parts[2] == objSmart:
			return replenish.FieldError("payload", "the switch sends ON or OFF")
		}
		return replenish.Errorf(replenish.ENotFound, "no command %q", parts[2])
	}()
	if err != nil {
		shown := string(m.payload)
		if len(shown) > 64 {
			shown = shown[:64] + "…"
		}
		s.b.log.Warn("home assistant: command refused", "customer", s.customerID, "topic", m.topic, "payload", shown,
			"code", replenish.ErrorCode(err), "err", err)
	}
}
