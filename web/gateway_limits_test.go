package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/web"
)

// gwPost posts an event and returns the status, the Retry-After header
// and the exception code, if any.
func gwPost(t *testing.T, e *env, token string, body []byte) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+"/v3/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var x gwException
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &x); err != nil {
			t.Fatalf("not an exception: %d %s", resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), x.Payload.Code
}

func TestGatewayRateLimit(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	b := gwRegister(t, e)
	bTok := gwExchange(t, e, b, gwLink(t, e, w.c, b))
	// One event a second, three at once; the test's clock stands still
	// unless the test moves it.
	e.Server.Gateway.Limit(gateway.NewLimiter(1, 3))
	for i, v := range []string{"50", "49", "48"} {
		e.clock.Advance(time.Millisecond)
		if i == 0 {
			e.clock.Advance(-time.Millisecond) // the bucket starts full
		}
		gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Black", v, e.clock.Now().Add(time.Duration(i)*time.Millisecond))))
	}
	gwWantLevel(t, w, 48)
	before := gwSnapshot(t, e, w.c)
	status, retry, code := gwPost(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Black", "10", e.clock.Now().Add(time.Second))))
	if status != http.StatusTooManyRequests || code != "THROTTLING_EXCEPTION" {
		t.Fatalf("the fourth event at once: %d %s, want 429 THROTTLING_EXCEPTION", status, code)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 1 {
		t.Fatalf("Retry-After %q, want 1 second at one event a second", retry)
	}
	if after := gwSnapshot(t, e, w.c); after != before {
		t.Fatalf("a throttled event changed what the customer sees:\nbefore %s\nafter  %s", before, after)
	}
	// The limit is per vendor: the other vendor's bucket is full.
	gwAccepted(t, e, bTok.AccessToken, gwChange(replenish.NewUUID(), b.endpointID, bTok.AccessToken,
		gwLevel("InkSensor.Black", "70", e.clock.Now())))
	// A second later the vendor may send one more, and only one.
	e.clock.Advance(time.Second)
	gwAccepted(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Black", "47", e.clock.Now())))
	gwWantLevel(t, w, 47)
	if status, _, code := gwPost(t, e, tok, gwChange(replenish.NewUUID(), w.ep, tok, gwLevel("InkSensor.Black", "10", e.clock.Now()))); status != http.StatusTooManyRequests {
		t.Fatalf("a second event in the same second: %d %s, want 429", status, code)
	}
	// No limit at all by default.
	e.Server.Gateway.Limit(gateway.NewLimiter(0, 0))
	for range 10 {
		e.clock.Advance(time.Millisecond)
		gwAccepted(t, e, tok, w.black("46"))
	}
}

func TestGatewayStorageUnavailable(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	gwAccepted(t, e, tok, w.black("50"))
	// The database goes away under the running server.
	if err := e.Store.Close(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	status, retry, code := gwPost(t, e, tok, w.black("40"))
	if status != http.StatusServiceUnavailable || code != "SERVICE_UNAVAILABLE_EXCEPTION" {
		t.Fatalf("an event with the database closed: %d %s, want 503 SERVICE_UNAVAILABLE_EXCEPTION", status, code)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 {
		t.Fatalf("Retry-After %q, want a positive number of seconds", retry)
	}
	// The customer API says the same in its own shape.
	e.refused(http.StatusServiceUnavailable, replenish.EUnavailable, "", "GET", "/api/v1/endpoints", w.c.APIKey, nil)
}

// TestGatewayRefusesLargeBodyUnread sends, over a raw connection, a body
// over 1 MiB and then nothing more, keeping the connection open: the
// answer must come without the server waiting for the rest.
func TestGatewayRefusesLargeBodyUnread(t *testing.T) {
	w := gwLinked(t)
	e, tok := w.e, w.tok.AccessToken
	host := strings.TrimPrefix(e.URL, "http://")
	chunk := bytes.Repeat([]byte(" "), web.MaxBody+64<<10)
	for _, tc := range []struct {
		name, framing string
		body          []byte
	}{
		// A declared length of 2 MiB, of which nothing is sent.
		{"Content-Length", "Content-Length: 2097152\r\n", nil},
		// Chunked: one chunk over the limit, and the stream left open.
		{"chunked", "Transfer-Encoding: chunked\r\n", append([]byte(fmt.Sprintf("%x\r\n", len(chunk))), append(chunk, "\r\n"...)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			head := "POST /v3/events HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + tok +
				"\r\nContent-Type: application/json\r\n" + tc.framing + "\r\n"
			if _, err := conn.Write(append([]byte(head), tc.body...)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer while the client was still sending: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
		})
	}
	gwAccepted(t, e, tok, w.black("33"))
	gwWantLevel(t, w, 33)
}
