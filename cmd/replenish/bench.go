package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"replenish"
	"replenish/bench"
	"replenish/console"
	"replenish/simulator"
	"replenish/storage"
	"replenish/storage/sqldb"
)

const benchAbout = `Measures how many ChangeReports per second the event gateway takes, in
one run on this machine: first a bare HTTP server that only decodes the
same JSON and answers 202 (the ceiling), then Replenish itself (the real
handler and storage on a real SQLite file, or the PostgreSQL database
--db names), each --runs times, in turn. It prints events/s, the ratio of
the two, and latencies. On PostgreSQL, --instances 2 runs two instances
on the database, and the connections send to each in turn.

The devices are --endpoints printers of a simulated vendor, each with its
customer's access token; --conns connections each send one report at a
time. With --preload-endpoints and --preload-readings the database first
gets that many other endpoints and readings, by bulk SQL; give --db to
keep that file and reuse it in later runs.

"replenish bench mqtt" measures the same ingest from CONNECT_KIT devices
over MQTT, on the embedded broker: events/s acked once stored, and the
latency from publishing an event to its ack (see its --help).

Two more checks run a real "replenish serve" child process (see their
--help):

  replenish bench crash  SIGKILL-and-restart cycles under load, then counts
                         every acknowledged event and order: 0 lost, 0 doubled
  replenish bench soak   a steady load for a set time, printing the server's
                         memory, open files, threads and database size
`

// benchConfig is the bench command's configuration.
type benchConfig struct {
	Endpoints        int
	Conns            int
	Warmup, Duration time.Duration
	Runs             int
	DB               string
	Instances        int
	PreloadEndpoints int
	PreloadReadings  int
	CPUProfile       string
}

func benchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "crash":
			return crashCommand(ctx, args[1:], getenv, stdout, stderr)
		case "soak":
			return soakCommand(ctx, args[1:], getenv, stdout, stderr)
		case "mqtt":
			return benchMQTTCommand(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	var cfg benchConfig
	fs := newFlags("bench", benchAbout, stderr)
	fs.IntVar(&cfg.Endpoints, "endpoints", 50000, "how many devices `n` report")
	fs.IntVar(&cfg.Conns, "conns", 200, "concurrent `connections`")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "load sent before counting starts, per measurement")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long each measurement counts")
	fs.IntVar(&cfg.Runs, "runs", 3, "measurements of each server, taken in turn")
	fs.StringVar(&cfg.DB, "db", "", "the database: a SQLite `file` to use and keep (default: a temporary file, removed after), or a postgres:// URL")
	fs.IntVar(&cfg.Instances, "instances", 1, "how many Replenish instances `n` share the database, taking the load in turn (PostgreSQL only beyond 1)")
	fs.IntVar(&cfg.PreloadEndpoints, "preload-endpoints", 0, "other endpoints `n` in the database before the run")
	fs.IntVar(&cfg.PreloadReadings, "preload-readings", 0, "readings `n` of the preloaded endpoints")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the first Replenish measurement to `file`")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	switch {
	case cfg.Endpoints < 1:
		return errors.New("--endpoints: at least 1")
	case cfg.Conns < 1:
		return errors.New("--conns: at least 1")
	case cfg.Duration <= 0 || cfg.Warmup < 0:
		return errors.New("--duration must be positive, --warmup not negative")
	case cfg.Runs < 1:
		return errors.New("--runs: at least 1")
	case cfg.PreloadEndpoints < 0 || cfg.PreloadReadings < 0:
		return errors.New("--preload-endpoints and --preload-readings: not negative")
	case cfg.PreloadReadings > 0 && cfg.PreloadEndpoints == 0:
		return errors.New("--preload-readings: needs --preload-endpoints")
	case cfg.Instances < 1:
		return errors.New("--instances: at least 1")
	case cfg.Instances > 1 && !sqldb.IsPostgres(cfg.DB):
		return errors.New("--instances: several instances share a PostgreSQL database; give --db postgres://...")
	}
	if cfg.DB == "" {
		dir, err := os.MkdirTemp("", "replenish-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DB = filepath.Join(dir, "bench.db")
	}
	return runBench(ctx, cfg, stdout)
}

