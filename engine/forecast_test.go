package engine_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
)

// day0 is the first day of the forecast tests; readings come at 10:00.
var day0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const none = -1 // no reading that day

// forecastSlot is a Percentage LEVEL slot under FORECAST in AUTO mode,
// threshold 10 %, ordering with a 3-day lead time (spread 0.75) after a
// one-day cancellation window.
func forecastSlot() replenish.EndpointSlot {
	return replenish.EndpointSlot{SlotID: "ink", Name: "Ink", SensorType: replenish.SensorLevel,
		Measurement: replenish.Measurement{Type: measure.Percentage}, Threshold: 10,
		Policy: replenish.PolicyForecast, Mode: replenish.ModeAuto, ProductID: "INK",
		Plan: replenish.Plan{ServiceLevel: 95, LeadDays: 3, LeadSD: 0.75, Window: 24 * time.Hour}}
}

// fed is what daily gave back: the slot, and the decisions of each day.
type fed struct {
	slot      replenish.EndpointSlot
	decisions [][]engine.Decision
}

// orderDays returns the days on which an order was placed.
func (f fed) orderDays() []int {
	var out []int
	for d, ds := range f.decisions {
		for _, dec := range ds {
			if dec.Kind == engine.PlaceOrder {
				out = append(out, d)
			}
		}
	}
	return out
}

func (f fed) kinds() []engine.Kind {
	var out []engine.Kind
	for _, ds := range f.decisions {
		for _, dec := range ds {
			out = append(out, dec.Kind)
		}
	}
	return out
}

// daily gives slot s one reading a day, levels[d] on day d (none: no
// reading), each read as soon as it is sampled. An order placed is on
// order as one part, and stays open.
func daily(s replenish.EndpointSlot, levels []float64) fed {
	f := fed{decisions: make([][]engine.Decision, len(levels))}
	for d, level := range levels {
		if level == none {
			continue
		}
		at := day0.AddDate(0, 0, d)
		st, ds, _ := engine.Apply(s, engine.Reading{Amount: level, SampleAt: at}, at)
		s.State = st
		for _, dec := range ds {
			if dec.Kind == engine.PlaceOrder {
				s.State = engine.Placed(s, "ord-1", 1)
			}
		}
		f.decisions[d] = ds
	}
	f.slot = s
	return f
}

// use returns the levels of a device that starts at start and uses
// per[d] on day d.
func use(start float64, per ...float64) []float64 {
	out := []float64{start}
	for _, u := range per {
		out = append(out, math.Max(0, out[len(out)-1]-u))
	}
	return out
}

