package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/account"
	"replenish/calendar"
	"replenish/console"
	"replenish/customers"
	"replenish/devices"
	"replenish/engine"
	"replenish/gateway"
	"replenish/homeassistant"
	"replenish/linking"
	"replenish/mail"
	"replenish/mqtt"
	"replenish/notifications"
	"replenish/orders"
	"replenish/pagelink"
	"replenish/storage/sqldb"
	"replenish/users"
	"replenish/web"
)

// config is the service's configuration, read once from flags and the
// environment.
type config struct {
	Addr    string
	DB      string
	BaseURL string
	// RegionURLs are the public URLs of the regions that have their own
	// (NA, EU, FE), for links to customer pages; others use BaseURL.
	RegionURLs  regionURLs
	OperatorKey string
	// GatewayRate and GatewayBurst bound each vendor's events: a token
	// bucket of GatewayRate events per second, GatewayBurst at once. A
	// rate of 0 sets no limit.
	GatewayRate  float64
	GatewayBurst int
	// ReportStateAfter is how old a device's level may be when its
	// customer opens it before Replenish asks the vendor for a fresh one
	// (a ReportState directive); 0 never asks.
	ReportStateAfter time.Duration
	// OperatorEmail and OperatorPassword make the operator's first console
	// user when there is none yet.
	OperatorEmail    string
	OperatorPassword string
	LogLevel         slog.Level
	// Orders are the order rules' windows and the fulfilment adapter;
	// OrderTick is how often the order timers look for due work.
	Orders    orders.Settings
	OrderTick time.Duration
	// NotReportingAfter is how long a device may stay silent before its
	// customer is told and its slots show NOT_REPORTING.
	NotReportingAfter time.Duration
	// SMTP is the server customer e-mail goes through; with no address,
	// e-mails are kept for the operator to read.
	SMTP mail.Config
	// KeepReadings is how long readings are kept (0: for ever);
	// KeepNotifications how long notifications done with are.
	KeepReadings      days
	KeepNotifications days
	// HomeAssistant are the Home Assistant bridge's intervals.
	HomeAssistant homeassistant.Settings
	// MQTT is where CONNECT_KIT devices connect: the embedded broker's
	// address (and TLS files), or an external broker's URL.
	MQTT mqttConfig
}

// mqttConfig is the devices' MQTT broker, and each device's event rate.
type mqttConfig struct {
	Listen          string // the embedded broker's host:port; "" switches it off
	TLSCert, TLSKey string
	Broker          string // an external broker's URL; the embedded one is then off
	// PublicURL is where customers' Home Assistant reaches the embedded
	// broker ("": mqtt:// and the address it listens on).
	PublicURL string
	// DeviceRate and DeviceBurst bound each device's events, as
	// GatewayRate and GatewayBurst bound a vendor's.
	DeviceRate  float64
	DeviceBurst int
}

// days is a duration that can also be given in days: "400d".
type days time.Duration

func (d *days) String() string {
	if d == nil || *d == 0 {
		return "0"
	}
	if t := time.Duration(*d); t%(24*time.Hour) == 0 {
		return strconv.Itoa(int(t/(24*time.Hour))) + "d"
	}
	return time.Duration(*d).String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 {
			return fmt.Errorf("%q: a number of days such as 400d, or a duration such as 9600h", s)
		}
		*d = days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q: a number of days such as 400d, or a duration such as 9600h", s)
	}
	*d = days(v)
	return nil
}

