// Package gateway is the event gateway: the Alexa Smart Home v3 message
// types, their validation, and the service that accepts events from
// vendors' clouds into the engine.
package gateway

import (
	"encoding/json"
	"net/http"

	"replenish"
)

// Message is the envelope of every Alexa message: an event (vendor to
// Replenish) or a directive (Replenish to vendor), and a context.
type Message struct {
	Event     *Event     `json:"event,omitempty"`
	Directive *Directive `json:"directive,omitempty"`
	Context   *Context   `json:"context,omitempty"`
}

// Header identifies a message.
type Header struct {
	Namespace        string `json:"namespace"`
	Name             string `json:"name"`
	Instance         string `json:"instance,omitempty"`
	PayloadVersion   string `json:"payloadVersion"`
	MessageID        string `json:"messageId"`
	CorrelationToken string `json:"correlationToken,omitempty"`
}

// Scope carries the bearer token of the customer a message is about.
type Scope struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// EndpointRef names the endpoint a message is about.
type EndpointRef struct {
	Scope      *Scope `json:"scope,omitempty"`
	EndpointID string `json:"endpointId"`
	// Cookie is what discovery gave for the endpoint, sent back unchanged
	// in every directive for it, as Alexa does.
	Cookie json.RawMessage `json:"cookie,omitempty"`
}

// Event is sent by a vendor's cloud to the gateway.
type Event struct {
	Header   Header          `json:"header"`
	Endpoint *EndpointRef    `json:"endpoint,omitempty"`
	Payload  json.RawMessage `json:"payload"`
}

// Directive is sent by Replenish to a vendor's skill endpoint.
type Directive struct {
	Header   Header       `json:"header"`
	Endpoint *EndpointRef `json:"endpoint,omitempty"`
	Payload  any          `json:"payload"`
}

// Context carries the state of an endpoint's properties.
type Context struct {
	Properties []Property `json:"properties"`
}

// Property is one reported property. Value is kept raw because its shape
// depends on the interface; Unit is the flat form's sibling unit.
type Property struct {
	Namespace                 string          `json:"namespace"`
	Instance                  string          `json:"instance,omitempty"`
	Name                      string          `json:"name"`
	Value                     json.RawMessage `json:"value"`
	Unit                      json.RawMessage `json:"unit,omitempty"`
	TimeOfSample              string          `json:"timeOfSample"`
	UncertaintyInMilliseconds int64           `json:"uncertaintyInMilliseconds"`
}

// ChangePayload is the payload of a ChangeReport.
type ChangePayload struct {
	Change struct {
		Cause      *Cause     `json:"cause"`
		Properties []Property `json:"properties"`
	} `json:"change"`
}

// Cause says why a property changed.
type Cause struct {
	Type string `json:"type"`
}

// DiscoveryPayload is the payload of AddOrUpdateReport and Discover.Response.
type DiscoveryPayload struct {
	Endpoints []DiscoveredEndpoint `json:"endpoints"`
	Scope     *Scope               `json:"scope,omitempty"`
}

// DiscoveredEndpoint describes one device in discovery.
type DiscoveredEndpoint struct {
	EndpointID           string                `json:"endpointId"`
	ManufacturerName     string                `json:"manufacturerName,omitempty"`
	Description          string                `json:"description,omitempty"`
	FriendlyName         string                `json:"friendlyName"`
	DisplayCategories    []string              `json:"displayCategories,omitempty"`
	AdditionalAttributes *AdditionalAttributes `json:"additionalAttributes,omitempty"`
	Capabilities         []Capability          `json:"capabilities"`
	Cookie               json.RawMessage       `json:"cookie,omitempty"`
}

// AdditionalAttributes are optional facts about a device.
type AdditionalAttributes struct {
	Manufacturer    string `json:"manufacturer,omitempty"`
	Model           string `json:"model,omitempty"`
	SerialNumber    string `json:"serialNumber,omitempty"`
	FirmwareVersion string `json:"firmwareVersion,omitempty"`
}

