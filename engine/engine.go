// Package engine holds the replenishment rules as plain functions over a
// slot's state, a reading and the time. It does no I/O and keeps no clock:
// the caller loads the state, applies a reading, and stores the result and
// the decisions in one transaction.
package engine

import (
	"fmt"
	"math"
	"math/big"
	"time"

	"replenish"
	"replenish/measure"
)

// The numbers of the rules.
const (
	// LowReadings is how many consecutive readings at or below the
	// threshold make a supply low under the THRESHOLD policy (Dash).
	LowReadings = 3
	// StaleAfter is how long a slot may stay silent before it is shown as
	// not reporting; a reading older than this never triggers anything.
	StaleAfter = 72 * time.Hour
	// RefillShare is the rise, as a share of capacity, that counts as a
	// refill.
	RefillShare = 0.05
	// HeldAfterCancels is how many of the customer's cancellations of
	// automatic orders in a row hold back the next one until the supply
	// is full again (Dash).
	HeldAfterCancels = 2
	// PriceRise is how much an offer's price may rise since the customer
	// chose the product before an automatic order waits for the customer
	// to confirm it (ours).
	PriceRise = 0.10
)

// Reading is one amount reported for a slot, in the base unit of the
// slot's measurement.
type Reading struct {
	Amount   float64
	SampleAt time.Time
}

// Kind names what a decision asks for.
type Kind string

// The decisions the engine makes.
const (
	// NotifyLow tells the customer that the supply is low.
	NotifyLow Kind = "NOTIFY_LOW"
	// PlaceOrder places one order for the slot's chosen product.
	PlaceOrder Kind = "PLACE_ORDER"
	// UsedSpare records that a refill took Amount from the household
	// inventory.
	UsedSpare Kind = "USED_SPARE"
	// SparesGone records that the device stayed empty although the
	// household inventory held Amount: the spares are not there.
	SparesGone Kind = "SPARES_GONE"
)

// Decision is one thing the caller must do, with the inputs that led to it
// so that a person can see why.
type Decision struct {
	Kind   Kind
	Reason Reason
	// Amount is what a UsedSpare took, or what a SparesGone found missing,
	// in the base unit.
	Amount float64
}

// Reason records the inputs of a decision.
type Reason struct {
	Policy    string    `json:"policy"`
	Threshold float64   `json:"threshold"`
	Amount    float64   `json:"amount"`
	Capacity  float64   `json:"capacity"`
	LowCount  int       `json:"consecutiveLowReadings"`
	SampleAt  time.Time `json:"timeOfSample"`
	// Spare is the household inventory when a low supply is no reason to
	// order: the customer is asked to use a spare.
	Spare float64 `json:"householdInventory,omitempty"`
	// Held says why smart reorder is not ordering, when it is not.
	Held string `json:"heldBecause,omitempty"`
	// Trigger is the rule that found the supply low: THRESHOLD, or
	// FORECAST when the forecast did.
	Trigger string `json:"trigger"`
	// Forecast is the forecast and its inputs, under the FORECAST policy.
	Forecast *Inputs `json:"forecast,omitempty"`
}

// Inputs are a forecast and what it was made of, recorded with a
// decision.
type Inputs struct {
	Outlook
	ServiceLevel float64 `json:"serviceLevel"`
	LeadDays     float64 `json:"leadTimeDays"`
	LeadSD       float64 `json:"leadTimeSpreadDays"`
	WindowHours  float64 `json:"cancellationWindowHours"`
	Household    float64 `json:"householdInventory"`
	OnOrder      float64 `json:"onOrder"`
}

// Why smart reorder holds back an order.
const (
	HeldCooldown = "CANCEL_COOLDOWN"     // the customer cancelled the last one
	HeldCancels  = "CANCELLED_TWICE"     // two cancellations in a row, until full again
	HeldPrice    = "PRICE_ROSE"          // the price rose since the customer chose the product
	HeldNoOffer  = "PRODUCT_UNAVAILABLE" // the product is not offered in the customer's marketplace
)

