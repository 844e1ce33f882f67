package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/notifications"
	"replenish/simulator"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemo runs "replenish demo" as a newcomer would and checks that,
// within its simulated minute, it shows a low supply and an order made
// through the real protocol, each order's steps through to DELIVERED
// (the clerk) or CANCELLED (the customer), a summary whose counts by
// status are what the API then lists, and that it keeps serving. The
// vendor's webhooks arrive at the simulated cloud, well signed, as many of
// each type as the outbox lists, and the customers' e-mails at the demo's
// SMTP sink, a line each. The order windows are shorter still than the
// demo's own.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs for 20 seconds")
	}
	const key = "rk_op_demo_test_operator"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"replenish", "demo", "--addr", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "demo.db"),
			"--duration", "20s", "--seed", "7", "--operator-key", key, "--cancel-window", "2s", "--order-tick", "200ms",
			"--ship-after", "500ms", "--deliver-after", "500ms"}, func(string) string { return "" }, &out, &logs)
	}()
	deadline := time.After(90 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C to stop.") {
		select {
		case err := <-done:
			t.Fatalf("demo ended early: %v\n%s\n%s", err, out.String(), logs.String())
		case <-deadline:
			t.Fatalf("demo did not finish its simulation in 90 seconds:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	text := out.String()
	// What the API lists once the demo settled, while it keeps serving.
	url := regexp.MustCompile(`Replenish keeps serving at (http://\S+)\.`).FindStringSubmatch(text)
	if url == nil {
		t.Fatalf("no URL in the demo's output:\n%s", text)
	}
	api := &simulator.Client{URL: url[1], HTTP: &http.Client{Timeout: 10 * time.Second}}
	os, err := simulator.ListOrders(ctx, api, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, o := range os {
		n[o.Status]++
	}
	vendor := regexp.MustCompile(`vendor   (sim-\S+) `).FindStringSubmatch(text)
	if vendor == nil {
		t.Fatalf("no vendor in the demo's output:\n%s", text)
	}
	webhooks, err := simulator.ListNotifications(ctx, api, key, neturl.Values{"channel": {"vendor_webhook"}, "vendorCode": {vendor[1]}})
	if err != nil {
		t.Fatal(err)
	}
	// E-mails are recorded delivered once the sink has taken them, and
	// so printed them; the demo's worker goes on sending while it serves.
	var emails []notifications.Delivery
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		emails, err = simulator.ListNotifications(ctx, api, key, neturl.Values{"channel": {"email"}, "status": {"DELIVERED"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(emails) > 0 || time.Now().After(deadline) {
			break
		}
	}
	text = out.String()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo: %v", err)
	}

	for _, want := range []string{"LOW_SUPPLY", "ORDER_PLACED", "mode AUTO", "mode NOTIFY", "Replenish keeps serving at http://127.0.0.1:",
		"/console/ signs in", "operator operator@demo.example  password ",
		"/account/sign-in as customer@demo.example (", "  history    http://127.0.0.1:", "/drs/partner/page/inventory_history?vendorCode=",
		"  app link   http://127.0.0.1:", "/spa/index.html#v2/drs/partner/page/dart_device_list?vendorCode=", "vendor   vendor@demo.example  password ",
		"e-mail   customers' e-mails go to the demo's SMTP sink at 127.0.0.1:", "/api/v1/notifications?channel=email",
		"orders   cancellable for 2s, then released; the clerk ships them 500ms later and delivers them 500ms after that",
		": PENDING → RELEASED (the cancellation window ended, by service)", ": RELEASED → SHIPPED (tracking SIM",
		": SHIPPED → DELIVERED (by operator)", ": PENDING → CANCELLED (I bought one at the shop, by customer)",
		"reported 14 days of its log; its forecast", "% a day: runs out about ",
		"  kit      KIT-00001        dev_", "mqtt     CONNECT_KIT devices connect to the broker at tcp://127.0.0.1:",
		fmt.Sprintf("orders placed       %d (delivered %d, shipped 0, released 0, pending 0, cancelled 1)", len(os), len(os)-1),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	// The kit printer reported over MQTT every day, each event acked.
	kits := regexp.MustCompile(`MQTT kits +(\d+) events acked \(202\) of (\d+) sent, \d+ sent again for want of an ack, (\d+) rejected`).FindStringSubmatch(text)
	if kits == nil || kits[1] == "0" || kits[1] != kits[2] || kits[3] != "0" {
		t.Errorf("the kit's summary %q: want every event it sent acked, none refused", kits)
	}
	if n[replenish.OrderDelivered] != len(os)-1 || n[replenish.OrderCancelled] != 1 || len(os) < 2 {
		t.Errorf("the API lists %d orders, %v; want all delivered but the one cancelled", len(os), n)
	}

	// The vendor's webhooks, as the summary counts them and the watch
	// shows them.
	byType := map[string]int{}
	for _, w := range webhooks {
		byType[strings.TrimSuffix(w.Type, "Notification")]++
		if w.Status != "DELIVERED" {
			t.Errorf("vendor notification %s %s is %s (%s), want DELIVERED", w.NotificationID, w.Type, w.Status, w.LastError)
		}
	}
	summary := regexp.MustCompile(`vendor webhooks     (\d+) \((.*)\), 0 badly signed, 0 repeats\n`).FindStringSubmatch(text)
	if summary == nil || summary[1] != fmt.Sprint(len(webhooks)) {
		t.Errorf("the summary's vendor webhooks are not the %d the outbox lists:\n%s", len(webhooks), text)
	}
	for _, typ := range []string{"DeviceRegistered", "SubscriptionChanged", "OrderPlaced", "OrderCancelled", "ItemShipped", "ItemDelivered"} {
		if byType[typ] == 0 || summary != nil && !strings.Contains(summary[2], fmt.Sprintf("%s %d", typ, byType[typ])) {
			t.Errorf("%d %s listed; the summary says %q", byType[typ], typ, summary)
		}
		if !strings.Contains(text, " WEBHOOK         "+typ+" ") {
			t.Errorf("the watch shows no %s webhook:\n%s", typ, text)
		}
	}
	// Every e-mail delivered was printed by the sink, once.
	if len(emails) == 0 {
		t.Errorf("no e-mail delivered to the demo's sink:\n%s", text)
	}
	for _, e := range emails {
		var m struct{ MessageID, Subject string }
		if err := json.Unmarshal(e.Body, &m); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("  e-mail to <%s>: %q %s\n", e.Target, m.Subject, m.MessageID)
		if strings.Count(text, line) != 1 {
			t.Errorf("the demo prints %q %d times, want once:\n%s", line, strings.Count(text, line), text)
		}
	}
	if strings.Contains(text, "refused") || strings.Contains(text, "  ! ") {
		t.Errorf("the demo had errors:\n%s", text)
	}
}

// TestDemoHelp: --help shows the demo's own defaults: order windows of
// seconds and the clerk on.
func TestDemoHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"replenish", "demo", "--help"}, env(nil), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	help := errOut.String()
	for _, want := range []string{"cancelled before it is released to fulfilment (duration) (default 20s)",
		"is cancelled (duration) (default 3m)", "shipping to delivery (duration; 0: the marketplace's lead time) (default 30s)",
		"--clerk \n", "then deliver them (default true)", "(default 1m0s)", "--ship-after", "--deliver-after", "--settle"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}
