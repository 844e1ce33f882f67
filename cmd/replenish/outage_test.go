package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"replenish/bench"
	"replenish/storage/pgtest"
	"replenish/storage/sqldb"
)

// proxy forwards TCP connections to a server, and can be cut (every
// connection dropped, new ones refused) and mended on the same address:
// the network to the database going away and coming back.
type proxy struct {
	addr, to string
	mu       sync.Mutex
	ln       net.Listener
	conns    []net.Conn
}

func newProxy(t *testing.T, to string) *proxy {
	t.Helper()
	p := &proxy{addr: "127.0.0.1:0", to: to}
	if err := p.mend(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.cut)
	return p
}

// mend listens again, on the same port after the first time.
func (p *proxy) mend() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return nil
}

// cut closes the listener and every connection through it.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestDatabaseOutage runs the service on PostgreSQL through a proxy, then
// cuts the network to the database: the gateway and the API answer 503
// with Retry-After and /readyz fails; once the network is back the service
// recovers by itself, and every event it had acknowledged is there.
func TestDatabaseOutage(t *testing.T) {
	direct := pgtest.URL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	proxied := u.String()

	const operatorKey = "rk_op_outage_test_key"
	base := startServeOn(t, operatorKey, proxied)
	ctx := t.Context()
	fleet, err := benchFleet(ctx, base, operatorKey)
	if err != nil {
		t.Fatal(err)
	}
	devices, err := bench.SeedDevices(ctx, direct, "out", fleet, 3, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now().UTC().Add(-time.Hour)
	report := func(i int) []byte {
		return bench.AppendReport(nil, devices[i%3], fleet.Slots[0].Instance, "out-"+strconv.Itoa(i), 50,
			start.Add(time.Duration(i)*time.Second))
	}
	get := func(path, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	acked := 0
	for i := range 6 {
		if err := bench.Post(ctx, client, base, devices[i%3].Token, report(i)); err != nil {
			t.Fatalf("before the outage: %v", err)
		}
		acked++
	}

	p.cut()
	post := func(i int) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v3/events", bytes.NewReader(report(i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+devices[i%3].Token)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	// The gateway must reach the database to check the event's token, and
	// cannot.
	resp, err := post(6)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("an event while the database is away: %d, Retry-After %q; want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if r := get("/api/v1/vendors", operatorKey); r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("the API while the database is away: %d, Retry-After %q; want 503 with Retry-After",
			r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := get("/readyz", ""); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while the database is away: %d, want 503", r.StatusCode)
	}

	if err := p.mend(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for get("/readyz", "").StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still fails 30 s after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The refused event, sent again, is taken; so are new ones. A writer
	// connection cut by the outage fails once more when next used, and is
	// then replaced: a vendor retries a 503, as it is told to.
	for i := 6; i < 9; i++ {
		var err error
		for try := 0; try < 10; try++ {
			if err = bench.Post(ctx, client, base, devices[i%3].Token, report(i)); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("after the outage, retried: %v", err)
		}
		acked++
	}
	if r := get("/api/v1/vendors", operatorKey); r.StatusCode != http.StatusOK {
		t.Errorf("the API after the outage: %d, want 200", r.StatusCode)
	}
	conn, err := sqldb.OpenRaw(direct)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var kept int
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM events WHERE message_id LIKE 'out-%'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != acked {
		t.Errorf("%d events kept, want the %d acknowledged", kept, acked)
	}
}
