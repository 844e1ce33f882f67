package evaluation

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
)

// Policy names a way of deciding when to order.
type Policy struct {
	Name string
	// Kind is THRESHOLD or FORECAST (through the engine), or one of the
	// two that know the future.
	Kind      string
	Threshold float64
}

// The policies that know the future.
const (
	// KindBound knows the future use but only the distribution of lead
	// times: it orders so that a delivery lands at run-out with the
	// service level's chance.
	KindBound = "BOUND"
	// KindOracle knows the use and every lead time: each delivery lands
	// exactly at run-out.
	KindOracle = "ORACLE"
)

// Policies returns the policies the scenario compares, in the order of
// the table.
func (sc Scenario) Policies() []Policy {
	var out []Policy
	for _, t := range sc.Thresholds {
		out = append(out, Policy{Name: fmt.Sprintf("threshold %g%%", t), Kind: replenish.PolicyThreshold, Threshold: t})
	}
	return append(out,
		Policy{Name: fmt.Sprintf("forecast %g%%", sc.ServiceLevel), Kind: replenish.PolicyForecast, Threshold: sc.Backstop},
		Policy{Name: "lead-time bound", Kind: KindBound},
		Policy{Name: "oracle", Kind: KindOracle})
}

// Outcome is what one policy did over the slots it ran.
type Outcome struct {
	SlotDays     int
	StockoutDays int     // days on which use could not be met in full
	OnHand       float64 // device-fulls on hand, summed over slot-days
	Orders       int
}

// Add adds o2 to o.
func (o *Outcome) Add(o2 Outcome) {
	o.SlotDays += o2.SlotDays
	o.StockoutDays += o2.StockoutDays
	o.OnHand += o2.OnHand
	o.Orders += o2.Orders
}

// StockoutShare is the share of slot-days on which use could not be met.
func (o Outcome) StockoutShare() float64 { return float64(o.StockoutDays) / float64(o.SlotDays) }

// MeanOnHand is the mean units on hand, in device-fulls.
func (o Outcome) MeanOnHand() float64 { return o.OnHand / float64(o.SlotDays) }

// OrdersPerYear is the orders per slot-year.
func (o Outcome) OrdersPerYear() float64 { return float64(o.Orders) * 365 / float64(o.SlotDays) }

// Result is a whole run: per policy, over all slots and per pattern.
type Result struct {
	Scenario  Scenario
	Policies  []Policy
	Total     []Outcome
	ByPattern [patterns][]Outcome
	Elapsed   time.Duration
}

