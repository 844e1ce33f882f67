// Package evaluation measures reorder policies on simulated households:
// every slot lives a year of use, its device reports levels with noise and
// gaps, and each policy orders for it on the same days of use and the same
// delivery times. THRESHOLD and FORECAST run through the engine, the same
// code as the server's; two policies that know the future bound what any
// policy could do.
package evaluation

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Scenario is what is simulated. Shares are fractions (0.01 is 1 %).
type Scenario struct {
	Seed  uint64
	Slots int
	Days  int
	// MinLife and MaxLife bound how many days a full device lasts; each
	// slot draws its life log-uniformly between them.
	MinLife, MaxLife float64
	// DailyCV is the coefficient of variation of a day's use.
	DailyCV float64
	// Noise is the standard deviation of a level reading, as a share of
	// capacity; Missed is the share of days without a reading.
	Noise, Missed float64
	// MinLead and MaxLead bound the marketplaces' mean lead times (days,
	// one marketplace per whole day between them); LeadSpread is each
	// order's lead time's standard deviation as a share of the mean.
	MinLead, MaxLead, LeadSpread float64
	// Window is the cancellation window every order waits out first.
	Window time.Duration
	// MinPack and MaxPack bound how many device-fulls a pack holds.
	MinPack, MaxPack int
	// ServiceLevel is FORECAST's and the lead-time bound's, in per cent.
	ServiceLevel float64
	// Backstop is FORECAST's low threshold, in per cent of capacity.
	Backstop float64
	// Thresholds are the THRESHOLD policy's, in per cent of capacity.
	Thresholds []float64
}

// Default is the scenario of docs/forecast.md.
func Default() Scenario {
	return Scenario{Seed: 1, Slots: 10000, Days: 365, MinLife: 10, MaxLife: 120, DailyCV: 0.3,
		Noise: 0.01, Missed: 0.10, MinLead: 2, MaxLead: 7, LeadSpread: 0.25, Window: 24 * time.Hour,
		MinPack: 1, MaxPack: 3, ServiceLevel: 95, Backstop: 10, Thresholds: []float64{10, 20, 30}}
}

// Check reports the first setting out of range, naming its flag.
func (sc Scenario) Check() error {
	switch {
	case sc.Slots < 1:
		return fmt.Errorf("--slots must be at least 1")
	case sc.Days < 1:
		return fmt.Errorf("--days must be at least 1")
	case sc.MinLife <= 0 || sc.MaxLife < sc.MinLife:
		return fmt.Errorf("--min-life and --max-life: need 0 < min ≤ max")
	case sc.DailyCV < 0:
		return fmt.Errorf("--daily-cv must not be negative")
	case sc.Noise < 0 || sc.Noise > 0.5:
		return fmt.Errorf("--sensor-noise must be between 0 and 0.5")
	case sc.Missed < 0 || sc.Missed >= 1:
		return fmt.Errorf("--missed must be at least 0 and below 1")
	case sc.MinLead <= 0 || sc.MaxLead < sc.MinLead:
		return fmt.Errorf("--min-lead and --max-lead: need 0 < min ≤ max")
	case sc.LeadSpread < 0 || sc.LeadSpread > 1:
		return fmt.Errorf("--lead-spread must be between 0 and 1")
	case sc.Window < 0:
		return fmt.Errorf("--window must not be negative")
	case sc.MinPack < 1 || sc.MaxPack < sc.MinPack:
		return fmt.Errorf("--min-pack and --max-pack: need 1 ≤ min ≤ max")
	case sc.ServiceLevel < 50 || sc.ServiceLevel > 99.9:
		return fmt.Errorf("--service-level must be between 50 and 99.9")
	case sc.Backstop < 0 || sc.Backstop >= 100:
		return fmt.Errorf("--backstop must be at least 0 and below 100")
	}
	for _, t := range sc.Thresholds {
		if t <= 0 || t >= 100 {
			return fmt.Errorf("--thresholds: %g is not between 0 and 100", t)
		}
	}
	return nil
}

