// Package storage declares what the rest of the service needs from a
// database: a Store that runs read and write transactions, and the Tx that
// those transactions see. Implementations live in sub-packages and pass
// the conformance suite in storagetest.
package storage

import (
	"context"
	"encoding/json"
	"time"

	"replenish"
)

// Store runs transactions. Every use case opens exactly one.
type Store interface {
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction and commits, durably,
	// when fn returns nil.
	Write(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Tx is the work done inside one transaction. Lookups that find nothing
// return an error with code replenish.ENotFound; inserts that collide
// return replenish.EConflict.
type Tx interface {
	// Catalog.
	PutMarketplace(ctx context.Context, m replenish.Marketplace) error
	Marketplace(ctx context.Context, code string) (replenish.Marketplace, error)
	Marketplaces(ctx context.Context) ([]replenish.Marketplace, error)
	PutProduct(ctx context.Context, p replenish.Product) error
	Product(ctx context.Context, productID string) (replenish.Product, error)
	Products(ctx context.Context) ([]replenish.Product, error)

	// API keys, stored by hash.
	InsertAPIKey(ctx context.Context, hash []byte, p replenish.Principal, now time.Time) error
	PrincipalByKey(ctx context.Context, hash []byte) (replenish.Principal, error)
	HasOperator(ctx context.Context) (bool, error)

	// Vendors.
	InsertVendor(ctx context.Context, v replenish.Vendor, clientSecretHash []byte) error
	Vendor(ctx context.Context, code string) (replenish.Vendor, error)
	// Vendors lists every vendor, by code.
	Vendors(ctx context.Context) ([]replenish.Vendor, error)
	// VendorByClientID returns the vendor and its client secret's hash.
	VendorByClientID(ctx context.Context, clientID string) (replenish.Vendor, []byte, error)
	UpdateVendorSettings(ctx context.Context, code string, s replenish.VendorSettings) error

	// Device models, their marketplaces, slots and product lists.
	InsertModel(ctx context.Context, m replenish.Model) error
	// Model returns the model with its marketplaces, slots, product lists
	// and replenishment-ID requests.
	Model(ctx context.Context, vendorCode, modelID string) (replenish.Model, error)
	Models(ctx context.Context, vendorCode string) ([]replenish.Model, error)
	AddModelMarketplace(ctx context.Context, vendorCode, modelID, marketplace string) error
	InsertSlot(ctx context.Context, vendorCode, modelID string, s replenish.Slot) error
	SetSlotCategory(ctx context.Context, vendorCode, modelID, slotID, category string) error
	SetSlotProducts(ctx context.Context, vendorCode, modelID, slotID, marketplace string, productIDs []string) error

	// The console complete: model changes, listings, images, retirement of
	// replenishment IDs, the audit log, and API keys by ID.
	//
	// UpdateModel writes a model's name, device type, certification and
	// its reason.
	UpdateModel(ctx context.Context, m replenish.Model) error
	// DeleteModel deletes a model and everything under it; its requests
	// must be deleted first (DeleteRequest).
	DeleteModel(ctx context.Context, vendorCode, modelID string) error
	// DeleteSlot deletes a slot with its product lists and names; its
	// request must be deleted first.
	DeleteSlot(ctx context.Context, vendorCode, modelID, slotID string) error
	// DeleteRequest deletes a request; an assigned replenishment ID is kept
	// as retired, so that it no longer names a slot.
	DeleteRequest(ctx context.Context, requestID string, now time.Time) error
	// RemoveModelMarketplace removes a marketplace from a model with its
	// listing, product lists, image and test accounts.
	RemoveModelMarketplace(ctx context.Context, vendorCode, modelID, marketplace string) error
	// PutListing writes a model's listing in a marketplace it is sold in:
	// status, device name, reason and slot names (replacing them all).
	PutListing(ctx context.Context, vendorCode, modelID, marketplace string, l replenish.Listing) error
	// PutImage stores an image of a model; marketplace "" is the default.
	PutImage(ctx context.Context, vendorCode, modelID, marketplace string, img replenish.Image) error
	// Image returns a stored image; marketplace "" is the default.
	Image(ctx context.Context, vendorCode, modelID, marketplace string) (replenish.Image, error)
	// InsertAudit records an entry; Audit lists a vendor's entries ("" for
	// every vendor), of one model or of all ("" modelID), oldest first.
	InsertAudit(ctx context.Context, e replenish.AuditEntry) error
	Audit(ctx context.Context, vendorCode, modelID string) ([]replenish.AuditEntry, error)
	// APIKeys lists the keys of a vendor, oldest first.
	APIKeys(ctx context.Context, vendorCode string) ([]replenish.APIKey, error)
	// DeleteAPIKey revokes a vendor's key.
	DeleteAPIKey(ctx context.Context, vendorCode, keyID string) error
	// SetClientSecret replaces a vendor's token-endpoint client secret.
	SetClientSecret(ctx context.Context, vendorCode string, hash []byte) error

	// Replenishment-ID requests.
	PutRequest(ctx context.Context, r replenish.Request) error
	Request(ctx context.Context, requestID string) (replenish.Request, error)
	Requests(ctx context.Context, status string) ([]replenish.Request, error)
	RequestByReplenishmentID(ctx context.Context, replenishmentID string) (replenish.Request, error)

	// Test accounts.
	PutTestAccount(ctx context.Context, vendorCode, modelID, marketplace, customerID string) error
	DeleteTestAccount(ctx context.Context, vendorCode, modelID, marketplace, customerID string) error
	TestAccounts(ctx context.Context, vendorCode, modelID, marketplace string) ([]string, error)
	IsTestAccount(ctx context.Context, vendorCode, modelID, customerID string) (bool, error)

	// Customers.
	InsertCustomer(ctx context.Context, c replenish.Customer) error
	Customer(ctx context.Context, customerID string) (replenish.Customer, error)

	// Account links, authorization codes and tokens (stored by hash).
	PutLink(ctx context.Context, l replenish.Link) error
	Link(ctx context.Context, customerID, vendorCode string) (replenish.Link, error)
	InsertGrant(ctx context.Context, g Grant) error
	// TakeGrant marks the unused, unexpired grant with hash as used and
	// returns it; a used or expired one is not found.
	TakeGrant(ctx context.Context, hash []byte, kind string, now time.Time) (Grant, error)
	// Grant returns a grant whether or not it is used.
	Grant(ctx context.Context, hash []byte, kind string) (Grant, error)
	RevokeGrants(ctx context.Context, vendorCode, customerID string, now time.Time) error

	// Sign-ins at a vendor's authorization page, by the hash of their
	// state. LinkState returns one whether or not it is used or expired;
	// UseLinkState marks an unused one used (a used one is not found);
	// DeleteLinkStates drops those that expired before a time.
	InsertLinkState(ctx context.Context, s LinkState) error
	LinkState(ctx context.Context, hash []byte) (LinkState, error)
	UseLinkState(ctx context.Context, hash []byte, now time.Time) error
	DeleteLinkStates(ctx context.Context, expiredBefore time.Time) error

	// Endpoints and their slots.
	// PutEndpoint creates or updates the endpoint and its slots; slots of
	// an existing endpoint keep their state and the customer's choices.
	PutEndpoint(ctx context.Context, e replenish.Endpoint, now time.Time) error
	// Endpoint returns a customer's endpoint with its slots; given
	// capability instances, with only the slots of those instances.
	Endpoint(ctx context.Context, customerID, endpointID string, instances ...string) (replenish.Endpoint, error)
	Endpoints(ctx context.Context, customerID string) ([]replenish.Endpoint, error)
	// EndpointCookie returns the cookie discovery gave an endpoint, as
	// the vendor sent it (nil for none).
	EndpointCookie(ctx context.Context, customerID, endpointID string) (json.RawMessage, error)
	SetSlotState(ctx context.Context, slotKey int64, s replenish.SlotState) error
	// SetSubscription sets a slot's mode and product, with the product's price
	// when chosen.
	SetSubscription(ctx context.Context, slotKey int64, mode, productID, price string) error

	// Endpoints removed (the event gateway).
	// DeleteEndpoint hides an endpoint from every lookup; its slots,
	// readings and orders stay. A later discovery of the same endpoint ID
	// brings it back with its state.
	DeleteEndpoint(ctx context.Context, customerID, endpointID string, now time.Time) error
	// SetCustomerName names an endpoint as its customer calls it; it wins
	// over the name the vendor's discovery gives ("" gives it back).
	SetCustomerName(ctx context.Context, customerID, endpointID, name string, now time.Time) error
	// IsRetired reports whether a replenishment ID was retired (its slot
	// or model was removed).
	IsRetired(ctx context.Context, replenishmentID string) (bool, error)

	// Events and readings.
	// InsertEvent stores an accepted event; it returns false, storing
	// nothing, when the vendor sent this message ID before.
	InsertEvent(ctx context.Context, e Event) (bool, error)
	// InsertReading stores a reading; the same slot and sample time again
	// is the same reading, kept once.
	InsertReading(ctx context.Context, r Reading) error

	Orders
	History
	Notifications
	Calendars
	HomeAssistant
	Devices

	// The customer's feed.
	InsertFeed(ctx context.Context, f replenish.FeedEntry) error
	Feed(ctx context.Context, customerID string, limit int) ([]replenish.FeedEntry, error)

	// Console users and their sessions (package users). Passwords are
	// stored as encoded argon2id hashes, session tokens by SHA-256.
	InsertUser(ctx context.Context, u replenish.User, passwordHash string) error
	// UserByEmail returns the user and its password hash.
	UserByEmail(ctx context.Context, email string) (replenish.User, string, error)
	// Users lists the users of a vendor, or every user when vendorCode is "".
	Users(ctx context.Context, vendorCode string) ([]replenish.User, error)
	HasOperatorUser(ctx context.Context) (bool, error)
	InsertSession(ctx context.Context, tokenHash []byte, userID string, now, expiresAt time.Time) error
	// SessionUser returns the user of an unexpired session; an expired or
	// unknown one is not found.
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (replenish.User, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
}

// Grant kinds.
const (
	GrantCode    = "code"
	GrantAccess  = "access"
	GrantRefresh = "refresh"
)

// Grant is an authorization code, access token or refresh token that a
// vendor holds for one customer.
type Grant struct {
	Hash       []byte
	Kind       string
	VendorCode string
	CustomerID string
	ExpiresAt  time.Time
	UsedAt     time.Time
	RevokedAt  time.Time
}

// LinkState is one customer's sign-in at a vendor's authorization page:
// the hash of the state sent along, and the PKCE code verifier kept for
// the exchange of the code that comes back.
type LinkState struct {
	Hash       []byte
	CustomerID string
	VendorCode string
	Verifier   string
	ExpiresAt  time.Time
	UsedAt     time.Time
}

// Event is an accepted gateway event, kept as received.
type Event struct {
	VendorCode string
	MessageID  string
	CustomerID string
	Namespace  string
	Name       string
	Body       []byte
	ReceivedAt time.Time
}
