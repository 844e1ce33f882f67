package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/simulator"
)

// simOptions shape one run of the simulated vendor cloud.
type simOptions struct {
	URL          string
	OperatorKey  string
	Listen       string
	Devices      int
	Kinds        string
	PerCustomer  int
	Marketplaces string
	Auto         float64 // the share of customers who choose smart reorder
	Days         int
	Speed        float64
	Duration     time.Duration
	Concurrency  int
	Noise        float64
	Watch        bool
	Progress     time.Duration
	Seed         uint64
	// VendorEmail and VendorPassword, when set, give the simulated vendor
	// a console user, so that the demo's reader can sign in as the vendor.
	VendorEmail, VendorPassword string
	// Clerk, when set, plays the operator's part in manual fulfilment
	// (simulator.Clerk): it ships the vendor's released orders ShipAfter
	// after it sees them and delivers them DeliverAfter after that.
	Clerk                   bool
	ShipAfter, DeliverAfter time.Duration
	// Settle is how long to wait, after the days, for the vendor's open
	// orders to be delivered or cancelled before the summary counts them.
	Settle time.Duration
	// History is how many days of readings one device reports from its
	// log once linked, so that its forecast shows at once.
	History int
	// Kits is how many CONNECT_KIT printers talk to Replenish over MQTT,
	// at the broker MQTT, beside the cloud's fleet, claimed by its
	// customers in turn.
	Kits int
	MQTT string
	// CancelSecond has the first customer, when on smart reorder, cancel
	// their second order while it is pending: the demo's way to show a
	// cancellation. No flag sets it.
	CancelSecond bool
}

// fleetDefaults are simulate's defaults: a mixed fleet, with noise.
var fleetDefaults = simOptions{Listen: "127.0.0.1:0", MQTT: "tcp://127.0.0.1:1883", Devices: 200, Kinds: "printer,washer,coffee,vacuum",
	PerCustomer: 4, Marketplaces: "US,UK,DE,JP", Auto: 0.25, Days: 30, Speed: 86400, Concurrency: 8, Noise: 1,
	Progress: 5 * time.Second, ShipAfter: 5 * time.Second, DeliverAfter: 5 * time.Second}

// clerkEvery is how often the clerk, the watch and the wait for open
// orders look at the orders.
const clerkEvery = 500 * time.Millisecond

// flags defines the fleet's flags on fs with the defaults d.
func (o *simOptions) flags(fs *flag.FlagSet, d simOptions) {
	fs.StringVar(&o.Listen, "listen", d.Listen, "where the simulated vendor's skill endpoint listens (`host:port`)")
	fs.IntVar(&o.Devices, "devices", d.Devices, "how many devices the fleet has")
	fs.StringVar(&o.Kinds, "kinds", d.Kinds, "the `kinds` of device, comma-separated, drawn at random: printer (four inks, level in percent), washer (detergent and softener by volume), coffee (pods counted as used, water filter wear), vacuum (filter and brush wear, replacements)")
	fs.IntVar(&o.PerCustomer, "per-customer", d.PerCustomer, "at most this many devices per customer (each has 1 to this many)")
	fs.StringVar(&o.Marketplaces, "marketplaces", d.Marketplaces, "the `marketplaces` the models are sold in and customers live in, comma-separated")
	fs.Float64Var(&o.Auto, "auto", d.Auto, "the `share` of customers (0 to 1) who choose smart reorder (AUTO); the others are told (NOTIFY)")
	fs.IntVar(&o.Days, "days", d.Days, "how many simulated days the fleet runs")
	fs.Float64Var(&o.Speed, "speed", d.Speed, "simulated seconds per real second, at most (86400: a day per second); a day starts only when the last day's reports are answered")
	fs.DurationVar(&o.Duration, "duration", d.Duration, "stop after this much real time even if days remain (0: when the days are done)")
	fs.IntVar(&o.Concurrency, "concurrency", d.Concurrency, "how many requests the simulator has in flight")
	fs.Float64Var(&o.Noise, "noise", d.Noise, "how noisy devices are: 1 is the usual share of repeated, late, missed, mis-stamped reports and silent devices; 0 none")
	fs.BoolVar(&o.Watch, "watch", d.Watch, "print each customer's low supplies and orders, and each notification the vendor's webhook receives, as they happen (for small fleets)")
	fs.DurationVar(&o.Progress, "progress", d.Progress, "how often to print a progress line when standard error is not a terminal")
	fs.Uint64Var(&o.Seed, "seed", d.Seed, "random seed for the fleet (0: a new one each run)")
	fs.BoolVar(&o.Clerk, "clerk", d.Clerk, "play the operator's part in manual fulfilment with the operator's key: ship the fleet's released orders, with a tracking reference, then deliver them")
	fs.DurationVar(&o.ShipAfter, "ship-after", d.ShipAfter, "with --clerk: ship a released order this long after the clerk first sees it (`duration`)")
	fs.DurationVar(&o.DeliverAfter, "deliver-after", d.DeliverAfter, "with --clerk: deliver a shipped order this long after the clerk first sees it (`duration`)")
	fs.IntVar(&o.History, "history", d.History, "days of daily readings the first printer reports from its log once linked, so that its run-out forecast shows at once (0: none)")
	fs.IntVar(&o.Kits, "kits", d.Kits, "how many CONNECT_KIT printers, beside the fleet, talk to Replenish over MQTT themselves (claimed by the fleet's customers in turn)")
	fs.StringVar(&o.MQTT, "mqtt", d.MQTT, "with --kits: Replenish's MQTT broker, where the kits connect (`URL`, such as tcp://127.0.0.1:1883)")
	fs.DurationVar(&o.Settle, "settle", d.Settle, "after the days, wait up to this long for the fleet's open orders to be delivered or cancelled, so that the summary shows where they ended (`duration`; 0: count them at once)")
}

