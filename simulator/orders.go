package simulator

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"replenish"
)

// ListOrders returns every order that key may see and query selects
// (status, vendorCode, endpointId), newest first, following the list's
// cursor from page to page.
func ListOrders(ctx context.Context, c *Client, key string, query url.Values) ([]replenish.Order, error) {
	return listAll[replenish.Order](ctx, c, key, "/api/v1/orders", query)
}

// listAll reads every page of a list route, following nextCursor.
func listAll[T any](ctx context.Context, c *Client, key, route string, query url.Values) ([]T, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	var out []T
	for {
		var page struct {
			Items      []T
			NextCursor string
		}
		path := route
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		if err := c.Do(ctx, "GET", path, key, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// Clerk plays the operator's part in manual fulfilment, through the API
// with the operator's key: it ships each released order ShipAfter after
// it first sees it released, with a tracking reference, and delivers
// each shipped one DeliverAfter after it first sees it shipped. The
// delays run on the clerk's clock, from when it first saw the order in
// its state, so that the service's clock does not matter.
type Clerk struct {
	API *Client
	Key string // the operator's API key
	// VendorCode, when set, limits the clerk to that vendor's orders, so
	// that it leaves the others of a shared service alone.
	VendorCode   string
	ShipAfter    time.Duration
	DeliverAfter time.Duration
	Log          *slog.Logger // where failed requests are told; nil: nowhere

	seen map[string]sighting
}

// sighting is an order's state when the clerk first saw it in that state.
type sighting struct {
	status string
	at     time.Time
}

// Run does a Pass every interval until ctx ends.
func (c *Clerk) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.Pass(ctx, time.Now()); err != nil && ctx.Err() == nil && c.Log != nil {
			c.Log.Warn("fulfilment clerk", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass looks at the released and shipped orders once, at now, and moves
// those whose delay has passed. It returns how many it moved. An order
// that moved on meanwhile (cancelled by its customer, for instance) is
// left alone; other errors end the pass.
func (c *Clerk) Pass(ctx context.Context, now time.Time) (int, error) {
	if c.seen == nil {
		c.seen = map[string]sighting{}
	}
	moved := 0
	still := map[string]bool{}
	for _, step := range []struct {
		status, action, next string
		after                time.Duration
	}{
		{replenish.OrderReleased, "ship", replenish.OrderShipped, c.ShipAfter},
		{replenish.OrderShipped, "deliver", replenish.OrderDelivered, c.DeliverAfter},
	} {
		q := url.Values{"status": {step.status}}
		if c.VendorCode != "" {
			q.Set("vendorCode", c.VendorCode)
		}
		os, err := ListOrders(ctx, c.API, c.Key, q)
		if err != nil {
			return moved, err
		}
		for _, o := range os {
			s, ok := c.seen[o.OrderID]
			if !ok || s.status != o.Status {
				s = sighting{status: o.Status, at: now}
				c.seen[o.OrderID] = s
			}
			still[o.OrderID] = true
			if now.Sub(s.at) < step.after {
				continue
			}
			var body any
			if step.action == "ship" {
				body = map[string]string{"trackingReference": TrackingReference(o.OrderID)}
			}
			err := c.API.Do(ctx, "POST", "/api/v1/orders/"+url.PathEscape(o.OrderID)+"/"+step.action, c.Key, body, nil)
			var apiErr *APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict:
				continue // it moved on since the list was read
			case err != nil:
				return moved, err
			}
			c.seen[o.OrderID] = sighting{status: step.next, at: now}
			moved++
		}
	}
	// Orders no longer released or shipped are done with.
	for id := range c.seen {
		if !still[id] {
			delete(c.seen, id)
		}
	}
	return moved, nil
}

// TrackingReference is the tracking reference the clerk gives an order's
// parcel: made from the order ID, so that a retry gives the same one.
func TrackingReference(orderID string) string {
	id := strings.ToUpper(strings.TrimPrefix(orderID, "ord-"))
	return "SIM" + id[:min(len(id), 12)]
}

// CancelNth has customer cu cancel the n-th order placed for them (1 is
// the first) while it is pending, for reason, as a customer who changed
// their mind does: it looks at their orders every interval until that
// order exists, and returns its ID once cancelled. It returns "" when
// the order was no longer pending when the customer saw it, or when ctx
// ended first.
func CancelNth(ctx context.Context, c *Client, cu *Customer, n int, reason string, every time.Duration) (string, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		os, err := ListOrders(ctx, c, cu.APIKey, nil)
		if err != nil && ctx.Err() == nil {
			return "", err
		}
		if len(os) >= n {
			o := os[len(os)-n] // the list is newest first
			if o.Status != replenish.OrderPending {
				return "", nil
			}
			err := c.Do(ctx, "POST", "/api/v1/orders/"+url.PathEscape(o.OrderID)+"/cancel", cu.APIKey,
				map[string]string{"reason": reason}, nil)
			var apiErr *APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict:
				return "", nil // released meanwhile
			case err != nil:
				return "", err
			}
			return o.OrderID, nil
		}
		select {
		case <-ctx.Done():
			return "", nil
		case <-t.C:
		}
	}
}
