package engine

import (
	"math"
	"time"

	"replenish"
	"replenish/measure"
)

// The numbers of the forecast. docs/forecast.md explains them and how they
// were chosen.
const (
	// LongMemory is the time constant of the rate estimate's long memory:
	// an observation this old weighs 1/e of a new one.
	LongMemory = 21 * 24 * time.Hour
	// ShortMemory is the time constant of its short memory, which notices
	// a change of habit.
	ShortMemory = 4 * 24 * time.Hour
	// MinObservations and MinDays are the least data a forecast needs;
	// with less, the slot falls back to its threshold.
	MinObservations = 3
	MinDays         = 1.0
	// ChangeZ is the sum of standardized residuals, beyond half a
	// standard deviation a day, that calls a change of habit (a CUSUM
	// test), after which the long memory starts again from the short one.
	ChangeZ    = 5.0
	cusumSlack = 0.5
	// ClipZ bounds a residual, in standard deviations, where it feeds the
	// estimate of the spread.
	ClipZ = 4.0
	// SuspectZ and SuspectShare bound a believable drop of the level
	// between two readings: more than SuspectZ standard deviations, and
	// more than SuspectShare of capacity, beyond the expected use, and the
	// reading is held until the next one confirms it.
	SuspectZ     = 5.0
	SuspectShare = 0.10
	// EmptyShare is the level, as a share of capacity, at or below which
	// a device reads empty; EmptyFor is how long an empty device may wait
	// for a spare before the forecast stops believing in the spares.
	EmptyShare = 0.02
	EmptyFor   = 24 * time.Hour
	// minDaySD is the least spread of one day's use, as a share of the
	// rate: a short, smooth history must not make the forecast certain.
	minDaySD = 0.1
)

// Estimate is what the rate estimate says of a slot's consumption, in the
// base unit of its measurement.
type Estimate struct {
	// PerDay is the expected use per day.
	PerDay float64 `json:"ratePerDay"`
	// DaySD is the standard deviation of one day's use.
	DaySD float64 `json:"dailySpread"`
	// RateSD is the standard deviation of PerDay itself.
	RateSD float64 `json:"rateSpread"`
	// NoiseSD is the standard deviation of a reading's noise.
	NoiseSD float64 `json:"readingNoise"`
	// Interval is the mean time between observations, in days: a slot
	// decides at its readings, so an order must cover the wait for the
	// next one.
	Interval float64 `json:"readingIntervalDays"`
	// Observations and Days say how much data is behind it.
	Observations int64   `json:"observations"`
	Days         float64 `json:"daysObserved"`
	// Enough says whether that is enough to forecast.
	Enough bool `json:"enough"`
}

const microsPerDay = float64(24 * time.Hour / time.Microsecond)

func days(d time.Duration) float64 { return d.Hours() / 24 }

// observe adds to r what a slot used between r's newest observation and
// time at. When known is false the use is unknown (the part was refilled
// in between): time passes and nothing is learnt. Use reported late, for
// a time before r's newest observation, counts as use at that newest time.
func observe(r replenish.Rate, at time.Time, used float64, known bool) replenish.Rate {
	t := at.UnixMicro()
	if r.N == 0 {
		if known || r.At == 0 {
			r.At, r.Since, r.N = t, t, 1
		}
		return r
	}
	dt := max(0, float64(t-r.At)/microsPerDay)
	before := Estimated(r)
	fl, fs := math.Exp(-dt/days(LongMemory)), math.Exp(-dt/days(ShortMemory))
	r.W, r.Used, r.Days, r.Sq, r.Lag = r.W*fl, r.Used*fl, r.Days*fl, r.Sq*fl, r.Lag*fl
	r.ShortUsed, r.ShortDays = r.ShortUsed*fs, r.ShortDays*fs
	r.At = max(r.At, t)
	if !known {
		r.Last = 0
		return r
	}
	e := used - before.PerDay*dt
	r.W++
	r.Used += used
	r.Days += dt
	r.ShortUsed += used
	r.ShortDays += dt
	r.N++
	if before.Enough {
		// A residual far beyond the spread counts as a large one, not as
		// its square: one odd day, or the first days of a new habit, must
		// not teach the estimate that anything goes.
		sd := math.Sqrt(before.DaySD*before.DaySD*dt + 2*before.NoiseSD*before.NoiseSD)
		e = max(-ClipZ*sd, min(ClipZ*sd, e))
		// Two-sided CUSUM of the standardized residuals: more use than
		// expected day after day, or less, is a change of habit.
		if sd > 0 {
			z := e / sd
			r.Up = max(0, r.Up+z-cusumSlack)
			r.Down = max(0, r.Down-z-cusumSlack)
		}
	}
	r.Sq += e * e
	r.Lag += e * r.Last
	r.Last = e
	if r.Up > ChangeZ || r.Down > ChangeZ {
		// The long memory starts again from the short one.
		k := r.ShortDays / r.Days
		r.W, r.Sq, r.Lag = r.W*k, r.Sq*k, r.Lag*k
		r.Used, r.Days = r.ShortUsed, r.ShortDays
		r.Up, r.Down = 0, 0
	}
	return r
}

