// Package orders is an order's life after the engine decided to place it:
// the cancellation window, release to fulfilment, shipping (which raises
// the household inventory), delivery, and cancellation by the customer,
// the operator, the vendor (test orders) or the service. Every step is a
// row of the order's history, and every timer is a time stored with the
// order, so that a restart neither loses nor repeats one.
package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
	"replenish/notifications"
	"replenish/storage"
)

// Settings are the numbers of the order rules; each is a setting so that
// an operator can tune it and a test can run a whole life in seconds.
type Settings struct {
	// CancelWindow is how long a placed order can be cancelled by the
	// customer before it is released (Dash: 24 h).
	CancelWindow time.Duration
	// UnresolvedAfter is how long fulfilment has to ship a released order
	// before the service cancels it (Dash: 72 h).
	UnresolvedAfter time.Duration
	// CancelCooldown is how long no automatic order follows a customer's
	// cancellation of one (Dash: 5 days).
	CancelCooldown time.Duration
	// TestDelivery is how long a test order takes from shipping to
	// delivery; 0 is the marketplace's lead time.
	TestDelivery time.Duration
	// Fulfilment is where released orders go.
	Fulfilment Fulfilment
	// Lease is how long the worker holds the fulfilment requests it
	// claimed to send; another instance takes over those it has not
	// recorded after that. 0 is notifications.Lease.
	Lease time.Duration
}

// Fulfilment adapters.
const (
	// Manual: the operator ships and delivers in the console or the API.
	Manual = "manual"
	// Webhook: each released order is POSTed to the commerce system,
	// which reports back through the API.
	Webhook = "webhook"
)

// Fulfilment configures the fulfilment adapter.
type Fulfilment struct {
	Adapter string // Manual or Webhook
	URL     string // the commerce system's URL (Webhook)
	// Key signs each POST to URL, and is the API key with which the
	// commerce system reports back.
	Key string
}

// DefaultSettings are Dash's numbers, with manual fulfilment.
func DefaultSettings() Settings {
	return Settings{CancelWindow: 24 * time.Hour, UnresolvedAfter: 72 * time.Hour,
		CancelCooldown: 120 * time.Hour, Fulfilment: Fulfilment{Adapter: Manual}}
}

// Service runs the order use cases, one transaction each, and the timers.
type Service struct {
	store  storage.Store
	now    func() time.Time
	set    Settings
	client *http.Client
	log    *slog.Logger
	notify *notifications.Service
}

// New returns a Service on store; now is the clock, client sends the
// webhook adapter's requests, notify tells customers and vendors.
func New(store storage.Store, now func() time.Time, set Settings, client *http.Client, log *slog.Logger,
	notify *notifications.Service) *Service {
	return &Service{store: store, now: now, set: set, client: client, log: log, notify: notify}
}

// packFor returns what order o adds to slot sl's household inventory, in
// its unit: nothing unless the product is on the slot's list in the
// customer's marketplace (Dash) and its pack counts in the slot's
// measurement.
func (s *Service) packFor(ctx context.Context, tx storage.Tx, o replenish.Order, e replenish.Endpoint,
	sl *replenish.EndpointSlot) (float64, bool, error) {
	c, err := tx.Customer(ctx, o.CustomerID)
	if err != nil {
		return 0, false, err
	}
	m, err := tx.Model(ctx, e.VendorCode, e.ModelID)
	if err != nil {
		return 0, false, err
	}
	listed := false
	for _, ms := range m.Slots {
		if ms.SlotID == sl.SlotID {
			listed = slices.Contains(ms.Products[c.Marketplace], o.ProductID)
		}
	}
	if !listed {
		return 0, false, nil
	}
	add, ok := engine.PackAmount(*sl, o.PackQuantity, o.PackUnit, o.Quantity)
	return add, ok, nil
}

// Settings returns the service's settings.
func (s *Service) Settings() Settings { return s.set }