func repeat(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// wiggle is a steady use of mean per a day, varied by ±share in a fixed
// pattern, so that the estimate has a spread to learn.
func wiggle(n int, per, share float64) []float64 {
	pattern := []float64{1, -0.5, 0.25, -1, 0.75, -0.25, 0.5, -0.75}
	out := make([]float64, n)
	for i := range out {
		out[i] = per * (1 + share*pattern[i%len(pattern)])
	}
	return out
}

func TestForecastOrdersAhead(t *testing.T) {
	f := daily(forecastSlot(), use(100, wiggle(30, 5, 0.3)...))
	levels := use(100, wiggle(30, 5, 0.3)...)
	days := f.orderDays()
	if len(days) != 1 {
		t.Fatalf("orders on days %v, want one", days)
	}
	// Five days of use (lead time, window, the wait for the next reading)
	// are 25 %; the safety margin adds some. The threshold (10 %) is far.
	if l := levels[days[0]]; l < 25 || l > 50 {
		t.Errorf("ordered at %g %%, want between 25 and 50 %%: after the lead time's use, before the threshold", l)
	}
	// Shown as low from the order on, while the order is on its way.
	before, after := f.slot, f.slot
	before.State = daily(forecastSlot(), levels[:days[0]]).slot.State
	if got := engine.Status(before, day0.AddDate(0, 0, days[0]-1), engine.StaleAfter); got != replenish.StatusOK {
		t.Errorf("status the day before the order: %s, want OK", got)
	}
	if got := engine.Status(after, day0.AddDate(0, 0, len(levels)-1), engine.StaleAfter); got != replenish.StatusLow {
		t.Errorf("status with the order on its way: %s, want LOW", got)
	}
	why := f.decisions[days[0]][0].Reason
	in := why.Forecast
	if why.Trigger != replenish.PolicyForecast || in == nil {
		t.Fatalf("reason = %+v, want the FORECAST trigger with its inputs", why)
	}
	if in.LeadDays != 3 || in.ServiceLevel != 95 || in.WindowHours != 24 || in.Observations < 3 ||
		math.Abs(in.PerDay-5) > 1 || in.Position > in.ReorderPoint || in.RunOut.IsZero() {
		t.Errorf("forecast inputs = %+v, want lead 3 d, 95 %%, 24 h, rate about 5 a day, position at or under the reorder point", in)
	}
}

func TestForecastTooLittleData(t *testing.T) {
	// Readings a minute apart are less than a day of data: the threshold
	// decides, after its three low readings.
	s := forecastSlot()
	var kinds []engine.Kind
	for i, level := range []float64{12, 9, 8, 7} {
		at := day0.Add(time.Duration(i) * time.Minute)
		st, ds, _ := engine.Apply(s, engine.Reading{Amount: level, SampleAt: at}, at)
		s.State = st
		for _, d := range ds {
			kinds = append(kinds, d.Kind)
			if d.Kind == engine.PlaceOrder && d.Reason.Trigger != replenish.PolicyThreshold {
				t.Errorf("trigger %s, want THRESHOLD", d.Reason.Trigger)
			}
		}
		if i < 3 && len(ds) > 0 {
			t.Fatalf("reading %d (%g %%) decided %v: too little data to forecast, too few low readings", i, level, ds)
		}
	}
	if !slices.Equal(kinds, []engine.Kind{engine.PlaceOrder}) {
		t.Errorf("decisions %v, want one order by the threshold", kinds)
	}
	if e := engine.Estimated(s.State.Rate); e.Enough {
		t.Errorf("estimate %+v says enough after minutes", e)
	}
}

func TestForecastRefillIsNotConsumption(t *testing.T) {
	// 2 % a day; on day 20 the owner tops the device up from 60 to 100 %.
	levels := use(100, wiggle(19, 2, 0.3)...)
	levels = append(levels, use(100, wiggle(20, 2, 0.3)...)...)
	f := daily(forecastSlot(), levels)
	if got := engine.Estimated(f.slot.State.Rate).PerDay; math.Abs(got-2) > 0.5 {
		t.Errorf("rate after a top-up = %.2f a day, want about 2", got)
	}
	if days := f.orderDays(); len(days) != 0 {
		t.Errorf("ordered on days %v with the device at 60 %% or more", days)
	}
}

func TestForecastHolidayDoesNotOrder(t *testing.T) {
	// 3 % a day down to 40 %, three weeks away, then 3 % a day again.
	levels := use(100, wiggle(20, 3, 0.3)...)
	levels = append(levels, repeat(21, levels[len(levels)-1])...)
	levels = append(levels, use(levels[len(levels)-1], wiggle(14, 3, 0.3)...)[1:]...)
	f := daily(forecastSlot(), levels)
	days := f.orderDays()
	for _, d := range days {
		if d <= 41 {
			t.Errorf("ordered on day %d, during or before the holiday at %g %%", d, levels[d])
		}
	}
	// Back home, the forecast follows: it orders before the threshold.
	if len(days) != 1 || levels[days[0]] <= 10 {
		t.Errorf("orders on days %v (levels %v), want one after the holiday, above the 10 %% threshold", days, levels)
	}
}

func TestForecastLowOutlier(t *testing.T) {
	// One reading of 5 % between 60 and 57 is noise: no order, no low
	// count, no refill when the next reading is back up.
	levels := append(use(100, wiggle(13, 3, 0.2)...), 5)
	last := levels[len(levels)-2]
	levels = append(levels, last-3, last-6)
	s := forecastSlot()
	s.State.Household = 1
	f := daily(s, levels)
	if k := f.kinds(); len(k) != 0 {
		t.Errorf("decisions %v, want none for one odd reading", k)
	}
	if st := f.slot.State; st.Amount != last-6 || st.LowCount != 0 || st.Household != 1 {
		t.Errorf("state = amount %g, low count %d, household %g; want %g, 0, 1 (no refill, no spare used)",
			st.Amount, st.LowCount, st.Household, last-6)
	}
}

func TestForecastDropConfirmed(t *testing.T) {
	// A drop from 61 to 15 % that the next reading confirms is real: the
	// order follows the confirming reading, not the odd one.
	levels := append(use(100, wiggle(13, 3, 0.2)...), 15, 13)
	f := daily(forecastSlot(), levels)
	if days := f.orderDays(); !slices.Equal(days, []int{len(levels) - 1}) {
		t.Errorf("orders on days %v, want on day %d, the confirming reading", days, len(levels)-1)
	}
	if got := f.slot.State.Amount; got != 13 {
		t.Errorf("amount %g, want 13", got)
	}
}

func TestForecastStepChange(t *testing.T) {
	// 1 % a day for 40 days, then 3 % a day: within a week the estimate
	// follows.
	levels := use(100, append(wiggle(40, 1, 0.3), wiggle(7, 3, 0.3)...)...)
	f := daily(forecastSlot(), levels)
	if got := engine.Estimated(f.slot.State.Rate).PerDay; got < 2.4 || got > 3.6 {
		t.Errorf("rate a week after use tripled = %.2f a day, want within 20 %% of 3", got)
	}
}

func TestForecastStaleNeverOrders(t *testing.T) {
	// Readings that arrive four days late decide nothing.
	s := forecastSlot()
	now := day0.AddDate(0, 0, 40)
	for d, level := range use(100, wiggle(30, 3, 0.2)...) {
		at := day0.AddDate(0, 0, d)
		st, ds, _ := engine.Apply(s, engine.Reading{Amount: level, SampleAt: at}, at.Add(4*24*time.Hour))
		s.State = st
		if len(ds) > 0 {
			t.Fatalf("day %d (%g %%), four days late: decisions %v", d, level, ds)
		}
	}
	o := engine.Forecast(s, now)
	if o.RunOut.Before(now) || o.NextOrder.Before(now) {
		t.Errorf("forecast dates %v and %v are before now %v", o.RunOut, o.NextOrder, now)
	}
}

func TestForecastDates(t *testing.T) {
	f := daily(forecastSlot(), use(100, repeat(10, 4)...))
	s := f.slot
	at := s.State.LastSampleAt
	o := engine.Forecast(s, at)
	if math.Abs(o.PerDay-4) > 0.01 {
		t.Fatalf("rate %.3f, want 4", o.PerDay)
	}
	// 60 % left at 4 a day: 15 days.
	if want := at.Add(15 * 24 * time.Hour); o.RunOut.Sub(want).Abs() > time.Hour {
		t.Errorf("run-out %v, want %v", o.RunOut, want)
	}
	if !o.NextOrder.After(at) || !o.NextOrder.Before(o.RunOut) {
		t.Errorf("next order %v, want between now and the run-out %v", o.NextOrder, o.RunOut)
	}
	// Spares and an open order move the run-out: one part each is 25 days.
	s.State.Household, s.State.OnOrder = 1, 1
	if got, want := engine.Forecast(s, at).RunOut, at.Add((15+50)*24*time.Hour); got.Sub(want).Abs() > time.Hour {
		t.Errorf("run-out with a spare and an order = %v, want %v", got, want)
	}
	// A higher service level orders earlier.
	prev := 0.0
	for _, level := range []float64{80, 95, 99.9} {
		s.Plan.ServiceLevel = level
		rop := engine.Forecast(s, at).ReorderPoint
		if rop <= prev {
			t.Errorf("reorder point at %g %% = %.2f, not above %.2f at a lower level", level, rop, prev)
		}
		prev = rop
	}
	// Under THRESHOLD, the next order is when the spares and the device
	// reach the threshold and two more readings confirm it.
	s.Policy, s.State.OnOrder = replenish.PolicyThreshold, 0
	if got, want := engine.Forecast(s, at).NextOrder, at.Add(time.Duration(39.5*24)*time.Hour); got.Sub(want).Abs() > time.Hour {
		t.Errorf("THRESHOLD's next order = %v, want %v", got, want)
	}
}

func TestForecastCountsSpares(t *testing.T) {
	// At 30 % and 5 a day the device alone is low; a spare at home covers
	// the lead time, so nothing is ordered.
	levels := use(100, wiggle(14, 5, 0.2)...)
	with := forecastSlot()
	with.State.Household = 1
	if days := daily(with, levels).orderDays(); len(days) != 0 {
		t.Errorf("with a spare at home: orders on days %v, want none", days)
	}
	if days := daily(forecastSlot(), levels).orderDays(); len(days) != 1 {
		t.Errorf("without spares: orders on days %v, want one", days)
	}
}

func TestSparesGone(t *testing.T) {
	// A device that reads empty for a day with 2 spares recorded: the
	// spares are not there.
	levels := append(use(100, wiggle(9, 10, 0.2)...), 0, 0.5, 0)
	s := forecastSlot()
	s.Mode = replenish.ModeNotify
	s.State.Household = 2
	f := daily(s, levels)
	var gone []engine.Decision
	for _, ds := range f.decisions {
		for _, d := range ds {
			if d.Kind == engine.SparesGone {
				gone = append(gone, d)
			}
		}
	}
	if len(gone) != 1 || gone[0].Amount != 2 || f.slot.State.Household != 0 {
		t.Errorf("spares-gone decisions %+v, household %g; want one of 2, household 0", gone, f.slot.State.Household)
	}
	// A slow device at 1.5 % is not empty after a day.
	slow := forecastSlot()
	slow.State.Household = 2
	levels = append(use(100, repeat(65, 1.5)...), 1.5, 1.5)
	if f := daily(slow, levels); f.slot.State.Household != 2 {
		t.Errorf("a slow device at 1.5 %%: household %g, want 2 kept", f.slot.State.Household)
	}
}

func TestZ(t *testing.T) {
	for _, c := range []struct{ level, want float64 }{{50, 0}, {95, 1.6449}, {99.9, 3.0902}, {0, 1.6449}} {
		if got := engine.Z(c.level); math.Abs(got-c.want) > 0.001 {
			t.Errorf("Z(%g) = %.4f, want %.4f", c.level, got, c.want)
		}
	}
}
