package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"replenish"
	"replenish/simulator"
)

// simOptions shape one run of the simulated vendor cloud.
type simOptions struct {
	URL         string
	OperatorKey string
	Listen      string
	Customers   int
	Auto        int // how many of the customers choose smart reorder
	Printers    int
	Speed       float64
	Duration    time.Duration
	Threshold   float64
	Seed        uint64
	// VendorEmail and VendorPassword, when set, give the simulated vendor
	// a console user, so that the demo's reader can sign in as the vendor.
	VendorEmail, VendorPassword string
}

func (o *simOptions) flags(fs interface {
	StringVar(*string, string, string, string)
	IntVar(*int, string, int, string)
	Float64Var(*float64, string, float64, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Uint64Var(*uint64, string, uint64, string)
}) {
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "where the simulated vendor's skill endpoint listens (`host:port`)")
	fs.IntVar(&o.Customers, "customers", 2, "how many customers link the simulated vendor")
	fs.IntVar(&o.Auto, "auto", 1, "how many of them choose smart reorder (AUTO); the others are told (NOTIFY)")
	fs.IntVar(&o.Printers, "printers", 1, "printers per customer, four inks each")
	fs.Float64Var(&o.Speed, "speed", 86400, "simulated seconds per real second (86400: a day per second)")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long the simulation runs (0: until interrupted)")
	fs.Float64Var(&o.Threshold, "threshold", 10, "the low threshold the operator assigns, in percent")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed for the fleet (0: a new one each run)")
}

func (o *simOptions) validate() error {
	switch {
	case o.Customers < 1:
		return errors.New("--customers: at least 1")
	case o.Auto < 0 || o.Auto > o.Customers:
		return fmt.Errorf("--auto: from 0 to --customers (%d)", o.Customers)
	case o.Printers < 1:
		return errors.New("--printers: at least 1")
	case o.Speed <= 0:
		return errors.New("--speed: more than 0")
	case o.Threshold < 0 || o.Threshold > 100:
		return errors.New("--threshold: a percentage from 0 to 100")
	case o.OperatorKey == "":
		return errors.New("--operator-key: required, to register the simulated vendor (REPLENISH_OPERATOR_KEY works too)")
	}
	return nil
}

const simulateAbout = `Runs a simulated vendor cloud against a running Replenish: registers a
vendor with a printer model (four inks), has the operator assign its
replenishment IDs, links customers through the real AcceptGrant, token and
Discover flow, then drains the inks in compressed time and reports the
levels as ChangeReports. Prints low supplies and orders as they happen.
`

func simulateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o simOptions
	fs := newFlags("simulate", simulateAbout, stderr)
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the base `URL` of the running Replenish")
	fs.StringVar(&o.OperatorKey, "operator-key", "", "the operator's API `key`")
	o.flags(fs)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return simulate(ctx, o, stdout, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

var customerNames = []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov", "Edsger Dijkstra",
	"Frances Allen", "Donald Knuth", "Margaret Hamilton"}

