package catalog_test

import (
	"testing"

	"replenish/catalog"
)

// FuzzNormalize: any spelling of a price or a category never panics, and
// what is accepted is canonical: normalising it again changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"19.99", " 20 ", "0.125", "-1", "1e3", "NaN", "12,99", "ink", "water filter", "WATER_FILTER", " Coffee Pods "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := catalog.NormalizePrice(s); err == nil {
			if again, err := catalog.NormalizePrice(p); err != nil || again != p {
				t.Fatalf("price %q → %q → %q, %v", s, p, again, err)
			}
		}
		if c, ok := catalog.NormalizeCategory(s); ok {
			if again, ok := catalog.NormalizeCategory(c); !ok || again != c || !catalog.IsCategory(c) {
				t.Fatalf("category %q → %q → %q", s, c, again)
			}
		}
	})
}
