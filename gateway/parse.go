package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"replenish"
)

// The rules of wire.md, section 4.
var (
	messageIDPattern  = regexp.MustCompile(`^[A-Za-z0-9-]{1,127}$`)
	endpointIDPattern = regexp.MustCompile(`^[A-Za-z0-9_\-=#;:?@&]{1,256}$`)
	samplePattern     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$`)
	causeTypes        = []string{"APP_INTERACTION", "PHYSICAL_INTERACTION", "PERIODIC_POLL", "RULE_TRIGGER", "VOICE_INTERACTION"}
)

// MaxFuture is how far in the future a timeOfSample may be.
const MaxFuture = 5 * time.Minute

// MaxInstance is the longest capability instance name.
const MaxInstance = 128

// MaxCookie is the largest endpoint cookie, as Alexa allows.
const MaxCookie = 5000

// Report is a validated event: what it is, whose token it carries, and
// what it reports. Level values are still raw: their flat form can only
// be read knowing the slot's measurement.
type Report struct {
	Header     Header
	Token      string // the token in the body
	EndpointID string // for reports about one endpoint
	Levels     []Level
	// Usage is what an InventoryConsumed reports, Replaced what an
	// InventoryReplaced reports (its Value empty for the default, 100 %).
	Usage    *Level
	Replaced *Level
	// Endpoints are the endpoints an AddOrUpdateReport describes, Deleted
	// those a DeleteReport removes.
	Endpoints []DiscoveredEndpoint
	Deleted   []string
	// Error is what an ErrorResponse says went wrong with the endpoint.
	Error *ErrorPayload
}

// ErrorPayload is the payload of an Alexa ErrorResponse: a ReportState, or
// the endpoint, failed.
type ErrorPayload struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Level is one inventory level reported for one sensor instance.
type Level struct {
	Field    string // where it was in the message, for errors
	Instance string
	Value    json.RawMessage
	Unit     json.RawMessage
	SampleAt time.Time
}

func invalid(field, problem string) error { return replenish.FieldError(field, problem) }

// Parse validates an event body at time now. Properties of interfaces
// other than the inventory sensors are legal and ignored.
func Parse(body []byte, now time.Time) (*Report, error) { return parse(body, now, true) }

// ParseDevice validates an event a device sent over MQTT, whose session
// is its identity: the scope and its token may be left out.
func ParseDevice(body []byte, now time.Time) (*Report, error) { return parse(body, now, false) }

// parse validates an event; scoped says that discovery and deletion must
// carry a scope token.
func parse(body []byte, now time.Time, scoped bool) (*Report, error) {
	var msg Message
	if err := json.Unmarshal(body, &msg); err != nil {
		return nil, invalid("body", "not a JSON Alexa message: "+jsonProblem(err))
	}
	if msg.Event == nil {
		return nil, invalid("event", "required")
	}
	h := msg.Event.Header
	if h.PayloadVersion != "3" {
		return nil, invalid("event.header.payloadVersion", `must be "3"`)
	}
	if !messageIDPattern.MatchString(h.MessageID) {
		return nil, invalid("event.header.messageId", "must be 1 to 127 characters of A-Z a-z 0-9 -")
	}
	r := &Report{Header: h}
	switch h.Namespace + "/" + h.Name {
	case "Alexa.Discovery/AddOrUpdateReport":
		if err := parseDiscovery(r, msg.Event.Payload, scoped); err != nil {
			return nil, err
		}
		return r, nil
	case "Alexa.Discovery/DeleteReport":
		if err := parseDelete(r, msg.Event.Payload, scoped); err != nil {
			return nil, err
		}
		return r, nil
	case UsageSensor + "/InventoryConsumed", LevelUsageSensor + "/InventoryConsumed":
		if err := parseEndpoint(r, msg.Event.Endpoint); err != nil {
			return nil, err
		}
		if err := parseConsumed(r, msg.Event.Payload, now); err != nil {
			return nil, err
		}
	case LevelUsageSensor + "/InventoryReplaced":
		if err := parseEndpoint(r, msg.Event.Endpoint); err != nil {
			return nil, err
		}
		if err := parseReplaced(r, msg.Event.Payload, now); err != nil {
			return nil, err
		}
	case "Alexa/ChangeReport":
		if err := parseEndpoint(r, msg.Event.Endpoint); err != nil {
			return nil, err
		}
		var p ChangePayload
		if err := json.Unmarshal(msg.Event.Payload, &p); err != nil {
			return nil, invalid("event.payload", jsonProblem(err))
		}
		if p.Change.Cause == nil {
			return nil, invalid("event.payload.change.cause.type", "required")
		}
		if !slices.Contains(causeTypes, p.Change.Cause.Type) {
			return nil, invalid("event.payload.change.cause.type", fmt.Sprintf("must be one of %v", causeTypes))
		}
		if len(p.Change.Properties) == 0 {
			return nil, invalid("event.payload.change.properties", "at least one property")
		}
		if err := r.addLevels("event.payload.change.properties", p.Change.Properties, now); err != nil {
			return nil, err
		}
	case "Alexa/StateReport", "Alexa/Response":
		if err := parseEndpoint(r, msg.Event.Endpoint); err != nil {
			return nil, err
		}
	case "Alexa/ErrorResponse":
		// Recorded in the endpoint's history, never a reading.
		if err := parseEndpoint(r, msg.Event.Endpoint); err != nil {
			return nil, err
		}
		var p ErrorPayload
		if err := json.Unmarshal(msg.Event.Payload, &p); err != nil {
			return nil, invalid("event.payload", jsonProblem(err))
		}
		switch {
		case p.Type == "":
			return nil, invalid("event.payload.type", "required: what failed, such as ENDPOINT_UNREACHABLE")
		case len(p.Type) > 64:
			return nil, invalid("event.payload.type", "at most 64 bytes")
		case len(p.Message) > 1024:
			return nil, invalid("event.payload.message", "at most 1024 bytes")
		}
		r.Error = &p
		return r, nil
	default:
		return nil, invalid("event.header.name", fmt.Sprintf("%s / %s is not an event Replenish accepts", h.Namespace, h.Name))
	}
	if msg.Context != nil {
		if err := r.addLevels("context.properties", msg.Context.Properties, now); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func parseEndpoint(r *Report, e *EndpointRef) error {
	if e == nil {
		return invalid("event.endpoint", "required")
	}
	if !endpointIDPattern.MatchString(e.EndpointID) {
		return invalid("event.endpoint.endpointId", "must be 1 to 256 characters of A-Z a-z 0-9 _ - = # ; : ? @ &")
	}
	r.EndpointID = e.EndpointID
	if e.Scope != nil {
		r.Token = e.Scope.Token
	}
	return nil
}

// addLevels validates the inventory level properties among props.
func (r *Report) addLevels(field string, props []Property, now time.Time) error {
	for i, p := range props {
		if p.Namespace != LevelSensor {
			continue
		}
		f := field + "[" + strconv.Itoa(i) + "]"
		if p.Name != "level" {
			return invalid(f+".name", `an Alexa.InventoryLevelSensor reports "level"`)
		}
		if p.Instance == "" {
			return invalid(f+".instance", "required: the sensor instance from discovery")
		}
		if len(p.Value) == 0 || string(p.Value) == "null" {
			return invalid(f+".value", "required")
		}
		at, err := parseSampleTime(f+".timeOfSample", p.TimeOfSample, now)
		if err != nil {
			return err
		}
		r.Levels = append(r.Levels, Level{Field: f, Instance: p.Instance, Value: p.Value, Unit: p.Unit, SampleAt: at})
	}
	return nil
}

func parseSampleTime(field, s string, now time.Time) (time.Time, error) {
	if !samplePattern.MatchString(s) {
		return time.Time{}, invalid(field, "must be ISO-8601 UTC with Z and 0 to 3 fraction digits, such as 2026-11-22T10:00:00.000Z")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid(field, "not a valid date and time")
	}
	if t.Sub(now) > MaxFuture {
		return time.Time{}, invalid(field, "more than 5 minutes in the future; check the device's clock")
	}
	if t.Before(replenish.Earliest) {
		return time.Time{}, invalid(field, "before 2000-01-01T00:00:00Z: the device's clock was never set")
	}
	return t, nil
}

// UsagePayload is the payload of an InventoryConsumed event.
type UsagePayload struct {
	Usage        json.RawMessage `json:"usage"`
	TimeOfSample string          `json:"timeOfSample"`
}

// ReplacedPayload is the payload of an InventoryReplaced event. Amazon's
// JSON for it is not public: the names follow the ACK SDK's
// new_absolute_level and replace_date.
type ReplacedPayload struct {
	NewAbsoluteLevel json.RawMessage `json:"newAbsoluteLevel"`
	ReplaceDate      string          `json:"replaceDate"`
}

// sensorInstance is the sensor an InventoryConsumed or InventoryReplaced
// is about: event.header.instance.
func sensorInstance(r *Report) (string, error) {
	if r.Header.Instance == "" {
		return "", invalid("event.header.instance", "required: the sensor instance from discovery")
	}
	return r.Header.Instance, nil
}

func parseConsumed(r *Report, payload json.RawMessage, now time.Time) error {
	instance, err := sensorInstance(r)
	if err != nil {
		return err
	}
	var p UsagePayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return invalid("event.payload", jsonProblem(err))
	}
	if len(p.Usage) == 0 || string(p.Usage) == "null" {
		return invalid("event.payload.usage", "required")
	}
	at, err := parseSampleTime("event.payload.timeOfSample", p.TimeOfSample, now)
	if err != nil {
		return err
	}
	r.Usage = &Level{Field: "event.payload.usage", Instance: instance, Value: p.Usage, SampleAt: at}
	return nil
}

func parseReplaced(r *Report, payload json.RawMessage, now time.Time) error {
	instance, err := sensorInstance(r)
	if err != nil {
		return err
	}
	var p ReplacedPayload
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &p); err != nil {
			return invalid("event.payload", jsonProblem(err))
		}
	}
	at := now
	if p.ReplaceDate != "" {
		if at, err = parseSampleTime("event.payload.replaceDate", p.ReplaceDate, now); err != nil {
			return err
		}
	}
	if string(p.NewAbsoluteLevel) == "null" {
		p.NewAbsoluteLevel = nil
	}
	r.Replaced = &Level{Field: "event.payload.newAbsoluteLevel", Instance: instance, Value: p.NewAbsoluteLevel, SampleAt: at}
	return nil
}

// DeletePayload is the payload of a DeleteReport.
type DeletePayload struct {
	Endpoints []struct {
		EndpointID string `json:"endpointId"`
	} `json:"endpoints"`
	Scope *Scope `json:"scope,omitempty"`
}

func parseDelete(r *Report, payload json.RawMessage, scoped bool) error {
	var p DeletePayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return invalid("event.payload", jsonProblem(err))
	}
	if scoped && (p.Scope == nil || p.Scope.Token == "") {
		return invalid("event.payload.scope.token", "required")
	}
	if p.Scope != nil {
		r.Token = p.Scope.Token
	}
	if len(p.Endpoints) == 0 {
		return invalid("event.payload.endpoints", "at least one endpoint")
	}
	seen := map[string]bool{}
	for i, e := range p.Endpoints {
		f := fmt.Sprintf("event.payload.endpoints[%d].endpointId", i)
		if !endpointIDPattern.MatchString(e.EndpointID) {
			return invalid(f, "must be 1 to 256 characters of A-Z a-z 0-9 _ - = # ; : ? @ &")
		}
		if seen[e.EndpointID] {
			return invalid(f, e.EndpointID+" is listed twice")
		}
		seen[e.EndpointID] = true
		r.Deleted = append(r.Deleted, e.EndpointID)
	}
	return nil
}

func parseDiscovery(r *Report, payload json.RawMessage, scoped bool) error {
	var p DiscoveryPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return invalid("event.payload", jsonProblem(err))
	}
	if scoped && (p.Scope == nil || p.Scope.Token == "") {
		return invalid("event.payload.scope.token", "required")
	}
	if p.Scope != nil {
		r.Token = p.Scope.Token
	}
	if len(p.Endpoints) == 0 {
		return invalid("event.payload.endpoints", "at least one endpoint")
	}
	if err := CheckEndpoints("event.payload.endpoints", p.Endpoints); err != nil {
		return err
	}
	r.Endpoints = p.Endpoints
	return nil
}

// CheckEndpoints validates the shape of discovered endpoints: their IDs
// and the configuration of their inventory capabilities.
func CheckEndpoints(field string, es []DiscoveredEndpoint) error {
	seen := map[string]bool{}
	for i, e := range es {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !endpointIDPattern.MatchString(e.EndpointID) {
			return invalid(f+".endpointId", "must be 1 to 256 characters of A-Z a-z 0-9 _ - = # ; : ? @ &")
		}
		if seen[e.EndpointID] {
			return invalid(f+".endpointId", e.EndpointID+" is listed twice")
		}
		seen[e.EndpointID] = true
		if c := bytes.TrimSpace(e.Cookie); len(c) > 0 && !bytes.Equal(c, []byte("null")) {
			switch {
			case c[0] != '{':
				return invalid(f+".cookie", "must be an object of key/value pairs")
			case len(c) > MaxCookie:
				return invalid(f+".cookie", fmt.Sprintf("at most %d bytes", MaxCookie))
			}
			es[i].Cookie = c
		} else {
			es[i].Cookie = nil
		}
		instances, rids := map[string]bool{}, map[string]bool{}
		for j, c := range e.Capabilities {
			cf := fmt.Sprintf("%s.capabilities[%d]", f, j)
			if !isInventory(c.Interface) {
				continue
			}
			if c.Instance == "" {
				return invalid(cf+".instance", "required for an inventory sensor")
			}
			if len(c.Instance) > MaxInstance {
				return invalid(cf+".instance", fmt.Sprintf("at most %d bytes", MaxInstance))
			}
			if instances[c.Instance] {
				return invalid(cf+".instance", c.Instance+" is listed twice")
			}
			instances[c.Instance] = true
			if c.Configuration == nil || c.Configuration.Replenishment == nil ||
				c.Configuration.Replenishment.Type != "DashReplenishmentId" || c.Configuration.Replenishment.Value == "" {
				return invalid(cf+".configuration.replenishment", `required: {"@type":"DashReplenishmentId","value":"<replenishment ID>"}`)
			}
			// A replenishment ID is one slot of one endpoint.
			if rid := c.Configuration.Replenishment.Value; rids[rid] {
				return invalid(cf+".configuration.replenishment.value", "replenishment ID "+rid+
					" is named by another capability of this endpoint: one sensor per replenishment ID")
			} else {
				rids[rid] = true
			}
			if c.Configuration.Measurement == nil || c.Configuration.Measurement.Type == "" {
				return invalid(cf+".configuration.measurement", `required: {"@type":"Percentage"} or another measurement`)
			}
		}
	}
	return nil
}

func isInventory(iface string) bool {
	return iface == LevelSensor || iface == UsageSensor || iface == LevelUsageSensor
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type, te.Value)
	default:
		return "malformed JSON"
	}
}
