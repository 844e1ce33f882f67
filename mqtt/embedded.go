package mqtt

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"replenish"
)

// The embedded broker's limits.
const (
	maxPacketSize = 64 << 10
	// maxKeepalive (seconds) is the keepalive of a device that asks for
	// none or a longer one (AWS IoT's limit too): a connection silent for
	// 1.5 times as long is dropped and its will published, so a device
	// that vanished shows offline within half an hour at worst.
	maxKeepalive = 1200
	// maxSessionExpiry (seconds) bounds how long a session that is not
	// clean outlives its connection; mochi keeps it forever by default.
	maxSessionExpiry = 24 * 60 * 60
	// maxPendingWrites bounds the messages queued for one device. mochi
	// allocates the queue up front, 8192 by default: 64 KiB a device.
	maxPendingWrites = 256
)

// EmbeddedConfig configures the broker inside Replenish.
type EmbeddedConfig struct {
	Listen string // host:port, such as :1883 (or :8883 with TLS); port 0 picks one, see Addr
	// TLSCert and TLSKey are PEM files; when both are set, the listener
	// speaks TLS.
	TLSCert, TLSKey string
	// Accounts, if set, admits the clients that are not devices: those
	// whose user name starts with AccountPrefix.
	Accounts Accounts
}

// Accounts are the MQTT accounts of the embedded broker other than
// devices': customers' Home Assistant, each with a private topic tree.
type Accounts interface {
	// Account reports whether username may connect with password and,
	// if so, the topic filters (such as ha_x/# and replenish/x/#) it may
	// publish and subscribe to. It is asked at each connection: an
	// account that stops working keeps no connection it makes later.
	Account(ctx context.Context, username, password string) (topics []string, ok bool)
}

// AccountPrefix starts the user names of Accounts (Home Assistant's
// ha_<customer>); devices' IDs, their user names, start with dev_.
const AccountPrefix = "ha_"

// access is what a connection that is not a device's may do: everything
// (the service account), or the topics of its filters.
type access struct {
	user    string
	all     bool
	filters []string
}

// Embedded is an MQTT broker inside Replenish (mochi-mqtt) that devices
// connect to directly.
//
// A device's events are handled in the goroutine that reads its
// connection, before the broker acks the PUBLISH: devices are handled in
// parallel, each device's events in order, and a PUBACK means the event
// is stored.
type Embedded struct {
	server   *mochi.Server
	devices  Devices
	log      *slog.Logger
	listen   string
	tls      *tls.Config
	listener listeners.Listener // set by Start

	// ctx is for the calls to devices, cancelled by Close.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once

	// statusLocks serialize the statuses of each device (striped by
	// device ID), see status.
	statusLocks [64]sync.Mutex

	accounts Accounts
	// service is the account of Replenish's own clients (the Home
	// Assistant bridge), made at random for this process.
	service struct{ user, password string }
	// access holds, by connection (*mochi.Client), what the connections
	// that are not devices' may do; a device's has no entry.
	access sync.Map
}

var _ Transport = (*Embedded)(nil)

