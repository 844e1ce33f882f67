package console

import (
	"context"

	"replenish"
	"replenish/storage"
)

// Missing lists, field by field, what a model still lacks for
// certification in all its marketplaces, exactly as SubmitCertification
// would name it; empty when it is ready. The certification page shows it
// as a checklist before the vendor submits.
func (s *Service) Missing(ctx context.Context, vendorCode, modelID string) (f replenish.Fields, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		m, err := tx.Model(ctx, vendorCode, modelID)
		if err != nil {
			return err
		}
		f = missing(m, m.Marketplaces)
		return nil
	})
	return f, err
}
