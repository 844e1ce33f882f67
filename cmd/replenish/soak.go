package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"replenish"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"replenish/bench"
)

const soakAbout = `Runs "replenish serve" as a child process on a new SQLite file under a
steady load of gateway events for --duration, and every --every prints
what the server holds: its resident memory (VmRSS), open files (entries
of /proc/<pid>/fd), OS threads (from /proc/<pid>/status: the server
exposes no goroutine count, and the Go runtime's threads are what a
goroutine leak blocked in a system call would show), the database file
and its write-ahead log, the orders in it, and the events answered since
the last line. It reads /proc, so it runs on Linux.

The load is --rate events per second, spread evenly over time, from
--devices printers on smart reorder. Each printer takes its inks in turn
through full, falling and low three times (100, 70, 40, 10, 3, 3, 3), so
orders are placed, released, shipped and delivered as the load runs; the
database grows with every reading, the rest should stay flat.
`

// soakConfig is the soak's configuration.
type soakConfig struct {
	Duration time.Duration
	Every    time.Duration
	Rate     float64
	Devices  int
	Conns    int
	Binary   string
	DB       string
}

func soakCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg soakConfig
	fs := newFlags("bench soak", soakAbout, stderr)
	fs.DurationVar(&cfg.Duration, "duration", time.Hour, "how long the load runs")
	fs.DurationVar(&cfg.Every, "every", time.Minute, "how often the figures are printed")
	fs.Float64Var(&cfg.Rate, "rate", 200, "events per second `rate` sent")
	fs.IntVar(&cfg.Devices, "devices", 500, "devices `n` sending the events")
	fs.IntVar(&cfg.Conns, "conns", 16, "concurrent `connections` at most")
	fs.StringVar(&cfg.Binary, "binary", "", "the replenish `program` to run as the server (default: this one)")
	fs.StringVar(&cfg.DB, "db", "", "a new SQLite `file` to use and keep (default: a temporary file, removed after)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	switch {
	case cfg.Duration <= 0 || cfg.Every <= 0:
		return errors.New("--duration and --every: positive")
	case cfg.Rate <= 0:
		return errors.New("--rate: positive")
	case cfg.Devices < 1 || cfg.Conns < 1:
		return errors.New("--devices and --conns: at least 1")
	}
	var err error
	if cfg.Binary == "" {
		if cfg.Binary, err = os.Executable(); err != nil {
			return err
		}
	}
	db, cleanup, err := childFile(cfg.DB, "soak.db")
	if err != nil {
		return err
	}
	defer cleanup()
	cfg.DB = db
	return runSoak(ctx, cfg, stdout)
}

// soakFlags are the child server's flags in the soak: orders released two
// seconds after they are placed and test orders delivered 30 s after
// shipping, so that each ink can be ordered for again.
var soakFlags = []string{"--cancel-window", "2s", "--test-delivery-after", "30s"}

// soakLevels is the level an ink reports in each pass over the devices.
var soakLevels = []int64{100, 70, 40, 10, 3, 3, 3}

