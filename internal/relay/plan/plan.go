// Package plan turns a payload posted to a source route (Alertmanager,
// Grafana, templated JSON) into the messages it makes: one Post per target
// space, each with its thread key, mention and dedup key. It knows no HTTP
// and no store: the relay's source handlers (relay/sources.go) run Route
// and hand each Post to the accept path (relay/accept); `gchat config
// check` runs it over a route's sample.
package plan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/alertmanager"
	"github.com/gchatkit/gchat/internal/source/grafana"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
)

// A Post is one message a route makes of a payload, for one space.
type Post struct {
	Space   string
	Message gchat.Message
	// ThreadKey is the Google thread key the message goes to ("" for a new
	// thread); the relay derives it from the route's thread policy.
	ThreadKey string
	// DedupKey and DedupWindow deduplicate the post within its space.
	DedupKey    string
	DedupWindow time.Duration
}

// Plan is what a route makes of one payload.
type Plan struct {
	Posts []Post
	// Skipped says why the payload makes no message, "" when it makes some.
	Skipped string
	// Echo reports that the payload is a stale echo (see Route): Skipped
	// says so, and the relay counts it as deduplicated.
	Echo bool
	// Incident is the alert group's incident key (what a resolved
	// notification cancels the escalations of) and whether the
	// notification fires; "" outside the relay and for json routes.
	Incident string
	Firing   bool
	// Escalations are the timers a firing notification arms: one per
	// escalate: rule that applies, per post (see escalations).
	Escalations []Escalation
}

// An Escalation is one timer of the route's escalate: rules for one post
// of an incident: a reply with Text in the post's thread, After the
// incident's first firing notification.
type Escalation struct {
	// ID is the same for every notification of the incident, so that a
	// repeat keeps the timer armed instead of arming another.
	ID        string
	Rule      int
	Incident  int64
	Space     string
	ThreadKey string
	After     time.Duration
	Text      string
}

// Error is a payload the route cannot use: a 400 for the sender. Err is
// the cause (a decoder's error, jsontmpl.Problems).
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Incidents gives incident numbers (store.Incidents).
type Incidents func(ctx context.Context, key string, firing bool) (int64, error)

// Route turns a payload posted to route r into posts. It is what the
// relay's source handlers run and what `gchat config check` renders with
// the route's sample; incidents may be nil outside the relay (incident 1).
// A payload the route cannot use is an *Error; any other error is the
// incident counter's.
//
// Stale echoes: a firing notification of an alerting route whose every
// firing alert (its fingerprint and startsAt) was already seen resolved is
// a stale echo and makes no post (Plan.Echo). An Alertmanager of an HA pair
// sends one when it took its snapshot of the group before the resolved
// arrived and waited out its peer_timeout while the other one sent the
// resolved; a real firing again has a new startsAt, since Prometheus starts
// an alert anew. The echo is recognised before the incident counter is
// asked, so it does not open a new incident either. The alerts seen
// resolved are remembered with the same counter (see echoKey), in the
// store, so the rule holds across restarts and replicas.
func Route(ctx context.Context, r *config.Route, body []byte, now time.Time, incidents Incidents) (Plan, error) {
	if r.Source == config.SourceJSON {
		return planJSON(r, body)
	}
	var (
		g   alert.Group
		err error
	)
	switch r.Source {
	case config.SourceAlertmanager:
		g, err = alertmanager.Decode(body)
	case config.SourceGrafana:
		g, err = grafana.Decode(body)
	default:
		return Plan{}, fmt.Errorf("route %s: unknown source %q", r.Name, r.Source)
	}
	if err != nil {
		return Plan{}, &Error{Msg: fmt.Sprintf("invalid %s payload: %v", r.Source, err), Err: err}
	}
	return planAlerts(ctx, r, g, body, now, incidents)
}

