package console

import (
	"context"

	"replenish"
	"replenish/catalog"
	"replenish/storage"
)

// Products lists the catalog's products, by product ID.
func (s *Service) Products(ctx context.Context) (ps []replenish.Product, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		ps, err = tx.Products(ctx)
		return err
	})
	return ps, err
}

// Offered lists the products the vendor picks a slot's list from in
// marketplace mp: the catalog's products of category with an available
// offer there, by product ID. A list may keep a product that is out of
// stock for now (SetSlotProducts takes any offer), but a new choice is
// made among those available. The category may be spelled as
// catalog.NormalizeCategory reads it; an unknown one offers nothing.
func (s *Service) Offered(ctx context.Context, category, mp string) ([]replenish.Product, error) {
	category, ok := catalog.NormalizeCategory(category)
	if !ok {
		return nil, nil
	}
	all, err := s.Products(ctx)
	if err != nil {
		return nil, err
	}
	var out []replenish.Product
	for _, p := range all {
		if o, ok := p.Offers[mp]; ok && o.Available && p.Category == category {
			out = append(out, p)
		}
	}
	return out, nil
}
