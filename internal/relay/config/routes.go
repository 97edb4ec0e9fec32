package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat/internal/relay/verify"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
	"go.yaml.in/yaml/v3"
)

// Source is what a route receives.
type Source string

const (
	// SourceAlertmanager: Prometheus Alertmanager's webhook receiver
	// payload, POST /v1/alertmanager/{route}.
	SourceAlertmanager Source = "alertmanager"
	// SourceGrafana: Grafana's webhook contact point payload,
	// POST /v1/grafana/{route}.
	SourceGrafana Source = "grafana"
	// SourceJSON: any JSON, turned into a message by the route's template,
	// POST /v1/events/{route}.
	SourceJSON Source = "json"
)

var sourceNames = []string{string(SourceAlertmanager), string(SourceGrafana), string(SourceJSON)}

// Path returns the first segment of the source's ingest path.
func (s Source) Path() string {
	if s == SourceJSON {
		return "events"
	}
	return string(s)
}

// Alerting reports whether the source sends groups of alerts.
func (s Source) Alerting() bool { return s == SourceAlertmanager || s == SourceGrafana }

// Defaults of a route.
const (
	// DefaultDedupWindow is how long a route remembers what it delivered:
	// a sender's retry or a second Alertmanager of a pair within it makes
	// no second message.
	DefaultDedupWindow = 10 * time.Minute
	// DefaultMaxAlerts is how many alerts a card shows before "N more".
	DefaultMaxAlerts = 10
)

// Route is one source route: where a monitoring system or any JSON sender
// posts, and how its payloads become messages in which spaces.
type Route struct {
	// Name matches [a-z0-9][a-z0-9_-]*; it is the last segment of the
	// route's URL.
	Name   string
	Source Source
	// BearerToken, or BasicUser and BasicPassword, is the credential a
	// sender must present; all empty means none (loopback listeners only).
	BearerToken   Secret
	BasicUser     string
	BasicPassword Secret
	// Verify, when set, checks that each request comes from the sender
	// (a signature over the raw body, or GitLab's token) and names its
	// delivery id, which makes a redelivery a duplicate. It is a
	// credential of its own: a route may have it without a token.
	Verify *verify.Verifier
	// Spaces receive what no Match rule claims (fan-out: each gets a copy).
	Spaces []string
	// Match rules, in order: the first whose When holds picks the spaces.
	Match []Match
	// Thread is the thread policy of alerting routes (alert.Policy).
	Thread alert.Policy
	// OnFailure and MaxAge override the spaces' for this route's messages;
	// zero keeps the space's.
	OnFailure OnFailure
	MaxAge    time.Duration
	// DedupWindow is how long after its last post an identical
	// notification (alerting: the same alerts, statuses and starts) or an
	// identical dedup key (json) is dropped. Default DefaultDedupWindow.
	DedupWindow time.Duration
	// SuppressRepeats, for alerting routes, drops a notification that
	// changes nothing in its group (Alertmanager's repeat_interval) until
	// this long after the last post of that state; zero lets repeats
	// through (past DedupWindow).
	SuppressRepeats time.Duration
	// Mentions maps a severity label value to the mention put in front of
	// a firing notification's text ("<users/all>", "<users/123…>"); the key
	// "*" applies to any severity without its own.
	Mentions map[string]string
	// Escalate are the route's escalation rules (alerting routes), in
	// order; EscalateStale cancels an incident's escalations when no
	// firing notification arrived for that long. Default
	// DefaultEscalateStale.
	Escalate      []Escalation
	EscalateStale time.Duration
	// MaxAlerts is how many alerts a card lists. Default DefaultMaxAlerts.
	MaxAlerts int
	// TimeZone is the zone of the times on alert cards ("07:18 CET ·
	// firing 4m"); nil means UTC.
	TimeZone *time.Location
	// TextSummary puts a one-line summary in the text of the built-in
	// alert messages, after the mention; by default the text holds the
	// mention only, since Chat shows the text above the card.
	TextSummary bool
	// Template makes the message of a json route, and replaces the
	// built-in card of an alerting route (rendered over the notification's
	// JSON as the sender posted it).
	Template *jsontmpl.Template
	// Sample is a payload to check the route with (gchat config check):
	// for json routes, the content of sample_file; for alerting routes,
	// sample_file's or else a built-in sample.
	Sample     []byte
	SampleFile string
	// Line is where the route is named in the file; 0 for code.
	Line int

	tokenKey, passwordKey string
	// template is the template's YAML, to place execution problems;
	// templateKeys reports that it sets thread_key or dedup_key.
	template     *yaml.Node
	templateKeys bool
	file         string
}

