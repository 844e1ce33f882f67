// Package storagetest is the conformance suite of storage.Store. Every
// implementation runs it from its own tests:
//
//	storagetest.Run(t, func(t *testing.T) storage.Store { ... })
//
// It tests behaviour through the storage interfaces only, never through
// SQL, so that the same suite holds any implementation to the same contract.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"replenish"
	"replenish/catalog"
	"replenish/measure"
	"replenish/storage"
)

// Run runs the suite. open must return a new, empty store each time it is
// called and close it when t ends (t.Cleanup); every subtest gets its own.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"Ping", testPing},
		{"WriteCommits", testWriteCommits},
		{"WriteRollsBackOnError", testWriteRollsBack},
		{"ReadIsReadOnly", testReadIsReadOnly},
		{"NotFound", testNotFound},
		{"Conflict", testConflict},
		{"Catalog", testCatalog},
		{"APIKeys", testAPIKeys},
		{"Models", testModels},
		{"Requests", testRequests},
		{"TestAccounts", testTestAccounts},
		{"Links", testLinks},
		{"Grants", testGrants},
		{"LinkStates", testLinkStates},
		{"GranteeTokens", testGranteeTokens},
		{"Endpoints", testEndpoints},
		{"SlotState", testSlotState},
		{"WriteLookups", testWriteLookups},
		{"Events", testEvents},
		{"Readings", testReadings},
		{"Orders", testOrders},
		{"OrderTimers", testOrderTimers},
		{"OrderLists", testOrderLists},
		{"Fulfilments", testFulfilments},
		{"SlotHistory", testSlotHistory},
		{"CustomerName", testCustomerName},
		{"RenamedInstance", testRenamedInstance},
		{"Notifications", testNotifications},
		{"DeleteNotifications", testDeleteNotifications},
		{"SilentEndpoints", testSilentEndpoints},
		{"NotificationSettings", testNotificationSettings},
		{"FeedRead", testFeedRead},
		{"CalendarTokens", testCalendarTokens},
		{"HomeAssistant", testHomeAssistant},
		{"Devices", testDevices},
		{"Feed", testFeed},
		{"ConcurrentWrites", testConcurrentWrites},
		{"GroupFailingMember", testGroupFailingMember},
		{"GroupSameRows", testGroupSameRows},
		{"GroupConcurrentDurable", testGroupConcurrentDurable},
		{"GroupPanic", testGroupPanic},
		{"GroupCanceled", testGroupCanceled},
		{"DeleteEndpoint", testDeleteEndpoint},
		{"HouseholdChanges", testHouseholdChanges},
		{"Users", testUsers},
		{"UpdateModel", testUpdateModel},
		{"Listings", testListings},
		{"Images", testImages},
		{"Audit", testAudit},
		{"APIKeysByID", testAPIKeysByID},
		{"ClientSecret", testClientSecret},
		{"RetireAndDelete", testRetireAndDelete},
		{"Sessions", testSessions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Fixed times, in UTC and whole microseconds, which is what a store keeps.
var (
	t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)
	t1 = t0.Add(time.Hour + 123456*time.Microsecond)
)

// What seed creates.
const (
	vendorA   = "acme"
	vendorB   = "globex"
	modelID   = "P1"
	slotID    = "ink"
	rid       = "RID-ACME-P1-INK"
	requestID = "req-acme-p1-ink"
	cust1     = "c1"
	cust2     = "c2"
	instance  = "InkSensor.Black"
)

type txFunc func(ctx context.Context, tx storage.Tx) error

// tryWrite runs fn in a write transaction and returns Write's error.
func tryWrite(t *testing.T, s storage.Store, fn txFunc) error {
	ctx := t.Context()
	return s.Write(ctx, func(tx storage.Tx) error { return fn(ctx, tx) })
}

func tryRead(t *testing.T, s storage.Store, fn txFunc) error {
	ctx := t.Context()
	return s.Read(ctx, func(tx storage.Tx) error { return fn(ctx, tx) })
}

