package relay_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
	"go.yaml.in/yaml/v3"
)

const routeToken = "route-bearer-0123456789"

// fixture reads a payload of a source package's testdata.
func fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile("../source/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sourceEnv is a relay with an "oncall" space besides newEnv's and the
// routes given.
func sourceEnv(t *testing.T, routes ...*config.Route) *env {
	t.Helper()
	return sourceEnvClock(t, nil, routes...)
}

// sourceEnvClock is sourceEnv with the store's clock (nil: time.Now).
func sourceEnvClock(t *testing.T, now func() time.Time, routes ...*config.Route) *env {
	t.Helper()
	return newEnvStore(t, sqlite.Options{Now: now}, func(c *config.Config, _ *relay.Options) {
		hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/AAAAoncall1/messages?key=k&token=" + googleSecret)
		if err != nil {
			t.Fatal(err)
		}
		c.Spaces = append(c.Spaces, config.NewSpace("oncall", hook))
		c.Routes = routes
	})
}

func amRoute(change func(*config.Route)) *config.Route {
	r := &config.Route{Name: "prom", Source: config.SourceAlertmanager, BearerToken: routeToken,
		Spaces: []string{"alerts"}, Thread: alert.PolicyGroup, DedupWindow: config.DefaultDedupWindow, MaxAlerts: config.DefaultMaxAlerts}
	if change != nil {
		change(r)
	}
	return r
}

type sourceResult struct {
	Route      string
	Deliveries []struct {
		Space, ID, State string
		Parts            int
		Duplicate        bool
	}
	Skipped string
}

func (e *env) postSource(path, auth string, body []byte) (answer, sourceResult) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	a := e.do(r)
	var res sourceResult
	if a.code == http.StatusOK {
		if err := json.Unmarshal([]byte(a.body), &res); err != nil {
			e.t.Fatalf("answer is not JSON: %v\n%s", err, a.body)
		}
	}
	return a, res
}

func (e *env) mustSource(path string, body []byte) sourceResult {
	e.t.Helper()
	a, res := e.postSource(path, "Bearer "+routeToken, body)
	if a.code != http.StatusOK {
		e.t.Fatalf("POST %s: %d, want 200:\n%s", path, a.code, a.body)
	}
	return res
}

