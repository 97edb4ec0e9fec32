package plan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/plan"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
	"go.yaml.in/yaml/v3"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// fixture reads a payload of a source package's testdata.
func fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "source", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func route(t *testing.T, r *config.Route) plan.Plan {
	t.Helper()
	return routeWith(t, r, fixture(t, "alertmanager/testdata/diskfull-firing.json"), nil)
}

func routeWith(t *testing.T, r *config.Route, body []byte, incidents plan.Incidents) plan.Plan {
	t.Helper()
	p, err := plan.Route(t.Context(), r, body, now, incidents)
	if err != nil {
		t.Fatalf("route %s: %v", r.Name, err)
	}
	return p
}

func amRoute(change func(*config.Route)) *config.Route {
	r := &config.Route{Name: "prom", Source: config.SourceAlertmanager, Spaces: []string{"alerts"},
		Thread: alert.PolicyGroup, DedupWindow: 10 * time.Minute, MaxAlerts: 10}
	if change != nil {
		change(r)
	}
	return r
}

func TestRouteAlerts(t *testing.T) {
	r := amRoute(func(r *config.Route) {
		r.Match = []config.Match{{When: map[string]string{"severity": "critical"}, Spaces: []string{"oncall", "alerts"}}}
		r.Mentions = map[string]string{"critical": "<users/all>"}
		r.SuppressRepeats = time.Hour
	})
	firing := route(t, r)
	if len(firing.Posts) != 2 || firing.Posts[0].Space != "oncall" || firing.Posts[1].Space != "alerts" {
		t.Fatalf("posts %+v, want the match rule's oncall and alerts", firing.Posts)
	}
	p := firing.Posts[0]
	if !strings.HasPrefix(p.ThreadKey, "prom-") || p.DedupKey == "" || p.DedupWindow != time.Hour {
		t.Errorf("thread key %q, dedup %q window %v; want the route's own key, a dedup key, suppress_repeats", p.ThreadKey, p.DedupKey, p.DedupWindow)
	}
	if p.Message.Text != "<users/all>" {
		t.Errorf("text %q, want the critical mention first", p.Message.Text)
	}
	if again := route(t, r); again.Posts[0].DedupKey != p.DedupKey || again.Posts[0].ThreadKey != p.ThreadKey {
		t.Errorf("the same notification planned again: %+v, want the same keys as %+v", again.Posts[0], p)
	}

	resolved := routeWith(t, r, fixture(t, "alertmanager/testdata/diskfull-resolved.json"), nil).Posts[0]
	if resolved.ThreadKey != p.ThreadKey || resolved.DedupKey == p.DedupKey || strings.Contains(resolved.Message.Text, "<users/") {
		t.Errorf("resolved: thread %q dedup %q text %q; want the firing's thread, another dedup key, no mention", resolved.ThreadKey, resolved.DedupKey, resolved.Message.Text)
	}

	none := route(t, amRoute(func(r *config.Route) { r.Thread = alert.PolicyNone }))
	if len(none.Posts) != 1 || none.Posts[0].ThreadKey != "" {
		t.Errorf("thread: none: %+v, want one post in a new thread", none.Posts)
	}
}

func TestRouteIncidents(t *testing.T) {
	var calls []string
	incident := int64(1)
	incidents := func(_ context.Context, key string, firing bool) (int64, error) {
		if strings.Contains(key, "\x01echo") { // the stale-echo rule's keys: never seen resolved
			return 1, nil
		}
		calls = append(calls, key)
		return incident, nil
	}
	r := amRoute(func(r *config.Route) { r.Thread = alert.PolicyIncident })
	body := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	first := routeWith(t, r, body, incidents).Posts[0]
	incident = 2
	second := routeWith(t, r, body, incidents).Posts[0]
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "prom\x00") {
		t.Errorf("incident keys %q, want the route's, once per notification", calls)
	}
	if first.ThreadKey == second.ThreadKey || first.DedupKey == second.DedupKey {
		t.Errorf("a second incident: thread %q dedup %q, the same as the first's", second.ThreadKey, second.DedupKey)
	}

	failing := func(context.Context, string, bool) (int64, error) { return 0, errors.New("store down") }
	var pe *plan.Error
	if _, err := plan.Route(t.Context(), r, body, now, failing); err == nil || errors.As(err, &pe) {
		t.Errorf("incident counter failing: %v, want its error, not the payload's", err)
	}
}