// NewEmbedded prepares a broker for devices; Start starts it.
func NewEmbedded(cfg EmbeddedConfig, devices Devices, log *slog.Logger) (*Embedded, error) {
	if cfg.Listen == "" {
		return nil, errors.New("mqtt: no address to listen on")
	}
	e := &Embedded{devices: devices, log: log, listen: cfg.Listen, accounts: cfg.Accounts}
	e.service.user, e.service.password = replenish.NewID("replenish_", 16), replenish.NewSecret("")
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, errors.New("mqtt: TLS needs both a certificate and a key")
		}
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("mqtt: TLS certificate: %w", err)
		}
		e.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = maxPacketSize
	caps.MaximumSessionExpiryInterval = maxSessionExpiry
	caps.MaximumClientWritesPending = maxPendingWrites
	e.server = mochi.New(&mochi.Options{
		Capabilities: caps,
		InlineClient: true, // for server.Publish
		// mochi logs every connection at INFO.
		Logger: slog.New(atLeast{log.Handler(), slog.LevelWarn}),
	})
	if err := e.server.AddHook(&hook{e: e}, nil); err != nil {
		return nil, fmt.Errorf("mqtt: adding the hook: %w", err)
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// Start listens (an address in use is an error here) and starts serving.
func (e *Embedded) Start() error {
	l := listeners.NewTCP(listeners.Config{Type: listeners.TypeTCP, ID: "devices", Address: e.listen, TLSConfig: e.tls})
	if err := e.server.AddListener(l); err != nil { // it listens
		return fmt.Errorf("mqtt: listen on %s: %w", e.listen, err)
	}
	e.listener = l
	if err := e.server.Serve(); err != nil {
		return fmt.Errorf("mqtt: serve: %w", err)
	}
	return nil
}

// Addr is the address the broker listens on, once started: with the
// port picked when Listen asked for port 0.
func (e *Embedded) Addr() string {
	if e.listener == nil {
		return ""
	}
	return e.listener.Address()
}

// Secure reports whether the broker speaks TLS.
func (e *Embedded) Secure() bool { return e.tls != nil }

// Service is the account of Replenish's own clients: it may publish and
// subscribe anywhere. Its credentials are random, made for this process,
// and never leave it.
func (e *Embedded) Service() (username, password string) { return e.service.user, e.service.password }

// DisconnectAccount drops the connections of an account (one that stopped
// working: its bridge turned off, a new password): they would otherwise
// keep what they were allowed until they reconnect.
func (e *Embedded) DisconnectAccount(username string) {
	for _, cl := range e.server.Clients.GetAll() {
		if !cl.Net.Inline && !cl.Closed() && string(cl.Properties.Username) == username {
			_ = e.server.DisconnectClient(cl, packets.ErrNotAuthorized)
		}
	}
}

// Close disconnects the devices, whose wills then show them offline,
// waits for the events being handled, and stops the broker.
func (e *Embedded) Close() error {
	var err error
	e.closeOnce.Do(func() {
		// mochi's Close finds the clients to drop under a read lock it
		// takes twice (Clients.GetByListener calls Len), which deadlocks
		// with a client leaving at that moment: its Delete waits between
		// the two. So the listener stops here without dropping anyone,
		// the clients are dropped from one snapshot, and Close then has
		// none to find on the listener.
		if e.listener != nil {
			e.listener.Close(func(string) {})
		}
		for id, cl := range e.server.Clients.GetAll() {
			if id != mochi.InlineClientId {
				_ = e.server.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
		err = e.server.Close() // waits for every connection's goroutine
		e.cancel()
	})
	return err
}

// Directive publishes payload on the device's directives topic (QoS 1,
// not retained). A device that is not connected misses it, unless its
// session is kept (not clean).
func (e *Embedded) Directive(deviceID string, payload []byte) error {
	if !validDeviceID(deviceID) {
		return fmt.Errorf("mqtt: directive: %q is not a device ID", deviceID)
	}
	if err := e.server.Publish(DirectivesTopic(deviceID), payload, false, 1); err != nil {
		return fmt.Errorf("mqtt: directive to %s: %w", deviceID, err)
	}
	return nil
}

// Disconnect drops the device's connection, if it has one: its will is
// published as for any connection lost.
func (e *Embedded) Disconnect(deviceID string) {
	if deviceID == mochi.InlineClientId { // Replenish's own client
		return
	}
	if cl, ok := e.server.Clients.Get(deviceID); ok {
		// It returns the code given, or a failure to tell a client
		// that is gone anyway.
		_ = e.server.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
}

// event hands an event to devices and publishes the ack it returns.
func (e *Embedded) event(deviceID string, payload []byte) {
	ack := e.devices.Event(e.ctx, deviceID, payload)
	if ack == nil {
		return
	}
	if err := e.server.Publish(AcksTopic(deviceID), ack, false, 1); err != nil {
		e.log.Error("mqtt: publishing an ack", "device", deviceID, "err", err)
	}
}

// status reports a status that connection cl of deviceID sent, unless cl
// is no longer the device's connection: a device that reconnects before
// the broker noticed its old connection was dead takes that session
// over, and the old connection's will (offline) is published while the
// new one says online. Under the device's lock, checking which
// connection is current and reporting are one step, so the stale
// offline is either reported before the new online or skipped.
func (e *Embedded) status(cl *mochi.Client, deviceID string, payload []byte) {
	h := fnv.New32a()
	h.Write([]byte(deviceID))
	mu := &e.statusLocks[h.Sum32()%uint32(len(e.statusLocks))]
	mu.Lock()
	defer mu.Unlock()
	if current, ok := e.server.Clients.Get(deviceID); ok && current != cl {
		e.log.Debug("mqtt: status of a replaced connection skipped", "device", deviceID)
		return
	}
	reportStatus(e.ctx, e.devices, e.log, deviceID, payload)
}

// hook is how the broker asks Replenish who may connect, who may
// publish and subscribe where, and what to do with what devices send.
type hook struct {
	mochi.HookBase
	e *Embedded
}

func (h *hook) ID() string { return "replenish" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mochi.OnConnect, mochi.OnConnectAuthenticate, mochi.OnACLCheck, mochi.OnPublish, mochi.OnWillSent,
		mochi.OnDisconnect:
		return true
	}
	return false
}

// OnConnect holds the device to maxKeepalive (telling MQTT 5 clients)
// and drops any will delay (MQTT 5). mochi sends a delayed will from its
// event loop, and tells OnWillSent only if the session is still there,
// so the offline could be lost; it sends an immediate one from the
// goroutine of the connection that ended, and tells OnWillSent which.
func (h *hook) OnConnect(cl *mochi.Client, _ packets.Packet) error {
	if cl.State.Keepalive == 0 || cl.State.Keepalive > maxKeepalive {
		cl.State.Keepalive = maxKeepalive
		cl.State.ServerKeepalive = true
	}
	cl.Properties.Will.WillDelayInterval = 0
	return nil
}

// OnConnectAuthenticate admits a device whose client ID and user name
// are its device ID, whose password devices accepts, and whose will (if
// any) is on its own status topic: wills skip the ACL. It admits the
// service account, and an account (a user name starting with
// AccountPrefix) that Accounts accepts, dropping a will outside its
// topics.
// Neither may use a client ID that a device could have (dev_...) or that
// another user's connection or session holds: taking it over would
// inherit that session. Refused, the client gets "not authorized" (MQTT
// 3.1.1) or "bad user name or password" (MQTT 5).
func (h *hook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	id, user := pk.Connect.ClientIdentifier, string(pk.Connect.Username)
	if other, ok := h.e.server.Clients.Get(cl.ID); ok && string(other.Properties.Username) != user {
		h.refuse(cl, id, user, "the client ID is another user's")
		return false
	}
	if user == h.e.service.user || h.e.accounts != nil && strings.HasPrefix(user, AccountPrefix) {
		return h.authenticateAccount(cl, pk)
	}
	var why string
	switch {
	case !validDeviceID(id) || id == mochi.InlineClientId:
		why = "the client ID is not a device ID"
	case user != id:
		why = "the user name is not the client ID"
	case pk.Connect.WillFlag && pk.Connect.WillTopic != StatusTopic(id):
		why = "a will on another topic than the device's status"
	case !h.e.devices.Authenticate(h.e.ctx, id, string(pk.Connect.Password)):
		why = "unknown or revoked device, or wrong password"
	default:
		return true
	}
	h.refuse(cl, id, user, why)
	return false
}

// authenticateAccount admits the service account or an account of
// Accounts, and records what the connection may do.
func (h *hook) authenticateAccount(cl *mochi.Client, pk packets.Packet) bool {
	id, user, password := pk.Connect.ClientIdentifier, string(pk.Connect.Username), string(pk.Connect.Password)
	a := access{user: user}
	var why string
	switch {
	case id == mochi.InlineClientId || strings.HasPrefix(id, "dev_"):
		why = "a client ID kept for devices"
	case user == h.e.service.user:
		a.all = subtle.ConstantTimeCompare([]byte(password), []byte(h.e.service.password)) == 1
		if !a.all {
			why = "wrong password"
		}
	default:
		topics, ok := h.e.accounts.Account(h.e.ctx, user, password)
		// An account never reaches the devices' topics, whatever it is
		// given.
		a.filters = slices.DeleteFunc(slices.Clone(topics), func(f string) bool { return overlaps(f, topicRoot+"#") })
		if !ok {
			why = "unknown or turned off account, or wrong password"
		} else if pk.Connect.WillFlag && !a.allows(pk.Connect.WillTopic) {
			// Wills skip the ACL: one outside the account's topics is
			// dropped. Home Assistant's default (homeassistant/status)
			// is; refusing it would keep Home Assistant out.
			h.e.log.Info("mqtt: will outside the account's topics dropped", "client", id, "user", user,
				"topic", pk.Connect.WillTopic)
			atomic.StoreUint32(&cl.Properties.Will.Flag, 0)
		}
	}
	if why != "" {
		h.refuse(cl, id, user, why)
		return false
	}
	h.e.access.Store(cl, a)
	return true
}

func (h *hook) refuse(cl *mochi.Client, id, user, why string) {
	h.e.log.Info("mqtt: connection refused", "device", id, "user", user, "remote", cl.Net.Remote, "reason", why)
}

// OnDisconnect forgets what a connection that is not a device's may do:
// its session, if kept, gets nothing until it signs in again.
func (h *hook) OnDisconnect(cl *mochi.Client, _ error, _ bool) { h.e.access.Delete(cl) }

// allows reports whether a may publish on, or subscribe to, topic (a
// topic name or a filter).
func (a access) allows(topic string) bool {
	return a.all || slices.ContainsFunc(a.filters, func(f string) bool { return covers(f, topic) })
}

// covers reports whether every topic that sub matches (a topic name, or
// a filter with wildcards) is matched by filter too, so that access to
// filter's topics is access to sub's. Topics starting with $ (the
// broker's, shared subscriptions) are covered by no filter.
func covers(filter, sub string) bool {
	if strings.HasPrefix(sub, "$") {
		return false
	}
	f, s := strings.Split(filter, "/"), strings.Split(sub, "/")
	for i, level := range f {
		switch {
		case level == "#":
			return true // it matches its parent level too: a/# matches a
		case i >= len(s), s[i] == "#":
			return false
		case level != "+" && (s[i] != level || s[i] == "+"):
			return false
		}
	}
	return len(s) == len(f)
}

// overlaps reports whether some topic matches both filters.
func overlaps(a, b string) bool {
	x, y := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(x) && i < len(y); i++ {
		if x[i] == "#" || y[i] == "#" {
			return true
		}
		if x[i] != "+" && y[i] != "+" && x[i] != y[i] {
			return false
		}
	}
	// One ran out: the same length, or the other's one more level is a #,
	// which matches its parent level too.
	switch len(x) - len(y) {
	case 0:
		return true
	case 1:
		return x[len(y)] == "#"
	case -1:
		return y[len(x)] == "#"
	}
	return false
}

// OnACLCheck lets a device publish on its events and status topics only,
// and subscribe to its acks and directives (or replenish/v1/{d}/# or
// /+, which deliver just those). Replenish's own clients (the inline one
// and the service account's) may do anything; an account, the topics of
// its filters.
// mochi drops a refused QoS 0 publish, and disconnects an MQTT 3.1.1
// client for a refused QoS 1 one (MQTT 5 clients get a PUBACK saying
// not authorized).
func (h *hook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	if cl.Net.Inline {
		return true
	}
	a, account := h.e.access.Load(cl)
	if account && a.(access).allows(topic) || !account && mayAccess(cl.ID, topic, write) {
		return true
	}
	op := "subscription"
	if write {
		op = "publish"
	}
	if account {
		h.e.log.Warn("mqtt: "+op+" refused", "client", cl.ID, "user", a.(access).user, "topic", topic)
	} else {
		h.e.log.Warn("mqtt: "+op+" refused", "device", cl.ID, "topic", topic)
	}
	return false
}

// mayAccess is a device's ACL, see OnACLCheck.
func mayAccess(deviceID, topic string, write bool) bool {
	kind, own := strings.CutPrefix(topic, topicRoot+deviceID+"/")
	switch {
	case !own:
		return false
	case write:
		return kind == kindEvents || kind == kindStatus
	}
	return kind == kindAcks || kind == kindDirectives || kind == "#" || kind == "+"
}

// OnPublish handles what a device publishes (the ACL has checked the
// topic); what others publish goes its way, retained if asked. A
// device's is handled in the goroutine that reads the device's connection, before
// mochi acks it. Inline subscriptions would run in that goroutine too,
// but only after the PUBACK, and without the publishing connection,
// which status needs.
func (h *hook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if _, account := h.e.access.Load(cl); cl.Net.Inline || account {
		return pk, nil
	}
	if deviceID, kind, ok := ParseTopic(pk.TopicName); ok && deviceID == cl.ID {
		switch kind {
		case kindEvents:
			h.e.event(deviceID, pk.Payload)
		case kindStatus:
			h.e.status(cl, deviceID, pk.Payload)
		}
	}
	pk.Ignore = true // acked, but neither retained nor delivered: no one else may read it
	return pk, nil
}

// OnWillSent reports the status in a device's will, which mochi
// publishes when a connection ends without a DISCONNECT. A clean
// DISCONNECT sends no will and leaves the status as it is: the protocol
// has online and offline come from the status topic and the will only;
// a device that means to go offline cleanly says so first.
func (h *hook) OnWillSent(cl *mochi.Client, pk packets.Packet) {
	if deviceID, kind, ok := ParseTopic(pk.TopicName); ok && deviceID == cl.ID && kind == kindStatus {
		h.e.status(cl, deviceID, pk.Payload)
	}
}

// atLeast is a log handler that drops the records below level. The
// broker's listener logs every connection that ends with an error (a
// device losing its network, a refused sign-in) as a warning with no
// message: those are a device's life, not the operator's concern, and
// go out at DEBUG as "mqtt connection ended".
type atLeast struct {
	slog.Handler
	level slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h atLeast) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "" {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Message, r.Level = "mqtt connection ended", slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h atLeast) WithAttrs(attrs []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(attrs), h.level}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.level}
}