func (o *simOptions) validate() error {
	switch {
	case o.Devices < 1:
		return errors.New("--devices: at least 1")
	case o.PerCustomer < 1:
		return errors.New("--per-customer: at least 1")
	case o.Auto < 0 || o.Auto > 1:
		return errors.New("--auto: a share from 0 to 1")
	case o.Days < 1:
		return errors.New("--days: at least 1")
	case o.Speed <= 0:
		return errors.New("--speed: more than 0")
	case o.Duration < 0:
		return errors.New("--duration: 0 or more")
	case o.Concurrency < 1:
		return errors.New("--concurrency: at least 1")
	case o.Noise < 0 || o.Noise > 10:
		return errors.New("--noise: from 0 to 10")
	case o.Progress <= 0:
		return errors.New("--progress: more than 0")
	case o.History < 0 || o.History > 60:
		return errors.New("--history: from 0 to 60 days")
	case o.ShipAfter < 0 || o.DeliverAfter < 0:
		return errors.New("--ship-after, --deliver-after: 0 or a positive duration")
	case o.Settle < 0:
		return errors.New("--settle: 0 or a positive duration")
	case o.Kits < 0 || o.Kits > 10000:
		return errors.New("--kits: from 0 to 10000")
	case o.Kits > 0 && o.MQTT != "" && !strings.Contains(o.MQTT, "://"):
		return errors.New("--mqtt: the broker's URL, such as tcp://127.0.0.1:1883")
	case o.OperatorKey == "":
		return errors.New("--operator-key: required, to register the simulated vendor (REPLENISH_OPERATOR_KEY works too)")
	}
	if _, err := o.kinds(); err != nil {
		return err
	}
	if len(o.marketplaces()) == 0 {
		return errors.New("--marketplaces: at least one, such as US")
	}
	return nil
}

