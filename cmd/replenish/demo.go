package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"replenish"
	"replenish/mail"
	"replenish/pagelink"
	"replenish/storage/sqldb"
	"replenish/users"
)

const demoAbout = `Starts Replenish on a fresh SQLite file, registers a simulated printer
vendor, links two customers through the real protocol (one with smart
reorder, one notified), gives the first a CONNECT_KIT printer that talks
to Replenish's own MQTT broker (--kits), and runs the simulated fleet
against it, printing low supplies, orders and each step of an order as
they happen, with the notifications the vendor's cloud receives at its
webhook and the customers' e-mails.

The order windows are seconds instead of days (--cancel-window and the
others below), and a simulated fulfilment clerk ships each released order
with the operator's key, then delivers it, so that orders go from PENDING
through RELEASED and SHIPPED to DELIVERED while you watch; the customer
on smart reorder cancels their second order while it is pending. After
the days the demo waits (--settle) for the open orders to be delivered,
prints a summary, and keeps serving, with its URL and keys printed, so
that you can call the API yourself, and gives the first customer a
sign-in to the customer pages, printing it with a link to each page. The
fleet's flags are those of
"replenish simulate", with a small, quiet fleet by default.

Customers' e-mails go to an SMTP server of the demo's own on 127.0.0.1,
which keeps them in memory and prints a line for each as it arrives;
--smtp-addr sends them to a real one instead.
`

// demoDefaults are a fleet small enough to follow: two customers with a
// printer each, one of them on smart reorder, no noise, a minute long;
// the clerk ships and delivers their orders, and the summary waits for
// them.
var demoDefaults = simOptions{Listen: "127.0.0.1:0", Devices: 2, Kinds: "printer", PerCustomer: 1, Marketplaces: "US",
	Auto: 0.5, Days: 60, Speed: 86400, Duration: time.Minute, Concurrency: 2, Noise: 0, Watch: true,
	Progress: 10 * time.Second, Clerk: true, ShipAfter: 5 * time.Second, DeliverAfter: 5 * time.Second,
	Settle: time.Minute, CancelSecond: true, History: 14, Kits: 1}

// demoWindows are the demo's order windows, short enough for an order's
// whole life to pass while one watches: the service's flags of the same
// names, with these defaults instead of Dash's days.
var demoWindows = []struct{ flag, value string }{
	{"cancel-window", "20s"}, {"unresolved-after", "3m"}, {"cancel-cooldown", "1m"}, {"test-delivery-after", "30s"},
}

func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	var o simOptions
	fs := newFlags("demo", demoAbout, stderr)
	cfg.flags(fs, "replenish-demo.db")
	fs.Lookup("db").Usage = "the demo's SQLite database `file`, made anew at every run"
	for _, w := range demoWindows {
		setDefault(fs, w.flag, w.value)
	}
	// The demo's broker takes a free port, as a broker already on 1883
	// (Mosquitto, say) is likely on a machine that tries Replenish.
	setDefault(fs, "mqtt-listen", "127.0.0.1:0")
	o.flags(fs, demoDefaults)
	o.CancelSecond = demoDefaults.CancelSecond // no flag sets it
	fs.Lookup("mqtt").Usage = "with --kits: the MQTT broker the kits connect to (`URL`; default the demo's own)"
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.OperatorKey == "" {
		cfg.OperatorKey = "rk_op_demo_" + fmt.Sprint(time.Now().UnixNano())
	}
	o.OperatorKey = cfg.OperatorKey
	// Console users to sign in with, new at every run like the database.
	cfg.OperatorEmail, cfg.OperatorPassword = "operator@demo.example", replenish.NewID("", 16)
	o.VendorEmail, o.VendorPassword = "vendor@demo.example", replenish.NewID("", 16)
	if err := o.validate(); err != nil {
		return err
	}
	// E-mail goes to a sink of the demo's own unless --smtp-addr names a
	// server; it outlives the service, which may be sending to it.
	var sink *mail.Sink
	if cfg.SMTP.Addr == "" {
		var err error
		if sink, err = mail.NewSink(indented{stdout}); err != nil {
			return err
		}
		defer sink.Close()
		cfg.SMTP = sink.Config(demoFrom)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(cfg.DB + suffix); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("--db: making %s anew: %w", cfg.DB, err)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: max(cfg.LogLevel, slog.LevelWarn)}))

	ready := make(chan started, 1)
	served := make(chan error, 1)
	// The server outlives Ctrl-C until the fleet's summary, which reads
	// orders and notices from it, is printed.
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	stop := func(err error) error {
		stopServing()
		if serr := <-served; err == nil {
			err = serr
		}
		return err
	}
	go func() {
		served <- serve(serveCtx, cfg, log, io.Discard, func(s started) { ready <- s })
	}()
	var url string
	select {
	case err := <-served:
		return err
	case s := <-ready:
		url = s.URL
		switch {
		case o.MQTT != "": // the kits go to the broker given
		case s.MQTT == "":
			o.Kits = 0 // no broker, no kit
		default:
			o.MQTT = "tcp://" + s.MQTT
		}
	}
	fmt.Fprintf(stdout, "Replenish is running at %s on %s.\n  operator API key %s\n", url, cfg.DB, cfg.OperatorKey)
	fmt.Fprintf(stdout, "  orders   cancellable for %s, then released; the clerk ships them %s later and delivers them %s after that\n",
		cfg.Orders.CancelWindow, o.ShipAfter, o.DeliverAfter)
	fmt.Fprintf(stdout, "  console  %s/console/ signs in\n    operator %s  password %s\n    vendor   %s  password %s\n",
		url, cfg.OperatorEmail, cfg.OperatorPassword, o.VendorEmail, o.VendorPassword)
	if sink != nil {
		fmt.Fprintf(stdout, "  e-mail   customers' e-mails go to the demo's SMTP sink at %s: a line \"e-mail to ...\" below for each\n", sink.Addr())
	} else {
		fmt.Fprintf(stdout, "  e-mail   customers' e-mails go to the SMTP server at %s\n", cfg.SMTP.Addr)
	}
	if o.Kits > 0 {
		fmt.Fprintf(stdout, "  mqtt     CONNECT_KIT devices connect to the broker at %s: the fleet's %d kit printer(s) report there; a \"kit\" line below for each\n",
			o.MQTT, o.Kits)
	}
	fmt.Fprintf(stdout, "  webhooks the vendor's cloud receives each notification about its devices and orders: a WEBHOOK line below\n")
	fmt.Fprintf(stdout, "  outbox   every notification, e-mails and webhooks, with its status: GET %s/api/v1/notifications with the operator's key\n\n", url)

	o.URL = url
	res, err := simulate(ctx, o, stdout, io.Discard, log)
	if err != nil || ctx.Err() != nil {
		return stop(err)
	}
	if err := demoCustomerPages(ctx, cfg.DB, url, res, stdout); err != nil {
		return stop(err)
	}
	fmt.Fprintf(stdout, `
Replenish keeps serving at %s. Try, with a customer's API key from above:

    curl -s -H 'Authorization: Bearer <customer key>' %s/api/v1/endpoints
    curl -s -H 'Authorization: Bearer <customer key>' %s/api/v1/orders
    curl -s -H 'Authorization: Bearer <customer key>' %s/api/v1/feed
    curl -s -H 'Authorization: Bearer %s' '%s/api/v1/notifications?channel=email'

Home Assistant: with an MQTT broker on this machine (Mosquitto, say), turn the bridge on on the
settings page (%s/account/notifications) or with

    curl -s -X PUT -H 'Authorization: Bearer <customer key>' %s/api/v1/notification-settings \
      -d '{"homeAssistant":{"enabled":true,"brokerUrl":"mqtt://127.0.0.1:1883"}}'

and watch what a Home Assistant on that broker would discover:

    mosquitto_sub -v -t 'homeassistant/#' -t 'replenish/#'

Without a broker of your own, Replenish's will do: "embedded":true instead of "brokerUrl" gives
the customer an account on it (address, user name, a password shown once, discovery prefix)
to enter in Home Assistant's MQTT integration.

Press Ctrl-C to stop.
`, url, url, url, url, cfg.OperatorKey, url, url, url)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		return stop(nil)
	}
}