func (c *config) flags(fs *flag.FlagSet, dbDefault string) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "where to listen (`host:port`; port 0 picks a free one)")
	fs.StringVar(&c.DB, "db", dbDefault, "the database: a SQLite `file` (created when missing) or a postgres:// URL")
	fs.StringVar(&c.BaseURL, "base-url", "", "the public `URL` of the service (default http:// + the listen address)")
	c.RegionURLs.flags(fs)
	fs.StringVar(&c.OperatorKey, "operator-key", "", "the operator's API `key` at first start (default: generated and printed once)")
	fs.StringVar(&c.OperatorEmail, "operator-email", "", "the e-mail `address` of the operator's first console user, made when there is none")
	fs.StringVar(&c.OperatorPassword, "operator-password", "", "that user's `password` (prefer REPLENISH_OPERATOR_PASSWORD: a flag shows in the process list)")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log `level`: DEBUG, INFO, WARN or ERROR")
	fs.Float64Var(&c.GatewayRate, "gateway-rate", 1000, "events per second each vendor may send to the gateway, on average (`rate`; 0: no limit)")
	fs.IntVar(&c.GatewayBurst, "gateway-burst", 2000, "events each vendor may send at once, above its rate (`count`)")
	fs.DurationVar(&c.ReportStateAfter, "report-state-after", 24*time.Hour,
		"how old a device's level may be when its customer opens it before the vendor is asked for a fresh one (`duration`; 0: never)")
	d := orders.DefaultSettings()
	fs.DurationVar(&c.Orders.CancelWindow, "cancel-window", d.CancelWindow,
		"how long a placed order can be cancelled before it is released to fulfilment (`duration`)")
	fs.DurationVar(&c.Orders.UnresolvedAfter, "unresolved-after", d.UnresolvedAfter,
		"a released order that fulfilment has not shipped by then is cancelled (`duration`)")
	fs.DurationVar(&c.Orders.CancelCooldown, "cancel-cooldown", d.CancelCooldown,
		"no automatic order for a slot this long after its customer cancelled one (`duration`)")
	fs.DurationVar(&c.Orders.TestDelivery, "test-delivery-after", 0,
		"how long a test order takes from shipping to delivery (`duration`; 0: the marketplace's lead time)")
	fs.StringVar(&c.Orders.Fulfilment.Adapter, "fulfilment", d.Fulfilment.Adapter,
		"where released orders go (`adapter`): manual (the operator ships them in the console or the API) or webhook")
	fs.StringVar(&c.Orders.Fulfilment.URL, "fulfilment-url", "",
		"the commerce system's `URL`: the webhook adapter POSTs each released order there")
	fs.StringVar(&c.Orders.Fulfilment.Key, "fulfilment-key", "",
		"the `key` that signs the webhook adapter's requests and that the commerce system reports back with (prefer REPLENISH_FULFILMENT_KEY_FILE)")
	fs.DurationVar(&c.OrderTick, "order-tick", time.Second, "how often the order timers look for due orders (`duration`)")
	fs.DurationVar(&c.Orders.Lease, "claim-lease", notifications.Lease,
		"how long an instance holds the notifications and fulfilment requests it took to send; another takes over after that if it died (`duration`)")
	fs.DurationVar(&c.NotReportingAfter, "not-reporting-after", engine.StaleAfter,
		"how long a device may send no reading before its customer is told it stopped reporting (`duration`)")
	fs.Var(&c.KeepReadings, "keep-readings",
		"how long readings are kept, in the slot's history, after they arrive (`duration`, such as 400d or 9600h; 0: for ever)")
	fs.Var(&c.KeepNotifications, "keep-notifications",
		"how long notifications are kept in the outbox once delivered or failed for good (`duration`, such as 90d; 0: for ever); pending ones stay")
	fs.StringVar(&c.SMTP.Addr, "smtp-addr", "", "the SMTP server for customer e-mail (`host:port`; none: e-mails are kept for the operator to read)")
	fs.StringVar(&c.SMTP.Username, "smtp-username", "", "the SMTP `user` name (none: no AUTH)")
	fs.StringVar(&c.SMTP.Password, "smtp-password", "", "the SMTP `password` (prefer REPLENISH_SMTP_PASSWORD_FILE)")
	fs.StringVar(&c.SMTP.From, "smtp-from", "", "the From `address` of customer e-mail")
	fs.StringVar(&c.SMTP.TLS, "smtp-tls", "starttls", "how to secure the SMTP connection (`mode`): starttls, tls, or none for a local relay")
	fs.StringVar(&c.MQTT.Listen, "mqtt-listen", "127.0.0.1:1883",
		"where the embedded MQTT broker for CONNECT_KIT devices listens (`host:port`; :8883 is usual with TLS; empty: no broker)")
	fs.StringVar(&c.MQTT.TLSCert, "mqtt-tls-cert", "", "the embedded broker's TLS certificate (PEM `file`; with --mqtt-tls-key)")
	fs.StringVar(&c.MQTT.TLSKey, "mqtt-tls-key", "", "the embedded broker's TLS private key (PEM `file`)")
	fs.StringVar(&c.MQTT.PublicURL, "mqtt-public-url", "",
		"where customers' Home Assistant reaches the embedded MQTT broker (`URL` such as mqtt://replenish.example.com:1883 or mqtts://...; default: mqtt:// and --mqtt-listen)")
	fs.StringVar(&c.MQTT.Broker, "mqtt-broker", "",
		"an external MQTT broker to take devices' events from instead (`URL` such as tcp://user:pass@broker:1883 or ssl://...); instances share them through $share/replenish")
	fs.Float64Var(&c.MQTT.DeviceRate, "device-rate", 1, "events per second each CONNECT_KIT device may send, on average (`rate`; 0: no limit)")
	fs.IntVar(&c.MQTT.DeviceBurst, "device-burst", 60, "events each device may send at once, above its rate (`count`)")
	ha := homeassistant.DefaultSettings()
	c.HomeAssistant = ha
	fs.DurationVar(&c.HomeAssistant.Interval, "ha-interval", ha.Interval,
		"how often each Home Assistant bridge recomputes its customer's states and publishes what changed (`duration`)")
	fs.DurationVar(&c.HomeAssistant.Sync, "ha-sync", ha.Sync,
		"how often the Home Assistant bridges are looked for and their leases renewed; a lease lasts three times as long (`duration`)")
	fs.DurationVar(&c.HomeAssistant.RetryMax, "ha-retry-max", ha.RetryMax,
		"the longest pause before trying a customer's MQTT broker again; pauses double from 5s (`duration`)")
}