func (o *simOptions) kinds() ([]simulator.Kind, error) {
	var out []simulator.Kind
	for _, name := range strings.Split(o.Kinds, ",") {
		k, ok := simulator.KindNamed(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("--kinds: unknown kind %q; the kinds are printer, washer, coffee and vacuum", name)
		}
		if !slices.ContainsFunc(out, func(o simulator.Kind) bool { return o.Name == k.Name }) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (o *simOptions) marketplaces() []string {
	var out []string
	for _, mp := range strings.Split(o.Marketplaces, ",") {
		if mp = strings.ToUpper(strings.TrimSpace(mp)); mp != "" {
			out = append(out, mp)
		}
	}
	return out
}

const simulateAbout = `Runs a simulated vendor cloud with a fleet of devices against a running
Replenish. Through the API it registers a vendor with a model per kind of
device, has the operator assign the slots' replenishment IDs, fills in
what certification asks (image, names per marketplace) and has the
operator approve each model; then it creates ordinary (not test)
customers spread over the marketplaces, each linking 1 to --per-customer
devices through the real AcceptGrant, token and Discover flow. Then the
devices use their supplies in compressed time and report them (levels as
ChangeReports, usage as InventoryConsumed, replaced parts as
InventoryReplaced), with the noise of real devices: repeated and late
messages, missed days, mis-stamped reports, devices going silent.

The vendor's webhook URL is the simulator's /webhooks: it verifies the
signature of every notification Replenish sends and counts them by type.

Progress goes to standard error; a summary (events, rejections by code,
latency percentiles, vendor webhooks by type, orders, low-supply notices)
to standard output when the days are done, --duration has passed, or on
Ctrl-C.

Example:
  replenish simulate --url http://127.0.0.1:8080 --operator-key "$KEY" \
    --devices 2000 --days 30 --speed 172800
`

func simulateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o simOptions
	fs := newFlags("simulate", simulateAbout, stderr)
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the base `URL` of the running Replenish")
	fs.StringVar(&o.OperatorKey, "operator-key", "", "the operator's API `key`")
	o.flags(fs, fleetDefaults)
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	_, err := simulate(ctx, o, stdout, stderr, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	return err
}

var customerNames = []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov", "Edsger Dijkstra",
	"Frances Allen", "Donald Knuth", "Margaret Hamilton"}

func customerName(i int) string {
	if i < len(customerNames) {
		return customerNames[i]
	}
	return fmt.Sprintf("%s %d", customerNames[i%len(customerNames)], i/len(customerNames)+1)
}

// fleetResult is what a simulation did, as counted by the simulator and
// read back from Replenish's API.
type fleetResult struct {
	simulator.Summary
	Vendor     *simulator.Vendor
	People     []*simulator.Customer // the customers linked, in order
	Orders     int                   // orders placed for the customers
	OrdersBy   map[string]int        // those orders by their status at the end
	LowNotices int                   // LOW_SUPPLY entries in their feeds
	// Webhooks are the vendor notifications the cloud received;
	// WebhooksPending those Replenish had yet to deliver at the end.
	Webhooks        simulator.Webhooks
	WebhooksPending int
	// Kits is what the CONNECT_KIT printers sent over MQTT, KitNotices the
	// low-supply notices their displays received.
	Kits       *simulator.Summary
	KitNotices int
}

// simulate runs the fleet of o against the Replenish at o.URL, prints
// progress to progress and the summary to out, and returns what it
// counted. Ctrl-C (ctx ending) stops it with the summary printed.
func simulate(ctx context.Context, o simOptions, out, progress io.Writer, log *slog.Logger) (*fleetResult, error) {
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	kinds, err := o.kinds()
	if err != nil {
		return nil, err
	}
	mps := o.marketplaces()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	skillURL := "http://" + ln.Addr().String()
	httpClient := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2, IdleConnTimeout: time.Minute}}
	api := &simulator.Client{URL: strings.TrimSuffix(o.URL, "/"), HTTP: httpClient}

	fmt.Fprintf(out, "Registering a simulated vendor at %s ...\n", api.URL)
	registered := kinds
	if o.Kits > 0 {
		registered = append(slices.Clone(kinds), simulator.KitOf(simulator.Kinds[0]))
	}
	v, err := simulator.RegisterFleet(ctx, api, o.OperatorKey, skillURL, registered, mps)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("registering the simulated vendor: %w", err)
	}
	if err := simulator.Certify(ctx, api, o.OperatorKey, v, mps); err != nil {
		ln.Close()
		return nil, fmt.Errorf("certifying the simulated models: %w", err)
	}
	if o.VendorEmail != "" {
		err := api.Do(ctx, "POST", "/api/v1/vendors/"+v.VendorCode+"/users", o.OperatorKey,
			map[string]string{"email": o.VendorEmail, "password": o.VendorPassword}, nil)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("adding the simulated vendor's console user: %w", err)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed>>1|1))
	// The cloud's fleet is of the kinds asked for; the kit model's devices
	// come by MQTT.
	households := simulator.Households(o.Devices, o.PerCustomer, v.Kinds[:len(kinds)], r)
	st := simulator.NewStats()
	// The watch shows the vendor's notifications too; those that come
	// while customers link wait for its first look.
	hooks := &webhookQueue{}
	notified := hooks.add
	if !o.Watch {
		notified = nil
	}
	cloud := simulator.NewCloud(simulator.Config{
		ReplenishURL: api.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret, SigningSecret: v.SigningSecret,
		NewDevices: simulator.FleetDevices(households, seed), HTTP: httpClient, Log: log, Stats: st, Notified: notified,
	})
	cloudServer := &http.Server{Handler: cloud, ReadHeaderTimeout: 10 * time.Second}
	go cloudServer.Serve(ln)
	defer cloudServer.Close()

	res := &fleetResult{Vendor: v}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if o.Duration > 0 {
		runCtx, stop = context.WithTimeout(ctx, o.Duration)
		defer stop()
	}
	shown := showProgress(progress, o.Progress, func() string { return progressLine(st.Summary(), len(households), o.Days) })

	fmt.Fprintf(out, "Linking %d customers with %d devices (%s) in %s ...\n", len(households), o.Devices, o.Kinds, strings.Join(mps, ", "))
	res.People, err = linkFleet(runCtx, api, o, v, households, cloud, st)
	if err != nil && runCtx.Err() == nil {
		shown()
		return nil, err
	}
	if len(res.People) <= 10 {
		for i, cu := range res.People {
			mode := replenish.ModeNotify
			if isAuto(i, len(households), o.Auto) {
				mode = replenish.ModeAuto
			}
			fmt.Fprintf(out, "  customer %-16s %s  mode %-6s  API key %s\n", cu.Name, cu.CustomerID, mode, cu.APIKey)
		}
	}
	fmt.Fprintf(out, "  vendor   %-16s API key %s\n  skill endpoint %s, webhooks at %s, seed %d\n\n", v.VendorCode, v.APIKey,
		skillURL, simulator.WebhookPath, seed)
	var kits *kitFleet
	if o.Kits > 0 && runCtx.Err() == nil {
		if kits, err = startKits(runCtx, api, v, v.Kinds[len(kinds)], o.Kits, o.MQTT, res.People, seed, out); err != nil {
			shown()
			return nil, err
		}
		defer kits.close()
		fmt.Fprintln(out)
	}
	if ep := printerOf(cloud); o.History > 0 && ep != "" && runCtx.Err() == nil {
		if err := showForecast(runCtx, api, res.People, ep, o.History, out); err != nil && runCtx.Err() == nil {
			fmt.Fprintf(out, "  ! the printer's forecast: %v\n\n", err)
		}
	}

	// The clerk and the watch go on after the days, while open orders
	// settle; Ctrl-C stops them.
	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer func() { stopBackground(); background.Wait() }()
	if o.Clerk {
		clerk := &simulator.Clerk{API: api, Key: o.OperatorKey, VendorCode: v.VendorCode, ShipAfter: o.ShipAfter,
			DeliverAfter: o.DeliverAfter, Log: log}
		background.Go(func() { clerk.Run(bgCtx, clerkEvery) })
	}
	if o.CancelSecond && len(res.People) > 0 && res.People[0] != nil && isAuto(0, len(households), o.Auto) {
		background.Go(func() {
			_, err := simulator.CancelNth(bgCtx, api, res.People[0], 2, "I bought one at the shop", clerkEvery)
			if err != nil && bgCtx.Err() == nil {
				fmt.Fprintf(out, "  ! %s cancelling an order: %v\n", res.People[0].Name, err)
			}
		})
	}
	var w *watcher
	if runCtx.Err() == nil {
		fmt.Fprintf(out, "Simulating %d days at up to %g× (%s of device time per second), %s.\n",
			o.Days, o.Speed, time.Duration(o.Speed*float64(time.Second)), limitText(o.Duration))
		if o.Watch {
			w = newWatcher(api, res.People, v, hooks, out, func() int { return st.Summary().Day })
			background.Go(func() { w.run(bgCtx) })
		}
		var kitDays sync.WaitGroup
		if kits != nil {
			kitDays.Go(func() { kits.run(runCtx, o.Days, o.Speed, o.Concurrency) })
		}
		cloud.Simulate(runCtx, simulator.RunOptions{Days: o.Days, Speed: o.Speed, Concurrency: o.Concurrency,
			Noise: simulator.DefaultNoise(o.Noise)}, st)
		kitDays.Wait()
	}
	cloud.WaitForStateReports()
	shown()
	if o.Settle > 0 && ctx.Err() == nil {
		settle(ctx, api, o, v.VendorCode, out)
	}
	stopBackground()
	background.Wait()

	// The outcome is read back even after Ctrl-C, within a bound.
	countCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if ctx.Err() == nil {
		res.WebhooksPending = awaitWebhooks(ctx, api, v.APIKey, webhookWait, out)
	} else {
		res.WebhooksPending = pendingWebhooks(countCtx, api, v.APIKey)
	}
	if w != nil && ctx.Err() == nil {
		w.pollAll(countCtx) // the last steps, taken since the watch last looked
	}
	res.Webhooks = cloud.Webhooks()
	res.Summary = st.Summary()
	if kits != nil {
		ks := kits.stats.Summary()
		res.Kits, res.KitNotices = &ks, kits.notices()
	}
	var oc outcomes
	oc, err = countOutcomes(countCtx, api, res.People, o.Concurrency)
	res.Orders, res.OrdersBy, res.LowNotices = oc.orders, oc.byStatus, oc.low
	printSummary(out, res, o, mps, err)
	return res, nil
}

