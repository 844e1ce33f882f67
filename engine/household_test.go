package engine_test

import (
	"testing"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
)

// lowFor applies three low readings to s, one minute apart, and returns
// the slot and every decision made.
func lowFor(s replenish.EndpointSlot, amount float64) (replenish.EndpointSlot, []engine.Decision) {
	var all []engine.Decision
	for i := range 3 {
		at := now.Add(time.Duration(i+1) * time.Minute)
		st, ds, _ := engine.Apply(s, engine.Reading{Amount: amount, SampleAt: at}, now.Add(5*time.Minute))
		s.State = st
		all = append(all, ds...)
	}
	return s, all
}

func kinds(ds []engine.Decision) []engine.Kind {
	var out []engine.Kind
	for _, d := range ds {
		out = append(out, d.Kind)
	}
	return out
}

func autoInk() replenish.EndpointSlot {
	return replenish.EndpointSlot{SensorType: replenish.SensorLevel, Measurement: replenish.Measurement{Type: measure.Percentage},
		Threshold: 10, Policy: replenish.PolicyThreshold, Mode: replenish.ModeAuto, ProductID: "INK"}
}

func TestAutoHeldBack(t *testing.T) {
	for _, c := range []struct {
		name  string
		state replenish.SlotState
		want  engine.Kind
		held  string
		spare float64
	}{
		{"nothing holds it", replenish.SlotState{}, engine.PlaceOrder, "", 0},
		{"a spare at home", replenish.SlotState{Household: 1}, engine.NotifyLow, "", 1},
		{"half a litre at home", replenish.SlotState{Household: 0.5}, engine.NotifyLow, "", 0.5},
		{"inside the cooldown", replenish.SlotState{CancelStreak: 1, CooldownUntil: now.Add(time.Hour)}, engine.NotifyLow, engine.HeldCooldown, 0},
		{"after the cooldown", replenish.SlotState{CancelStreak: 1, CooldownUntil: now}, engine.PlaceOrder, "", 0},
		{"two cancellations, cooldown over", replenish.SlotState{CancelStreak: 2, CooldownUntil: now}, engine.NotifyLow, engine.HeldCancels, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := autoInk()
			s.State = c.state
			_, ds := lowFor(s, 5)
			if len(ds) != 1 || ds[0].Kind != c.want || ds[0].Reason.Held != c.held || ds[0].Reason.Spare != c.spare {
				t.Fatalf("decisions %+v, want one %s held %q with spare %v", ds, c.want, c.held, c.spare)
			}
		})
	}
	// A USAGE slot's amount is its household inventory: never a spare.
	s := autoInk()
	s.SensorType, s.Measurement.Type = replenish.SensorUsage, measure.Count
	s.State = replenish.SlotState{Amount: 9, Capacity: 30}
	for i := range 3 {
		st, ds, _ := engine.Consume(s, 1, now.Add(time.Duration(i+1)*time.Minute), now.Add(time.Hour))
		s.State = st
		if i == 2 && (len(ds) != 1 || ds[0].Kind != engine.PlaceOrder) {
			t.Fatalf("USAGE slot at %v: %+v, want an order", st.Amount, ds)
		}
	}
}

func TestRefillUsesSpare(t *testing.T) {
	for _, c := range []struct {
		name      string
		mt        measure.Type
		household float64
		from, to  float64
		took      float64
	}{
		{"a cartridge", measure.Percentage, 2, 5, 100, 1},
		{"the last cartridge", measure.Percentage, 1, 5, 100, 1},
		{"no cartridge at home", measure.Percentage, 0, 5, 100, 0},
		{"a top-up from a bottle", measure.Volume, 1000, 100, 900, 800},
		{"more than is at home", measure.Volume, 300, 100, 900, 300},
		{"a small rise is no refill", measure.Volume, 300, 100, 120, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := autoInk()
			s.Measurement = replenish.Measurement{Type: c.mt}
			if c.mt == measure.Volume {
				s.State.Capacity = 1000
			}
			s.State.Household = c.household
			st, _, _ := engine.Apply(s, engine.Reading{Amount: c.from, SampleAt: now}, now)
			s.State = st
			at := now.Add(time.Minute)
			st, ds, _ := engine.Apply(s, engine.Reading{Amount: c.to, SampleAt: at}, now)
			took := 0.0
			for _, d := range ds {
				if d.Kind == engine.UsedSpare {
					took += d.Amount
				}
			}
			if took != c.took || st.Household != c.household-c.took {
				t.Fatalf("took %v, household %v; want %v, %v", took, st.Household, c.took, c.household-c.took)
			}
			if refill := c.took > 0 || c.household == 0 && c.to == 100; refill && !st.ReplacedAt.Equal(at) {
				t.Fatalf("a refill did not record the installed date: %v", st.ReplacedAt)
			}
		})
	}
	// A new part of a LEVEL_USAGE slot takes one from home.
	s := autoInk()
	s.SensorType = replenish.SensorLevelUsage
	s.State.Household = 3
	st, ds, _ := engine.Replace(s, 100, now, now)
	if st.Household != 2 || len(ds) != 1 || ds[0].Kind != engine.UsedSpare {
		t.Fatalf("replace: household %v, decisions %+v", st.Household, ds)
	}
}