// Apply applies reading r of a LEVEL sensor to slot s at time now. It
// returns the slot's new state, the decisions to carry out, and whether
// the reading moved the state at all: a reading not newer than the slot's
// newest is history only.
//
// A drop far beyond what the slot's use explains is held until the next
// reading: if that one confirms it, both count; if it is back where the
// slot was heading, the odd reading was noise and is forgotten.
func Apply(s replenish.EndpointSlot, r Reading, now time.Time) (replenish.SlotState, []Decision, bool) {
	st := s.State
	if !st.LastSampleAt.IsZero() && !r.SampleAt.After(st.LastSampleAt) {
		return st, nil, false
	}
	if st.Rate.SuspectAt != 0 {
		held := Reading{Amount: st.Rate.SuspectAmount, SampleAt: time.UnixMicro(st.Rate.SuspectAt)}
		s.State.Rate.SuspectAt, s.State.Rate.SuspectAmount = 0, 0
		s.State.LastSampleAt = time.UnixMicro(st.Rate.At)
		e := Estimated(st.Rate)
		fromHeld := held.Amount - e.PerDay*days(r.SampleAt.Sub(held.SampleAt))
		if math.Abs(r.Amount-fromHeld) >= math.Abs(r.Amount-expected(s, e, r.SampleAt)) {
			st, out := apply(s, r, now)
			return st, out, true
		}
		st, out := apply(s, held, now)
		s.State = st
		st, more := apply(s, r, now)
		return st, append(out, more...), true
	}
	if suspect(s, r) {
		st.Rate.SuspectAmount, st.Rate.SuspectAt = r.Amount, r.SampleAt.UnixMicro()
		st.LastSampleAt = r.SampleAt
		return st, nil, true
	}
	st, out := apply(s, r, now)
	return st, out, true
}

// expected returns the amount slot s's estimate, e, expects at time t.
func expected(s replenish.EndpointSlot, e Estimate, t time.Time) float64 {
	dt := days(t.Sub(time.UnixMicro(s.State.Rate.At)))
	return s.State.Amount - e.PerDay*dt
}

// suspect reports whether reading r drops so far below what slot s's
// estimate expects that it must wait for the next reading to be believed.
func suspect(s replenish.EndpointSlot, r Reading) bool {
	e := Estimated(s.State.Rate)
	if !e.Enough || r.Amount >= s.State.Amount {
		return false
	}
	dt := days(r.SampleAt.Sub(time.UnixMicro(s.State.Rate.At)))
	sd := math.Sqrt(e.DaySD*e.DaySD*dt + e.RateSD*e.RateSD*dt*dt + 2*e.NoiseSD*e.NoiseSD)
	return expected(s, e, r.SampleAt)-r.Amount > max(SuspectShare*s.State.Capacity, SuspectZ*sd)
}

// apply applies reading r, newer than the slot's newest, to slot s.
func apply(s replenish.EndpointSlot, r Reading, now time.Time) (replenish.SlotState, []Decision) {
	st := s.State
	first := st.LastSampleAt.IsZero()
	prev := st.Amount
	st.Amount = r.Amount
	st.LastSampleAt = r.SampleAt

	// Capacity first: a slot whose first readings were empty learns its
	// capacity from the refill itself.
	switch {
	case s.Measurement.Type == measure.Percentage:
		st.Capacity = 100
	case r.Amount > st.Capacity:
		st.Capacity = r.Amount
	}
	var out []Decision
	est := Estimated(st.Rate)
	refill := !first && isRefill(st.Capacity, prev, r.Amount, est.NoiseSD)
	used := prev - r.Amount
	if refill {
		// What was used around a refill is unknown: at least what the new
		// part lost since it went in full, at most that and the old part's
		// rest (had it run empty). The estimate's expectation, within
		// those bounds: a top-up is not consumption, and a part emptied by
		// a burst of use is not forgotten.
		since := max(0, st.Capacity-r.Amount)
		dt := days(r.SampleAt.Sub(time.UnixMicro(st.Rate.At)))
		used = max(since, min(since+max(0, prev), est.PerDay*dt))
	}
	// What an empty device would have given is unknown use: time passes
	// and the estimate learns nothing.
	st.Rate = observe(st.Rate, r.SampleAt, used, !first && (prev > 0 || r.Amount > 0))
	switch {
	case r.Amount > EmptyShare*st.Capacity:
		st.Rate.EmptySince = 0
	case st.Rate.EmptySince == 0:
		st.Rate.EmptySince = r.SampleAt.UnixMicro()
	}
	if s.SensorType != replenish.SensorUsage && st.Household > 0 && emptied(st) {
		// A customer with a spare at home puts it in an empty device: one
		// that stays empty shows that the spares are gone (a part used up
		// between two readings leaves no trace).
		out = append(out, Decision{Kind: SparesGone, Amount: st.Household})
		st.Household = 0
	}
	if refill {
		st.LowCount, st.Notified, st.Ordered = 0, false, false
		st.ReplacedAt = r.SampleAt
		if d, ok := useSpare(s, &st, r.Amount-prev); ok {
			out = append(out, d)
		}
	}
	if st.Amount >= st.Capacity {
		st.CancelStreak = 0
	}
	st, decided := decide(s, st, r.SampleAt, now)
	return st, append(out, decided...)
}