// settle waits up to o.Settle for the vendor's open orders to be
// delivered or cancelled (by the clerk, the service's timers, or whoever
// else acts on them), telling out how it ended.
func settle(ctx context.Context, api *simulator.Client, o simOptions, vendorCode string, out io.Writer) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Settle)
	defer cancel()
	tick := time.NewTicker(clerkEvery)
	defer tick.Stop()
	open, told := 0, false
	for {
		n, err := openOrders(ctx, api, o.OperatorKey, vendorCode)
		if err == nil {
			open = n
		}
		switch {
		case err == nil && open == 0 && told:
			fmt.Fprintf(out, "Every order is delivered or cancelled, %s later.\n", time.Since(start).Round(time.Second))
			return
		case err == nil && open == 0:
			return
		case !told:
			fmt.Fprintf(out, "\nThe devices have stopped; waiting up to %s for the open orders to be delivered or cancelled ...\n", o.Settle)
			told = true
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "%d orders are still open after %s.\n", open, time.Since(start).Round(time.Second))
			return
		case <-tick.C:
		}
	}
}

// openOrders counts the vendor's orders not yet delivered or cancelled.
func openOrders(ctx context.Context, api *simulator.Client, key, vendorCode string) (int, error) {
	n := 0
	for _, status := range []string{replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped} {
		os, err := simulator.ListOrders(ctx, api, key, url.Values{"vendorCode": {vendorCode}, "status": {status}})
		if err != nil {
			return 0, err
		}
		n += len(os)
	}
	return n, nil
}

