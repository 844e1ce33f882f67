package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"replenish"
	"sync"
	"time"

	"replenish/bench"
)

const crashAbout = `Checks that a crash loses and repeats nothing. It starts "replenish serve"
as a child process on a new SQLite file and, --cycles times, sends a batch
of gateway events and kills the server with SIGKILL while they arrive,
then restarts it on the same file and lets the vendor send again what
was not acknowledged (and, for each device it interrupted, the last event
that was: a repeat the server must recognise).

Each batch is --devices new printers on smart reorder, each sending seven
level readings in order, on two inks: one ink falls through its low
threshold (80, 40, then 3 three times), which places an order that the
release timer releases a second later; the other stays high (70, 65).
Each kill comes at a random point of its batch, with readings in flight,
orders being placed and the timer releasing earlier ones.

After every restart it checks that each event answered 202 before the
kill is in the database. At the end it counts every event, reading and
order: every acknowledged event stored once, one order for each ink that
went low and none for the others, each order placed, released and shipped
once. It prints a line per cycle and the totals; any lost or doubled
event or order makes the command fail.
`

// crashConfig is the crash check's configuration.
type crashConfig struct {
	Cycles  int
	Devices int
	Conns   int
	Binary  string
	DB      string
	Seed    uint64
}

func crashCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg crashConfig
	fs := newFlags("bench crash", crashAbout, stderr)
	fs.IntVar(&cfg.Cycles, "cycles", 20, "SIGKILL-and-restart `cycles`")
	fs.IntVar(&cfg.Devices, "devices", 200, "new devices `n` sending a batch of events in each cycle")
	fs.IntVar(&cfg.Conns, "conns", 16, "concurrent `connections` sending the events")
	fs.StringVar(&cfg.Binary, "binary", "", "the replenish `program` to run as the server (default: this one)")
	fs.StringVar(&cfg.DB, "db", "", "a new SQLite `file` to use and keep (default: a temporary file, removed after)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the random kill points (default: from the clock)")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	switch {
	case cfg.Cycles < 1:
		return errors.New("--cycles: at least 1")
	case cfg.Devices < 1:
		return errors.New("--devices: at least 1")
	case cfg.Conns < 1:
		return errors.New("--conns: at least 1")
	}
	var err error
	if cfg.Binary == "" {
		if cfg.Binary, err = os.Executable(); err != nil {
			return err
		}
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	db, cleanup, err := childFile(cfg.DB, "crash.db")
	if err != nil {
		return err
	}
	defer cleanup()
	cfg.DB = db
	return runCrash(ctx, cfg, stdout)
}

// childFile is the database file for a child server: path, which must not
// exist yet, or a new file in a temporary directory that cleanup removes.
func childFile(path, name string) (file string, cleanup func(), err error) {
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return "", nil, fmt.Errorf("--db: %s exists; give a new file", path)
		}
		return path, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "replenish-bench-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, name), func() { os.RemoveAll(dir) }, nil
}

// crashFlags are the child server's flags in the crash check: orders
// released a second after they are placed, the timer looking every 50 ms.
var crashFlags = []string{"--cancel-window", "1s", "--order-tick", "50ms", "--test-delivery-after", "1h"}

// crashScript is what each device sends: the ink (0 or 1) and its level,
// in order.
var crashScript = []struct {
	ink   int
	level int64
}{{0, 80}, {1, 70}, {0, 40}, {1, 65}, {0, 3}, {0, 3}, {0, 3}}

// crashBatch is one cycle's devices and how far each got.
type crashBatch struct {
	devices []bench.Device
	start   time.Time
	runID   string
	mu      sync.Mutex
	acked   []int // events of each device answered 202, in order
	total   int
}

func (b *crashBatch) messageID(d, i int) string { return fmt.Sprintf("%s-%d-%d", b.runID, d, i) }

func (b *crashBatch) event(f bench.Fleet, d, i int) []byte {
	s := crashScript[i]
	return bench.AppendReport(nil, b.devices[d], f.Slots[s.ink].Instance, b.messageID(d, i), s.level,
		b.start.Add(time.Duration(i+1)*time.Second))
}

