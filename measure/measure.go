// Package measure knows the measurement types and units that Alexa Smart
// Home v3 devices use to report consumable levels, converts every unit
// exactly to one base unit per type, and parses reported values.
//
// Amounts are compared and summed in the base unit (percent, count,
// millilitre, gram) so that a slot reported in cups and reordered in
// litres still adds up.
package measure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Type is a measurement type; it fixes which units a slot may use.
type Type string

// The measurement types Alexa uses for inventory levels and usage.
const (
	Percentage Type = "Percentage"
	Count      Type = "Count"
	Volume     Type = "Volume"
	Weight     Type = "Weight"
)

// ParseType returns the Type for s or an error naming the allowed values.
// Matching is exact because the names come from JSON, not from people.
func ParseType(s string) (Type, error) {
	switch t := Type(s); t {
	case Percentage, Count, Volume, Weight:
		return t, nil
	}
	return "", fmt.Errorf("unknown measurement type %q, want Percentage, Count, Volume or Weight", s)
}

// Unit is an Alexa unit name such as "LITER".
type Unit string

// Definitions the unit tables are built from. Go constant arithmetic is
// exact, so each factor is rounded to float64 only once.
const (
	cubicInch = 2.54 * 2.54 * 2.54 // mL; the inch is 2.54 cm exactly
	usGallon  = 231 * cubicInch    // mL
	usFlOz    = usGallon / 128     // mL
	usDryGal  = 268.8025 * cubicInch
	ukGallon  = 4546.09 // mL
	ukFlOz    = ukGallon / 160
	pound     = 453.59237 // g, international avoirdupois pound
	ounce     = pound / 16
)

// volumeML holds millilitres per unit.
var volumeML = map[Unit]float64{
	"LITER":            1000,
	"MILLILITER":       1,
	"CUBIC_CENTIMETER": 1,
	"CUBIC_METER":      1e6,
	"METRIC_CUP":       250,
	"METRIC_TEASPOON":  5,
	// The metric tablespoon, as used in UK recipes and labels today; the
	// old imperial tablespoon (5/8 UK fl oz, about 17.7582 mL) is not meant.
	"UK_TABLESPOON":   15,
	"AU_TABLESPOON":   20,
	"UK_GALLON":       ukGallon,
	"UK_QUART":        ukGallon / 4,
	"UK_PINT":         ukGallon / 8,
	"UK_CUP":          ukGallon / 16, // half a UK pint, 284.130625 mL
	"UK_GILL":         ukGallon / 32,
	"UK_FLUID_OUNCE":  ukFlOz,
	"UK_FLUID_DRAM":   ukFlOz / 8,
	"CUBIC_INCH":      cubicInch,
	"CUBIC_FOOT":      12 * 12 * 12 * cubicInch,
	"CUBIC_YARD":      36 * 36 * 36 * cubicInch,
	"US_FLUID_GALLON": usGallon,
	"US_FLUID_QUART":  usGallon / 4,
	"US_FLUID_PINT":   usGallon / 8,
	// The customary cup (8 US fl oz, 236.5882365 mL), not the 240 mL
	// "legal cup" of US nutrition labels.
	"US_FLUID_CUP":   usFlOz * 8,
	"US_FLUID_OUNCE": usFlOz,
	"US_GILL":        usFlOz * 4,
	"US_TABLESPOON":  usFlOz / 2,
	"US_TEASPOON":    usFlOz / 6,
	"US_DRAM":        usFlOz / 8, // the fluid dram
	"US_DRY_GALLON":  usDryGal,
	"US_DRY_QUART":   usDryGal / 4,
	"US_DRY_PINT":    usDryGal / 8,
}

// weightG holds grams per unit.
var weightG = map[Unit]float64{
	"KILOGRAM":     1000,
	"GRAM":         1,
	"MILLIGRAM":    1e-3,
	"MICROGRAM":    1e-6,
	"METRIC_POUND": 500,
	"POUND":        pound,
	"OUNCE":        ounce,
	"DRAM":         ounce / 16, // the avoirdupois dram, a mass
}