// planAlerts splits a group by the route's thread policy; each part is one
// message per target space, in a thread of its own key.
//
// Dedup: each part's key is its state (alert.StateHash: its alerts, their
// statuses and starts) within the group's incident, so that a second
// Alertmanager of a pair, a sender's retry or a repeat of an unchanged group
// (within suppress_repeats) makes no second message, while an alert firing
// again does: Prometheus starts it anew, and a group that fires again after
// it fully resolved is a new incident. A firing that keeps the starts of
// alerts already resolved is a stale echo (see Route), not a new incident.
//
// A route with a template renders it over the notification's JSON instead
// of the built-in card (Validate allows it only with policies that keep the
// group whole).
func planAlerts(ctx context.Context, r *config.Route, g alert.Group, body []byte, now time.Time, incidents Incidents) (Plan, error) {
	window := max(r.DedupWindow, r.SuppressRepeats)
	var custom *gchat.Message
	if r.Template != nil {
		res, err := r.Template.Execute(body)
		switch {
		case errors.Is(err, jsontmpl.ErrSkip):
			return Plan{Skipped: "the route's when: is false for this notification"}, nil
		case err != nil:
			return Plan{}, &Error{Msg: err.Error(), Err: err}
		}
		custom = &res.Message
	}
	if incidents != nil {
		echo, err := staleEcho(ctx, r.Name, g, incidents)
		if err != nil {
			return Plan{}, err
		}
		if echo {
			return Plan{Echo: true, Skipped: "stale echo: every firing alert of this notification was already seen resolved"}, nil
		}
	}
	// One incident number per notification, for the group as a whole.
	incident := int64(1)
	if incidents != nil {
		n, err := incidents(ctx, IncidentPrefix(r.Name)+g.GroupKey, g.Status == alert.Firing)
		if err != nil {
			return Plan{}, fmt.Errorf("incident of %s: %w", r.Name, err)
		}
		incident = n
	}
	var plan Plan
	if incidents != nil {
		plan.Incident, plan.Firing = r.Name+"\x00"+g.GroupKey, g.Status == alert.Firing
	}
	for _, part := range alert.Split(g, r.Thread, now) {
		// The part's subject: its own key when the policy splits the group
		// (an alert, an alert name), else the group's.
		subject := g.GroupKey
		if r.Thread == alert.PolicyFingerprint || r.Thread == alert.PolicyAlertName {
			subject = part.ThreadKey
		}
		key := part.ThreadKey
		switch r.Thread {
		case alert.PolicyNone:
			key = ""
		case alert.PolicyIncident:
			key = fmt.Sprintf("%s#%d", key, incident)
		}
		mention := ""
		if part.Group.Status == alert.Firing {
			mention = r.Mentions[alert.Severity(part.Group)]
			if mention == "" {
				mention = r.Mentions["*"]
			}
		}
		var msg gchat.Message
		if custom != nil {
			msg = *custom
			if mention != "" {
				msg.Text = strings.TrimSpace(mention + " " + msg.Text)
			}
		} else {
			msg = alert.Build(part.Group, alert.Options{MaxAlerts: r.MaxAlerts, Mention: mention,
				Summary: r.TextSummary, Now: now, Location: r.TimeZone})
		}
		dedup := fmt.Sprintf("%s:%s#%d:%s", r.Name, hashKey(subject), incident, alert.StateHash(part.Group))
		for _, sp := range targets(r, func(k string) (string, bool) { v, ok := part.Group.CommonLabels[k]; return v, ok }) {
			plan.Posts = append(plan.Posts, Post{Space: sp, Message: msg, ThreadKey: threadKey(r.Name, key),
				DedupKey: dedup, DedupWindow: window})
			if plan.Incident != "" && plan.Firing && part.Group.Status == alert.Firing {
				plan.Escalations = append(plan.Escalations, escalations(r, part.Group, incident, plan.Incident, sp, threadKey(r.Name, key))...)
			}
		}
	}
	if len(plan.Posts) == 0 {
		plan.Skipped = "no space matches the notification's labels"
	}
	return plan, nil
}

// escalations returns the timers of the route's rules that apply to a
// firing part of incident number n of the group key, posted to space sp in
// thread tk.
func escalations(r *config.Route, g alert.Group, n int64, key, sp, tk string) []Escalation {
	var out []Escalation
	for i, rule := range r.Escalate {
		if !rule.Matches(g.CommonLabels) {
			continue
		}
		// A label may hold any character: markup shows literally, and a
		// store's text may not hold NUL.
		what := gchat.Escape(strings.ReplaceAll(g.CommonLabels["alertname"], "\x00", ""))
		if what == "" {
			what = fmt.Sprintf("%d alerts", len(g.Alerts))
		}
		out = append(out, Escalation{
			ID:   hashKey(fmt.Sprintf("%s\x00%d\x00%d\x00%s\x00%s", key, n, i, sp, tk)),
			Rule: i, Incident: n, Space: sp, ThreadKey: tk, After: rule.After,
			Text: fmt.Sprintf("%s still firing after %s: %s", rule.Mention, config.FormatDuration(rule.After), what),
		})
	}
	return out
}