func (b *crashBatch) ackedTotal() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// send sends each device's events from the given index on, one device at
// a time per connection and each device's in order, until all are
// acknowledged or the server is gone; it returns how many were sent.
func (b *crashBatch) send(ctx context.Context, client *http.Client, url string, f bench.Fleet, conns int, from []int) (sent int, firstErr error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := 0
	for range conns {
		wg.Go(func() {
			for {
				mu.Lock()
				d := next
				next++
				mu.Unlock()
				if d >= len(b.devices) {
					return
				}
				for i := from[d]; i < len(crashScript); i++ {
					err := bench.Post(ctx, client, url, b.devices[d].Token, b.event(f, d, i))
					mu.Lock()
					sent++
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					if err != nil {
						return
					}
					b.mu.Lock()
					if i+1 > b.acked[d] {
						b.total += i + 1 - b.acked[d]
						b.acked[d] = i + 1
					}
					b.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return sent, firstErr
}

func runCrash(ctx context.Context, cfg crashConfig, stdout io.Writer) error {
	began := time.Now()
	rnd := rand.New(rand.NewPCG(cfg.Seed, 16))
	operatorKey, err := benchOperator(ctx, cfg.DB)
	if err != nil {
		return err
	}
	logErr := func(line string) { fmt.Fprintln(stdout, "  server:", line) }
	srv, err := startServer(cfg.Binary, cfg.DB, operatorKey, logErr, crashFlags...)
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.kill()
		}
	}()
	runID := replenish.NewID("k", 6)
	fleet, all, db, err := seedChild(ctx, srv.url, operatorKey, cfg.DB, runID, cfg.Cycles*cfg.Devices)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "crash: %d cycles of %d devices × %d events on %d connections; server %s, database %s, seed %d\n",
		cfg.Cycles, cfg.Devices, len(crashScript), cfg.Conns, cfg.Binary, cfg.DB, cfg.Seed)

	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: cfg.Conns, MaxIdleConnsPerHost: cfg.Conns},
		Timeout: 10 * time.Second}
	var acked, lost, repeats int
	var ackedIDs []string
	for cycle := 1; cycle <= cfg.Cycles; cycle++ {
		b := &crashBatch{devices: all[(cycle-1)*cfg.Devices : cycle*cfg.Devices], start: time.Now().UTC().Truncate(time.Second),
			runID: fmt.Sprintf("%s-%d", runID, cycle), acked: make([]int, cfg.Devices)}
		events := cfg.Devices * len(crashScript)
		killAt := events/5 + rnd.IntN(events*7/10+1)

		// The batch, and the kill once killAt events were acknowledged.
		sending := make(chan struct{})
		go func() {
			defer close(sending)
			b.send(ctx, client, srv.url, fleet, cfg.Conns, make([]int, cfg.Devices))
		}()
	wait:
		for b.ackedTotal() < killAt {
			select {
			case <-sending:
				break wait // all sent before the kill point: kill now
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
		var ordersAtKill, releasedAtKill int
		db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(status != 'PENDING'), 0) FROM orders`).Scan(&ordersAtKill, &releasedAtKill)
		pid := srv.pid()
		srv.kill()
		<-sending
		atKill := b.ackedTotal()

		restarted := time.Now()
		if srv, err = startServer(cfg.Binary, cfg.DB, operatorKey, logErr, crashFlags...); err != nil {
			return fmt.Errorf("cycle %d: restart: %w", cycle, err)
		}
		restart := time.Since(restarted)

		// Every event acknowledged before the kill is stored.
		missing := 0
		for d, n := range b.acked {
			for i := range n {
				var found int
				if err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE vendor_code = ? AND message_id = ?`,
					fleet.VendorCode, b.messageID(d, i)).Scan(&found); err != nil {
					return err
				}
				if found != 1 {
					missing++
				}
			}
		}

		// The vendor sends again what was not acknowledged, and the last
		// event of each interrupted device that was.
		from := make([]int, cfg.Devices)
		again := 0
		for d, n := range b.acked {
			from[d] = n
			if n > 0 && n < len(crashScript) {
				from[d], again = n-1, again+1
			}
		}
		resent, err := b.send(ctx, client, srv.url, fleet, cfg.Conns, from)
		if err != nil {
			return fmt.Errorf("cycle %d: resending after the restart: %w", cycle, err)
		}
		if b.ackedTotal() != events {
			return fmt.Errorf("cycle %d: %d of %d events acknowledged after the restart", cycle, b.ackedTotal(), events)
		}
		acked += events
		lost += missing
		repeats += again
		for d := range b.devices {
			for i := range crashScript {
				ackedIDs = append(ackedIDs, b.messageID(d, i))
			}
		}
		fmt.Fprintf(stdout, "cycle %2d/%d  SIGKILL to pid %d with %d of %d events acknowledged (%d orders, %d released); restarted in %s; %d lost; resent %d (%d repeats), all acknowledged\n",
			cycle, cfg.Cycles, pid, atKill, events, ordersAtKill, releasedAtKill, restart.Round(time.Millisecond), missing, resent, again)
	}

	// The timer releases what is still pending.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var pending int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM orders WHERE status = 'PENDING'`).Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d orders still pending 30 s after the last cycle", pending)
		}
	}
	c, err := countCrash(ctx, db, fleet, ackedIDs)
	if err != nil {
		return err
	}
	devices := cfg.Cycles * cfg.Devices
	fmt.Fprintf(stdout, "\ncrash: %d cycles in %s\n", cfg.Cycles, time.Since(began).Round(time.Second))
	fmt.Fprintf(stdout, "  events    %d acknowledged (%d repeats of acknowledged ones also answered 202): %d lost at a kill, %d missing at the end, %d stored twice\n",
		acked, repeats, lost, c.missingEvents, c.doubledEvents)
	fmt.Fprintf(stdout, "  readings  %d stored of %d sent\n", c.readings, acked)
	fmt.Fprintf(stdout, "  orders    %d for the %d inks that went low: %d lost, %d doubled, %d for inks that did not; %d ORDER_PLACED notices; %d orders not placed, released and shipped exactly once\n",
		c.orders, devices, c.lostOrders, c.doubledOrders, c.wrongOrders, c.placed, c.badSteps)
	failed := lost+c.missingEvents+c.doubledEvents+c.lostOrders+c.doubledOrders+c.wrongOrders+c.badSteps > 0 ||
		c.readings != acked || c.orders != devices || c.placed != devices
	if failed {
		fmt.Fprintln(stdout, "  result    FAILED")
		return errors.New("crash: events or orders lost or doubled")
	}
	fmt.Fprintln(stdout, "  result    0 lost, 0 doubled")
	return nil
}