// Where returns where the field at a template path ("text",
// "card.sections[0].widgets[1].text") of the route's template is written,
// as "FILE:LINE:COL"; the route's own place when the path is not found.
func (r *Route) Where(path string) string {
	line, col := r.Line, 1
	if r.template != nil {
		n := locate(r.template, path)
		line, col = n.Line, n.Column
	}
	return fmt.Sprintf("%s:%d:%d", r.file, line, col)
}

// Match is one rule of a route: when every label (alerting) or field
// (json, a dotted path into the payload) in When has the given value, the
// notification goes to Spaces.
type Match struct {
	When   map[string]string
	Spaces []string
}

// Route returns the route called name, nil if none.
func (c *Config) Route(name string) *Route {
	for _, r := range c.Routes {
		if r.Name == name {
			return r
		}
	}
	return nil
}

var routeKeys = []string{"name", "source", "bearer_token", "bearer_token_file", "basic_username", "basic_password",
	"basic_password_file", "spaces", "match", "thread", "on_failure", "max_age", "dedup_window", "suppress_repeats",
	"mentions", "max_alerts", "template", "sample_file", "verify", "time_zone", "text_summary",
	"escalate", "escalate_stale"}

var verifyKeys = []string{"scheme", "secret", "secret_file", "previous_secret", "previous_secret_file",
	"header", "algorithm", "encoding", "prefix", "id_header", "tolerance"}

var matchKeys = []string{"when", "spaces"}

func routeField(i int) string { return fmt.Sprintf("routes[%d]", i) }

func (l *loader) routes(c *Config, v *yaml.Node) {
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.report(v, "routes", "want a list of routes (- name: …), got %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		f := routeField(i)
		r := &Route{Line: item.Line, DedupWindow: DefaultDedupWindow, MaxAlerts: DefaultMaxAlerts, Thread: alert.PolicyGroup,
			EscalateStale: DefaultEscalateStale, file: l.file}
		// Problems about a missing key point at the route.
		for _, k := range []string{"", ".name", ".source", ".spaces", ".template", ".basic_username"} {
			l.pos[f+k] = position{item.Line, item.Column}
		}
		l.route(r, item, f)
		c.Routes = append(c.Routes, r)
	}
}