// useSpare takes what a refill put in from the household inventory, when
// it holds any: the customer used a spare. A Percentage slot counts its
// spares in whole parts.
func useSpare(s replenish.EndpointSlot, st *replenish.SlotState, put float64) (Decision, bool) {
	if s.SensorType == replenish.SensorUsage || st.Household <= 0 {
		return Decision{}, false
	}
	take := min(st.Household, put)
	if s.Measurement.Type == measure.Percentage {
		take = min(st.Household, 1)
	}
	if take <= 0 {
		return Decision{}, false
	}
	st.Household -= take
	return Decision{Kind: UsedSpare, Amount: take}, true
}

// Consume applies usage reported by a USAGE or LEVEL_USAGE sensor, in the
// base unit of the slot's measurement, sampled at time at. Usage is a
// delta: every report counts, in whatever order they arrive, and the
// caller's message IDs keep a retry from counting twice.
//
// A USAGE slot's amount is the household inventory, which the usage
// lowers. A LEVEL_USAGE slot's amount is the share of the part's life
// left: 100 % minus the usage since the part was replaced, a part never
// reported being new. Usage sampled before the last replacement belongs to
// the old part and does not move the state.
func Consume(s replenish.EndpointSlot, used float64, at, now time.Time) (replenish.SlotState, []Decision, bool) {
	st := s.State
	if s.SensorType == replenish.SensorLevelUsage {
		if !st.ReplacedAt.IsZero() && !at.After(st.ReplacedAt) {
			return st, nil, false
		}
		if st.LastSampleAt.IsZero() && st.ReplacedAt.IsZero() {
			st.Amount = 100
		}
		st.Capacity = 100
	}
	st.Amount = max(0, st.Amount-used)
	st.Capacity = max(st.Capacity, st.Amount)
	st.Rate = observe(st.Rate, at, used, true)
	if at.After(st.LastSampleAt) {
		st.LastSampleAt = at
	}
	st, out := decide(s, st, at, now)
	return st, out, true
}

// Replace starts a new part in a slot, replaced at time at with level left
// (100 for a new part): a refill that re-arms the slot. A replacement not
// newer than the slot's last one is history only.
func Replace(s replenish.EndpointSlot, level float64, at, now time.Time) (replenish.SlotState, []Decision, bool) {
	st := s.State
	if !st.ReplacedAt.IsZero() && !at.After(st.ReplacedAt) {
		return st, nil, false
	}
	st.ReplacedAt = at
	st.Amount = level
	st.Capacity = max(st.Capacity, level)
	st.Rate = observe(st.Rate, at, 0, false)
	if s.Measurement.Type == measure.Percentage {
		st.Capacity = 100
	}
	if at.After(st.LastSampleAt) {
		st.LastSampleAt = at
	}
	st.LowCount, st.Notified, st.Ordered = 0, false, false
	var out []Decision
	if d, ok := useSpare(s, &st, level); ok {
		out = append(out, d)
	}
	if st.Amount >= st.Capacity {
		st.CancelStreak = 0
	}
	st, decided := decide(s, st, at, now)
	return st, append(out, decided...), true
}

// Household returns a slot's household inventory, in the base unit
// (whole parts for a Percentage measurement).
func Household(s replenish.EndpointSlot) float64 {
	if s.SensorType == replenish.SensorUsage {
		return s.State.Amount
	}
	return s.State.Household
}

// SetHousehold sets a slot's household inventory to quantity, in the base
// unit, as the customer counted it. For a USAGE slot it is the amount its
// sensor lowers, and a rise re-arms the slot like a refill. Nothing is
// decided: a count by the customer is not a reading of the device.
func SetHousehold(s replenish.EndpointSlot, quantity float64) replenish.SlotState {
	st := s.State
	if s.SensorType != replenish.SensorUsage {
		st.Household = quantity
		return st
	}
	if quantity > st.Amount {
		st.LowCount, st.Notified, st.Ordered = 0, false, false
	}
	st.Amount = quantity
	st.Capacity = max(st.Capacity, quantity)
	if st.Amount >= st.Capacity {
		st.CancelStreak = 0
	}
	return st
}

