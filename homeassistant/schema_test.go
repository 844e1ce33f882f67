package homeassistant_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Home Assistant's MQTT discovery schema, as its documentation states it
// (home-assistant.io/integrations/mqtt: "Discovery messages", and the
// pages of the MQTT sensor, binary sensor, button and switch), for the
// four components and the keys the bridge may send. It was written from
// that documentation, not generated from Home Assistant's code: the keys
// each component takes, which are required, the values allowed for
// device_class and state_class, the device block (identifiers or
// connections required) and the origin block (name required). A key
// that is not in the table is an error: Home Assistant would ignore or
// refuse it.

// kind is how a value is checked.
type kind func(v any) string

// field is one key of a config.
type field struct {
	required bool
	check    kind
}

var (
	str = func(v any) string {
		if s, ok := v.(string); !ok || s == "" {
			return "want a non-empty string"
		}
		return ""
	}
	publishTopic = func(v any) string {
		s, ok := v.(string)
		switch {
		case !ok || s == "":
			return "want a topic"
		case strings.ContainsAny(s, "+#\x00"):
			return "a topic to publish or subscribe to has no wildcards or NUL"
		case len(s) > 65535:
			return "a topic is at most 65535 bytes"
		}
		return ""
	}
	qos = func(v any) string {
		if n, ok := v.(float64); !ok || (n != 0 && n != 1 && n != 2) {
			return "qos is 0, 1 or 2"
		}
		return ""
	}
	icon = func(v any) string {
		if s, ok := v.(string); !ok || !regexp.MustCompile(`^[a-z0-9-]+:[a-z0-9-]+$`).MatchString(s) {
			return "an icon is prefix:name, such as mdi:cart"
		}
		return ""
	}
	webURL = func(v any) string {
		s, ok := v.(string)
		u, err := url.Parse(s)
		if !ok || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "want an absolute http(s) URL"
		}
		return ""
	}
	oneOf = func(values ...string) kind {
		return func(v any) string {
			if s, ok := v.(string); !ok || !slices.Contains(values, s) {
				return fmt.Sprintf("%v is not one of %v", v, values)
			}
			return ""
		}
	}
	device = func(v any) string {
		m, ok := v.(map[string]any)
		if !ok {
			return "the device is an object"
		}
		if m["identifiers"] == nil && m["connections"] == nil {
			return "a device needs identifiers or connections"
		}
		return checkFields(m, deviceSchema)
	}
	origin = func(v any) string {
		m, ok := v.(map[string]any)
		if !ok {
			return "the origin is an object"
		}
		return checkFields(m, originSchema)
	}
	identifiers = func(v any) string {
		switch x := v.(type) {
		case string:
			return str(x)
		case []any:
			for _, i := range x {
				if p := str(i); p != "" {
					return p
				}
			}
			if len(x) > 0 {
				return ""
			}
		}
		return "identifiers are a string or a list of strings"
	}
)

// The device block (MQTT discovery's "device").
var deviceSchema = map[string]field{
	"configuration_url": {check: webURL}, "connections": {check: func(any) string { return "" }},
	"hw_version": {check: str}, "identifiers": {check: identifiers}, "manufacturer": {check: str}, "model": {check: str},
	"model_id": {check: str}, "name": {check: str}, "serial_number": {check: str}, "suggested_area": {check: str},
	"sw_version": {check: str}, "via_device": {check: str},
}

// The origin block ("origin"): who publishes the discovery.
var originSchema = map[string]field{
	"name": {required: true, check: str}, "sw_version": {check: str}, "support_url": {check: webURL},
}

// Keys every MQTT entity takes (availability, device, identity, looks).
var common = map[string]field{
	"name": {check: str}, "unique_id": {check: str}, "availability_topic": {check: publishTopic},
	"payload_available": {check: str}, "payload_not_available": {check: str}, "device": {check: device},
	"origin": {check: origin}, "qos": {check: qos}, "icon": {check: icon}, "entity_picture": {check: webURL},
	"enabled_by_default": {}, "entity_category": {check: oneOf("config", "diagnostic")},
	"json_attributes_topic": {check: publishTopic}, "encoding": {check: str},
}

// sensorDeviceClasses are the sensor's device classes (SensorDeviceClass).
var sensorDeviceClasses = []string{"date", "enum", "timestamp", "absolute_humidity", "apparent_power", "aqi", "area",
	"atmospheric_pressure", "battery", "blood_glucose_concentration", "carbon_monoxide", "carbon_dioxide",
	"conductivity", "current", "data_rate", "data_size", "distance", "duration", "energy", "energy_distance",
	"energy_storage", "frequency", "gas", "humidity", "illuminance", "irradiance", "moisture", "monetary",
	"nitrogen_dioxide", "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1", "pm10", "pm25", "pm4",
	"power_factor", "power", "precipitation", "precipitation_intensity", "pressure", "reactive_energy",
	"reactive_power", "signal_strength", "sound_pressure", "speed", "sulphur_dioxide", "temperature",
	"volatile_organic_compounds", "volatile_organic_compounds_parts", "voltage", "volume", "volume_flow_rate",
	"volume_storage", "water", "weight", "wind_direction", "wind_speed"}

