package web_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"replenish/orders"
)

// scrape returns /metrics as text.
func scrape(t *testing.T, e *env) string {
	t.Helper()
	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(body)
}

// sample returns the value of the series that line starts with, or -1
// when there is none.
func sample(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestMetrics: after a low episode that places an order, a refused event
// and a delivered webhook, /metrics has every family, with the values
// they saw.
func TestMetrics(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = time.Minute })
	vendorHook(t, w)
	e := w.e
	w.lowEpisode(t, "6")
	if status, _ := e.do("POST", "/v3/events", w.tok.AccessToken, []byte(`{"event":`)); status != http.StatusBadRequest {
		t.Fatalf("a broken event: %d", status)
	}

	before := scrape(t, e)
	for series, atLeast := range map[string]float64{
		`replenish_orders{status="PENDING"}`:                                              1,
		`replenish_outbox_pending{channel="vendor_webhook"}`:                              1,
		`replenish_database_up`:                                                           1,
		`replenish_gateway_events_total{outcome="accepted",type="Alexa.ChangeReport"}`:    3,
		`replenish_gateway_events_total{outcome="invalid",type="unreadable"}`:             1,
		`replenish_http_requests_total{code="202",method="POST",route="POST /v3/events"}`: 3,
		`replenish_http_request_duration_seconds_count{route="POST /v3/events"}`:          4,
		`replenish_storage_group_commit_size_count`:                                       3,
		`replenish_storage_errors_total{kind="busy"}`:                                     0,
		`go_goroutines`: 1,
	} {
		if got := sample(before, series); got < atLeast {
			t.Errorf("%s = %g, want at least %g", series, got, atLeast)
		}
	}

	deliver(t, e)
	after := scrape(t, e)
	if got := sample(after, `replenish_notification_deliveries_total{channel="vendor_webhook",outcome="delivered"}`); got < 1 {
		t.Errorf("delivered vendor webhooks = %g, want at least 1", got)
	}
	if got := sample(after, `replenish_outbox_pending{channel="vendor_webhook"}`); got != -1 {
		t.Errorf("outbox after delivery = %g, want no series (nothing pending)", got)
	}
	if got := sample(after, `replenish_http_requests_total{code="200",method="GET",route="GET /metrics"}`); got < 1 {
		t.Errorf("scrapes counted %g, want at least 1", got)
	}
}
