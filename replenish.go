package replenish

import (
	"encoding/json"
	"time"

	"replenish/measure"
)

// Role is what a credential may do.
type Role string

// The kinds of API key.
const (
	RoleOperator Role = "operator"
	RoleVendor   Role = "vendor"
	RoleCustomer Role = "customer"
	// RoleFulfilment is the commerce system of the webhook fulfilment
	// adapter: it reports orders shipped, delivered or cancelled.
	RoleFulfilment Role = "fulfilment"
)

// Principal is who is calling: the operator, one vendor, or one customer.
type Principal struct {
	Role       Role
	VendorCode string // for RoleVendor
	CustomerID string // for RoleCustomer
	// KeyID names the API key used, for the audit log ("" for others).
	KeyID string
	// Name is the console user acting, for the audit log ("" for API keys).
	Name string
}

// Actor names p in the audit log: its user's name, or its key's ID.
func (p Principal) Actor() string {
	if p.Name != "" {
		return string(p.Role) + " " + p.Name
	}
	return string(p.Role) + " key " + p.KeyID
}

// Marketplace is a country store.
type Marketplace struct {
	Code     string  `json:"code"`
	Region   string  `json:"region"` // NA, EU or FE
	Currency string  `json:"currency"`
	Locale   string  `json:"locale"`
	LeadDays float64 `json:"leadTimeDays"`       // mean delivery lead time
	LeadSD   float64 `json:"leadTimeSpreadDays"` // its standard deviation
}

// Product is an orderable item of the operator's catalog.
type Product struct {
	ProductID    string           `json:"productId"`
	Category     string           `json:"category"`
	PackQuantity float64          `json:"packQuantity"`
	PackUnit     string           `json:"packUnit"`
	Offers       map[string]Offer `json:"offers"`
}

// Offer is a product's listing in one marketplace. Price is a decimal
// string ("12.99") so that no amount of money passes through a float.
type Offer struct {
	Title     string `json:"title"`
	Price     string `json:"price"`
	Currency  string `json:"currency"`
	Available bool   `json:"available"`
}

// Vendor is a device maker.
type Vendor struct {
	Code     string
	Name     string
	ClientID string
	// SigningSecret signs directives sent to the vendor; kept in clear
	// because every signature needs it.
	SigningSecret string
	Settings      VendorSettings
	CreatedAt     time.Time
}

// VendorSettings is what a vendor configures about its cloud. Secrets are
// written, never read back through the API.
type VendorSettings struct {
	SkillEndpointURL      string   `json:"skillEndpointUrl"`
	OAuthAuthorizationURL string   `json:"oauthAuthorizationUrl"`
	OAuthTokenURL         string   `json:"oauthTokenUrl"`
	OAuthClientID         string   `json:"oauthClientId"`
	OAuthClientSecret     string   `json:"-"`
	WebhookURL            string   `json:"webhookUrl"`
	AllowedExitURIs       []string `json:"allowedExitUris"`
}

// Model kinds.
const (
	KindSkill      = "SKILL"
	KindConnectKit = "CONNECT_KIT"
)

// Certification states of a model.
const (
	CertNone      = "NONE"
	CertSubmitted = "SUBMITTED"
	CertCertified = "CERTIFIED"
	CertRejected  = "REJECTED"
)

// Listing states: a model's certification in one marketplace. A
// marketplace added after the model's submission starts as a draft and is
// submitted on its own.
const (
	ListingDraft     = "DRAFT"
	ListingSubmitted = "SUBMITTED"
	ListingCertified = "CERTIFIED"
)

// Model is a kind of device a vendor makes.
type Model struct {
	VendorCode    string `json:"vendorCode"`
	ModelID       string `json:"modelId"`
	Kind          string `json:"kind"`
	Name          string `json:"name"`
	DeviceType    string `json:"deviceType,omitempty"`
	Certification string `json:"certification"`
	// CertificationReason is the operator's reason for a rejection.
	CertificationReason string   `json:"certificationRejectReason,omitempty"`
	Marketplaces        []string `json:"marketplaces"`
	// Listings holds, per marketplace, the customer-facing names and the
	// marketplace's certification state.
	Listings map[string]Listing `json:"listings"`
	// Image is the model's default image, if any.
	Image     *ImageInfo `json:"image,omitempty"`
	Slots     []Slot     `json:"slots"`
	CreatedAt time.Time  `json:"createdAt"`
}