func TestCancelledAndDelivered(t *testing.T) {
	s := autoInk()
	s.State = replenish.SlotState{OpenOrderID: "o1", Ordered: true, Notified: true, LowCount: 3}
	st := engine.Cancelled(s, true, now, 120*time.Hour)
	if st.OpenOrderID != "" || st.Ordered || st.CancelStreak != 1 || !st.CooldownUntil.Equal(now.Add(120*time.Hour)) {
		t.Fatalf("after the customer's cancellation: %+v", st)
	}
	s.State = st
	s.State.OpenOrderID = "o2"
	st = engine.Cancelled(s, false, now.Add(time.Hour), 120*time.Hour)
	if st.CancelStreak != 1 || !st.CooldownUntil.Equal(now.Add(120*time.Hour)) {
		t.Fatalf("the operator's cancellation counted as the customer's: %+v", st)
	}
	s.State = st
	s.State.CancelStreak = 2
	if st = engine.Delivered(s); st.CancelStreak != 0 {
		t.Fatalf("a delivery did not end the run of cancellations: %+v", st)
	}
	// A refill to full ends it too; a partial one does not.
	s.State = replenish.SlotState{Amount: 5, LastSampleAt: now, Capacity: 100, CancelStreak: 2}
	if st, _, _ := engine.Apply(s, engine.Reading{Amount: 60, SampleAt: now.Add(time.Minute)}, now); st.CancelStreak != 2 {
		t.Fatalf("a refill to 60 %% ended the run: %+v", st)
	}
	if st, _, _ := engine.Apply(s, engine.Reading{Amount: 100, SampleAt: now.Add(time.Minute)}, now); st.CancelStreak != 0 {
		t.Fatalf("a refill to full did not end the run: %+v", st)
	}
}

func TestPriceRose(t *testing.T) {
	for _, c := range []struct {
		chosen, current string
		want            bool
	}{
		{"19.99", "19.99", false},
		{"19.99", "21.98", false}, // 9.96 %
		{"19.99", "21.989", false},
		{"19.99", "21.990", true}, // just over 10 %
		{"20", "22", false},       // exactly 10 %
		{"20", "22.01", true},
		{"20", "15", false},
		{"", "99", false},   // chosen before prices were kept
		{"abc", "1", false}, // never from a bad price
	} {
		if got := engine.PriceRose(c.chosen, c.current); got != c.want {
			t.Errorf("PriceRose(%s, %s) = %v, want %v", c.chosen, c.current, got, c.want)
		}
	}
}

func TestPackAmount(t *testing.T) {
	slot := func(t measure.Type, u measure.Unit) replenish.EndpointSlot {
		return replenish.EndpointSlot{Measurement: replenish.Measurement{Type: t, Unit: u}}
	}
	for _, c := range []struct {
		name     string
		s        replenish.EndpointSlot
		qty      float64
		unit     string
		n        int
		want     float64
		countsOK bool
	}{
		{"one cartridge", slot(measure.Percentage, ""), 1, "Count", 1, 1, true},
		{"a two-pack of filters, twice", slot(measure.Percentage, ""), 2, "Count", 2, 4, true},
		{"a bottle for a percentage slot is one part", slot(measure.Percentage, ""), 500, "MILLILITER", 1, 1, true},
		{"20 pods", slot(measure.Count, ""), 20, "Count", 1, 20, true},
		{"300 US fluid ounces", slot(measure.Volume, "LITER"), 300, "US_FLUID_OUNCE", 1, 300 * 29.5735295625, true},
		{"2 kg of coffee", slot(measure.Weight, "GRAM"), 2, "KILOGRAM", 1, 2000, true},
		{"units for a volume slot", slot(measure.Volume, "LITER"), 2, "Count", 1, 0, false},
		{"grams for a volume slot", slot(measure.Volume, "LITER"), 2, "GRAM", 1, 0, false},
	} {
		got, ok := engine.PackAmount(c.s, c.qty, c.unit, c.n)
		if ok != c.countsOK || (ok && (got < c.want-1e-6 || got > c.want+1e-6)) {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.countsOK)
		}
	}
}

func TestAddHousehold(t *testing.T) {
	s := autoInk()
	s.State.Household = 2
	st, added := engine.AddHousehold(s, -5)
	if st.Household != 0 || added != -2 {
		t.Fatalf("removing 5 of 2: %v, added %v", st.Household, added)
	}
	s.SensorType = replenish.SensorUsage
	s.State = replenish.SlotState{Amount: 3, Capacity: 30, LowCount: 3, Notified: true}
	st, _ = engine.AddHousehold(s, 20)
	if st.Amount != 23 || st.LowCount != 0 || st.Notified {
		t.Fatalf("a USAGE slot's rise is a refill: %+v", st)
	}
}
