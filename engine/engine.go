// Package engine holds the replenishment rules as plain functions over a
// slot's state, a reading and the time. It does no I/O and keeps no clock:
// the caller loads the state, applies a reading, and stores the result and
// the decisions in one transaction.
package engine

import (
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
	// CancelWindow is how long a customer may cancel a placed order (Dash).
	CancelWindow = 24 * time.Hour
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
)

// Decision is one thing the caller must do, with the inputs that led to it
// so that a person can see why.
type Decision struct {
	Kind   Kind
	Reason Reason
}

// Reason records the inputs of a decision.
type Reason struct {
	Policy    string    `json:"policy"`
	Threshold float64   `json:"threshold"`
	Amount    float64   `json:"amount"`
	Capacity  float64   `json:"capacity"`
	LowCount  int       `json:"consecutiveLowReadings"`
	SampleAt  time.Time `json:"timeOfSample"`
}

// Apply applies reading r of a LEVEL sensor to slot s at time now. It
// returns the slot's new state, the decisions to carry out, and whether
// the reading moved the state at all: a reading not newer than the slot's
// newest is history only.
func Apply(s replenish.EndpointSlot, r Reading, now time.Time) (replenish.SlotState, []Decision, bool) {
	st := s.State
	if !st.LastSampleAt.IsZero() && !r.SampleAt.After(st.LastSampleAt) {
		return st, nil, false
	}
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
	if !first && isRefill(st.Capacity, prev, r.Amount) {
		st.LowCount = 0
		st.Notified = false
		st.Ordered = false
	}

	st, out := decide(s, st, r.SampleAt, now)
	return st, out, true
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
	if s.Measurement.Type == measure.Percentage {
		st.Capacity = 100
	}
	if at.After(st.LastSampleAt) {
		st.LastSampleAt = at
	}
	st.LowCount, st.Notified, st.Ordered = 0, false, false
	st, out := decide(s, st, at, now)
	return st, out, true
}

// SetHousehold sets the household inventory of a USAGE slot to quantity,
// in the base unit of its measurement, as the customer counted it. A rise
// is a refill that re-arms the slot; nothing is decided, since a count by
// the customer is not a reading of the device.
func SetHousehold(s replenish.EndpointSlot, quantity float64) replenish.SlotState {
	st := s.State
	if quantity > st.Amount {
		st.LowCount, st.Notified, st.Ordered = 0, false, false
	}
	st.Amount = quantity
	st.Capacity = max(st.Capacity, quantity)
	return st
}

// decide counts a reading sampled at time at whose result is st, and
// returns what the slot's mode asks for when the supply is low.
func decide(s replenish.EndpointSlot, st replenish.SlotState, at, now time.Time) (replenish.SlotState, []Decision) {
	if st.Amount <= s.Threshold {
		st.LowCount++
	} else {
		st.LowCount = 0
	}
	if st.LowCount < LowReadings || now.Sub(at) > StaleAfter {
		return st, nil
	}

	why := Reason{Policy: s.Policy, Threshold: s.Threshold, Amount: st.Amount,
		Capacity: st.Capacity, LowCount: st.LowCount, SampleAt: at}
	var out []Decision
	switch s.Mode {
	case replenish.ModeAuto:
		if s.ProductID == "" {
			// Smart reorder without a product cannot order; telling the
			// customer is the next best thing.
			if !st.Notified {
				st.Notified = true
				out = append(out, Decision{Kind: NotifyLow, Reason: why})
			}
			break
		}
		if !st.Ordered && st.OpenOrderID == "" {
			st.Ordered = true
			out = append(out, Decision{Kind: PlaceOrder, Reason: why})
		}
	case replenish.ModeNotify:
		if !st.Notified {
			st.Notified = true
			out = append(out, Decision{Kind: NotifyLow, Reason: why})
		}
	}
	return st, out
}

// isRefill reports whether a move from prev to next is a refill: a rise of
// more than RefillShare of capacity, or any rise to full (100 % for a
// percentage).
func isRefill(capacity, prev, next float64) bool {
	rise := next - prev
	if rise <= 0 {
		return false
	}
	return next >= capacity || rise > RefillShare*capacity
}

// Status is what the customer sees of a slot at time now.
func Status(s replenish.EndpointSlot, now time.Time) string {
	switch {
	case s.State.LastSampleAt.IsZero():
		return replenish.StatusUnknown
	case now.Sub(s.State.LastSampleAt) > StaleAfter:
		return replenish.StatusNotReporting
	case s.State.LowCount >= LowReadings:
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