func write(t *testing.T, s storage.Store, fn txFunc) {
	t.Helper()
	if err := tryWrite(t, s, fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func read(t *testing.T, s storage.Store, fn txFunc) {
	t.Helper()
	if err := tryRead(t, s, fn); err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// first returns the first error, so that a seeding step reads as a list.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := replenish.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func vendor(code string) replenish.Vendor {
	return replenish.Vendor{
		Code: code, Name: code + " Inc.", ClientID: code + "-client", SigningSecret: code + "-signing",
		Settings: replenish.VendorSettings{
			SkillEndpointURL: "https://" + code + ".example/skill", OAuthClientSecret: "oauth-secret",
			AllowedExitURIs: []string{"https://" + code + ".example/exit"},
		},
		CreatedAt: t0,
	}
}

func model(vendorCode, id string, created time.Time) replenish.Model {
	return replenish.Model{VendorCode: vendorCode, ModelID: id, Kind: replenish.KindSkill, Name: "Model " + id,
		DeviceType: "PRINTER", Certification: replenish.CertNone, CreatedAt: created}
}

func customer(id string) replenish.Customer {
	return replenish.Customer{CustomerID: id, Email: id + "@example.com", Name: "Customer " + id,
		Marketplace: "US", Locale: "en-US", CreatedAt: t0}
}

// assigned is seed's request: a Volume in litres, so that Endpoint has a
// unit to convert its threshold from.
func assigned() replenish.Request {
	return replenish.Request{
		RequestID: requestID, VendorCode: vendorA, ModelID: modelID, SlotID: slotID,
		SensorType: replenish.SensorLevel, Measurement: replenish.Measurement{Type: measure.Volume, Unit: "LITER"},
		Description: "ink tank", Status: replenish.RequestAssigned, ReplenishmentID: rid,
		Threshold: ptr(2.0), Policy: replenish.PolicyThreshold, ServiceLevel: ptr(97.5),
		SubmittedAt: ptr(t0), DecidedAt: ptr(t1), UpdatedAt: t1,
	}
}

// seed creates the catalog, vendor acme with model P1 (in US) and its slot
// ink with an assigned request, and customers c1 and c2.
func seed(t *testing.T, s storage.Store) {
	t.Helper()
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(
			catalog.Seed(ctx, tx),
			tx.InsertVendor(ctx, vendor(vendorA), []byte("hash-"+vendorA)),
			tx.InsertModel(ctx, model(vendorA, modelID, t0)),
			tx.AddModelMarketplace(ctx, vendorA, modelID, "US"),
			tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: slotID, Category: "INK"}),
			tx.PutRequest(ctx, assigned()),
			tx.InsertCustomer(ctx, customer(cust1)),
			tx.InsertCustomer(ctx, customer(cust2)),
		)
	})
}

// endpoint is a device of model P1 with one slot, named by seed's request.
func endpoint(customerID, endpointID, name string) replenish.Endpoint {
	return replenish.Endpoint{
		EndpointID: endpointID, VendorCode: vendorA, CustomerID: customerID, ModelID: modelID, FriendlyName: name,
		Slots: []replenish.EndpointSlot{{Instance: instance, SlotID: slotID, Name: "Black ink",
			ReplenishmentID: rid, Mode: replenish.ModeNotify}},
	}
}

// putEndpoint stores e and returns its one slot's storage key.
func putEndpoint(t *testing.T, s storage.Store, e replenish.Endpoint) int64 {
	t.Helper()
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutEndpoint(ctx, e, t0) })
	got := getEndpoint(t, s, e.CustomerID, e.EndpointID)
	if len(got.Slots) != 1 {
		t.Fatalf("endpoint %s has %d slots, want 1", e.EndpointID, len(got.Slots))
	}
	return got.Slots[0].ID
}

func getEndpoint(t *testing.T, s storage.Store, customerID, endpointID string) replenish.Endpoint {
	t.Helper()
	var e replenish.Endpoint
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		e, err = tx.Endpoint(ctx, customerID, endpointID)
		return err
	})
	return e
}

func testPing(t *testing.T, s storage.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testWriteCommits(t *testing.T, s storage.Store) {
	v := vendor(vendorA)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.InsertVendor(ctx, v, []byte("secret-hash")); err != nil {
			return err
		}
		// A transaction sees its own writes.
		_, err := tx.Vendor(ctx, v.Code)
		return err
	})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, err := tx.Vendor(ctx, v.Code)
		if err != nil {
			return err
		}
		wantEqual(t, "Vendor", got, v)
		got, hash, err := tx.VendorByClientID(ctx, v.ClientID)
		if err != nil {
			return err
		}
		wantEqual(t, "VendorByClientID", got, v)
		wantEqual(t, "client secret hash", string(hash), "secret-hash")
		return nil
	})
	// Vendors lists them all, by code.
	b := vendor(vendorB)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, b, []byte("other-hash"))
	})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, err := tx.Vendors(ctx)
		wantEqual(t, "Vendors", got, []replenish.Vendor{v, b})
		return err
	})

	settings := replenish.VendorSettings{SkillEndpointURL: "https://new.example/skill",
		OAuthAuthorizationURL: "https://new.example/auth", OAuthTokenURL: "https://new.example/token",
		OAuthClientID: "new-id", OAuthClientSecret: "new-secret", WebhookURL: "https://new.example/hook",
		AllowedExitURIs: []string{"https://a.example/", "https://b.example/"}}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.UpdateVendorSettings(ctx, v.Code, settings)
	})
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, err := tx.Vendor(ctx, v.Code)
		wantEqual(t, "settings after UpdateVendorSettings", got.Settings, settings)
		return err
	})
}