// defaults is the configuration the flags give when none is set, on the
// database db and a free port: for the commands that start a service of
// their own (bench) and for tests.
func defaults(db string) config {
	var c config
	c.flags(flag.NewFlagSet("defaults", flag.ContinueOnError), db)
	c.Addr = "127.0.0.1:0"
	c.MQTT.Listen = "127.0.0.1:0"
	return c
}

func (c *config) validate() error {
	if c.DB == "" {
		return errors.New("--db: a database is required: a SQLite file or a postgres:// URL")
	}
	if c.OperatorKey != "" && len(c.OperatorKey) < 16 {
		return errors.New("--operator-key: at least 16 characters")
	}
	if c.GatewayRate < 0 {
		return errors.New("--gateway-rate: 0 or more events per second")
	}
	if c.GatewayRate > 0 && c.GatewayBurst < 1 {
		return errors.New("--gateway-burst: at least 1 event")
	}
	if err := c.MQTT.validate(); err != nil {
		return err
	}
	if (c.OperatorEmail == "") != (c.OperatorPassword == "") {
		return errors.New("--operator-email and --operator-password: give both or neither")
	}
	if c.ReportStateAfter < 0 {
		return errors.New("--report-state-after: 0 or a positive duration")
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--cancel-window", c.Orders.CancelWindow}, {"--unresolved-after", c.Orders.UnresolvedAfter},
		{"--cancel-cooldown", c.Orders.CancelCooldown}, {"--order-tick", c.OrderTick},
		{"--not-reporting-after", c.NotReportingAfter}, {"--claim-lease", c.Orders.Lease},
		{"--ha-interval", c.HomeAssistant.Interval}, {"--ha-sync", c.HomeAssistant.Sync},
		{"--ha-retry-max", c.HomeAssistant.RetryMax}} {
		if d.v <= 0 {
			return fmt.Errorf("%s: a positive duration such as 24h or 90s", d.flag)
		}
	}
	if c.Orders.TestDelivery < 0 {
		return errors.New("--test-delivery-after: 0 or a positive duration")
	}
	switch f := c.Orders.Fulfilment; f.Adapter {
	case orders.Manual:
		if f.URL != "" {
			return errors.New("--fulfilment-url: set --fulfilment webhook to use it")
		}
	case orders.Webhook:
		if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--fulfilment-url: %q is not an absolute http or https URL; the webhook adapter needs one", f.URL)
		}
		if len(f.Key) < 16 {
			return errors.New("--fulfilment-key: at least 16 characters; the webhook adapter signs with it")
		}
	default:
		return fmt.Errorf("--fulfilment: %q is not an adapter; use manual or webhook", f.Adapter)
	}
	if k := c.Orders.Fulfilment.Key; k != "" && len(k) < 16 {
		return errors.New("--fulfilment-key: at least 16 characters")
	}
	if c.SMTP.Addr != "" {
		if err := c.SMTP.Validate(); err != nil {
			return err
		}
	} else if c.SMTP.From != "" || c.SMTP.Username != "" {
		return errors.New("--smtp-addr: the SMTP server is required with --smtp-from or --smtp-username")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if c.BaseURL != "" {
		// Vendors redirect customers' browsers to it: it must be absolute.
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--base-url: %q is not an absolute http or https URL", c.BaseURL)
		}
	}
	return c.RegionURLs.validate()
}