// isAuto says whether the i-th of n customers chooses smart reorder: the
// first share of them, so that a share of 0.5 of 2 is one.
func isAuto(i, n int, share float64) bool { return i < int(math.Round(share*float64(n))) }

// linkFleet creates a customer per household, in the marketplaces in
// turn, links each with the vendor (which gives them their devices), and
// sets smart reorder for the share who choose it; o.Concurrency at a time.
func linkFleet(ctx context.Context, api *simulator.Client, o simOptions, v *simulator.Vendor, households [][]*simulator.Kind,
	cloud *simulator.Cloud, st *simulator.Stats) ([]*simulator.Customer, error) {
	mps := o.marketplaces()
	customers := make([]*simulator.Customer, len(households))
	link := func(i int) error {
		name := customerName(i)
		cu, err := simulator.NewCustomer(ctx, api, o.OperatorKey, name, mps[i%len(mps)])
		if err == nil {
			cu.Name = name
			err = simulator.Link(ctx, api, cu, v.VendorCode)
		}
		if err == nil && i == 0 && o.History > 0 {
			// Alone so far, the first customer's devices are the cloud's
			// only ones: their log goes in before any report of today.
			err = backfill(ctx, cloud, o.History)
		}
		if err == nil && isAuto(i, len(households), o.Auto) {
			err = simulator.SetMode(ctx, api, cu, replenish.ModeAuto)
		}
		if err != nil {
			return fmt.Errorf("linking customer %s: %w", name, err)
		}
		customers[i] = cu
		st.Linked(cloud.DeviceCount())
		return nil
	}
	first := 0
	if o.History > 0 && len(households) > 0 {
		if err := link(0); err != nil {
			return nil, err
		}
		first = 1
	}
	errs := make(chan error, len(households))
	next := make(chan int)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for i := range next {
				if err := link(i); err != nil {
					errs <- err
				}
			}
		})
	}
	var err error