func testWriteRollsBack(t *testing.T, s storage.Store) {
	errBoom := errors.New("boom")
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := first(
			tx.InsertVendor(ctx, vendor(vendorA), []byte("h")),
			tx.InsertModel(ctx, model(vendorA, modelID, t0)),
		); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Write returned %v, want the callback's error", err)
	}
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Vendor(ctx, vendorA)
		return err
	})
	wantCode(t, err, replenish.ENotFound, "Vendor after rollback")
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Model(ctx, vendorA, modelID)
		return err
	})
	wantCode(t, err, replenish.ENotFound, "Model after rollback")
	// Nothing of the rolled-back transaction is left to collide with.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, vendor(vendorA), []byte("h"))
	})
}

func testReadIsReadOnly(t *testing.T, s storage.Store) {
	err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, vendor(vendorA), []byte("h"))
	})
	if err == nil {
		t.Error("InsertVendor in Read succeeded, want an error")
	}
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.Vendor(ctx, vendorA)
		return err
	})
	wantCode(t, err, replenish.ENotFound, "Vendor after a write in Read")
}

func testNotFound(t *testing.T, s storage.Store) {
	// A seeded store, so that each lookup misses a key, not an empty table.
	seed(t, s)
	missing := []byte("no such hash")
	cases := []struct {
		name string
		call txFunc
	}{
		{"Vendor", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Vendor(ctx, "nope"); return err }},
		{"VendorByClientID", func(ctx context.Context, tx storage.Tx) error {
			_, _, err := tx.VendorByClientID(ctx, "nope")
			return err
		}},
		{"Model", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Model(ctx, vendorA, "nope"); return err }},
		{"ModelOfOtherVendor", func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.Model(ctx, vendorB, modelID)
			return err
		}},
		{"Customer", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Customer(ctx, "nope"); return err }},
		{"Request", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Request(ctx, "nope"); return err }},
		{"RequestByReplenishmentID", func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.RequestByReplenishmentID(ctx, "nope")
			return err
		}},
		{"Endpoint", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Endpoint(ctx, cust1, "nope"); return err }},
		{"Order", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Order(ctx, "nope"); return err }},
		{"Link", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Link(ctx, cust1, vendorA); return err }},
		{"Grant", func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.Grant(ctx, missing, storage.GrantAccess)
			return err
		}},
		{"PrincipalByKey", func(ctx context.Context, tx storage.Tx) error {
			_, err := tx.PrincipalByKey(ctx, missing)
			return err
		}},
		{"Marketplace", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Marketplace(ctx, "XX"); return err }},
		{"Product", func(ctx context.Context, tx storage.Tx) error { _, err := tx.Product(ctx, "nope"); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, tryRead(t, s, c.call), replenish.ENotFound, c.name)
		})
	}
}

func testConflict(t *testing.T, s storage.Store) {
	seed(t, s)
	key := []byte("key-hash")
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertAPIKey(ctx, key, replenish.Principal{Role: replenish.RoleOperator}, t0)
	})
	// Each duplicate gets its own transaction: after a failed statement
	// some databases refuse the rest of the transaction.
	cases := []struct {
		name string
		call txFunc
	}{
		{"InsertVendor", func(ctx context.Context, tx storage.Tx) error {
			v := vendor(vendorA)
			v.ClientID = "another-client" // only the code collides
			return tx.InsertVendor(ctx, v, []byte("h"))
		}},
		{"InsertModel", func(ctx context.Context, tx storage.Tx) error {
			return tx.InsertModel(ctx, model(vendorA, modelID, t1))
		}},
		{"InsertSlot", func(ctx context.Context, tx storage.Tx) error {
			return tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: slotID, Category: "TONER"})
		}},
		{"InsertCustomer", func(ctx context.Context, tx storage.Tx) error {
			c := customer("c9")
			c.Email = customer(cust1).Email
			return tx.InsertCustomer(ctx, c)
		}},
		{"InsertAPIKey", func(ctx context.Context, tx storage.Tx) error {
			return tx.InsertAPIKey(ctx, key, replenish.Principal{Role: replenish.RoleCustomer, CustomerID: cust1}, t1)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, tryWrite(t, s, c.call), replenish.EConflict, c.name)
		})
	}
	// The originals are untouched.
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		v, err := tx.Vendor(ctx, vendorA)
		wantEqual(t, "vendor after duplicate", v, vendor(vendorA))
		return err
	})
}

