package orders

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// MaxReason is the longest reason or tracking reference kept with a step.
const MaxReason = 200

// actor is who p is in an order's history.
func actor(p replenish.Principal) string {
	switch p.Role {
	case replenish.RoleCustomer:
		return replenish.ActorCustomer
	case replenish.RoleVendor:
		return replenish.ActorVendor
	case replenish.RoleFulfilment:
		return replenish.ActorFulfilment
	}
	return replenish.ActorOperator
}

// visible reports whether p may see order o.
func visible(p replenish.Principal, o replenish.Order) bool {
	switch p.Role {
	case replenish.RoleCustomer:
		return o.CustomerID == p.CustomerID
	case replenish.RoleVendor:
		return o.VendorCode == p.VendorCode
	}
	return true
}

// Order returns one order, as p may see it.
func (s *Service) Order(ctx context.Context, p replenish.Principal, orderID string) (o replenish.Order, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		o, err = tx.Order(ctx, orderID)
		if err == nil && !visible(p, o) {
			err = replenish.Errorf(replenish.ENotFound, "order %s not found", orderID)
		}
		return err
	})
	return o, err
}

// Ship marks a released order shipped, with an optional tracking
// reference. Shipping it again changes nothing.
func (s *Service) Ship(ctx context.Context, p replenish.Principal, orderID, tracking string) (replenish.Order, error) {
	tracking = strings.TrimSpace(tracking)
	if len(tracking) > MaxReason {
		return replenish.Order{}, replenish.FieldError("trackingReference", "at most 200 bytes")
	}
	return s.step(ctx, p, orderID, replenish.OrderShipped, "shipped", tracking)
}

// Deliver marks a shipped order delivered. Delivering it again changes
// nothing.
func (s *Service) Deliver(ctx context.Context, p replenish.Principal, orderID string) (replenish.Order, error) {
	return s.step(ctx, p, orderID, replenish.OrderDelivered, "delivered", "")
}

// Cancel cancels an order for reason: a customer's while it is PENDING,
// the operator's or the commerce system's until it is delivered.
// Cancelling one already cancelled changes nothing.
func (s *Service) Cancel(ctx context.Context, p replenish.Principal, orderID, reason string) (replenish.Order, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case len(reason) > MaxReason:
		return replenish.Order{}, replenish.FieldError("reason", "at most 200 bytes")
	case reason == "" && p.Role == replenish.RoleCustomer:
		reason = "you cancelled it"
	case reason == "":
		return replenish.Order{}, replenish.FieldError("reason", "required: say why the order is cancelled; the customer reads it")
	}
	return s.step(ctx, p, orderID, replenish.OrderCancelled, reason, "")
}

// step moves one order as p asks, in one transaction.
func (s *Service) step(ctx context.Context, p replenish.Principal, orderID, status, reason, tracking string) (replenish.Order, error) {
	var o replenish.Order
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		if o, err = tx.Order(ctx, orderID); err != nil {
			return err
		}
		if !visible(p, o) {
			return replenish.Errorf(replenish.ENotFound, "order %s not found", orderID)
		}
		if o.Status == status {
			return nil // a retry
		}
		if p.Role == replenish.RoleCustomer && status == replenish.OrderCancelled && o.Status != replenish.OrderPending {
			return replenish.Errorf(replenish.EConflict, "order %s is %s: only a PENDING order can be cancelled, until %s",
				orderID, o.Status, o.CancelBy.Format(time.RFC3339))
		}
		o, err = s.move(ctx, tx, o, replenish.OrderStep{Status: status, At: s.now(), Actor: actor(p), Reason: reason}, tracking)
		return err
	})
	return o, err
}

// CancelTestOrders cancels a vendor's open test orders: all of them, or
// those of one slot ID when slotID is not empty. It returns them.
func (s *Service) CancelTestOrders(ctx context.Context, p replenish.Principal, slotID string) ([]replenish.Order, error) {
	out := []replenish.Order{}
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		out = out[:0]
		os, err := tx.ListOrders(ctx, storage.OrderFilter{VendorCode: p.VendorCode})
		if err != nil {
			return err
		}
		now := s.now()
		for _, o := range os {
			if !o.Test || !o.Open() || (slotID != "" && o.SlotID != slotID) {
				continue
			}
			o, err = s.move(ctx, tx, o, replenish.OrderStep{Status: replenish.OrderCancelled, At: now,
				Actor: replenish.ActorVendor, Reason: "the vendor cancelled this test order"}, "")
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// CancelPending cancels, in the caller's transaction, the pending orders
// of an endpoint's slots, for reason: the device they would feed is gone.
func (s *Service) CancelPending(ctx context.Context, tx storage.Tx, e replenish.Endpoint, reason string, now time.Time) error {
	for _, sl := range e.Slots {
		if sl.State.OpenOrderID == "" {
			continue
		}
		o, err := tx.Order(ctx, sl.State.OpenOrderID)
		if err != nil {
			return err
		}
		if o.Status != replenish.OrderPending {
			continue
		}
		if _, err := s.move(ctx, tx, o, replenish.OrderStep{Status: replenish.OrderCancelled, At: now,
			Actor: replenish.ActorService, Reason: reason}, ""); err != nil {
			return err
		}
	}
	return nil
}

// ListLimit is how many orders one page holds at most.
const ListLimit = 100

// Query selects the orders of a list.
type Query struct {
	Status     string
	EndpointID string
	VendorCode string // the operator's filter
	Cursor     string
	Limit      int
}

// List returns the orders p may see that q selects, newest first, and
// the cursor of the next page ("" when there is none).
func (s *Service) List(ctx context.Context, p replenish.Principal, q Query) ([]replenish.Order, string, error) {
	f := storage.OrderFilter{Status: strings.ToUpper(strings.TrimSpace(q.Status)), EndpointID: q.EndpointID,
		VendorCode: q.VendorCode, Limit: q.Limit}
	fields := replenish.Fields{}
	switch f.Status {
	case "", replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped, replenish.OrderDelivered, replenish.OrderCancelled:
	default:
		fields.Add("status", "must be PENDING, RELEASED, SHIPPED, DELIVERED or CANCELLED")
	}
	switch {
	case f.Limit == 0:
		f.Limit = ListLimit
	case f.Limit < 0 || f.Limit > ListLimit:
		fields.Add("limit", fmt.Sprintf("must be 1 to %d", ListLimit))
	}
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor)
		if err != nil {
			fields.Add("cursor", "not a cursor this list gave; start again without it")
		}
		f.After = c
	}
	switch p.Role {
	case replenish.RoleCustomer:
		f.CustomerID = p.CustomerID
	case replenish.RoleVendor:
		f.VendorCode = p.VendorCode
	}
	if err := fields.Err(); err != nil {
		return nil, "", err
	}
	var os []replenish.Order
	err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
		f.Limit++ // one more tells whether a next page exists
		os, err = tx.ListOrders(ctx, f)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(os) == f.Limit {
		os = os[:len(os)-1]
		last := os[len(os)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.PlacedAt.UnixMicro(), 10) + "|" + last.OrderID))
	}
	if os == nil {
		os = []replenish.Order{}
	}
	return os, next, nil
}

func parseCursor(s string) (*storage.OrderCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	at, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return nil, fmt.Errorf("bad cursor")
	}
	return &storage.OrderCursor{PlacedAt: time.UnixMicro(n).UTC(), OrderID: id}, nil
}