// UnitKind reports which Type (Volume or Weight) a unit belongs to; ok=false
// for unknown units.
func UnitKind(u Unit) (Type, bool) {
	if _, ok := volumeML[u]; ok {
		return Volume, true
	}
	if _, ok := weightG[u]; ok {
		return Weight, true
	}
	return "", false
}

// factor returns how many base units one u of type t is, checking that u
// fits t.
func factor(t Type, u Unit) (float64, error) {
	if _, err := ParseType(string(t)); err != nil {
		return 0, err
	}
	if t == Percentage || t == Count {
		if u != "" {
			return 0, fmt.Errorf("unit %s given, a %s takes no unit", u, t)
		}
		return 1, nil
	}
	if u == "" {
		return 0, fmt.Errorf("a %s needs a unit", t)
	}
	kind, ok := UnitKind(u)
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", u)
	}
	if kind != t {
		return 0, fmt.Errorf("unit %s is a %s unit, the slot measures %s", u, kind, t)
	}
	if t == Volume {
		return volumeML[u], nil
	}
	return weightG[u], nil
}

// ToBase converts v in unit u (of kind t) to t's base unit, so amounts in
// different units can be compared. For Percentage and Count the unit must be
// empty; for Volume and Weight it must be a unit of that kind.
func ToBase(t Type, v float64, u Unit) (float64, error) {
	f, err := factor(t, u)
	if err != nil {
		return 0, err
	}
	return v * f, nil
}

// FromBase converts a base amount back into unit u, for display in the unit
// the device reports in. It accepts the same units as ToBase.
func FromBase(t Type, base float64, u Unit) (float64, error) {
	f, err := factor(t, u)
	if err != nil {
		return 0, err
	}
	return base / f, nil
}

// BaseUnit names the base unit of t for display: "percent", "count",
// "MILLILITER", "GRAM"; "" for an unknown type.
func BaseUnit(t Type) Unit {
	switch t {
	case Percentage:
		return "percent"
	case Count:
		return "count"
	case Volume:
		return "MILLILITER"
	case Weight:
		return "GRAM"
	}
	return ""
}

// Value is a decoded Alexa level or usage value.
type Value struct {
	Type  Type
	Value float64
	Unit  Unit // empty for Percentage and Count
}

// ParseValue decodes a reported property. value is the raw JSON of the
// property's "value" member; unit is the raw JSON of its sibling "unit"
// member (nil when absent), which only the flat form uses; expect is the
// slot's type, needed because the flat form carries no @type.
//
// Nested form: value is an object with "@type", "value" and optional "unit".
// Flat form: value is a JSON number, unit (if present) a JSON string, and
// the type is expect. A JSON null unit counts as absent.
//
// A Percentage is an integer from 0 to 100, a Count an integer of 0 or more,
// a Volume or Weight a number of 0 or more with a unit of that kind.
// Errors name the offending part, e.g. "value.unit: ...".
func ParseValue(value json.RawMessage, unit json.RawMessage, expect Type) (Value, error) {
	if expect != "" {
		if _, err := ParseType(string(expect)); err != nil {
			return Value{}, fmt.Errorf("expected type: %w", err)
		}
	}
	raw := bytes.TrimSpace(value)
	if len(raw) == 0 {
		return Value{}, errors.New("value: missing")
	}
	if raw[0] == '{' {
		if !isAbsent(unit) {
			// Two units for one value would be ambiguous.
			return Value{}, errors.New("unit: not allowed beside a nested value")
		}
		return parseNested(raw, expect)
	}
	if expect == "" {
		return Value{}, errors.New("value: a bare number needs the slot's measurement type")
	}
	return build(expect, raw, unit, "value", "unit")
}

