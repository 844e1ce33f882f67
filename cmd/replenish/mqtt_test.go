package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"replenish"
	"replenish/bench"
	"replenish/customers"
	"replenish/devices"
	"replenish/simulator"
	"replenish/storage/pgtest"
)

// kitWorld is a vendor with a CONNECT_KIT printer model (four ink slots,
// threshold 10 %) on a running service, and a customer.
type kitWorld struct {
	api    *simulator.Client
	v      *simulator.Vendor
	model  string
	cu     *simulator.Customer
	broker string // tcp://host:port of the devices' broker
}

func newKitWorld(t *testing.T, url, broker, operatorKey string) *kitWorld {
	t.Helper()
	ctx := t.Context()
	api := &simulator.Client{URL: url, HTTP: &http.Client{Timeout: 10 * time.Second}}
	v, err := simulator.RegisterFleet(ctx, api, operatorKey, "http://127.0.0.1:9/skill",
		[]simulator.Kind{simulator.KitOf(simulator.Kinds[0])}, []string{"US"})
	if err != nil {
		t.Fatal(err)
	}
	cu, err := simulator.NewCustomer(ctx, api, operatorKey, "Ada Lovelace", "US")
	if err != nil {
		t.Fatal(err)
	}
	w := &kitWorld{api: api, v: v, model: v.Kinds[0].ModelID, cu: cu, broker: broker}
	// Until the model is certified, its test accounts claim its devices.
	if err := simulator.TestAccount(ctx, api, v, w.model, "US", cu); err != nil {
		t.Fatal(err)
	}
	return w
}

// claim has the customer claim a device.
func (w *kitWorld) claim(t *testing.T, code, name string) error {
	return simulator.ClaimKit(t.Context(), w.api, w.cu, code, name)
}

