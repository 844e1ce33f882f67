package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"replenish/calendar"
	"replenish/console"
	"replenish/customers"
	"replenish/devices"
	"replenish/gateway"
	"replenish/linking"
	"replenish/notifications"
	"replenish/orders"
	"replenish/storage/sqldb"
	"replenish/users"
	"replenish/web"
)

// env is a real Replenish over HTTP on a free port, on a SQLite file of
// the test's own, with a clock the test moves.
type env struct {
	t             testing.TB
	URL           string
	Store         *sqldb.DB
	OperatorKey   string
	Server        *web.Server
	Orders        *orders.Service
	Notifications *notifications.Service
	clock         *clock
}

// orderSettings are the order rules of newEnv: Dash's windows, and a
// fulfilment key for the commerce system's calls.
var orderSettings = func() orders.Settings {
	s := orders.DefaultSettings()
	s.Fulfilment.Key = testFulfilmentKey
	return s
}()

const testFulfilmentKey = "rk_ful_test_fulfilment_key"

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const testOperatorKey = "rk_op_test_operator_key"

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with order settings that set changes.
func newEnvWith(t testing.TB, set func(*orders.Settings)) *env {
	t.Helper()
	settings := orderSettings
	if set != nil {
		set(&settings)
	}
	ctx := context.Background()
	store, err := sqldb.OpenSQLite(ctx, filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{now: time.Now().UTC().Truncate(time.Millisecond)}
	con := console.New(store, clk.Now)
	if _, err := con.Bootstrap(ctx, testOperatorKey); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The server listens before the service is built: its URL is the
	// base URL that vendors redirect customers back to.
	hs := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + hs.Listener.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	ntf := notifications.New(store, clk.Now, client, log, baseURL)
	ord := orders.New(store, clk.Now, settings, client, log, ntf)
	gw := gateway.New(store, clk.Now, ord, ntf)
	srv := &web.Server{Store: store, Console: con, Customers: customers.New(store, clk.Now, ntf), Orders: ord,
		Notifications: ntf, Gateway: gw, Devices: devices.New(store, gw, clk.Now, log), Linking: linking.New(store, gw, client, log, clk.Now, baseURL),
		Users: users.New(store, clk.Now), Log: log, FulfilmentKey: testFulfilmentKey}
	srv.Customers.CancelWindow(ord.Settings().CancelWindow)
	srv.Calendar = calendar.New(store, srv.Customers, clk.Now)
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &env{t: t, URL: hs.URL, Store: store, OperatorKey: testOperatorKey, Server: srv, clock: clk, Orders: ord,
		Notifications: ntf}
}

// do sends body (JSON-encoded unless it is []byte) with key as bearer and
// returns the status and the raw answer.
func (e *env) do(method, path, key string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// must sends like do, fails the test unless the status is want, and
// decodes the answer into out when out is not nil.
func (e *env) must(want int, method, path, key string, body, out any) {
	e.t.Helper()
	status, raw := e.do(method, path, key, body)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
}

// apiError is the console's error shape.
type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// refused sends like do and checks that the request failed with status
// and code and, when field is not empty, that the error names field.
func (e *env) refused(status int, code, field, method, path, key string, body any) apiError {
	e.t.Helper()
	got, raw := e.do(method, path, key, body)
	var ae apiError
	if err := json.Unmarshal(raw, &ae); err != nil {
		e.t.Fatalf("%s %s: not an error body: %s", method, path, raw)
	}
	if got != status || ae.Error.Code != code {
		e.t.Fatalf("%s %s: got %d %q, want %d %q: %s", method, path, got, ae.Error.Code, status, code, raw)
	}
	if field != "" {
		if _, ok := ae.Error.Fields[field]; !ok {
			e.t.Fatalf("%s %s: error does not name field %q: %s", method, path, field, raw)
		}
	}
	return ae
}
