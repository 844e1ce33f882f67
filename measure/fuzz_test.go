package measure_test

import (
	"encoding/json"
	"math"
	"testing"

	"replenish/measure"
)

// FuzzParseValue: a level or usage value in any shape never panics; an
// accepted one is a finite amount of 0 or more, of the expected type,
// whose base amount converts back to it, and whose JSON reads back the same.
func FuzzParseValue(f *testing.F) {
	for _, seed := range []struct{ value, unit, typ string }{
		{`{"@type":"Percentage","value":42}`, ``, "Percentage"},
		{`42`, ``, "Percentage"},
		{`{"@type":"Volume","value":1.5,"unit":"LITER"}`, ``, "Volume"},
		{`2.5`, `"US_FLUID_OUNCE"`, "Volume"},
		{`{"@type":"Weight","value":300,"unit":"GRAM"}`, ``, "Weight"},
		{`{"@type":"Count","value":7}`, ``, "Count"},
		{`-1`, ``, "Count"},
		{`1e400`, ``, "Volume"},
	} {
		f.Add(seed.value, seed.unit, seed.typ)
	}
	f.Fuzz(func(t *testing.T, value, unit, typ string) {
		v, err := measure.ParseValue(json.RawMessage(value), json.RawMessage(unit), measure.Type(typ))
		if err != nil {
			return
		}
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || v.Value < 0 {
			t.Fatalf("accepted %v", v.Value)
		}
		if typ != "" && string(v.Type) != typ {
			t.Fatalf("asked for %s, got %s", typ, v.Type)
		}
		base, err := v.Base()
		if err != nil {
			t.Fatalf("an accepted value has no base amount: %v", err)
		}
		back, err := measure.FromBase(v.Type, base, v.Unit)
		if err != nil || math.Abs(back-v.Value) > 1e-9*math.Max(1, v.Value) {
			t.Fatalf("%v %s → %v base → %v", v.Value, v.Unit, base, back)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		again, err := measure.ParseValue(raw, nil, v.Type)
		if err != nil || again != v {
			t.Fatalf("%s reads back as %+v, %v; want %+v", raw, again, err, v)
		}
	})
}
