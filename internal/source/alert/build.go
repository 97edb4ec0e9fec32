package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// Options tune Build. The zero value gives the defaults.
type Options struct {
	// MaxAlerts is the most alerts shown each in a section of their own; 0 or
	// less means 10. The others are counted in an "N more alerts" line, as are
	// the alerts the source left out. Fewer are shown when more would pass
	// Google's 100 widgets or the card budget.
	MaxAlerts int
	// Mention is mention markup put first in the message's text, such as
	// "<users/all>" or "<users/123456>" (see gchat.Mention); it is used as is.
	// Chat notifies mentions from a message's text only, never from a card.
	Mention string
	// Summary puts a one-line summary of the notification (status, name,
	// count, group labels) in the message's text, after the mention. Off by
	// default: Chat shows the text above the card, whose header says the
	// same; on, it is what a notification may show (what Chat puts in a
	// notification is not documented).
	Summary bool
	// Now is when the notification is shown: a firing alert's time reads
	// "07:18 UTC · firing 4m" until Now, and dates are left out of times
	// on Now's day. Zero leaves the firing duration out and shows dates.
	Now time.Time
	// Location is the time zone of the times shown; nil means UTC.
	Location *time.Location
}

func (o Options) location() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

func (o Options) maxAlerts() int {
	if o.MaxAlerts <= 0 {
		return 10
	}
	return o.MaxAlerts
}

const (
	// cardBudget is the most bytes the card takes as JSON. Google takes
	// 32,000 bytes for the whole message; the rest is left for the text, the
	// fallback text and the envelope.
	cardBudget = 29000
	// maxWidgets is the number of widgets Google shows in a card: a section
	// that passes it is dropped with all that follow.
	maxWidgets = 100
	// maxFieldWidgets is the most labels and annotations a section shows as a
	// widget each; more go into one paragraph, one line each.
	maxFieldWidgets = 6
	// maxURL is the longest link made into a button.
	maxURL = 4096
)

// limits bound what one alert shows. Build tries them from the most generous
// to the least and keeps the first card that fits.
type limits struct {
	alerts      int  // alert sections
	summary     int  // runes of a summary or headline
	description int  // runes of a description
	value       int  // runes of a label or annotation value
	name        int  // runes of a label or annotation name
	fields      int  // labels and annotations listed per section
	buttons     bool // link buttons
}

func levels(maxAlerts int) []limits {
	return []limits{
		{alerts: maxAlerts, summary: 300, description: 1000, value: 300, name: 100, fields: 20, buttons: true},
		{alerts: max(1, maxAlerts/2), summary: 150, description: 400, value: 150, name: 60, fields: 10, buttons: true},
		{alerts: min(maxAlerts, 3), summary: 100, description: 200, value: 80, name: 40, fields: 5, buttons: true},
		// The last level has no buttons, whose URLs are not shortened: with
		// every other field cut short, one alert fits whatever the input.
		{alerts: 1, summary: 60, description: 100, value: 40, name: 40, fields: 3},
	}
}

// Build returns the default message for a notification: a card with the
// group's status, name and severity in its header, the labels common to all
// alerts once, then a section per alert (summary, description, the labels
// that differ, its times as people read them in o.Location, and link
// buttons: Source, Runbook, Silence, Dashboard, Panel), and a text that is
// o.Mention alone (the card says the rest), or with o.Summary a one-line
// summary in Chat markup after it. The buttons follow one rule: Silence
// only on an alert that is firing, never on a resolved one, whatever its
// group; the others whenever the source gives the link. User data is escaped: card.Escape in card HTML, gchat.Escape in
// the text. Only absolute http and https links become buttons. Long values are
// shortened with "…" and alerts are left out (and counted) so that the card
// stays within Google's limits; the message passes Check for any group.
func Build(g Group, o Options) gchat.Message {
	v := newView(g)
	v.now, v.loc = o.Now, o.location()
	var c card.Card
	ls := levels(o.maxAlerts())
	for i, l := range ls {
		var ok bool
		if c, ok = v.card(l, i == len(ls)-1); ok {
			break
		}
	}
	text := o.Mention
	if o.Summary {
		text = v.text(o.Mention)
	}
	return gchat.Message{
		Text:         text,
		CardsV2:      []card.CardWithID{{CardID: cardID(g), Card: c}},
		FallbackText: v.fallback(),
	}
}

