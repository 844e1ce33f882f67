package account_test

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
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/account"
	"replenish/calendar"
	"replenish/console"
	"replenish/customers"
	"replenish/devices"
	"replenish/gateway"
	"replenish/homeassistant"
	"replenish/linking"
	"replenish/mqtt"
	"replenish/notifications"
	"replenish/orders"
	"replenish/simulator"
	"replenish/storage/sqldb"
	"replenish/users"
	"replenish/web"
)

const operatorKey = "rk_op_test_operator_key"

// exitAllowed is on the vendor's list of exit URIs in every world;
// exitPrefix ends an entry with *.
const (
	exitAllowed = "https://printers.example/app/done"
	exitPrefix  = "simprinter://back/"
)

// world is a real Replenish (API, console and customer pages) on a
// SQLite file of the test's own, and a simulated vendor cloud whose
// printers its customers link.
type world struct {
	t        *testing.T
	URL      string
	api      *simulator.Client
	vendor   *simulator.Vendor
	cloud    *simulator.Cloud
	cloudURL string
}

// newWorld starts Replenish and the vendor's cloud; with oauth, the
// vendor signs its customers in on its own page before linking.
func newWorld(t *testing.T, oauth bool) *world {
	t.Helper()
	return newWorldOf(t, oauth, nil)
}

// newWorldOf is newWorld with a vendor of the given kinds of device, one
// of each per customer (nil: the printer vendor of simulator.Register).
func newWorldOf(t *testing.T, oauth bool, kinds []simulator.Kind) *world {
	t.Helper()
	return newWorldFull(t, oauth, kinds, false)
}