func TestRouteJSON(t *testing.T) {
	var spec jsontmpl.Spec
	if err := yaml.Unmarshal(fixture(t, "jsontmpl/testdata/uptime.route.yaml"), &spec); err != nil {
		t.Fatal(err)
	}
	tmpl, err := jsontmpl.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "jsontmpl/testdata/uptime.json")
	r := &config.Route{Name: "up", Source: config.SourceJSON, Spaces: []string{"alerts"}, Template: tmpl, DedupWindow: time.Minute,
		Match: []config.Match{{When: map[string]string{"heartbeat.status": "0", "monitor.active": "true"}, Spaces: []string{"oncall"}}}}
	p := routeWith(t, r, body, nil)
	if len(p.Posts) != 1 || p.Posts[0].Space != "oncall" {
		t.Fatalf("posts %+v, want oncall: the match rule on a number and a bool", p.Posts)
	}
	if !strings.HasPrefix(p.Posts[0].ThreadKey, "up-") || !strings.HasPrefix(p.Posts[0].DedupKey, "up:") || p.Posts[0].DedupWindow != time.Minute {
		t.Errorf("post %+v, want the route's thread and dedup keys", p.Posts[0])
	}
	r.Match[0].When["monitor.name"] = "other"
	if p := routeWith(t, r, body, nil); len(p.Posts) != 1 || p.Posts[0].Space != "alerts" {
		t.Errorf("no rule holds: %+v, want the route's spaces", p.Posts)
	}

	// Without a dedup key of its own, the payload's bytes are the key.
	spec.DedupKey = ""
	if r.Template, err = jsontmpl.Compile(spec); err != nil {
		t.Fatal(err)
	}
	a, b := routeWith(t, r, body, nil), routeWith(t, r, append(body, ' '), nil)
	if a.Posts[0].DedupKey == b.Posts[0].DedupKey {
		t.Errorf("two payloads share dedup key %q", a.Posts[0].DedupKey)
	}
}

func TestRouteRefusals(t *testing.T) {
	skip, err := jsontmpl.Compile(jsontmpl.Spec{When: `{{ eq .status "never" }}`, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var pe *plan.Error
	for _, tc := range []struct {
		name string
		r    *config.Route
		body string
	}{
		{"alertmanager, not JSON", amRoute(nil), `{"version": "4",`},
		{"grafana, not JSON", amRoute(func(r *config.Route) { r.Source = config.SourceGrafana }), `[`},
	} {
		if _, err := plan.Route(t.Context(), tc.r, []byte(tc.body), now, nil); !errors.As(err, &pe) || pe.Msg == "" {
			t.Errorf("%s: %v, want a plan.Error saying what is wrong", tc.name, err)
		}
	}
	p := route(t, amRoute(func(r *config.Route) { r.Template = skip }))
	if len(p.Posts) != 0 || p.Skipped == "" {
		t.Errorf("when: false: %+v, want no posts and a reason", p)
	}
}

// counter is store.Queue.Incident's contract in memory.
type counter struct {
	number map[string]int64
	firing map[string]bool
	calls  int
}

func (c *counter) incident(_ context.Context, key string, firing bool) (int64, error) {
	c.calls++
	if c.number == nil {
		c.number, c.firing = map[string]int64{}, map[string]bool{}
	}
	n, seen := c.number[key]
	switch {
	case !seen:
		n = 1
	case firing && !c.firing[key]:
		n++
	}
	c.number[key], c.firing[key] = n, firing
	return n, nil
}

// amPayload is an Alertmanager notification of n alerts of one group,
// started at start.
func amPayload(t *testing.T, status string, n int, start time.Time) []byte {
	t.Helper()
	var alerts []map[string]any
	for k := range n {
		alerts = append(alerts, map[string]any{"status": status, "startsAt": start.Format(time.RFC3339),
			"endsAt": "0001-01-01T00:00:00Z", "fingerprint": fmt.Sprintf("%016x", k),
			"labels": map[string]string{"alertname": "Big", "instance": fmt.Sprint("node-", k)}})
	}
	body, err := json.Marshal(map[string]any{"version": "4", "status": status, "receiver": "r", "groupKey": `{}:{alertname="Big"}`,
		"groupLabels": map[string]string{"alertname": "Big"}, "commonLabels": map[string]string{"alertname": "Big"}, "alerts": alerts})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestRouteStaleEcho: a firing whose alerts were all seen resolved is an
// echo, recognised before the incident counter is asked, for small groups
// (alert by alert) and large ones (as a whole, in two calls).
func TestRouteStaleEcho(t *testing.T) {
	start := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	for _, n := range []int{3, 25} {
		t.Run(fmt.Sprint(n, " alerts"), func(t *testing.T) {
			var c counter
			r := amRoute(func(r *config.Route) { r.Thread = alert.PolicyIncident })
			fire := routeWith(t, r, amPayload(t, "firing", n, start), c.incident)
			routeWith(t, r, amPayload(t, "resolved", n, start), c.incident)
			before := c.number["prom\x00"+`{}:{alertname="Big"}`]
			calls := c.calls
			echo := routeWith(t, r, amPayload(t, "firing", n, start), c.incident)
			if !echo.Echo || len(echo.Posts) != 0 {
				t.Fatalf("the old firing after the resolved: %+v, want a stale echo", echo)
			}
			if got := c.number["prom\x00"+`{}:{alertname="Big"}`]; got != before {
				t.Errorf("the echo moved the group's incident from %d to %d", before, got)
			}
			if n > 20 && c.calls-calls != 1 {
				t.Errorf("the echo of %d alerts took %d store calls, want 1", n, c.calls-calls)
			}
			again := routeWith(t, r, amPayload(t, "firing", n, start.Add(time.Hour)), c.incident)
			if again.Echo || len(again.Posts) != 1 || again.Posts[0].ThreadKey == fire.Posts[0].ThreadKey {
				t.Errorf("firing again with new starts: %+v, want a post in a new incident's thread", again)
			}
		})
	}
}
