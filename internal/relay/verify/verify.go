// Package verify checks that a request to a source route comes from the
// sender it claims: a signature over the raw body (GitHub's
// X-Hub-Signature-256, Standard Webhooks, any HMAC header) or a shared
// token (GitLab's X-Gitlab-Token), compared in constant time, before
// anything decodes the body. It also names the sender's delivery id, the
// same on the sender's retries and redeliveries, so that the relay can
// answer a repeat with the delivery it stored the first time.
//
// The schemes, as their senders document them:
//
//   - github: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of
//     the body with the webhook's secret; the delivery id is
//     X-GitHub-Delivery.
//     https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
//   - gitlab: X-Gitlab-Token is the webhook's secret token itself; the
//     delivery id is Idempotency-Key, else X-Gitlab-Event-UUID.
//     https://docs.gitlab.com/user/project/integrations/webhooks/
//   - standard_webhooks: webhook-signature holds space-separated "v1,"
//     signatures, each the base64 HMAC-SHA256 of "id.timestamp.body" with
//     the base64 key of a "whsec_" secret; webhook-timestamp (Unix seconds)
//     must be within the tolerance of now; the delivery id is webhook-id.
//     https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
//   - hmac: a header of the route's choice holds the HMAC (SHA-256 or
//     SHA-512) of the body, hex or base64, after an optional prefix; the
//     delivery id is the route's id_header, if it names one.
//
// Every scheme takes up to two secrets, the current and the previous one,
// so that a secret can be rotated without refusing deliveries.
package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scheme names a verification scheme.
type Scheme string

const (
	GitHub           Scheme = "github"
	GitLab           Scheme = "gitlab"
	StandardWebhooks Scheme = "standard_webhooks"
	HMAC             Scheme = "hmac"
)

// Schemes lists the scheme names, for messages.
var Schemes = []string{string(GitHub), string(GitLab), string(StandardWebhooks), string(HMAC)}

// DefaultTolerance is how far a Standard Webhooks timestamp may be from
// now, either way, as the specification recommends.
const DefaultTolerance = 5 * time.Minute

// maxSignatures bounds the signatures a header may list.
const maxSignatures = 16

// Options configure a Verifier.
type Options struct {
	Scheme Scheme
	// Secrets are the current secret and, during a rotation, the previous
	// one; a request signed with either passes. Standard Webhooks secrets
	// are "whsec_" and base64 (the prefix may be left out).
	Secrets []string
	// Header, Algorithm ("sha256", the default, or "sha512"), Encoding
	// ("hex", the default, or "base64"), Prefix (such as "sha256=") and
	// IDHeader are the hmac scheme's.
	Header    string
	Algorithm string
	Encoding  string
	Prefix    string
	IDHeader  string
	// Tolerance bounds Standard Webhooks timestamps; zero means
	// DefaultTolerance.
	Tolerance time.Duration
}

// Verifier checks requests of one route. Its secrets never appear in its
// String, its errors or its answers.
type Verifier struct {
	scheme    Scheme
	keys      [][]byte
	header    string
	newHash   func() hash.Hash
	base64    bool
	prefix    string
	idHeader  string
	tolerance time.Duration
}

// New returns the verifier opts describe, or an error naming the setting
// that is wrong (never a secret's value).
func New(opts Options) (*Verifier, error) {
	v := &Verifier{scheme: opts.Scheme, newHash: sha256.New, tolerance: opts.Tolerance}
	if v.tolerance == 0 {
		v.tolerance = DefaultTolerance
	}
	if v.tolerance < 0 {
		return nil, errors.New("tolerance must not be negative")
	}
	if !slices.Contains(Schemes, string(opts.Scheme)) {
		return nil, fmt.Errorf("scheme %q: want one of %s", opts.Scheme, strings.Join(Schemes, ", "))
	}
	if len(opts.Secrets) == 0 || len(opts.Secrets) > 2 {
		return nil, errors.New("want a secret (and at most one previous_secret)")
	}
	for i, s := range opts.Secrets {
		which := "secret"
		if i > 0 {
			which = "previous_secret"
		}
		key := []byte(s)
		if opts.Scheme == StandardWebhooks {
			k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
			if err != nil || len(k) == 0 {
				return nil, fmt.Errorf("%s: a Standard Webhooks secret is whsec_ and base64", which)
			}
			key = k
		}
		if len(key) == 0 {
			return nil, fmt.Errorf("%s is empty", which)
		}
		v.keys = append(v.keys, key)
	}
	if opts.Scheme != HMAC {
		if opts.Header != "" || opts.Algorithm != "" || opts.Encoding != "" || opts.Prefix != "" || opts.IDHeader != "" {
			return nil, fmt.Errorf("header, algorithm, encoding, prefix and id_header are for scheme hmac; %s has its own", opts.Scheme)
		}
		return v, nil
	}
	if opts.Header == "" {
		return nil, errors.New("scheme hmac needs the header that carries the signature")
	}
	v.header, v.prefix, v.idHeader = http.CanonicalHeaderKey(opts.Header), opts.Prefix, opts.IDHeader
	switch strings.ToLower(strings.ReplaceAll(opts.Algorithm, "-", "")) {
	case "", "sha256":
	case "sha512":
		v.newHash = sha512.New
	default:
		return nil, fmt.Errorf("algorithm %q: want sha256 or sha512", opts.Algorithm)
	}
	switch opts.Encoding {
	case "", "hex":
	case "base64":
		v.base64 = true
	default:
		return nil, fmt.Errorf("encoding %q: want hex or base64", opts.Encoding)
	}
	return v, nil
}