// AddHousehold adds delta (negative: removes) to a slot's household
// inventory, never below zero, and returns the new state and what was
// really added.
func AddHousehold(s replenish.EndpointSlot, delta float64) (replenish.SlotState, float64) {
	was := Household(s)
	now := max(0, was+delta)
	return SetHousehold(s, now), now - was
}

// PackAmount converts quantity packs of packQuantity packUnit to what they
// add to a slot's household inventory, in its base unit: whole parts for
// a Percentage slot (a pack counted in units holds that many parts, any
// other pack is one part), the same unit for Count, Volume and Weight. It
// reports false when the pack cannot be counted in the slot's measurement
// (a pack counted in units for a slot that measures volume).
func PackAmount(s replenish.EndpointSlot, packQuantity float64, packUnit string, quantity int) (float64, bool) {
	q := float64(quantity)
	t := s.Measurement.Type
	switch {
	case t == measure.Percentage && packUnit == string(measure.Count):
		return math.Max(1, math.Round(packQuantity)) * q, true
	case t == measure.Percentage:
		return q, true
	case packUnit == string(measure.Count):
		return packQuantity * q, t == measure.Count
	}
	base, err := measure.ToBase(t, packQuantity*q, measure.Unit(packUnit))
	return base, err == nil
}

// Cancelled returns a slot's state once its open order was cancelled at
// time now. A customer's cancellation of an automatic order holds back the
// next one for cooldown, and a second in a row until the supply is full
// again (Dash); after any cancellation the slot may order again, at its
// next low reading, once nothing holds it back.
func Cancelled(s replenish.EndpointSlot, byCustomer bool, now time.Time, cooldown time.Duration) replenish.SlotState {
	st := s.State
	st.OpenOrderID = ""
	st.OnOrder = 0
	st.Ordered, st.Notified = false, false
	if byCustomer {
		st.CancelStreak++
		st.CooldownUntil = now.Add(cooldown)
	}
	return st
}

// Delivered returns a slot's state once its order was delivered: the
// slot is free for the next order, and a delivery ends a run of
// cancellations. Under FORECAST it also ends the low episode, since the
// forecast counts what was delivered; under THRESHOLD the next episode
// starts at a refill.
func Delivered(s replenish.EndpointSlot) replenish.SlotState {
	st := s.State
	st.OpenOrderID = ""
	st.OnOrder = 0
	st.CancelStreak = 0
	if s.Policy == replenish.PolicyForecast {
		st.Ordered = false
	}
	return st
}

// Placed returns a slot's state once an order of amount (in the unit of
// its household inventory) was placed for it.
func Placed(s replenish.EndpointSlot, orderID string, amount float64) replenish.SlotState {
	st := s.State
	st.OpenOrderID = orderID
	st.OnOrder = amount
	return st
}

// Shipped returns a slot's state once its open order shipped with amount
// (in the unit of its household inventory), and what was really added:
// the order is no longer on order but in the household inventory.
func Shipped(s replenish.EndpointSlot, amount float64) (replenish.SlotState, float64) {
	s.State.OnOrder = 0
	return AddHousehold(s, amount)
}

// PriceRose reports whether current, an offer's price, is more than
// PriceRise above chosen, the price when the customer chose the product.
// Prices are decimal strings, compared exactly; an unknown chosen price
// never holds an order back.
func PriceRose(chosen, current string) bool {
	c, ok1 := new(big.Rat).SetString(chosen)
	n, ok2 := new(big.Rat).SetString(current)
	if !ok1 || !ok2 || chosen == "" {
		return false
	}
	limit := new(big.Rat).Mul(c, big.NewRat(110, 100))
	return n.Cmp(limit) > 0
}

