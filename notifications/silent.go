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
				if err := s.Customer(ctx, tx, replenish.FeedEntry{CustomerID: se.CustomerID, Type: replenish.FeedNotReporting,
					EndpointID: se.EndpointID, CreatedAt: now,
					Message: fmt.Sprintf("%s has not reported its supplies since %s. Check that it is on and connected.",
						e.FriendlyName, se.Newest.Format("2006-01-02 15:04 MST"))}); err != nil {
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
