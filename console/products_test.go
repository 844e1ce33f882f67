package console_test

import (
	"slices"
	"testing"

	"replenish"
	"replenish/catalog"
)

// TestOffered: a slot's choice in a marketplace is the products of its
// category with an available offer there, and nothing else.
func TestOffered(t *testing.T) {
	ctx := t.Context()
	s := newService(t)
	offer := func(available bool) replenish.Offer {
		return replenish.Offer{Title: "t", Price: "1.00", Currency: "USD", Available: available}
	}
	for _, p := range []replenish.Product{
		{ProductID: "INK-B", Category: "INK", Offers: map[string]replenish.Offer{"US": offer(true)}},
		{ProductID: "INK-A", Category: "INK", Offers: map[string]replenish.Offer{"US": offer(true), "CA": {Title: "t", Price: "1.00", Currency: "CAD", Available: true}}},
		{ProductID: "INK-GONE", Category: "INK", Offers: map[string]replenish.Offer{"US": offer(false)}},
		{ProductID: "INK-CA", Category: "INK", Offers: map[string]replenish.Offer{"CA": {Title: "t", Price: "1.00", Currency: "CAD", Available: true}}},
		{ProductID: "TONER-1", Category: "TONER", Offers: map[string]replenish.Offer{"US": offer(true)}},
	} {
		p.PackQuantity, p.PackUnit = 1, "Count"
		if _, err := s.PutProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(category, mp string) []string {
		t.Helper()
		ps, err := s.Offered(ctx, category, mp)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.ProductID)
		}
		return out
	}
	for _, c := range []struct {
		category, mp string
		want         []string
	}{
		{"INK", "US", []string{"INK-A", "INK-B"}},
		{"INK", "CA", []string{"INK-A", "INK-CA"}},
		{"TONER", "US", []string{"TONER-1"}},
		{"TONER", "CA", nil},
		{"BATTERIES", "US", []string{catalog.PlaceholderProductID("US")}},
		{"", "US", nil},
		{"ink", "US", []string{"INK-A", "INK-B"}},
		{" Toner ", "US", []string{"TONER-1"}},
		{"cheese", "US", nil},
	} {
		if got := ids(c.category, c.mp); !slices.Equal(got, c.want) {
			t.Errorf("Offered(%q, %q) = %v, want %v", c.category, c.mp, got, c.want)
		}
	}
	all, err := s.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(all); n != 5+len(catalog.Marketplaces) {
		t.Errorf("Products lists %d, want the 5 added and %d placeholders", n, len(catalog.Marketplaces))
	}
}
