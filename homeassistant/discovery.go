package homeassistant

import (
	"encoding/json"
	"strconv"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/measure"
)

// Device is one of the customer's endpoints as Home Assistant is told of
// it: the endpoint with its slots, who made it, and each slot's newest
// order.
type Device struct {
	Endpoint customers.Endpoint
	Vendor   string // the vendor's name
	Model    customers.PageModel
	// Orders are the newest order of each slot, by slot ID, with the
	// product's title in the customer's marketplace.
	Orders map[string]Order
}

// Order is a slot's newest order as its entity's attributes show it.
type Order struct {
	replenish.Order
	Title string
}

// Message is one retained MQTT message: a discovery config, a state or
// attributes. An empty payload removes what the topic held.
type Message struct {
	Topic   string
	Payload string
}

// Topics are the topics of one customer's bridge.
type Topics struct {
	// Prefix is Home Assistant's discovery prefix.
	Prefix string
	// Base is the root of the customer's states and commands:
	// replenish/<customer>.
	Base string
}

// topicsOf returns the topics of a customer's bridge.
func topicsOf(customerID, prefix string) Topics {
	return Topics{Prefix: prefix, Base: "replenish/" + Slug(customerID)}
}

// Availability is the one topic that says whether Replenish is online:
// "online" when the bridge connects, "offline" as its last will.
func (t Topics) Availability() string { return t.Base + "/availability" }

// Status is where Home Assistant announces itself ("online").
func (t Topics) Status() string { return t.Prefix + "/status" }

// Commands is the filter of every command topic of the customer.
func (t Topics) Commands() string { return t.Base + "/+/+/+/set" }

func (t Topics) entity(ep, slot, object string) string {
	return t.Base + "/" + Slug(ep) + "/" + Slug(slot) + "/" + object
}

// Config is the discovery topic of one entity:
// <prefix>/<component>/replenish_<endpoint>/<slot>_<object>/config.
func (t Topics) Config(component, ep, slot, object string) string {
	return t.Prefix + "/" + component + "/replenish_" + Slug(ep) + "/" + Slug(slot) + "_" + object + "/config"
}

// Slug makes an ID fit a topic level and Home Assistant's node and object
// IDs ([a-zA-Z0-9_-]): other characters become _, and an ID that changed
// gets a short hash of itself, so that two IDs never share a slug.
func Slug(id string) string { return replenish.TopicSlug(id) }

// The entities of each slot, by object ID.
const (
	objLevel     = "level"
	objRunOut    = "run_out"
	objNextOrder = "next_order"
	objSpares    = "spares"
	objLow       = "low"
	objLastOrder = "last_order"
	objOrderNow  = "order_now"
	objReplaced  = "replaced_today"
	objSmart     = "smart_reorder"
)

// Press is what Home Assistant's buttons send (their default payload_press).
const Press = "PRESS"

// Origin names Replenish to Home Assistant as the source of what it
// discovers.
type Origin struct {
	Name       string `json:"name"`
	SWVersion  string `json:"sw_version,omitempty"`
	SupportURL string `json:"support_url,omitempty"`
}

// Messages returns the discovery configs and the states of the entities
// of every slot of devices, as Home Assistant's MQTT discovery reads them.
// base is the service's public URL ("" for none: no links or pictures).
func Messages(t Topics, customerID string, devices []Device, origin Origin, base string) (configs, states []Message) {
	for _, d := range devices {
		c, s := deviceMessages(t, customerID, d, origin, base)
		configs = append(configs, c...)
		states = append(states, s...)
	}
	return configs, states
}

