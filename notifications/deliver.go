package notifications

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"replenish/metrics"
	"replenish/signing"
	"replenish/storage"
)

// Batch is how many due notifications one pass reads at once.
const Batch = 100

// GiveUp is how long a notification is tried before it is marked failed.
const GiveUp = 24 * time.Hour

// backoff is the wait after the n-th failed attempt: 10 s, doubling, at
// most an hour.
func backoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// errPermanent marks a failure that retrying will not cure.
var errPermanent = errors.New("refused for good")

// SilentEvery is how often Run looks for devices that stopped reporting.
const SilentEvery = time.Minute

// Run delivers due notifications every interval, and tells customers of
// devices silent for silentAfter every SilentEvery (or a quarter of
// silentAfter, when that is shorter), until ctx ends. It
// works from the database alone, so a restart picks up what the last
// process left, and re-sends only what it had sent without recording it.
func (s *Service) Run(ctx context.Context, every, silentAfter time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	// A short window (a test's, a demo's) is checked often enough to
	// tell in time.
	silentEvery := min(SilentEvery, max(silentAfter/4, every))
	var lastSilent time.Time
	for {
		if time.Since(lastSilent) >= silentEvery {
			lastSilent = time.Now()
			if _, err := s.CheckSilent(ctx, silentAfter); err != nil && ctx.Err() == nil {
				s.log.Error("devices not reporting", "err", err)
			}
		}
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Deliver sends every notification due now, and returns how many were
// delivered.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	delivered := 0
	for {
		var due []storage.Notification
		if err := s.store.Write(ctx, func(tx storage.Tx) (err error) {
			now := s.now()
			due, err = tx.ClaimNotifications(ctx, now, now.Add(s.lease), Batch)
			return err
		}); err != nil {
			return delivered, err
		}
		if len(due) == 0 {
			return delivered, nil
		}
		// Receivers are independent: each gets a goroutine of its own,
		// which sends it its notifications in the order they were
		// written, and records each outcome as soon as it has it, so that
		// a crash re-sends at most the one in flight per receiver.
		byTarget := map[string][]storage.Notification{}
		for _, n := range due {
			byTarget[n.Target] = append(byTarget[n.Target], n)
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			firstErr error
		)
		for _, ns := range byTarget {
			wg.Go(func() {
				for _, n := range ns {
					n = s.attempt(ctx, n)
					err := s.store.Write(ctx, func(tx storage.Tx) error { return tx.SetNotification(ctx, n) })
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					if err == nil && n.Status == storage.NotificationDelivered {
						delivered++
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return delivered, firstErr
		}
		if len(due) < Batch || ctx.Err() != nil {
			return delivered, ctx.Err()
		}
	}
}

// attempt sends n once and returns it with the outcome recorded.
func (s *Service) attempt(ctx context.Context, n storage.Notification) storage.Notification {
	err := s.send(ctx, n)
	now := s.now()
	n.Attempts++
	switch {
	case err == nil:
		n.Status, n.NextAt, n.LastError, n.DeliveredAt = storage.NotificationDelivered, time.Time{}, "", now
		metrics.Delivery(n.Channel, "delivered")
	case errors.Is(err, errPermanent) || now.Sub(n.CreatedAt) >= GiveUp:
		n.Status, n.NextAt, n.LastError = storage.NotificationFailed, time.Time{}, err.Error()
		metrics.Delivery(n.Channel, "failed")
	default:
		n.Status, n.NextAt, n.LastError = storage.NotificationPending, now.Add(backoff(n.Attempts)), err.Error()
		metrics.Delivery(n.Channel, "retry")
	}
	if err != nil {
		s.log.Warn("notification not delivered", "id", n.ID, "channel", n.Channel, "type", n.Type,
			"attempts", n.Attempts, "err", err)
	}
	return n
}

// send delivers n on its channel.
func (s *Service) send(ctx context.Context, n storage.Notification) error {
	switch n.Channel {
	case storage.ChannelVendor, storage.ChannelCustomer:
		secret, err := s.secret(ctx, n)
		if err != nil {
			return err
		}
		return s.post(ctx, n.Target, secret, n.Body)
	case storage.ChannelEmail:
		return s.sendEmail(ctx, n)
	case storage.ChannelDevice:
		if s.directives == nil {
			return fmt.Errorf("%w: MQTT is off, so no directive reaches device %s", errPermanent, n.Target)
		}
		return s.directives.Directive(n.Target, n.Body)
	}
	return fmt.Errorf("%w: unknown channel %q", errPermanent, n.Channel)
}

// secret is the key a webhook is signed with: the vendor's signing secret,
// or the customer's webhook secret.
func (s *Service) secret(ctx context.Context, n storage.Notification) (secret string, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		if n.Channel == storage.ChannelVendor {
			v, err := tx.Vendor(ctx, n.VendorCode)
			secret = v.SigningSecret
			return err
		}
		secret, err = tx.WebhookSecret(ctx, n.CustomerID)
		return err
	})
	return secret, err
}

// post sends a signed webhook. A 2xx is delivered; 408, 429 and 5xx, a
// time-out or a receiver that is down are tried again; any other answer
// is refused for good.
func (s *Service) post(ctx context.Context, url, secret string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(signing.Header, signing.Sign(secret, s.now(), body))
	resp, err := s.client.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch c := resp.StatusCode; {
	case c/100 == 2:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c/100 == 5:
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return fmt.Errorf("%w: the receiver answered %s", errPermanent, resp.Status)
}