func (l *loader) route(r *Route, v *yaml.Node, f string) {
	n := deref(v)
	if isNull(n) || n.Kind != yaml.MappingNode {
		l.report(v, f, "want the route's settings (name:, source:, spaces:, …), got %s", kindName(n))
		l.bad[f+".name"], l.bad[f+".source"] = true, true
		return
	}
	m := l.fields(n, f, routeKeys)
	if p, ok := m["name"]; ok {
		if s, ok := l.str(p.val, f+".name"); ok {
			r.Name = s
		}
	}
	if p, ok := m["source"]; ok {
		if s, ok := l.str(p.val, f+".source"); ok {
			r.Source = Source(s)
		}
	}
	if s, key, ok := l.secret(m, f, "bearer_token"); ok {
		r.BearerToken, r.tokenKey = Secret(s), key
	}
	if p, ok := m["basic_username"]; ok {
		if s, ok := l.str(p.val, f+".basic_username"); ok {
			r.BasicUser = s
		}
	}
	if s, key, ok := l.secret(m, f, "basic_password"); ok {
		r.BasicPassword, r.passwordKey = Secret(s), key
	}
	if p, ok := m["verify"]; ok {
		l.verify(r, p.val, f+".verify")
	}
	if p, ok := m["spaces"]; ok {
		r.Spaces = l.names(p.val, f+".spaces")
	}
	if p, ok := m["match"]; ok {
		l.matches(r, p.val, f+".match")
	}
	if p, ok := m["thread"]; ok {
		if s, ok := l.str(p.val, f+".thread"); ok {
			pol, err := alert.ParsePolicy(s)
			if err != nil {
				l.report(p.val, f+".thread", "%s is not a thread policy (want one of %s)", quote(s), strings.Join(policyNames, ", "))
			} else {
				r.Thread = pol
			}
		}
	}
	if p, ok := m["on_failure"]; ok {
		if s, ok := l.str(p.val, f+".on_failure"); ok {
			r.OnFailure = OnFailure(s)
		}
	}
	l.durations(m, f, []durationField{
		{"max_age", "2h", &r.MaxAge},
		{"dedup_window", "10m", &r.DedupWindow},
		{"suppress_repeats", "4h", &r.SuppressRepeats},
		{"escalate_stale", "8h10m", &r.EscalateStale},
	})
	if p, ok := m["escalate"]; ok {
		l.escalate(r, p.val, f+".escalate")
	}
	if p, ok := m["mentions"]; ok {
		l.mentions(r, p.val, f+".mentions")
	}
	if p, ok := m["max_alerts"]; ok {
		if s, ok := l.str(p.val, f+".max_alerts"); ok {
			k, err := strconv.Atoi(s)
			if err != nil || k < 1 || k > 100 {
				l.report(p.val, f+".max_alerts", "%s: want a whole number from 1 to 100", quote(s))
			} else {
				r.MaxAlerts = k
			}
		}
	}
	if p, ok := m["time_zone"]; ok {
		if s, ok := l.str(p.val, f+".time_zone"); ok {
			// The host's zone database; the container image has its own
			// (built with -tags timetzdata).
			loc, err := time.LoadLocation(s)
			if err != nil || s == "" || s == "Local" {
				l.report(p.val, f+".time_zone", "%s is not a time zone: want an IANA name such as UTC, Europe/Berlin or America/New_York", quote(s))
			} else {
				r.TimeZone = loc
			}
		}
	}
	if p, ok := m["text_summary"]; ok {
		if b, ok := l.boolean(p.val, f+".text_summary"); ok {
			r.TextSummary = b
		}
	}
	if p, ok := m["sample_file"]; ok {
		if data, name, ok := l.readSetting(p.val, f+".sample_file"); ok {
			r.Sample, r.SampleFile = data, name
		}
	}
	if p, ok := m["template"]; ok {
		l.template(r, p.val, f+".template")
	} else {
		l.pos[f+".template"] = position{n.Line, n.Column}
	}
}

// verify reads a route's verify: section (scheme:, secret:, …).
func (l *loader) verify(r *Route, v *yaml.Node, field string) {
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.report(v, field, "want a mapping (scheme: %s, secret: …), got %s", strings.Join(verify.Schemes, " | "), kindName(n))
		return
	}
	before := len(l.problems)
	m := l.fields(n, field, verifyKeys)
	var o verify.Options
	if p, ok := m["scheme"]; ok {
		if s, ok := l.str(p.val, field+".scheme"); ok {
			o.Scheme = verify.Scheme(s)
			if !slices.Contains(verify.Schemes, s) {
				l.report(p.val, field+".scheme", "%s is not one of %s%s", quote(s), strings.Join(verify.Schemes, ", "), hint(s, verify.Schemes))
			}
		}
	} else {
		l.report(v, field+".scheme", "verify: needs scheme: (%s)", strings.Join(verify.Schemes, ", "))
	}
	if s, _, ok := l.secret(m, field, "secret"); ok {
		o.Secrets = append(o.Secrets, s)
	} else if _, set := m["secret"]; !set {
		if _, set := m["secret_file"]; !set {
			l.report(v, field+".secret", "verify: needs secret: or secret_file:")
		}
	}
	if s, _, ok := l.secret(m, field, "previous_secret"); ok {
		o.Secrets = append(o.Secrets, s)
	}
	for key, dst := range map[string]*string{"header": &o.Header, "algorithm": &o.Algorithm, "encoding": &o.Encoding,
		"prefix": &o.Prefix, "id_header": &o.IDHeader} {
		if p, ok := m[key]; ok {
			if s, ok := l.str(p.val, field+"."+key); ok {
				*dst = s
			}
		}
	}
	l.durations(m, field, []durationField{{"tolerance", "5m", &o.Tolerance}})
	if len(l.problems) > before {
		return
	}
	ver, err := verify.New(o)
	if err != nil {
		l.report(v, field, "%v", err) // names settings, never a secret
		return
	}
	r.Verify = ver
}

