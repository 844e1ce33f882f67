package notifications

import (
	"context"
	"fmt"
	"time"

	"replenish"
	"replenish/storage"
)

// CheckSilent tells each customer, once, of each device that sent no
// reading for after; the device is told of again only after it reported
// since. It returns how many devices it told of.
func (s *Service) CheckSilent(ctx context.Context, after time.Duration) (int, error) {
	told := 0
	for {
		n := 0
		err := s.store.Write(ctx, func(tx storage.Tx) error {
			n = 0
			now := s.now()
			silent, err := tx.SilentEndpoints(ctx, now.Add(-after), Batch)
			if err != nil {
				return err
			}
			for _, se := range silent {
				// Another instance may be telling of the same device: the
				// one whose mark lands tells.
				marked, err := tx.MarkSilentTold(ctx, se.CustomerID, se.EndpointID, se.Newest, now)
				if err != nil {
					return err
				}
				if !marked {
					continue
				}
				e, err := tx.Endpoint(ctx, se.CustomerID, se.EndpointID)
				if err != nil {
					return err
				}
				msg, err := silentMessage(ctx, tx, e, se.Newest)
				if err != nil {
					return err
				}
				if err := s.Customer(ctx, tx, replenish.FeedEntry{CustomerID: se.CustomerID, Type: replenish.FeedNotReporting,
					EndpointID: se.EndpointID, CreatedAt: now, Message: msg}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		told += n
		if err != nil || n < Batch {
			return told, err
		}
	}
}

// silentMessage tells a customer that a device stopped reporting, and
// what to check. A CONNECT_KIT device's own session says more: whether it
// dropped its connection, and when, or is connected yet sends nothing.
func silentMessage(ctx context.Context, tx storage.Tx, e replenish.Endpoint, newest time.Time) (string, error) {
	const layout = "2006-01-02 15:04 MST"
	msg := fmt.Sprintf("%s has not reported its supplies since %s.", e.FriendlyName, newest.Format(layout))
	d, _, err := tx.Device(ctx, e.EndpointID)
	if replenish.ErrorCode(err) == replenish.ENotFound || (err == nil && d.CustomerID != e.CustomerID) {
		return msg + " Check that it is on and connected.", nil
	}
	if err != nil {
		return "", err
	}
	switch d.Connectivity {
	case replenish.ConnectivityOffline:
		return msg + fmt.Sprintf(" It went offline at %s: check that it is on and that its Wi-Fi reaches the internet.",
			d.LastSeenAt.Format(layout)), nil
	case replenish.ConnectivityOnline:
		return msg + " It is connected but sends no readings: restart it, and if that does not help, ask its maker.", nil
	}
	return msg + " It has never connected: check that it is on and set up.", nil
}