func (m *mqttConfig) validate() error {
	if m.Listen != "" {
		if _, _, err := net.SplitHostPort(m.Listen); err != nil {
			return fmt.Errorf("--mqtt-listen: %w (empty switches the broker off)", err)
		}
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return errors.New("--mqtt-tls-cert and --mqtt-tls-key: give both or neither")
	}
	if m.Broker != "" {
		u, err := url.Parse(m.Broker)
		if err != nil || u.Host == "" || !slices.Contains([]string{"tcp", "mqtt", "ssl", "tls", "mqtts"}, u.Scheme) {
			return errors.New("--mqtt-broker: not a broker URL such as tcp://user:password@broker.example:1883 or ssl://broker.example:8883")
		}
	}
	if m.PublicURL != "" {
		b, problem := replenish.ParseBrokerURL(m.PublicURL)
		switch {
		case problem != "":
			return fmt.Errorf("--mqtt-public-url: %s", problem)
		case b.Username != "" || b.Password != "":
			return errors.New("--mqtt-public-url: no user name or password: each customer's Home Assistant has its own")
		case m.Broker != "" || m.Listen == "":
			return errors.New("--mqtt-public-url: only with the embedded broker (--mqtt-listen, without --mqtt-broker)")
		}
		m.PublicURL = b.URL
	}
	if m.DeviceRate < 0 {
		return errors.New("--device-rate: 0 or more events per second")
	}
	if m.DeviceRate > 0 && m.DeviceBurst < 1 {
		return errors.New("--device-burst: at least 1 event")
	}
	return nil
}

// regionURLs are the base URLs of the regions, by region (NA, EU, FE).
type regionURLs map[string]string

func (r *regionURLs) flags(fs *flag.FlagSet) {
	*r = regionURLs{}
	for _, region := range pagelink.Regions {
		fs.Func("base-url-"+strings.ToLower(region), "the public `URL` of customer pages in the "+region+
			" region, for links to them (default --base-url)", func(v string) error {
			(*r)[region] = v
			return nil
		})
	}
}

func (r regionURLs) validate() error {
	for region, v := range r {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--base-url-%s: %q is not an absolute http or https URL", strings.ToLower(region), v)
		}
	}
	return nil
}

const serveAbout = `Runs Replenish: the JSON API under /api/v1/, the event gateway at
POST /v3/events and the token endpoint at POST /auth/o2/token, on one
SQLite file. The first start creates the database, seeds the marketplaces
and prints the operator's API key once.
`

func serveCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := newFlags("serve", serveAbout, stderr)
	cfg.flags(fs, "replenish.db")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	return serve(ctx, cfg, log, stdout, nil)
}

// started is what a service that answers tells its starter.
type started struct {
	URL string
	// OperatorKey is the operator key created at this start ("" when the
	// database already had one).
	OperatorKey string
	// MQTT is the devices' broker: the embedded one's address, the
	// external one's URL without its password, or "" for none.
	MQTT string
}

