package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"replenish"
	"replenish/bench"
	"replenish/devices"
	"replenish/mqtt"
	"replenish/simulator"
	"replenish/storage/sqldb"
)

const benchMQTTAbout = `Measures how many events per second CONNECT_KIT devices get acked over
MQTT on the embedded broker, in one run on this machine. Replenish runs in
this process, wired as "replenish serve" wires it, on a real SQLite file
(or the PostgreSQL database --db names), its broker on a free loopback
port. --devices devices are connected at once, each on its own MQTT
connection; each keeps --inflight events in flight (QoS 1 on its events
topic) and sends the next one when an ack comes. Replenish acks an event
({"messageId":...,"status":202} on the device's acks topic) once it is
stored, so the figure is durable ingest. Latency is from publishing an
event to receiving its ack, so it includes waiting behind the device's
own events in flight. Each of --runs measurements sends for --warmup
uncounted, then counts --duration; only events sent and acked inside the
counted window count, and any ack but 202, or none, is a failure.

Before measuring, a simulated vendor registers a CONNECT_KIT printer
model (four inks) through the API and provisions the devices; one
customer, a test account of the model, claims them all, 50 at once
(every claim takes at least half a second, by design: about 10 s per
1,000 devices). The devices' and the gateway's rate limits are off, and
so is ReportState on connection: the bench measures ingest, not its
throttles. Each event is a ChangeReport of one ink's level (the next ink
each time, between 20 and 95 %, above the model's 10 % threshold, so no
order or notice is made), sampled when it is sent, with a new message ID:
the HTTP bench's event, without the scope. The devices' MQTT clients run
in this process and share its processors and its CPU figure.

The HTTP gateway's figure, to compare, is "replenish bench".
`

// benchMQTTConfig is the configuration of bench mqtt.
type benchMQTTConfig struct {
	Devices, Inflight int
	Warmup, Duration  time.Duration
	Runs              int
	DB                string
}

// benchConcurrency is how many claims, or connections, are made at once
// while setting up: enough to hide the claim delay, few enough not to
// queue on the database.
const benchConcurrency = 50

// ackWait is how long a device waits for its last acks after the counted
// window before it counts them as failures: far beyond any latency of a
// working server, so that only lost acks end up there.
const ackWait = 30 * time.Second

func benchMQTTCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg benchMQTTConfig
	fs := newFlags("bench mqtt", benchMQTTAbout, stderr)
	fs.IntVar(&cfg.Devices, "devices", 1000, "devices `n` connected at once, each on its own MQTT connection")
	fs.IntVar(&cfg.Inflight, "inflight", 1, "events `n` each device has in flight, waiting for their acks")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "load sent before counting starts, per measurement")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long each measurement counts")
	fs.IntVar(&cfg.Runs, "runs", 3, "measurements `n`, taken one after the other on the same connections")
	fs.StringVar(&cfg.DB, "db", "", "the database: a SQLite `file` to use and keep (default: a temporary file, removed after), or a postgres:// URL")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	switch {
	case cfg.Devices < 1:
		return errors.New("--devices: at least 1")
	case cfg.Inflight < 1:
		return errors.New("--inflight: at least 1")
	case cfg.Duration <= 0 || cfg.Warmup < 0:
		return errors.New("--duration must be positive, --warmup not negative")
	case cfg.Runs < 1:
		return errors.New("--runs: at least 1")
	}
	if cfg.DB == "" {
		dir, err := os.MkdirTemp("", "replenish-bench-mqtt-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DB = filepath.Join(dir, "bench.db")
	}
	return runBenchMQTT(ctx, cfg, stdout, stderr)
}

