package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/plan"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
	"go.yaml.in/yaml/v3"
)

// FuzzPlanRoute: whatever a sender posts, a route either makes messages
// that pass Google's checks or refuses the payload with a plan.Error (a 400
// saying what is wrong); it never panics.
func FuzzPlanRoute(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "source", "*", "testdata", "*.json"))
	if len(seeds) == 0 {
		f.Fatal("no seed payloads under internal/source/*/testdata")
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"severity":"critical"}}]}`))
	f.Add([]byte(`{"version":"1","groupKey":"k","status":"resolved","alerts":[]}`))
	f.Add([]byte(`[1, "x", {"a": null}]`))

	var spec jsontmpl.Spec
	data, err := os.ReadFile(filepath.Join("..", "..", "source", "jsontmpl", "testdata", "github-pull-request.route.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		f.Fatal(err)
	}
	tmpl, err := jsontmpl.Compile(spec)
	if err != nil {
		f.Fatal(err)
	}
	match := []config.Match{{When: map[string]string{"severity": "critical", "action": "closed"}, Spaces: []string{"oncall"}}}
	routes := []*config.Route{
		{Name: "am", Source: config.SourceAlertmanager, Spaces: []string{"alerts"}, Match: match, Thread: alert.PolicyFingerprint,
			Mentions: map[string]string{"critical": "<users/all>"}, MaxAlerts: 3},
		{Name: "gf", Source: config.SourceGrafana, Spaces: []string{"alerts"}, Thread: alert.PolicyIncident, MaxAlerts: 10},
		{Name: "ev", Source: config.SourceJSON, Spaces: []string{"alerts"}, Match: match, Template: tmpl},
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var c counter // the incident counter and the stale-echo rule's memory, in memory
		for _, r := range routes {
			p, err := plan.Route(t.Context(), r, body, now, c.incident)
			if err != nil {
				var pe *plan.Error
				if !errors.As(err, &pe) || pe.Msg == "" {
					t.Fatalf("route %s: error %v is not a plan.Error with a message", r.Name, err)
				}
				continue
			}
			if len(p.Posts) == 0 && p.Skipped == "" || p.Echo && len(p.Posts) > 0 {
				t.Fatalf("route %s: %d posts, skipped %q, echo %t", r.Name, len(p.Posts), p.Skipped, p.Echo)
			}
			for _, post := range p.Posts {
				if post.DedupKey == "" {
					t.Fatalf("route %s: a post without a dedup key: a sender's retry would post it twice", r.Name)
				}
				if err := post.Message.Check().Err(); err != nil {
					t.Fatalf("route %s: message to %s fails Check: %v", r.Name, post.Space, err)
				}
			}
		}
	})
}
