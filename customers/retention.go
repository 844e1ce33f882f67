package customers

import (
	"context"
	"log/slog"
	"time"

	"replenish/storage"
)

// retentionBatch is how many readings one transaction deletes, so that the
// gateway's writes are never held up for long.
const retentionBatch = 5000

// DropReadings deletes the readings received more than keep ago, a batch
// per transaction, and returns how many it deleted. Deleting by time, it
// is safe to run again after a restart: nothing is deleted twice.
func (s *Service) DropReadings(ctx context.Context, keep time.Duration) (int, error) {
	before := s.now().Add(-keep)
	total := 0
	for {
		var n int
		err := s.store.Write(ctx, func(tx storage.Tx) (err error) {
			n, err = tx.DeleteReadings(ctx, before, retentionBatch)
			return err
		})
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
	}
}

// KeepReadings deletes readings older than keep every every, until ctx
// ends.
func (s *Service) KeepReadings(ctx context.Context, keep, every time.Duration, log *slog.Logger) {
	for {
		n, err := s.DropReadings(ctx, keep)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("deleting old readings", "err", err)
		case n > 0:
			log.Info("deleted old readings", "readings", n, "older than", keep)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
