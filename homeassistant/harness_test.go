package homeassistant_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"replenish"
	"replenish/calendar"
	"replenish/console"
	"replenish/customers"
	"replenish/devices"
	"replenish/gateway"
	"replenish/homeassistant"
	"replenish/linking"
	"replenish/notifications"
	"replenish/orders"
	"replenish/simulator"
	"replenish/storage/sqldb"
	"replenish/users"
	"replenish/web"
)

// broker is the Mosquitto that runs beside the tests, shared and
// anonymous: each test uses a discovery prefix of its own and empties
// the retained topics it leaves.
const broker = "127.0.0.1:1883"

const operatorKey = "rk_op_test_operator_key"

// world is a real Replenish (the API over HTTP on a SQLite file of the
// test's own) and a simulated printer maker's cloud whose customers
// linked their printers through the real protocol.
type world struct {
	t      *testing.T
	URL    string
	store  *sqldb.DB
	api    *simulator.Client
	vendor *simulator.Vendor
	cloud  *simulator.Cloud
	srv    *web.Server
	log    *logBuffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	needBroker(t)
	ctx := context.Background()
	store, err := sqldb.OpenSQLite(ctx, filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := func() time.Time { return time.Now().UTC() }
	con := console.New(store, now)
	if _, err := con.Bootstrap(ctx, operatorKey); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	hs := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + hs.Listener.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	ntf := notifications.New(store, now, client, log, baseURL)
	ord := orders.New(store, now, orders.DefaultSettings(), client, log, ntf)
	gw := gateway.New(store, now, ord, ntf)
	cs := customers.New(store, now, ntf)
	cs.CancelWindow(ord.Settings().CancelWindow)
	srv := &web.Server{Store: store, Console: con, Customers: cs, Orders: ord, Notifications: ntf, Gateway: gw, Devices: devices.New(store, gw, now, log),
		Linking: linking.New(store, gw, client, log, now, baseURL), Users: users.New(store, now), Log: log,
		BaseURL: baseURL, Calendar: calendar.New(store, cs, now)}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)

	cloudServer := httptest.NewUnstartedServer(nil)
	cloudURL := "http://" + cloudServer.Listener.Addr().String()
	api := &simulator.Client{URL: hs.URL, HTTP: client}
	v, err := simulator.Register(ctx, api, operatorKey, cloudURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	cloud := simulator.NewCloud(simulator.Config{ReplenishURL: hs.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, ModelID: v.ModelID, Inks: v.Inks, Printers: 1,
		StartMin: 60, StartMax: 80, DrainMin: 5, DrainMax: 10, Rand: rand.New(rand.NewPCG(7, 1)), HTTP: client})
	cloudServer.Config.Handler = cloud
	cloudServer.Start()
	t.Cleanup(cloudServer.Close)
	if err := api.Send(ctx, "PUT", "/api/v1/models/"+v.ModelID+"/image", v.APIKey, "image/png", printerPicture(), nil); err != nil {
		t.Fatal(err)
	}
	return &world{t: t, URL: hs.URL, store: store, api: api, vendor: v, cloud: cloud, srv: srv, log: logs}
}

// printerPicture is a 128×128 PNG of a grey printer on white.
func printerPicture() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	for y := range 128 {
		for x := range 128 {
			c := color.NRGBA{0xff, 0xff, 0xff, 0xff}
			if x >= 16 && x < 112 && y >= 44 && y < 96 {
				c = color.NRGBA{0x55, 0x5f, 0x6b, 0xff}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// needBroker skips the test when no MQTT broker listens (.ci/run starts
// Mosquitto).
func needBroker(t *testing.T) {
	c, err := net.DialTimeout("tcp", broker, time.Second)
	if err != nil {
		t.Skipf("no MQTT broker at %s: %v", broker, err)
	}
	c.Close()
}

// household is a customer of the world with their printer at the cloud.
type household struct {
	*simulator.Customer
	account *simulator.Account
}

// customer signs up a customer and links their printer.
func (w *world) customer(name string) household {
	w.t.Helper()
	cu, err := simulator.AddCustomer(context.Background(), w.api, operatorKey, w.vendor, name)
	if err != nil {
		w.t.Fatal(err)
	}
	as := w.cloud.Accounts()
	return household{Customer: cu, account: as[len(as)-1]}
}

// report has the customer's printer report its levels (in per cent, by
// slot, left out: unchanged).
func (w *world) report(h household, levels ...float64) {
	w.t.Helper()
	for _, d := range h.account.Devices {
		copy(d.Levels, levels)
		if status, err := w.cloud.Report(context.Background(), h.account, d, replenish.NewUUID(), time.Now()); status != http.StatusAccepted {
			w.t.Fatalf("report: %d %v", status, err)
		}
	}
}

// endpoints are the customer's devices as the API shows them.
func (w *world) endpoints(h household) []customers.Endpoint {
	w.t.Helper()
	var out struct{ Items []customers.Endpoint }
	if err := w.api.Do(context.Background(), "GET", "/api/v1/endpoints", h.APIKey, nil, &out); err != nil {
		w.t.Fatal(err)
	}
	return out.Items
}

// orders are the customer's orders, newest first.
func (w *world) orders(h household) []replenish.Order {
	w.t.Helper()
	os, err := simulator.ListOrders(context.Background(), w.api, h.APIKey, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return os
}

// settings are the customer's notification settings as the API answers.
type settings struct {
	Email         bool
	HomeAssistant notifications.HomeAssistantView
}

func (w *world) settings(h household) settings {
	w.t.Helper()
	var s settings
	if err := w.api.Do(context.Background(), "GET", "/api/v1/notification-settings", h.APIKey, nil, &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// bridge turns the customer's bridge on (or off) at a broker with a
// prefix, through the API.
func (w *world) bridge(h household, on bool, brokerURL, prefix string) settings {
	w.t.Helper()
	var s settings
	body := map[string]any{"homeAssistant": map[string]any{"enabled": on, "brokerUrl": brokerURL, "discoveryPrefix": prefix}}
	if err := w.api.Do(context.Background(), "PUT", "/api/v1/notification-settings", h.APIKey, body, &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// waitState waits until the customer's bridge is in state, and returns
// its status.
func (w *world) waitState(h household, state string) notifications.BridgeStatus {
	w.t.Helper()
	var st notifications.BridgeStatus
	eventually(w.t, "bridge state "+state, func() bool {
		st = w.settings(h).HomeAssistant.Status
		return st.State == state
	})
	return st
}

// testSettings are fast intervals, so that a test sees retries and
// leases in seconds.
func (w *world) testSettings() homeassistant.Settings {
	return homeassistant.Settings{Interval: 200 * time.Millisecond, Sync: 100 * time.Millisecond,
		RetryMin: 100 * time.Millisecond, RetryMax: 400 * time.Millisecond, BaseURL: w.URL, Version: "test"}
}

// run starts a bridge of the world's services, told of settings changes
// made through the API, until the test ends (or stop is called).
func (w *world) run() (b *homeassistant.Bridge, stop func()) {
	w.t.Helper()
	now := func() time.Time { return time.Now().UTC() }
	b = homeassistant.New(w.store, w.srv.Customers, w.srv.Orders, now, slog.New(slog.NewTextHandler(w.log, nil)), w.testSettings())
	w.srv.HomeAssistant = b
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	w.t.Cleanup(stop)
	return b, stop
}

// eventually polls ok for up to 15 seconds.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logBuffer collects the log for the test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count counts the log lines that hold every one of words.
func (l *logBuffer) count(words ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.buf.String(), "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			n++
		}
	}
	return n
}

// homeAssistant is Home Assistant as far as MQTT goes: a client of the
// broker that subscribes to the discovery prefix and to a customer's
// topics, and keeps what each topic last held.
type homeAssistant struct {
	t      *testing.T
	c      mqtt.Client
	prefix string
	mu     sync.Mutex
	last   map[string]string
	seen   map[string]int
}

// newHomeAssistant connects "Home Assistant" to the broker at addr and
// subscribes to prefix and base (a customer's replenish/<customer>); the
// retained topics it leaves are emptied when the test ends.
func newHomeAssistant(t *testing.T, addr, prefix string, bases ...string) *homeAssistant {
	t.Helper()
	h := &homeAssistant{t: t, prefix: prefix, last: map[string]string{}, seen: map[string]int{}}
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("ha-" + replenish.NewID("", 10)).
		SetCleanSession(true).SetOrderMatters(false)
	h.c = mqtt.NewClient(opts)
	if tok := h.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("Home Assistant cannot connect: %v", tok.Error())
	}
	filters := map[string]byte{prefix + "/#": 1}
	for _, b := range bases {
		filters[b+"/#"] = 1
	}
	if tok := h.c.SubscribeMultiple(filters, func(_ mqtt.Client, m mqtt.Message) {
		h.mu.Lock()
		h.last[m.Topic()] = string(m.Payload())
		h.seen[m.Topic()]++
		h.mu.Unlock()
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(h.clean)
	return h
}

// clean empties every retained topic the test left, and disconnects.
func (h *homeAssistant) clean() {
	h.mu.Lock()
	var topics []string
	for topic, payload := range h.last {
		if payload != "" {
			topics = append(topics, topic)
		}
	}
	h.mu.Unlock()
	for _, topic := range topics {
		h.c.Publish(topic, 1, true, []byte{}).WaitTimeout(time.Second)
	}
	h.c.Disconnect(100)
}

// get returns what topic last held, and whether anything came.
func (h *homeAssistant) get(topic string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.last[topic]
	return v, ok
}

// times is how many messages came on topic.
func (h *homeAssistant) times(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[topic]
}

// wait waits until topic holds payload, and returns it.
func (h *homeAssistant) wait(topic, payload string) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("%s = %q", topic, payload), func() bool {
		v, _ := h.get(topic)
		return v == payload
	})
}

// configs returns the discovery configs under the prefix that are not
// empty, by topic.
func (h *homeAssistant) configs() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for topic, payload := range h.last {
		if strings.HasPrefix(topic, h.prefix+"/") && strings.HasSuffix(topic, "/config") && payload != "" {
			out[topic] = payload
		}
	}
	return out
}

// publish sends a message as Home Assistant does: not retained.
func (h *homeAssistant) publish(topic, payload string) {
	h.t.Helper()
	if tok := h.c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		h.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// prefix returns a discovery prefix of the test's own.
func prefix() string { return "replenish_test_" + replenish.NewID("", 10) }

// mosquitto starts a broker of the test's own on a free port that takes
// only the user name with password, and returns its address.
func mosquitto(t *testing.T, name, password string) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
		if _, err := os.Stat(bin); err != nil {
			t.Skip("no mosquitto to start a broker that checks passwords")
		}
	}
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("no mosquitto_passwd")
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "passwd")
	if out, err := exec.Command(passwd, "-b", "-c", pw, name, password).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	os.Chmod(pw, 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	// Started as root, Mosquitto drops to the user named here (by default
	// "mosquitto", who could not read the test's files).
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte("listener "+port+" 127.0.0.1\nallow_anonymous false\npassword_file "+pw+
		"\nuser "+me.Username+"\npersistence false\nlog_dest none\n"), 0o600)
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	eventually(t, "mosquitto on "+addr, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}