// Scheme returns the verifier's scheme.
func (v *Verifier) Scheme() Scheme { return v.scheme }

// String names the scheme, never a secret.
func (v *Verifier) String() string {
	if v.scheme == HMAC {
		return fmt.Sprintf("hmac (%s)", v.header)
	}
	return string(v.scheme)
}

// Error is a request that does not pass: its message says what is missing
// or wrong, and never holds a secret or an expected signature.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Verify checks a request's headers and raw body at time now and returns
// the sender's delivery id ("" when the sender gives none). An *Error when
// the request does not pass.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) (string, error) {
	switch v.scheme {
	case GitHub:
		got := h.Get("X-Hub-Signature-256")
		if got == "" {
			return "", &Error{"missing X-Hub-Signature-256 header (set the webhook's secret in GitHub)"}
		}
		sig, ok := ParseSignature(got, "sha256=", false)
		if !ok || !v.match(body, [][]byte{sig}) {
			return "", &Error{"X-Hub-Signature-256 does not match the body signed with the route's secret"}
		}
		return h.Get("X-GitHub-Delivery"), nil
	case GitLab:
		got := h.Get("X-Gitlab-Token")
		if got == "" {
			return "", &Error{"missing X-Gitlab-Token header (set the webhook's secret token in GitLab)"}
		}
		ok := 0
		for _, k := range v.keys {
			ok |= subtle.ConstantTimeCompare([]byte(got), k)
		}
		if ok != 1 {
			return "", &Error{"X-Gitlab-Token is not the route's secret token"}
		}
		if id := h.Get("Idempotency-Key"); id != "" {
			return id, nil
		}
		return h.Get("X-Gitlab-Event-UUID"), nil
	case StandardWebhooks:
		return v.standard(h, body, now)
	}
	got := h.Get(v.header)
	if got == "" {
		return "", &Error{"missing " + v.header + " header"}
	}
	sig, ok := ParseSignature(got, v.prefix, v.base64)
	if !ok || !v.match(body, [][]byte{sig}) {
		return "", &Error{v.header + " does not match the body signed with the route's secret"}
	}
	if v.idHeader == "" {
		return "", nil
	}
	return h.Get(v.idHeader), nil
}

// standard checks a Standard Webhooks request.
func (v *Verifier) standard(h http.Header, body []byte, now time.Time) (string, error) {
	id, ts, sigs := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp"), h.Get("Webhook-Signature")
	switch {
	case id == "" || ts == "" || sigs == "":
		return "", &Error{"missing webhook-id, webhook-timestamp or webhook-signature header (Standard Webhooks)"}
	case len(id) > 256:
		return "", &Error{"webhook-id is over 256 bytes"}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", &Error{"webhook-timestamp is not a whole number of seconds since 1970"}
	}
	if d := now.Sub(time.Unix(sec, 0)); d > v.tolerance || d < -v.tolerance {
		return "", &Error{fmt.Sprintf("webhook-timestamp is more than %s from the relay's clock", v.tolerance)}
	}
	list := ParseStandardSignatures(sigs)
	if len(list) == 0 {
		return "", &Error{"webhook-signature holds no v1 signature"}
	}
	signed := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	signed = append(append(append(append(append(signed, id...), '.'), ts...), '.'), body...)
	if !v.match(signed, list) {
		return "", &Error{"no signature of webhook-signature matches the request signed with the route's secret"}
	}
	return id, nil
}

// match reports whether any of sigs is the HMAC of msg with any key. Every
// pair is compared, in constant time each.
func (v *Verifier) match(msg []byte, sigs [][]byte) bool {
	ok := 0
	for _, k := range v.keys {
		m := hmac.New(v.newHash, k)
		m.Write(msg)
		want := m.Sum(nil)
		for _, s := range sigs {
			ok |= subtle.ConstantTimeCompare(s, want)
		}
	}
	return ok == 1
}

// ParseSignature decodes one signature header value: prefix (matched
// case-insensitively), then hex or base64. ok is false for anything else.
func ParseSignature(s, prefix string, b64 bool) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return nil, false
	}
	s = s[len(prefix):]
	if len(s) == 0 || len(s) > 256 {
		return nil, false
	}
	var (
		b   []byte
		err error
	)
	if b64 {
		b, err = base64.StdEncoding.DecodeString(s)
	} else {
		b, err = hex.DecodeString(s)
	}
	return b, err == nil && len(b) > 0
}

// ParseStandardSignatures decodes a webhook-signature header: space-
// separated "version,base64" pairs, of which it keeps the v1 ones that
// decode (other versions are for other signers), at most maxSignatures.
func ParseStandardSignatures(s string) [][]byte {
	var out [][]byte
	for f := range strings.FieldsSeq(s) {
		ver, sig, ok := strings.Cut(f, ",")
		if !ok || ver != "v1" || len(sig) > 256 {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) == 0 {
			continue
		}
		if out = append(out, b); len(out) == maxSignatures {
			break
		}
	}
	return out
}
