package storage

import (
	"context"
	"time"

	"replenish"
)

// Orders is the orders' part of a transaction: the orders with their
// history of steps, the timers that move them, and the requests to the
// operator's commerce system.
type Orders interface {
	// InsertOrder stores a new order with its steps. A second open order
	// for the same slot is EConflict, whatever the caller checked.
	InsertOrder(ctx context.Context, o replenish.Order) error
	// Order returns an order with its steps.
	Order(ctx context.Context, orderID string) (replenish.Order, error)
	// ListOrders returns the orders that f selects, newest first, with
	// their steps.
	ListOrders(ctx context.Context, f OrderFilter) ([]replenish.Order, error)
	// MoveOrder records step as the order's new state, when the order is
	// in one of the states from; in another it is EConflict naming its
	// state, and nothing changes. due is when a timer next moves the
	// order (zero: none), tracking a reference to keep ("" keeps the old).
	MoveOrder(ctx context.Context, orderID string, from []string, step replenish.OrderStep, due time.Time, tracking string) error
	// DueOrders returns up to limit orders whose timer is due at now,
	// oldest due first; in a write, it locks them until the transaction
	// ends, and skips those another transaction holds.
	DueOrders(ctx context.Context, now time.Time, limit int) ([]replenish.Order, error)
	// OrderCounts returns how many orders are in each state (states with
	// none are left out).
	OrderCounts(ctx context.Context) (map[string]int, error)

	// InsertFulfilment queues an order for the commerce system, due at once.
	InsertFulfilment(ctx context.Context, orderID string, now time.Time) error
	// ClaimFulfilments returns up to limit queued requests due at now and
	// moves their due time to until, as ClaimNotifications does.
	ClaimFulfilments(ctx context.Context, now, until time.Time, limit int) ([]Fulfilment, error)
	// SetFulfilment records an attempt: its count, when to try next
	// (zero once delivered or given up), its error, and when it got through.
	SetFulfilment(ctx context.Context, f Fulfilment) error
}

// OrderFilter selects orders; empty fields select all.
type OrderFilter struct {
	CustomerID string
	VendorCode string
	EndpointID string
	SlotID     string
	Status     string
	// After continues a list after this order (the cursor's position).
	After *OrderCursor
	// Limit is how many at most; 0 is all.
	Limit int
}

// OrderCursor is a position in a list of orders, newest first.
type OrderCursor struct {
	PlacedAt time.Time
	OrderID  string
}

// Fulfilment is an order queued for the commerce system.
type Fulfilment struct {
	OrderID   string
	Attempts  int
	NextAt    time.Time // zero: nothing more to send
	LastError string
	SentAt    time.Time // when the commerce system took it
	CreatedAt time.Time
}

// History is what happened to each slot, for the customer to read.
type History interface {
	// InsertHouseholdChange records a change of a slot's household inventory.
	InsertHouseholdChange(ctx context.Context, c HouseholdChange) error
	// InsertSlotChange records a change the customer made to a slot.
	InsertSlotChange(ctx context.Context, c SlotChange) error
	// SlotHistory returns a slot's history, newest first: readings,
	// consumption, replacements, household changes, the steps of its
	// orders, the notifications about it and the customer's changes.
	SlotHistory(ctx context.Context, slot replenish.EndpointSlot, f HistoryFilter) ([]replenish.HistoryEntry, error)
	// DeleteReadings deletes up to limit of the oldest readings received
	// before before, and returns how many it deleted.
	DeleteReadings(ctx context.Context, before time.Time, limit int) (int, error)
}

// Household change sources.
const (
	HouseholdCustomer = "customer" // the customer set or changed it
	HouseholdShipment = "shipment" // an order shipped
	HouseholdRefill   = "refill"   // a spare went into the device
	HouseholdDevice   = "device"   // the device stayed empty: no spares left
)

// HouseholdChange is one change of a slot's household inventory, in the
// base unit: Quantity after it, Delta the change.
type HouseholdChange struct {
	Slot     int64
	Quantity float64
	Delta    float64
	Source   string
	OrderID  string
	Reason   string
	At       time.Time
}

// Slot change kinds.
const (
	ChangeSubscription = "SUBSCRIPTION"
	ChangeInstalled    = "INSTALLED"
	ChangeDeviceError  = "DEVICE_ERROR" // the vendor's cloud reported the device failed
)

// SlotChange is a change to a slot, told in Message: the customer's, or
// a failure of the device its vendor reported.
type SlotChange struct {
	Slot    int64
	Kind    string
	Message string
	Actor   string
	At      time.Time
}

// HistoryFilter selects a slot's history: entries at or after From, before
// To (zero: no bound), after the cursor, at most Limit.
type HistoryFilter struct {
	From, To time.Time
	After    *HistoryCursor
	Limit    int
}

// HistoryCursor is a position in a slot's history, newest first.
type HistoryCursor struct {
	At   time.Time
	Type string
	Seq  int64
}

// Reading kinds.
const (
	ReadingLevel    = "LEVEL"    // the device reported what is left
	ReadingUsage    = "USAGE"    // the device reported what it used
	ReadingReplaced = "REPLACED" // a new part started
)

// Reading is one sample of a slot, in the base unit: Amount is what was
// left after it, Used what a usage report used.
type Reading struct {
	Slot       int64
	Kind       string
	SampleAt   time.Time
	Amount     float64
	Used       float64
	ReceivedAt time.Time
}