func runBenchMQTT(ctx context.Context, cfg benchMQTTConfig, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	operatorKey, err := benchOperator(ctx, cfg.DB)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := defaults(cfg.DB)
	c.LogLevel, c.GatewayRate, c.MQTT.DeviceRate, c.ReportStateAfter = slog.LevelWarn, 0, 0, 0
	ready := make(chan started, 1)
	served := make(chan error, 1)
	go func() { served <- serve(ctx, c, log, io.Discard, func(s started) { ready <- s }) }()
	var srv started
	select {
	case srv = <-ready:
	case err := <-served:
		return fmt.Errorf("starting Replenish: %w", err)
	}
	defer func() {
		cancel()
		<-served
	}()

	began := time.Now()
	ps, instances, err := benchKits(ctx, srv.URL, operatorKey, cfg.Devices, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registered the vendor, provisioned and claimed %d devices in %s\n", len(ps), time.Since(began).Round(time.Millisecond))
	began = time.Now()
	load, err := connectKits(ctx, "tcp://"+srv.MQTT, ps, instances, cfg.Inflight, stderr)
	if err != nil {
		return err
	}
	defer func() {
		load.close()
		// Time for the broker to read the last DISCONNECTs: a connection
		// it closes itself on shutdown is logged as a warning.
		time.Sleep(200 * time.Millisecond)
	}()
	fmt.Fprintf(stdout, "connected them to %s in %s\n", srv.MQTT, time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(stdout, "bench mqtt: %d devices, %d event(s) in flight each, %s warm-up, %s counted, %d runs; %s\n",
		cfg.Devices, cfg.Inflight, cfg.Warmup, cfg.Duration, cfg.Runs, sqldb.Redact(cfg.DB))

	var results []bench.Result
	for run := 1; run <= cfg.Runs; run++ {
		r, err := load.measure(ctx, cfg.Warmup, cfg.Duration)
		if err != nil {
			return err
		}
		printResult(stdout, run, "mqtt", r)
		if r.Events == 0 {
			return fmt.Errorf("run %d: no event was acked in the counted window", run)
		}
		results = append(results, r)
	}
	m := median(results)
	fmt.Fprintf(stdout, "\nmedian of %d runs (min–max):\n", cfg.Runs)
	fmt.Fprintf(stdout, "  mqtt  %8.0f events/s (%.0f–%.0f)  p50 %s  p90 %s  p99 %s  max %s\n",
		m.Rate(), minRate(results), maxRate(results), ms(m.P50), ms(m.P90), ms(m.P99), ms(m.Max))
	fmt.Fprintf(stdout, "  cpu   %s per event on %.2f cores (the devices' MQTT clients included)\n", us(m.CPUPerEvent()), m.Cores())
	return nil
}

// benchKits registers a vendor with a CONNECT_KIT printer model through
// the API, provisions n devices of it, and has one customer, a test
// account of the model, claim them all. It returns the devices'
// credentials and the sensor instances of their slots.
func benchKits(ctx context.Context, url, operatorKey string, n int, stderr io.Writer) ([]devices.Provisioned, []string, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: benchConcurrency}
	defer transport.CloseIdleConnections()
	api := &simulator.Client{URL: url, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: transport}}
	// No directive goes to the skill endpoint: the devices talk MQTT.
	const skillURL = "https://skill.bench.example/"
	v, err := simulator.RegisterFleet(ctx, api, operatorKey, skillURL,
		[]simulator.Kind{simulator.KitOf(simulator.Kinds[0])}, []string{"US"})
	if err != nil {
		return nil, nil, fmt.Errorf("registering the vendor: %w", err)
	}
	// Without a webhook: each claim would queue a DeviceRegistered
	// notification, retried against a host that does not exist while the
	// bench measures.
	if err := api.Do(ctx, "PUT", "/api/v1/vendor", v.APIKey, map[string]string{"skillEndpointUrl": skillURL}, nil); err != nil {
		return nil, nil, fmt.Errorf("removing the vendor's webhook: %w", err)
	}
	kind := v.Kinds[0]
	var instances []string
	for _, s := range kind.Slots {
		instances = append(instances, s.Instance)
	}
	cu, err := simulator.NewCustomer(ctx, api, operatorKey, "Bench customer", "US")
	if err != nil {
		return nil, nil, fmt.Errorf("creating the customer: %w", err)
	}
	if err := simulator.TestAccount(ctx, api, v, kind.ModelID, "US", cu); err != nil {
		return nil, nil, fmt.Errorf("making the customer a test account: %w", err)
	}

	var provisioned, claimed atomic.Int64
	stop := showProgress(stderr, 2*time.Second, func() string {
		return fmt.Sprintf("setting up: %d of %d devices provisioned, %d claimed", provisioned.Load(), n, claimed.Load())
	})
	defer stop()
	// Serial numbers new to a database given with --db and used before.
	prefix := "BENCH-" + replenish.NewID("", 6) + "-"
	var ps []devices.Provisioned
	// Batch by batch, for the progress line.
	for start := 0; start < n; start += devices.MaxProvision {
		serials := make([]string, min(devices.MaxProvision, n-start))
		for i := range serials {
			serials[i] = prefix + strconv.Itoa(start+i+1)
		}
		got, err := simulator.ProvisionKits(ctx, api, v, kind.ModelID, serials)
		if err != nil {
			return nil, nil, fmt.Errorf("provisioning devices %d to %d: %w", start+1, start+len(serials), err)
		}
		ps = append(ps, got...)
		provisioned.Store(int64(len(ps)))
	}
	err = concurrently(ctx, len(ps), benchConcurrency, func(ctx context.Context, i int) error {
		if err := simulator.ClaimKit(ctx, api, cu, ps[i].ClaimCode, ps[i].SerialNumber); err != nil {
			return fmt.Errorf("claiming device %s: %w", ps[i].DeviceID, err)
		}
		claimed.Add(1)
		return nil
	})
	return ps, instances, err
}