func runBench(ctx context.Context, cfg benchConfig, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	operatorKey, err := benchOperator(ctx, cfg.DB)
	if err != nil {
		return err
	}

	// Replenish, wired exactly as serve wires it: --instances of it on
	// one database, each with its own listener, writer and pools.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	served := make(chan error, cfg.Instances)
	defer func() {
		cancel()
		for range cfg.Instances {
			<-served
		}
	}()
	var baseURLs []string
	for range cfg.Instances {
		ready := make(chan string, 1)
		go func() {
			// No rate limit: the bench measures the gateway, not its throttle.
			c := defaults(cfg.DB)
			c.LogLevel, c.GatewayRate = slog.LevelWarn, 0
			served <- serve(ctx, c, log, io.Discard,
				func(s started) { ready <- s.URL })
		}()
		select {
		case u := <-ready:
			baseURLs = append(baseURLs, u)
		case err := <-served:
			served <- nil // for the deferred wait
			return err
		}
	}
	baseURL := baseURLs[0]

	fleet, err := benchFleet(ctx, baseURL, operatorKey)
	if err != nil {
		return fmt.Errorf("register the vendor: %w", err)
	}
	now := time.Now().UTC()
	if cfg.PreloadEndpoints > 0 {
		if err := bench.Preload(ctx, cfg.DB, fleet, cfg.PreloadEndpoints, cfg.PreloadReadings, now, stdout); err != nil {
			return err
		}
	}
	runID := replenish.NewID("b", 8)
	seeded := time.Now()
	devices, err := bench.SeedDevices(ctx, cfg.DB, runID, fleet, cfg.Endpoints, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d devices in %s\n", len(devices), time.Since(seeded).Round(time.Millisecond))
	fmt.Fprintf(stdout, "bench: %d endpoints, %d connections, %s warm-up, %s counted, %d runs, %d instance(s); %s holds %d preloaded endpoints, %d readings\n",
		cfg.Endpoints, cfg.Conns, cfg.Warmup, cfg.Duration, cfg.Runs, cfg.Instances, sqldb.Redact(cfg.DB), cfg.PreloadEndpoints, cfg.PreloadReadings)

	load := bench.Load{Devices: devices, Conns: cfg.Conns, Warmup: cfg.Warmup, Duration: cfg.Duration}
	for _, s := range fleet.Slots {
		load.Instances = append(load.Instances, s.Instance)
	}
	var bare, real []bench.Result
	for run := 1; run <= cfg.Runs; run++ {
		r, err := measureBare(ctx, load, fmt.Sprintf("%s-bare%d", runID, run))
		if err != nil {
			return err
		}
		printResult(stdout, run, "bare", r)
		bare = append(bare, r)
		load.URLs, load.RunID = baseURLs, fmt.Sprintf("%s-real%d", runID, run)
		if run == 1 && cfg.CPUProfile != "" {
			r, err = profiled(cfg.CPUProfile, func() (bench.Result, error) { return bench.Run(ctx, load) })
		} else {
			r, err = bench.Run(ctx, load)
		}
		if err != nil {
			return err
		}
		printResult(stdout, run, "replenish", r)
		real = append(real, r)
	}
	mb, mr := median(bare), median(real)
	fmt.Fprintf(stdout, "\nmedian of %d runs (min–max):\n", cfg.Runs)
	fmt.Fprintf(stdout, "  bare       %8.0f events/s (%.0f–%.0f)\n", mb.Rate(), minRate(bare), maxRate(bare))
	fmt.Fprintf(stdout, "  replenish  %8.0f events/s (%.0f–%.0f)  p50 %s  p90 %s  p99 %s  max %s\n",
		mr.Rate(), minRate(real), maxRate(real), ms(mr.P50), ms(mr.P90), ms(mr.P99), ms(mr.Max))
	fmt.Fprintf(stdout, "  ratio      %.0f %% of the bare server\n", 100*mr.Rate()/mb.Rate())
	fmt.Fprintf(stdout, "  cpu        %s per event with the bare server, %s with Replenish (the load generator's included in both)\n",
		us(mb.CPUPerEvent()), us(mr.CPUPerEvent()))
	return nil
}

// benchOperator brings the file's schema up to date and returns a new
// operator key, whether or not the file had an operator.
func benchOperator(ctx context.Context, path string) (string, error) {
	store, err := sqldb.Open(ctx, path)
	if err != nil {
		return "", err
	}
	defer store.Close()
	key := replenish.NewSecret("rk_op_")
	created, err := console.New(store, time.Now).Bootstrap(ctx, key)
	if err != nil || created != "" {
		return key, err
	}
	return key, store.Write(ctx, func(tx storage.Tx) error {
		return tx.InsertAPIKey(ctx, replenish.HashSecret(key), replenish.Principal{Role: replenish.RoleOperator}, time.Now())
	})
}

// benchFleet registers a simulated printer vendor through the API and
// returns its model's slots.
func benchFleet(ctx context.Context, baseURL, operatorKey string) (bench.Fleet, error) {
	c := &simulator.Client{URL: baseURL, HTTP: http.DefaultClient}
	// No directive is ever sent to the skill endpoint: devices are seeded.
	v, err := simulator.Register(ctx, c, operatorKey, "https://skill.bench.example/", 5)
	if err != nil {
		return bench.Fleet{}, err
	}
	var m replenish.Model
	if err := c.Do(ctx, "GET", "/api/v1/models/"+v.ModelID, v.APIKey, nil, &m); err != nil {
		return bench.Fleet{}, err
	}
	f := bench.Fleet{VendorCode: v.VendorCode, ModelID: v.ModelID}
	for i, s := range m.Slots {
		f.Slots = append(f.Slots, bench.Slot{SlotID: s.SlotID, Instance: v.Inks[i].Instance, Name: v.Inks[i].Name,
			ReplenishmentID: v.Inks[i].ReplenishmentID, ProductID: s.Products["US"][0]})
	}
	return f, nil
}

// profiled runs measure under the CPU profiler, writing the profile to path.
func profiled(path string, measure func() (bench.Result, error)) (bench.Result, error) {
	f, err := os.Create(path)
	if err != nil {
		return bench.Result{}, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return bench.Result{}, err
	}
	defer pprof.StopCPUProfile()
	return measure()
}

// measureBare runs the load against a bare server of its own.
func measureBare(ctx context.Context, load bench.Load, runID string) (bench.Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url, err := bench.Serve(ctx, bench.Bare())
	if err != nil {
		return bench.Result{}, err
	}
	load.URLs, load.RunID = []string{url}, runID
	return bench.Run(ctx, load)
}

func printResult(w io.Writer, run int, name string, r bench.Result) {
	fmt.Fprintf(w, "run %d  %-9s  %8.0f events/s  p50 %s  p90 %s  p99 %s  max %s  cpu %s/event on %.2f cores",
		run, name, r.Rate(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), us(r.CPUPerEvent()), r.Cores())
	if r.Failed > 0 {
		fmt.Fprintf(w, "  %d FAILED, first: %s", r.Failed, r.FirstError)
	}
	fmt.Fprintln(w)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond)) }

// median is the run with the median rate.
func median(rs []bench.Result) bench.Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b bench.Result) int {
		switch {
		case a.Rate() < b.Rate():
			return -1
		case a.Rate() > b.Rate():
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

func minRate(rs []bench.Result) float64 {
	return slices.Min(rates(rs))
}

func maxRate(rs []bench.Result) float64 {
	return slices.Max(rates(rs))
}

func rates(rs []bench.Result) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.Rate()
	}
	return out
}
