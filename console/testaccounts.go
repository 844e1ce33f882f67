package console

import (
	"context"
	"slices"

	"replenish"
	"replenish/storage"
)

// MaxTestAccounts is how many test accounts a model may have per marketplace.
const MaxTestAccounts = 10

// Test accounts are who may try a model before it is certified, not part
// of what is certified: a vendor may change them at any time.

// PutTestAccount makes a customer a test account of a model in a marketplace.
func (s *Service) PutTestAccount(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp, customerID string) error {
	action := "add test account " + customerID + " in " + mp
	_, err := s.change(ctx, by, vendorCode, modelID, action, unlocked, func(tx storage.Tx, m replenish.Model) error {
		if !slices.Contains(m.Marketplaces, mp) {
			return notSoldIn(modelID, mp)
		}
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		ids, err := tx.TestAccounts(ctx, vendorCode, modelID, mp)
		if err != nil {
			return err
		}
		if slices.Contains(ids, customerID) {
			return nil
		}
		if len(ids) >= MaxTestAccounts {
			return replenish.Errorf(replenish.EConflict, "model %s already has %d test accounts in %s, the most allowed; remove one first",
				modelID, MaxTestAccounts, mp)
		}
		return tx.PutTestAccount(ctx, vendorCode, modelID, mp, customerID)
	})
	return err
}

// DeleteTestAccount removes a test account.
func (s *Service) DeleteTestAccount(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp, customerID string) error {
	action := "remove test account " + customerID + " in " + mp
	_, err := s.change(ctx, by, vendorCode, modelID, action, unlocked, func(tx storage.Tx, m replenish.Model) error {
		return tx.DeleteTestAccount(ctx, vendorCode, modelID, mp, customerID)
	})
	return err
}

// TestAccounts lists the customer IDs of a model's test accounts in a
// marketplace.
func (s *Service) TestAccounts(ctx context.Context, vendorCode, modelID, mp string) (ids []string, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		m, err := tx.Model(ctx, vendorCode, modelID)
		if err != nil {
			return err
		}
		if !slices.Contains(m.Marketplaces, mp) {
			return notSoldIn(modelID, mp)
		}
		ids, err = tx.TestAccounts(ctx, vendorCode, modelID, mp)
		return err
	})
	return ids, err
}

// IsTestAccount reports whether a customer is a test account of a model,
// in any marketplace.
func (s *Service) IsTestAccount(ctx context.Context, vendorCode, modelID, customerID string) (ok bool, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		ok, err = tx.IsTestAccount(ctx, vendorCode, modelID, customerID)
		return err
	})
	return ok, err
}