// Pattern is a way a household uses a supply.
type Pattern int

// The patterns, in equal shares.
const (
	Steady Pattern = iota // every day alike, with DailyCV
	Weekly                // weekends twice as heavy as weekdays
	Bursty                // no use on most days, a lot on some
	Idle                  // steady, with one to three holidays of one to three weeks
	Step                  // steady, then from some day on a third to three times as much
	patterns
)

func (p Pattern) String() string {
	return [...]string{"steady", "weekly", "bursty", "idle weeks", "step change"}[p]
}

// household is one slot's fate, drawn once and met by every policy: its
// use, its readings' noise and gaps, and its orders' lead times.
type household struct {
	pattern  Pattern
	life     float64   // days a full device lasts at the mean rate
	use      []float64 // per day, in per cent of a device
	noise    []float64 // per day, added to the reading
	missed   []bool
	leadMean float64
	leads    []float64 // the lead time of the slot's first, second, ... order
	pack     int       // device-fulls per pack
}

// burstChance is how often a bursty household uses anything.
const burstChance = 0.2

// draw draws slot i's household from the scenario's seed alone, so that a
// slot is the same whatever else runs.
func (sc Scenario) draw(i int) household {
	r := rand.New(rand.NewPCG(sc.Seed, uint64(i)))
	h := household{pattern: Pattern(i % int(patterns))}
	h.life = math.Exp(math.Log(sc.MinLife) + r.Float64()*(math.Log(sc.MaxLife)-math.Log(sc.MinLife)))
	mean := 100 / h.life
	// A lognormal day with mean 1 and the scenario's CV.
	s2 := math.Log1p(sc.DailyCV * sc.DailyCV)
	day := func(cv float64) float64 {
		if cv == sc.DailyCV {
			return math.Exp(r.NormFloat64()*math.Sqrt(s2) - s2/2)
		}
		v := math.Log1p(cv * cv)
		return math.Exp(r.NormFloat64()*math.Sqrt(v) - v/2)
	}
	h.use = make([]float64, sc.Days)
	phase := r.IntN(7)
	stepDay, factor := r.IntN(sc.Days), math.Exp((r.Float64()*2-1)*math.Log(3))
	holiday := make([]bool, sc.Days)
	if h.pattern == Idle {
		for range 1 + r.IntN(3) {
			start, n := r.IntN(sc.Days), 7*(1+r.IntN(3))
			for d := start; d < min(start+n, sc.Days); d++ {
				holiday[d] = true
			}
		}
	}
	for d := range h.use {
		switch h.pattern {
		case Steady, Idle:
			if !holiday[d] {
				h.use[d] = mean * day(sc.DailyCV)
			}
		case Weekly:
			w := 7.0 / 9 // five weekdays of 1 and two weekend days of 2: 9 in a week of 7
			if (d+phase)%7 >= 5 {
				w *= 2
			}
			h.use[d] = mean * w * day(sc.DailyCV)
		case Bursty:
			if r.Float64() < burstChance {
				h.use[d] = mean / burstChance * day(0.5)
			}
		case Step:
			f := 1.0
			if d >= stepDay {
				f = factor
			}
			h.use[d] = mean * f * day(sc.DailyCV)
		}
	}
	h.noise = make([]float64, sc.Days)
	h.missed = make([]bool, sc.Days)
	for d := range h.noise {
		h.noise[d] = r.NormFloat64() * sc.Noise * 100
		h.missed[d] = r.Float64() < sc.Missed
	}
	h.leadMean = sc.MinLead + float64(r.IntN(int(sc.MaxLead-sc.MinLead)+1))
	h.pack = sc.MinPack + r.IntN(sc.MaxPack-sc.MinPack+1)
	// More orders than a slot can place in the scenario's days: one a day.
	h.leads = make([]float64, sc.Days+1)
	for k := range h.leads {
		l := -1.0
		for l < 0.25 {
			l = h.leadMean * (1 + sc.LeadSpread*r.NormFloat64())
		}
		h.leads[k] = l
	}
	return h
}
