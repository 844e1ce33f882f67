package console_test

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"replenish"
	"replenish/console"
)

// TestPutProductNormalizes: a product is stored, and returned, in one
// spelling whatever reasonable spelling the client used; a refused
// product names its fields and is not stored.
func TestPutProductNormalizes(t *testing.T) {
	ctx := t.Context()
	s := newService(t)
	product := func(category string, offers map[string]replenish.Offer) replenish.Product {
		return replenish.Product{ProductID: "P-1", Category: category, PackQuantity: 2, PackUnit: "Count", Offers: offers}
	}
	offer := func(price, currency string) replenish.Offer {
		return replenish.Offer{Title: "Filter", Price: price, Currency: currency, Available: true}
	}
	for _, c := range []struct {
		name string
		in   replenish.Product
		want replenish.Product // zero when refused
		bad  []string          // the refused fields
	}{
		{"canonical", product("WATER_FILTER", map[string]replenish.Offer{"US": offer("19.99", "USD")}),
			product("WATER_FILTER", map[string]replenish.Offer{"US": offer("19.99", "USD")}), nil},
		{"spaced category, whole price", product("water filter", map[string]replenish.Offer{"US": offer("20", "USD")}),
			product("WATER_FILTER", map[string]replenish.Offer{"US": offer("20.00", "USD")}), nil},
		{"hyphens, one decimal", product("Water-Filter", map[string]replenish.Offer{"US": offer("19.9", "USD")}),
			product("WATER_FILTER", map[string]replenish.Offer{"US": offer("19.90", "USD")}), nil},
		{"lower-case codes", product(" coffee pods ", map[string]replenish.Offer{"us": offer(" 19.990 ", "usd"), "de": offer("0.125", "eur")}),
			product("COFFEE_PODS", map[string]replenish.Offer{"US": offer("19.99", "USD"), "DE": offer("0.125", "EUR")}), nil},
		{"unknown category", product("cheese", map[string]replenish.Offer{"US": offer("1", "USD")}), replenish.Product{}, []string{"category"}},
		{"negative price", product("INK", map[string]replenish.Offer{"US": offer("-1", "USD")}), replenish.Product{}, []string{"offers.US.price"}},
		{"exponent", product("INK", map[string]replenish.Offer{"US": offer("1e400", "USD")}), replenish.Product{}, []string{"offers.US.price"}},
		{"not a number", product("INK", map[string]replenish.Offer{"us": offer("abc", "USD")}), replenish.Product{}, []string{"offers.us.price"}},
		{"four decimals", product("INK", map[string]replenish.Offer{"US": offer("1.2345", "USD")}), replenish.Product{}, []string{"offers.US.price"}},
		{"wrong currency", product("INK", map[string]replenish.Offer{"de": offer("1", "usd")}), replenish.Product{}, []string{"offers.de.currency"}},
		{"one marketplace twice", product("INK", map[string]replenish.Offer{"US": offer("1", "USD"), "us": offer("2", "USD")}),
			replenish.Product{}, []string{"offers.us"}},
		{"unknown marketplace", product("INK", map[string]replenish.Offer{"xx": offer("1", "USD")}), replenish.Product{}, []string{"offers.xx"}},
	} {
		before, err := s.Products(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PutProduct(ctx, c.in)
		if c.bad != nil {
			e, ok := err.(*replenish.Error)
			if !ok || e.Code != replenish.EInvalid || !slices.Equal(slices.Sorted(maps.Keys(e.Fields)), c.bad) {
				t.Errorf("%s: PutProduct = %v, want invalid naming %v", c.name, err, c.bad)
			}
			if after, _ := s.Products(ctx); !reflect.DeepEqual(after, before) {
				t.Errorf("%s: a refused product changed the catalog", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: PutProduct: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: PutProduct returned %+v, want %+v", c.name, got, c.want)
		}
		all, err := s.Products(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(all, func(p replenish.Product) bool { return p.ProductID == "P-1" }); i < 0 || !reflect.DeepEqual(all[i], c.want) {
			t.Errorf("%s: stored %+v, want %+v", c.name, all, c.want)
		}
	}
}

// TestSlotCategoryNormalizes: adding a slot and changing its category
// store the canonical category whatever its spelling, and refuse an
// unknown one by its field.
func TestSlotCategoryNormalizes(t *testing.T) {
	ctx := t.Context()
	s := newService(t)
	if _, err := s.CreateVendor(ctx, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	by := replenish.Principal{Role: replenish.RoleVendor, VendorCode: "acme", Name: "ann"}
	if _, err := s.CreateModel(ctx, by, "acme", console.NewModel{Kind: replenish.KindSkill, Name: "P", ModelID: "p"}); err != nil {
		t.Fatal(err)
	}
	category := func(m replenish.Model, slotID string) string {
		for _, sl := range m.Slots {
			if sl.SlotID == slotID {
				return sl.Category
			}
		}
		t.Fatalf("no slot %s in %+v", slotID, m.Slots)
		return ""
	}
	for i, c := range []struct{ in, want string }{
		{"ink", "INK"},
		{"Water Filter", "WATER_FILTER"},
		{"dishwasher-salt", "DISHWASHER_SALT"},
		{" Coffee Pods ", "COFFEE_PODS"},
		{"VACUUM_BAGS", "VACUUM_BAGS"},
	} {
		slotID := "S" + string(rune('A'+i))
		m, err := s.AddSlot(ctx, by, "acme", "p", slotID, c.in)
		if err != nil {
			t.Fatalf("AddSlot(%q): %v", c.in, err)
		}
		if got := category(m, slotID); got != c.want {
			t.Errorf("AddSlot(%q): category %q, want %q", c.in, got, c.want)
		}
		m, err = s.SetSlotCategory(ctx, by, "acme", "p", "SLOT01", c.in)
		if err != nil {
			t.Fatalf("SetSlotCategory(%q): %v", c.in, err)
		}
		if got := category(m, "SLOT01"); got != c.want {
			t.Errorf("SetSlotCategory(%q): category %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "cheese", "water.filter", "inks"} {
		_, err := s.AddSlot(ctx, by, "acme", "p", "SZ", bad)
		if e, ok := err.(*replenish.Error); !ok || e.Fields["category"] == "" {
			t.Errorf("AddSlot(%q) = %v, want a refusal naming category", bad, err)
		}
		_, err = s.SetSlotCategory(ctx, by, "acme", "p", "SLOT01", bad)
		if e, ok := err.(*replenish.Error); !ok || e.Fields["category"] == "" {
			t.Errorf("SetSlotCategory(%q) = %v, want a refusal naming category", bad, err)
		}
	}
}
