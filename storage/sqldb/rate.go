package sqldb

import (
	"encoding/binary"
	"math"

	"replenish"
)

// rateVersion starts an encoded rate estimate. An estimate of another
// version or size is dropped, and the slot's estimate starts over from its
// next readings.
const rateVersion = 1

// rateInts and rateFloats list a rate estimate's fields in the order they
// are stored. Written out by hand rather than by reflection, since every
// reading writes one.
func rateInts(r *replenish.Rate) [5]*int64 {
	return [...]*int64{&r.At, &r.Since, &r.N, &r.SuspectAt, &r.EmptySince}
}

func rateFloats(r *replenish.Rate) [11]*float64 {
	return [...]*float64{&r.W, &r.Used, &r.Days, &r.Sq, &r.Lag, &r.ShortUsed, &r.ShortDays,
		&r.Up, &r.Down, &r.Last, &r.SuspectAmount}
}

const rateSize = 1 + 8*(5+11)

// encodeRate writes a slot's rate estimate as bytes: the version, then the
// fields, little-endian. An empty estimate is NULL.
func encodeRate(r replenish.Rate) []byte {
	if r == (replenish.Rate{}) {
		return nil
	}
	b := make([]byte, 1, rateSize)
	b[0] = rateVersion
	for _, p := range rateInts(&r) {
		b = binary.LittleEndian.AppendUint64(b, uint64(*p))
	}
	for _, p := range rateFloats(&r) {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*p))
	}
	return b
}

// decodeRate reads what encodeRate wrote.
func decodeRate(raw []byte) replenish.Rate {
	var r replenish.Rate
	if len(raw) != rateSize || raw[0] != rateVersion {
		return r
	}
	raw = raw[1:]
	for _, p := range rateInts(&r) {
		*p, raw = int64(binary.LittleEndian.Uint64(raw)), raw[8:]
	}
	for _, p := range rateFloats(&r) {
		*p, raw = math.Float64frombits(binary.LittleEndian.Uint64(raw)), raw[8:]
	}
	return r
}