feed:
	for i := first; i < len(households); i++ {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	if err != nil {
		return nil, err
	}
	return customers, nil
}

// outcomes are what Replenish decided for a fleet's customers.
type outcomes struct {
	orders   int
	byStatus map[string]int // the orders by status
	low      int            // LOW_SUPPLY entries in the feeds
}

// countOutcomes reads every customer's orders (every page of them) and
// feed through the API and counts the orders by status and the
// low-supply notices.
func countOutcomes(ctx context.Context, api *simulator.Client, customers []*simulator.Customer, concurrency int) (outcomes, error) {
	oc := outcomes{byStatus: map[string]int{}}
	var err error
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan *simulator.Customer)
	for range concurrency {
		wg.Go(func() {
			for cu := range next {
				var feed struct{ Items []replenish.FeedEntry }
				os, e := simulator.ListOrders(ctx, api, cu.APIKey, nil)
				if e == nil {
					e = api.Do(ctx, "GET", "/api/v1/feed", cu.APIKey, nil, &feed)
				}
				mu.Lock()
				oc.orders += len(os)
				for _, o := range os {
					oc.byStatus[o.Status]++
				}
				for _, f := range feed.Items {
					if f.Type == replenish.FeedLowSupply {
						oc.low++
					}
				}
				if e != nil && err == nil {
					err = e
				}
				mu.Unlock()
			}
		})
	}
	for _, cu := range customers {
		if cu != nil {
			next <- cu
		}
	}
	close(next)
	wg.Wait()
	return oc, err
}

func limitText(d time.Duration) string {
	if d == 0 {
		return "until the days are done (Ctrl-C stops it with a summary)"
	}
	return "for at most " + d.String() + " (Ctrl-C stops it with a summary)"
}

// progressLine is one line of progress.
func progressLine(s simulator.Summary, customers, days int) string {
	return fmt.Sprintf("day %d/%d · %d/%d customers, %d devices linked · events %d sent, %d accepted, %d rejected · %.0f/s · %s",
		s.Day, days, s.Customers, customers, s.Devices, s.Sent, s.Accepted, s.RejectedTotal(), s.Rate(),
		s.Elapsed.Round(time.Second))
}