// Listing is a model in one marketplace: what customers there see, and
// where its certification stands.
type Listing struct {
	Status       string            `json:"status"`
	DeviceName   string            `json:"deviceName"`
	SlotNames    map[string]string `json:"slotNames"`
	RejectReason string            `json:"rejectReason,omitempty"`
	// Image is the marketplace's own image, if any; else the model's.
	Image *ImageInfo `json:"image,omitempty"`
}

// ImageInfo describes a stored image.
type ImageInfo struct {
	ContentType string    `json:"contentType"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	Bytes       int       `json:"bytes"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Image is a stored image with its bytes.
type Image struct {
	ImageInfo
	Data []byte
}

// AuditEntry records one operator change of a vendor's model: who, when,
// what, and the model before and after as JSON (null when there was none).
type AuditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	VendorCode string          `json:"vendorCode"`
	ModelID    string          `json:"modelId"`
	Action     string          `json:"action"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

// APIKey describes an API key without revealing it.
type APIKey struct {
	KeyID     string    `json:"keyId"`
	CreatedAt time.Time `json:"createdAt"`
}

// Slot is one consumable position of a model.
type Slot struct {
	SlotID   string `json:"slotId"`
	Category string `json:"category,omitempty"`
	// Products lists, per marketplace, the products a customer may choose.
	Products map[string][]string `json:"products"`
	// Request is the slot's replenishment-ID request, if any.
	Request *Request `json:"replenishmentRequest,omitempty"`
}

// Sensor types.
const (
	SensorLevel      = "LEVEL"
	SensorUsage      = "USAGE"
	SensorLevelUsage = "LEVEL_USAGE"
)

// Reorder policies.
const (
	PolicyThreshold = "THRESHOLD"
	PolicyForecast  = "FORECAST"
)

// Replenishment-ID request states.
const (
	RequestDraft     = "DRAFT"
	RequestSubmitted = "SUBMITTED"
	RequestAssigned  = "ASSIGNED"
	RequestRejected  = "REJECTED"
)

// Request is a vendor's description of one slot's sensor, and the
// operator's answer to it.
type Request struct {
	RequestID       string      `json:"requestId"`
	VendorCode      string      `json:"vendorCode"`
	ModelID         string      `json:"modelId"`
	SlotID          string      `json:"slotId"`
	SensorType      string      `json:"sensorType"`
	Measurement     Measurement `json:"measurement"`
	Description     string      `json:"description"`
	Status          string      `json:"status"`
	RejectReason    string      `json:"rejectReason,omitempty"`
	ReplenishmentID string      `json:"replenishmentId,omitempty"`
	Threshold       *float64    `json:"threshold,omitempty"` // in Measurement's unit
	Policy          string      `json:"policy,omitempty"`
	// ServiceLevel is the FORECAST policy's, in per cent (once assigned).
	ServiceLevel *float64   `json:"serviceLevel,omitempty"`
	SubmittedAt  *time.Time `json:"submittedAt,omitempty"`
	DecidedAt    *time.Time `json:"decidedAt,omitempty"`
	UpdatedAt    time.Time  `json:"updatedAt"`
}

// Measurement is how a sensor measures: a type and, for Volume and
// Weight, the unit the vendor declared.
type Measurement struct {
	Type measure.Type `json:"type"`
	Unit measure.Unit `json:"unit,omitempty"`
}

// Customer is a person with devices at home.
type Customer struct {
	CustomerID  string    `json:"customerId"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Marketplace string    `json:"marketplace"`
	Locale      string    `json:"locale"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Link states.
const (
	LinkPending  = "PENDING"
	LinkLinked   = "LINKED"
	LinkFailed   = "FAILED"
	LinkUnlinked = "UNLINKED"
)

// Link is a customer's account link with one vendor.
type Link struct {
	CustomerID string    `json:"customerId"`
	VendorCode string    `json:"vendorCode"`
	Status     string    `json:"status"`
	Endpoints  int       `json:"endpoints"`
	UpdatedAt  time.Time `json:"updatedAt"`
	// GranteeToken identifies the customer to the vendor's cloud: the
	// vendor's own access token when the customer signed in at the
	// vendor, else one Replenish minted.
	GranteeToken string `json:"-"`
	// GranteeRefresh renews a vendor's GranteeToken once
	// GranteeExpiresAt has passed; both are empty for a minted one.
	GranteeRefresh   string    `json:"-"`
	GranteeExpiresAt time.Time `json:"-"`
	// AuthorizeURL is where the customer's browser goes to sign in at
	// the vendor, while a link through the vendor's page is PENDING.
	AuthorizeURL string `json:"authorizeUrl,omitempty"`
}

// Modes a customer chooses per slot.
const (
	ModeNotify = "NOTIFY"
	ModeAuto   = "AUTO"
	ModeOff    = "OFF"
)

// Slot statuses shown to customers.
const (
	StatusOK           = "OK"
	StatusLow          = "LOW"
	StatusNotReporting = "NOT_REPORTING"
	StatusUnknown      = "UNKNOWN"
)

// Endpoint is one physical device of a customer.
type Endpoint struct {
	EndpointID   string         `json:"endpointId"`
	VendorCode   string         `json:"vendorCode"`
	CustomerID   string         `json:"-"`
	ModelID      string         `json:"modelId"`
	FriendlyName string         `json:"friendlyName"`
	Slots        []EndpointSlot `json:"-"`
	// Cookie is what the vendor's discovery gave, to send back in every
	// directive for the endpoint. Written with the endpoint; lookups of
	// endpoints leave it out (storage's EndpointCookie reads it).
	Cookie json.RawMessage `json:"-"`
}

// EndpointSlot is one inventory sensor of one endpoint: what the model's
// replenishment ID declared, what the customer chose, and the engine's state.
type EndpointSlot struct {
	ID              int64  // storage key
	EndpointID      string // the vendor's endpointId
	VendorCode      string
	CustomerID      string
	ModelID         string
	SlotID          string
	Instance        string // the capability instance, e.g. "InkSensor.Black"
	Name            string
	ReplenishmentID string
	SensorType      string
	Measurement     Measurement
	Threshold       float64 // in the measurement's base unit
	Policy          string
	Mode            string
	ProductID       string
	// ChosenPrice is the offer's price when the customer chose ProductID
	// (or when discovery chose it): an automatic order is held when the
	// price has risen too much since.
	ChosenPrice string
	// Plan is what the FORECAST policy knows of ordering for this slot.
	Plan  Plan
	State SlotState
}

// Plan is what a run-out forecast needs beyond the slot's readings: how
// sure the service must be not to run out, and how long an order takes to
// arrive.
type Plan struct {
	// ServiceLevel is the chance, in per cent, that an order placed by the
	// FORECAST policy arrives before the supply runs out; the operator
	// sets it per replenishment ID.
	ServiceLevel float64
	// LeadDays and LeadSD are the mean delivery lead time of the
	// customer's marketplace and its standard deviation, in days.
	LeadDays, LeadSD float64
	// Window is the cancellation window, which every order waits out
	// before it is released.
	Window time.Duration
}

// DefaultServiceLevel is the FORECAST policy's service level unless the
// operator sets another.
const DefaultServiceLevel = 95.0

// Rate is a slot's running estimate of its consumption, kept by the
// engine. It holds exponentially weighted sums over the observations,
// over a long memory and a short one, so that each reading updates it in
// constant time whatever the length of the history. Times are Unix
// microseconds and every field is a number, so that the estimate is a
// value of fixed size.
type Rate struct {
	// At is the time of the newest observation, Since of the first; N
	// counts them.
	At, Since, N int64
	// SuspectAt and SuspectAmount hold a drop of the level too large to
	// trust until the next reading confirms it (SuspectAt is 0 when none
	// is held).
	SuspectAt int64
	// EmptySince is when the device started reading empty (0 when it does
	// not).
	EmptySince int64
	// Over the long memory: the weight of the observations, the use they
	// saw, the days they cover, their squared residual use, and the sum of
	// products of successive residuals (which reveals reading noise).
	W, Used, Days, Sq, Lag float64
	// Over the short memory: the use and the days.
	ShortUsed, ShortDays float64
	// Up and Down are the cumulative sums that tell a change of habit.
	Up, Down float64
	// Last is the newest residual: use beyond what the estimate expected.
	Last          float64
	SuspectAmount float64
}

// SlotState is what the engine keeps per slot between readings.
type SlotState struct {
	// Amount is the newest amount, in the measurement's base unit; valid
	// when LastSampleAt is set. What it counts depends on the sensor: the
	// supply left in the device (LEVEL), the household inventory (USAGE),
	// the share of the part's life left (LEVEL_USAGE).
	Amount       float64
	LastSampleAt time.Time
	// Capacity is the largest amount seen right after a refill.
	Capacity float64
	// LowCount counts consecutive readings at or below the threshold.
	LowCount int
	// Notified and Ordered record what this low episode already did; a
	// refill clears both.
	Notified    bool
	Ordered     bool
	OpenOrderID string
	// ReplacedAt is when the slot's part was last replaced or refilled
	// (the installed part's date); usage sampled before it belongs to the
	// old part.
	ReplacedAt time.Time
	// Household is the spare supply at home, outside the device, in the
	// base unit (whole parts for a Percentage measurement). A USAGE slot
	// keeps it in Amount instead, since that is what its sensor lowers.
	Household float64
	// CancelStreak counts the customer's cancellations of automatic
	// orders in a row; CooldownUntil is when the last one stops holding
	// back the next order.
	CancelStreak  int
	CooldownUntil time.Time
	// OnOrder is what the open order brings once it ships, in the unit of
	// Household: part of the inventory position a forecast counts.
	OnOrder float64
	// Rate is the consumption estimate.
	Rate Rate
}

// Order statuses.
const (
	OrderPending   = "PENDING"
	OrderReleased  = "RELEASED"
	OrderShipped   = "SHIPPED"
	OrderDelivered = "DELIVERED"
	OrderCancelled = "CANCELLED"
)

// Who takes a step of an order.
const (
	ActorCustomer   = "customer"
	ActorOperator   = "operator"
	ActorVendor     = "vendor"
	ActorFulfilment = "fulfilment" // the commerce system of the webhook adapter
	ActorService    = "service"    // Replenish itself: timers and rules
)

// Order is one reorder of one slot's product.
type Order struct {
	OrderID    string `json:"orderId"`
	CustomerID string `json:"customerId"`
	VendorCode string `json:"vendorCode"`
	EndpointID string `json:"endpointId"`
	SlotID     string `json:"slotId"`
	ProductID  string `json:"productId"`
	Quantity   int    `json:"quantity"`
	// PackQuantity and PackUnit are the product's pack when ordered: what
	// one unit of Quantity adds to the household inventory.
	PackQuantity float64   `json:"packQuantity"`
	PackUnit     string    `json:"packUnit"`
	Price        string    `json:"price"`
	Currency     string    `json:"currency"`
	Test         bool      `json:"test"`
	Status       string    `json:"status"`
	PlacedAt     time.Time `json:"placedAt"`
	CancelBy     time.Time `json:"cancelBy"`
	// Reason holds the inputs of the decision that placed the order.
	Reason            map[string]any `json:"reason"`
	TrackingReference string         `json:"trackingReference,omitempty"`
	UpdatedAt         time.Time      `json:"updatedAt"`
	// Steps is the order's history, oldest first: one step per state.
	Steps []OrderStep `json:"history"`
	// SlotKey is the storage key of the endpoint slot.
	SlotKey int64 `json:"-"`
	// DueAt is when a timer next moves the order (zero: none does).
	DueAt time.Time `json:"-"`
}

// OrderStep is one state an order entered: when, by whom and why.
type OrderStep struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
}

// Open reports whether an order still holds its slot: placed and not yet
// delivered or cancelled.
func (o Order) Open() bool {
	return o.Status == OrderPending || o.Status == OrderReleased || o.Status == OrderShipped
}

// Feed entry types.
const (
	FeedLowSupply      = "LOW_SUPPLY"
	FeedOrderPlaced    = "ORDER_PLACED"
	FeedOrderShipped   = "ORDER_SHIPPED"
	FeedOrderDelivered = "ORDER_DELIVERED"
	FeedOrderCancelled = "ORDER_CANCELLED"
	FeedNotReporting   = "NOT_REPORTING"
)

// FeedTypes are the types of customer notifications, in the order
// settings list them.
var FeedTypes = []string{FeedLowSupply, FeedOrderPlaced, FeedOrderShipped, FeedOrderDelivered, FeedOrderCancelled, FeedNotReporting}

// FeedEntry is one in-app notification of a customer.
type FeedEntry struct {
	ID         int64  `json:"id"`
	CustomerID string `json:"-"`
	Type       string `json:"type"`
	EndpointID string `json:"endpointId,omitempty"`
	SlotID     string `json:"slotId,omitempty"`
	OrderID    string `json:"orderId,omitempty"`
	Message    string `json:"message"`
	// Reason is the inputs of the decision behind a LOW_SUPPLY entry.
	Reason    json.RawMessage `json:"reason,omitempty"`
	CreatedAt time.Time       `json:"createdAt"`
	Read      bool            `json:"read"`
}

// NotificationSettings is how a customer wants to be told: by e-mail, in
// the feed, at a webhook of theirs (for home automation), and which types.
type NotificationSettings struct {
	Email      bool            `json:"email"`
	Feed       bool            `json:"feed"`
	WebhookURL string          `json:"webhookUrl"`
	Types      map[string]bool `json:"types"`
}

// Wants reports whether the settings let notifications of type t through.
func (s NotificationSettings) Wants(t string) bool {
	on, set := s.Types[t]
	return on || !set
}

// DefaultNotificationSettings are a new customer's: e-mail and the feed,
// every type.
func DefaultNotificationSettings() NotificationSettings {
	types := map[string]bool{}
	for _, t := range FeedTypes {
		types[t] = true
	}
	return NotificationSettings{Email: true, Feed: true, Types: types}
}

// Slot history entry types.
const (
	HistoryReading      = "READING"      // a level the device reported
	HistoryConsumption  = "CONSUMPTION"  // usage the device reported
	HistoryReplacement  = "REPLACEMENT"  // a new part, reported or set
	HistoryHousehold    = "HOUSEHOLD"    // the household inventory changed
	HistoryOrder        = "ORDER"        // an order of the slot took a step
	HistoryNotification = "NOTIFICATION" // the customer was told something
	HistoryChange       = "CHANGE"       // the customer changed the slot
)

// HistoryEntry is one thing that happened to a slot. Amounts are in the
// measurement's base unit in storage, and in the slot's declared unit
// (Unit) as the customer API shows them.
type HistoryEntry struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Amount is what was left (readings, consumption, replacements) or
	// the household inventory after a change.
	Amount *float64 `json:"amount,omitempty"`
	// Delta is what was used (consumption) or added (household changes;
	// negative when removed).
	Delta   *float64 `json:"delta,omitempty"`
	Unit    string   `json:"unit,omitempty"`
	OrderID string   `json:"orderId,omitempty"`
	Status  string   `json:"status,omitempty"`
	Actor   string   `json:"actor,omitempty"`
	Message string   `json:"message,omitempty"`
	// Seq orders entries of the same time and type.
	Seq int64 `json:"-"`
}
