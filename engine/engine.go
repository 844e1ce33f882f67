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

// Apply applies reading r to slot s at time now. It returns the slot's new
// state, the decisions to carry out, and whether the reading moved the
// state at all: a reading not newer than the slot's newest is history only.
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

	if r.Amount <= s.Threshold {
		st.LowCount++
	} else {
		st.LowCount = 0
	}
	if st.LowCount < LowReadings || now.Sub(r.SampleAt) > StaleAfter {
		return st, nil, true
	}

	why := Reason{Policy: s.Policy, Threshold: s.Threshold, Amount: r.Amount,
		Capacity: st.Capacity, LowCount: st.LowCount, SampleAt: r.SampleAt}
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
	return st, out, true
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