// showProgress writes line() to w until the returned function is called:
// one line updated in place when w is a terminal, else a line every
// interval. The returned function writes the last line and stops.
func showProgress(w io.Writer, interval time.Duration, line func() string) func() {
	tty := isTerminal(w)
	if tty {
		interval = 250 * time.Millisecond
	}
	write := func() {
		if tty {
			fmt.Fprintf(w, "\r%s\x1b[K", line())
		} else {
			fmt.Fprintln(w, line())
		}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				write()
				if tty {
					fmt.Fprintln(w)
				}
				return
			case <-t.C:
				write()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-stopped
		})
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printSummary writes the end-of-run summary.
func printSummary(out io.Writer, r *fleetResult, o simOptions, mps []string, countErr error) {
	s := r.Summary
	fmt.Fprintf(out, "\nSimulation over after %d of %d simulated days in %s: %d devices of %d customers in %s.\n",
		s.Day, o.Days, s.Elapsed.Round(time.Millisecond), s.Devices, s.Customers, strings.Join(mps, ", "))
	fmt.Fprintf(out, "  events sent         %d (%.0f/s), %d of them repeats of a messageId already sent\n", s.Sent, s.Rate(), s.Repeats)
	if s.StateReports > 0 {
		fmt.Fprintf(out, "    state reports    %d of them, answering Replenish's ReportState directives\n", s.StateReports)
	}
	fmt.Fprintf(out, "  accepted            %d (%d distinct events; a repeat is answered 202 with no second effect)\n", s.Accepted, s.Stored)
	if s.Interrupted > 0 {
		fmt.Fprintf(out, "  cut off             %d (in flight when the run ended; the gateway may have stored them)\n", s.Interrupted)
	}
	fmt.Fprintf(out, "  rejected            %d%s\n", s.RejectedTotal(), byCount(s.Rejected, "no answer"))
	if len(s.RejectedEvents) > 0 {
		fmt.Fprintf(out, "    by event         %s\n", strings.TrimPrefix(byCount(s.RejectedEvents, ""), ": "))
	}
	fmt.Fprintf(out, "    injected on purpose %d (level reports stamped an hour ahead), %d of them rejected\n", s.Injected, s.InjectedRejected)
	fmt.Fprintf(out, "  latency             p50 %s  p90 %s  p99 %s  max %s\n", ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
	fmt.Fprintf(out, "  noise               %d late reports, %d missed device-days, %d devices went silent\n", s.Late, s.Missed, s.Silent)
	fmt.Fprintf(out, "  vendor webhooks     %s\n", webhookLine(r.Webhooks, r.WebhooksPending))
	if k := r.Kits; k != nil {
		fmt.Fprintf(out, "  MQTT kits           %d events acked (202) of %d sent, %d sent again for want of an ack, %d rejected%s\n",
			k.Accepted, k.Sent, k.Resent, k.RejectedTotal(), byCount(k.Rejected, "no ack"))
		fmt.Fprintf(out, "    their devices    %d state reports answering ReportState, %d low-supply notices on their displays; ack latency p50 %s  p99 %s\n",
			k.StateReports, r.KitNotices, ms(k.P50), ms(k.P99))
	}
	if countErr != nil {
		fmt.Fprintf(out, "  orders and notices  could not be read: %v\n", countErr)
		return
	}
	by := r.OrdersBy
	fmt.Fprintf(out, "  orders placed       %d (delivered %d, shipped %d, released %d, pending %d, cancelled %d)\n",
		r.Orders, by[replenish.OrderDelivered], by[replenish.OrderShipped], by[replenish.OrderReleased],
		by[replenish.OrderPending], by[replenish.OrderCancelled])
	fmt.Fprintf(out, "  low-supply notices  %d\n", r.LowNotices)
}

// byCount lists counts as ": A 3, B 1", largest first; blank names the
// empty key.
func byCount(m map[string]int, blank string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		name := k
		if name == "" {
			name = blank
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, m[k]))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// watcher prints, as they happen, each customer's new feed entries and
// each step of their orders, read through the customer API, with the
// simulated day.
type watcher struct {
	api    *simulator.Client
	people []*simulator.Customer
	hooks  *webhookQueue // the vendor's notifications, as they arrive
	out    io.Writer
	day    func() int
	slots  map[string]string // the slot's name by the product ordered
	feed   map[int64]bool    // feed entries printed
	steps  map[string]int    // order steps printed, by order ID
	names  map[string]string // customers' names by ID
}

func newWatcher(api *simulator.Client, people []*simulator.Customer, v *simulator.Vendor, hooks *webhookQueue, out io.Writer,
	day func() int) *watcher {
	w := &watcher{api: api, people: people, hooks: hooks, out: out, day: day, slots: map[string]string{},
		feed: map[int64]bool{}, steps: map[string]int{}, names: map[string]string{}}
	for _, cu := range people {
		if cu != nil {
			w.names[cu.CustomerID] = cu.Name
		}
	}
	for _, k := range v.Kinds {
		for _, s := range k.Slots {
			w.slots[s.ProductID] = s.Name
		}
	}
	return w
}

// run polls until ctx ends.
func (w *watcher) run(ctx context.Context) {
	poll := time.NewTicker(clerkEvery)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
		w.pollAll(ctx)
	}
}

// pollAll prints what is new for every customer, then the vendor's
// notifications received since the last look.
func (w *watcher) pollAll(ctx context.Context) {
	for _, cu := range w.people {
		if err := w.poll(ctx, cu); err != nil && ctx.Err() == nil {
			fmt.Fprintf(w.out, "  ! reading the feed and orders of %s: %v\n", cu.Name, err)
		}
	}
	for _, b := range w.hooks.take() {
		name := w.names[b.CustomerInfo.CustomerID]
		if name == "" {
			name = b.CustomerInfo.CustomerID
		}
		w.line(name, "WEBHOOK", webhookText(b, w.slots))
	}
}

