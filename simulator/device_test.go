package simulator

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/measure"
)

func kind(t *testing.T, name string) *Kind {
	t.Helper()
	k, ok := KindNamed(name)
	if !ok {
		t.Fatalf("no kind %q", name)
	}
	for i := range k.Slots {
		k.Slots[i].ReplenishmentID = "rp-" + k.Name + "-" + k.Slots[i].SlotID
	}
	return &k
}

func newTestDevice(t *testing.T, name string, seed uint64) *Device {
	t.Helper()
	return NewDevice(kind(t, name), name+"-1", "Test "+name, rand.New(rand.NewPCG(seed, 1)))
}

// TestKinds: every kind's slots are what the console and the gateway
// accept: a known category, the interface of its sensor type, a unit only
// for volumes, and a threshold below a full part.
func TestKinds(t *testing.T) {
	for _, k := range Kinds {
		for _, s := range k.Slots {
			name := k.Name + " " + s.SlotID
			if s.Interface() == "" {
				t.Errorf("%s: sensor type %q has no interface", name, s.Sensor)
			}
			if (s.Measure == measure.Volume) != (s.Unit != "") {
				t.Errorf("%s: measure %s with unit %q", name, s.Measure, s.Unit)
			}
			for _, u := range s.OtherUnits {
				if kind, ok := measure.UnitKind(u); !ok || kind != s.Measure {
					t.Errorf("%s: other unit %s is not a %s unit", name, u, s.Measure)
				}
			}
			if s.Sensor == replenish.SensorLevelUsage && s.Measure != measure.Percentage {
				t.Errorf("%s: a level-usage sensor measures in percent", name)
			}
			if s.Sensor != replenish.SensorUsage && (s.Threshold >= s.Full || s.StartMax > s.Full || s.StartMin > s.StartMax) {
				t.Errorf("%s: threshold %g, start %g..%g, full %g", name, s.Threshold, s.StartMin, s.StartMax, s.Full)
			}
		}
	}
	if _, ok := KindNamed("toaster"); ok {
		t.Error("KindNamed found a toaster")
	}
}

// TestStepUse: a day of use lowers each level by the slot's daily rate
// within its day-to-day spread, never below zero, and an idle day uses
// nothing; usage sensors count what was used.
func TestStepUse(t *testing.T) {
	for _, name := range []string{"printer", "washer", "coffee", "vacuum"} {
		d := newTestDevice(t, name, 7)
		for day := range 200 {
			before := append([]float64(nil), d.Levels...)
			usedBefore := append([]float64(nil), d.used...)
			refilled := make([]bool, len(before))
			for i, s := range d.Kind.Slots {
				refilled[i] = s.Sensor != replenish.SensorUsage && d.lowFor[i]+1 >= d.patience[i] && before[i] <= s.Threshold
			}
			d.step(1)
			for i, s := range d.Kind.Slots {
				if refilled[i] {
					continue
				}
				use := before[i] - d.Levels[i]
				if s.Sensor == replenish.SensorUsage {
					use = d.used[i] - usedBefore[i]
				}
				if d.Levels[i] < 0 || use < 0 || use > d.Drain[i]*1.5+1e-9 {
					t.Fatalf("%s day %d slot %s: level %g → %g, used %g at a rate of %g a day",
						name, day, s.SlotID, before[i], d.Levels[i], use, d.Drain[i])
				}
				if use > 0 && use < d.Drain[i]*0.5-1e-9 && d.Levels[i] > 0 {
					t.Fatalf("%s day %d slot %s: used %g, less than half the rate %g on a day of use", name, day, s.SlotID, use, d.Drain[i])
				}
			}
		}
	}
}