// simulate runs the scenario of simOptions and prints what happens.
func simulate(ctx context.Context, o simOptions, out io.Writer, log *slog.Logger) error {
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	skillURL := "http://" + ln.Addr().String()
	httpClient := &http.Client{Timeout: 30 * time.Second}
	api := &simulator.Client{URL: strings.TrimSuffix(o.URL, "/"), HTTP: httpClient}

	fmt.Fprintf(out, "Registering a simulated printer vendor at %s ...\n", api.URL)
	v, err := simulator.Register(ctx, api, o.OperatorKey, skillURL, o.Threshold)
	if err != nil {
		ln.Close()
		return fmt.Errorf("registering the simulated vendor: %w", err)
	}
	if o.VendorEmail != "" {
		err := api.Do(ctx, "POST", "/api/v1/vendors/"+v.VendorCode+"/users", o.OperatorKey,
			map[string]string{"email": o.VendorEmail, "password": o.VendorPassword}, nil)
		if err != nil {
			ln.Close()
			return fmt.Errorf("adding the simulated vendor's console user: %w", err)
		}
	}
	cloud := simulator.NewCloud(simulator.Config{
		ReplenishURL: api.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret, SigningSecret: v.SigningSecret,
		ModelID: v.ModelID, Inks: v.Inks, Printers: o.Printers, StartMin: 15, StartMax: 70, DrainMin: 4, DrainMax: 12,
		Rand: rand.New(rand.NewPCG(seed, seed>>1|1)), HTTP: httpClient, Log: log,
	})
	cloudServer := &http.Server{Handler: cloud, ReadHeaderTimeout: 10 * time.Second}
	go cloudServer.Serve(ln)
	defer cloudServer.Close()

	var people []*simulator.Customer
	for i := range o.Customers {
		name := customerNames[i%len(customerNames)]
		cu, err := simulator.AddCustomer(ctx, api, o.OperatorKey, v, name)
		if err != nil {
			return fmt.Errorf("linking customer %s: %w", name, err)
		}
		mode := replenish.ModeNotify
		if i < o.Auto {
			mode = replenish.ModeAuto
			if err := simulator.SetMode(ctx, api, cu, mode); err != nil {
				return fmt.Errorf("choosing smart reorder for %s: %w", name, err)
			}
		}
		people = append(people, cu)
		fmt.Fprintf(out, "  customer %-16s %s  mode %-6s  API key %s\n", name, cu.CustomerID, mode, cu.APIKey)
	}
	fmt.Fprintf(out, "  vendor   %-16s API key %s\n  skill endpoint %s, seed %d\n\n", v.VendorCode, v.APIKey, skillURL, seed)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if o.Duration > 0 {
		runCtx, stop = context.WithTimeout(ctx, o.Duration)
		defer stop()
	}
	fmt.Fprintf(out, "Simulating at %g× (%s of device time per second) for %s. Supplies and orders as they happen:\n",
		o.Speed, time.Duration(o.Speed*float64(time.Second)), durationText(o.Duration))

	var sent, accepted atomic.Int64
	var rejected sync.Map // status → count
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		cloud.Run(runCtx, o.Speed, 100*time.Millisecond, func(d *simulator.Device, status int, err error) {
			sent.Add(1)
			if err == nil {
				accepted.Add(1)
				return
			}
			n, _ := rejected.LoadOrStore(status, new(atomic.Int64))
			if n.(*atomic.Int64).Add(1) == 1 {
				fmt.Fprintf(out, "  ! report from %s refused: %v\n", d.EndpointID, err)
			}
		})
	})
	watchFeeds(runCtx, api, people, out, start, o.Speed, &sent)
	wg.Wait()

	fmt.Fprintf(out, "\nSimulation over: %d reports sent, %d accepted", sent.Load(), accepted.Load())
	rejected.Range(func(k, v any) bool {
		fmt.Fprintf(out, ", %d refused with HTTP %d", v.(*atomic.Int64).Load(), k)
		return true
	})
	fmt.Fprintln(out, ".")
	return nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return "as long as it runs (Ctrl-C stops it)"
	}
	return d.String()
}

// watchFeeds prints each customer's new feed entries as they appear,
// through the customer API, with the simulated day; and a progress line
// every ten seconds.
func watchFeeds(ctx context.Context, api *simulator.Client, people []*simulator.Customer, out io.Writer,
	start time.Time, speed float64, sent *atomic.Int64) {
	seen := map[int64]bool{}
	poll := time.NewTicker(500 * time.Millisecond)
	defer poll.Stop()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-progress.C:
			fmt.Fprintf(out, "  … day %.0f, %d reports sent\n", time.Since(start).Seconds()*speed/86400, sent.Load())
		case <-poll.C:
			for i, cu := range people {
				var feed struct{ Items []replenish.FeedEntry }
				if err := api.Do(ctx, "GET", "/api/v1/feed", cu.APIKey, nil, &feed); err != nil {
					if ctx.Err() == nil {
						fmt.Fprintf(out, "  ! reading the feed of %s: %v\n", customerNames[i%len(customerNames)], err)
					}
					continue
				}
				for j := len(feed.Items) - 1; j >= 0; j-- {
					f := feed.Items[j]
					if seen[f.ID] {
						continue
					}
					seen[f.ID] = true
					fmt.Fprintf(out, "  day %3.0f  %-14s %-15s %s\n", time.Since(start).Seconds()*speed/86400,
						customerNames[i%len(customerNames)], f.Type, f.Message)
				}
			}
		}
	}
}
