package catalog

import (
	"errors"
	"regexp"
	"strings"
)

// Price limits: up to 9 digits before the decimal point and 3 after it.
const (
	priceIntDigits  = 9
	priceFracDigits = 3
)

var (
	decimalPattern  = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)
	exponentPattern = regexp.MustCompile(`^[0-9]*\.?[0-9]+[eE][+-]?[0-9]+$`)
)

// Errors of NormalizePrice, safe to show to a client.
var (
	errPriceSyntax   = errors.New(`must be a decimal amount such as "12.99" or 12.99`)
	errPriceNegative = errors.New("must not be negative")
	errPriceExponent = errors.New(`must be written without an exponent, such as 1500 or "1500.00"`)
	errPriceTooLarge = errors.New("must be less than 1000000000")
	errPricePrecise  = errors.New("must have at most 3 decimal places")
)

// NormalizePrice returns the canonical spelling of the price s, a
// non-negative decimal given as a string ("19.99") or as the literal text
// of a JSON number (19.99, 20), or an error that says what is wrong with
// it. The amount is kept exact: s is read as text, never as a float.
//
// The canonical spelling has no leading zeros and two or three decimals:
// trailing zeros past the second are dropped and missing ones added, so
// 20 is "20.00", 19.9 is "19.90", "19.990" is "19.99" and "0.125" stays.
// Exponent forms (1.999e1) are refused rather than expanded: no JSON
// encoder writes a price in range that way.
func NormalizePrice(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "-"):
		return "", errPriceNegative
	case exponentPattern.MatchString(s):
		return "", errPriceExponent
	}
	m := decimalPattern.FindStringSubmatch(s)
	if m == nil {
		return "", errPriceSyntax
	}
	whole, frac := strings.TrimLeft(m[1], "0"), strings.TrimRight(m[2], "0")
	if whole == "" {
		whole = "0"
	}
	if len(whole) > priceIntDigits {
		return "", errPriceTooLarge
	}
	if len(frac) > priceFracDigits {
		return "", errPricePrecise
	}
	for len(frac) < 2 {
		frac += "0"
	}
	return whole + "." + frac, nil
}