// parseNested decodes {"@type":..,"value":..,"unit"?:..}.
func parseNested(raw []byte, expect Type) (Value, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return Value{}, errors.New("value: malformed object")
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		switch k {
		case "@type", "value", "unit":
		default:
			return Value{}, fmt.Errorf("value.%s: unknown member", k)
		}
	}
	rawType, ok := members["@type"]
	if !ok {
		return Value{}, errors.New("value.@type: missing")
	}
	s, err := parseString(rawType)
	if err != nil {
		return Value{}, fmt.Errorf("value.@type: %w", err)
	}
	t, err := ParseType(s)
	if err != nil {
		return Value{}, fmt.Errorf("value.@type: unknown type %q", s)
	}
	if expect != "" && t != expect {
		return Value{}, fmt.Errorf("value.@type: %s does not match the slot's type %s", t, expect)
	}
	return build(t, members["value"], members["unit"], "value.value", "value.unit")
}

// build checks a number and unit against the rules for t; vField and uField
// name them in errors.
func build(t Type, rawValue, rawUnit json.RawMessage, vField, uField string) (Value, error) {
	v, err := parseNumber(rawValue)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", vField, err)
	}
	var u Unit
	if !isAbsent(rawUnit) {
		s, err := parseString(rawUnit)
		if err != nil {
			return Value{}, fmt.Errorf("%s: %w", uField, err)
		}
		u = Unit(s)
	}
	switch t {
	case Percentage:
		if v != math.Trunc(v) || v < 0 || v > 100 {
			return Value{}, fmt.Errorf("%s: must be an integer from 0 to 100", vField)
		}
	case Count:
		if v != math.Trunc(v) || v < 0 {
			return Value{}, fmt.Errorf("%s: must be an integer of 0 or more", vField)
		}
	default:
		if v < 0 {
			return Value{}, fmt.Errorf("%s: must be 0 or more", vField)
		}
	}
	if t == Percentage || t == Count {
		if u != "" {
			return Value{}, fmt.Errorf("%s: a %s takes no unit", uField, t)
		}
		return Value{Type: t, Value: v}, nil
	}
	if u == "" {
		return Value{}, fmt.Errorf("%s: missing, a %s needs a unit", uField, t)
	}
	kind, ok := UnitKind(u)
	if !ok {
		return Value{}, fmt.Errorf("%s: unknown unit %q", uField, u)
	}
	if kind != t {
		return Value{}, fmt.Errorf("%s: %s is a %s unit, expected a %s unit", uField, u, kind, t)
	}
	return Value{Type: t, Value: v, Unit: u}, nil
}

// isAbsent reports whether an optional member was left out or set to null.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// parseNumber accepts only a JSON number; a quoted "20" is refused because
// a device sending strings is broken and should be told so.
func parseNumber(raw json.RawMessage) (float64, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return 0, errors.New("missing")
	}
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return 0, errors.New("must be a number")
	}
	f, ok := x.(float64)
	if !ok {
		return 0, errors.New("must be a number")
	}
	return f, nil
}

// parseString accepts only a JSON string.
func parseString(raw json.RawMessage) (string, error) {
	var s string
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", errors.New("must be a string")
	}
	return s, nil
}

// Base returns v converted to its type's base unit.
func (v Value) Base() (float64, error) {
	return ToBase(v.Type, v.Value, v.Unit)
}

// MarshalJSON writes the nested Alexa form, which carries its own @type and
// so reads back without knowing the slot. The unit is omitted for
// Percentage and Count.
func (v Value) MarshalJSON() ([]byte, error) {
	out := struct {
		Type  Type    `json:"@type"`
		Value float64 `json:"value"`
		Unit  Unit    `json:"unit,omitempty"`
	}{Type: v.Type, Value: v.Value, Unit: v.Unit}
	if v.Type == Percentage || v.Type == Count {
		out.Unit = ""
	}
	return json.Marshal(out)
}

// UnitName names a unit as a person reads it: "us fluid ounce".
func UnitName(u Unit) string {
	return strings.ToLower(strings.ReplaceAll(string(u), "_", " "))
}
