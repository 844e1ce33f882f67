package replenish

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns prefix followed by n random base32 characters (lower
// case), from the system's secure random source.
func NewID(prefix string, n int) string {
	b := make([]byte, (n*5+7)/8)
	rand.Read(b)
	return prefix + strings.ToLower(idEncoding.EncodeToString(b)[:n])
}

// NewSecret returns a fresh credential: an API key, client secret, token
// or code. 32 characters carry 160 random bits.
func NewSecret(prefix string) string { return NewID(prefix, 32) }

// HashSecret is how credentials are stored: high-entropy secrets need no
// slow hash, only one that cannot be reversed.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewUUID returns a random (version 4) UUID, the form of Alexa message IDs.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