// demoCustomer is the e-mail the demo's first customer signs in to the
// customer pages with.
const demoCustomer = "customer@demo.example"

// demoCustomerPages gives the fleet's first customer a sign-in to the
// customer pages, as "replenish user add --role customer" does while the
// service runs, and prints where to sign in and the pages to open.
func demoCustomerPages(ctx context.Context, db, url string, res *fleetResult, stdout io.Writer) error {
	if res == nil || len(res.People) == 0 || res.Vendor == nil || len(res.Vendor.Kinds) == 0 {
		return nil
	}
	store, err := sqldb.OpenSQLite(ctx, db)
	if err != nil {
		return err
	}
	defer store.Close()
	cu, password := res.People[0], replenish.NewID("", 16)
	if _, err := users.New(store, func() time.Time { return time.Now().UTC() }).Create(ctx, users.NewUser{Email: demoCustomer,
		Password: password, Role: replenish.RoleCustomer, CustomerID: cu.CustomerID}); err != nil {
		return fmt.Errorf("the demo customer's sign-in: %w", err)
	}
	fmt.Fprintf(stdout, "\nThe customer pages: %s/account/sign-in as %s (%s, %s), password %s\n",
		url, demoCustomer, cu.Name, cu.CustomerID, password)
	l := pagelink.Link{VendorCode: res.Vendor.VendorCode, ModelID: res.Vendor.Kinds[0].ModelID}
	for _, p := range []struct{ name, typ string }{{"landing", pagelink.Landing}, {"devices", pagelink.DeviceList},
		{"settings", pagelink.Settings}, {"supplies", pagelink.SupplyTracking}, {"inventory", pagelink.InventoryManagement},
		{"history", pagelink.InventoryHistory}, {"installed", pagelink.InstalledInventory}} {
		l.PageType = p.typ
		fmt.Fprintf(stdout, "  %-10s %s\n", p.name, l.Web(url))
	}
	l.PageType = pagelink.DeviceList
	fmt.Fprintf(stdout, "  %-10s %s\n  or make an account of your own at %s/account/sign-up\n", "app link", l.App(url), url)
	return nil
}

// demoFrom is the From address of the demo's e-mails.
const demoFrom = "replenish@demo.example"

// indented writes each line it is given indented by two spaces, as the
// demo's other lines are. A Sink writes a whole line at a time.
type indented struct{ w io.Writer }

func (i indented) Write(p []byte) (int, error) {
	if _, err := i.w.Write(append([]byte("  "), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// setDefault makes value the default of fs's flag name, for --help to
// show; the command line and the environment still override it.
func setDefault(fs *flag.FlagSet, name, value string) {
	f := fs.Lookup(name)
	if err := f.Value.Set(value); err != nil {
		panic(fmt.Sprintf("default of --%s: %v", name, err))
	}
	f.DefValue = value
}
