package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"replenish"
	"replenish/orders"
)

// forecastPolicy has the operator put the world's first slot under
// FORECAST at the given service level, through the API.
func (w *gwWorld) forecastPolicy(t *testing.T, level float64) {
	t.Helper()
	var list struct{ Items []replenish.Request }
	w.e.must(http.StatusOK, "GET", "/api/v1/replenishment-requests?status=ASSIGNED", w.e.OperatorKey, nil, &list)
	for _, r := range list.Items {
		if r.ModelID == w.v.ModelID && r.SlotID == "SLOT01" {
			w.e.must(http.StatusOK, "PATCH", "/api/v1/replenishment-requests/"+r.RequestID, w.e.OperatorKey,
				map[string]any{"policy": "FORECAST", "serviceLevel": level}, nil)
			return
		}
	}
	t.Fatal("no assigned request for SLOT01")
}

// day reports level as today's reading, a day after the last one.
func (w *gwWorld) day(t *testing.T, level float64) {
	t.Helper()
	w.e.clock.Advance(24 * time.Hour)
	w.refresh(t) // the access token lives an hour
	gwAccepted(t, w.e, w.tok.AccessToken, w.black(fmt.Sprint(level)))
}

// TestForecastOverHTTP: a slot under FORECAST shows its run-out and next
// order dates, orders before the threshold would, and the order says why;
// a silent slot shows no dates.
func TestForecastOverHTTP(t *testing.T) {
	w := ordWorld(t, func(s *orders.Settings) { s.CancelWindow = time.Hour })
	e := w.e
	w.forecastPolicy(t, 95)

	level := 100.0
	for range 4 {
		w.day(t, level)
		level -= 5
	}
	sl := gwSlot(t, e, w.c, w.ep, "SLOT01")
	f := sl.Forecast
	if f == nil || !f.Enough || math.Abs(f.RatePerDay-5) > 0.01 || f.Policy != "FORECAST" || f.ServiceLevel != 95 || f.LeadTimeDays != 2 {
		t.Fatalf("forecast = %+v, want enough data, 5 a day, FORECAST at 95 %%, the US lead time of 2 days", f)
	}
	now := e.clock.Now()
	// 85 % left at 5 a day: 17 days after the last reading.
	if sl.RunOutDate == nil || sl.RunOutDate.Sub(now.Add(17*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("runOutDate = %v, want %v", sl.RunOutDate, now.Add(17*24*time.Hour))
	}
	if sl.NextOrderDate == nil || !sl.NextOrderDate.After(now) || !sl.NextOrderDate.Before(*sl.RunOutDate) {
		t.Fatalf("nextOrderDate = %v, want between now and the run-out date", sl.NextOrderDate)
	}

	// Down it goes, until the forecast orders.
	var placed replenish.Order
	for level > 0 {
		w.day(t, level)
		if os := w.orders(t); len(os) > 0 {
			placed = os[0]
			break
		}
		level -= 5
	}
	if placed.OrderID == "" {
		t.Fatal("no order before the device ran empty")
	}
	// The US lead time (2 days), the window and the wait for the next
	// reading are 15 %; the simulator's threshold is 10 %.
	if level < 15 || level > 40 {
		t.Errorf("ordered at %g %%, want ahead of the lead time and of the threshold", level)
	}
	var why struct {
		Trigger  string `json:"trigger"`
		Forecast struct {
			RatePerDay   float64 `json:"ratePerDay"`
			Position     float64 `json:"inventoryPosition"`
			ReorderPoint float64 `json:"reorderPoint"`
			LeadDays     float64 `json:"leadTimeDays"`
			ServiceLevel float64 `json:"serviceLevel"`
			Observations int     `json:"observations"`
			WindowHours  float64 `json:"cancellationWindowHours"`
		} `json:"forecast"`
	}
	raw, _ := json.Marshal(placed.Reason)
	if err := json.Unmarshal(raw, &why); err != nil {
		t.Fatal(err)
	}
	if why.Trigger != "FORECAST" || math.Abs(why.Forecast.RatePerDay-5) > 1e-6 || why.Forecast.Position != level ||
		why.Forecast.Position > why.Forecast.ReorderPoint || why.Forecast.LeadDays != 2 || why.Forecast.ServiceLevel != 95 ||
		why.Forecast.Observations < 3 || why.Forecast.WindowHours != 1 {
		t.Errorf("order reason = %s, want the FORECAST trigger and its inputs", raw)
	}
	// The open order counts in the position: the run-out moves a part on.
	sl = gwSlot(t, e, w.c, w.ep, "SLOT01")
	if sl.Forecast.InventoryPosition != level+100 || sl.OpenOrderID != placed.OrderID {
		t.Errorf("after ordering: position %g, open order %q; want %g, %s", sl.Forecast.InventoryPosition, sl.OpenOrderID, level+100, placed.OrderID)
	}

	// Silent for four days: no dates from old data.
	e.clock.Advance(4 * 24 * time.Hour)
	sl = gwSlot(t, e, w.c, w.ep, "SLOT01")
	if sl.Status != replenish.StatusNotReporting || sl.RunOutDate != nil || sl.NextOrderDate != nil {
		t.Errorf("silent slot: status %s, runOutDate %v, nextOrderDate %v; want NOT_REPORTING and no dates", sl.Status, sl.RunOutDate, sl.NextOrderDate)
	}
}

// TestForecastLowSupplyReason: in NOTIFY mode the forecast's low supply
// reaches the feed with the inputs of the decision.
func TestForecastLowSupplyReason(t *testing.T) {
	w := gwLinked(t)
	w.forecastPolicy(t, 99)
	for level := 100.0; level >= 40; level -= 6 {
		w.day(t, level)
	}
	var low *replenish.FeedEntry
	for _, f := range w.feed(t) {
		if f.Type == replenish.FeedLowSupply {
			low = &f
		}
	}
	if low == nil {
		t.Fatalf("no LOW_SUPPLY in the feed: %+v", w.feed(t))
	}
	var why struct {
		Trigger  string `json:"trigger"`
		Forecast *struct {
			ServiceLevel float64 `json:"serviceLevel"`
		} `json:"forecast"`
	}
	if err := json.Unmarshal(low.Reason, &why); err != nil || why.Trigger != "FORECAST" || why.Forecast == nil || why.Forecast.ServiceLevel != 99 {
		t.Errorf("LOW_SUPPLY reason = %s (%v), want the FORECAST trigger at 99 %%", low.Reason, err)
	}
}