func testCatalog(t *testing.T, s storage.Store) {
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return catalog.Seed(ctx, tx) })
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		ms, err := tx.Marketplaces(ctx)
		if err != nil {
			return err
		}
		if len(ms) != 22 {
			t.Errorf("Marketplaces: %d, want 22", len(ms))
		}
		for _, want := range catalog.Marketplaces {
			i := slices.IndexFunc(ms, func(m replenish.Marketplace) bool { return m.Code == want.Code })
			if i < 0 {
				t.Errorf("Marketplaces lacks %s", want.Code)
				continue
			}
			wantEqual(t, "marketplace "+want.Code, ms[i], want)
		}
		de, err := tx.Marketplace(ctx, "DE")
		wantEqual(t, "Marketplace(DE)", de, catalog.Marketplaces[slices.IndexFunc(catalog.Marketplaces,
			func(m replenish.Marketplace) bool { return m.Code == "DE" })])
		return err
	})

	p := replenish.Product{ProductID: "INK-XL", Category: "INK", PackQuantity: 2, PackUnit: "Count",
		Offers: map[string]replenish.Offer{
			"US": {Title: "XL ink, 2 pack", Price: "39.99", Currency: "USD", Available: true},
			"DE": {Title: "XL Tinte, 2er", Price: "41.50", Currency: "EUR", Available: false},
		}}
	product := func(what string, want replenish.Product) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.Product(ctx, want.ProductID)
			wantEqual(t, what+": Offers", got.Offers, want.Offers)
			got.Offers, want.Offers = nil, nil
			wantEqual(t, what, got, want)
			return err
		})
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutProduct(ctx, p) })
	product("Product after PutProduct", p)

	// Putting it again replaces the offers, not adds to them.
	p2 := replenish.Product{ProductID: p.ProductID, Category: "INK", PackQuantity: 3, PackUnit: "Count",
		Offers: map[string]replenish.Offer{
			"DE": {Title: "XL Tinte, 3er", Price: "55.00", Currency: "EUR", Available: true},
			"UK": {Title: "XL ink, 3 pack", Price: "44.00", Currency: "GBP", Available: true},
		}}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutProduct(ctx, p2) })
	product("Product after second PutProduct", p2)

	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		ps, err := tx.Products(ctx)
		if len(ps) != len(catalog.Marketplaces)+1 {
			t.Errorf("Products: %d, want %d placeholders and %s", len(ps), len(catalog.Marketplaces), p.ProductID)
		}
		return err
	})
}

func testAPIKeys(t *testing.T, s storage.Store) {
	seed(t, s)
	hasOperator := func() bool {
		var has bool
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) { has, err = tx.HasOperator(ctx); return err })
		return has
	}
	op := replenish.Principal{Role: replenish.RoleOperator}
	ven := replenish.Principal{Role: replenish.RoleVendor, VendorCode: vendorA}
	cus := replenish.Principal{Role: replenish.RoleCustomer, CustomerID: cust1}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertAPIKey(ctx, []byte("v"), ven, t0), tx.InsertAPIKey(ctx, []byte("c"), cus, t0))
	})
	if hasOperator() {
		t.Error("HasOperator true without an operator key")
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.InsertAPIKey(ctx, []byte("o"), op, t0) })
	if !hasOperator() {
		t.Error("HasOperator false after inserting an operator key")
	}
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		for hash, want := range map[string]replenish.Principal{"o": op, "v": ven, "c": cus} {
			got, err := tx.PrincipalByKey(ctx, []byte(hash))
			if err != nil {
				return err
			}
			// The key's ID is the store's to choose; it must name the key.
			if got.KeyID == "" {
				t.Errorf("PrincipalByKey %s: no KeyID", hash)
			}
			got.KeyID = ""
			wantEqual(t, "PrincipalByKey "+hash, got, want)
		}
		return nil
	})
}

