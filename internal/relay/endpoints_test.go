package relay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
)

// TestPrometheusStyleEndpoints: /-/healthy and /-/ready answer as /healthz
// and /readyz do, without a token.
func TestPrometheusStyleEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/-/healthy", "/-/ready", "/healthz", "/readyz"} {
		a := e.do(httptest.NewRequest(http.MethodGet, path, nil))
		if a.code != 200 || a.body != "ok\n" {
			t.Errorf("GET %s: %d %q, want 200 ok", path, a.code, a.body)
		}
	}
	e.srv.StopIngest()
	if a := e.do(httptest.NewRequest(http.MethodGet, "/-/ready", nil)); a.code != http.StatusServiceUnavailable {
		t.Errorf("GET /-/ready while stopping: %d, want 503", a.code)
	}
}

// TestReloadEndpoint: POST /-/reload needs the admin token, calls the
// relay's reload, and answers 200, or the refusal as JSON.
func TestReloadEndpoint(t *testing.T) {
	var calls int
	var result error
	e := newEnv(t, func(_ *config.Config, o *relay.Options) {
		o.Reload = func(ctx context.Context) error {
			calls++
			return result
		}
	})
	r := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
	r.Host = "127.0.0.1:8686"
	if a := e.do(r); a.code != http.StatusUnauthorized || calls != 0 {
		t.Errorf("without the token: %d after %d reloads, want 401 and none", a.code, calls)
	}
	if a := e.admin(http.MethodGet, "/-/reload"); a.code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", a.code)
	}

	a := e.admin(http.MethodPost, "/-/reload")
	if a.code != 200 || a.json(t)["status"] != "reloaded" || calls != 1 {
		t.Errorf("reload: %d %s after %d calls, want 200 reloaded after 1", a.code, a.body, calls)
	}

	result = fmt.Errorf("reload refused, the running configuration is kept: %w", &config.Problems{List: []config.Problem{{File: "relay.yaml", Line: 3, Column: 5, Field: "spaces.a.pace", Message: "-1s: want a positive interval"}}})
	a = e.admin(http.MethodPost, "/-/reload")
	if a.code != http.StatusBadRequest || a.errorStatus(t) != "INVALID_ARGUMENT" || !strings.Contains(a.body, "relay.yaml:3:5: spaces.a.pace") {
		t.Errorf("refused: %d %s, want 400 INVALID_ARGUMENT naming the problem", a.code, a.body)
	}

	result = fmt.Errorf("shutting down: %w", relay.ErrNoReload)
	if a := e.admin(http.MethodPost, "/-/reload"); a.code != http.StatusServiceUnavailable || a.errorStatus(t) != "UNAVAILABLE" {
		t.Errorf("cannot reload: %d %s, want 503 UNAVAILABLE", a.code, a.body)
	}

	demo := newEnv(t, nil) // no Reload: the demo
	if a := demo.admin(http.MethodPost, "/-/reload"); a.code != http.StatusServiceUnavailable {
		t.Errorf("no reload: %d %s, want 503", a.code, a.body)
	}
}