// serve builds the service by hand, in order, runs it until ctx ends, and
// shuts it down in reverse order: HTTP, the ReportState directives under
// way, the MQTT broker, then the database. ready, if set, is called once
// the service answers.
func serve(ctx context.Context, cfg config, log *slog.Logger, stdout io.Writer, ready func(started)) error {
	store, err := sqldb.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()

	now := func() time.Time { return time.Now().UTC() }
	con := console.New(store, now)
	operatorKey, err := con.Bootstrap(ctx, cfg.OperatorKey)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if operatorKey != "" && cfg.OperatorKey == "" {
		fmt.Fprintf(stdout, "Created the operator. Its API key, shown this once:\n\n    %s\n\n", operatorKey)
	}
	us := users.New(store, now)
	if err := firstOperator(ctx, us, cfg, stdout); err != nil {
		return err
	}
	// Listening comes before the services: the base URL, which vendors
	// send customers' browsers back to, defaults to the listen address.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = "http://" + ln.Addr().String()
	}
	// A vendor's cloud gets 10 seconds per directive or token request: it
	// never keeps a customer waiting for long; so does the commerce system.
	vendors := &http.Client{Timeout: 10 * time.Second}
	ntf := notifications.New(store, now, vendors, log, baseURL)
	ntf.ClaimFor(cfg.Orders.Lease)
	if cfg.SMTP.Addr != "" {
		smtp, err := mail.NewSMTP(cfg.SMTP)
		if err != nil {
			return err
		}
		ntf.SendMailWith(smtp)
	}
	ord := orders.New(store, now, cfg.Orders, vendors, log, ntf)
	gw := gateway.New(store, now, ord, ntf)
	gw.Limit(gateway.NewLimiter(cfg.GatewayRate, cfg.GatewayBurst))
	gw.LimitDevices(gateway.NewLimiter(cfg.MQTT.DeviceRate, cfg.MQTT.DeviceBurst))
	dev := devices.New(store, gw, now, log)
	dev.ReportStateAfter = cfg.ReportStateAfter
	broker, err := startBroker(cfg.MQTT, dev, homeassistant.NewAccounts(store), log)
	if err != nil {
		return err
	}
	mqttAddr := ""
	if broker != nil {
		// Closed before the database, after HTTP: a device's event under
		// way is stored and acked, or not acked at all.
		defer broker.Close()
		dev.Use(broker)
		ntf.SendDirectivesWith(broker)
		mqttAddr = broker.Addr()
	}
	srv := &web.Server{Devices: dev,
		Store: store, Console: con, Customers: customers.New(store, now, ntf), Orders: ord, Notifications: ntf, Gateway: gw,
		Linking: linking.New(store, gw, vendors, log, now, baseURL), Users: us, Log: log, BaseURL: baseURL,
		FulfilmentKey: cfg.Orders.Fulfilment.Key,
	}
	srv.Customers.NotReportingAfter(cfg.NotReportingAfter)
	srv.Customers.CancelWindow(cfg.Orders.CancelWindow)
	srv.Calendar = calendar.New(store, srv.Customers, now)
	haSet := cfg.HomeAssistant
	haSet.BaseURL, haSet.Version = baseURL, versionString()
	haSet.RetryMin = min(haSet.RetryMin, haSet.RetryMax)
	if e, ok := broker.(*mqtt.Embedded); ok {
		// Customers without a broker of their own use this one.
		haSet.Own = homeassistant.Own(e, cfg.MQTT.PublicURL, baseURL)
	}
	srv.HomeAssistant = homeassistant.New(store, srv.Customers, ord, now, log, haSet)
	// Opening a device whose level is old asks its vendor for a fresh one,
	// in the background.
	stateAsks := linking.NewStateAsker(srv.Linking)
	if cfg.ReportStateAfter > 0 {
		srv.Customers.AskStateWith(stateAsks, dev, cfg.ReportStateAfter)
	}
	// The customer pages, beside the console's, on the same services; the
	// link builder's base URL per region.
	srv.Surfaces = append(srv.Surfaces, &account.Server{Users: us, Customers: srv.Customers, Orders: ord,
		Notifications: ntf, Linking: srv.Linking, Calendar: srv.Calendar, HomeAssistant: srv.HomeAssistant,
		Devices: dev, Log: log, BaseURL: baseURL})
	srv.RegionURLs = cfg.RegionURLs
	httpServer := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	// The order timers run from the database: what was due while the
	// service was down is done at once.
	timersCtx, stopTimers := context.WithCancel(context.Background())
	timersDone := make(chan struct{})
	go func() {
		defer close(timersDone)
		var wg sync.WaitGroup
		wg.Go(func() { ntf.Run(timersCtx, time.Second, cfg.NotReportingAfter) })
		// Each customer's Home Assistant bridge, on its own connection:
		// stopping publishes that Replenish is offline.
		wg.Go(func() { srv.HomeAssistant.Run(timersCtx) })
		if keep := time.Duration(cfg.KeepReadings); keep > 0 {
			wg.Go(func() { srv.Customers.KeepReadings(timersCtx, keep, time.Hour, log) })
		}
		if keep := time.Duration(cfg.KeepNotifications); keep > 0 {
			wg.Go(func() { ntf.KeepDone(timersCtx, keep, time.Hour, log) })
		}
		ord.Run(timersCtx, cfg.OrderTick)
		wg.Wait()
	}()
	defer func() { stopTimers(); <-timersDone }()
	log.Info("replenish is ready", "addr", ln.Addr().String(), "mqtt", mqttAddr, "url", baseURL, "db", sqldb.Redact(cfg.DB),
		"version", versionString())
	if ready != nil {
		ready(started{URL: baseURL, OperatorKey: operatorKey, MQTT: mqttAddr})
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	srv.Closing()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopTimers()
	<-timersDone
	// The directives under way end before the database closes.
	stateAsks.Wait()
	return nil
}