func testModels(t *testing.T, s storage.Store) {
	// Marketplaces, slots and products are inserted out of any sorted
	// order, so that only insertion order explains what comes back.
	products := []string{"X-3", "X-1", "X-2"}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := first(
			catalog.Seed(ctx, tx),
			tx.InsertVendor(ctx, vendor(vendorA), []byte("a")),
			tx.InsertVendor(ctx, vendor(vendorB), []byte("b")),
			tx.InsertModel(ctx, model(vendorA, modelID, t0)),
			tx.InsertModel(ctx, model(vendorA, "P2", t1)),
			tx.InsertModel(ctx, model(vendorB, "G1", t0)),
			tx.AddModelMarketplace(ctx, vendorA, modelID, "JP"),
			tx.AddModelMarketplace(ctx, vendorA, modelID, "US"),
			tx.AddModelMarketplace(ctx, vendorA, modelID, "DE"),
			tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: "zeta", Category: "INK"}),
			tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: "alpha"}),
			tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: "mid", Category: "TONER"}),
		); err != nil {
			return err
		}
		for _, id := range products {
			if err := tx.PutProduct(ctx, replenish.Product{ProductID: id, Category: "INK", PackQuantity: 1,
				PackUnit: "Count", Offers: map[string]replenish.Offer{}}); err != nil {
				return err
			}
		}
		return first(
			tx.SetSlotProducts(ctx, vendorA, modelID, "zeta", "US", []string{"X-3", "X-1", "X-2"}),
			tx.SetSlotProducts(ctx, vendorA, modelID, "zeta", "DE", []string{"X-2"}),
			tx.SetSlotProducts(ctx, vendorA, modelID, "mid", "US", []string{"X-1", "X-3"}),
		)
	})
	req := assigned()
	req.SlotID = "alpha"
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutRequest(ctx, req) })

	getModel := func() replenish.Model {
		t.Helper()
		var m replenish.Model
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			m, err = tx.Model(ctx, vendorA, modelID)
			return err
		})
		return m
	}
	m := getModel()
	want := model(vendorA, modelID, t0)
	wantEqual(t, "Model fields", replenish.Model{VendorCode: m.VendorCode, ModelID: m.ModelID, Kind: m.Kind,
		Name: m.Name, DeviceType: m.DeviceType, Certification: m.Certification, CreatedAt: m.CreatedAt}, want)
	wantEqual(t, "Marketplaces", m.Marketplaces, []string{"JP", "US", "DE"})
	var ids, cats []string
	for _, sl := range m.Slots {
		ids, cats = append(ids, sl.SlotID), append(cats, sl.Category)
	}
	wantEqual(t, "slot IDs", ids, []string{"zeta", "alpha", "mid"})
	wantEqual(t, "slot categories", cats, []string{"INK", "", "TONER"})
	slot := func(m replenish.Model, id string) replenish.Slot {
		for _, sl := range m.Slots {
			if sl.SlotID == id {
				return sl
			}
		}
		t.Fatalf("model has no slot %s", id)
		return replenish.Slot{}
	}
	// maps.EqualFunc treats a nil and an empty product map alike.
	wantProducts := func(m replenish.Model, id string, want map[string][]string) {
		t.Helper()
		if got := slot(m, id).Products; !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("slot %s products: got %v, want %v", id, got, want)
		}
	}
	wantProducts(m, "zeta", map[string][]string{"US": {"X-3", "X-1", "X-2"}, "DE": {"X-2"}})
	wantProducts(m, "alpha", nil)
	wantProducts(m, "mid", map[string][]string{"US": {"X-1", "X-3"}})

	t.Run("SlotRequest", func(t *testing.T) {
		if r := slot(m, "zeta").Request; r != nil {
			t.Errorf("slot zeta has request %+v, want none", r)
		}
		got := slot(m, "alpha").Request
		if got == nil {
			t.Fatal("slot alpha has no request after PutRequest")
		}
		wantEqual(t, "slot alpha's request", *got, req)
	})

	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(
			tx.SetSlotCategory(ctx, vendorA, modelID, "alpha", "PAPER"),
			tx.SetSlotProducts(ctx, vendorA, modelID, "zeta", "US", []string{"X-2"}),
		)
	})
	m = getModel()
	wantEqual(t, "category after SetSlotCategory", slot(m, "alpha").Category, "PAPER")
	wantProducts(m, "zeta", map[string][]string{"US": {"X-2"}, "DE": {"X-2"}})

	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetSlotCategory(ctx, vendorA, modelID, "nope", "INK")
	})
	wantCode(t, err, replenish.ENotFound, "SetSlotCategory of a missing slot")

	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		for vc, want := range map[string][]string{vendorA: {modelID, "P2"}, vendorB: {"G1"}, "nope": nil} {
			ms, err := tx.Models(ctx, vc)
			if err != nil {
				return err
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.ModelID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("Models(%s): %v, want %v", vc, got, want)
			}
		}
		return nil
	})
}

func testRequests(t *testing.T, s storage.Store) {
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(
			tx.InsertVendor(ctx, vendor(vendorA), []byte("a")),
			tx.InsertModel(ctx, model(vendorA, modelID, t0)),
			tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: "ink"}),
			tx.InsertSlot(ctx, vendorA, modelID, replenish.Slot{SlotID: "toner"}),
		)
	})
	r1 := replenish.Request{RequestID: "req-1", VendorCode: vendorA, ModelID: modelID, SlotID: "ink",
		SensorType: replenish.SensorLevel, Measurement: replenish.Measurement{Type: measure.Volume, Unit: "LITER"},
		Description: "ink tank", Status: replenish.RequestSubmitted, SubmittedAt: ptr(t0), UpdatedAt: t0}
	r2 := replenish.Request{RequestID: "req-2", VendorCode: vendorA, ModelID: modelID, SlotID: "toner",
		SensorType: replenish.SensorUsage, Measurement: replenish.Measurement{Type: measure.Count},
		Status: replenish.RequestDraft, UpdatedAt: t0}
	put := func(r replenish.Request) {
		t.Helper()
		write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutRequest(ctx, r) })
	}
	get := func(what string, want replenish.Request) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.Request(ctx, want.RequestID)
			wantEqual(t, what, got, want)
			return err
		})
	}
	byStatus := func(status string, want ...string) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			rs, err := tx.Requests(ctx, status)
			var got []string
			for _, r := range rs {
				got = append(got, r.RequestID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("Requests(%s): %v, want %v", status, got, want)
			}
			return err
		})
	}

	put(r1)
	put(r2)
	get("request as inserted", r1)
	get("draft as inserted", r2)
	byStatus(replenish.RequestSubmitted, "req-1")
	byStatus(replenish.RequestDraft, "req-2")
	byStatus(replenish.RequestAssigned)

	// Assigning it sets the replenishment ID and the threshold.
	a := r1
	a.Status, a.ReplenishmentID, a.Threshold = replenish.RequestAssigned, "RID-1", ptr(2.5)
	a.Policy, a.DecidedAt, a.UpdatedAt = replenish.PolicyForecast, ptr(t1), t1
	put(a)
	get("request after update", a)
	byStatus(replenish.RequestSubmitted)
	byStatus(replenish.RequestAssigned, "req-1")
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		got, err := tx.RequestByReplenishmentID(ctx, "RID-1")
		wantEqual(t, "RequestByReplenishmentID", got, a)
		return err
	})

	// Updating it again clears them: nil stays nil, not zero.
	rej := r1
	rej.Status, rej.RejectReason, rej.DecidedAt, rej.UpdatedAt = replenish.RequestRejected, "no such unit", ptr(t1), t1
	put(rej)
	get("request after clearing threshold and ID", rej)
	err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.RequestByReplenishmentID(ctx, "RID-1")
		return err
	})
	wantCode(t, err, replenish.ENotFound, "RequestByReplenishmentID of a cleared ID")
}