// Place prepares, in the caller's transaction, the order that decision d
// asks for slot sl of endpoint e, and records it with its first step and
// the customer's notice. It returns nil, and tells the customer why, when
// no order can be placed: the product is not offered in the customer's
// marketplace, or its price rose more than engine.PriceRise since the
// customer chose it. sl.State is updated either way.
func (s *Service) Place(ctx context.Context, tx storage.Tx, e *replenish.Endpoint, sl *replenish.EndpointSlot,
	d engine.Decision, now time.Time) (*replenish.Order, error) {
	c, err := tx.Customer(ctx, e.CustomerID)
	if err != nil {
		return nil, err
	}
	p, err := tx.Product(ctx, sl.ProductID)
	if err != nil {
		return nil, err
	}
	amount := engine.DescribeAmount(sl)
	offer, ok := p.Offers[c.Marketplace]
	held := ""
	switch {
	case !ok || !offer.Available:
		held = fmt.Sprintf("Smart reorder could not order: %s is not available in %s; choose another product.",
			sl.ProductID, c.Marketplace)
	case engine.PriceRose(sl.ChosenPrice, offer.Price):
		held = fmt.Sprintf("Smart reorder did not order: the price of %s rose from %s to %s %s since you chose it. "+
			"Choose the product again to confirm the new price.", offer.Title, sl.ChosenPrice, offer.Price, offer.Currency)
	}
	raw, err := json.Marshal(d.Reason)
	if err != nil {
		return nil, err
	}
	if held != "" {
		// Told once, as in NOTIFY mode; choosing the product again re-arms it.
		sl.State.Notified = true
		return nil, s.notify.Customer(ctx, tx, replenish.FeedEntry{CustomerID: e.CustomerID, Type: replenish.FeedLowSupply,
			EndpointID: e.EndpointID, SlotID: sl.SlotID, CreatedAt: now, Reason: raw,
			Message: fmt.Sprintf("%s on %s is low (%s left). %s", sl.Name, e.FriendlyName, amount, held)})
	}
	reason := map[string]any{}
	json.Unmarshal(raw, &reason)
	reason["unit"] = measure.BaseUnit(sl.Measurement.Type)
	reason["mode"] = sl.Mode
	return s.record(ctx, tx, e, sl, p, offer, reason, replenish.ActorService,
		fmt.Sprintf("%s is low (%s left): smart reorder placed it", sl.Name, amount),
		fmt.Sprintf("because it is low (%s left)", amount), now)
}

// record stores a new order for one pack of product p at its offer in
// the customer's marketplace, with its first step (by actor, for why),
// tells the vendor and the customer (the feed says the order was placed
// because), and puts it on sl's state.
func (s *Service) record(ctx context.Context, tx storage.Tx, e *replenish.Endpoint, sl *replenish.EndpointSlot,
	p replenish.Product, offer replenish.Offer, reason map[string]any, actor, why, because string, now time.Time) (*replenish.Order, error) {
	m, err := tx.Model(ctx, e.VendorCode, e.ModelID)
	if err != nil {
		return nil, err
	}
	testAccount, err := tx.IsTestAccount(ctx, e.VendorCode, e.ModelID, e.CustomerID)
	if err != nil {
		return nil, err
	}
	cancelBy := now.Add(s.set.CancelWindow)
	o := replenish.Order{
		OrderID: replenish.NewID("ord-", 20), CustomerID: e.CustomerID, VendorCode: e.VendorCode,
		EndpointID: e.EndpointID, SlotID: sl.SlotID, SlotKey: sl.ID, ProductID: p.ProductID, Quantity: 1,
		PackQuantity: p.PackQuantity, PackUnit: p.PackUnit, Price: offer.Price, Currency: offer.Currency,
		Test: engine.TestOrder(testAccount, m.Certification), Status: replenish.OrderPending,
		PlacedAt: now, CancelBy: cancelBy, DueAt: cancelBy, UpdatedAt: now, Reason: reason,
		Steps: []replenish.OrderStep{{Status: replenish.OrderPending, At: now, Actor: actor, Reason: why}},
	}
	if err := tx.InsertOrder(ctx, o); err != nil {
		return nil, err
	}
	onOrder, _, err := s.packFor(ctx, tx, o, *e, sl)
	if err != nil {
		return nil, err
	}
	sl.State = engine.Placed(*sl, o.OrderID, onOrder)
	test := ""
	if o.Test {
		test = " (test order)"
	}
	if err := s.notify.Order(ctx, tx, notifications.OrderPlaced, *e, o, o.Steps[0]); err != nil {
		return nil, err
	}
	return &o, s.notify.Customer(ctx, tx, replenish.FeedEntry{CustomerID: e.CustomerID, Type: replenish.FeedOrderPlaced,
		EndpointID: e.EndpointID, SlotID: sl.SlotID, OrderID: o.OrderID, CreatedAt: now,
		Message: fmt.Sprintf("Ordered %d × %s for %s on %s at %s %s%s, %s. You can cancel until %s.",
			o.Quantity, offer.Title, sl.Name, e.FriendlyName, o.Price, o.Currency, test, because, cancelBy.Format("2006-01-02 15:04 MST"))})
}