// concurrently calls f for 0 to n-1, at most conc calls at once, and
// returns the first error; no call starts after it.
func concurrently(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, conc) {
		wg.Go(func() {
			for i := range next {
				if err := f(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// kitLoad is the bench's devices, connected, and what their events say.
type kitLoad struct {
	kits      []*loadKit
	instances []string // the slots' sensor instances, reported in turn
	inflight  int
	// runID makes the message IDs new to a database used before.
	runID string
	// lost says why the first connection lost was lost.
	lost atomic.Pointer[string]
}

// loadKit is one device of the bench: a paho client, lighter than
// simulator.Kit, whose per-event JSON work (maps marshalled, each ack's
// message ID looked up under a lock, a timer per attempt) would run on
// the same two cores as the server and lower the figure.
type loadKit struct {
	id     string
	events string // its events topic
	client paho.Client
	acks   chan kitAck
	// offset spreads the devices' levels; seq counts the device's events;
	// sampled is the newest event's timeOfSample.
	offset  int64
	seq     int64
	sampled time.Time
}

// kitAck is an ack and when the device received it.
type kitAck struct {
	devices.Ack
	at time.Time
}

// connectKits connects the provisioned devices to broker, each on its
// own connection, benchConcurrency at once.
func connectKits(ctx context.Context, broker string, ps []devices.Provisioned, instances []string, inflight int, stderr io.Writer) (*kitLoad, error) {
	l := &kitLoad{kits: make([]*loadKit, len(ps)), instances: instances, inflight: inflight, runID: replenish.NewID("m", 8)}
	var connected atomic.Int64
	stop := showProgress(stderr, 2*time.Second, func() string {
		return fmt.Sprintf("connecting: %d of %d devices", connected.Load(), len(ps))
	})
	defer stop()
	err := concurrently(ctx, len(ps), benchConcurrency, func(ctx context.Context, i int) error {
		k, err := l.connect(ctx, broker, ps[i], int64(i))
		if err != nil {
			return err
		}
		l.kits[i] = k
		connected.Add(1)
		return nil
	})
	if err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// connect signs device p in, as client ID and user name, and subscribes
// to its acks. It does not reconnect: a connection lost is a failure of
// the bench, reported with its measurement.
func (l *kitLoad) connect(ctx context.Context, broker string, p devices.Provisioned, offset int64) (*loadKit, error) {
	k := &loadKit{id: p.DeviceID, events: mqtt.EventsTopic(p.DeviceID), offset: offset,
		// Room for every ack the device waits for: receive never blocks.
		acks: make(chan kitAck, l.inflight)}
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(p.DeviceID).SetUsername(p.DeviceID).SetPassword(p.Password).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(10 * time.Second).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			why := fmt.Sprintf("device %s lost its connection: %v", p.DeviceID, err)
			l.lost.CompareAndSwap(nil, &why)
		})
	k.client = paho.NewClient(o)
	if err := waitToken(ctx, k.client.Connect()); err != nil {
		return nil, fmt.Errorf("device %s connecting to %s: %w", p.DeviceID, broker, err)
	}
	if err := waitToken(ctx, k.client.Subscribe(mqtt.AcksTopic(p.DeviceID), 1, k.receive)); err != nil {
		k.client.Disconnect(0)
		return nil, fmt.Errorf("device %s subscribing to its acks: %w", p.DeviceID, err)
	}
	return k, nil
}

func waitToken(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// receive hands an ack to the device's sender. It runs in paho's router,
// which must not block: an ack no one waits for (of an event an earlier
// measurement gave up on) is dropped when the buffer is full.
func (k *loadKit) receive(_ paho.Client, m paho.Message) {
	at := time.Now()
	var a devices.Ack
	if json.Unmarshal(m.Payload(), &a) != nil {
		return // the event is counted as not acked
	}
	select {
	case k.acks <- kitAck{Ack: a, at: at}:
	default:
	}
}

// close disconnects the devices cleanly, benchConcurrency at once: all at
// once on a busy machine, some would give up sending their DISCONNECT.
func (l *kitLoad) close() {
	concurrently(context.Background(), len(l.kits), benchConcurrency, func(_ context.Context, i int) error {
		if k := l.kits[i]; k != nil {
			k.client.Disconnect(1000)
		}
		return nil
	})
}

// window is a measurement's counted window.
type window struct{ from, until time.Time }

// kitTally is what one device's events of a measurement came to.
type kitTally struct {
	latencies []time.Duration
	failed    int
	firstErr  string
}

func (t *kitTally) fail(n int, msg string) {
	t.failed += n
	if t.firstErr == "" {
		t.firstErr = msg
	}
}

// measure is one measurement: every device keeps its events in flight
// through the warm-up and the counted window, then waits for its last
// acks, so that the next measurement starts with nothing queued.
func (l *kitLoad) measure(ctx context.Context, warmup, duration time.Duration) (bench.Result, error) {
	start := time.Now()
	w := window{from: start.Add(warmup), until: start.Add(warmup + duration)}
	tallies := make([]kitTally, len(l.kits))
	var cpu time.Duration
	var wg sync.WaitGroup
	wg.Go(func() {
		if pause(ctx, w.from) {
			before := bench.ProcessCPU()
			if pause(ctx, w.until) {
				cpu = bench.ProcessCPU() - before
			}
		}
	})
	for i, k := range l.kits {
		wg.Go(func() { tallies[i] = k.run(ctx, l, w) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return bench.Result{}, err
	}
	r := bench.Result{Elapsed: duration, CPU: cpu}
	var all []time.Duration
	for _, t := range tallies {
		all = append(all, t.latencies...)
		r.Failed += t.failed
		if r.FirstError == "" {
			r.FirstError = t.firstErr
		}
	}
	if why := l.lost.Load(); why != nil {
		r.FirstError = *why // why the acks are missing
	}
	slices.Sort(all)
	r.Events = len(all)
	if len(all) > 0 {
		at := func(q float64) time.Duration { return all[min(len(all)-1, int(q*float64(len(all))))] }
		r.P50, r.P90, r.P99, r.Max = at(0.50), at(0.90), at(0.99), all[len(all)-1]
	}
	return r, nil
}

// pause waits until t, or ctx's end (false).
func pause(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// run sends the device's events, l.inflight at a time, each after an ack
// until the window ends, and times those sent and acked inside it.
func (k *loadKit) run(ctx context.Context, l *kitLoad, w window) kitTally {
	var t kitTally
	sent := make(map[string]time.Time, l.inflight) // by message ID
	for range l.inflight {
		id, at := k.send(l)
		sent[id] = at
	}
	gaveUp := time.NewTimer(time.Until(w.until.Add(ackWait)))
	defer gaveUp.Stop()
	for len(sent) > 0 {
		select {
		case a := <-k.acks:
			at, ok := sent[a.MessageID]
			if !ok {
				continue // of an event an earlier measurement gave up on
			}
			delete(sent, a.MessageID)
			switch {
			case a.Status != 202:
				t.fail(1, fmt.Sprintf("device %s, event %s: %d %s: %s", k.id, a.MessageID, a.Status, a.Code, a.Description))
			case !at.Before(w.from) && !a.at.After(w.until):
				t.latencies = append(t.latencies, a.at.Sub(at))
			}
			if time.Now().Before(w.until) {
				id, at := k.send(l)
				sent[id] = at
			}
		case <-gaveUp.C:
			t.fail(len(sent), fmt.Sprintf("device %s: %d events not acked %s after the window", k.id, len(sent), ackWait))
			return t
		case <-ctx.Done():
			return t
		}
	}
	return t
}

// send publishes the device's next event and returns its message ID and
// when it was sent. Its payload is a new slice each time: paho keeps it
// until the broker's PUBACK.
func (k *loadKit) send(l *kitLoad) (string, time.Time) {
	k.seq++
	id := l.runID + "-" + strconv.FormatInt(k.seq, 10)
	now := time.Now()
	// timeOfSample has milliseconds: an event in the same one as the last
	// takes the next, so that each is newer than the one before.
	sampled := now.Truncate(time.Millisecond)
	if !sampled.After(k.sampled) {
		sampled = k.sampled.Add(time.Millisecond)
	}
	k.sampled = sampled
	instance := l.instances[k.seq%int64(len(l.instances))]
	level := 95 - (k.offset+k.seq)%76
	k.client.Publish(k.events, 1, false, bench.AppendReport(make([]byte, 0, 512), bench.Device{EndpointID: k.id}, instance, id, level, sampled))
	return id, now
}
