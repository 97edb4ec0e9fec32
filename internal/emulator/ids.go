package emulator

import (
	cryptorand "crypto/rand"
	"encoding/base64"
	"math/rand/v2"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// newID returns n random URL-safe characters. Ids must be unique, not secret,
// so math/rand/v2 (ChaCha8, safe for concurrent use) is enough; 11 characters
// carry 66 bits.
func newID(n int) string {
	var buf [16]byte // on the stack: the string is the only allocation
	b := buf[:n]
	var r uint64
	for i := range b {
		if i%10 == 0 {
			r = rand.Uint64()
		}
		b[i] = idAlphabet[r&63]
		r >>= 6
	}
	return string(b)
}

// newToken returns a webhook secret shaped like Google's current tokens: 32
// random bytes in URL-safe base64 without padding, 43 characters (docs/google-chat.md §1.2).
func newToken() string {
	var b [32]byte
	cryptorand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