func (e *env) message(id string) gchat.Message {
	e.t.Helper()
	var m gchat.Message
	if err := json.Unmarshal(e.get(id).Message, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestAlertmanagerRoute(t *testing.T) {
	e := sourceEnv(t, amRoute(func(r *config.Route) {
		r.Match = []config.Match{{When: map[string]string{"severity": "critical"}, Spaces: []string{"oncall", "alerts"}}}
		r.Mentions = map[string]string{"critical": "<users/all>"}
	}))
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	res := e.mustSource("/v1/alertmanager/prom", firing)
	// severity=critical: fan-out to the rule's two spaces.
	if len(res.Deliveries) != 2 || res.Deliveries[0].Space != "oncall" || res.Deliveries[1].Space != "alerts" {
		t.Fatalf("deliveries %+v, want oncall then alerts", res.Deliveries)
	}
	first := e.get(res.Deliveries[1].ID)
	m := e.message(first.ID)
	if m.Text != "<users/all>" || len(m.CardsV2) != 1 || m.Thread == nil || m.Thread.ThreadKey == "" {
		t.Errorf("message text %q, %d cards, thread %+v: want the mention first, a card, a thread key", m.Text, len(m.CardsV2), m.Thread)
	}
	if first.Route != "prom" || first.Reply != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" || first.RelayThread == "" {
		t.Errorf("delivery route %q, reply %q, relay thread %q", first.Route, first.Reply, first.RelayThread)
	}

	// The second Alertmanager of a pair sends the same notification: no
	// second message.
	again := e.mustSource("/v1/alertmanager/prom", firing)
	if !again.Deliveries[1].Duplicate || again.Deliveries[1].ID != first.ID {
		t.Errorf("repeat: %+v, want a duplicate of %s", again.Deliveries[1], first.ID)
	}

	// Resolved goes into the thread where it fired, without a mention.
	resolved := e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-resolved.json"))
	r := e.get(resolved.Deliveries[1].ID)
	if resolved.Deliveries[1].Duplicate || r.RelayThread != first.RelayThread || r.Group != first.Group {
		t.Errorf("resolved: thread %q group %q, want the firing's %q", r.RelayThread, r.Group, first.RelayThread)
	}
	if rm := e.message(r.ID); strings.Contains(rm.Text, "<users/") || rm.Thread.ThreadKey != m.Thread.ThreadKey {
		t.Errorf("resolved message %q in thread %q, want no mention and thread %q", rm.Text, rm.Thread.ThreadKey, m.Thread.ThreadKey)
	}

	// No match: the route's own spaces.
	warning := restarted(t, []byte(strings.ReplaceAll(string(firing), `"critical"`, `"warning"`)), "2026-11-27T08:02:10Z")
	other := e.mustSource("/v1/alertmanager/prom", warning)
	if len(other.Deliveries) != 1 || other.Deliveries[0].Space != "alerts" {
		t.Errorf("warning: deliveries %+v, want alerts only", other.Deliveries)
	}
	if wm := e.message(other.Deliveries[0].ID); strings.Contains(wm.Text, "<users/") {
		t.Errorf("warning message %q mentions, want no mention", wm.Text)
	}
}

func TestIncidentThreads(t *testing.T) {
	e := sourceEnv(t, amRoute(func(r *config.Route) { r.Thread = alert.PolicyIncident }))
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	resolved := fixture(t, "alertmanager/testdata/diskfull-resolved.json")
	thread := func(b []byte) string {
		t.Helper()
		return e.get(e.mustSource("/v1/alertmanager/prom", b).Deliveries[0].ID).RelayThread
	}
	t1 := thread(firing)
	if got := thread(resolved); got != t1 {
		t.Errorf("resolved in %q, want the firing's thread %q", got, t1)
	}
	// Fires again after it fully resolved: a new incident. Prometheus gives
	// the new firing a new start (the same start is a stale echo,
	// TestStaleEcho).
	firing = restarted(t, firing, "2026-11-27T08:02:10Z")
	resolved = restarted(t, resolved, "2026-11-27T08:02:10Z")
	t2 := thread(firing)
	if t2 == t1 {
		t.Errorf("second incident in the first one's thread %q", t1)
	}
	if got := thread(resolved); got != t2 {
		t.Errorf("second resolved in %q, want %q", got, t2)
	}
}

func TestGroupThreadOutlivesRepeats(t *testing.T) {
	// Policy group: fire, resolve, fire again share the group's thread,
	// and the second firing is a new message, not a duplicate of the first.
	e := sourceEnv(t, amRoute(func(r *config.Route) { r.SuppressRepeats = 4 * time.Hour }))
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	a := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-resolved.json"))
	firing = restarted(t, firing, "2026-11-27T08:02:10Z")
	b := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]
	if b.Duplicate || b.ID == a.ID {
		t.Fatalf("firing again after resolved: %+v, want a new delivery", b)
	}
	if e.get(a.ID).RelayThread != e.get(b.ID).RelayThread {
		t.Errorf("group policy: the second firing left the group's thread")
	}
	// An unchanged repeat (repeat_interval) within suppress_repeats: none.
	if c := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]; !c.Duplicate {
		t.Errorf("repeat of an unchanged group: %+v, want suppressed", c)
	}
}