// crashCounts is what the database holds after the crash check.
type crashCounts struct {
	missingEvents, doubledEvents int
	readings                     int
	orders, lostOrders           int
	doubledOrders, wrongOrders   int
	placed, badSteps             int
}

// countCrash counts the events of ids missing or stored twice, and the
// orders: one for each slot of the fleet's first ink, none for others.
func countCrash(ctx context.Context, db *sql.DB, f bench.Fleet, ids []string) (crashCounts, error) {
	var c crashCounts
	stored := map[string]int{}
	rows, err := db.QueryContext(ctx, `SELECT message_id FROM events WHERE vendor_code = ?`, f.VendorCode)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return c, err
		}
		stored[id]++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}
	for _, id := range ids {
		switch stored[id] {
		case 0:
			c.missingEvents++
		case 1:
		default:
			c.doubledEvents++
		}
	}
	low := f.Slots[0].Instance
	for _, q := range []struct {
		dest  *int
		query string
		args  []any
	}{
		{&c.readings, `SELECT count(*) FROM readings`, nil},
		{&c.orders, `SELECT count(*) FROM orders`, nil},
		{&c.lostOrders, `SELECT count(*) FROM endpoint_slots s WHERE s.instance = ?
			AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.slot = s.id)`, []any{low}},
		{&c.doubledOrders, `SELECT count(*) FROM (SELECT slot FROM orders GROUP BY slot HAVING count(*) > 1)`, nil},
		{&c.wrongOrders, `SELECT count(*) FROM orders o JOIN endpoint_slots s ON s.id = o.slot WHERE s.instance != ?`, []any{low}},
		{&c.placed, `SELECT count(*) FROM feed WHERE type = 'ORDER_PLACED'`, nil},
		// Every order: placed once, released once, shipped once (a test order).
		{&c.badSteps, `SELECT count(*) FROM orders o WHERE (SELECT count(*) != 3 OR sum(status = 'PENDING') != 1
			OR sum(status = 'RELEASED') != 1 OR sum(status = 'SHIPPED') != 1 FROM order_steps s WHERE s.order_id = o.order_id)`, nil},
	} {
		if err := db.QueryRowContext(ctx, q.query, q.args...).Scan(q.dest); err != nil {
			return c, fmt.Errorf("counting: %w", err)
		}
	}
	return c, nil
}