var policyNames = []string{string(alert.PolicyGroup), string(alert.PolicyFingerprint), string(alert.PolicyAlertName),
	string(alert.PolicyDay), string(alert.PolicyNone), string(alert.PolicyIncident)}

// names reads a list of space names.
func (l *loader) names(v *yaml.Node, field string) []string {
	n := deref(v)
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode { // spaces: alerts
		s, _ := l.str(v, field+"[0]")
		return []string{s}
	}
	if n.Kind != yaml.SequenceNode {
		l.report(v, field, "want a list of space names, got %s", kindName(n))
		return nil
	}
	var out []string
	for i, e := range n.Content {
		if s, ok := l.str(e, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) matches(r *Route, v *yaml.Node, field string) {
	l.rules(v, field, "want a list of rules (- when: {severity: critical}, spaces: [oncall]), got %s",
		"want a rule (when:, spaces:), got %s", matchKeys, func(f string, item *yaml.Node, mm map[string]pair) {
			var rule Match
			if p, ok := mm["when"]; ok {
				rule.When = l.when(p.val, f+".when", "want a mapping of labels or fields to values, got %s")
			}
			if len(rule.When) == 0 {
				l.report(item, f+".when", "a rule needs when: with at least one label or field (put catch-all spaces in the route's spaces:)")
			}
			if p, ok := mm["spaces"]; ok {
				rule.Spaces = l.names(p.val, f+".spaces")
			}
			if len(rule.Spaces) == 0 {
				l.report(item, f+".spaces", "a rule needs spaces: to send to")
			}
			r.Match = append(r.Match, rule)
		})
}

// rules reads a list of rules, field, each a mapping whose keys are among
// keys, and hands each to read with its field path. listWant and itemWant
// are the problems' formats for a value that is not a list, or an item
// that is not a mapping; they take the node's kind.
func (l *loader) rules(v *yaml.Node, field, listWant, itemWant string, keys []string, read func(f string, item *yaml.Node, m map[string]pair)) {
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.report(v, field, listWant, kindName(n))
		return
	}
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		l.pos[f] = position{item.Line, item.Column}
		d := deref(item)
		if isNull(d) || d.Kind != yaml.MappingNode {
			l.report(item, f, itemWant, kindName(d))
			continue
		}
		read(f, item, l.fields(d, f, keys))
	}
}

// when reads a rule's when: mapping of labels (or fields) to values; nil
// when it is not a mapping, reported with want.
func (l *loader) when(v *yaml.Node, field, want string) map[string]string {
	wd := deref(v)
	if isNull(wd) || wd.Kind != yaml.MappingNode {
		l.report(v, field, want, kindName(wd))
		return nil
	}
	when := map[string]string{}
	for _, kv := range l.pairs(wd, field) {
		if s, ok := l.str(kv.val, field+"."+kv.name); ok {
			when[kv.name] = s
		}
	}
	return when
}

// mentionRE accepts what Chat's text renders as a mention of everyone or
// of one user by numeric id.
var mentionRE = regexp.MustCompile(`^<users/(all|[0-9]{1,30})>$`)

