package notifications

import (
	"context"
	"log/slog"
	"time"

	"replenish/storage"
)

// retentionBatch is how many notifications one transaction deletes, so
// that the writes of events are never held up for long.
const retentionBatch = 5000

// DropDone deletes the notifications written more than keep ago that are
// done with (delivered, failed for good, kept), a batch per transaction,
// and returns how many it deleted. Pending ones stay whatever their age.
func (s *Service) DropDone(ctx context.Context, keep time.Duration) (int, error) {
	before := s.now().Add(-keep)
	total := 0
	for {
		var n int
		err := s.store.Write(ctx, func(tx storage.Tx) (err error) {
			n, err = tx.DeleteNotifications(ctx, before, retentionBatch)
			return err
		})
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
	}
}

// KeepDone deletes notifications done with and older than keep every
// every, until ctx ends.
func (s *Service) KeepDone(ctx context.Context, keep, every time.Duration, log *slog.Logger) {
	for {
		n, err := s.DropDone(ctx, keep)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("deleting old notifications", "err", err)
		case n > 0:
			log.Info("deleted old notifications", "notifications", n, "older than", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