// restarted returns an Alertmanager payload with every alert started at
// start, as Prometheus starts an alert that fires again.
func restarted(t *testing.T, payload []byte, start string) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	for _, a := range p["alerts"].([]any) {
		a.(map[string]any)["startsAt"] = start
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withMetrics rebuilds e's server with metrics, which it returns.
func (e *env) withMetrics() *relay.Metrics {
	e.t.Helper()
	m := relay.NewMetrics(e.cfg, e.store, nil)
	e.srv = relay.NewServer(e.cfg, e.store, e.notify, nil, relay.Options{Listen: e.cfg.Listen, Metrics: m})
	return m
}

// TestStaleEcho: an HA pair's second Alertmanager sends the group's old
// firing after the first one's resolved (it took its snapshot before the
// resolved arrived and waited out its peer_timeout). Its alerts, starts and
// statuses are those of the first firing: it is not posted, it does not open
// a new incident (so the pair's second resolved is a duplicate in the same
// thread), and it is counted. A firing with new starts is a new incident.
func TestStaleEcho(t *testing.T) {
	e := sourceEnv(t, amRoute(func(r *config.Route) { r.Thread = alert.PolicyIncident }))
	e.withMetrics()
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	resolved := fixture(t, "alertmanager/testdata/diskfull-resolved.json")

	f1 := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]
	if again := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]; !again.Duplicate { // the pair's copy
		t.Fatalf("the pair's copy of the firing: %+v, want a duplicate", again)
	}
	r1 := e.mustSource("/v1/alertmanager/prom", resolved).Deliveries[0]
	echo := e.mustSource("/v1/alertmanager/prom", firing)
	if len(echo.Deliveries) != 0 || !strings.Contains(echo.Skipped, "stale echo") {
		t.Fatalf("stale firing after the resolved: %+v, want no post, skipped as a stale echo", echo)
	}
	if again := e.mustSource("/v1/alertmanager/prom", firing); len(again.Deliveries) != 0 {
		t.Fatalf("the echo again: %+v, want no post", again)
	}
	r2 := e.mustSource("/v1/alertmanager/prom", resolved).Deliveries[0]
	if !r2.Duplicate || r2.ID != r1.ID {
		t.Errorf("the pair's resolved after the echo: %+v, want a duplicate of %s (the echo opened no incident)", r2, r1.ID)
	}
	if e.get(r1.ID).RelayThread != e.get(f1.ID).RelayThread {
		t.Errorf("resolved outside the firing's thread")
	}

	// Firing again for real: new starts, a new incident and thread.
	f2 := e.mustSource("/v1/alertmanager/prom", restarted(t, firing, "2026-11-27T08:02:10Z")).Deliveries[0]
	if f2.Duplicate || e.get(f2.ID).RelayThread == e.get(f1.ID).RelayThread {
		t.Errorf("a new firing after the resolved: %+v, want a new post in a new thread", f2)
	}

	got := e.scrape()
	for series, want := range map[string]float64{
		`gchat_relay_deduplicated_total{reason="stale_echo",route="prom"}`: 2,
		`gchat_relay_deduplicated_total{reason="copy",route="prom"}`:       2,
		`gchat_relay_deduplicated_total{reason="repeat",route="prom"}`:     0,
	} {
		if v := value(t, got, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
}

// TestStaleEchoPartly: a firing is an echo only when every firing alert
// was seen resolved; one alert firing anew makes it news.
func TestStaleEchoPartly(t *testing.T) {
	e := sourceEnv(t, amRoute(nil))
	var p map[string]any
	if err := json.Unmarshal(fixture(t, "alertmanager/testdata/diskfull-firing.json"), &p); err != nil {
		t.Fatal(err)
	}
	post := func(status0, status1, start1 string) sourceResult {
		t.Helper()
		alerts := p["alerts"].([]any)
		alerts[0].(map[string]any)["status"] = status0
		b := alerts[1].(map[string]any)
		b["status"], b["startsAt"] = status1, start1
		p["status"] = "resolved"
		if status0 == "firing" || status1 == "firing" {
			p["status"] = "firing"
		}
		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return e.mustSource("/v1/alertmanager/prom", body)
	}
	post("firing", "firing", "2026-11-27T07:18:43Z")
	post("resolved", "resolved", "2026-11-27T07:18:43Z")
	if echo := post("firing", "firing", "2026-11-27T07:18:43Z"); len(echo.Deliveries) != 0 {
		t.Errorf("both alerts seen resolved: %+v, want a stale echo", echo)
	}
	if news := post("firing", "firing", "2026-11-27T08:00:00Z"); len(news.Deliveries) != 1 || news.Deliveries[0].Duplicate {
		t.Errorf("the second alert firing anew: %+v, want a post", news)
	}
}

// TestRepeatsFromLastPost: suppress_repeats counts from the last post of
// a state, not its first: an unchanged group repeated past the window is
// posted, and a repeat within the window after that post is not, though it
// comes more than the window after the first post.
func TestRepeatsFromLastPost(t *testing.T) {
	clock := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	e := sourceEnvClock(t, func() time.Time { return clock }, amRoute(func(r *config.Route) {
		r.DedupWindow = time.Minute
		r.SuppressRepeats = time.Hour
	}))
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	first := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]
	for _, c := range []struct {
		after time.Duration // since the first post
		post  bool
	}{
		{59 * time.Minute, false},
		{61 * time.Minute, true}, // past the window since the last post
		{110 * time.Minute, false},
		{119 * time.Minute, false}, // over an hour after the first, within one of the last post
		{122 * time.Minute, true},
	} {
		clock = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC).Add(c.after)
		got := e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0]
		if posted := !got.Duplicate && got.ID != first.ID; posted != c.post {
			t.Errorf("repeat %v after the first post: posted %t, want %t", c.after, posted, c.post)
		}
	}
}

