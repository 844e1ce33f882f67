package storagetest

import (
	"context"
	"encoding/json"
	"testing"

	"replenish"
	"replenish/storage"
)

// The console's storage: model changes and deletion, retired
// replenishment IDs, listings, images, the audit log, API keys by ID and
// the client secret.

func getModel(t *testing.T, s storage.Store, vendorCode, id string) replenish.Model {
	t.Helper()
	var m replenish.Model
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		m, err = tx.Model(ctx, vendorCode, id)
		return err
	})
	return m
}

func testUpdateModel(t *testing.T, s storage.Store) {
	seed(t, s)
	m := getModel(t, s, vendorA, modelID)
	m.Name, m.DeviceType, m.Certification, m.CertificationReason = "Renamed", "PRINTER2", replenish.CertRejected, "blurry image"
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateModel(ctx, m) })
	got := getModel(t, s, vendorA, modelID)
	wantEqual(t, "updated model", [4]string{got.Name, got.DeviceType, got.Certification, got.CertificationReason},
		[4]string{"Renamed", "PRINTER2", replenish.CertRejected, "blurry image"})
	m.ModelID = "nope"
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.UpdateModel(ctx, m) }),
		replenish.ENotFound, "UpdateModel of an unknown model")
}

func testListings(t *testing.T, s storage.Store) {
	seed(t, s)
	// A marketplace added is a draft listing without names.
	if l := getModel(t, s, vendorA, modelID).Listings["US"]; l.Status != replenish.ListingDraft || l.DeviceName != "" || len(l.SlotNames) != 0 {
		t.Errorf("a new listing = %+v", l)
	}
	l := replenish.Listing{Status: replenish.ListingSubmitted, DeviceName: "Printer", RejectReason: "r",
		SlotNames: map[string]string{slotID: "Black ink"}}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutListing(ctx, vendorA, modelID, "US", l) })
	wantEqual(t, "listing", getModel(t, s, vendorA, modelID).Listings["US"], l)
	// Slot names are replaced, not merged.
	l.SlotNames = map[string]string{}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutListing(ctx, vendorA, modelID, "US", l) })
	wantEqual(t, "listing without slot names", getModel(t, s, vendorA, modelID).Listings["US"], l)
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutListing(ctx, vendorA, modelID, "DE", l) }),
		replenish.ENotFound, "PutListing in a marketplace the model is not in")
	// Removing a marketplace removes its listing, product lists and image.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.SetSlotProducts(ctx, vendorA, modelID, slotID, "US", []string{"PLACEHOLDER-BATTERIES-US"}),
			tx.PutImage(ctx, vendorA, modelID, "US", replenish.Image{ImageInfo: replenish.ImageInfo{ContentType: "image/png", UpdatedAt: t0}, Data: []byte("x")}),
			tx.RemoveModelMarketplace(ctx, vendorA, modelID, "US"))
	})
	m := getModel(t, s, vendorA, modelID)
	if len(m.Marketplaces) != 0 || len(m.Listings) != 0 || len(m.Slots[0].Products) != 0 {
		t.Errorf("after removing US: marketplaces %v, listings %v, products %v", m.Marketplaces, m.Listings, m.Slots[0].Products)
	}
	wantCode(t, tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Image(ctx, vendorA, modelID, "US")
		return err
	}),
		replenish.ENotFound, "the removed marketplace's image")
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.RemoveModelMarketplace(ctx, vendorA, modelID, "US")
	}),
		replenish.ENotFound, "removing a marketplace twice")
}