func (l *loader) mentions(r *Route, v *yaml.Node, field string) {
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.report(v, field, `want a mapping of severities to mentions (critical: "<users/all>"), got %s`, kindName(n))
		return
	}
	r.Mentions = map[string]string{}
	for _, p := range l.pairs(n, field) {
		f := field + "." + p.name
		s, ok := l.str(p.val, f)
		if !ok {
			continue
		}
		mention := normalizeMention(s)
		if mention == "" {
			l.report(p.val, f, `%s is not a mention: want "<users/all>", "all", "<users/NUMERIC_ID>" or "users/NUMERIC_ID"`, quote(s))
			continue
		}
		r.Mentions[p.name] = mention
	}
}

// normalizeMention turns the forms a person writes into Chat's mention
// markup, "" if s is none of them.
func normalizeMention(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "all" || s == "@all":
		s = "<users/all>"
	case strings.HasPrefix(s, "users/"):
		s = "<" + s + ">"
	}
	if !mentionRE.MatchString(s) {
		return ""
	}
	return s
}

// template decodes and compiles a route's template; its problems point at
// the template's fields in the file.
func (l *loader) template(r *Route, v *yaml.Node, field string) {
	l.pos[field] = position{v.Line, v.Column}
	before := len(l.problems)
	defer func() {
		if len(l.problems) > before {
			l.bad[field] = true // no "needs a template" on top
		}
	}()
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.report(v, field, "want a mapping (text:, thread_key:, dedup_key:, card:), got %s", kindName(n))
		return
	}
	if l.budget -= countNodes(n, 0); l.budget < 0 {
		l.report(v, field, "too large: a template of over 10,000 YAML nodes")
		return
	}
	var spec jsontmpl.Spec
	if err := n.Decode(&spec); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
		at := n
		if m := yamlLine.FindStringSubmatch(strings.TrimSpace(msg)); m != nil {
			line, _ := strconv.Atoi(m[1])
			at = &yaml.Node{Line: line, Column: 1}
			msg = m[2]
		}
		l.report(at, field, "%s", strings.TrimSpace(msg))
		return
	}
	unknownTemplateKeys(l, n, field)
	t, err := jsontmpl.Compile(spec)
	var ps jsontmpl.Problems
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			f := field
			if p.Path != "" {
				f += "." + p.Path
			}
			l.report(locate(n, p.Path), f, "%s", p.Msg)
		}
	case err != nil:
		l.report(v, field, "%v", err)
	default:
		r.Template, r.template = t, n
		r.templateKeys = spec.ThreadKey != "" || spec.DedupKey != ""
	}
}

// countNodes counts a node tree, stopping at 10,001 (aliases can make a tree
// of a small file very large).
func countNodes(n *yaml.Node, depth int) int {
	if n == nil || depth > 100 {
		return 0
	}
	c := 1
	for _, k := range n.Content {
		c += countNodes(k, depth+1)
		if c > 10000 {
			return c
		}
	}
	if n.Kind == yaml.AliasNode {
		c += countNodes(n.Alias, depth+1)
	}
	return c
}

// templateKeys are the keys of each level of a template, by the path of
// the level with indexes removed.
var templateKeys = map[string][]string{
	"":                                {"when", "text", "thread_key", "dedup_key", "card"},
	"card":                            {"title", "subtitle", "image_url", "sections"},
	"card.sections":                   {"when", "header", "collapsible", "widgets"},
	"card.sections.widgets":           {"when", "text", "decorated", "buttons", "image", "divider"},
	"card.sections.widgets.decorated": {"label", "text", "bottom_label"},
	"card.sections.widgets.buttons":   {"when", "text", "url"},
	"card.sections.widgets.image":     {"url", "alt"},
}

