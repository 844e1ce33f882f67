package sqldb

import (
	"reflect"
	"testing"

	"replenish"
)

// TestRateRoundTrip fills every field of a rate estimate with its own value
// and reads it back: a field added to replenish.Rate but not to the stored
// list fails here.
func TestRateRoundTrip(t *testing.T) {
	var r replenish.Rate
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.25)
		default:
			t.Fatalf("Rate.%s is a %s: only int64 and float64 fields can be stored", v.Type().Field(i).Name, f.Kind())
		}
	}
	if got := decodeRate(encodeRate(r)); got != r {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	if encodeRate(replenish.Rate{}) != nil {
		t.Error("an empty estimate is not stored as NULL")
	}
	raw := encodeRate(r)
	raw[0] = rateVersion + 1
	if got := decodeRate(raw); got != (replenish.Rate{}) {
		t.Errorf("another version decoded to %+v, want an empty estimate", got)
	}
	if got := decodeRate(raw[:10]); got != (replenish.Rate{}) {
		t.Errorf("a short value decoded to %+v, want an empty estimate", got)
	}
}