// Estimated returns what rate estimate r says.
func Estimated(r replenish.Rate) Estimate {
	e := Estimate{Observations: r.N}
	if r.N > 0 {
		e.Days = float64(r.At-r.Since) / microsPerDay
	}
	if r.Days <= 0 || r.W <= 0 {
		return e
	}
	e.PerDay = max(0, r.Used/r.Days)
	e.Interval = r.Days / r.W
	// Noise in the readings makes successive residuals anticorrelated:
	// their mean product is minus the noise's variance.
	noise := max(0, -r.Lag/r.W)
	day := max((r.Sq-2*noise*r.W)/r.Days, minDaySD*minDaySD*e.PerDay*e.PerDay, 0)
	e.NoiseSD = math.Sqrt(noise)
	e.DaySD = math.Sqrt(day)
	e.RateSD = math.Sqrt(day/r.Days + 2*noise/(r.Days*r.Days))
	e.Enough = r.N >= MinObservations && e.Days >= MinDays
	return e
}

// Outlook is a slot's forecast at a time: its inventory position, when it
// runs out, and when the FORECAST policy orders.
type Outlook struct {
	Estimate
	// Position is the inventory position, in the slot's base unit: the
	// amount in the device, the household inventory and the open order.
	Position float64 `json:"inventoryPosition"`
	// Horizon is how many days the supply must last if an order is not
	// placed now but at the next reading: the wait for that reading, the
	// cancellation window and the mean delivery lead time.
	Horizon float64 `json:"horizonDays"`
	// ReorderPoint is the position at which the FORECAST policy orders:
	// the service level's quantile of the use over the horizon.
	ReorderPoint float64 `json:"reorderPoint"`
	// RunOut is when the position runs out, NextOrder when the slot's
	// policy expects to order (under THRESHOLD, unknown while an order is
	// open). Both are zero when the estimate is not enough or the slot
	// uses nothing, and never before the time of the forecast.
	RunOut    time.Time `json:"runOutDate,omitzero"`
	NextOrder time.Time `json:"nextOrderDate,omitzero"`
	// Low says whether the FORECAST rule finds the supply low.
	Low bool `json:"low"`
}

// Forecast returns slot s's outlook at time now.
func Forecast(s replenish.EndpointSlot, now time.Time) Outlook {
	o := Outlook{Estimate: Estimated(s.State.Rate), Position: Position(s)}
	p := s.Plan
	e := o.Estimate
	o.Horizon = e.Interval + days(p.Window) + p.LeadDays
	v := e.DaySD*e.DaySD*o.Horizon + e.RateSD*e.RateSD*o.Horizon*o.Horizon +
		e.PerDay*e.PerDay*p.LeadSD*p.LeadSD + e.NoiseSD*e.NoiseSD
	o.ReorderPoint = quantile(e.PerDay*o.Horizon, v, Z(p.ServiceLevel))
	if !e.Enough || e.PerDay <= 0 {
		return o
	}
	o.Low = o.Position <= o.ReorderPoint
	at := s.State.LastSampleAt
	o.RunOut = later(now, at.Add(duration(o.Position/e.PerDay)))
	switch {
	case s.Policy == replenish.PolicyForecast:
		o.NextOrder = later(now, at.Add(duration((o.Position-o.ReorderPoint)/e.PerDay)))
	case s.State.OpenOrderID == "":
		// THRESHOLD orders once the spares are used and the device has
		// read at or below the threshold LowReadings times.
		left := o.Position - s.Threshold
		o.NextOrder = later(now, at.Add(duration(left/e.PerDay+float64(LowReadings-1)*e.Interval)))
	}
	return o
}

// Position returns slot s's inventory position, in its base unit: the
// amount in the device, the household inventory and the open order.
func Position(s replenish.EndpointSlot) float64 {
	st := s.State
	if s.SensorType == replenish.SensorUsage {
		return st.Amount + st.OnOrder
	}
	part := 1.0
	if s.Measurement.Type == measure.Percentage {
		part = 100 // spares are whole parts
	}
	return st.Amount + part*(st.Household+st.OnOrder)
}

// emptied reports whether a slot's device has read empty for so long that
// it must be empty: at least EmptyFor, and long enough to use up twice
// what an empty-looking reading may hold.
func emptied(st replenish.SlotState) bool {
	if st.Rate.EmptySince == 0 {
		return false
	}
	d := st.LastSampleAt.Sub(time.UnixMicro(st.Rate.EmptySince))
	e := Estimated(st.Rate)
	return d >= EmptyFor && days(d)*e.PerDay >= 2*EmptyShare*st.Capacity
}

// Z returns the standard normal quantile of a service level in per cent:
// how many standard deviations of safety it takes. An unset level is
// replenish.DefaultServiceLevel.
func Z(level float64) float64 {
	if level <= 0 {
		level = replenish.DefaultServiceLevel
	}
	return math.Sqrt2 * math.Erfinv(2*level/100-1)
}

// duration converts days to a duration, bounded so that a slot that uses
// almost nothing does not overflow.
func duration(d float64) time.Duration {
	return time.Duration(min(d, 100*365) * float64(24*time.Hour))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// quantile returns the z-quantile of a use over the horizon with mean m
// and variance v: a gamma distribution's (Wilson and Hilferty's cube-root
// approximation), which is skewed like use made of a few large bursts, and
// comes to the normal's when the use is steady.
func quantile(m, v, z float64) float64 {
	if m <= 0 || v <= 0 {
		return m + z*math.Sqrt(max(v, 0))
	}
	k := m * m / v // the shape
	c := 1 - 1/(9*k) + z/(3*math.Sqrt(k))
	return m * max(c, 0) * max(c, 0) * max(c, 0)
}
