package account

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/measure"
)

func TestChart(t *testing.T) {
	to := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	from := to.Add(-10 * 24 * time.Hour)
	f := func(v float64) *float64 { return &v }
	// Newest first, as the history is.
	es := []replenish.HistoryEntry{
		{Type: replenish.HistoryReading, At: to.Add(-1 * 24 * time.Hour), Amount: f(90), Unit: "percent"},
		{Type: replenish.HistoryReplacement, At: to.Add(-2 * 24 * time.Hour), Amount: f(100), Unit: "percent"},
		{Type: replenish.HistoryOrder, At: to.Add(-4 * 24 * time.Hour), Status: replenish.OrderPending, OrderID: "ord-1"},
		{Type: replenish.HistoryReading, At: to.Add(-5 * 24 * time.Hour), Amount: f(8), Unit: "percent"},
		{Type: replenish.HistoryHousehold, At: to.Add(-6 * 24 * time.Hour), Amount: f(3), Unit: "parts"},
		{Type: replenish.HistoryReading, At: from, Amount: f(40), Unit: "percent"},
	}
	sl := customers.Slot{SlotID: "S<1>", Name: "Black & white", SensorType: replenish.SensorLevel,
		Level: &customers.Level{Type: measure.Percentage, Value: 90}}
	svg := string(chart(sl, es, from, to))
	for _, want := range []string{`<svg class="chart" viewBox="0 0 640 260" role="img"`, `<title id="chart-S&lt;1&gt;-t">Black &amp; white over the last 10 days</title>`,
		"4 readings, 1 refills or replacements, 1 orders placed", "The newest amount is 90 %.",
		`<polyline class="amount" points="64.0,130.8 `, `<line class="order" x1="400.0"`, `<path class="refill" d="M512.0 4.0`,
		`>100 %</text>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %s:\n%s", want, svg)
		}
	}
	// A household change of a LEVEL slot is not a level: 4 points.
	if n := strings.Count(svg, `<circle class="reading"`); n != 4 {
		t.Errorf("%d points drawn, want 4", n)
	}
	empty := string(chart(customers.Slot{SlotID: "x", Name: "Filter"}, nil, from, to))
	if !strings.Contains(empty, "No readings in this period") || strings.Contains(empty, "<polyline") {
		t.Errorf("an empty chart: %s", empty)
	}
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	r := httptest.NewRequest("GET", "http://inside:8080/account/", nil)
	if (&Server{BaseURL: "http://shop.example"}).secure(r) {
		t.Error("Secure over http to an http base URL")
	}
	if !(&Server{BaseURL: "https://shop.example"}).secure(r) {
		t.Error("not Secure behind an https base URL")
	}
	r.TLS = &tls.ConnectionState{}
	if !(&Server{}).secure(r) {
		t.Error("not Secure over TLS")
	}
}
