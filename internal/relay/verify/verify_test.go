package verify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/verify"
)

func mustNew(t *testing.T, o verify.Options) *verify.Verifier {
	t.Helper()
	v, err := verify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// check runs Verify and fails unless it passes (wantID) or is refused with
// a message holding wantMsg and none of the secrets.
func check(t *testing.T, v *verify.Verifier, h http.Header, body string, now time.Time, wantID, wantMsg string, secrets ...string) {
	t.Helper()
	id, err := v.Verify(h, []byte(body), now)
	if wantMsg == "" {
		if err != nil || id != wantID {
			t.Errorf("Verify: id %q, err %v; want id %q", id, err, wantID)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("Verify: err %v, want one saying %q", err, wantMsg)
		return
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("Verify's error %q holds a secret or the expected signature", err)
		}
	}
}

// GitHub's documented example: secret "It's a Secret to Everybody",
// payload "Hello, World!" (docs.github.com, Validating webhook deliveries).
func TestGitHub(t *testing.T) {
	const (
		secret = "It's a Secret to Everybody"
		body   = "Hello, World!"
		sig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	)
	v := mustNew(t, verify.Options{Scheme: verify.GitHub, Secrets: []string{secret}})
	now := time.Now()
	check(t, v, headers("X-Hub-Signature-256", sig, "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"), body, now,
		"72d3162e-cc78-11e3-81ab-4c9367dc0958", "")
	check(t, v, headers("X-Hub-Signature-256", sig), body+" ", now, "", "does not match", secret, sig[7:])
	check(t, v, headers("X-Hub-Signature-256", "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"), body, now, "", "does not match", secret)
	check(t, v, headers(), body, now, "", "missing X-Hub-Signature-256", secret)
	check(t, v, headers("X-Hub-Signature-256", "sha256=zz"), body, now, "", "does not match", secret)

	// Rotation: the previous secret still passes.
	rot := mustNew(t, verify.Options{Scheme: verify.GitHub, Secrets: []string{"the new one", secret}})
	check(t, rot, headers("X-Hub-Signature-256", sig), body, now, "", "")
}

func TestGitLab(t *testing.T) {
	const token = "gitlab-secret-token-0123"
	v := mustNew(t, verify.Options{Scheme: verify.GitLab, Secrets: []string{token}})
	now := time.Now()
	check(t, v, headers("X-Gitlab-Token", token, "X-Gitlab-Event-UUID", "uuid-1"), "{}", now, "uuid-1", "")
	check(t, v, headers("X-Gitlab-Token", token, "X-Gitlab-Event-UUID", "uuid-1", "Idempotency-Key", "key-1"), "{}", now, "key-1", "")
	check(t, v, headers("X-Gitlab-Token", token+"x"), "{}", now, "", "not the route's secret token", token)
	check(t, v, headers(), "{}", now, "", "missing X-Gitlab-Token", token)
}

// The Standard Webhooks specification's test vector
// (github.com/standard-webhooks/standard-webhooks, the libraries' tests).
func TestStandardWebhooks(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = "1614265330"
		body   = `{"test": 2432232314}`
		sig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	at := time.Unix(1614265330, 0)
	v := mustNew(t, verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{secret}})
	h := func(sigs string) http.Header {
		return headers("webhook-id", id, "webhook-timestamp", ts, "webhook-signature", sigs)
	}
	check(t, v, h(sig), body, at, id, "")
	// Several signatures, space-separated, other versions ignored: one match passes.
	check(t, v, h("v1a,abc v1,Zm9v "+sig), body, at, id, "")
	check(t, v, h("v1,Zm9v v2,"+sig[3:]), body, at, "", "no signature", secret, sig[3:])
	check(t, v, h(sig), body+" ", at, "", "no signature", secret)
	check(t, v, headers("webhook-id", "msg_other", "webhook-timestamp", ts, "webhook-signature", sig), body, at, "", "no signature")
	check(t, v, h(sig), body, at.Add(5*time.Minute), id, "")
	check(t, v, h(sig), body, at.Add(5*time.Minute+time.Second), "", "more than 5m0s", secret)
	check(t, v, h(sig), body, at.Add(-5*time.Minute-time.Second), "", "more than 5m0s", secret)
	check(t, v, headers("webhook-id", id, "webhook-signature", sig), body, at, "", "missing webhook-id, webhook-timestamp", secret)

	// Rotation: a sender signing with both secrets, or with the old one.
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a newer secret of thirty-two b!!"))
	rot := mustNew(t, verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{other, secret}})
	check(t, rot, h(sig), body, at, id, "")
	only := mustNew(t, verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{other}})
	check(t, only, h(sig), body, at, "", "no signature", other)
	// The prefix may be left out.
	bare := mustNew(t, verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{strings.TrimPrefix(secret, "whsec_")}})
	check(t, bare, h(sig), body, at, id, "")

	if _, err := verify.New(verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{"whsec_not base64!"}}); err == nil ||
		strings.Contains(err.Error(), "not base64!") {
		t.Errorf("a secret that is not base64: %v, want an error that does not quote it", err)
	}
}

