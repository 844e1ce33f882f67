package signing_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"replenish/signing"
)

const (
	signSecret = "whsec_test_signing_secret"
	signBody   = `{"directive":{"header":{"namespace":"Alexa.Authorization","name":"AcceptGrant"}}}`
)

// signAt is a whole second, so that the header's t is exactly this time.
var signAt = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// signMAC is the expected v1, computed here without the package's code.
func signMAC(secret, ts, body string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts + "." + body))
	return hex.EncodeToString(h.Sum(nil))
}

func TestSignFormat(t *testing.T) {
	header := signing.Sign(signSecret, signAt.Add(300*time.Millisecond), []byte(signBody))
	m := regexp.MustCompile(`^t=([0-9]+),v1=([0-9a-f]{64})$`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("header %q is not t=<unix seconds>,v1=<64 hex chars>", header)
	}
	if want := strconv.FormatInt(signAt.Unix(), 10); m[1] != want {
		t.Errorf("t=%s, want the unix seconds %s", m[1], want)
	}
	if want := signMAC(signSecret, m[1], signBody); m[2] != want {
		t.Errorf("v1=%s, want HMAC-SHA256 of \"<t>.<body>\" %s", m[2], want)
	}
}

func TestSignVerifies(t *testing.T) {
	body := []byte(signBody)
	header := signing.Sign(signSecret, signAt, body)
	for _, d := range []time.Duration{0, time.Second, -time.Second, 4 * time.Minute, -4 * time.Minute,
		signing.Tolerance, -signing.Tolerance} {
		if err := signing.Verify(signSecret, header, body, signAt.Add(d)); err != nil {
			t.Errorf("checked %v after signing: %v", d, err)
		}
	}
	// An empty body is signed too (the MAC is then of "<t>.").
	if err := signing.Verify(signSecret, signing.Sign(signSecret, signAt, nil), nil, signAt); err != nil {
		t.Errorf("empty body: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	body := []byte(signBody)
	ts := strconv.FormatInt(signAt.Unix(), 10)
	good := signMAC(signSecret, ts, signBody)
	rows := []struct {
		name, secret, header, body string
		now                        time.Time
	}{
		{"changed body", signSecret, "t=" + ts + ",v1=" + good, strings.Replace(signBody, "AcceptGrant", "Discover", 1), signAt},
		{"body with a byte more", signSecret, "t=" + ts + ",v1=" + good, signBody + " ", signAt},
		{"wrong secret", "whsec_other", "t=" + ts + ",v1=" + good, signBody, signAt},
		{"6 minutes old", signSecret, "t=" + ts + ",v1=" + good, signBody, signAt.Add(6 * time.Minute)},
		{"6 minutes ahead", signSecret, "t=" + ts + ",v1=" + good, signBody, signAt.Add(-6 * time.Minute)},
		{"just over the tolerance", signSecret, "t=" + ts + ",v1=" + good, signBody, signAt.Add(signing.Tolerance + time.Second)},
		{"missing t", signSecret, "v1=" + good, signBody, signAt},
		{"empty t", signSecret, "t=,v1=" + good, signBody, signAt},
		{"t not a number", signSecret, "t=yesterday,v1=" + good, signBody, signAt},
		{"missing v1", signSecret, "t=" + ts, signBody, signAt},
		{"empty v1", signSecret, "t=" + ts + ",v1=", signBody, signAt},
		{"v1 cut short", signSecret, "t=" + ts + ",v1=" + good[:63], signBody, signAt},
		{"v1 not hex", signSecret, "t=" + ts + ",v1=" + strings.Repeat("z", 64), signBody, signAt},
		{"other scheme only", signSecret, "t=" + ts + ",v0=" + good, signBody, signAt},
		// The MAC covers t: moving t to stay within the tolerance breaks it.
		{"t changed", signSecret, "t=" + strconv.FormatInt(signAt.Unix()+1, 10) + ",v1=" + good, signBody, signAt},
		{"empty header", signSecret, "", signBody, signAt},
		{"garbage", signSecret, "garbage", signBody, signAt},
		{"semicolons", signSecret, "t=" + ts + ";v1=" + good, signBody, signAt},
	}
	for _, r := range rows {
		if err := signing.Verify(r.secret, r.header, []byte(r.body), r.now); err == nil {
			t.Errorf("%s: %q verified, want an error", r.name, r.header)
		}
	}
	// The good header itself verifies, so each refusal above is its row's fault.
	if err := signing.Verify(signSecret, "t="+ts+",v1="+good, body, signAt); err != nil {
		t.Fatalf("the good header: %v", err)
	}
}

// TestVerifyKeyRotation: while a vendor's signing secret rotates, a
// header may carry a signature by the old secret and one by the new; a
// receiver that knows either must accept it.
func TestVerifyKeyRotation(t *testing.T) {
	ts := strconv.FormatInt(signAt.Unix(), 10)
	old, cur := signMAC("whsec_old", ts, signBody), signMAC(signSecret, ts, signBody)
	for _, header := range []string{
		"t=" + ts + ",v1=" + old + ",v1=" + cur,
		"t=" + ts + ",v1=" + cur + ",v1=" + old,
		"v1=" + old + ",t=" + ts + ",v1=" + cur,
	} {
		if err := signing.Verify(signSecret, header, []byte(signBody), signAt); err != nil {
			t.Errorf("%q: %v", header, err)
		}
	}
	if err := signing.Verify("whsec_neither", "t="+ts+",v1="+old+",v1="+cur, []byte(signBody), signAt); err == nil {
		t.Error("two v1 entries, neither by the secret, verified")
	}
}
