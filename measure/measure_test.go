package measure

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"testing"
)

var wantVolumeUnits = []Unit{
	"LITER", "MILLILITER", "METRIC_CUP", "METRIC_TEASPOON", "UK_TABLESPOON",
	"AU_TABLESPOON", "CUBIC_CENTIMETER", "CUBIC_METER", "UK_GALLON", "UK_QUART",
	"UK_PINT", "UK_CUP", "UK_GILL", "UK_FLUID_OUNCE", "UK_FLUID_DRAM",
	"CUBIC_INCH", "CUBIC_FOOT", "CUBIC_YARD", "US_FLUID_GALLON", "US_FLUID_QUART",
	"US_FLUID_PINT", "US_FLUID_CUP", "US_FLUID_OUNCE", "US_GILL", "US_TABLESPOON",
	"US_TEASPOON", "US_DRAM", "US_DRY_GALLON", "US_DRY_QUART", "US_DRY_PINT",
}

var wantWeightUnits = []Unit{
	"KILOGRAM", "GRAM", "MILLIGRAM", "MICROGRAM", "METRIC_POUND", "POUND", "OUNCE", "DRAM",
}

func TestUnitLists(t *testing.T) {
	for _, tc := range []struct {
		kind  Type
		table map[Unit]float64
		want  []Unit
		n     int
	}{
		{Volume, volumeML, wantVolumeUnits, 30},
		{Weight, weightG, wantWeightUnits, 8},
	} {
		if len(tc.want) != tc.n {
			t.Fatalf("%s: expected list has %d names, want %d", tc.kind, len(tc.want), tc.n)
		}
		got := slices.Sorted(maps.Keys(tc.table))
		if want := slices.Sorted(slices.Values(tc.want)); !slices.Equal(got, want) {
			t.Errorf("%s units = %v, want %v", tc.kind, got, want)
		}
		for _, u := range tc.want {
			if kind, ok := UnitKind(u); !ok || kind != tc.kind {
				t.Errorf("UnitKind(%s) = %s, %v; want %s, true", u, kind, ok, tc.kind)
			}
		}
	}
	if kind, ok := UnitKind("FURLONG"); ok {
		t.Errorf("UnitKind(FURLONG) = %s, true; want false", kind)
	}
}

func TestRoundTrip(t *testing.T) {
	check := func(kind Type, units []Unit) {
		for _, u := range units {
			for _, x := range []float64{0.001, 1, 2.5, 1234.5678} {
				base, err := ToBase(kind, x, u)
				if err != nil {
					t.Fatalf("ToBase(%s, %v, %s): %v", kind, x, u, err)
				}
				if base <= 0 {
					t.Errorf("ToBase(%s, %v, %s) = %v, want > 0", kind, x, u, base)
				}
				back, err := FromBase(kind, base, u)
				if err != nil {
					t.Fatalf("FromBase(%s, %v, %s): %v", kind, base, u, err)
				}
				if math.Abs(back-x) > 1e-9*x {
					t.Errorf("%s: %v -> %v -> %v", u, x, base, back)
				}
			}
		}
	}
	check(Volume, wantVolumeUnits)
	check(Weight, wantWeightUnits)
	check(Percentage, []Unit{""})
	check(Count, []Unit{""})
}

func TestExactValues(t *testing.T) {
	for _, tc := range []struct {
		kind Type
		unit Unit
		want float64
	}{
		{Volume, "US_FLUID_GALLON", 3785.411784},
		{Volume, "CUBIC_FOOT", 28316.846592},
		{Volume, "CUBIC_INCH", 16.387064},
		{Volume, "UK_GALLON", 4546.09},
		{Volume, "UK_CUP", 284.130625},
		{Volume, "UK_TABLESPOON", 15},
		{Volume, "US_FLUID_OUNCE", 29.5735295625},
		{Volume, "US_DRY_GALLON", 4404.88377086},
		{Weight, "POUND", 453.59237},
		{Weight, "OUNCE", 28.349523125},
		{Weight, "KILOGRAM", 1000},
		{Weight, "METRIC_POUND", 500},
	} {
		got, err := ToBase(tc.kind, 1, tc.unit)
		if err != nil {
			t.Fatalf("ToBase(%s, 1, %s): %v", tc.kind, tc.unit, err)
		}
		if got != tc.want {
			t.Errorf("1 %s = %v %s, want %v", tc.unit, got, BaseUnit(tc.kind), tc.want)
		}
	}
}

