package devices

import (
	"strings"
	"testing"
)

// TestClaimCodes: a new code is two groups of five from the alphabet
// without look-alikes, codes differ, and a code typed in lower case with
// spaces or dashes anywhere reads the same.
func TestClaimCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := NewClaimCode()
		if len(c) != 11 || c[5] != '-' {
			t.Fatalf("code %q: want XXXXX-XXXXX", c)
		}
		for _, r := range strings.ReplaceAll(c, "-", "") {
			if !strings.ContainsRune(claimAlphabet, r) {
				t.Fatalf("code %q has %q, outside the alphabet", c, r)
			}
		}
		if seen[c] {
			t.Fatalf("code %q came twice in 1000", c)
		}
		seen[c] = true
	}
	if strings.ContainsAny(claimAlphabet, "01OIL") {
		t.Fatalf("the alphabet %q has look-alikes", claimAlphabet)
	}
	for _, typed := range []string{"HKM4T-Z8PQA", "hkm4t z8pqa", " hkm4tz8pqa ", "HK-M4T Z8-PQA"} {
		if got := NormalizeClaimCode(typed); got != "HKM4TZ8PQA" {
			t.Errorf("NormalizeClaimCode(%q) = %q, want HKM4TZ8PQA", typed, got)
		}
	}
}

// TestAckMessageID: an ack names the event's message ID whenever it can
// be read, even from an event refused for other reasons.
func TestAckMessageID(t *testing.T) {
	for body, want := range map[string]string{
		`{"event":{"header":{"messageId":"m-1"},"payload":"nonsense"}}`: "m-1",
		`{"event":{"header":{"messageId":42}}}`:                         "",
		`not json`:                                                      "",
		`{"event":{}}`:                                                  "",
	} {
		if got := messageID([]byte(body)); got != want {
			t.Errorf("messageID(%s) = %q, want %q", body, got, want)
		}
	}
}
