package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"replenish"
	"replenish/notifications"
	"replenish/signing"
	"replenish/storage"
)

// Batch is how many due orders one transaction moves.
const Batch = 200

// Run moves due orders and sends queued fulfilments every interval until
// ctx ends, each in a loop of its own so that a slow commerce system never
// holds back a release. Each pass works from what the database holds, so a
// restart picks up where the last process stopped.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	loop := func(pass func(context.Context) error, what string) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if err := pass(ctx); err != nil && ctx.Err() == nil {
				s.log.Error(what, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	var wg sync.WaitGroup
	if s.set.Fulfilment.Adapter == Webhook {
		wg.Go(func() { loop(s.sendDue, "fulfilment requests") })
	}
	loop(func(ctx context.Context) error { _, err := s.moveAll(ctx); return err }, "order timers")
	wg.Wait()
}

// Tick moves every order whose timer is due, then sends the fulfilments
// that are due, and returns how many orders it moved: one pass of Run.
func (s *Service) Tick(ctx context.Context) (int, error) {
	moved, err := s.moveAll(ctx)
	if err != nil || s.set.Fulfilment.Adapter != Webhook {
		return moved, err
	}
	return moved, s.sendDue(ctx)
}

// moveAll moves due orders, Batch to a transaction, until none is due.
func (s *Service) moveAll(ctx context.Context) (int, error) {
	moved := 0
	for {
		n, err := s.moveDue(ctx)
		moved += n
		if err != nil || n < Batch {
			return moved, err
		}
	}
}

// moveDue takes one step of up to Batch due orders, in one transaction:
// a pending order is released; a released one that fulfilment did not
// ship in time is cancelled; a shipped test order is delivered.
func (s *Service) moveDue(ctx context.Context) (int, error) {
	n := 0
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		n = 0
		now := s.now()
		due, err := tx.DueOrders(ctx, now, Batch)
		if err != nil {
			return err
		}
		for _, o := range due {
			step := replenish.OrderStep{At: now, Actor: replenish.ActorService}
			switch o.Status {
			case replenish.OrderPending:
				step.Status, step.Reason = replenish.OrderReleased, "the cancellation window ended"
			case replenish.OrderReleased:
				step.Status = replenish.OrderCancelled
				step.Reason = fmt.Sprintf("fulfilment did not ship it within %s of its release", s.set.UnresolvedAfter)
			case replenish.OrderShipped:
				step.Status, step.Reason = replenish.OrderDelivered, "a test order is delivered after the marketplace's lead time"
			default:
				return fmt.Errorf("order %s is %s with a timer", o.OrderID, o.Status)
			}
			if o, err = s.move(ctx, tx, o, step, ""); err != nil {
				return err
			}
			if o.Test && o.Status == replenish.OrderReleased {
				// Test orders never reach fulfilment: they ship by themselves.
				if _, err = s.move(ctx, tx, o, replenish.OrderStep{Status: replenish.OrderShipped, At: now,
					Actor: replenish.ActorService, Reason: "a test order ships by itself, never sent to fulfilment"}, ""); err != nil {
					return err
				}
			}
			n++
		}
		return nil
	})
	return n, err
}

// FulfilmentGiveUp is how long a released order is offered to the
// commerce system before the service stops trying; the unresolved timer
// cancels it later.
const FulfilmentGiveUp = 24 * time.Hour

// backoff is the wait after a failed attempt: 10 s, doubling, at most an hour.
func backoff(attempts int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Request is what the webhook adapter POSTs to the commerce system for
// each released order.
type Request struct {
	Type  string          `json:"type"` // "OrderReleased"
	Order replenish.Order `json:"order"`
	// Customer is who the order is for.
	Customer replenish.Customer `json:"customer"`
}

// sendDue sends the queued fulfilments that are due. A request that
// fails is tried again later; the commerce system deduplicates by order
// ID, since a request may arrive twice.
func (s *Service) sendDue(ctx context.Context) error {
	lease := s.set.Lease
	if lease <= 0 {
		lease = notifications.Lease
	}
	var due []storage.Fulfilment
	if err := s.store.Write(ctx, func(tx storage.Tx) (err error) {
		now := s.now()
		due, err = tx.ClaimFulfilments(ctx, now, now.Add(lease), Batch)
		return err
	}); err != nil {
		return err
	}
	for _, f := range due {
		var req Request
		if err := s.store.Read(ctx, func(tx storage.Tx) (err error) {
			if req.Order, err = tx.Order(ctx, f.OrderID); err != nil {
				return err
			}
			req.Customer, err = tx.Customer(ctx, req.Order.CustomerID)
			return err
		}); err != nil {
			return err
		}
		req.Type = "OrderReleased"
		err := s.post(ctx, req)
		now := s.now()
		f.Attempts++
		switch {
		case err == nil:
			f.NextAt, f.SentAt, f.LastError = time.Time{}, now, ""
		case now.Sub(f.CreatedAt) >= FulfilmentGiveUp:
			f.NextAt, f.LastError = time.Time{}, "gave up: "+err.Error()
		default:
			f.NextAt, f.LastError = now.Add(backoff(f.Attempts)), err.Error()
		}
		if err != nil {
			s.log.Warn("fulfilment request failed", "order", f.OrderID, "attempts", f.Attempts, "err", err)
		}
		if err := s.store.Write(ctx, func(tx storage.Tx) error { return tx.SetFulfilment(ctx, f) }); err != nil {
			return err
		}
	}
	return nil
}

// post sends one request, signed with the fulfilment key.
func (s *Service) post(ctx context.Context, req Request) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.set.Fulfilment.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(signing.Header, signing.Sign(s.set.Fulfilment.Key, s.now(), body))
	resp, err := s.client.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the commerce system answered %s", resp.Status)
	}
	return nil
}