// binarySensorDeviceClasses are the binary sensor's (BinarySensorDeviceClass).
var binarySensorDeviceClasses = []string{"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity",
	"door", "garage_door", "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening",
	"plug", "power", "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update", "vibration",
	"window"}

// schemas are the keys of each component beside the common ones.
var schemas = map[string]map[string]field{
	"sensor": {
		"state_topic": {required: true, check: publishTopic}, "device_class": {check: oneOf(sensorDeviceClasses...)},
		"state_class":         {check: oneOf("measurement", "measurement_angle", "total", "total_increasing")},
		"unit_of_measurement": {check: str}, "value_template": {check: str}, "expire_after": {},
		"force_update": {}, "suggested_display_precision": {}, "options": {},
	},
	"binary_sensor": {
		"state_topic": {required: true, check: publishTopic}, "device_class": {check: oneOf(binarySensorDeviceClasses...)},
		"payload_on": {check: str}, "payload_off": {check: str}, "value_template": {check: str}, "expire_after": {},
		"force_update": {}, "off_delay": {},
	},
	"button": {
		"command_topic": {required: true, check: publishTopic}, "payload_press": {check: str},
		"device_class": {check: oneOf("identify", "restart", "update")}, "retain": {}, "command_template": {check: str},
	},
	"switch": {
		"command_topic": {required: true, check: publishTopic}, "state_topic": {check: publishTopic},
		"payload_on": {check: str}, "payload_off": {check: str}, "state_on": {check: str}, "state_off": {check: str},
		"device_class": {check: oneOf("outlet", "switch")}, "optimistic": {}, "retain": {}, "value_template": {check: str},
	},
}

// checkFields checks m against schema: required keys present, each value
// as its key wants, no key the schema does not know.
func checkFields(m map[string]any, schemas ...map[string]field) string {
	var problems []string
	known := map[string]field{}
	for _, s := range schemas {
		for k, f := range s {
			known[k] = f
		}
	}
	for k, f := range known {
		if _, ok := m[k]; f.required && !ok {
			problems = append(problems, k+": required")
		}
	}
	for k, v := range m {
		f, ok := known[k]
		switch {
		case !ok:
			problems = append(problems, k+": not a key of this component")
		case f.check != nil:
			if p := f.check(v); p != "" {
				problems = append(problems, k+": "+p)
			}
		}
	}
	slices.Sort(problems)
	return strings.Join(problems, "; ")
}

// discoveryTopic is <prefix>/<component>/<node_id>/<object_id>/config,
// node and object IDs of [a-zA-Z0-9_-].
var discoveryTopic = regexp.MustCompile(`^([^/]+)/(sensor|binary_sensor|button|switch)/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/config$`)

// checkConfig checks one discovery config against the schema of its
// component and the rules that tie keys together, and returns the
// component and the config.
func checkConfig(topic, payload string) (component string, cfg map[string]any, problem string) {
	m := discoveryTopic.FindStringSubmatch(topic)
	if m == nil {
		return "", nil, "the topic is not <prefix>/<component>/<node_id>/<object_id>/config"
	}
	component = m[2]
	if err := json.Unmarshal([]byte(payload), &cfg); err != nil {
		return component, nil, "not a JSON object: " + err.Error()
	}
	var problems []string
	if p := checkFields(cfg, common, schemas[component]); p != "" {
		problems = append(problems, p)
	}
	if component == "sensor" {
		// Home Assistant refuses a state class or a unit on a date,
		// timestamp or enum sensor.
		switch cfg["device_class"] {
		case "date", "timestamp", "enum":
			if cfg["state_class"] != nil {
				problems = append(problems, "state_class: not allowed with device_class "+cfg["device_class"].(string))
			}
			if cfg["unit_of_measurement"] != nil {
				problems = append(problems, "unit_of_measurement: not allowed with device_class "+cfg["device_class"].(string))
			}
		}
	}
	return component, cfg, strings.Join(problems, "; ")
}

// checkState checks a state as the entity's config says it is read.
func checkState(component string, cfg map[string]any, state string) string {
	switch {
	case component == "sensor" && state == "None":
		return "" // unknown
	case component == "sensor" && cfg["device_class"] == "date":
		if _, err := time.Parse(time.DateOnly, state); err != nil {
			return fmt.Sprintf("%q is not an ISO date", state)
		}
	case component == "sensor" && cfg["state_class"] != nil:
		if _, err := strconv.ParseFloat(state, 64); err != nil {
			return fmt.Sprintf("%q is not a number, as state_class %v wants", state, cfg["state_class"])
		}
	case component == "binary_sensor":
		if state != cfg["payload_on"] && state != cfg["payload_off"] {
			return fmt.Sprintf("%q is neither payload_on nor payload_off", state)
		}
	case component == "switch":
		if state != cfg["state_on"] && state != cfg["state_off"] {
			return fmt.Sprintf("%q is neither state_on nor state_off", state)
		}
	}
	return ""
}
