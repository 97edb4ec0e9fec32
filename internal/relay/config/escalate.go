package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultEscalateStale is how long an escalation waits for a firing
// notification before it gives up on its incident (escalate_stale). An
// alert that is silenced, or whose Alertmanager is gone, never sends
// "resolved"; Alertmanager repeats a firing group every repeat_interval
// (4h by default), so two of those without one mean the incident is no
// longer being reported.
const DefaultEscalateStale = 8*time.Hour + 10*time.Minute

// Escalation is one rule of a route's escalate: list: while an incident
// is still firing After its first notification, a reply with Mention is
// posted in its thread, once per incident.
type Escalation struct {
	After time.Duration
	// Mention is Chat's mention markup ("<users/all>", "<users/123>").
	Mention string
	// When, if set, limits the rule to notifications whose common labels
	// have these values.
	When map[string]string
	Line int
}

// Matches reports whether the rule applies to a notification with these
// common labels.
func (e Escalation) Matches(labels map[string]string) bool {
	for k, want := range e.When {
		if got, ok := labels[k]; !ok || got != want {
			return false
		}
	}
	return true
}

// escalateSummary states the route's escalation rules for Summary, ""
// without any: "; escalate 15m <users/123>, 1h <users/all> if
// severity=critical (stale 8h10m)".
func (r *Route) escalateSummary() string {
	if len(r.Escalate) == 0 {
		return ""
	}
	parts := make([]string, len(r.Escalate))
	for i, e := range r.Escalate {
		parts[i] = FormatDuration(e.After) + " " + e.Mention
		if len(e.When) > 0 {
			keys := slices.Sorted(maps.Keys(e.When))
			conds := make([]string, len(keys))
			for j, k := range keys {
				conds[j] = k + "=" + e.When[k]
			}
			parts[i] += " if " + strings.Join(conds, ",")
		}
	}
	return fmt.Sprintf("; escalate %s (stale %s)", strings.Join(parts, ", "), FormatDuration(r.EscalateStale))
}

var escalateKeys = []string{"after", "mention", "when"}

// escalate reads a route's escalate: list.
func (l *loader) escalate(r *Route, v *yaml.Node, field string) {
	l.pos[field] = position{v.Line, v.Column}
	l.rules(v, field, "want a list of rules (- after: 15m, mention: users/123), got %s",
		"want a rule (after:, mention:, when:), got %s", escalateKeys, func(f string, item *yaml.Node, m map[string]pair) {
			e := Escalation{Line: item.Line}
			if p, ok := m["after"]; ok {
				if dur, ok := l.duration(p.val, f+".after", "15m"); ok {
					if dur <= 0 {
						l.report(p.val, f+".after", "after: must be positive")
					}
					e.After = dur
				}
			} else {
				l.report(item, f+".after", "an escalation needs after: (how long the incident fires first, e.g. 15m)")
			}
			if p, ok := m["mention"]; ok {
				if s, ok := l.str(p.val, f+".mention"); ok {
					if e.Mention = normalizeMention(s); e.Mention == "" {
						l.report(p.val, f+".mention", `%s is not a mention: want "all", "users/NUMERIC_ID" or Chat's "<users/…>"`, quote(s))
					}
				}
			} else {
				l.report(item, f+".mention", "an escalation needs mention: (all, or users/NUMERIC_ID)")
			}
			if p, ok := m["when"]; ok {
				e.When = l.when(p.val, f+".when", "want a mapping of labels to values, got %s")
			}
			r.Escalate = append(r.Escalate, e)
		})
}