// newWorldFull is newWorldOf; with broker, Replenish runs its embedded
// MQTT broker, which customers' Home Assistant may use (w.Broker).
func newWorldFull(t *testing.T, oauth bool, kinds []simulator.Kind, broker bool) *world {
	t.Helper()
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + hs.Listener.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	ntf := notifications.New(store, now, client, log, baseURL)
	ord := orders.New(store, now, orders.DefaultSettings(), client, log, ntf)
	gw := gateway.New(store, now, ord, ntf)
	us := users.New(store, now)
	cs := customers.New(store, now, ntf)
	lk := linking.New(store, gw, client, log, now, baseURL)
	srv := &web.Server{Store: store, Console: con, Customers: cs, Orders: ord, Notifications: ntf, Gateway: gw, Devices: devices.New(store, gw, now, log),
		Linking: lk, Users: us, Log: log, BaseURL: baseURL, Calendar: calendar.New(store, cs, now)}
	// A Home Assistant bridge, with short pauses, so that the settings
	// page shows its states.
	haSet := homeassistant.Settings{Interval: time.Second,
		Sync: 100 * time.Millisecond, RetryMin: time.Second, RetryMax: 2 * time.Second, BaseURL: baseURL}
	var own *mqtt.Embedded
	if broker {
		if own, err = mqtt.NewEmbedded(mqtt.EmbeddedConfig{Listen: "127.0.0.1:0", Accounts: homeassistant.NewAccounts(store)},
			srv.Devices, log); err != nil {
			t.Fatal(err)
		}
		if err := own.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { own.Close() })
		haSet.Own = homeassistant.Own(own, "", baseURL)
	}
	srv.HomeAssistant = homeassistant.New(store, cs, ord, now, log, haSet)
	bridgeCtx, stopBridge := context.WithCancel(ctx)
	bridgeDone := make(chan struct{})
	go func() {
		defer close(bridgeDone)
		srv.HomeAssistant.Run(bridgeCtx)
	}()
	t.Cleanup(func() { stopBridge(); <-bridgeDone })
	srv.Surfaces = append(srv.Surfaces, &account.Server{Users: us, Customers: cs, Orders: ord, Notifications: ntf,
		Linking: lk, Calendar: srv.Calendar, HomeAssistant: srv.HomeAssistant, Devices: srv.Devices, Log: log, BaseURL: baseURL})
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)

	cs2 := httptest.NewUnstartedServer(nil)
	cloudURL := "http://" + cs2.Listener.Addr().String()
	api := &simulator.Client{URL: hs.URL, HTTP: client}
	var v *simulator.Vendor
	if kinds == nil {
		v, err = simulator.Register(ctx, api, operatorKey, cloudURL, 10)
	} else {
		v, err = simulator.RegisterFleet(ctx, api, operatorKey, cloudURL, kinds, []string{"US"})
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg := simulator.Config{ReplenishURL: hs.URL, ClientID: v.ClientID, ClientSecret: v.ClientSecret,
		SigningSecret: v.SigningSecret, ModelID: v.ModelID, Inks: v.Inks, Printers: 1,
		StartMin: 60, StartMax: 80, DrainMin: 5, DrainMax: 10, Rand: rand.New(rand.NewPCG(7, 1)), HTTP: client}
	if kinds != nil {
		cfg.NewDevices = func(account int) []*simulator.Device {
			var ds []*simulator.Device
			for i, k := range v.Kinds {
				ds = append(ds, simulator.NewDevice(k, fmt.Sprintf("%s-%d-%d", k.Name, account, i), k.DeviceName,
					rand.New(rand.NewPCG(uint64(account), uint64(i)))))
			}
			return ds
		}
		v.ModelID = v.Kinds[0].ModelID
	}
	cloud := simulator.NewCloud(cfg)
	cs2.Config.Handler = cloud
	cs2.Start()
	t.Cleanup(cs2.Close)
	if oauth {
		if err := simulator.EnableOAuth(ctx, api, v, cloud, cloudURL, hs.URL); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{t: t, URL: hs.URL, api: api, vendor: v, cloud: cloud, cloudURL: cloudURL}
	w.allowExits()
	if err := api.Send(ctx, "PUT", "/api/v1/models/"+v.ModelID+"/image", v.APIKey, "image/png", printerPicture(), nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// printerPicture is a 128×128 PNG of a grey printer on white.
func printerPicture() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 128, 128))
	for y := range 128 {
		for x := range 128 {
			c := color.NRGBA{0xff, 0xff, 0xff, 0xff}
			switch {
			case x >= 16 && x < 112 && y >= 44 && y < 96:
				c = color.NRGBA{0x55, 0x5f, 0x6b, 0xff} // the body
			case x >= 32 && x < 96 && y >= 20 && y < 44:
				c = color.NRGBA{0xf2, 0xf2, 0xf2, 0xff} // the paper
			case x >= 28 && x < 100 && y >= 96 && y < 104:
				c = color.NRGBA{0x33, 0x3a, 0x42, 0xff} // the tray
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// allowExits puts the test's exit URIs, and more, on the vendor's list,
// keeping its other settings.
func (w *world) allowExits(more ...string) {
	w.t.Helper()
	var set map[string]any
	if err := w.api.Do(context.Background(), "GET", "/api/v1/vendor", w.vendor.APIKey, nil, &set); err != nil {
		w.t.Fatal(err)
	}
	settings := map[string]any{}
	for _, k := range []string{"skillEndpointUrl", "oauthAuthorizationUrl", "oauthTokenUrl", "oauthClientId", "webhookUrl"} {
		if v, ok := find(set, k); ok {
			settings[k] = v
		}
	}
	settings["allowedExitUris"] = append([]string{exitAllowed, exitPrefix + "*"}, more...)
	if err := w.api.Do(context.Background(), "PUT", "/api/v1/vendor", w.vendor.APIKey, settings, nil); err != nil {
		w.t.Fatal(err)
	}
}

// find looks for key in a JSON object, or in its "settings" object.
func find(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	if s, ok := m["settings"].(map[string]any); ok {
		v, ok := s[key]
		return v, ok
	}
	return nil, false
}

// customer is a browser-like client of one signed-up customer.
type customer struct {
	t      *testing.T
	w      *world
	http   *http.Client
	ID     string
	Email  string
	Secret string
}

// noFollow shows redirects instead of following them.
func noFollow(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newClient is a cookie-keeping client that does not follow redirects.
func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: noFollow}
}

var customerIDRe = regexp.MustCompile(`id="customer-id">(cu-[^<]+)<`)

// signUp creates a customer through the sign-up page.
func (w *world) signUp(name string) *customer {
	w.t.Helper()
	c := &customer{t: w.t, w: w, http: newClient(w.t), Secret: "a long enough password",
		Email: strings.ToLower(name) + "." + replenish.NewID("", 6) + "@example.com"}
	status, loc, body := c.post("/account/sign-up", url.Values{"name": {name}, "email": {c.Email},
		"password": {c.Secret}, "marketplace": {"US"}})
	if status != http.StatusSeeOther {
		w.t.Fatalf("sign-up: %d, want 303: %s", status, body)
	}
	if loc != "/account/?done=welcome" {
		w.t.Errorf("sign-up goes to %s, want the home page", loc)
	}
	_, body = c.get("/account/profile")
	m := customerIDRe.FindStringSubmatch(body)
	if m == nil {
		w.t.Fatalf("the profile shows no customer ID: %s", body)
	}
	c.ID = m[1]
	return c
}

// testAccount has the vendor add c as a test account of its models.
func (w *world) testAccount(c *customer) {
	w.t.Helper()
	models := []string{w.vendor.ModelID}
	if len(w.vendor.Kinds) > 1 {
		models = nil
		for _, k := range w.vendor.Kinds {
			models = append(models, k.ModelID)
		}
	}
	for _, m := range models {
		if err := w.api.Do(context.Background(), "PUT", "/api/v1/models/"+m+"/marketplaces/US/test-accounts/"+c.ID,
			w.vendor.APIKey, nil, nil); err != nil {
			w.t.Fatal(err)
		}
	}
}

// link makes c a test account and links c's printers through the pages
// (the vendor without a sign-in page of its own).
func (w *world) link(c *customer) {
	w.t.Helper()
	w.testAccount(c)
	status, loc, body := c.post("/account/vendors/"+w.vendor.VendorCode+"/link", nil)
	if status != http.StatusSeeOther || !strings.Contains(loc, "done=linked") {
		w.t.Fatalf("link: %d to %q, want 303 to the device list: %s", status, loc, body)
	}
}

// report has the cloud report the newest linked account's printers with
// the given levels (in percent) of their inks.
func (w *world) report(levels ...float64) {
	w.t.Helper()
	w.reportAt(time.Now(), levels...)
}

// reportAt is report with readings sampled at a time.
func (w *world) reportAt(at time.Time, levels ...float64) {
	w.t.Helper()
	as := w.cloud.Accounts()
	if len(as) == 0 {
		w.t.Fatal("no linked account at the cloud")
	}
	a := as[len(as)-1]
	for _, d := range a.Devices {
		for i := range d.Levels {
			if i < len(levels) {
				d.Levels[i] = levels[i]
			}
		}
		if status, err := w.cloud.Report(context.Background(), a, d, replenish.NewUUID(), at); status != http.StatusAccepted {
			w.t.Fatalf("report: %d %v", status, err)
		}
	}
}

// get fetches path and returns the status and body.
func (c *customer) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.w.URL + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// post posts form to path and returns the status, the redirect's target
// and the body.
func (c *customer) post(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	resp, err := c.http.PostForm(c.w.URL+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(raw)
}

// page is a link to a management page of the world's printer model.
func (w *world) page(pageType, exit string) string {
	q := url.Values{"vendorCode": {w.vendor.VendorCode}}
	switch pageType {
	case "dart_landing":
		q.Set("modelId", w.vendor.ModelID)
		q.Set("returnUrl", "/dart_device_list")
	case "dart_device_list":
	default:
		q.Set("modelId", w.vendor.ModelID)
		q.Set("settings", "true")
	}
	if exit != "" {
		q.Set("exitUri", exit)
	}
	return "/drs/partner/page/" + pageType + "?" + q.Encode()
}

// endpointIDs are the customer's printers' endpoint IDs, as the device
// list shows them.
var endpointIDRe = regexp.MustCompile(`id="device-([^"]+)"`)

func (c *customer) endpoints() []string {
	c.t.Helper()
	_, body := c.get(c.w.page("dart_device_list", ""))
	var out []string
	for _, m := range endpointIDRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