// poll prints what is new for one customer: the feed first, oldest
// first, then the orders' new steps. The feed's news of shipping,
// delivery and cancellation are left to the steps, which say more.
func (w *watcher) poll(ctx context.Context, cu *simulator.Customer) error {
	var feed struct{ Items []replenish.FeedEntry }
	if err := w.api.Do(ctx, "GET", "/api/v1/feed", cu.APIKey, nil, &feed); err != nil {
		return err
	}
	for _, f := range slices.Backward(feed.Items) {
		if w.feed[f.ID] {
			continue
		}
		w.feed[f.ID] = true
		switch f.Type {
		case replenish.FeedOrderShipped, replenish.FeedOrderDelivered, replenish.FeedOrderCancelled:
			continue
		}
		w.line(cu.Name, f.Type, f.Message)
	}
	os, err := simulator.ListOrders(ctx, w.api, cu.APIKey, nil)
	if err != nil {
		return err
	}
	for _, o := range slices.Backward(os) {
		done, seen := w.steps[o.OrderID]
		if !seen {
			done = 1 // placing it is the feed's ORDER_PLACED
		}
		for i := max(done, 1); i < len(o.Steps); i++ {
			w.line(cu.Name, "ORDER", stepText(o, o.Steps[i-1], o.Steps[i], w.slots[o.ProductID]))
		}
		w.steps[o.OrderID] = len(o.Steps)
	}
	return nil
}

func (w *watcher) line(name, kind, text string) {
	fmt.Fprintf(w.out, "  day %3d  %-14s %-15s %s\n", w.day(), name, kind, text)
}

// stepText tells one step of order o: "ord-… for Black ink: RELEASED →
// SHIPPED (tracking SIM…, by operator)".
func stepText(o replenish.Order, from, to replenish.OrderStep, slot string) string {
	what := o.ProductID
	if slot != "" {
		what = slot
	}
	detail := to.Reason
	if to.Status == replenish.OrderShipped && o.TrackingReference != "" {
		detail = "tracking " + o.TrackingReference
	}
	if detail == "" || strings.EqualFold(detail, to.Status) {
		detail = "by " + to.Actor
	} else {
		detail += ", by " + to.Actor
	}
	return fmt.Sprintf("%s for %s: %s → %s (%s)", o.OrderID, what, from.Status, to.Status, detail)
}

// backfill has the first printer of the cloud's first account report days
// of its log.
func backfill(ctx context.Context, cloud *simulator.Cloud, days int) error {
	for _, a := range cloud.Accounts() {
		for _, d := range a.Devices {
			if d.Kind.Name == "printer" {
				return cloud.Backfill(ctx, a, d, days, time.Now())
			}
		}
	}
	return nil
}

// printerOf returns the endpoint ID of the first printer of the cloud's
// first account ("" when it has none).
func printerOf(cloud *simulator.Cloud) string {
	for _, a := range cloud.Accounts() {
		for _, d := range a.Devices {
			if d.Kind.Name == "printer" {
				return d.EndpointID
			}
		}
		return ""
	}
	return ""
}

// showForecast prints the forecast of each slot of endpoint endpointID,
// as its owner reads it.
func showForecast(ctx context.Context, api *simulator.Client, people []*simulator.Customer, endpointID string,
	days int, out io.Writer) error {
	type slot struct {
		Name       string                   `json:"name"`
		Level      *struct{ Value float64 } `json:"level"`
		RunOutDate *time.Time               `json:"runOutDate"`
		Forecast   *struct {
			RatePerDay float64 `json:"ratePerDay"`
		} `json:"forecast"`
	}
	for _, cu := range people {
		if cu == nil {
			continue
		}
		var eps struct {
			Items []struct {
				EndpointID   string `json:"endpointId"`
				FriendlyName string `json:"friendlyName"`
				Slots        []slot `json:"slots"`
			}
		}
		if err := api.Do(ctx, "GET", "/api/v1/endpoints", cu.APIKey, nil, &eps); err != nil {
			return err
		}
		for _, e := range eps.Items {
			if e.EndpointID != endpointID {
				continue
			}
			fmt.Fprintf(out, "%s's %s reported %d days of its log; its forecast (runOutDate, forecast in GET /api/v1/endpoints):\n",
				cu.Name, e.FriendlyName, days)
			for _, s := range e.Slots {
				if s.Forecast == nil || s.RunOutDate == nil || s.Level == nil {
					continue
				}
				when := "runs out about " + s.RunOutDate.Local().Format("Mon 2 Jan 15:04")
				if s.Level.Value <= 0 {
					when = "empty: a new cartridge is due"
				}
				fmt.Fprintf(out, "  %-14s %5.1f %% left, %.1f %% a day: %s\n", s.Name, s.Level.Value, s.Forecast.RatePerDay, when)
			}
			fmt.Fprintln(out)
			return nil
		}
	}
	return fmt.Errorf("no customer has endpoint %s", endpointID)
}