// broker is the devices' MQTT broker, embedded or external.
type broker interface {
	mqtt.Transport
	Addr() string
}

// external is an external broker, named by its URL without the password.
type external struct {
	*mqtt.External
	url string
}

func (x external) Addr() string { return x.url }

// startBroker starts the broker cfg names (nil for none).
func startBroker(cfg mqttConfig, dev *devices.Service, accounts mqtt.Accounts, log *slog.Logger) (broker, error) {
	switch {
	case cfg.Broker != "":
		x, err := mqtt.NewExternal(mqtt.ExternalConfig{URL: cfg.Broker}, dev, log)
		if err != nil {
			return nil, fmt.Errorf("--mqtt-broker: %w", err)
		}
		if err := x.Start(); err != nil {
			return nil, fmt.Errorf("--mqtt-broker: %w", err)
		}
		u, _ := url.Parse(cfg.Broker)
		return external{x, u.Redacted()}, nil
	case cfg.Listen != "":
		e, err := mqtt.NewEmbedded(mqtt.EmbeddedConfig{Listen: cfg.Listen, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey,
			Accounts: accounts}, dev, log)
		if err != nil {
			return nil, fmt.Errorf("--mqtt-listen: %w", err)
		}
		if err := e.Start(); err != nil {
			return nil, fmt.Errorf("--mqtt-listen %s: %w: is another MQTT broker (such as Mosquitto) there? "+
				"Choose another address, or --mqtt-listen \"\" to run without one", cfg.Listen, err)
		}
		return e, nil
	}
	return nil, nil
}

// firstOperator makes the operator's first console user from the
// configuration when there is none, or says how to make one.
func firstOperator(ctx context.Context, us *users.Service, cfg config, stdout io.Writer) error {
	has, err := us.HasOperator(ctx)
	if err != nil || has {
		return err
	}
	if cfg.OperatorEmail == "" {
		fmt.Fprintf(stdout, "No operator can sign in to the console yet: run\n\n"+
			"    replenish user add --db %s --email you@example.com --role operator\n\n"+
			"or start with REPLENISH_OPERATOR_EMAIL and REPLENISH_OPERATOR_PASSWORD.\n\n", cfg.DB)
		return nil
	}
	_, err = us.Create(ctx, users.NewUser{Email: cfg.OperatorEmail, Password: cfg.OperatorPassword, Role: replenish.RoleOperator})
	if err != nil {
		return fmt.Errorf("the first operator user (--operator-email, --operator-password): %w", err)
	}
	fmt.Fprintf(stdout, "Created the operator's console user %s.\n", cfg.OperatorEmail)
	return nil
}