// provision has the vendor provision devices with these serial numbers.
func (w *kitWorld) provision(t *testing.T, serials ...string) []devices.Provisioned {
	t.Helper()
	ps, err := simulator.ProvisionKits(t.Context(), w.api, w.v, w.model, serials)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// kit connects a simulated device with p's credentials; st counts.
func (w *kitWorld) kit(t *testing.T, p devices.Provisioned, st *simulator.Stats) *simulator.Kit {
	t.Helper()
	d := simulator.NewDevice(w.v.Kinds[0], p.DeviceID, "printer "+p.SerialNumber, rand.New(rand.NewPCG(7, uint64(len(p.SerialNumber)))))
	k := simulator.NewKit(d, p.Password, st)
	k.AckTimeout = 3 * time.Second
	if err := k.Connect(t.Context(), w.broker); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k
}

// endpoint is the customer's view of one endpoint.
func (w *kitWorld) endpoint(t *testing.T, id string) (customers.Endpoint, bool) {
	t.Helper()
	var es struct{ Items []customers.Endpoint }
	if err := w.api.Do(t.Context(), "GET", "/api/v1/endpoints", w.cu.APIKey, nil, &es); err != nil {
		t.Fatal(err)
	}
	for _, e := range es.Items {
		if e.EndpointID == id {
			return e, true
		}
	}
	return customers.Endpoint{}, false
}

// readings counts the READING entries of a slot's history.
func (w *kitWorld) readings(t *testing.T, id, slot string) int {
	t.Helper()
	var h struct{ Items []replenish.HistoryEntry }
	if err := w.api.Do(t.Context(), "GET", "/api/v1/endpoints/"+id+"/slots/"+slot+"/history?limit=500", w.cu.APIKey, nil, &h); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range h.Items {
		if e.Type == replenish.HistoryReading {
			n++
		}
	}
	return n
}

// eventually waits up to 15 s for ok, failing with what.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDevicesOverMQTT runs a CONNECT_KIT device through the real wiring
// on the embedded broker: provisioned and claimed through the API, it
// signs in, is asked for its state, reports, is acked once its events are
// stored (a repeat counted once, a bad event refused naming its field),
// is told its supply is low, and is dropped when revoked, which its
// customer hears of as a device gone offline; on SQLite and on PostgreSQL.
func TestDevicesOverMQTT(t *testing.T) { eachStore(t, devicesOverMQTT) }

func devicesOverMQTT(t *testing.T, db string) {
	ctx := t.Context()
	const operatorKey = "rk_op_mqtt_devices_test"
	url, broker := startServeMQTT(t, operatorKey, db, "--report-state-after", "24h", "--not-reporting-after", "4s")
	w := newKitWorld(t, url, "tcp://"+broker, operatorKey)
	ps := w.provision(t, "SN-A", "SN-B")
	a, b := ps[0], ps[1]
	if err := w.claim(t, a.ClaimCode, "Study printer"); err != nil {
		t.Fatal(err)
	}

	// Wrong credentials are refused at CONNECT.
	bad := paho.NewClient(paho.NewClientOptions().AddBroker(w.broker).SetClientID(a.DeviceID).SetUsername(a.DeviceID).
		SetPassword("not-" + a.Password).SetConnectRetry(false).SetAutoReconnect(false))
	if tok := bad.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() == nil {
		bad.Disconnect(0)
		t.Fatal("a device with a wrong password was let in")
	}

	// Claimed and never heard from, the device is asked for its state as
	// it comes online, and its StateReport is stored.
	st := simulator.NewStats()
	kit := w.kit(t, a, st)
	eventually(t, "the StateReport answering ReportState is acked", func() bool {
		s := st.Summary()
		return s.StateReports == 1 && s.Accepted == 1
	})
	e, ok := w.endpoint(t, a.DeviceID)
	if !ok || e.Connectivity != replenish.ConnectivityOnline || e.LastSeenAt == nil || e.Slots[0].Level == nil {
		t.Fatalf("endpoint after the StateReport: %+v (found %v), want ONLINE, seen, with a level", e, ok)
	}

	// A report is acked once stored; the same message ID again is acked
	// and stored nothing more.
	before := w.readings(t, a.DeviceID, "SLOT01")
	kit.Levels[0] = 50
	id := replenish.NewUUID()
	at := time.Now().UTC().Add(-time.Minute)
	for range 2 {
		if status, err := kit.Report(ctx, id, at); status != 202 || err != nil {
			t.Fatalf("report: %d %v, want 202", status, err)
		}
	}
	if got := w.readings(t, a.DeviceID, "SLOT01"); got != before+1 {
		t.Fatalf("readings after a report sent twice: %d, want %d", got, before+1)
	}

	// A malformed event is acked with the gateway's code naming the field;
	// one about another endpoint is refused.
	ack, _ := kit.Publish(ctx, []byte(`{"event":{"header":{"namespace":"Alexa","name":"ChangeReport","payloadVersion":"3",
		"messageId":"bad-1"},"endpoint":{"endpointId":"`+a.DeviceID+`"},"payload":{"change":{"cause":{"type":"PERIODIC_POLL"},
		"properties":[{"namespace":"Alexa.InventoryLevelSensor","instance":"SLOT01","name":"level","value":{"@type":"Percentage","value":"lots"},
		"timeOfSample":"`+at.Format(time.RFC3339)+`"}]}}}}`))
	if ack.MessageID != "bad-1" || ack.Status != 400 || ack.Code != "INVALID_REQUEST_EXCEPTION" ||
		!strings.Contains(ack.Description, "event.payload.change.properties[0].value") {
		t.Fatalf("ack of a malformed event: %+v, want 400 INVALID_REQUEST_EXCEPTION naming the value", ack)
	}
	ack, _ = kit.Publish(ctx, []byte(`{"event":{"header":{"namespace":"Alexa","name":"StateReport","payloadVersion":"3",
		"messageId":"other-1"},"endpoint":{"endpointId":"`+b.DeviceID+`"},"payload":{}}}`))
	if ack.Status != 403 || ack.Code != "INSUFFICIENT_PERMISSION_EXCEPTION" {
		t.Fatalf("ack of an event about another device: %+v, want 403", ack)
	}

	// An unclaimed device's events change nothing: 403.
	otherSt := simulator.NewStats()
	other := w.kit(t, b, otherSt)
	if status, _ := other.Report(ctx, replenish.NewUUID(), at); status != 403 {
		t.Fatalf("an unclaimed device's report: %d, want 403", status)
	}
	// Claimed while connected, it has no level yet: its customer opening
	// their devices has Replenish ask it, as a cloud would be asked.
	if err := w.claim(t, b.ClaimCode, "Hall printer"); err != nil {
		t.Fatal(err)
	}
	if e, _ := w.endpoint(t, b.DeviceID); e.Slots[0].Level != nil {
		t.Fatalf("the newly claimed device has a level already: %+v", e.Slots[0])
	}
	eventually(t, "opening the devices asks the claimed device for its state", func() bool {
		return otherSt.Summary().StateReports == 1
	})
	eventually(t, "its StateReport gives it a level", func() bool {
		e, _ := w.endpoint(t, b.DeviceID)
		return e.Slots[0].Level != nil
	})

	// Three low readings, newer than the StateReport's: the customer is
	// told, and so is the device's display, through the outbox.
	for i := range 3 {
		kit.Levels[0] = float64(8 - i)
		if status, err := kit.Report(ctx, replenish.NewUUID(), time.Now().UTC()); status != 202 {
			t.Fatalf("low report: %d %v", status, err)
		}
	}
	eventually(t, "the device gets its SetLowSupply notice", func() bool { return len(kit.Notices()) > 0 })
	if n := kit.Notices()[0]; n.Instance != "SLOT01" || n.Level != "6%" || !strings.Contains(n.Message, "low") {
		t.Fatalf("notice %+v, want SLOT01 at 6%%", n)
	}

	// Revoked, the device is dropped: its last will says offline, and it
	// cannot sign in again.
	if err := w.api.Do(ctx, "DELETE", "/api/v1/devices/"+a.DeviceID, w.v.APIKey, nil, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the revoked device's session is dropped", func() bool { return !kit.Connected() })
	eventually(t, "the endpoint shows the device offline", func() bool {
		e, _ := w.endpoint(t, a.DeviceID)
		return e.Connectivity == replenish.ConnectivityOffline
	})
	// Silent since, it is reported as offline since it dropped.
	eventually(t, "the customer is told the device went offline", func() bool {
		var f struct{ Items []replenish.FeedEntry }
		if err := w.api.Do(ctx, "GET", "/api/v1/feed", w.cu.APIKey, nil, &f); err != nil {
			t.Fatal(err)
		}
		for _, e := range f.Items {
			if e.Type == replenish.FeedNotReporting && e.EndpointID == a.DeviceID {
				if !strings.Contains(e.Message, "went offline at") {
					t.Fatalf("not-reporting notice %q, want it to say the device went offline", e.Message)
				}
				return true
			}
		}
		return false
	})
	again := simulator.NewKit(simulator.NewDevice(w.v.Kinds[0], a.DeviceID, "x", rand.New(rand.NewPCG(1, 1))), a.Password, nil)
	if err := again.Connect(ctx, w.broker); err == nil {
		again.Close()
		t.Fatal("a revoked device signed in again")
	}
}

// TestDevicesExternalBroker runs Replenish as a client of Mosquitto (two
// instances on one PostgreSQL database, sharing the devices' events
// through a shared subscription): every event of a burst is acked once,
// and stored once.
func TestDevicesExternalBroker(t *testing.T) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:1883", time.Second)
	if err != nil {
		t.Skip("no MQTT broker on 127.0.0.1:1883 (.ci/run starts Mosquitto)")
	}
	conn.Close()
	// Two instances need PostgreSQL; on SQLite, one takes them all.
	db, instances := filepath.Join(t.TempDir(), "external.db"), 1
	if pgtest.Available() {
		db, instances = pgtest.URL(t), 2
	}
	const operatorKey = "rk_op_mqtt_external_test"
	broker := "tcp://127.0.0.1:1883"
	flags := []string{"--mqtt-broker", broker, "--mqtt-listen", ""}
	url, _ := startServeMQTT(t, operatorKey, db, flags...)
	for range instances - 1 {
		startServeMQTT(t, operatorKey, db, flags...)
	}
	w := newKitWorld(t, url, broker, operatorKey)
	p := w.provision(t, "SN-EXT-"+replenish.NewID("", 6))[0]
	if err := w.claim(t, p.ClaimCode, "Kitchen printer"); err != nil {
		t.Fatal(err)
	}
	st := simulator.NewStats()
	kit := w.kit(t, p, st)
	start := time.Now().UTC().Add(-time.Hour)
	const n = 40
	for i := range n {
		kit.Levels[0] = float64(90 - i)
		if status, err := kit.Report(t.Context(), fmt.Sprintf("ext-%d", i), start.Add(time.Duration(i)*time.Second)); status != 202 {
			t.Fatalf("report %d through Mosquitto: %d %v", i, status, err)
		}
	}
	if got := w.readings(t, p.DeviceID, "SLOT01"); got != n {
		t.Fatalf("readings stored: %d, want %d", got, n)
	}
	if s := st.Summary(); s.Accepted != n || s.Resent != 0 {
		t.Fatalf("acks: %+v, want %d accepted, none resent", s, n)
	}
	var raw json.RawMessage
	if err := w.api.Do(t.Context(), "GET", "/api/v1/models/"+w.model+"/devices", w.v.APIKey, nil, &raw); err != nil || !strings.Contains(string(raw), `"claimed":true`) {
		t.Fatalf("device list %s (%v), want it claimed", raw, err)
	}
}

// TestDeviceFlood: a device that sends faster than --device-rate is
// refused (429 on its acks, nothing stored) without slowing the others.
func TestDeviceFlood(t *testing.T) {
	ctx := t.Context()
	const operatorKey = "rk_op_mqtt_flood_test"
	url, broker := startServeMQTT(t, operatorKey, filepath.Join(t.TempDir(), "flood.db"),
		"--device-rate", "0.01", "--device-burst", "3")
	w := newKitWorld(t, url, "tcp://"+broker, operatorKey)
	ps := w.provision(t, "SN-LOUD", "SN-QUIET")
	for _, p := range ps {
		if err := w.claim(t, p.ClaimCode, p.SerialNumber); err != nil {
			t.Fatal(err)
		}
	}
	loud, quiet := w.kit(t, ps[0], nil), w.kit(t, ps[1], nil)
	loud.Attempts = 1 // a refusal is counted, not waited out
	var codes []string
	for i := range 6 {
		a, _ := loud.Publish(ctx, levelEvent(ps[0].DeviceID, fmt.Sprintf("loud-%d", i), time.Now().Add(time.Duration(i-6)*time.Second)))
		codes = append(codes, fmt.Sprint(a.Status, a.Code))
	}
	want := []string{"202", "202", "202", "429THROTTLING_EXCEPTION", "429THROTTLING_EXCEPTION", "429THROTTLING_EXCEPTION"}
	if !slices.Equal(codes, want) {
		t.Fatalf("a flood of 6 with a burst of 3: %v, want %v", codes, want)
	}
	if status, err := quiet.Report(ctx, "quiet-1", time.Now().UTC()); status != 202 {
		t.Fatalf("the other device, during the flood: %d %v, want 202", status, err)
	}
	if got := w.readings(t, ps[0].DeviceID, "SLOT01"); got != 3 {
		t.Fatalf("the loud device has %d readings, want the 3 accepted", got)
	}
}

// levelEvent is a device's ChangeReport of SLOT01 at 50 %.
func levelEvent(deviceID, messageID string, at time.Time) []byte {
	return bench.AppendReport(nil, bench.Device{EndpointID: deviceID}, "SLOT01", messageID, 50, at)
}