func TestHMAC(t *testing.T) {
	const secret, body = "hmac-secret", `{"event":"deploy"}`
	s256 := hmac.New(sha256.New, []byte(secret))
	s256.Write([]byte(body))
	sum256 := s256.Sum(nil)
	s512 := hmac.New(sha512.New, []byte(secret))
	s512.Write([]byte(body))
	sum512 := s512.Sum(nil)
	now := time.Now()

	hexv := mustNew(t, verify.Options{Scheme: verify.HMAC, Secrets: []string{secret}, Header: "X-Signature", Prefix: "sha256=", IDHeader: "X-Event-Id"})
	check(t, hexv, headers("X-Signature", "sha256="+hex.EncodeToString(sum256), "X-Event-Id", "e1"), body, now, "e1", "")
	check(t, hexv, headers("X-Signature", hex.EncodeToString(sum256)), body, now, "", "does not match", secret)
	check(t, hexv, headers(), body, now, "", "missing X-Signature", secret)

	b64 := mustNew(t, verify.Options{Scheme: verify.HMAC, Secrets: []string{secret}, Header: "x-sig", Algorithm: "sha512", Encoding: "base64"})
	check(t, b64, headers("X-Sig", base64.StdEncoding.EncodeToString(sum512)), body, now, "", "")
	check(t, b64, headers("X-Sig", base64.StdEncoding.EncodeToString(sum256)), body, now, "", "does not match", secret)

	for _, o := range []verify.Options{
		{Scheme: verify.HMAC, Secrets: []string{secret}},
		{Scheme: verify.HMAC, Secrets: []string{secret}, Header: "X", Algorithm: "sha1"},
		{Scheme: verify.HMAC, Secrets: []string{secret}, Header: "X", Encoding: "base32"},
		{Scheme: verify.GitHub, Secrets: []string{secret}, Header: "X"},
		{Scheme: "svix", Secrets: []string{secret}},
		{Scheme: verify.GitHub},
	} {
		if _, err := verify.New(o); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", o)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("New's error %q holds the secret", err)
		}
	}
}

func FuzzParseStandardSignatures(f *testing.F) {
	for _, s := range []string{"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1a,abc v1,Zm9v", "", " , v1, v1,=", strings.Repeat("v1,Zm9v ", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sigs := verify.ParseStandardSignatures(s)
		if len(sigs) > 16 {
			t.Fatalf("%d signatures, want at most 16", len(sigs))
		}
		for _, b := range sigs {
			if len(b) == 0 {
				t.Fatal("an empty signature")
			}
		}
		v, err := verify.New(verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(headers("webhook-id", "m", "webhook-timestamp", "0", "webhook-signature", s), nil, time.Unix(0, 0)); err == nil {
			t.Fatalf("header %q verified without the key's signature", s)
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "sha256=", false)
	f.Add("SHA256=00", "sha256=", false)
	f.Add("Zm9v", "", true)
	f.Fuzz(func(t *testing.T, s, prefix string, b64 bool) {
		b, ok := verify.ParseSignature(s, prefix, b64)
		if ok && len(b) == 0 {
			t.Fatal("ok with an empty signature")
		}
	})
}