func runSoak(ctx context.Context, cfg soakConfig, stdout io.Writer) error {
	operatorKey, err := benchOperator(ctx, cfg.DB)
	if err != nil {
		return err
	}
	srv, err := startServer(cfg.Binary, cfg.DB, operatorKey, func(line string) { fmt.Fprintln(stdout, "  server:", line) }, soakFlags...)
	if err != nil {
		return err
	}
	defer srv.kill()
	runID := replenish.NewID("s", 6)
	fleet, devices, db, err := seedChild(ctx, srv.url, operatorKey, cfg.DB, runID, cfg.Devices)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "soak: %s at %.0f events/s from %d devices on at most %d connections; server pid %d (%s), database %s\n",
		cfg.Duration, cfg.Rate, cfg.Devices, cfg.Conns, srv.pid(), cfg.Binary, cfg.DB)

	// One event per tick, sent by whichever connection is free.
	load, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	var answered, failed, dropped atomic.Int64
	var firstErr atomic.Value
	ticks := make(chan int64, cfg.Conns)
	go func() {
		defer close(ticks)
		t := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
		defer t.Stop()
		for n := int64(0); ; n++ {
			select {
			case <-load.Done():
				return
			case <-t.C:
			}
			select {
			case ticks <- n:
			default: // every connection busy: the tick is dropped, and counted
				dropped.Add(1)
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: cfg.Conns, MaxIdleConnsPerHost: cfg.Conns},
		Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range cfg.Conns {
		wg.Go(func() {
			var buf []byte
			for n := range ticks {
				d := devices[n%int64(len(devices))]
				pass := n / int64(len(devices))
				ink := fleet.Slots[(pass/int64(len(soakLevels)))%int64(len(fleet.Slots))].Instance
				buf = bench.AppendReport(buf[:0], d, ink, runID+"-"+strconv.FormatInt(n, 10),
					soakLevels[pass%int64(len(soakLevels))], time.Now())
				if err := bench.Post(load, client, srv.url, d.Token, buf); err != nil {
					if load.Err() == nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				answered.Add(1)
			}
		})
	}

	fmt.Fprintf(stdout, "%9s %9s %7s %7s %10s %5s %8s %10s %10s %7s\n",
		"elapsed", "events/s", "failed", "dropped", "rss", "fds", "threads", "db", "wal", "orders")
	var samples []soakSample
	start := time.Now()
	sample := func() error {
		s, err := soakSampleOf(ctx, srv.pid(), cfg.DB, db)
		if err != nil {
			return err
		}
		s.elapsed, s.answered = time.Since(start), answered.Load()
		rate := 0.0
		if len(samples) > 0 {
			prev := samples[len(samples)-1]
			rate = float64(s.answered-prev.answered) / (s.elapsed - prev.elapsed).Seconds()
		}
		samples = append(samples, s)
		fmt.Fprintf(stdout, "%9s %9.1f %7d %7d %10s %5d %8d %10s %10s %7d\n", s.elapsed.Round(time.Second), rate,
			failed.Load(), dropped.Load(), mib(s.rss), s.fds, s.threads, mib(s.db), mib(s.wal), s.orders)
		return nil
	}
	if err := sample(); err != nil {
		return err
	}
	every := time.NewTicker(cfg.Every)
	defer every.Stop()
	for load.Err() == nil {
		select {
		case <-every.C:
			if err := sample(); err != nil {
				return err
			}
		case <-load.Done():
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if time.Since(start)-samples[len(samples)-1].elapsed > 100*time.Millisecond {
		if err := sample(); err != nil {
			return err
		}
	}

	first, warm, end := samples[0], samples[min(1, len(samples)-1)], samples[len(samples)-1]
	var peak soakSample
	for _, s := range samples {
		peak.rss, peak.fds, peak.threads = max(peak.rss, s.rss), max(peak.fds, s.fds), max(peak.threads, s.threads)
	}
	fmt.Fprintf(stdout, "\nsoak: %d events answered 202 in %s (%.1f/s), %d failed, %d ticks dropped with every connection busy\n",
		end.answered, end.elapsed.Round(time.Second), float64(end.answered)/end.elapsed.Seconds(), failed.Load(), dropped.Load())
	if e, ok := firstErr.Load().(string); ok {
		fmt.Fprintf(stdout, "  first failure: %s\n", e)
	}
	fmt.Fprintf(stdout, "  rss      %s idle, %s after %s, %s at the end (peak %s)\n", mib(first.rss), mib(warm.rss), warm.elapsed.Round(time.Second), mib(end.rss), mib(peak.rss))
	fmt.Fprintf(stdout, "  fds      %d idle, %d after %s, %d at the end (peak %d)\n", first.fds, warm.fds, warm.elapsed.Round(time.Second), end.fds, peak.fds)
	fmt.Fprintf(stdout, "  threads  %d idle, %d after %s, %d at the end (peak %d)\n", first.threads, warm.threads, warm.elapsed.Round(time.Second), end.threads, peak.threads)
	fmt.Fprintf(stdout, "  database %s + %s WAL idle, %s + %s WAL at the end; %d orders\n", mib(first.db), mib(first.wal), mib(end.db), mib(end.wal), end.orders)
	if failed.Load() > 0 {
		return fmt.Errorf("soak: %d events failed", failed.Load())
	}
	return nil
}

// soakSample is the server's figures at one moment of the soak.
type soakSample struct {
	elapsed  time.Duration
	answered int64
	rss      int64 // bytes
	fds      int
	threads  int
	db, wal  int64 // bytes
	orders   int
}

// soakSampleOf reads the figures of process pid from /proc and of the
// database at path.
func soakSampleOf(ctx context.Context, pid int, path string, db *sql.DB) (soakSample, error) {
	var s soakSample
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		switch k {
		case "VmRSS": // in kB
			n, _ := strconv.ParseInt(fields[0], 10, 64)
			s.rss = n << 10
		case "Threads":
			s.threads, _ = strconv.Atoi(fields[0])
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	if fi, err := os.Stat(path); err == nil {
		s.db = fi.Size()
	}
	if fi, err := os.Stat(path + "-wal"); err == nil {
		s.wal = fi.Size()
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&s.orders); err != nil {
		return s, err
	}
	return s, nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