func testTestAccounts(t *testing.T, s storage.Store) {
	seed(t, s)
	put := func(mp, c string) {
		t.Helper()
		write(t, s, func(ctx context.Context, tx storage.Tx) error {
			return tx.PutTestAccount(ctx, vendorA, modelID, mp, c)
		})
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.AddModelMarketplace(ctx, vendorA, modelID, "DE")
	})
	put("US", cust1)
	put("US", cust1) // idempotent
	put("US", cust2)
	put("DE", cust2)
	list := func(mp string, want ...string) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.TestAccounts(ctx, vendorA, modelID, mp)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("TestAccounts(%s): %v, want %v", mp, got, want)
			}
			return err
		})
	}
	is := func(mid, c string, want bool) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.IsTestAccount(ctx, vendorA, mid, c)
			if got != want {
				t.Errorf("IsTestAccount(%s, %s) = %v, want %v", mid, c, got, want)
			}
			return err
		})
	}
	list("US", cust1, cust2)
	list("DE", cust2)
	is(modelID, cust1, true)
	is(modelID, "c3", false)
	is("P2", cust1, false)

	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteTestAccount(ctx, vendorA, modelID, "US", cust1)
	})
	list("US", cust2)
	is(modelID, cust1, false)
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.DeleteTestAccount(ctx, vendorA, modelID, "US", cust1)
	})
	wantCode(t, err, replenish.ENotFound, "DeleteTestAccount of a missing one")
}

func testLinks(t *testing.T, s storage.Store) {
	seed(t, s)
	l := replenish.Link{CustomerID: cust1, VendorCode: vendorA, Status: replenish.LinkPending,
		UpdatedAt: t0, GranteeToken: "grantee-1"}
	get := func(what string, want replenish.Link) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.Link(ctx, cust1, vendorA)
			wantEqual(t, what, got, want)
			return err
		})
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutLink(ctx, l) })
	get("Link after PutLink", l)
	l.Status, l.GranteeToken, l.UpdatedAt = replenish.LinkLinked, "grantee-2", t1
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutLink(ctx, l) })
	get("Link after second PutLink", l)
	// Endpoints counts the customer's endpoints of this vendor.
	putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	putEndpoint(t, s, endpoint(cust2, "dev-2", "Office"))
	l.Endpoints = 1
	get("Link with an endpoint", l)
}

func testGrants(t *testing.T, s storage.Store) {
	seed(t, s)
	grant := func(hash, kind, customerID string, expires time.Time) storage.Grant {
		return storage.Grant{Hash: []byte(hash), Kind: kind, VendorCode: vendorA, CustomerID: customerID, ExpiresAt: expires}
	}
	code := grant("code-1", storage.GrantCode, cust1, t0.Add(10*time.Minute))
	expired := grant("code-2", storage.GrantCode, cust1, t0.Add(-time.Second))
	refresh := grant("refresh-1", storage.GrantRefresh, cust1, t0.Add(24*time.Hour))
	other := grant("refresh-2", storage.GrantRefresh, cust2, t0.Add(24*time.Hour))
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.InsertGrant(ctx, code), tx.InsertGrant(ctx, expired),
			tx.InsertGrant(ctx, refresh), tx.InsertGrant(ctx, other))
	})
	take := func(g storage.Grant, kind string, now time.Time) (storage.Grant, error) {
		var got storage.Grant
		err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			got, err = tx.TakeGrant(ctx, g.Hash, kind, now)
			return err
		})
		return got, err
	}
	lookup := func(g storage.Grant) storage.Grant {
		t.Helper()
		var got storage.Grant
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			got, err = tx.Grant(ctx, g.Hash, g.Kind)
			return err
		})
		return got
	}

	wantEqual(t, "Grant before use", lookup(code), code)
	got, err := take(code, storage.GrantCode, t0)
	if err != nil {
		t.Fatalf("TakeGrant: %v", err)
	}
	used := code
	used.UsedAt = t0
	wantEqual(t, "TakeGrant", got, used)
	_, err = take(code, storage.GrantCode, t0)
	wantCode(t, err, replenish.ENotFound, "second TakeGrant")
	wantEqual(t, "Grant after use", lookup(code), used)

	_, err = take(expired, storage.GrantCode, t0)
	wantCode(t, err, replenish.ENotFound, "TakeGrant of an expired grant")
	_, err = take(refresh, storage.GrantAccess, t0)
	wantCode(t, err, replenish.ENotFound, "TakeGrant of another kind")

	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.RevokeGrants(ctx, vendorA, cust1, t1) })
	_, err = take(refresh, storage.GrantRefresh, t1)
	wantCode(t, err, replenish.ENotFound, "TakeGrant after RevokeGrants")
	revoked := refresh
	revoked.RevokedAt = t1
	wantEqual(t, "Grant after RevokeGrants", lookup(refresh), revoked)
	// Another customer's grants are not revoked.
	if _, err := take(other, storage.GrantRefresh, t1); err != nil {
		t.Errorf("TakeGrant of another customer's grant after RevokeGrants: %v", err)
	}
}