// TestRefill: a level that stays at or below the threshold is refilled
// after the customer's patience — never before three low days, so that
// three low readings reach Replenish — and a replaced part is reported
// once, as InventoryReplaced before the new part's use.
func TestRefill(t *testing.T) {
	for _, name := range []string{"printer", "washer", "vacuum"} {
		d := newTestDevice(t, name, 11)
		s := d.Kind.Slots[0]
		d.Levels[0] = s.Threshold
		idleAlways(d)
		low := 0
		for d.Levels[0] <= s.Threshold {
			low++
			d.step(1)
			if low > 10 {
				t.Fatalf("%s: still low after %d days", name, low)
			}
		}
		if low < 3 || d.Levels[0] != s.Full {
			t.Fatalf("%s: refilled to %g after %d low days, want %g after at least 3", name, d.Levels[0], low, s.Full)
		}
		msgs := d.messages("token", time.Now(), replenish.NewUUID)
		var names []string
		for _, m := range msgs {
			names = append(names, m.name)
		}
		got := strings.Join(names, " ")
		switch s.Sensor {
		case replenish.SensorLevelUsage:
			if !strings.HasPrefix(got, "InventoryReplaced InventoryConsumed") {
				t.Errorf("%s: messages after a replacement: %s, want InventoryReplaced then InventoryConsumed", name, got)
			}
			if again := d.messages("token", time.Now(), replenish.NewUUID); strings.Contains(again[0].name, "Replaced") {
				t.Errorf("%s: the replacement was reported twice", name)
			}
		default:
			if strings.Contains(got, "Replaced") {
				t.Errorf("%s: a level sensor reported a replacement: %s", name, got)
			}
		}
	}
}

// idleAlways makes every day of d idle, so a test sees refills alone.
func idleAlways(d *Device) {
	k := *d.Kind
	k.Slots = append([]Slot(nil), k.Slots...)
	for i := range k.Slots {
		k.Slots[i].IdleChance = 1
	}
	d.Kind = &k
}

// TestMessagesParse: every message a device of every kind sends is one
// the gateway's parser accepts, in the shapes of wire.md section 4.
func TestMessagesParse(t *testing.T) {
	now := time.Now()
	for _, name := range []string{"printer", "washer", "coffee", "vacuum"} {
		d := newTestDevice(t, name, 3)
		for day := range 40 {
			d.step(1)
			for _, m := range d.messages("tok", now, replenish.NewUUID) {
				r, err := gateway.Parse(m.body, now)
				if err != nil {
					t.Fatalf("%s day %d: %s refused: %v\n%s", name, day, m.name, err, m.body)
				}
				if r.Header.Name != m.name || r.Token != "tok" || r.EndpointID != d.EndpointID {
					t.Fatalf("%s: parsed %+v from a %s", name, r.Header, m.name)
				}
			}
		}
	}
}

// TestVolumeUnits: a washer reports its tanks in millilitres and now and
// then in another volume unit, always the same amount.
func TestVolumeUnits(t *testing.T) {
	d := newTestDevice(t, "washer", 5)
	units := map[string]bool{}
	for range 200 {
		d.step(1)
		m, _ := d.levelReport("tok", replenish.NewUUID(), time.Now())
		var body struct {
			Event struct {
				Payload struct {
					Change struct{ Properties []gateway.Property }
				}
			}
		}
		if err := json.Unmarshal(m.body, &body); err != nil {
			t.Fatal(err)
		}
		for i, p := range body.Event.Payload.Change.Properties {
			v, err := measure.ParseValue(p.Value, p.Unit, measure.Volume)
			if err != nil {
				t.Fatalf("%s: %v", p.Value, err)
			}
			ml, _ := v.Base()
			// Values carry four decimals of their unit: a litre's
			// ten-thousandth is 0.1 ml.
			if math.Abs(ml-d.Levels[i]) > 0.051 {
				t.Fatalf("%s reports %s, %g ml; the tank holds %g ml", p.Instance, p.Value, ml, d.Levels[i])
			}
			units[string(v.Unit)] = true
		}
	}
	if !units["MILLILITER"] || len(units) < 3 {
		t.Errorf("units reported: %v, want millilitres and other units", units)
	}
}