func TestSourceRefusals(t *testing.T) {
	e := sourceEnv(t, amRoute(nil),
		&config.Route{Name: "graf", Source: config.SourceGrafana, BasicUser: "grafana", BasicPassword: "basic-pass-0123456789",
			Spaces: []string{"alerts"}, Thread: alert.PolicyGroup, MaxAlerts: 10})
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	basic := func(user, pass string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	// Every refusal is in the envelope of the other routes, with a status.
	for _, tc := range []struct {
		name, path, auth string
		body             []byte
		code             int
		status, msg      string
	}{
		{"no credentials", "/v1/alertmanager/prom", "", firing, 401, "UNAUTHENTICATED", "credentials"},
		{"wrong bearer", "/v1/alertmanager/prom", "Bearer nope", firing, 401, "UNAUTHENTICATED", "credentials"},
		{"bearer in another case", "/v1/alertmanager/prom", "bearer " + routeToken, firing, 200, "", ""},
		{"token without scheme", "/v1/alertmanager/prom", routeToken, firing, 401, "UNAUTHENTICATED", "credentials"},
		{"unknown route", "/v1/alertmanager/nope", "Bearer " + routeToken, firing, 404, "NOT_FOUND", `no alertmanager route \"nope\"`},
		{"route of another source", "/v1/grafana/prom", "Bearer " + routeToken, firing, 404, "NOT_FOUND", `no grafana route \"prom\"`},
		{"invalid JSON", "/v1/alertmanager/prom", "Bearer " + routeToken, []byte(`{"version": "4",`), 400, "INVALID_ARGUMENT", "invalid alertmanager payload"},
		{"wrong version", "/v1/alertmanager/prom", "Bearer " + routeToken, []byte(strings.Replace(string(firing), `"version": "4"`, `"version": "3"`, 1)), 400, "INVALID_ARGUMENT", "version"},
		{"too large", "/v1/alertmanager/prom", "Bearer " + routeToken, make([]byte, relay.MaxSourceBody+1), 413, "INVALID_ARGUMENT", "body over"},
		{"basic wrong password", "/v1/grafana/graf", basic("grafana", "x"), fixture(t, "grafana/testdata/firing.json"), 401, "UNAUTHENTICATED", "credentials"},
		{"basic", "/v1/grafana/graf", basic("grafana", "basic-pass-0123456789"), fixture(t, "grafana/testdata/firing.json"), 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := e.postSource(tc.path, tc.auth, tc.body)
			if a.code != tc.code || !strings.Contains(a.body, tc.msg) {
				t.Errorf("%d %s, want %d with %q", a.code, a.body, tc.code, tc.msg)
			}
			if tc.status != "" {
				if got := a.errorStatus(t); got != tc.status {
					t.Errorf("status %q, want %q:\n%s", got, tc.status, a.body)
				}
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/v1/alertmanager/prom", nil)
		a := e.do(r)
		if a.code != http.StatusMethodNotAllowed || a.header.Get("Allow") != http.MethodPost {
			t.Errorf("got %d, Allow %q, want 405 with Allow: POST", a.code, a.header.Get("Allow"))
		}
		if got := a.errorStatus(t); got != "METHOD_NOT_ALLOWED" {
			t.Errorf("status %q, want METHOD_NOT_ALLOWED:\n%s", got, a.body)
		}
	})
	// Nothing refused was stored: one Alertmanager and one Grafana
	// notification were accepted.
	all, err := e.store.List(t.Context(), store.Filter{})
	if err != nil || len(all) != 2 {
		t.Errorf("stored %d deliveries (err %v), want the two accepted", len(all), err)
	}
}

func TestSourceUnavailableStore(t *testing.T) {
	e := sourceEnv(t, amRoute(nil))
	e.store.Close()
	a, _ := e.postSource("/v1/alertmanager/prom", "Bearer "+routeToken, fixture(t, "alertmanager/testdata/diskfull-firing.json"))
	// Alertmanager retries 5xx, never 4xx: the notification is not lost.
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("closed store: %d (Retry-After %q), want 503 with Retry-After", a.code, a.header.Get("Retry-After"))
	}
}

// TestJSONRoutes posts each example payload through a route made of its
// example template.
func TestJSONRoutes(t *testing.T) {
	for _, name := range []string{"github-issues", "github-pull-request", "gitlab-pipeline", "uptime"} {
		t.Run(name, func(t *testing.T) {
			var spec jsontmpl.Spec
			if err := yaml.Unmarshal(fixture(t, "jsontmpl/testdata/"+name+".route.yaml"), &spec); err != nil {
				t.Fatal(err)
			}
			tmpl, err := jsontmpl.Compile(spec)
			if err != nil {
				t.Fatal(err)
			}
			e := sourceEnv(t, &config.Route{Name: "ev", Source: config.SourceJSON, Spaces: []string{"alerts"},
				DedupWindow: config.DefaultDedupWindow, Template: tmpl})
			payload := fixture(t, "jsontmpl/testdata/"+name+".json")
			res := e.mustSource("/v1/events/ev", payload)
			if len(res.Deliveries) != 1 {
				t.Fatalf("deliveries %+v (skipped %q), want one", res.Deliveries, res.Skipped)
			}
			m := e.message(res.Deliveries[0].ID)
			if p := m.Check(); p.Err() != nil {
				t.Errorf("message fails Check: %v", p.Err())
			}
			if m.Text == "" && len(m.CardsV2) == 0 {
				t.Error("empty message")
			}
			// A sender's retry of the same payload: no second message.
			if again := e.mustSource("/v1/events/ev", payload); !again.Deliveries[0].Duplicate {
				t.Errorf("retry: %+v, want a duplicate", again.Deliveries[0])
			}
		})
	}
}

// TestRefireWithinIncident: an alert that resolves and fires again while
// its group keeps firing is posted again, though the group's alerts and
// statuses are those of its first notification.
func TestRefireWithinIncident(t *testing.T) {
	e := sourceEnv(t, amRoute(nil))
	var p map[string]any
	if err := json.Unmarshal(fixture(t, "alertmanager/testdata/diskfull-firing.json"), &p); err != nil {
		t.Fatal(err)
	}
	post := func(secondStatus, secondStart string) sourceResult {
		t.Helper()
		alerts := p["alerts"].([]any)
		b := alerts[1].(map[string]any)
		b["status"], b["startsAt"] = secondStatus, secondStart
		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return e.mustSource("/v1/alertmanager/prom", body)
	}
	first := post("firing", "2026-11-27T07:18:43Z").Deliveries[0]
	post("resolved", "2026-11-27T07:18:43Z")
	again := post("firing", "2026-11-27T07:31:02Z").Deliveries[0]
	if again.Duplicate || again.ID == first.ID {
		t.Errorf("re-fire: %+v, want a new delivery", again)
	}
	// Alertmanager's repeat of that state is still a duplicate.
	if rep := post("firing", "2026-11-27T07:31:02Z").Deliveries[0]; !rep.Duplicate {
		t.Errorf("repeat of the re-fire: %+v, want a duplicate", rep)
	}
}

// TestAlertmanagerTemplate: a template replaces the built-in card of an
// alerting route; threads, mentions and dedup stay the route's.
func TestAlertmanagerTemplate(t *testing.T) {
	tmpl, err := jsontmpl.Compile(jsontmpl.Spec{
		When: `{{ ne .commonLabels.severity "info" }}`,
		Text: `{{ .commonLabels.alertname }} is {{ .status }} on {{ .commonLabels.cluster }} ({{ len .alerts }} alerts)`,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := sourceEnv(t, amRoute(func(r *config.Route) {
		r.Template = tmpl
		r.Mentions = map[string]string{"critical": "<users/all>"}
	}))
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	res := e.mustSource("/v1/alertmanager/prom", firing)
	m := e.message(res.Deliveries[0].ID)
	if m.Text != "<users/all> DiskFull is firing on prod-eu (2 alerts)" || len(m.CardsV2) != 0 || m.Thread == nil || m.Thread.ThreadKey == "" {
		t.Errorf("message %+v, want the template's text after the mention, in the group's thread", m)
	}
	resolved := e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-resolved.json"))
	if r := e.message(resolved.Deliveries[0].ID); r.Text != "DiskFull is resolved on prod-eu (2 alerts)" || r.Thread.ThreadKey != m.Thread.ThreadKey {
		t.Errorf("resolved %q in thread %q, want the template's text in %q", r.Text, r.Thread.ThreadKey, m.Thread.ThreadKey)
	}
	if again := e.mustSource("/v1/alertmanager/prom", restarted(t, firing, "2026-11-27T08:02:10Z")).Deliveries[0]; again.Duplicate {
		t.Errorf("firing again after resolved: a duplicate, want a new message")
	}
	info := e.mustSource("/v1/alertmanager/prom", []byte(strings.ReplaceAll(string(firing), `"critical"`, `"info"`)))
	if len(info.Deliveries) != 0 || info.Skipped == "" {
		t.Errorf("when: false: %+v, want skipped", info)
	}
}