func testEndpoints(t *testing.T, s storage.Store) {
	seed(t, s)
	e := endpoint(cust1, "dev-1", "Kitchen")
	key := putEndpoint(t, s, e)
	got := getEndpoint(t, s, cust1, "dev-1")
	want := e
	// Endpoint joins what the request declared (its threshold of 2 litres
	// comes back in millilitres, the base unit) and the lead time of the
	// customer's marketplace.
	us := catalog.Marketplaces[slices.IndexFunc(catalog.Marketplaces, func(m replenish.Marketplace) bool { return m.Code == "US" })]
	want.Slots = []replenish.EndpointSlot{{
		ID: key, EndpointID: e.EndpointID, VendorCode: vendorA, CustomerID: cust1, ModelID: modelID,
		SlotID: slotID, Instance: instance, Name: "Black ink", ReplenishmentID: rid,
		SensorType: replenish.SensorLevel, Measurement: replenish.Measurement{Type: measure.Volume, Unit: "LITER"},
		Threshold: 2000, Policy: replenish.PolicyThreshold, Mode: replenish.ModeNotify,
		Plan: replenish.Plan{ServiceLevel: 97.5, LeadDays: us.LeadDays, LeadSD: us.LeadSD},
	}}
	wantEqual(t, "Endpoint", got, want)
	// Given instances, only their slots; an endpoint without them still is.
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		named, err := tx.Endpoint(ctx, cust1, "dev-1", "Other.Sensor", instance)
		wantEqual(t, "Endpoint naming its instance", named, want)
		if err != nil {
			return err
		}
		none, err := tx.Endpoint(ctx, cust1, "dev-1", "Other.Sensor")
		bare := want
		bare.Slots = nil
		wantEqual(t, "Endpoint naming another instance", none, bare)
		return err
	})

	// A second discovery renames the device; what the engine and the
	// customer set on the slot stays.
	state := replenish.SlotState{Amount: 750, LastSampleAt: t1, Capacity: 1000, LowCount: 2, Notified: true,
		Household: 2, CancelStreak: 1, CooldownUntil: t1.Add(time.Hour), OnOrder: 500,
		Rate: replenish.Rate{At: t1.UnixMicro(), Since: t0.UnixMicro(), N: 7, W: 6.5, Used: 120, Days: 6, Sq: 40,
			Lag: -3, ShortUsed: 60, ShortDays: 3, Up: 1.5, Last: 2, SuspectAmount: 300, SuspectAt: t1.UnixMicro()}}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(tx.SetSlotState(ctx, key, state), tx.SetSubscription(ctx, key, replenish.ModeAuto, "INK-XL", "39.99"))
	})
	e.FriendlyName = "Pantry"
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutEndpoint(ctx, e, t1) })
	want.FriendlyName = "Pantry"
	want.Slots[0].State, want.Slots[0].Mode, want.Slots[0].ProductID = state, replenish.ModeAuto, "INK-XL"
	want.Slots[0].ChosenPrice = "39.99"
	wantEqual(t, "Endpoint after second PutEndpoint", getEndpoint(t, s, cust1, "dev-1"), want)

	// The same endpoint ID from another vendor for the same customer.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, vendor(vendorB), []byte("b"))
	})
	stolen := e
	stolen.VendorCode, stolen.FriendlyName = vendorB, "Hijack"
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.PutEndpoint(ctx, stolen, t1) })
	wantCode(t, err, replenish.EConflict, "PutEndpoint of another vendor's endpoint ID")
	wantEqual(t, "Endpoint after the conflict", getEndpoint(t, s, cust1, "dev-1"), want)

	putEndpoint(t, s, endpoint(cust2, "dev-2", "Office"))
	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		for c, want := range map[string][]string{cust1: {"dev-1"}, cust2: {"dev-2"}, "nobody": nil} {
			es, err := tx.Endpoints(ctx, c)
			if err != nil {
				return err
			}
			var got []string
			for _, e := range es {
				got = append(got, e.EndpointID)
				if e.CustomerID != c {
					t.Errorf("Endpoints(%s) has an endpoint of %s", c, e.CustomerID)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Endpoints(%s): %v, want %v", c, got, want)
			}
		}
		return nil
	})
}

