package catalog_test

import (
	"strings"
	"testing"

	"replenish/catalog"
)

// TestNormalizeCategory: every reasonable spelling of a category gives its
// canonical form; anything else is no category.
func TestNormalizeCategory(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"INK", "INK", true},
		{"ink", "INK", true},
		{"Ink", "INK", true},
		{"  ink\t", "INK", true},
		{"water filter", "WATER_FILTER", true},
		{"water-filter", "WATER_FILTER", true},
		{"Water_Filter", "WATER_FILTER", true},
		{"WATER_FILTER", "WATER_FILTER", true},
		{" Coffee Pods ", "COFFEE_PODS", true},
		{"coffee  pods", "COFFEE_PODS", true},
		{"dishwasher-tablets", "DISHWASHER_TABLETS", true},
		{"rinse aid", "RINSE_AID", true},
		{"other", "OTHER", true},
		{"", "", false},
		{"   ", "", false},
		{"cheese", "", false},
		{"waterfilter", "", false},
		{"water.filter", "", false},
		{"inks", "", false},
		{"ınk", "", false}, // dotless i: no look-alike folds onto INK
		{"ＩＮＫ", "", false}, // full-width letters
	} {
		got, ok := catalog.NormalizeCategory(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalizeCategory(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// Every category's own spelling, and its lower-case, spaced one, is itself.
	for _, c := range catalog.Categories {
		for _, in := range []string{c, strings.ToLower(c), strings.ReplaceAll(strings.ToLower(c), "_", " ")} {
			if got, ok := catalog.NormalizeCategory(in); got != c || !ok {
				t.Errorf("NormalizeCategory(%q) = %q, %v; want %q, true", in, got, ok, c)
			}
		}
	}
}

// TestNormalizePrice: a non-negative decimal, given as a string or as a
// JSON number's text, is kept exact in one spelling; anything else is
// refused with a reason.
func TestNormalizePrice(t *testing.T) {
	for _, c := range []struct {
		in, want string
		problem  string // part of the error's text; "" when accepted
	}{
		{"19.99", "19.99", ""},
		{"20", "20.00", ""},
		{"19.9", "19.90", ""},
		{"19.990", "19.99", ""},
		{"19.9900", "19.99", ""},
		{"0.125", "0.125", ""},
		{"0", "0.00", ""},
		{"0.00", "0.00", ""},
		{"007.50", "7.50", ""},
		{" 12.99 ", "12.99", ""},
		{"999999999.999", "999999999.999", ""},
		{"0000000001.5", "1.50", ""},
		{"-1", "", "negative"},
		{"-0.01", "", "negative"},
		{"1e400", "", "exponent"},
		{"1.999E1", "", "exponent"},
		{"2e-2", "", "exponent"},
		{"1000000000", "", "less than"},
		{"19.9999", "", "3 decimal places"},
		{"19.99000000000000000001", "", "3 decimal places"}, // a float64 would read 19.99
		{"9007199254740993", "", "less than"},
		{"", "", "decimal amount"},
		{"abc", "", "decimal amount"},
		{"twelve", "", "decimal amount"},
		{"NaN", "", "decimal amount"},
		{"Infinity", "", "decimal amount"},
		{"12,99", "", "decimal amount"},
		{"$12.99", "", "decimal amount"},
		{"+12", "", "decimal amount"},
		{".5", "", "decimal amount"},
		{"5.", "", "decimal amount"},
		{"1 2", "", "decimal amount"},
		{"0x10", "", "decimal amount"},
		{"true", "", "decimal amount"},
		{"null", "", "decimal amount"},
		{"١٢", "", "decimal amount"}, // Arabic-Indic digits
	} {
		got, err := catalog.NormalizePrice(c.in)
		switch {
		case c.problem == "" && (err != nil || got != c.want):
			t.Errorf("NormalizePrice(%q) = %q, %v; want %q", c.in, got, err, c.want)
		case c.problem != "" && (err == nil || !strings.Contains(err.Error(), c.problem)):
			t.Errorf("NormalizePrice(%q) = %q, %v; want an error saying %q", c.in, got, err, c.problem)
		}
	}
}