func testImages(t *testing.T, s storage.Store) {
	seed(t, s)
	def := replenish.Image{ImageInfo: replenish.ImageInfo{ContentType: "image/png", Width: 3, Height: 2, Bytes: 4, UpdatedAt: t0}, Data: []byte{1, 2, 3, 4}}
	us := replenish.Image{ImageInfo: replenish.ImageInfo{ContentType: "image/gif", Width: 1, Height: 1, Bytes: 2, UpdatedAt: t1}, Data: []byte{9, 9}}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.PutImage(ctx, vendorA, modelID, "", def), tx.PutImage(ctx, vendorA, modelID, "US", us))
	})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		gotDef, err := tx.Image(ctx, vendorA, modelID, "")
		if err != nil {
			return err
		}
		gotUS, err := tx.Image(ctx, vendorA, modelID, "US")
		wantEqual(t, "default image", gotDef, def)
		wantEqual(t, "US image", gotUS, us)
		return err
	})
	m := getModel(t, s, vendorA, modelID)
	if m.Image == nil || *m.Image != def.ImageInfo || m.Listings["US"].Image == nil || *m.Listings["US"].Image != us.ImageInfo {
		t.Errorf("model's images: %+v, US %+v", m.Image, m.Listings["US"].Image)
	}
	// Putting again replaces.
	def.Data, def.Bytes, def.ContentType = []byte{7}, 1, "image/bmp"
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutImage(ctx, vendorA, modelID, "", def) })
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, err := tx.Image(ctx, vendorA, modelID, "")
		wantEqual(t, "replaced image", got, def)
		return err
	})
	wantCode(t, tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Image(ctx, vendorA, modelID, "DE")
		return err
	}),
		replenish.ENotFound, "an image never put")
}

func testAudit(t *testing.T, s storage.Store) {
	seed(t, s)
	entries := []replenish.AuditEntry{
		{At: t0, Actor: "operator key ab", VendorCode: vendorA, ModelID: modelID, Action: "rename",
			Before: json.RawMessage(`{"name":"a"}`), After: json.RawMessage(`{"name":"b"}`)},
		{At: t1, Actor: "operator op@example.com", VendorCode: vendorA, ModelID: "P2", Action: "create model",
			Before: json.RawMessage(`null`), After: json.RawMessage(`{"modelId":"P2"}`)},
		{At: t1, Actor: "operator key ab", VendorCode: vendorB, ModelID: modelID, Action: "delete model",
			Before: json.RawMessage(`{"modelId":"P1"}`), After: json.RawMessage(`null`)},
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		for _, e := range entries {
			if err := tx.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	actions := func(vendorCode, model string) []string {
		var es []replenish.AuditEntry
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			es, err = tx.Audit(ctx, vendorCode, model)
			return err
		})
		out := []string{}
		for _, e := range es {
			out = append(out, e.Action)
			if e.ID == 0 {
				t.Errorf("audit entry %q has no ID", e.Action)
			}
		}
		return out
	}
	wantEqual(t, "all", actions("", ""), []string{"rename", "create model", "delete model"})
	wantEqual(t, "acme's", actions(vendorA, ""), []string{"rename", "create model"})
	wantEqual(t, "acme's P1", actions(vendorA, modelID), []string{"rename"})
	wantEqual(t, "globex's P1", actions(vendorB, modelID), []string{"delete model"})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		es, err := tx.Audit(ctx, vendorA, modelID)
		if err == nil && len(es) == 1 {
			e := es[0]
			e.ID = 0
			wantEqual(t, "entry as stored", e, entries[0])
		}
		return err
	})
}

func testAPIKeysByID(t *testing.T, s storage.Store) {
	seed(t, s)
	ven := replenish.Principal{Role: replenish.RoleVendor, VendorCode: vendorA}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertAPIKey(ctx, []byte("hash-one-0123456789"), ven, t0),
			tx.InsertAPIKey(ctx, []byte("hash-two-0123456789"), ven, t1),
			tx.InsertAPIKey(ctx, []byte("hash-op-0123456789"), replenish.Principal{Role: replenish.RoleOperator}, t0))
	})
	var keys []replenish.APIKey
	var one replenish.Principal
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		if keys, err = tx.APIKeys(ctx, vendorA); err != nil {
			return err
		}
		one, err = tx.PrincipalByKey(ctx, []byte("hash-one-0123456789"))
		return err
	})
	if len(keys) != 2 || keys[0].KeyID != one.KeyID || !keys[0].CreatedAt.Equal(t0) || !keys[1].CreatedAt.Equal(t1) || keys[0].KeyID == keys[1].KeyID {
		t.Fatalf("acme's keys %+v; the first's principal has key ID %q", keys, one.KeyID)
	}
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, vendorB, one.KeyID) }),
		replenish.ENotFound, "another vendor deleting acme's key")
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteAPIKey(ctx, vendorA, one.KeyID) })
	wantCode(t, tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.PrincipalByKey(ctx, []byte("hash-one-0123456789"))
		return err
	}), replenish.ENotFound, "a deleted key")
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) { keys, err = tx.APIKeys(ctx, vendorA); return err })
	if len(keys) != 1 {
		t.Errorf("keys after deleting one: %+v", keys)
	}
}

