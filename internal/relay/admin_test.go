package relay_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
)

func TestAdminAuth(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name     string
		host     string
		auth     string
		wantCode int
	}{
		{"no token", "127.0.0.1:8686", "", 401},
		{"wrong token", "localhost:8686", "Bearer admin-token-0123456780", 401},
		{"basic auth", "localhost", "Basic " + adminToken, 401},
		{"foreign host", "evil.example.com", "Bearer " + adminToken, 403},
		{"foreign host, no token", "evil.example.com:8686", "", 403},
		{"ok", "127.0.0.1:8686", "Bearer " + adminToken, 200},
		{"ok, IPv6 loopback", "[::1]:8686", "bearer " + adminToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/dead", nil)
			r.Host = tt.host
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if a := e.do(r); a.code != tt.wantCode {
				t.Errorf("got %d, want %d:\n%s", a.code, tt.wantCode, a.body)
			}
		})
	}

	t.Run("listen host", func(t *testing.T) {
		e := newEnv(t, func(_ *config.Config, o *relay.Options) { o.Listen = "relay.internal:8686" })
		r := httptest.NewRequest(http.MethodGet, "/api/v1/dead", nil)
		r.Host = "relay.internal:8686"
		r.Header.Set("Authorization", "Bearer "+adminToken)
		if a := e.do(r); a.code != 200 {
			t.Errorf("got %d, want 200:\n%s", a.code, a.body)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config, _ *relay.Options) { c.AdminToken = "" })
		a := e.admin(http.MethodGet, "/api/v1/dead")
		if a.code != http.StatusForbidden || !strings.Contains(a.body, "admin API disabled: set admin_token") {
			t.Errorf("got %d, want 403 admin API disabled:\n%s", a.code, a.body)
		}
	})
}

func TestAdminDeliveries(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	id1, _ := e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	id2, _ := e.mustPost("alerts", alertsToken, "", `{"text":"two"}`)
	id3, _ := e.mustPost("open", "any", "", `{"text":"three"}`)
	e.finish(id1, store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT"})

	t.Run("get", func(t *testing.T) {
		a := e.admin(http.MethodGet, "/api/v1/deliveries/"+id2)
		m := a.json(t)
		if a.code != 200 || m["id"] != id2 || m["state"] != "queued" || m["space"] != "alerts" {
			t.Errorf("got %d %v", a.code, m)
		}
		if msg, _ := m["message"].(map[string]any); msg["text"] != "two" {
			t.Errorf("message: got %v", m["message"])
		}
		if a := e.admin(http.MethodGet, "/api/v1/deliveries/d999"); a.code != 404 {
			t.Errorf("unknown: got %d, want 404", a.code)
		}
	})
	t.Run("list", func(t *testing.T) {
		ids := func(a answer) []string {
			var out []string
			for _, d := range a.json(t)["deliveries"].([]any) {
				out = append(out, d.(map[string]any)["id"].(string))
			}
			return out
		}
		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"", []string{id1, id2, id3}},
			{"?space=alerts", []string{id1, id2}},
			{"?state=queued", []string{id2, id3}},
			{"?space=alerts&state=dead,done", []string{id1}},
			{"?limit=1&after=" + id1, []string{id2}},
		} {
			a := e.admin(http.MethodGet, "/api/v1/deliveries"+tt.query)
			if got := ids(a); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
		if a := e.admin(http.MethodGet, "/api/v1/deliveries?state=lost"); a.code != 400 {
			t.Errorf("bad state: got %d, want 400", a.code)
		}
		if got := ids(e.admin(http.MethodGet, "/api/v1/dead")); len(got) != 1 || got[0] != id1 {
			t.Errorf("dead: got %v, want [%s]", got, id1)
		}
	})
	t.Run("replay", func(t *testing.T) {
		before := e.notify.count()
		a := e.admin(http.MethodPost, "/api/v1/dead/"+id1+"/replay")
		if a.code != 200 || a.json(t)["state"] != "queued" {
			t.Fatalf("got %d:\n%s", a.code, a.body)
		}
		if e.notify.count() != before+1 {
			t.Error("replay did not wake the dispatcher")
		}
		if a := e.admin(http.MethodPost, "/api/v1/dead/"+id1+"/replay"); a.code != http.StatusConflict {
			t.Errorf("replaying a queued delivery: got %d, want 409", a.code)
		}
	})
	t.Run("delete", func(t *testing.T) {
		e.finish(id2, store.Outcome{State: store.StateDead, Error: "too old"})
		if a := e.admin(http.MethodDelete, "/api/v1/dead/"+id3); a.code != http.StatusConflict {
			t.Errorf("deleting a queued delivery: got %d, want 409", a.code)
		}
		if a := e.admin(http.MethodDelete, "/api/v1/dead/"+id2); a.code != http.StatusNoContent {
			t.Errorf("got %d, want 204:\n%s", a.code, a.body)
		}
		if _, err := e.store.Get(ctx, id2); err == nil {
			t.Error("still stored")
		}
		if a := e.admin(http.MethodDelete, "/api/v1/dead/"+id2); a.code != 404 {
			t.Errorf("again: got %d, want 404", a.code)
		}
	})
	t.Run("resume", func(t *testing.T) {
		if err := e.store.PauseLane(ctx, googleSpace, store.Pause{Reason: "404 webhook deleted"}); err != nil {
			t.Fatal(err)
		}
		if a := e.admin(http.MethodPost, "/api/v1/spaces/alerts/resume"); a.code != 200 {
			t.Fatalf("got %d:\n%s", a.code, a.body)
		}
		states, err := e.store.LaneStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.Lane == googleSpace && s.Pause.Active(time.Now()) {
				t.Errorf("lane still paused: %+v", s.Pause)
			}
		}
		if a := e.admin(http.MethodPost, "/api/v1/spaces/nope/resume"); a.code != 404 {
			t.Errorf("unknown space: got %d, want 404", a.code)
		}
	})
}

