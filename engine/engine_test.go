package engine_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
)

// now is the fixed clock of every test: the engine keeps no clock of its own.
var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// when places a reading's SampleAt relative to the previous reading sent.
type when int

const (
	next    when = iota // one minute after the latest reading sent so far
	same                // the same SampleAt as the previous reading: a duplicate
	earlier             // one minute before the previous reading
)

// step is one reading sent to Apply and the decisions expected back.
type step struct {
	amount float64
	when   when
	// ago, when set, places the sample at now-ago instead of using when.
	ago time.Duration
	// delivered closes the open order before this reading, as the caller
	// does when an order is delivered or cancelled.
	delivered bool
	want      []engine.Kind
}

// rd is a fresh reading one minute after the previous one.
func rd(amount float64, want ...engine.Kind) step { return step{amount: amount, want: want} }

// rep repeats a reading that expects no decision.
func rep(n int, amount float64) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = rd(amount)
	}
	return out
}

func seq(parts ...[]step) []step { return slices.Concat(parts...) }

func one(s ...step) []step { return s }

const (
	notify = engine.NotifyLow
	order  = engine.PlaceOrder
)

// slot returns a slot under the THRESHOLD policy with the given measurement,
// threshold and mode; product may be empty.
func slot(t measure.Type, threshold float64, mode, product string) replenish.EndpointSlot {
	m := replenish.Measurement{Type: t}
	if t == measure.Volume {
		m.Unit = "MILLILITER"
	}
	return replenish.EndpointSlot{
		EndpointID: "printer-1", Instance: "InkSensor.Black", SlotID: "black",
		SensorType: replenish.SensorLevel, Measurement: m, Threshold: threshold,
		Policy: replenish.PolicyThreshold, Mode: mode, ProductID: product,
	}
}

func pct(mode string) replenish.EndpointSlot { return slot(measure.Percentage, 20, mode, "") }

