package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
)

// TestEscalationTimers: one timer per rule whose labels match, the same ID
// for every notification of the incident and a new one for the next; the
// alert name shows literally, never as a mention.
func TestEscalationTimers(t *testing.T) {
	r := &config.Route{Name: "prom", Escalate: []config.Escalation{
		{After: 15 * time.Minute, Mention: "<users/123>"},
		{After: 90 * time.Minute, Mention: "<users/all>", When: map[string]string{"severity": "critical"}},
	}}
	g := alert.Group{CommonLabels: map[string]string{"alertname": "<users/all>", "severity": "warning"}}
	es := escalations(r, g, 1, "prom\x00k", "ops", "prom-t")
	if len(es) != 1 || es[0].After != 15*time.Minute || es[0].Rule != 0 {
		t.Fatalf("warning: got %+v, want the first rule only", es)
	}
	if text := es[0].Text; !strings.HasPrefix(text, "<users/123> still firing after 15m: ") || strings.Count(text, "<users/") != 1 {
		t.Errorf("text %q: want the rule's mention and the alert name escaped", text)
	}
	g.CommonLabels["severity"] = "critical"
	again := escalations(r, g, 1, "prom\x00k", "ops", "prom-t")
	if len(again) != 2 || again[0].ID != es[0].ID || again[1].Text[len("<users/all> still firing after "):][:6] != "1h30m:" {
		t.Fatalf("critical: got %+v, want both rules, the first with the same ID", again)
	}
	if next := escalations(r, g, 2, "prom\x00k", "ops", "prom-t"); next[0].ID == es[0].ID {
		t.Error("the next incident's timer has the first one's ID")
	}
}
