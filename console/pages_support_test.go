package console_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"replenish"
	"replenish/console"
	"replenish/storage/sqldb"
)

// newService returns a console on a fresh, bootstrapped SQLite file.
func newService(t *testing.T) *console.Service {
	t.Helper()
	store, err := sqldb.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "replenish.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s := console.New(store, func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	if _, err := s.Bootstrap(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMissing: the checklist names what submission would refuse, and a
// model that Missing calls ready is accepted.
func TestMissing(t *testing.T) {
	ctx := t.Context()
	s := newService(t)
	if _, err := s.CreateVendor(ctx, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	op := replenish.Principal{Role: replenish.RoleOperator, Name: "op"}
	by := replenish.Principal{Role: replenish.RoleVendor, VendorCode: "acme", Name: "ann"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.CreateModel(ctx, by, "acme", console.NewModel{Kind: replenish.KindSkill, Name: "P", ModelID: "p"})
	must(err)
	_, err = s.AddMarketplace(ctx, by, "acme", "p", "US")
	must(err)

	sameAsSubmission := func(want ...string) {
		t.Helper()
		f, err := s.Missing(ctx, "acme", "p")
		must(err)
		got := slices.Sorted(maps.Keys(f))
		if !slices.Equal(got, want) {
			t.Fatalf("Missing names %v, want %v", got, want)
		}
		_, err = s.SubmitCertification(ctx, by, "acme", "p")
		if len(want) == 0 {
			must(err)
			return
		}
		e, ok := err.(*replenish.Error)
		if !ok || !slices.Equal(slices.Sorted(maps.Keys(e.Fields)), want) {
			t.Fatalf("submission refused with %v, Missing said %v", err, want)
		}
	}
	sameAsSubmission("listings.US.deviceName", "listings.US.image", "listings.US.slotNames.SLOT01",
		"slots.SLOT01.products.US", "slots.SLOT01.replenishmentId")

	_, err = s.SetSlotCategory(ctx, by, "acme", "p", "SLOT01", "INK")
	must(err)
	_, err = s.PutProduct(ctx, replenish.Product{ProductID: "INK-1", Category: "INK", PackQuantity: 1, PackUnit: "Count",
		Offers: map[string]replenish.Offer{"US": {Title: "Ink", Price: "9.99", Currency: "USD", Available: true}}})
	must(err)
	_, err = s.SetSlotProducts(ctx, by, "acme", "p", "SLOT01", "US", []string{"INK-1"})
	must(err)
	_, err = s.PutLocalization(ctx, by, "acme", "p", "US", console.Localization{DeviceName: "Printer", SlotNames: map[string]string{"SLOT01": "Ink"}})
	must(err)
	sameAsSubmission("listings.US.image", "slots.SLOT01.replenishmentId")

	_, _, err = s.PutImage(ctx, by, "acme", "p", "", whitePNG())
	must(err)
	rq, err := s.PutRequest(ctx, by, "acme", "p", "SLOT01", console.RequestInput{SensorType: replenish.SensorLevel,
		Measurement: replenish.Measurement{Type: "Percentage"}, Submit: true})
	must(err)
	threshold := 10.0
	_, err = s.Assign(ctx, op, rq.RequestID, console.Assignment{Threshold: &threshold})
	must(err)
	sameAsSubmission()
}

// whitePNG is a small image on a white background.
func whitePNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, color.White)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