// cardID names a notification's card: "alert-" and a hash of its state
// (StateHash), so that the cards of several notifications merged into one
// message (a space's coalesce) have ids of their own, as Google requires of
// several cards, and the card of the same notification built again keeps
// its id.
func cardID(g Group) string { return "alert-" + StateHash(g)[:16] }

// view is what Build derives from a group before laying it out.
type view struct {
	g        Group
	alerts   []Alert // firing first, else in the source's order
	firing   int
	multi    bool              // more than one alert
	labels   map[string]string // labels every alert has alike
	annots   map[string]string // annotations every alert has alike, if multi
	name     string            // alert name(s), "" if none
	severity string
	context  []string // values of the group labels but alertname, by name
	now      time.Time
	loc      *time.Location
}

func newView(g Group) *view {
	v := &view{g: g, firing: g.Firing(), multi: len(g.Alerts) > 1, severity: Severity(g)}
	v.alerts = slices.Clone(g.Alerts)
	slices.SortStableFunc(v.alerts, func(a, b Alert) int {
		return rank(a) - rank(b)
	})
	if len(g.Alerts) > 0 {
		v.labels = commonLabels(g.Alerts)
	} else {
		v.labels = g.CommonLabels
	}
	if v.multi {
		v.annots = commonAnnotations(g.Alerts)
	}
	v.name = groupName(g)
	for _, k := range sortedKeys(g.GroupLabels) {
		if k != "alertname" && strings.TrimSpace(g.GroupLabels[k]) != "" {
			v.context = append(v.context, g.GroupLabels[k])
		}
	}
	return v
}

func rank(a Alert) int {
	if a.Status == Firing {
		return 0
	}
	return 1
}

// groupName returns the group's alertname, or the distinct names of its alerts.
func groupName(g Group) string {
	if n := g.GroupLabels["alertname"]; n != "" {
		return n
	}
	if n := g.CommonLabels["alertname"]; n != "" {
		return n
	}
	var names []string
	for _, a := range g.Alerts {
		if n := a.Name(); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" +%d", len(names)-3)
	}
	return strings.Join(names, ", ")
}

func (v *view) icon() string {
	if v.g.Status == Firing {
		return "🔥"
	}
	return "✅"
}

func (v *view) status() string {
	if v.g.Status == Firing {
		return "FIRING"
	}
	return "RESOLVED"
}

// count is the number of alerts that matter for the status: those firing in
// a firing group, all in a resolved one.
func (v *view) count() int {
	if v.g.Status == Firing {
		return v.firing
	}
	return len(v.g.Alerts)
}

// text returns the one-line message text in Chat markup.
func (v *view) text(mention string) string {
	var b strings.Builder
	if mention != "" {
		b.WriteString(mention)
		b.WriteByte(' ')
	}
	b.WriteString(v.icon())
	b.WriteByte(' ')
	b.WriteString(gchat.Bold(v.status()))
	if name := line(v.name, 100); name != "" {
		b.WriteByte(' ')
		b.WriteString(gchat.Escape(name))
	}
	if n := v.count(); n > 0 {
		fmt.Fprintf(&b, " (%d)", n)
	}
	for _, c := range v.contextValues() {
		b.WriteString(" · ")
		b.WriteString(gchat.Escape(c))
	}
	return b.String()
}

// fallback returns the plain-text summary shown where cards are not, such as
// in notifications.
func (v *view) fallback() string {
	s := v.status()
	if name := line(v.name, 100); name != "" {
		s += ": " + name
	}
	if n := v.count(); n > 0 {
		s += fmt.Sprintf(" (%d)", n)
	}
	for _, c := range v.contextValues() {
		s += " · " + c
	}
	return s
}

// contextValues returns the first group label values, shortened for a line.
func (v *view) contextValues() []string {
	var out []string
	for i, c := range v.context {
		if i == 3 {
			out = append(out, fmt.Sprintf("+%d", len(v.context)-3))
			break
		}
		out = append(out, line(c, 60))
	}
	return out
}