// TestUsageCarriesFractions: usage sensors report whole pods and whole
// percent, keeping the fraction for the next report, so the reports add
// up to what was used.
func TestUsageCarriesFractions(t *testing.T) {
	d := newTestDevice(t, "coffee", 9)
	var used, reported float64
	for range 60 {
		before := d.used[0]
		d.step(1)
		used += d.used[0] - before
		for _, m := range d.messages("tok", time.Now(), replenish.NewUUID) {
			var body struct {
				Event struct {
					Header  gateway.Header
					Payload struct{ Usage struct{ Value float64 } }
				}
			}
			json.Unmarshal(m.body, &body)
			if body.Event.Header.Instance == "PodCounter" {
				if body.Event.Payload.Usage.Value != math.Trunc(body.Event.Payload.Usage.Value) {
					t.Fatalf("usage %g is not whole pods", body.Event.Payload.Usage.Value)
				}
				reported += body.Event.Payload.Usage.Value
			}
		}
	}
	if used-reported < 0 || used-reported >= 1 {
		t.Errorf("used %g pods, reported %g", used, reported)
	}
}

// TestHouseholds: the plan has the devices asked for, 1 to maxPer per
// customer, and a seed gives every device the same life whatever the
// order customers link in.
func TestHouseholds(t *testing.T) {
	var kinds []*Kind
	for _, n := range []string{"printer", "washer", "coffee", "vacuum"} {
		kinds = append(kinds, kind(t, n))
	}
	hs := Households(1000, 4, kinds, rand.New(rand.NewPCG(1, 2)))
	total, seen := 0, map[string]bool{}
	for _, h := range hs {
		if len(h) < 1 || len(h) > 4 {
			t.Fatalf("a household of %d devices", len(h))
		}
		for _, k := range h {
			seen[k.Name] = true
		}
		total += len(h)
	}
	if total != 1000 || len(seen) != 4 {
		t.Errorf("%d devices of kinds %v, want 1000 of all four", total, seen)
	}
	a, b := FleetDevices(hs, 42), FleetDevices(hs, 42)
	last := len(hs) - 1
	da, db := a(last), b(last)
	for i := range da {
		if da[i].Kind != db[i].Kind || !slices.Equal(da[i].Levels, db[i].Levels) || !slices.Equal(da[i].Drain, db[i].Drain) {
			t.Errorf("device %d of the last household differs between two fleets of one seed", i)
		}
	}
	if extra := a(len(hs)); extra != nil {
		t.Errorf("a customer beyond the plan got %d devices", len(extra))
	}
}

// TestStats: percentiles come from the recorded round trips; accepted
// repeats are not counted as stored events.
func TestStats(t *testing.T) {
	st := NewStats()
	for i := 100; i >= 1; i-- {
		st.delivered(message{name: "ChangeReport"}, false, 202, "", time.Duration(i)*time.Millisecond)
	}
	s := st.Summary()
	if s.P50 != 50*time.Millisecond || s.P90 != 90*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("percentiles of 1..100 ms: %s %s %s %s, want 50, 90, 99 and 100 ms", s.P50, s.P90, s.P99, s.Max)
	}
	st.delivered(message{name: "ChangeReport"}, true, 202, "", time.Millisecond)
	st.delivered(message{name: "ChangeReport", bad: true}, false, 400, "INVALID_REQUEST_EXCEPTION", time.Millisecond)
	s = st.Summary()
	if s.Sent != 102 || s.Accepted != 101 || s.Stored != 100 || s.Repeats != 1 {
		t.Errorf("sent %d accepted %d stored %d repeats %d", s.Sent, s.Accepted, s.Stored, s.Repeats)
	}
	if s.RejectedTotal() != 1 || s.Rejected["INVALID_REQUEST_EXCEPTION"] != 1 || s.Injected != 1 || s.InjectedRejected != 1 {
		t.Errorf("rejected %v, injected %d, of them rejected %d", s.Rejected, s.Injected, s.InjectedRejected)
	}
}
