package engine_test

import (
	"slices"
	"testing"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
)

// usageStep is one event sent to a USAGE or LEVEL_USAGE slot: usage used
// at minute min after the start, or, when replace is set, a new part with
// that level left.
type usageStep struct {
	min     int
	used    float64
	replace *float64
	want    []engine.Kind
	amount  float64 // the slot's amount after the step
	moved   bool
}

func level(v float64) *float64 { return &v }

func pods(mode string) replenish.EndpointSlot {
	s := slot(measure.Count, 5, mode, "pods-30")
	s.SensorType = replenish.SensorUsage
	return s
}

func filter(mode string) replenish.EndpointSlot {
	s := slot(measure.Percentage, 10, mode, "filter-1")
	s.SensorType = replenish.SensorLevelUsage
	return s
}

func TestConsumeAndReplace(t *testing.T) {
	start := now.Add(-24 * time.Hour)
	withHousehold := func(s replenish.EndpointSlot, n float64) replenish.EndpointSlot {
		s.State = engine.SetHousehold(s, n)
		return s
	}
	tests := []struct {
		name  string
		slot  replenish.EndpointSlot
		steps []usageStep
	}{
		{"usage lowers the household inventory", withHousehold(pods(replenish.ModeNotify), 10), []usageStep{
			{min: 1, used: 2, amount: 8, moved: true},
			{min: 2, used: 1, amount: 7, moved: true},
		}},
		{"usage never goes below zero", withHousehold(pods(replenish.ModeOff), 2), []usageStep{
			{min: 1, used: 5, amount: 0, moved: true},
		}},
		{"usage is a delta: an older report still counts", withHousehold(pods(replenish.ModeOff), 10), []usageStep{
			{min: 5, used: 1, amount: 9, moved: true},
			{min: 3, used: 1, amount: 8, moved: true},
		}},
		{"three low usage reports notify once", withHousehold(pods(replenish.ModeNotify), 8), []usageStep{
			{min: 1, used: 3, amount: 5, moved: true},
			{min: 2, used: 1, amount: 4, moved: true},
			{min: 3, used: 1, amount: 3, moved: true, want: []engine.Kind{notify}},
			{min: 4, used: 1, amount: 2, moved: true},
		}},
		{"three low usage reports order in AUTO", withHousehold(pods(replenish.ModeAuto), 6), []usageStep{
			{min: 1, used: 1, amount: 5, moved: true},
			{min: 2, used: 1, amount: 4, moved: true},
			{min: 3, used: 1, amount: 3, moved: true, want: []engine.Kind{order}},
			{min: 4, used: 1, amount: 2, moved: true},
		}},
		{"a part never reported starts new at 100 %", filter(replenish.ModeNotify), []usageStep{
			{min: 1, used: 30, amount: 70, moved: true},
			{min: 2, used: 25, amount: 45, moved: true},
		}},
		{"remaining is 100 % minus the usage since the replacement", filter(replenish.ModeNotify), []usageStep{
			{min: 1, used: 60, amount: 40, moved: true},
			{min: 2, replace: level(100), amount: 100, moved: true},
			{min: 3, used: 5, amount: 95, moved: true},
		}},
		{"usage sampled before the replacement belongs to the old part", filter(replenish.ModeNotify), []usageStep{
			{min: 1, used: 60, amount: 40, moved: true},
			{min: 5, replace: level(100), amount: 100, moved: true},
			{min: 4, used: 20, amount: 100, moved: false},
		}},
		{"a replacement not newer than the last is history", filter(replenish.ModeNotify), []usageStep{
			{min: 5, replace: level(100), amount: 100, moved: true},
			{min: 6, used: 10, amount: 90, moved: true},
			{min: 4, replace: level(80), amount: 90, moved: false},
		}},
		{"a replaced part with a level below 100", filter(replenish.ModeNotify), []usageStep{
			{min: 1, replace: level(50), amount: 50, moved: true},
			{min: 2, used: 10, amount: 40, moved: true},
		}},
		{"a worn part notifies, the replacement re-arms", filter(replenish.ModeNotify), []usageStep{
			{min: 1, used: 90, amount: 10, moved: true},
			{min: 2, used: 1, amount: 9, moved: true},
			{min: 3, used: 1, amount: 8, moved: true, want: []engine.Kind{notify}},
			{min: 4, used: 1, amount: 7, moved: true},
			{min: 5, replace: level(100), amount: 100, moved: true},
			{min: 6, used: 92, amount: 8, moved: true},
			{min: 7, used: 1, amount: 7, moved: true},
			{min: 8, used: 1, amount: 6, moved: true, want: []engine.Kind{notify}},
		}},
		{"OFF tracks and decides nothing", filter(replenish.ModeOff), []usageStep{
			{min: 1, used: 95, amount: 5, moved: true},
			{min: 2, used: 1, amount: 4, moved: true},
			{min: 3, used: 1, amount: 3, moved: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.slot
			for i, st := range tc.steps {
				at := start.Add(time.Duration(st.min) * time.Minute)
				var (
					next  replenish.SlotState
					got   []engine.Decision
					moved bool
				)
				if st.replace != nil {
					next, got, moved = engine.Replace(s, *st.replace, at, now)
				} else {
					next, got, moved = engine.Consume(s, st.used, at, now)
				}
				kinds := []engine.Kind{}
				for _, d := range got {
					kinds = append(kinds, d.Kind)
				}
				if !slices.Equal(kinds, append([]engine.Kind{}, st.want...)) || next.Amount != st.amount || moved != st.moved {
					t.Fatalf("step %d: decisions %v amount %v moved %v, want %v %v %v", i, kinds, next.Amount, moved, st.want, st.amount, st.moved)
				}
				s.State = next
				if st.replace != nil && moved && !next.ReplacedAt.Equal(at) {
					t.Fatalf("step %d: replaced at %v, want %v", i, next.ReplacedAt, at)
				}
			}
		})
	}
}

func TestConsumeStaleNeverDecides(t *testing.T) {
	s := pods(replenish.ModeAuto)
	old := now.Add(-engine.StaleAfter - time.Hour)
	for i := range 5 {
		st, got, _ := engine.Consume(s, 0, old.Add(time.Duration(i)*time.Minute), now)
		if len(got) != 0 {
			t.Fatalf("report %d of usage sampled 3 days ago decided %v", i, got)
		}
		s.State = st
	}
}

func TestSetHousehold(t *testing.T) {
	s := pods(replenish.ModeNotify)
	s.State = replenish.SlotState{Amount: 2, LowCount: 4, Notified: true, Ordered: true, Capacity: 30}
	down := engine.SetHousehold(s, 1)
	if down.Amount != 1 || !down.Notified || down.LowCount != 4 {
		t.Errorf("a lower count: %+v, want amount 1 and the low episode kept", down)
	}
	up := engine.SetHousehold(s, 40)
	if up.Amount != 40 || up.Notified || up.Ordered || up.LowCount != 0 || up.Capacity != 40 {
		t.Errorf("a higher count: %+v, want amount 40, re-armed, capacity 40", up)
	}
}