// staleEcho reports whether g fires only alerts already seen resolved, and
// remembers g's resolved alerts.
//
// The store's contract has one counter that answers "seen before?": the
// incident counter (store.Queue.Incident). An alert's echo key is used as a
// counter of its own. Seeing the alert resolved records "resolved" on it,
// so the key stands at incident 1 or more, resolved (the contract records
// a resolved key never seen at 1). Asking with "firing" then opens a new
// incident, above 1, exactly when the key was seen resolved; a key never
// seen resolved answers 1. The question leaves the key firing, so asking
// again gives the same answer, and a later resolved makes the next
// question answer above 1 again.
//
// The cost is one store call per resolved alert, and for a firing
// notification one per firing alert until the first that was not seen
// resolved: one in the usual case, where nothing is stale. Notifications of
// more than maxEchoAlerts alerts cost two calls at most.
func staleEcho(ctx context.Context, route string, g alert.Group, incidents Incidents) (bool, error) {
	ask := func(key string, firing bool) (int64, error) {
		n, err := incidents(ctx, key, firing)
		if err != nil {
			return 0, fmt.Errorf("echo state of %s: %w", route, err)
		}
		return n, nil
	}
	var firing, resolved []alert.Alert
	for _, a := range g.Alerts {
		if a.Status == alert.Resolved {
			resolved = append(resolved, a)
		} else {
			firing = append(firing, a)
		}
	}
	if len(g.Alerts) > maxEchoAlerts {
		// A large notification is remembered, and recognised, as a whole.
		if len(resolved) > 0 {
			if _, err := ask(echoKey(route, resolved...), false); err != nil {
				return false, err
			}
		}
		if g.Status != alert.Firing || len(firing) == 0 {
			return false, nil
		}
		n, err := ask(echoKey(route, firing...), true)
		return n > 1, err
	}
	for _, a := range resolved {
		if _, err := ask(echoKey(route, a), false); err != nil {
			return false, err
		}
	}
	if g.Status != alert.Firing || len(firing) == 0 {
		return false, nil
	}
	for _, a := range firing {
		if n, err := ask(echoKey(route, a), true); err != nil || n == 1 {
			return false, err
		}
	}
	return true, nil
}

// maxEchoAlerts is the largest notification whose alerts the stale-echo
// rule remembers one by one. A larger one is remembered as its set of
// resolved alerts and recognised as its set of firing alerts: two store
// calls, not one per alert, at the price of recognising only an echo of a
// group that resolved in one notification (Alertmanager sends a group
// resolved at once as one notification).
const maxEchoAlerts = 20

// IncidentPrefix starts the incident keys of route's alert groups: the
// route, NUL, then the group key. Echo keys (echoKey) follow the route with
// SOH, so they stand apart: a store can count a route's incidents by this
// prefix (store.Admin.IncidentCount).
func IncidentPrefix(route string) string { return route + "\x00" }

// echoKey is the incident key remembering that alerts (their IDs and
// starts) were seen resolved on a route. Group keys are route NUL group
// key; the SOH byte keeps the two apart.
func echoKey(route string, alerts ...alert.Alert) string {
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID() + "\x00" + strconv.FormatInt(a.StartsAt.UnixNano(), 10)
	}
	slices.Sort(ids)
	return route + "\x01echo\x00" + hashKey(strings.Join(ids, "\x00"))
}

// planJSON runs a json route's template over the payload.
func planJSON(r *config.Route, body []byte) (Plan, error) {
	res, err := r.Template.Execute(body)
	switch {
	case errors.Is(err, jsontmpl.ErrSkip):
		return Plan{Skipped: "the route's when: is false for this payload"}, nil
	case err != nil:
		return Plan{}, &Error{Msg: err.Error(), Err: err}
	}
	var payload any
	if len(r.Match) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&payload); err != nil {
			return Plan{}, &Error{Msg: "invalid JSON: " + err.Error()}
		}
	}
	// Without a dedup key of its own, a payload is its own key: a sender's
	// retry of the same bytes within the window makes no second message.
	dedup := res.DedupKey
	if dedup == "" {
		sum := sha256.Sum256(body)
		dedup = "body:" + hex.EncodeToString(sum[:16])
	}
	var plan Plan
	for _, sp := range targets(r, func(path string) (string, bool) { return field(payload, path) }) {
		plan.Posts = append(plan.Posts, Post{Space: sp, Message: res.Message, ThreadKey: threadKey(r.Name, res.ThreadKey),
			DedupKey: r.Name + ":" + hashKey(dedup), DedupWindow: r.DedupWindow})
	}
	if len(plan.Posts) == 0 {
		plan.Skipped = "no space matches the payload's fields"
	}
	return plan, nil
}

// targets returns the spaces of the first match rule whose every condition
// holds, else the route's spaces.
func targets(r *config.Route, lookup func(string) (string, bool)) []string {
	for _, m := range r.Match {
		all := true
		for k, want := range m.When {
			if got, ok := lookup(k); !ok || got != want {
				all = false
				break
			}
		}
		if all {
			return m.Spaces
		}
	}
	return r.Spaces
}

// field looks a dotted path up in a decoded JSON payload; scalars only.
func field(v any, path string) (string, bool) {
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

// threadKey turns a route's thread key into the one sent to Google: short,
// of safe characters, and the route's own ("" stays "": a new thread).
func threadKey(route, key string) string {
	if key == "" {
		return ""
	}
	return route + "-" + hashKey(key)
}

func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
