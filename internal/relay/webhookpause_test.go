package relay_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// A refused webhook pauses its relay space only: GET /api/v1/spaces and the
// paused gauge say which space, the other space posting into the same Google
// space is not paused, and the resume lifts the space's pause.
func TestWebhookPauseShown(t *testing.T) {
	e, _ := newMetricsEnv(t)
	ctx := t.Context()
	e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	e.mustPost("open", "any", "", `{"text":"two"}`)
	if e.cfg.Space("open").Webhook.Space() != googleSpace || e.cfg.Space("alerts").Webhook.Space() != googleSpace {
		t.Fatal("alerts and open must share a Google space for this test")
	}
	reason := "google chat: HTTP 403 PERMISSION_DENIED"
	if err := e.store.PauseSpace(ctx, store.SpacePause{Space: "alerts", Lane: googleSpace, Pause: store.Pause{Reason: reason}}); err != nil {
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
	if s := got["alerts"]; s["paused"] != true || s["pauseScope"] != "webhook" || s["pauseReason"] != reason ||
		s["pending"] != float64(2) || s["spacePending"] != float64(1) {
		t.Errorf("alerts: got %v, want paused by its webhook, 2 pending in the Google space, 1 its own", s)
	}
	if s := got["open"]; s["paused"] != false || s["pauseScope"] != nil || s["spacePending"] != float64(1) {
		t.Errorf("open: got %v, want not paused, 1 pending of its own", s)
	}
	exp := e.scrape()
	if v := value(t, exp, `gchat_relay_space_paused{space="alerts"}`); v != 1 {
		t.Errorf("alerts: paused gauge %v, want 1", v)
	}
	if v := value(t, exp, `gchat_relay_space_paused{space="open"}`); v != 0 {
		t.Errorf("open: paused gauge %v, want 0", v)
	}

	// A 429 pauses the Google space: both spaces, scope googleSpace for open.
	if err := e.store.PauseLane(ctx, googleSpace, store.Pause{Until: time.Now().Add(time.Hour), Reason: "429"}); err != nil {
		t.Fatal(err)
	}
	got = map[string]map[string]any{}
	for _, s := range e.admin(http.MethodGet, "/api/v1/spaces").json(t)["spaces"].([]any) {
		m := s.(map[string]any)
		got[m["space"].(string)] = m
	}
	if s := got["open"]; s["paused"] != true || s["pauseScope"] != "googleSpace" {
		t.Errorf("open during a 429: got %v, want paused with its Google space", s)
	}
	if s := got["alerts"]; s["pauseScope"] != "webhook" {
		t.Errorf("alerts during a 429: got %v, want its webhook's pause shown first", s)
	}

	if a := e.admin(http.MethodPost, "/api/v1/spaces/alerts/resume"); a.code != 200 {
		t.Fatalf("resume: got %d:\n%s", a.code, a.body)
	}
	states, err := e.store.SpaceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Pause.Reason != "" {
			t.Errorf("%s still paused after the resume: %+v", st.Space, st.Pause)
		}
	}
}