func TestApply(t *testing.T) {
	auto := slot(measure.Percentage, 20, replenish.ModeAuto, "ink-black-xl")
	tests := []struct {
		name  string
		slot  replenish.EndpointSlot
		steps []step
		// What the final state must hold.
		wantLow int
		wantCap float64
	}{
		// THRESHOLD: 3 consecutive readings at or below the threshold.
		{"two low readings are not enough", pct(replenish.ModeNotify),
			one(rd(50), rd(15), rd(10)), 2, 100},
		{"readings equal to the threshold count", pct(replenish.ModeNotify),
			one(rd(50), rd(20), rd(20), rd(20, notify)), 3, 100},
		// 21 after 18 is a rise of 3 %, not a refill: only the threshold rule resets the count.
		{"one high reading resets the count", pct(replenish.ModeNotify),
			one(rd(18), rd(18), rd(21), rd(18), rd(18)), 2, 100},
		{"the count restarts after a high reading", pct(replenish.ModeNotify),
			one(rd(18), rd(18), rd(21), rd(18), rd(18), rd(18, notify)), 3, 100},

		// NOTIFY: once per low episode, a refill re-arms.
		{"notify once however many low readings follow", pct(replenish.ModeNotify),
			seq(one(rd(10), rd(10), rd(10, notify)), rep(4, 10), one(rd(5), rd(0))), 9, 100},
		{"a refill re-arms the notification", pct(replenish.ModeNotify),
			seq(one(rd(10), rd(10), rd(10, notify), rd(80)), one(rd(10), rd(10), rd(10, notify))), 3, 100},
		// 18 to 24 is a rise of 6 % of 100.
		{"a rise just over 5 percent is a refill", pct(replenish.ModeNotify),
			one(rd(18), rd(18), rd(18, notify), rd(24), rd(18), rd(18), rd(18, notify)), 3, 100},
		// 18 to 23 is a rise of exactly 5 %: above the threshold, but not a refill.
		{"a rise of 5 percent is not a refill and does not re-arm", pct(replenish.ModeNotify),
			one(rd(18), rd(18), rd(18, notify), rd(23), rd(18), rd(18), rd(18)), 3, 100},
		// 5 to 15 is a refill even though 15 is still low: a new episode
		// starts at the refill and needs its own 3 low readings.
		{"a refill still below the threshold starts a new count", pct(replenish.ModeNotify),
			one(rd(5), rd(5), rd(5, notify), rd(15), rd(15), rd(15, notify)), 3, 100},
		// 97 to 100 is a rise of only 3 %, but reaching 100 % is always a refill.
		{"any rise to 100 percent is a refill", slot(measure.Percentage, 98, replenish.ModeNotify, ""),
			one(rd(97), rd(97), rd(97, notify), rd(100), rd(97), rd(97), rd(97, notify)), 3, 100},

		// AUTO with a product: one order per episode, never two open.
		{"auto orders once per episode", auto,
			seq(one(rd(10), rd(10), rd(10, order)), rep(4, 10)), 7, 100},
		{"no second order while one is open, even after a refill", auto,
			seq(one(rd(10), rd(10), rd(10, order), rd(80)), rep(5, 10)), 5, 100},
		{"no second order in the same episode once the first is closed", auto,
			seq(one(rd(10), rd(10), rd(10, order), step{amount: 10, delivered: true}), rep(3, 10)), 7, 100},
		{"after a refill and a closed order a new episode orders", auto,
			one(rd(10), rd(10), rd(10, order), rd(80), step{amount: 10, delivered: true}, rd(10), rd(10, order)), 3, 100},

		// AUTO without a product cannot order: it notifies, once.
		{"auto without a product notifies once", pct(replenish.ModeAuto),
			seq(one(rd(10), rd(10), rd(10, notify)), rep(3, 10)), 6, 100},

		// OFF: tracked, nothing sent.
		{"off tracks but decides nothing", pct(replenish.ModeOff),
			seq(rep(5, 10), one(rd(80)), rep(4, 10)), 4, 100},

		// A reading not newer than the newest is history only.
		{"a duplicate reading is not counted", pct(replenish.ModeNotify),
			one(rd(10), rd(10), step{amount: 10, when: same}, rd(10, notify)), 3, 100},
		{"an older reading is not counted and moves nothing", pct(replenish.ModeNotify),
			one(rd(10), rd(10), step{amount: 90, when: earlier}, step{amount: 10, when: earlier}, rd(10, notify)), 3, 100},

		// Old data never triggers anything.
		{"stale low readings never notify", pct(replenish.ModeNotify),
			one(step{amount: 10, ago: 80 * time.Hour}, step{amount: 10, ago: 79 * time.Hour}, step{amount: 10, ago: 78 * time.Hour}), 3, 100},
		{"stale low readings never order", auto,
			one(step{amount: 10, ago: 80 * time.Hour}, step{amount: 10, ago: 79 * time.Hour}, step{amount: 10, ago: 78 * time.Hour}), 3, 100},
		// The stale readings still count: the low supply was seen, only acting on it waits for fresh data.
		{"a fresh reading after stale lows acts", auto,
			one(step{amount: 10, ago: 80 * time.Hour}, step{amount: 10, ago: 79 * time.Hour}, step{amount: 10, ago: 78 * time.Hour}, rd(10, order)), 4, 100},
		// Exactly StaleAfter old is not older than StaleAfter.
		{"a reading exactly 72 hours old still acts", pct(replenish.ModeNotify),
			one(step{amount: 10, ago: 74 * time.Hour}, step{amount: 10, ago: 73 * time.Hour}, step{amount: 10, ago: engine.StaleAfter, want: []engine.Kind{notify}}), 3, 100},

		// Count and Volume: capacity is the largest amount seen, a refill rises more than 5 % of it.
		// Capacity 40, so 5 % is 2: 2 to 4 is no refill, had capacity been the first reading (10) it would be.
		{"count capacity is the largest amount seen", slot(measure.Count, 2, replenish.ModeNotify, ""),
			one(rd(10), rd(40), rd(30), rd(2), rd(2), rd(2, notify), rd(4), rd(2), rd(2), rd(2)), 3, 40},
		{"count rise over 5 percent of capacity re-arms", slot(measure.Count, 2, replenish.ModeNotify, ""),
			one(rd(10), rd(40), rd(30), rd(2), rd(2), rd(2, notify), rd(5), rd(2), rd(2), rd(2, notify)), 3, 40},
		// Capacity 2000 mL, so 5 % is 100 mL.
		{"volume rise of 5 percent of capacity does not re-arm", slot(measure.Volume, 100, replenish.ModeNotify, ""),
			one(rd(2000), rd(100), rd(100), rd(100, notify), rd(200), rd(100), rd(100), rd(100)), 3, 2000},
		{"volume rise over 5 percent of capacity re-arms", slot(measure.Volume, 100, replenish.ModeNotify, ""),
			one(rd(2000), rd(100), rd(100), rd(100, notify), rd(201), rd(100), rd(100), rd(100, notify)), 3, 2000},
		// A slot first seen empty learns its capacity from the refill itself.
		{"count refill after empty first readings re-arms", slot(measure.Count, 2, replenish.ModeNotify, ""),
			one(rd(0), rd(0), rd(0, notify), rd(20), rd(2), rd(2), rd(2, notify)), 3, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.slot
			prev := now.Add(-time.Hour)
			latest := prev
			var newest time.Time
			var newestAmount float64
			orders := 0
			for i, st := range tc.steps {
				at := latest.Add(time.Minute)
				switch {
				case st.ago != 0:
					at = now.Add(-st.ago)
				case st.when == same:
					at = prev
				case st.when == earlier:
					at = prev.Add(-time.Minute)
				}
				prev = at
				if at.After(latest) {
					latest = at
				}
				if st.delivered {
					s.State.OpenOrderID = ""
				}
				before := s.State
				got, ds, moved := engine.Apply(s, engine.Reading{Amount: st.amount, SampleAt: at}, now)

				wantMoved := newest.IsZero() || at.After(newest)
				if moved != wantMoved {
					t.Fatalf("step %d (%v at %s): moved = %v, want %v", i, st.amount, at.Format(time.RFC3339), moved, wantMoved)
				}
				if !moved && got != before {
					t.Errorf("step %d: history-only reading changed the state from %+v to %+v", i, before, got)
				}
				if moved {
					newest, newestAmount = at, st.amount
				}
				var kinds []engine.Kind
				for _, d := range ds {
					kinds = append(kinds, d.Kind)
					checkReason(t, i, s, got, st.amount, at, d.Reason)
				}
				if !slices.Equal(kinds, st.want) {
					t.Errorf("step %d (%v): decisions = %v, want %v", i, st.amount, kinds, st.want)
				}
				s.State = got
				// The caller records the order it placed; the engine must then see it as open.
				if slices.Contains(kinds, order) {
					orders++
					s.State.OpenOrderID = fmt.Sprintf("order-%d", orders)
				}
			}
			if s.State.Amount != newestAmount || !s.State.LastSampleAt.Equal(newest) {
				t.Errorf("final amount %v at %s, want %v at %s", s.State.Amount, s.State.LastSampleAt, newestAmount, newest)
			}
			if s.State.LowCount != tc.wantLow {
				t.Errorf("final LowCount = %d, want %d", s.State.LowCount, tc.wantLow)
			}
			if s.State.Capacity != tc.wantCap {
				t.Errorf("final Capacity = %v, want %v", s.State.Capacity, tc.wantCap)
			}
		})
	}
}