func testClientSecret(t *testing.T, s storage.Store) {
	seed(t, s)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetClientSecret(ctx, vendorA, []byte("new-hash"))
	})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, hash, err := tx.VendorByClientID(ctx, vendorA+"-client")
		wantEqual(t, "client secret hash", string(hash), "new-hash")
		return err
	})
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetClientSecret(ctx, "nobody", []byte("x")) }),
		replenish.ENotFound, "SetClientSecret of an unknown vendor")
}

func testRetireAndDelete(t *testing.T, s storage.Store) {
	seed(t, s)
	putEndpoint(t, s, endpoint(cust1, "E1", "Printer"))
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: "cyan", Category: "INK"}),
			tx.PutListing(ctx, vendorA, modelID, "US", replenish.Listing{Status: replenish.ListingDraft, DeviceName: "P",
				SlotNames: map[string]string{slotID: "Black", "cyan": "Cyan"}}))
	})
	// A slot whose request is deleted: its replenishment ID names nothing,
	// and its endpoint slots are gone.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.DeleteRequest(ctx, requestID, t1), tx.DeleteSlot(ctx, vendorA, modelID, slotID))
	})
	wantCode(t, tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.RequestByReplenishmentID(ctx, rid)
		return err
	}),
		replenish.ENotFound, "a retired replenishment ID")
	if e := getEndpoint(t, s, cust1, "E1"); len(e.Slots) != 0 {
		t.Errorf("the endpoint still has the retired slot: %+v", e.Slots)
	}
	m := getModel(t, s, vendorA, modelID)
	if len(m.Slots) != 1 || m.Slots[0].SlotID != "cyan" || len(m.Listings["US"].SlotNames) != 1 {
		t.Errorf("after removing the slot: slots %+v, names %v", m.Slots, m.Listings["US"].SlotNames)
	}
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteRequest(ctx, requestID, t1) }),
		replenish.ENotFound, "deleting a request twice")
	wantCode(t, tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.DeleteSlot(ctx, vendorA, modelID, slotID) }),
		replenish.ENotFound, "deleting a slot twice")
	// Deleting the model takes everything under it.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.PutTestAccount(ctx, vendorA, modelID, "US", cust1),
			tx.PutImage(ctx, vendorA, modelID, "", replenish.Image{ImageInfo: replenish.ImageInfo{ContentType: "image/png", UpdatedAt: t0}, Data: []byte("x")}),
			tx.DeleteModel(ctx, vendorA, modelID))
	})
	wantCode(t, tryRead(t, s, func(ctx context.Context, tx storage.Tx) error { _, err := tx.Model(ctx, vendorA, modelID); return err }),
		replenish.ENotFound, "a deleted model")
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		ok, err := tx.IsTestAccount(ctx, vendorA, modelID, cust1)
		if ok {
			t.Error("a deleted model's test account remains")
		}
		return err
	})
	// The same ID makes a new, empty model.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertModel(ctx, model(vendorA, modelID, t1))
	})
	if m := getModel(t, s, vendorA, modelID); m.Image != nil || len(m.Slots) != 0 || len(m.Marketplaces) != 0 {
		t.Errorf("a model made again inherits %+v", m)
	}
}
