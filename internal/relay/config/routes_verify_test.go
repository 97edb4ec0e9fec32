package config

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/verify"
)

func TestRouteVerify(t *testing.T) {
	src := "listen: 0.0.0.0:8686\nspaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token: ${TOKEN}\nroutes:\n" +
		"  - name: gh\n    source: json\n    spaces: alerts\n    template: {text: hi}\n" +
		"    verify: {scheme: github, secret_file: /etc/gchat/admin}\n" +
		"  - name: sw\n    source: json\n    spaces: alerts\n    template: {text: hi}\n" +
		"    verify:\n      scheme: standard_webhooks\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      tolerance: 1m\n" +
		"  - name: custom\n    source: json\n    spaces: alerts\n    template: {text: hi}\n" +
		"    verify: {scheme: hmac, secret: '${TOKEN}', header: X-Signature, algorithm: sha512, encoding: base64, prefix: 'sha512='}\n"
	c, err := load(src)
	if err != nil {
		t.Fatalf("Load: %v", err) // verified routes are credentials: no refusal to listen beyond loopback
	}
	if v := c.Route("gh").Verify; v == nil || v.Scheme() != verify.GitHub {
		t.Errorf("gh: verifier %v, want github", v)
	}
	// The spec's vector passes with the route's secret and tolerance.
	if _, err := c.Route("sw").Verify.Verify(http.Header{"Webhook-Id": {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
		"Webhook-Timestamp": {"1614265330"}, "Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}},
		[]byte(`{"test": 2432232314}`), time.Unix(1614265330+59, 0)); err != nil {
		t.Errorf("sw: the spec's vector within the 1m tolerance: %v", err)
	}
	sum := c.Summary()
	for _, want := range []string{"credentials verified github\n", "credentials verified standard_webhooks\n", "credentials verified hmac (X-Signature)\n"} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summary lacks %q:\n%s", want, sum)
		}
	}
	assertNoSecret(t, "Summary", sum)

	for _, tt := range []struct{ name, verify, want string }{
		{"scheme", "{scheme: githib, secret: x}", `routes[0].verify.scheme: "githib" is not one of github, gitlab, standard_webhooks, hmac (did you mean "github"?)`},
		{"no secret", "{scheme: github}", "routes[0].verify.secret: verify: needs secret: or secret_file:"},
		{"hmac header", "{scheme: hmac, secret: x}", "routes[0].verify: scheme hmac needs the header that carries the signature"},
		{"hmac sha1", "{scheme: hmac, secret: x, header: X-Sig, algorithm: sha1}", `routes[0].verify: algorithm "sha1": want sha256 or sha512`},
		{"unknown key", "{scheme: github, secret: x, hedaer: X}", `routes[0].verify: unknown key "hedaer" (did you mean "header"?)`},
		{"whsec", "{scheme: standard_webhooks, secret: '" + canaryAdmin + "!'}", "routes[0].verify: secret: a Standard Webhooks secret is whsec_ and base64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(space + "routes:\n  - {name: gh, source: json, spaces: alerts, template: {text: hi}, verify: " + tt.verify + "}\n")
			if err == nil {
				t.Fatalf("Load succeeded, want %s", tt.want)
			}
			got := problems(t, err)
			if !strings.Contains(got, tt.want) {
				t.Errorf("problems:\n%s\nwant one ending %s", got, tt.want)
			}
			assertNoSecret(t, "problems", got)
		})
	}
}

func TestRouteCardSettings(t *testing.T) {
	c, err := load(space + "routes:\n  - {name: am, source: alertmanager, spaces: alerts, time_zone: Europe/Berlin, text_summary: true}\n" +
		"  - {name: gr, source: grafana, spaces: alerts}\n")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Route("am"); r.TimeZone == nil || r.TimeZone.String() != "Europe/Berlin" || !r.TextSummary {
		t.Errorf("am: zone %v, text_summary %t; want Europe/Berlin, true", r.TimeZone, r.TextSummary)
	}
	if r := c.Route("gr"); r.TimeZone != nil || r.TextSummary {
		t.Errorf("gr: zone %v, text_summary %t; want the defaults (UTC, off)", r.TimeZone, r.TextSummary)
	}
	_, err = load(space + "routes:\n  - {name: am, source: alertmanager, spaces: alerts, time_zone: Mars/Olympus}\n")
	if err == nil || !strings.Contains(problems(t, err), `routes[0].time_zone: "Mars/Olympus" is not a time zone`) {
		t.Errorf("unknown zone: %v", err)
	}
}
