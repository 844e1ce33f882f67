package engine

import (
	"math"
	"testing"
)

// TestQuantile: steady use (a small variance for its mean) gets the normal
// quantile; bursty use (a variance as large as its mean squared) gets a
// higher one, since its distribution is skewed; no use needs nothing.
func TestQuantile(t *testing.T) {
	z := Z(95)
	if got, normal := quantile(100, 25, z), 100+z*5; math.Abs(got-normal) > 0.2 {
		t.Errorf("steady: %.2f, want about the normal's %.2f", got, normal)
	}
	// An exponential use (gamma of shape 1) of mean 10: its 95 % quantile
	// is 10·ln 20 = 29.96.
	if got := quantile(10, 100, z); math.Abs(got-29.96) > 1 || got <= 10+z*10 {
		t.Errorf("bursty: %.2f, want about 29.96, above the normal's %.2f", got, 10+z*10)
	}
	if got := quantile(0, 0, z); got != 0 {
		t.Errorf("no use: %.2f, want 0", got)
	}
}