func testSlotState(t *testing.T, s storage.Store) {
	seed(t, s)
	key := putEndpoint(t, s, endpoint(cust1, "dev-1", "Kitchen"))
	for _, st := range []replenish.SlotState{
		// Every field set, LastSampleAt with a microsecond part.
		{Amount: 1234.5, LastSampleAt: time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC), Capacity: 2000,
			LowCount: 3, Notified: true, Ordered: true, OpenOrderID: "order-1",
			ReplacedAt: time.Date(2025, 5, 30, 8, 0, 0, 654321000, time.UTC)},
		// And back to nothing: a zero LastSampleAt stays zero.
		{},
	} {
		write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetSlotState(ctx, key, st) })
		got := getEndpoint(t, s, cust1, "dev-1")
		wantEqual(t, "State after SetSlotState", got.Slots[0].State, st)
	}
}

func testEvents(t *testing.T, s storage.Store) {
	seed(t, s)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertVendor(ctx, vendor(vendorB), []byte("b"))
	})
	insert := func(vendorCode, messageID string, want bool) {
		t.Helper()
		e := storage.Event{VendorCode: vendorCode, MessageID: messageID, CustomerID: cust1,
			Namespace: "Alexa.InventoryLevelSensor", Name: "ChangeReport", Body: []byte(`{"n":1}`), ReceivedAt: t0}
		write(t, s, func(ctx context.Context, tx storage.Tx) error {
			got, err := tx.InsertEvent(ctx, e)
			if got != want {
				t.Errorf("InsertEvent(%s, %s) = %v, want %v", vendorCode, messageID, got, want)
			}
			return err
		})
	}
	insert(vendorA, "msg-1", true)
	insert(vendorA, "msg-1", false)
	insert(vendorB, "msg-1", true)
	insert(vendorA, "msg-2", true)
}

func testFeed(t *testing.T, s storage.Store) {
	seed(t, s)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		for i := range 5 {
			for _, c := range []string{cust1, cust2} {
				if err := tx.InsertFeed(ctx, replenish.FeedEntry{CustomerID: c, Type: replenish.FeedLowSupply,
					EndpointID: "dev-1", SlotID: slotID, OrderID: "",
					Message: fmt.Sprintf("%s %d", c, i), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	feed := func(limit int, want ...string) {
		t.Helper()
		read(t, s, func(ctx context.Context, tx storage.Tx) error {
			fs, err := tx.Feed(ctx, cust1, limit)
			var got []string
			for _, f := range fs {
				got = append(got, f.Message)
				if f.ID == 0 || f.CustomerID != cust1 || f.Type != replenish.FeedLowSupply ||
					f.EndpointID != "dev-1" || f.SlotID != slotID {
					t.Errorf("Feed entry %+v", f)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Feed(%s, %d): %v, want %v", cust1, limit, got, want)
			}
			if len(fs) > 0 && !fs[0].CreatedAt.Equal(t0.Add(4*time.Minute)) {
				t.Errorf("newest entry created at %v, want %v", fs[0].CreatedAt, t0.Add(4*time.Minute))
			}
			return err
		})
	}
	feed(3, "c1 4", "c1 3", "c1 2")
	feed(10, "c1 4", "c1 3", "c1 2", "c1 1", "c1 0")
}

func testConcurrentWrites(t *testing.T, s storage.Store) {
	// Writes to the same rows from many goroutines must queue, not fail
	// with a busy or serialization error, while reads go on.
	const writers, each, readers = 8, 25, 4
	var wg, rg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
					return tx.InsertFeed(ctx, replenish.FeedEntry{CustomerID: cust1, Type: replenish.FeedLowSupply,
						Message: fmt.Sprintf("w%d-%d", w, i), CreatedAt: t0})
				})
				if err != nil {
					t.Errorf("writer %d, write %d: %v", w, i, err)
					return
				}
			}
		})
	}
	for r := range readers {
		rg.Go(func() {
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				var n int
				err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
					fs, err := tx.Feed(ctx, cust1, writers*each)
					n = len(fs)
					return err
				})
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
				// Committed writes never disappear from a later read.
				if n < last {
					t.Errorf("reader %d saw %d entries after %d", r, n, last)
				}
				last = n
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()

	read(t, s, func(ctx context.Context, tx storage.Tx) error {
		fs, err := tx.Feed(ctx, cust1, 2*writers*each)
		seen := map[string]bool{}
		for _, f := range fs {
			seen[f.Message] = true
		}
		if len(fs) != writers*each || len(seen) != writers*each {
			t.Errorf("Feed has %d entries (%d distinct), want %d", len(fs), len(seen), writers*each)
		}
		return err
	})
}