// Run simulates the scenario for the given policies, on every core. It
// calls progress (when not nil) with the slots done so far, now and then.
// The result depends on the scenario alone.
func Run(sc Scenario, policies []Policy, progress func(done int)) Result {
	start := time.Now()
	per := make([][]Outcome, sc.Slots)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= sc.Slots {
					return
				}
				h := sc.draw(i)
				per[i] = make([]Outcome, len(policies))
				for j, p := range policies {
					per[i][j] = sc.live(h, p)
				}
				if n := done.Add(1); progress != nil && n%500 == 0 {
					progress(int(n))
				}
			}
		})
	}
	wg.Wait()
	res := Result{Scenario: sc, Policies: policies, Total: make([]Outcome, len(policies))}
	for p := range res.ByPattern {
		res.ByPattern[p] = make([]Outcome, len(policies))
	}
	// Summed in slot order, so that the figures do not depend on which
	// core finished first.
	for i, os := range per {
		for j, o := range os {
			res.Total[j].Add(o)
			res.ByPattern[Pattern(i%int(patterns))][j].Add(o)
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// The times of a day, in days: the household uses its supply in the
// evening, and the device reports after that.
const (
	useAt     = 0.75
	readingAt = 0.8
	// slack absorbs rounding when a delivery is timed to land at a use.
	slack = 1e-9
)

// epoch is the simulation's day 0, a Monday.
var epoch = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func at(t float64) time.Time { return epoch.Add(time.Duration(t * float64(24*time.Hour))) }

// life is one slot's year under one policy: the device starts full, with
// no spares and no history.
type life struct {
	sc       Scenario
	h        household
	device   float64   // per cent
	spares   int       // device-fulls at home
	arrivals []float64 // of the open orders, in days, in order
	orders   int
}

// live returns what policy p does for household h.
func (sc Scenario) live(h household, p Policy) Outcome {
	l := life{sc: sc, h: h, device: 100}
	slot := replenish.EndpointSlot{SensorType: replenish.SensorLevel, Policy: p.Kind,
		Measurement: replenish.Measurement{Type: measure.Percentage}, Threshold: p.Threshold,
		Mode: replenish.ModeAuto, ProductID: "refill",
		Plan: replenish.Plan{ServiceLevel: sc.ServiceLevel, LeadDays: h.leadMean,
			LeadSD: h.leadMean * sc.LeadSpread, Window: sc.Window}}
	engineRun := p.Kind == replenish.PolicyThreshold || p.Kind == replenish.PolicyForecast
	var o Outcome
	for d := range sc.Days {
		for len(l.arrivals) > 0 && l.arrivals[0] <= float64(d)+useAt+slack {
			l.spares += h.pack
			l.arrivals = l.arrivals[1:]
			if engineRun {
				slot.State, _ = engine.Shipped(slot, float64(h.pack))
				slot.State = engine.Delivered(slot)
			}
			if l.device <= 0 {
				l.swap()
			}
		}
		o.SlotDays++
		if !l.consume(h.use[d]) {
			o.StockoutDays++
		}
		o.OnHand += (l.device + 100*float64(l.spares)) / 100
		t := float64(d) + readingAt
		switch {
		case engineRun:
			if h.missed[d] {
				continue
			}
			level := min(100, max(0, l.device+h.noise[d]))
			now := at(t)
			st, decisions, _ := engine.Apply(slot, engine.Reading{Amount: level, SampleAt: now}, now)
			slot.State = st
			for _, dec := range decisions {
				if dec.Kind == engine.PlaceOrder {
					l.order(t)
					slot.State = engine.Placed(slot, "order", float64(h.pack))
				}
			}
		default:
			for l.plan(d, t, p.Kind) {
			}
		}
	}
	o.Orders = l.orders
	return o
}

// consume takes a day's use from the device, putting in a spare when the
// device runs empty; it reports whether the use was met in full.
func (l *life) consume(use float64) bool {
	for use > 0 {
		if l.device >= use {
			l.device -= use
			return true
		}
		use -= l.device
		l.device = 0
		if l.spares == 0 {
			return use < slack
		}
		l.swap()
	}
	return true
}

// swap puts a spare in the empty device.
func (l *life) swap() {
	if l.spares > 0 {
		l.spares--
		l.device = 100
	}
}

// order places an order at time t (days), to arrive after the window and
// the order's lead time.
func (l *life) order(t float64) {
	l.arrivals = append(l.arrivals, t+l.sc.Window.Hours()/24+l.h.leads[l.orders])
	l.orders++
}

// plan is the policies that know the future, at the reading time t of day
// d: they find the first day whose use the supply, with the orders on
// their way, can no longer meet, and order so that a delivery lands at
// that use, as late as the lead time allows (the oracle knows it; the
// bound takes the service level's quantile of its distribution). Unlike
// the engine, they may have several orders on the way. plan reports
// whether it ordered, so that the caller asks again.
func (l *life) plan(d int, t float64, kind string) bool {
	stock := l.device + 100*float64(l.spares+len(l.arrivals)*l.h.pack)
	runOut := -1
	for e := d + 1; e < l.sc.Days; e++ {
		stock -= l.h.use[e]
		if stock < -slack {
			runOut = e
			break
		}
	}
	if runOut < 0 || l.orders >= len(l.h.leads) {
		return false
	}
	real := l.h.leads[l.orders]
	lead := real
	if kind == KindBound {
		lead = l.h.leadMean * (1 + l.sc.LeadSpread*engine.Z(l.sc.ServiceLevel))
	}
	window := l.sc.Window.Hours() / 24
	when := float64(runOut) + useAt - window - lead
	if when >= t+1 {
		return false // tomorrow's reading time is soon enough
	}
	// Deliveries keep their order: one placed later never lands first.
	arrival := math.Max(when, t) + window + real
	if n := len(l.arrivals); n > 0 {
		arrival = math.Max(arrival, l.arrivals[n-1])
	}
	l.arrivals = append(l.arrivals, arrival)
	l.orders++
	return true
}