func (v *view) header() *card.Header {
	title := v.icon() + " " + v.status()
	switch resolved := len(v.g.Alerts) - v.firing; {
	case v.g.Status == Resolved:
		title += " · " + plural(len(v.g.Alerts), "alert")
	case v.firing > 0 && resolved > 0:
		title += " · " + plural(v.firing, "alert") + " · " + strconv.Itoa(resolved) + " resolved"
	case v.firing > 0:
		title += " · " + plural(v.firing, "alert")
	}
	var sub []string
	if v.name != "" {
		sub = append(sub, v.name)
	}
	if v.severity != "" {
		sub = append(sub, v.severity)
	}
	sub = append(sub, v.context...)
	return &card.Header{Title: title, Subtitle: line(strings.Join(sub, " · "), 150)}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// card lays the card out within l: the summary and description the alerts
// share, a section per alert, the "N more alerts" line, then the labels the
// alerts share. It reports false when the shared sections or the first alert
// do not fit, so that the caller tries tighter limits; last says there are
// none, and then whatever does not fit is left out.
func (v *view) card(l limits, last bool) (card.Card, bool) {
	c := card.Card{Header: v.header()}
	used := size(c) + 300 // the "more" line, separators
	widgets := 1          // the "more" line
	fit := func(s *card.Section) bool {
		if s == nil {
			return true
		}
		n := size(s)
		if used+n > cardBudget || widgets+len(s.Widgets) > maxWidgets {
			return false
		}
		used += n
		widgets += len(s.Widgets)
		return true
	}
	top, labels := v.sharedSection(l), v.labelSection(l)
	if !fit(top) {
		if !last {
			return c, false
		}
		top = nil
	}
	if !fit(labels) {
		if !last {
			return c, false
		}
		labels = nil
	}
	if top != nil {
		c.Sections = append(c.Sections, top)
	}
	shown := 0
	for _, a := range v.alerts[:min(l.alerts, len(v.alerts))] {
		s := v.alertSection(a, l)
		if !fit(s) {
			break
		}
		c.Sections = append(c.Sections, s)
		shown++
	}
	if shown == 0 && len(v.alerts) > 0 && !last {
		return c, false
	}
	if more := len(v.alerts) - shown + v.g.TruncatedAlerts; more > 0 {
		c.Sections = append(c.Sections, card.NewSection("",
			card.Text("<i>"+plural(more, "more alert")+" not shown</i>")))
	}
	if labels != nil {
		c.Sections = append(c.Sections, labels)
	}
	return c, last || size(c) <= cardBudget
}

// sharedSection shows the summary, description and other annotations that
// several alerts share; nil when there are none.
func (v *view) sharedSection(l limits) *card.Section {
	if !v.multi {
		return nil
	}
	var ws []*card.Widget
	if w := v.paragraph(v.annots["summary"], v.annots["description"], l); w != nil {
		ws = append(ws, w)
	}
	ws = append(ws, fieldWidgets(annotationFields(v.annots), l)...)
	if len(ws) == 0 {
		return nil
	}
	return card.NewSection("", ws...)
}

// labelSection shows the labels all alerts share, but those in the card
// header; nil when there are none.
func (v *view) labelSection(l limits) *card.Section {
	var fs []field
	for _, k := range sortedKeys(v.labels) {
		if k == "alertname" && v.name != "" || k == "severity" && v.severity == v.labels[k] ||
			hidden(k) || strings.TrimSpace(v.labels[k]) == "" {
			continue
		}
		fs = append(fs, field{k, v.labels[k], false})
	}
	if len(fs) == 0 {
		return nil
	}
	header := "Labels"
	if v.multi {
		header = "Common labels"
	}
	return card.NewSection(header, fieldWidgets(fs, l)...)
}

// alertSection shows one alert: what is not common to the group, its times
// and links.
func (v *view) alertSection(a Alert, l limits) *card.Section {
	var ws []*card.Widget
	own := func(m map[string]string, k string) string { // a value not shown for the group
		if _, shared := v.annots[k]; shared {
			return ""
		}
		return m[k]
	}
	if w := v.paragraph("", own(a.Annotations, "description"), l); w != nil {
		ws = append(ws, w)
	}
	var fs []field
	for _, k := range v.ownLabels(a) {
		fs = append(fs, field{k, a.Labels[k], false})
	}
	annots := make(map[string]string)
	for k, val := range a.Annotations {
		if _, shared := v.annots[k]; !shared {
			annots[k] = val
		}
	}
	fs = append(fs, annotationFields(annots)...)
	if strings.TrimSpace(a.ValueString) != "" {
		fs = append(fs, field{"Value", a.ValueString, true})
	}
	ws = append(ws, fieldWidgets(fs, l)...)
	if w := v.timeWidget(a); w != nil {
		ws = append(ws, w)
	}
	if l.buttons {
		if bs := buttons(a); len(bs) > 0 {
			ws = append(ws, card.Buttons(bs...))
		}
	}
	if len(ws) == 0 { // Google refuses a section without widgets
		ws = append(ws, card.Text("<i>no details</i>"))
	}
	head := own(a.Annotations, "summary")
	if strings.TrimSpace(head) == "" {
		var ps []string
		for _, k := range v.ownLabels(a) {
			ps = append(ps, k+"="+a.Labels[k])
		}
		head = strings.Join(ps, ", ")
	}
	if strings.TrimSpace(head) == "" {
		head = a.Name()
	}
	head = card.Escape(line(head, l.summary))
	if v.firing > 0 && v.firing < len(v.g.Alerts) { // mixed: say which is which
		if a.Status == Firing {
			head = "🔥 " + head
		} else {
			head = "✅ " + head
		}
	}
	return &card.Section{Header: strings.TrimSpace(head), Widgets: ws}
}

// ownLabels returns the names of a's labels that are not common to the group,
// in order.
func (v *view) ownLabels(a Alert) []string {
	var out []string
	for _, k := range sortedKeys(a.Labels) {
		if _, shared := v.labels[k]; !shared && !hidden(k) && strings.TrimSpace(a.Labels[k]) != "" {
			out = append(out, k)
		}
	}
	return out
}

// paragraph returns a text paragraph of summary in bold over description, or
// nil when both are blank.
func (v *view) paragraph(summary, description string, l limits) *card.Widget {
	var parts []string
	if strings.TrimSpace(summary) != "" {
		parts = append(parts, "<b>"+card.Escape(line(summary, l.summary))+"</b>")
	}
	if strings.TrimSpace(description) != "" {
		parts = append(parts, multiline(description, l.description))
	}
	if len(parts) == 0 {
		return nil
	}
	return card.Text(strings.Join(parts, "<br>"))
}

// field is a label or annotation to show.
type field struct {
	name, value string
	multiline   bool // an annotation: prose, whose line breaks count
}

// hidden reports whether a label or annotation is internal to its source
// (Prometheus reserves names that begin with "__").
func hidden(name string) bool { return strings.HasPrefix(name, "__") }

// annotationFields returns the annotations to list as fields: all but the
// summary and description, which have their own place, runbook links, which
// become buttons, and blank or internal ones.
func annotationFields(m map[string]string) []field {
	var fs []field
	for _, k := range sortedKeys(m) {
		switch {
		case k == "summary" || k == "description" || hidden(k) || strings.TrimSpace(m[k]) == "":
			continue
		case (k == "runbook_url" || k == "runbook") && linkOK(m[k]):
			continue
		}
		fs = append(fs, field{k, m[k], true})
	}
	return fs
}

// fieldWidgets returns a decorated text per field, or when there are more than
// maxFieldWidgets of them (or than l allows), one paragraph with a line each.
func fieldWidgets(fs []field, l limits) []*card.Widget {
	var ws []*card.Widget
	if len(fs) <= min(maxFieldWidgets, l.fields) {
		for _, f := range fs {
			text := card.Escape(line(f.value, l.value))
			if f.multiline {
				text = multiline(f.value, l.value)
			}
			ws = append(ws, &card.Widget{DecoratedText: &card.DecoratedText{
				TopLabel: card.Escape(line(f.name, l.name)),
				Text:     text,
				WrapText: true,
			}})
		}
		return ws
	}
	var lines []string
	for _, f := range fs[:min(len(fs), l.fields)] {
		lines = append(lines, "<b>"+card.Escape(line(f.name, l.name))+"</b>: "+card.Escape(line(f.value, l.value)))
	}
	if n := len(fs) - l.fields; n > 0 {
		lines = append(lines, fmt.Sprintf("<i>%d more</i>", n))
	}
	return append(ws, card.Text(strings.Join(lines, "<br>")))
}

// timeWidget shows when the alert started and for how long it fires (to
// now), or, once resolved, when it started and ended and how long it fired:
// "07:18 UTC · firing 4m", "07:18 → 07:31 UTC · resolved after 13m". Nil
// when the source gave neither time.
func (v *view) timeWidget(a Alert) *card.Widget {
	d := &card.DecoratedText{StartIcon: &card.Icon{KnownIcon: "CLOCK"}, WrapText: true}
	start, end := a.StartsAt, a.EndsAt
	d.TopLabel = "Started"
	switch {
	case a.Status == Resolved && !start.IsZero() && !end.IsZero():
		d.Text = v.clock(start, false) + " → " + v.clock(end, true)
		if dur := end.Sub(start); dur > 0 {
			d.Text += " · resolved after " + Duration(dur)
		}
	case a.Status == Resolved && !end.IsZero():
		d.TopLabel, d.Text = "Resolved", v.clock(end, true)
	case a.Status == Resolved:
		d.Text = v.clock(start, true) + " · resolved"
	case !start.IsZero():
		d.Text = v.clock(start, true)
		if !v.now.IsZero() && v.now.After(start) {
			d.Text += " · firing " + Duration(v.now.Sub(start))
		}
	default:
		return nil
	}
	return &card.Widget{DecoratedText: d}
}

// clock writes t in the view's zone: "07:18 UTC" on the day of now, with
// the date before it on another day ("Nov 26 07:18 UTC", and the year in
// another year), and without the zone when zone is false.
func (v *view) clock(t time.Time, zone bool) string {
	t = t.In(v.loc)
	layout := "15:04"
	if !v.now.IsZero() {
		now := v.now.In(v.loc)
		switch {
		case t.Year() != now.Year():
			layout = "2006-01-02 15:04"
		case t.YearDay() != now.YearDay():
			layout = "Jan 2 15:04"
		}
	} else {
		layout = "2006-01-02 15:04"
	}
	if zone {
		layout += " MST"
	}
	return t.Format(layout)
}

// Duration writes d as people read it on a card: "45s", "4m", "1h 5m",
// "2d 3h"; the smaller unit is dropped past a day, seconds past a minute.
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// buttons returns the alert's link buttons, leaving out links that are not
// absolute http or https URLs.
func buttons(a Alert) []*card.Button {
	var bs []*card.Button
	add := func(text, u string) {
		if linkOK(u) {
			bs = append(bs, card.LinkButton(text, u))
		}
	}
	add("Source", a.GeneratorURL)
	if u := a.Annotations["runbook_url"]; linkOK(u) {
		add("Runbook", u)
	} else {
		add("Runbook", a.Annotations["runbook"])
	}
	if a.Status == Firing {
		add("Silence", a.SilenceURL)
	}
	add("Dashboard", a.DashboardURL)
	add("Panel", a.PanelURL)
	return bs
}

// linkOK reports whether s can be a button's link: an absolute http or https
// URL with a host (what card.Check accepts), of reasonable length.
func linkOK(s string) bool {
	if s == "" || len(s) > maxURL || !utf8.ValidString(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// line returns s on one line, its runs of white space made single spaces,
// and at most n runes long, with "…" when cut. Invalid UTF-8 becomes U+FFFD.
func line(s string, n int) string {
	s, long := prefix(s, n)
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if long && utf8.RuneCountInString(s) < n {
		return s + "…"
	}
	return cut(s, n)
}

// multiline returns s as card HTML, at most n runes of it, its line breaks
// kept as <br>.
func multiline(s string, n int) string {
	s, long := prefix(s, n)
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	if long && utf8.RuneCountInString(s) < n {
		s += "…"
	} else {
		s = cut(s, n)
	}
	s = card.Escape(s)
	return strings.ReplaceAll(s, "\n", "<br>")
}

// prefix returns a prefix of s that holds its first n runes with room to
// spare, so that shortening a huge value costs little; long says whether it
// is shorter than s.
func prefix(s string, n int) (string, bool) {
	if m := 4 * n * utf8.UTFMax; len(s) > m {
		return s[:m], true
	}
	return s, false
}

// cut shortens s to n runes, the last of them "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return strings.TrimRightFunc(s[:i], func(r rune) bool { return r == ' ' || r == '\n' }) + "…"
}

// size returns the length of v as Google measures it: compact JSON without
// HTML escaping.
func size(v any) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return cardBudget + 1 // cannot happen for card types
	}
	return b.Len() - 1
}