// Capability is one interface an endpoint supports.
type Capability struct {
	Type                string               `json:"type"`
	Interface           string               `json:"interface"`
	Version             string               `json:"version"`
	Instance            string               `json:"instance,omitempty"`
	Properties          *CapabilityProps     `json:"properties,omitempty"`
	CapabilityResources *CapabilityResources `json:"capabilityResources,omitempty"`
	Configuration       *CapabilityConfig    `json:"configuration,omitempty"`
}

// CapabilityProps lists what a capability reports.
type CapabilityProps struct {
	Supported           []SupportedProperty `json:"supported"`
	ProactivelyReported bool                `json:"proactivelyReported"`
	Retrievable         bool                `json:"retrievable"`
}

// CapabilityResources holds a capability's friendly names.
type CapabilityResources struct {
	FriendlyNames []FriendlyName `json:"friendlyNames"`
}

// FriendlyName is one localized (or asset) name.
type FriendlyName struct {
	Type  string `json:"@type"`
	Value struct {
		Text    string `json:"text,omitempty"`
		Locale  string `json:"locale,omitempty"`
		AssetID string `json:"assetId,omitempty"`
	} `json:"value"`
}

// SupportedProperty names one property a capability reports.
type SupportedProperty struct {
	Name string `json:"name"`
}

// CapabilityConfig ties an inventory sensor to a replenishment ID.
type CapabilityConfig struct {
	Measurement   *MeasurementConfig   `json:"measurement,omitempty"`
	Replenishment *ReplenishmentConfig `json:"replenishment,omitempty"`
}

// MeasurementConfig is how an inventory sensor measures.
type MeasurementConfig struct {
	Type string `json:"@type"`
	Unit string `json:"unit,omitempty"`
}

// ReplenishmentConfig names the replenishment ID a sensor feeds.
type ReplenishmentConfig struct {
	Type  string `json:"@type"` // always "DashReplenishmentId"
	Value string `json:"value"`
}

// The inventory interfaces and what sensor type each one is.
const (
	LevelSensor      = "Alexa.InventoryLevelSensor"
	UsageSensor      = "Alexa.InventoryUsageSensor"
	LevelUsageSensor = "Alexa.InventoryLevelUsageSensor"
)

// SensorInterface maps a replenishment request's sensor type to its interface.
var SensorInterface = map[string]string{
	"LEVEL":       LevelSensor,
	"USAGE":       UsageSensor,
	"LEVEL_USAGE": LevelUsageSensor,
}

// Exception maps an error code to the gateway's exception code and the
// HTTP status it is answered with (an ack's status over MQTT); codes the
// gateway does not answer with are an internal error.
func Exception(code string) (exception string, status int) {
	e, ok := exceptions[code]
	if !ok {
		return "INTERNAL_SERVICE_EXCEPTION", http.StatusInternalServerError
	}
	return e.code, e.status
}

var exceptions = map[string]struct {
	code   string
	status int
}{
	replenish.EInvalid:      {"INVALID_REQUEST_EXCEPTION", http.StatusBadRequest},
	replenish.ENotFound:     {"INVALID_REQUEST_EXCEPTION", http.StatusBadRequest},
	replenish.EConflict:     {"INVALID_REQUEST_EXCEPTION", http.StatusBadRequest},
	replenish.EUnauthorized: {"INVALID_ACCESS_TOKEN_EXCEPTION", http.StatusUnauthorized},
	replenish.EDisabled:     {"SKILL_DISABLED_EXCEPTION", http.StatusForbidden},
	replenish.EForbidden:    {"INSUFFICIENT_PERMISSION_EXCEPTION", http.StatusForbidden},
	replenish.ETooLarge:     {"REQUEST_ENTITY_TOO_LARGE_EXCEPTION", http.StatusRequestEntityTooLarge},
	replenish.EThrottled:    {"THROTTLING_EXCEPTION", http.StatusTooManyRequests},
	replenish.EUnavailable:  {"SERVICE_UNAVAILABLE_EXCEPTION", http.StatusServiceUnavailable},
	replenish.EInternal:     {"INTERNAL_SERVICE_EXCEPTION", http.StatusInternalServerError},
}
