package console_test

import (
	"testing"

	"replenish"
	"replenish/console"
)

func TestCustomerNames(t *testing.T) {
	m := replenish.Model{Name: "PX-100 (internal)", Marketplaces: []string{"US", "DE", "UK", "FR"},
		Slots: []replenish.Slot{{SlotID: "black"}, {SlotID: "cyan"}},
		Listings: map[string]replenish.Listing{
			"US": {DeviceName: "Printer", SlotNames: map[string]string{"black": "Black ink", "cyan": "Cyan ink"}},
			"DE": {DeviceName: "Drucker", SlotNames: map[string]string{"black": "Schwarz"}},
			"UK": {DeviceName: "", SlotNames: map[string]string{}},
			"FR": {DeviceName: "Imprimante", SlotNames: map[string]string{"black": "Noir"}},
		}}
	for _, c := range []struct {
		name, mp, locale    string
		device, black, cyan string
	}{
		{"own marketplace", "US", "en-US", "Printer", "Black ink", "Cyan ink"},
		{"missing slot name: same language elsewhere first", "DE", "de-DE", "Drucker", "Schwarz", "Cyan ink"},
		{"empty listing: a listing in the customer's language", "UK", "en-GB", "Printer", "Black ink", "Cyan ink"},
		{"not sold there: a listing in the customer's language", "AT", "de-AT", "Drucker", "Schwarz", "Cyan ink"},
		{"not sold there, French customer in Belgium", "BE", "fr-BE", "Imprimante", "Noir", "Cyan ink"},
		{"no listing in the language: the first with a name", "JP", "ja-JP", "Printer", "Black ink", "Cyan ink"},
	} {
		n := console.CustomerNames(m, c.mp, c.locale)
		if n.DeviceName != c.device || n.SlotNames["black"] != c.black || n.SlotNames["cyan"] != c.cyan {
			t.Errorf("%s: %+v, want %s / %s / %s", c.name, n, c.device, c.black, c.cyan)
		}
	}
	// Without any listing, the model's name and the slot IDs.
	bare := replenish.Model{Name: "PX", Slots: []replenish.Slot{{SlotID: "black"}}}
	if n := console.CustomerNames(bare, "US", "en-US"); n.DeviceName != "PX" || n.SlotNames["black"] != "black" {
		t.Errorf("bare model: %+v", n)
	}
}