// decide counts a reading sampled at time at whose result is st, and
// returns what the slot's mode asks for when the supply is low: under the
// THRESHOLD policy, after LowReadings readings at or below the threshold;
// under FORECAST, also when the forecast says so.
func decide(s replenish.EndpointSlot, st replenish.SlotState, at, now time.Time) (replenish.SlotState, []Decision) {
	if st.Amount <= s.Threshold {
		st.LowCount++
	} else {
		st.LowCount = 0
	}
	if now.Sub(at) > StaleAfter {
		return st, nil
	}
	s.State = st
	var forecast *Inputs
	if s.Policy == replenish.PolicyForecast {
		forecast = &Inputs{Outlook: Forecast(s, at), ServiceLevel: s.Plan.ServiceLevel,
			LeadDays: s.Plan.LeadDays, LeadSD: s.Plan.LeadSD, WindowHours: s.Plan.Window.Hours(),
			Household: st.Household, OnOrder: st.OnOrder}
		if forecast.ServiceLevel <= 0 {
			forecast.ServiceLevel = replenish.DefaultServiceLevel
		}
	}
	byForecast := forecast != nil && forecast.Low
	if st.LowCount < LowReadings && !byForecast {
		return st, nil
	}

	why := Reason{Policy: s.Policy, Trigger: replenish.PolicyThreshold, Threshold: s.Threshold, Amount: st.Amount,
		Capacity: st.Capacity, LowCount: st.LowCount, SampleAt: at, Forecast: forecast}
	if byForecast {
		why.Trigger = replenish.PolicyForecast
	}
	// Spares at home are the first answer to a low device: the customer
	// is told to use one, and an order follows when none is left. A
	// forecast counts the spares already, so when it finds the supply low
	// they are not enough.
	if !byForecast && s.SensorType != replenish.SensorUsage && st.Household > 0 {
		why.Spare = st.Household
	}
	notify := func() []Decision {
		if st.Notified || s.Mode == replenish.ModeOff {
			return nil
		}
		st.Notified = true
		return []Decision{{Kind: NotifyLow, Reason: why}}
	}
	if s.Mode != replenish.ModeAuto {
		return st, notify()
	}
	if st.Ordered || st.OpenOrderID != "" {
		return st, nil
	}
	switch {
	case s.ProductID == "" || why.Spare > 0:
		// Smart reorder without a product cannot order; with spares at
		// home it need not. Telling the customer is the next best thing.
		return st, notify()
	case st.CancelStreak >= HeldAfterCancels:
		why.Held = HeldCancels
		return st, notify()
	case now.Before(st.CooldownUntil):
		why.Held = HeldCooldown
		return st, notify()
	}
	st.Ordered = true
	return st, []Decision{{Kind: PlaceOrder, Reason: why}}
}

// isRefill reports whether a move from prev to next is a refill: a rise of
// more than RefillShare of capacity, or any rise to full (100 % for a
// percentage) beyond what the sensor's noise explains.
func isRefill(capacity, prev, next, noise float64) bool {
	rise := next - prev
	if rise <= 0 {
		return false
	}
	return rise > RefillShare*capacity || (next >= capacity && rise > 2*noise)
}

// Status is what the customer sees of a slot at time now: low after
// LowReadings low readings, or under FORECAST when the forecast finds the
// supply at home low (whether or not an order is on its way); a slot
// silent for longer than silentAfter is not reporting.
func Status(s replenish.EndpointSlot, now time.Time, silentAfter time.Duration) string {
	switch {
	case s.State.LastSampleAt.IsZero():
		return replenish.StatusUnknown
	case now.Sub(s.State.LastSampleAt) > silentAfter:
		return replenish.StatusNotReporting
	case s.State.LowCount >= LowReadings, s.Policy == replenish.PolicyForecast && forecastLow(s, now):
		return replenish.StatusLow
	default:
		return replenish.StatusOK
	}
}

// TestOrder reports whether an order is a test order: one of a test
// account, or of a model not yet certified.
func TestOrder(testAccount bool, certification string) bool {
	return testAccount || certification != replenish.CertCertified
}

// DescribeAmount tells a slot's amount as a person reads it.
func DescribeAmount(sl *replenish.EndpointSlot) string {
	a := sl.State.Amount
	switch sl.Measurement.Type {
	case measure.Percentage:
		return fmt.Sprintf("%g%%", math.Round(a*10)/10)
	case measure.Count:
		return fmt.Sprintf("%g", a)
	}
	if v, err := measure.FromBase(sl.Measurement.Type, a, sl.Measurement.Unit); err == nil {
		return fmt.Sprintf("%.3g %s", v, measure.UnitName(sl.Measurement.Unit))
	}
	return fmt.Sprintf("%g %s", a, measure.BaseUnit(sl.Measurement.Type))
}

// forecastLow reports whether the forecast finds slot s's supply at home
// (the device and the household inventory) low at time now.
func forecastLow(s replenish.EndpointSlot, now time.Time) bool {
	s.State.OnOrder = 0
	return Forecast(s, now).Low
}