func deviceMessages(t Topics, customerID string, d Device, origin Origin, base string) (configs, states []Message) {
	e := d.Endpoint
	dev := map[string]any{
		"identifiers":  []string{"replenish_" + Slug(customerID) + "_" + Slug(e.EndpointID)},
		"name":         e.FriendlyName,
		"manufacturer": d.Vendor,
		"model":        d.Model.Name,
		"model_id":     e.ModelID,
	}
	if base != "" {
		dev["configuration_url"] = base + "/account/"
	}
	for _, sl := range e.Slots {
		topic := func(object string) string { return t.entity(e.EndpointID, sl.SlotID, object) }
		add := func(component, object, name string, extra map[string]any, state string) {
			cfg := map[string]any{
				"name":               sl.Name + " " + name,
				"unique_id":          "replenish_" + Slug(customerID) + "_" + Slug(e.EndpointID) + "_" + Slug(sl.SlotID) + "_" + object,
				"availability_topic": t.Availability(),
				"device":             dev,
				"origin":             origin,
				"qos":                1,
			}
			for k, v := range extra {
				cfg[k] = v
			}
			raw, _ := json.Marshal(cfg) // maps of strings, numbers and slices
			configs = append(configs, Message{Topic: t.Config(component, e.EndpointID, sl.SlotID, object), Payload: string(raw)})
			if state != "" {
				states = append(states, Message{Topic: topic(object), Payload: state})
			}
		}

		level := map[string]any{"state_topic": topic(objLevel), "state_class": "measurement", "icon": "mdi:gauge"}
		state := none
		if sl.Level != nil {
			state = number(sl.Level.Value)
			if u := unitSymbol(sl.Level.Type, sl.Level.Unit); u != "" {
				level["unit_of_measurement"] = u
			}
		}
		if base != "" && d.Model.ImageURL != "" {
			level["entity_picture"] = base + d.Model.ImageURL
		}
		add("sensor", objLevel, "level", level, state)

		add("sensor", objRunOut, "run-out date", map[string]any{"state_topic": topic(objRunOut), "device_class": "date",
			"icon": "mdi:calendar-end"}, date(sl.RunOutDate))
		add("sensor", objNextOrder, "next order", map[string]any{"state_topic": topic(objNextOrder), "device_class": "date",
			"icon": "mdi:calendar-clock"}, date(sl.NextOrderDate))

		spares := map[string]any{"state_topic": topic(objSpares), "state_class": "measurement", "icon": "mdi:archive"}
		if u := sl.HouseholdInventory.Unit; u != "" {
			spares["unit_of_measurement"] = householdUnit(u)
		}
		add("sensor", objSpares, "spares at home", spares, number(sl.HouseholdInventory.Value))

		low := "OFF"
		if sl.Status == replenish.StatusLow || sl.Status == replenish.StatusNotReporting {
			low = "ON"
		}
		add("binary_sensor", objLow, "low supply", map[string]any{"state_topic": topic(objLow), "device_class": "problem",
			"payload_on": "ON", "payload_off": "OFF"}, low)

		last, attrs := none, "{}"
		if o, ok := d.Orders[sl.SlotID]; ok {
			last = o.Status
			raw, _ := json.Marshal(map[string]any{"order_id": o.OrderID, "product_id": o.ProductID, "product": o.Title,
				"price": o.Price, "currency": o.Currency, "quantity": o.Quantity, "placed_at": o.PlacedAt.Format(time.RFC3339),
				"test": o.Test})
			attrs = string(raw)
		}
		add("sensor", objLastOrder, "last order", map[string]any{"state_topic": topic(objLastOrder),
			"json_attributes_topic": topic(objLastOrder) + "/attributes", "icon": "mdi:receipt-text"}, last)
		states = append(states, Message{Topic: topic(objLastOrder) + "/attributes", Payload: attrs})

		add("button", objOrderNow, "order now", map[string]any{"command_topic": topic(objOrderNow) + "/set",
			"payload_press": Press, "icon": "mdi:cart-plus"}, "")
		add("button", objReplaced, "replaced today", map[string]any{"command_topic": topic(objReplaced) + "/set",
			"payload_press": Press, "icon": "mdi:package-variant-closed-check"}, "")

		smart := "OFF"
		if sl.Mode == replenish.ModeAuto {
			smart = "ON"
		}
		add("switch", objSmart, "smart reorder", map[string]any{"command_topic": topic(objSmart) + "/set",
			"state_topic": topic(objSmart), "payload_on": "ON", "payload_off": "OFF", "state_on": "ON", "state_off": "OFF",
			"icon": "mdi:autorenew"}, smart)
	}
	return configs, states
}

// none is what makes a Home Assistant sensor's state unknown.
const none = "None"

func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// date is a date sensor's state: the day, in UTC, as Replenish's
// calendar shows it.
func date(t *time.Time) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.DateOnly)
}

// unitSymbol is a level's unit as Home Assistant writes it.
func unitSymbol(t measure.Type, u measure.Unit) string {
	if t == measure.Percentage {
		return "%"
	}
	if s, ok := symbols[u]; ok {
		return s
	}
	return measure.UnitName(u)
}

var symbols = map[measure.Unit]string{"LITER": "L", "MILLILITER": "mL", "CUBIC_CENTIMETER": "cm³", "CUBIC_METER": "m³",
	"CUBIC_FOOT": "ft³", "US_FLUID_GALLON": "gal", "US_FLUID_OUNCE": "fl. oz.", "KILOGRAM": "kg", "GRAM": "g",
	"MILLIGRAM": "mg", "MICROGRAM": "µg", "POUND": "lb", "OUNCE": "oz"}

// householdUnit is the unit of spares at home as Home Assistant writes it.
func householdUnit(u string) string {
	switch u {
	case "count", "parts":
		return u
	}
	return unitSymbol("", measure.Unit(u))
}