// OrderNow places, at the customer's request, an order for one pack of
// the product chosen for one slot of their endpoint, whatever its mode
// and level, under the rules every order follows: the slot must be the
// customer's, have a product chosen and offered in their marketplace,
// and no open order (a second is EConflict, naming the open one). The
// order and its notices are one transaction.
func (s *Service) OrderNow(ctx context.Context, customerID, endpointID, slotID string) (replenish.Order, error) {
	var out replenish.Order
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		now := s.now()
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		e, err := tx.Endpoint(ctx, customerID, endpointID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(e.Slots, func(sl replenish.EndpointSlot) bool { return sl.SlotID == slotID })
		if i < 0 {
			return replenish.Errorf(replenish.ENotFound, "endpoint %s has no slot %s", endpointID, slotID)
		}
		sl := &e.Slots[i]
		if sl.State.OpenOrderID != "" {
			return replenish.Errorf(replenish.EConflict, "%s on %s has an open order, %s: a new one only once it is delivered or cancelled",
				sl.Name, e.FriendlyName, sl.State.OpenOrderID)
		}
		if sl.ProductID == "" {
			return replenish.FieldError("productId", "no product is chosen for this slot: choose one first")
		}
		p, err := tx.Product(ctx, sl.ProductID)
		if err != nil {
			return err
		}
		offer, ok := p.Offers[c.Marketplace]
		if !ok || !offer.Available {
			return replenish.Errorf(replenish.EConflict, "%s is not available in %s: choose another product", sl.ProductID, c.Marketplace)
		}
		// No "mode": that key marks an automatic order, whose cancellation
		// by the customer holds smart reorder back.
		reason := map[string]any{"slotMode": sl.Mode, "amount": sl.State.Amount, "unit": measure.BaseUnit(sl.Measurement.Type),
			"requestedBy": replenish.ActorCustomer}
		o, err := s.record(ctx, tx, &e, sl, p, offer, reason, replenish.ActorCustomer,
			"ordered by the customer", "as you asked", now)
		if err != nil {
			return err
		}
		out = *o
		return tx.SetSlotState(ctx, sl.ID, sl.State)
	})
	return out, err
}

// Which actors may move an order from which states to which (Dash's
// rules, with the operator standing in for Amazon's fulfilment).
var moves = map[string]map[string][]string{
	replenish.OrderReleased: {
		replenish.ActorService: {replenish.OrderPending},
	},
	replenish.OrderShipped: {
		replenish.ActorOperator:   {replenish.OrderReleased},
		replenish.ActorFulfilment: {replenish.OrderReleased},
		replenish.ActorService:    {replenish.OrderReleased}, // test orders
	},
	replenish.OrderDelivered: {
		replenish.ActorOperator:   {replenish.OrderShipped},
		replenish.ActorFulfilment: {replenish.OrderShipped},
		replenish.ActorService:    {replenish.OrderShipped}, // test orders
	},
	replenish.OrderCancelled: {
		replenish.ActorCustomer:   {replenish.OrderPending},
		replenish.ActorOperator:   {replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped},
		replenish.ActorFulfilment: {replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped},
		replenish.ActorVendor:     {replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped}, // test orders
		replenish.ActorService:    {replenish.OrderPending, replenish.OrderReleased},
	},
}

// From returns the states from which actor may move an order to status;
// none means never.
func From(status, actor string) []string { return moves[status][actor] }

// move takes one step of order o in tx: it checks the rule, records the
// step, and does what the step does to the slot and the household, with
// the customer's notice. It returns the order as it now is.
func (s *Service) move(ctx context.Context, tx storage.Tx, o replenish.Order, step replenish.OrderStep, tracking string) (replenish.Order, error) {
	from := From(step.Status, step.Actor)
	if !slices.Contains(from, o.Status) {
		return o, replenish.Errorf(replenish.EConflict, "order %s is %s: %s cannot make it %s", o.OrderID, o.Status, step.Actor, step.Status)
	}
	var due time.Time
	switch {
	case step.Status == replenish.OrderReleased:
		due = step.At.Add(s.set.UnresolvedAfter)
	case step.Status == replenish.OrderShipped && o.Test:
		lead, err := s.testDelivery(ctx, tx, o)
		if err != nil {
			return o, err
		}
		due = step.At.Add(lead)
	}
	if err := tx.MoveOrder(ctx, o.OrderID, from, step, due, tracking); err != nil {
		return o, err
	}
	o.Status, o.UpdatedAt, o.DueAt = step.Status, step.At, due
	if tracking != "" {
		o.TrackingReference = tracking
	}
	o.Steps = append(o.Steps, step)
	if err := s.settle(ctx, tx, o, step); err != nil {
		return o, err
	}
	if step.Status == replenish.OrderReleased && !o.Test && s.set.Fulfilment.Adapter == Webhook {
		if err := tx.InsertFulfilment(ctx, o.OrderID, step.At); err != nil {
			return o, err
		}
	}
	return o, nil
}

