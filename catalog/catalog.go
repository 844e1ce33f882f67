// Package catalog holds what the operator's catalog starts with: the
// marketplaces, the consumable categories, and a placeholder product per
// marketplace for testing; and how a category or a price sent by a client
// is read into its one canonical spelling.
package catalog

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"replenish"
	"replenish/storage"
)

// Marketplaces are seeded at first start. Lead times are ours: a mean and
// a spread in days for a standard delivery.
var Marketplaces = []replenish.Marketplace{
	{Code: "US", Region: "NA", Currency: "USD", Locale: "en-US", LeadDays: 2, LeadSD: 1},
	{Code: "CA", Region: "NA", Currency: "CAD", Locale: "en-CA", LeadDays: 3, LeadSD: 1},
	{Code: "MX", Region: "NA", Currency: "MXN", Locale: "es-MX", LeadDays: 4, LeadSD: 2},
	{Code: "BR", Region: "NA", Currency: "BRL", Locale: "pt-BR", LeadDays: 5, LeadSD: 2},
	{Code: "UK", Region: "EU", Currency: "GBP", Locale: "en-GB", LeadDays: 2, LeadSD: 1},
	{Code: "DE", Region: "EU", Currency: "EUR", Locale: "de-DE", LeadDays: 2, LeadSD: 1},
	{Code: "FR", Region: "EU", Currency: "EUR", Locale: "fr-FR", LeadDays: 2, LeadSD: 1},
	{Code: "IT", Region: "EU", Currency: "EUR", Locale: "it-IT", LeadDays: 3, LeadSD: 1},
	{Code: "ES", Region: "EU", Currency: "EUR", Locale: "es-ES", LeadDays: 3, LeadSD: 1},
	{Code: "NL", Region: "EU", Currency: "EUR", Locale: "nl-NL", LeadDays: 2, LeadSD: 1},
	{Code: "SE", Region: "EU", Currency: "SEK", Locale: "sv-SE", LeadDays: 3, LeadSD: 1},
	{Code: "PL", Region: "EU", Currency: "PLN", Locale: "pl-PL", LeadDays: 3, LeadSD: 1},
	{Code: "BE", Region: "EU", Currency: "EUR", Locale: "nl-BE", LeadDays: 3, LeadSD: 1},
	{Code: "IE", Region: "EU", Currency: "EUR", Locale: "en-IE", LeadDays: 3, LeadSD: 1},
	{Code: "TR", Region: "EU", Currency: "TRY", Locale: "tr-TR", LeadDays: 4, LeadSD: 2},
	{Code: "IN", Region: "EU", Currency: "INR", Locale: "en-IN", LeadDays: 4, LeadSD: 2},
	{Code: "AE", Region: "EU", Currency: "AED", Locale: "en-AE", LeadDays: 3, LeadSD: 1},
	{Code: "SA", Region: "EU", Currency: "SAR", Locale: "ar-SA", LeadDays: 4, LeadSD: 2},
	{Code: "EG", Region: "EU", Currency: "EGP", Locale: "ar-EG", LeadDays: 5, LeadSD: 2},
	{Code: "JP", Region: "FE", Currency: "JPY", Locale: "ja-JP", LeadDays: 2, LeadSD: 1},
	{Code: "AU", Region: "FE", Currency: "AUD", Locale: "en-AU", LeadDays: 4, LeadSD: 2},
	{Code: "SG", Region: "FE", Currency: "SGD", Locale: "en-SG", LeadDays: 3, LeadSD: 1},
}

// Categories are the consumable categories a slot may have.
var Categories = []string{
	"INK", "TONER", "DETERGENT", "SOFTENER", "BLEACH", "DISHWASHER_TABLETS", "DISHWASHER_SALT",
	"RINSE_AID", "COFFEE_PODS", "COFFEE_BEANS", "WATER_FILTER", "AIR_FILTER", "VACUUM_FILTER",
	"VACUUM_BRUSH", "VACUUM_BAGS", "BATTERIES", "PRINT_HEAD", "PAPER", "PET_FOOD", "OTHER",
}

// IsCategory reports whether c is one of Categories, spelled as they are.
func IsCategory(c string) bool { return slices.Contains(Categories, c) }

// NormalizeCategory returns the canonical spelling of s, one of
// Categories, and whether s names one. A client reading "water filter" in
// the contract may send it so: case does not matter, surrounding space is
// dropped, and words may be joined by spaces, hyphens or underscores
// ("Water Filter", "water-filter", "WATER_FILTER"). Only ASCII letters are
// folded, so that no look-alike letter maps onto a category.
func NormalizeCategory(s string) (string, bool) {
	words := strings.FieldsFunc(s, func(r rune) bool {
		return r == '_' || r == '-' || unicode.IsSpace(r)
	})
	c := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, strings.Join(words, "_"))
	if !IsCategory(c) {
		return "", false
	}
	return c, true
}

// PlaceholderProductID is the ID of marketplace mp's placeholder product,
// which every new slot offers until the vendor sets its product list.
func PlaceholderProductID(mp string) string { return "PLACEHOLDER-BATTERIES-" + mp }

// Seed writes the marketplaces and their placeholder products.
func Seed(ctx context.Context, tx storage.Tx) error {
	for _, m := range Marketplaces {
		if err := tx.PutMarketplace(ctx, m); err != nil {
			return err
		}
		p := replenish.Product{
			ProductID: PlaceholderProductID(m.Code), Category: "BATTERIES", PackQuantity: 4, PackUnit: "Count",
			Offers: map[string]replenish.Offer{m.Code: {
				Title: "Placeholder: AA batteries, 4 count (for testing)", Price: "0.00",
				Currency: m.Currency, Available: true,
			}},
		}
		if err := tx.PutProduct(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