func TestConversionErrors(t *testing.T) {
	for _, tc := range []struct {
		kind Type
		unit Unit
		want string
	}{
		{Volume, "OUNCE", "unit OUNCE is a Weight unit, the slot measures Volume"},
		{Weight, "LITER", "unit LITER is a Volume unit, the slot measures Weight"},
		{Percentage, "LITER", "unit LITER given, a Percentage takes no unit"},
		{Count, "GRAM", "unit GRAM given, a Count takes no unit"},
		{Volume, "", "a Volume needs a unit"},
		{Weight, "STONE", `unknown unit "STONE"`},
		{"Length", "", `unknown measurement type "Length", want Percentage, Count, Volume or Weight`},
	} {
		for name, conv := range map[string]func(Type, float64, Unit) (float64, error){
			"ToBase": ToBase, "FromBase": FromBase,
		} {
			_, err := conv(tc.kind, 1, tc.unit)
			if err == nil || err.Error() != tc.want {
				t.Errorf("%s(%s, 1, %q) error = %v, want %q", name, tc.kind, tc.unit, err, tc.want)
			}
		}
	}
}

func TestParseType(t *testing.T) {
	for _, want := range []Type{Percentage, Count, Volume, Weight} {
		if got, err := ParseType(string(want)); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v", want, got, err)
		}
	}
	for _, bad := range []string{"", "volume", "Length"} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("ParseType(%q) succeeded, want error", bad)
		}
	}
}

func TestBaseUnit(t *testing.T) {
	for kind, want := range map[Type]Unit{
		Percentage: "percent", Count: "count", Volume: "MILLILITER", Weight: "GRAM", "Length": "",
	} {
		if got := BaseUnit(kind); got != want {
			t.Errorf("BaseUnit(%s) = %q, want %q", kind, got, want)
		}
	}
}

func TestParseValueAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		value  string
		unit   string // "" means the sibling member is absent
		expect Type
		want   Value
	}{
		{"nested percentage", `{"@type":"Percentage","value":42}`, "", Percentage, Value{Percentage, 42, ""}},
		{"percentage bounds", `{"@type":"Percentage","value":100}`, "", Percentage, Value{Percentage, 100, ""}},
		{"nested count", `{"@type":"Count","value":0}`, "", Count, Value{Count, 0, ""}},
		{"nested volume", `{"@type":"Volume","value":2.5,"unit":"LITER"}`, "", Volume, Value{Volume, 2.5, "LITER"}},
		{"nested weight", `{"@type":"Weight","value":12,"unit":"OUNCE"}`, "", Weight, Value{Weight, 12, "OUNCE"}},
		{"nested decides type", ` {"unit":"GRAM","value":1,"@type":"Weight"} `, "", "", Value{Weight, 1, "GRAM"}},
		{"nested null unit", `{"@type":"Count","value":3,"unit":null}`, "", Count, Value{Count, 3, ""}},
		{"flat volume", `2.5`, `"LITER"`, Volume, Value{Volume, 2.5, "LITER"}},
		{"flat weight", `0`, `"KILOGRAM"`, Weight, Value{Weight, 0, "KILOGRAM"}},
		{"flat percentage", `7`, "", Percentage, Value{Percentage, 7, ""}},
		{"flat count null unit", `12`, `null`, Count, Value{Count, 12, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValue(json.RawMessage(tc.value), rawOrNil(tc.unit), tc.expect)
			if err != nil {
				t.Fatalf("ParseValue: %v", err)
			}
			if got != tc.want {
				t.Errorf("ParseValue = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseValueRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		value  string
		unit   string // "" means the sibling member is absent
		expect Type
		want   string
	}{
		{"no value", ``, "", Count, "value: missing"},
		{"percent over 100", `{"@type":"Percentage","value":101}`, "", "", "value.value: must be an integer from 0 to 100"},
		{"percent negative", `{"@type":"Percentage","value":-1}`, "", "", "value.value: must be an integer from 0 to 100"},
		{"percent fractional", `{"@type":"Percentage","value":50.5}`, "", "", "value.value: must be an integer from 0 to 100"},
		{"percent with unit", `{"@type":"Percentage","value":50,"unit":"LITER"}`, "", "", "value.unit: a Percentage takes no unit"},
		{"flat percent with unit", `50`, `"LITER"`, Percentage, "unit: a Percentage takes no unit"},
		{"count negative", `{"@type":"Count","value":-3}`, "", "", "value.value: must be an integer of 0 or more"},
		{"count fractional", `1.5`, "", Count, "value: must be an integer of 0 or more"},
		{"volume negative", `{"@type":"Volume","value":-0.5,"unit":"LITER"}`, "", "", "value.value: must be 0 or more"},
		{"volume no unit", `{"@type":"Volume","value":1}`, "", "", "value.unit: missing, a Volume needs a unit"},
		{"flat weight no unit", `1`, "", Weight, "unit: missing, a Weight needs a unit"},
		{"wrong kind", `{"@type":"Volume","value":1,"unit":"OUNCE"}`, "", Volume, "value.unit: OUNCE is a Weight unit, expected a Volume unit"},
		{"flat wrong kind", `1`, `"LITER"`, Weight, "unit: LITER is a Volume unit, expected a Weight unit"},
		{"unknown unit", `{"@type":"Weight","value":1,"unit":"STONE"}`, "", "", `value.unit: unknown unit "STONE"`},
		{"unit not a string", `1`, `5`, Volume, "unit: must be a string"},
		{"unknown type", `{"@type":"Foo","value":1}`, "", "", `value.@type: unknown type "Foo"`},
		{"type not a string", `{"@type":3,"value":1}`, "", "", "value.@type: must be a string"},
		{"no type", `{"value":1}`, "", Count, "value.@type: missing"},
		{"unknown member", `{"@type":"Count","value":1,"extra":true}`, "", "", "value.extra: unknown member"},
		{"string number", `{"@type":"Count","value":"20"}`, "", "", "value.value: must be a number"},
		{"flat string number", `"20"`, "", Count, "value: must be a number"},
		{"null number", `{"@type":"Count","value":null}`, "", "", "value.value: must be a number"},
		{"no inner value", `{"@type":"Count"}`, "", "", "value.value: missing"},
		{"malformed object", `{"@type":`, "", "", "value: malformed object"},
		{"type mismatch", `{"@type":"Volume","value":1,"unit":"LITER"}`, "", Weight, "value.@type: Volume does not match the slot's type Weight"},
		{"flat without type", `1`, "", "", "value: a bare number needs the slot's measurement type"},
		{"nested with sibling unit", `{"@type":"Count","value":1}`, `"LITER"`, Count, "unit: not allowed beside a nested value"},
		{"bad expect", `1`, "", "Length", `expected type: unknown measurement type "Length", want Percentage, Count, Volume or Weight`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValue(json.RawMessage(tc.value), rawOrNil(tc.unit), tc.expect)
			if err == nil {
				t.Fatalf("ParseValue = %+v, want error %q", got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error = %q, want %q", err, tc.want)
			}
		})
	}
}

func TestValueBase(t *testing.T) {
	got, err := Value{Volume, 2, "US_FLUID_GALLON"}.Base()
	if err != nil || got != 2*3785.411784 {
		t.Errorf("Base() = %v, %v; want %v", got, err, 2*3785.411784)
	}
	if _, err := (Value{Percentage, 5, "LITER"}).Base(); err == nil {
		t.Error("Base() of a Percentage with a unit succeeded, want error")
	}
}

func TestMarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{Value{Percentage, 40, ""}, `{"@type":"Percentage","value":40}`},
		{Value{Count, 3, "LITER"}, `{"@type":"Count","value":3}`},
		{Value{Volume, 2.5, "LITER"}, `{"@type":"Volume","value":2.5,"unit":"LITER"}`},
		{Value{Weight, 0, "GRAM"}, `{"@type":"Weight","value":0,"unit":"GRAM"}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", tc.v, err)
		}
		if string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %s, want %s", tc.v, b, tc.want)
		}
		back, err := ParseValue(b, nil, "")
		if err != nil {
			t.Fatalf("ParseValue(%s): %v", b, err)
		}
		if back.Type != tc.v.Type || back.Value != tc.v.Value {
			t.Errorf("round trip of %+v gave %+v", tc.v, back)
		}
	}
}

// rawOrNil turns "" into an absent member, as a caller would pass it.
func rawOrNil(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