func TestAdminSpaceList(t *testing.T) {
	e := newEnv(t, nil)
	e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	alerts := e.cfg.Space("alerts")
	if err := e.store.PauseLane(t.Context(), alerts.Webhook.Space(), store.Pause{Reason: "403 PERMISSION_DENIED"}); err != nil {
		t.Fatal(err)
	}
	a := e.admin(http.MethodGet, "/api/v1/spaces")
	if a.code != 200 {
		t.Fatalf("got %d: %s", a.code, a.body)
	}
	got := map[string]map[string]any{}
	for _, s := range a.json(t)["spaces"].([]any) {
		m := s.(map[string]any)
		got[m["space"].(string)] = m
	}
	if s := got["alerts"]; s["paused"] != true || s["pauseReason"] != "403 PERMISSION_DENIED" || s["pending"] != float64(1) {
		t.Errorf("alerts: got %v, want paused with its reason and 1 pending", s)
	}
	// A pause is per Google space: a space delivering to the same one is
	// paused with it.
	sameLane := e.cfg.Space("open").Webhook.Space() == alerts.Webhook.Space()
	if s, ok := got["open"]; !ok || s["paused"] != sameLane {
		t.Errorf("open: got %v, want listed, paused=%v", s, sameLane)
	}
	if strings.Contains(a.body, alerts.Webhook.Space()) {
		t.Errorf("the answer names the Google space id: %s", a.body)
	}
	if _, ok := got["alerts"]["holder"]; ok {
		t.Errorf("alerts: a holder before any lease: %v", got["alerts"])
	}

	// With several replicas, the lease holder shows which one sends.
	lease, err := e.store.AcquireLease(t.Context(), store.LeaseRequest{Lane: alerts.Webhook.Space(), Owner: "relay-2-1234-abcd", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range e.admin(http.MethodGet, "/api/v1/spaces").json(t)["spaces"].([]any) {
		m := s.(map[string]any)
		if m["space"] != "alerts" {
			continue
		}
		until, _ := m["leaseUntil"].(string)
		at, _ := time.Parse(time.RFC3339Nano, until)
		if m["holder"] != "relay-2-1234-abcd" || !at.Equal(lease.Until) {
			t.Errorf("alerts: got holder %v until %v, want relay-2-1234-abcd until %v", m["holder"], m["leaseUntil"], lease.Until)
		}
	}
}
