package relay_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/verify"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
)

const githubSecret = "It's a Secret to Everybody"

// verifiedRoute is a json route "gh" verifying scheme o.
func verifiedRoute(t *testing.T, o verify.Options) *config.Route {
	t.Helper()
	tmpl, err := jsontmpl.Compile(jsontmpl.Spec{Text: `{{ .action }} {{ .number }}`})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(o)
	if err != nil {
		t.Fatal(err)
	}
	// A dedup window of a nanosecond: only the delivery id can make a
	// redelivery a duplicate here.
	return &config.Route{Name: "gh", Source: config.SourceJSON, Spaces: []string{"alerts"}, Template: tmpl,
		DedupWindow: time.Nanosecond, Verify: v}
}

func (e *env) postSigned(path, body string, h http.Header) (answer, sourceResult) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header = h.Clone()
	r.Header.Set("Content-Type", "application/json")
	a := e.do(r)
	var res sourceResult
	if a.code == http.StatusOK {
		if err := json.Unmarshal([]byte(a.body), &res); err != nil {
			e.t.Fatalf("answer is not JSON: %v\n%s", err, a.body)
		}
	}
	return a, res
}

// TestVerifiedGitHub: a delivery signed as GitHub documents is queued; its
// redelivery (the same X-GitHub-Delivery) is answered 200 with the stored
// delivery and queues nothing; a wrong or missing signature is a 401 that
// names the problem and neither the secret nor the expected signature.
func TestVerifiedGitHub(t *testing.T) {
	e := sourceEnv(t, verifiedRoute(t, verify.Options{Scheme: verify.GitHub, Secrets: []string{githubSecret}}))
	e.withMetrics()
	body := `{"action":"opened","number":7}`
	mac := hmac.New(sha256.New, []byte(githubSecret))
	mac.Write([]byte(body))
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	h := http.Header{"X-Hub-Signature-256": {sig}, "X-Github-Delivery": {"72d3162e-cc78-11e3-81ab-4c9367dc0958"}}

	a, first := e.postSigned("/v1/events/gh", body, h)
	if a.code != http.StatusOK || len(first.Deliveries) != 1 || first.Deliveries[0].Duplicate {
		t.Fatalf("signed delivery: %d %s, want 200 and a new delivery", a.code, a.body)
	}
	a, again := e.postSigned("/v1/events/gh", body, h)
	if a.code != http.StatusOK || len(again.Deliveries) != 1 || !again.Deliveries[0].Duplicate || again.Deliveries[0].ID != first.Deliveries[0].ID {
		t.Fatalf("redelivery: %d %s, want 200 with the stored delivery %s", a.code, a.body, first.Deliveries[0].ID)
	}
	other := h.Clone()
	other.Set("X-Github-Delivery", "another-delivery")
	if _, res := e.postSigned("/v1/events/gh", body, other); len(res.Deliveries) != 1 || res.Deliveries[0].Duplicate {
		t.Errorf("another delivery of the same body: %+v, want a new delivery", res)
	}
	if got := value(t, e.scrape(), `gchat_relay_deduplicated_total{reason="redelivery",route="gh"}`); got != 1 {
		t.Errorf("redeliveries counted %v, want 1", got)
	}

	for _, c := range []struct {
		name string
		h    http.Header
		body string
		want string
	}{
		{"tampered", h, `{"action":"closed","number":7}`, "X-Hub-Signature-256 does not match"},
		{"wrong secret", http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("0", 64)}}, body, "X-Hub-Signature-256 does not match"},
		{"missing", http.Header{}, body, "missing X-Hub-Signature-256"},
	} {
		a, _ := e.postSigned("/v1/events/gh", c.body, c.h)
		if a.code != http.StatusUnauthorized || !strings.Contains(a.body, c.want) || !strings.Contains(a.body, "UNAUTHENTICATED") {
			t.Errorf("%s: %d %s, want 401 saying %q", c.name, a.code, a.body, c.want)
		}
		tampered := hmac.New(sha256.New, []byte(githubSecret))
		tampered.Write([]byte(c.body))
		for _, secret := range []string{githubSecret, hex.EncodeToString(tampered.Sum(nil))} {
			if strings.Contains(a.body, secret) {
				t.Errorf("%s: the answer holds a secret or the expected signature: %s", c.name, a.body)
			}
		}
	}
}

// TestVerifiedStandardWebhooks: the same for the Standard Webhooks scheme,
// with a timestamp outside the tolerance refused.
func TestVerifiedStandardWebhooks(t *testing.T) {
	key := []byte("a secret of thirty-two bytes!!!!")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	e := sourceEnv(t, verifiedRoute(t, verify.Options{Scheme: verify.StandardWebhooks, Secrets: []string{secret}}))
	body := `{"action":"opened","number":8}`
	sign := func(id string, at time.Time) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + body))
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {ts},
			"Webhook-Signature": {"v1,bm90IGl0 v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))}}
	}
	_, first := e.postSigned("/v1/events/gh", body, sign("msg_1", time.Now()))
	if len(first.Deliveries) != 1 || first.Deliveries[0].Duplicate {
		t.Fatalf("signed: %+v, want a new delivery", first)
	}
	// A retry is signed again, with a new timestamp: the same webhook-id.
	if _, again := e.postSigned("/v1/events/gh", body, sign("msg_1", time.Now().Add(time.Second))); len(again.Deliveries) != 1 ||
		!again.Deliveries[0].Duplicate || again.Deliveries[0].ID != first.Deliveries[0].ID {
		t.Errorf("retry: %+v, want the stored delivery %s", again, first.Deliveries[0].ID)
	}
	if a, _ := e.postSigned("/v1/events/gh", body, sign("msg_2", time.Now().Add(-6*time.Minute))); a.code != http.StatusUnauthorized ||
		!strings.Contains(a.body, "webhook-timestamp is more than 5m0s") {
		t.Errorf("old timestamp: %d %s, want 401", a.code, a.body)
	}
	if a, _ := e.postSigned("/v1/events/gh", body, http.Header{}); a.code != http.StatusUnauthorized || strings.Contains(a.body, secret) {
		t.Errorf("unsigned: %d %s, want 401", a.code, a.body)
	}
}