// testDelivery is how long a test order takes from shipping to delivery.
func (s *Service) testDelivery(ctx context.Context, tx storage.Tx, o replenish.Order) (time.Duration, error) {
	if s.set.TestDelivery > 0 {
		return s.set.TestDelivery, nil
	}
	c, err := tx.Customer(ctx, o.CustomerID)
	if err != nil {
		return 0, err
	}
	m, err := tx.Marketplace(ctx, c.Marketplace)
	if err != nil {
		return 0, err
	}
	return time.Duration(m.LeadDays * float64(24*time.Hour)), nil
}

// settle does what a step does to the order's slot, and tells the customer.
func (s *Service) settle(ctx context.Context, tx storage.Tx, o replenish.Order, step replenish.OrderStep) error {
	if step.Status == replenish.OrderReleased {
		return nil // the customer hears of it when it ships
	}
	e, err := tx.Endpoint(ctx, o.CustomerID, o.EndpointID)
	if err != nil && replenish.ErrorCode(err) != replenish.ENotFound {
		return err
	}
	// The endpoint may be gone (DeleteReport); the order's life goes on.
	var sl *replenish.EndpointSlot
	for i := range e.Slots {
		if e.Slots[i].ID == o.SlotKey {
			sl = &e.Slots[i]
		}
	}
	name, device := o.ProductID, "your device"
	if sl != nil {
		name, device = sl.Name, e.FriendlyName
	}
	feed := replenish.FeedEntry{CustomerID: o.CustomerID, EndpointID: o.EndpointID, SlotID: o.SlotID,
		OrderID: o.OrderID, CreatedAt: step.At}
	vendorType := ""
	switch step.Status {
	case replenish.OrderShipped:
		feed.Type, vendorType = replenish.FeedOrderShipped, notifications.ItemShipped
		feed.Message = fmt.Sprintf("Your order of %s for %s on %s has shipped.", o.ProductID, name, device)
		if o.TrackingReference != "" {
			feed.Message += " Tracking: " + o.TrackingReference + "."
		}
		if sl != nil {
			if err := s.receive(ctx, tx, o, e, sl, step.At); err != nil {
				return err
			}
		}
	case replenish.OrderDelivered:
		feed.Type, vendorType = replenish.FeedOrderDelivered, notifications.ItemDelivered
		feed.Message = fmt.Sprintf("Your order of %s for %s on %s was delivered.", o.ProductID, name, device)
		if sl != nil && sl.State.OpenOrderID == o.OrderID {
			if err := tx.SetSlotState(ctx, sl.ID, engine.Delivered(*sl)); err != nil {
				return err
			}
		}
	case replenish.OrderCancelled:
		feed.Type, vendorType = replenish.FeedOrderCancelled, notifications.OrderCancelled
		feed.Message = fmt.Sprintf("The order of %s for %s on %s was cancelled: %s.", o.ProductID, name, device, step.Reason)
		if sl != nil && sl.State.OpenOrderID == o.OrderID {
			byCustomer := step.Actor == replenish.ActorCustomer && o.Reason["mode"] == replenish.ModeAuto
			st := engine.Cancelled(*sl, byCustomer, step.At, s.set.CancelCooldown)
			if err := tx.SetSlotState(ctx, sl.ID, st); err != nil {
				return err
			}
			if byCustomer && st.CancelStreak >= engine.HeldAfterCancels {
				feed.Message += " Smart reorder now waits until this supply is full again."
			} else if byCustomer {
				feed.Message += fmt.Sprintf(" Smart reorder will not order it again before %s.", st.CooldownUntil.Format("2006-01-02 15:04 MST"))
			}
		}
	}
	if err := s.notify.Order(ctx, tx, vendorType, e, o, step); err != nil {
		return err
	}
	return s.notify.Customer(ctx, tx, feed)
}

// receive moves what an order shipped from the slot's open order to its
// household inventory, when the product is on the slot's list (Dash), and
// records why.
func (s *Service) receive(ctx context.Context, tx storage.Tx, o replenish.Order, e replenish.Endpoint,
	sl *replenish.EndpointSlot, at time.Time) error {
	add, ok, err := s.packFor(ctx, tx, o, e, sl)
	if err != nil {
		return err
	}
	if !ok {
		if sl.State.OnOrder != 0 {
			sl.State.OnOrder = 0
			return tx.SetSlotState(ctx, sl.ID, sl.State)
		}
		return nil
	}
	st, added := engine.Shipped(*sl, add)
	if err := tx.SetSlotState(ctx, sl.ID, st); err != nil {
		return err
	}
	sl.State = st
	return tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: sl.ID, Quantity: engine.Household(*sl),
		Delta: added, Source: storage.HouseholdShipment, OrderID: o.OrderID, At: at,
		Reason: fmt.Sprintf("order %s shipped: %d × %g %s", o.OrderID, o.Quantity, o.PackQuantity, o.PackUnit)})
}