// checkReason checks that a decision records the inputs that led to it.
func checkReason(t *testing.T, i int, s replenish.EndpointSlot, st replenish.SlotState, amount float64, at time.Time, r engine.Reason) {
	t.Helper()
	if r.Policy != s.Policy || r.Threshold != s.Threshold || r.Amount != amount || !r.SampleAt.Equal(at) {
		t.Errorf("step %d: reason %+v, want policy %s, threshold %v, amount %v at %s", i, r, s.Policy, s.Threshold, amount, at)
	}
	if r.LowCount != st.LowCount || r.LowCount < engine.LowReadings {
		t.Errorf("step %d: reason LowCount = %d, want the state's %d (at least %d)", i, r.LowCount, st.LowCount, engine.LowReadings)
	}
	if r.Capacity != st.Capacity {
		t.Errorf("step %d: reason Capacity = %v, want %v", i, r.Capacity, st.Capacity)
	}
}

func TestApplyReason(t *testing.T) {
	t1 := now.Add(-3 * time.Hour)
	t2 := now.Add(-2 * time.Hour)
	t3 := now.Add(-time.Hour)
	tests := []struct {
		name     string
		slot     replenish.EndpointSlot
		readings []engine.Reading
		want     engine.Decision
	}{
		{"notify on the third low reading", pct(replenish.ModeNotify),
			[]engine.Reading{{20, t1}, {15, t2}, {12, t3}},
			engine.Decision{Kind: notify, Reason: engine.Reason{Policy: replenish.PolicyThreshold, Trigger: replenish.PolicyThreshold,
				Threshold: 20, Amount: 12, Capacity: 100, LowCount: 3, SampleAt: t3}}},
		// Two stale lows then a fresh one: the count carries the stale ones.
		{"order after stale lows counts them all", slot(measure.Count, 3, replenish.ModeAuto, "pods-30"),
			[]engine.Reading{{30, now.Add(-100 * time.Hour)}, {3, now.Add(-90 * time.Hour)}, {2, now.Add(-80 * time.Hour)}, {1, t3}},
			engine.Decision{Kind: order, Reason: engine.Reason{Policy: replenish.PolicyThreshold, Trigger: replenish.PolicyThreshold,
				Threshold: 3, Amount: 1, Capacity: 30, LowCount: 3, SampleAt: t3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.slot
			var last []engine.Decision
			for _, r := range tc.readings {
				st, ds, moved := engine.Apply(s, r, now)
				if !moved {
					t.Fatalf("reading %+v did not move the state", r)
				}
				s.State, last = st, ds
			}
			if len(last) != 1 || last[0] != tc.want {
				t.Errorf("decisions = %+v, want [%+v]", last, tc.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name  string
		state replenish.SlotState
		want  string
	}{
		{"no reading yet", replenish.SlotState{}, replenish.StatusUnknown},
		{"no reading yet, even with a low count", replenish.SlotState{LowCount: 3}, replenish.StatusUnknown},
		{"fresh and full", replenish.SlotState{Amount: 90, LastSampleAt: now.Add(-time.Hour)}, replenish.StatusOK},
		{"two low readings are still OK", replenish.SlotState{Amount: 10, LastSampleAt: now.Add(-time.Hour), LowCount: 2}, replenish.StatusOK},
		{"three low readings", replenish.SlotState{Amount: 10, LastSampleAt: now.Add(-time.Hour), LowCount: 3}, replenish.StatusLow},
		{"71 hours silent still reports", replenish.SlotState{Amount: 90, LastSampleAt: now.Add(-71 * time.Hour)}, replenish.StatusOK},
		{"73 hours silent", replenish.SlotState{Amount: 90, LastSampleAt: now.Add(-73 * time.Hour)}, replenish.StatusNotReporting},
		// Old data says nothing about today's supply.
		{"silent and low shows not reporting", replenish.SlotState{Amount: 10, LastSampleAt: now.Add(-73 * time.Hour), LowCount: 5}, replenish.StatusNotReporting},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := pct(replenish.ModeNotify)
			s.State = tc.state
			if got := engine.Status(s, now, engine.StaleAfter); got != tc.want {
				t.Errorf("Status = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestStatusAfterApply checks Status on states Apply produced.
func TestStatusAfterApply(t *testing.T) {
	s := pct(replenish.ModeOff)
	if got := engine.Status(s, now, engine.StaleAfter); got != replenish.StatusUnknown {
		t.Fatalf("before any reading: Status = %s, want %s", got, replenish.StatusUnknown)
	}
	want := []string{replenish.StatusOK, replenish.StatusOK, replenish.StatusLow}
	for i, w := range want {
		s.State, _, _ = engine.Apply(s, engine.Reading{Amount: 10, SampleAt: now.Add(time.Duration(i-10) * time.Minute)}, now)
		if got := engine.Status(s, now, engine.StaleAfter); got != w {
			t.Errorf("after %d low readings: Status = %s, want %s", i+1, got, w)
		}
	}
	if got := engine.Status(s, now.Add(engine.StaleAfter), engine.StaleAfter); got != replenish.StatusNotReporting {
		t.Errorf("72 h later: Status = %s, want %s", got, replenish.StatusNotReporting)
	}
}

func TestTestOrder(t *testing.T) {
	tests := []struct {
		testAccount bool
		cert        string
		want        bool
	}{
		{true, replenish.CertCertified, true},
		{true, replenish.CertNone, true},
		{false, replenish.CertNone, true},
		{false, replenish.CertSubmitted, true},
		{false, replenish.CertRejected, true},
		{false, replenish.CertCertified, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("test=%v/%s", tc.testAccount, tc.cert), func(t *testing.T) {
			if got := engine.TestOrder(tc.testAccount, tc.cert); got != tc.want {
				t.Errorf("TestOrder(%v, %s) = %v, want %v", tc.testAccount, tc.cert, got, tc.want)
			}
		})
	}
}