// unknownTemplateKeys reports keys the template's YAML has that its spec
// does not know (yaml's Decode ignores them silently).
func unknownTemplateKeys(l *loader, n *yaml.Node, field string) {
	var walk func(n *yaml.Node, level, path string, depth int)
	walk = func(n *yaml.Node, level, path string, depth int) {
		n = deref(n)
		if n == nil || depth > 20 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			known, ok := templateKeys[level]
			if !ok {
				return
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := deref(n.Content[i])
				if k == nil || k.Kind != yaml.ScalarNode {
					continue
				}
				if !slices.Contains(known, k.Value) {
					at := field
					if path != "" {
						at += "." + path
					}
					l.report(n.Content[i], at, "unknown key %s%s", quote(k.Value), hint(k.Value, known))
					continue
				}
				walk(n.Content[i+1], join(level, k.Value), join(path, k.Value), depth+1)
			}
		case yaml.SequenceNode:
			for i, e := range n.Content {
				walk(e, level, fmt.Sprintf("%s[%d]", path, i), depth+1)
			}
		}
	}
	walk(n, "", "", 0)
}

// locate returns the node at a template path such as
// "card.sections[0].widgets[2].text", or the deepest node on the way.
func locate(n *yaml.Node, path string) *yaml.Node {
	cur := n
	for part := range strings.SplitSeq(path, ".") {
		if part == "" {
			continue
		}
		name, rest, _ := strings.Cut(part, "[")
		next := mapValue(deref(cur), name)
		if next == nil {
			return cur
		}
		cur = next
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return cur
			}
			i, err := strconv.Atoi(idx)
			d := deref(cur)
			if err != nil || d == nil || d.Kind != yaml.SequenceNode || i < 0 || i >= len(d.Content) {
				return cur
			}
			cur = d.Content[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return cur
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// validateRoutes adds the problems of c's routes that need the whole
// configuration: names, targets, credentials.
func (c *Config) validateRoutes(add func(field, format string, args ...any), listenLoopback bool) {
	names := make([]string, len(c.Spaces))
	for i, s := range c.Spaces {
		names[i] = s.Name
	}
	checkSpaces := func(field string, list []string) {
		for i, s := range list {
			if c.Space(s) == nil {
				add(fmt.Sprintf("%s[%d]", field, i), "%q is not a configured space%s", s, suggest(s, names))
			}
		}
	}
	seen := map[string]bool{}
	var open []string
	for i, r := range c.Routes {
		f := routeField(i)
		switch {
		case r.Name == "":
			add(f+".name", "a route needs a name: it is the last segment of its URL")
		case !validName(r.Name):
			add(f+".name", "route name %q must match [a-z0-9][a-z0-9_-]* and be at most 64 characters: it appears in URLs", r.Name)
		case seen[r.Name]:
			add(f+".name", "route %q is defined twice", r.Name)
		}
		seen[r.Name] = true
		switch {
		case r.Source == "":
			add(f+".source", "a route needs a source: one of %s", strings.Join(sourceNames, ", "))
		case !slices.Contains(sourceNames, string(r.Source)):
			add(f+".source", "%q is not one of %s%s", r.Source, strings.Join(sourceNames, ", "), suggest(string(r.Source), sourceNames))
		}
		if len(r.Spaces) == 0 && len(r.Match) == 0 {
			add(f+".spaces", "a route needs spaces: to deliver to (or match: rules)")
		}
		checkSpaces(f+".spaces", r.Spaces)
		for j, m := range r.Match {
			checkSpaces(fmt.Sprintf("%s.match[%d].spaces", f, j), m.Spaces)
		}
		if r.OnFailure != "" && !slices.Contains(onFailureNames, string(r.OnFailure)) {
			add(f+".on_failure", "%q is not one of %s%s", r.OnFailure, strings.Join(onFailureNames, ", "), suggest(string(r.OnFailure), onFailureNames))
		}
		if r.Source == SourceJSON && len(r.Escalate) > 0 {
			add(f+".escalate", "escalation follows an incident until it resolves: for alerting routes (alertmanager, grafana) only")
		}
		if len(r.Escalate) > 0 && r.EscalateStale <= 0 {
			add(f+".escalate_stale", "escalate_stale must be positive")
		}
		if r.DedupWindow < 0 || r.SuppressRepeats < 0 || r.MaxAge < 0 {
			add(f, "durations must not be negative")
		}
		switch {
		case r.Source == SourceJSON && r.Template == nil:
			add(f+".template", "a json route needs a template: (text:, card:, thread_key:, dedup_key:)")
		case r.Source.Alerting() && r.Template != nil && (r.Thread == alert.PolicyFingerprint || r.Thread == alert.PolicyAlertName):
			add(f+".template", "a template renders the whole notification; thread: %s splits it: use group, incident, day or none, or the built-in card", r.Thread)
		case r.Source.Alerting() && r.templateKeys:
			add(f+".template", "thread_key and dedup_key are for json routes; %s routes thread by thread: and deduplicate by the alerts' state", r.Source)
		}
		if r.Source == SourceJSON && len(r.Mentions) > 0 {
			add(f+".mentions", "mentions are by severity, for alerting routes; write the mention into a json route's text template")
		}
		hasBasic := r.BasicUser != "" || r.BasicPassword != ""
		switch {
		case r.BearerToken != "" && hasBasic:
			add(f+"."+orDefault(r.tokenKey, "bearer_token"), "set bearer_token or basic_username with basic_password, not both")
		case hasBasic && (r.BasicUser == "" || r.BasicPassword == ""):
			add(f+".basic_username", "basic authentication needs both basic_username and basic_password")
		case r.BearerToken != "":
			if msg := tokenProblem(r.BearerToken.Reveal(), false); msg != "" {
				add(f+"."+orDefault(r.tokenKey, "bearer_token"), "%s, since it is the credential of the route", msg)
			}
		case hasBasic:
			if msg := tokenProblem(r.BasicPassword.Reveal(), false); msg != "" {
				add(f+"."+orDefault(r.passwordKey, "basic_password"), "%s, since it is the credential of the route", msg)
			}
		case r.Verify != nil:
		default:
			open = append(open, strconv.Quote(r.Name))
		}
	}
	if !listenLoopback && len(open) > 0 {
		add("listen", "refusing to listen on %s without credentials on routes %s: set bearer_token or basic_username and basic_password", c.Listen, strings.Join(open, ", "))
	}
}

// targetSummary says where the route delivers, for Summary.
func (r *Route) targetSummary() string {
	var parts []string
	for _, m := range r.Match {
		keys := make([]string, 0, len(m.When))
		for k := range m.When {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		conds := make([]string, len(keys))
		for i, k := range keys {
			conds[i] = k + "=" + m.When[k]
		}
		parts = append(parts, fmt.Sprintf("%s if %s", strings.Join(m.Spaces, "+"), strings.Join(conds, ",")))
	}
	if len(r.Spaces) > 0 {
		if len(parts) > 0 {
			parts = append(parts, "else "+strings.Join(r.Spaces, "+"))
		} else {
			parts = append(parts, strings.Join(r.Spaces, "+"))
		}
	}
	return strings.Join(parts, ", ")
}

// dedupSummary states the route's deduplication settings.
func (r *Route) dedupSummary() string {
	s := "dedup_window " + FormatDuration(r.DedupWindow)
	if r.Source.Alerting() {
		rep := "off"
		if r.SuppressRepeats > 0 {
			rep = FormatDuration(r.SuppressRepeats)
		}
		s += ", suppress_repeats " + rep
	}
	return s
}

// authSummary names the route's kind of credentials, never their value.
func (r *Route) authSummary() string {
	if r.Verify != nil {
		s := "verified " + r.Verify.String()
		if a := r.tokenSummary(); a != "none" {
			s += " and " + a
		}
		return s
	}
	return r.tokenSummary()
}

func (r *Route) tokenSummary() string {
	switch {
	case r.BearerToken != "":
		return "bearer token"
	case r.BasicUser != "":
		return "basic"
	}
	return "none"
}
