package alert

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 27, 7, 18, 43, 0, time.UTC)

// firing returns a firing alert with the given labels.
func firing(labels map[string]string) Alert {
	return Alert{Status: Firing, Labels: labels, StartsAt: t0}
}

// diskLabels returns the labels of a DiskFull alert.
func diskLabels(inst, sev string) map[string]string {
	return map[string]string{"alertname": "DiskFull", "cluster": "eu", "instance": inst, "severity": sev}
}

// group returns a group of alerts with its status and common labels set as a
// source would.
func group(alerts ...Alert) Group {
	return Group{
		Source:       "test",
		GroupKey:     "{}:{}",
		Status:       groupStatus(alerts),
		CommonLabels: commonLabels(alerts),
		Alerts:       alerts,
	}
}

// mustValid fails tb when msg has any problem, warnings included, or is
// larger than Google accepts.
func mustValid(tb testing.TB, msg gchat.Message) {
	tb.Helper()
	if ps := msg.Check(); len(ps) > 0 {
		tb.Fatalf("Check: %v", ps)
	}
	b, err := gchat.Encode(&msg)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) > 32000 {
		tb.Fatalf("message is %d bytes, more than 32,000", len(b))
	}
}

// widgets returns the card's widgets in order.
func widgets(msg gchat.Message) []*card.Widget {
	var ws []*card.Widget
	for _, s := range msg.CardsV2[0].Card.Sections {
		ws = append(ws, s.Widgets...)
	}
	return ws
}

// buttonTexts returns the texts of the card's buttons, in order.
func buttonTexts(msg gchat.Message) []string {
	var out []string
	for _, w := range widgets(msg) {
		if w.ButtonList != nil {
			for _, b := range w.ButtonList.Buttons {
				out = append(out, b.Text)
			}
		}
	}
	return out
}

// sectionHeaders returns the headers of the card's sections.
func sectionHeaders(msg gchat.Message) []string {
	var out []string
	for _, s := range msg.CardsV2[0].Card.Sections {
		out = append(out, s.Header)
	}
	return out
}

func TestBuildEscaping(t *testing.T) {
	const v = "_a_ *b* `c` <x> &"
	a := firing(map[string]string{"alertname": "Disk_Full*", "team": v, "owner": "<users/all>"})
	b := firing(map[string]string{"alertname": "Disk_Full*", "team": v, "owner": "ops", "instance": v})
	b.Annotations = map[string]string{"summary": "a < b && c", "description": "line 1\n<b>not bold</b>"}
	g := group(a, b)
	g.GroupLabels = map[string]string{"alertname": "Disk_Full*", "team": v}
	msg := Build(g, Options{Mention: "<users/123456>", Summary: true})
	mustValid(t, msg)

	wantText := "<users/123456> 🔥 *FIRING* " + gchat.Escape("Disk_Full*") + " (2) · " + gchat.Escape(v)
	if msg.Text != wantText {
		t.Errorf("Text\ngot  %q\nwant %q", msg.Text, wantText)
	}
	if got := gchat.Unescape(msg.Text); !strings.Contains(got, v) {
		t.Errorf("Text %q does not show %q", got, v)
	}
	if strings.Count(msg.Text, "<users/") != 1 {
		t.Errorf("Text %q mentions more than the option asked", msg.Text)
	}

	var texts []string // card HTML of the widgets
	for _, w := range widgets(msg) {
		switch {
		case w.DecoratedText != nil:
			texts = append(texts, w.DecoratedText.TopLabel+"|"+w.DecoratedText.Text)
		case w.TextParagraph != nil:
			texts = append(texts, w.TextParagraph.Text)
		}
	}
	all := strings.Join(texts, "\n") + "\n" + strings.Join(sectionHeaders(msg), "\n")
	for _, want := range []string{
		"team|" + card.Escape(v),     // common label
		"instance|" + card.Escape(v), // label of one alert
		"owner|" + card.Escape("<users/all>"),
		card.Escape("a < b && c"), // summary as section header
		"line 1<br>&lt;b&gt;not bold&lt;/b&gt;",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("card lacks %q; it has:\n%s", want, all)
		}
	}
	if strings.Contains(all, "<x>") || strings.Contains(all, "<b>not") {
		t.Errorf("card holds user data as HTML:\n%s", all)
	}
	if h := msg.CardsV2[0].Card.Header; h.Subtitle != "Disk_Full* · "+v {
		t.Errorf("header subtitle %q, want the plain text %q", h.Subtitle, "Disk_Full* · "+v)
	}
}

func TestBuildLinks(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("x", maxURL)
	tests := []struct {
		url  string
		want bool
	}{
		{"https://prometheus.example.com/graph?g0.expr=up", true},
		{"http://vm:9090/graph", true},
		{"HTTP://VM:9090/graph", true},
		{"", false},
		{"/graph?g0.expr=up", false},
		{"prometheus:9090/graph", false},
		{"javascript:alert(1)", false},
		{"ftp://example.com/x", false},
		{"http://", false},
		{"http://a b/", false},
		{"http://exa\x7fmple.com/", false},
		{long, false},
	}
	for _, tt := range tests {
		t.Run(tt.url[:min(len(tt.url), 40)], func(t *testing.T) {
			a := firing(map[string]string{"alertname": "A"})
			a.GeneratorURL = tt.url
			msg := Build(group(a), Options{})
			mustValid(t, msg)
			if got := strings.Join(buttonTexts(msg), ","); got != map[bool]string{true: "Source", false: ""}[tt.want] {
				t.Errorf("buttons %q", got)
			}
		})
	}
}

func TestBuildButtons(t *testing.T) {
	a := firing(map[string]string{"alertname": "A"})
	a.GeneratorURL = "https://prom/graph"
	a.SilenceURL = "https://am/#/silences/new"
	a.DashboardURL = "https://grafana/d/x"
	a.PanelURL = "https://grafana/d/x?viewPanel=2"
	tests := []struct {
		name   string
		change func(a *Alert)
		want   string
	}{
		{"all", func(a *Alert) { a.Annotations = map[string]string{"runbook_url": "https://wiki/rb"} }, "Source,Runbook,Silence,Dashboard,Panel"},
		{"runbook", func(a *Alert) { a.Annotations = map[string]string{"runbook": "https://wiki/rb"} }, "Source,Runbook,Silence,Dashboard,Panel"},
		{"runbook_url bad, runbook good", func(a *Alert) {
			a.Annotations = map[string]string{"runbook_url": "wiki/rb", "runbook": "https://wiki/rb"}
		}, "Source,Runbook,Silence,Dashboard,Panel"},
		{"no runbook", func(a *Alert) {}, "Source,Silence,Dashboard,Panel"},
		{"resolved: no silence", func(a *Alert) { a.Status = Resolved }, "Source,Dashboard,Panel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := a
			tt.change(&a)
			msg := Build(group(a), Options{})
			mustValid(t, msg)
			if got := strings.Join(buttonTexts(msg), ","); got != tt.want {
				t.Errorf("buttons %q, want %q", got, tt.want)
			}
		})
	}
	// A runbook that is no link is shown as text, not lost.
	b := firing(map[string]string{"alertname": "A"})
	b.Annotations = map[string]string{"runbook_url": "see wiki: Disk"}
	msg := Build(group(b), Options{})
	if !hasDecorated(msg, "runbook_url", "see wiki: Disk") {
		t.Errorf("runbook that is not a link is not shown")
	}
}

func hasDecorated(msg gchat.Message, top, text string) bool {
	for _, w := range widgets(msg) {
		if d := w.DecoratedText; d != nil && d.TopLabel == top && d.Text == text {
			return true
		}
	}
	return false
}

func TestBuildCommonLabels(t *testing.T) {
	labels := func(inst, sev string) map[string]string {
		return map[string]string{"alertname": "DiskFull", "cluster": "eu", "instance": inst, "severity": sev}
	}
	t.Run("shared once, differing per alert", func(t *testing.T) {
		msg := Build(group(firing(labels("db-1", "critical")), firing(labels("db-2", "critical"))), Options{})
		mustValid(t, msg)
		secs := msg.CardsV2[0].Card.Sections
		if got, want := sectionHeaders(msg), []string{"instance=db-1", "instance=db-2", "Common labels"}; !cmp.Equal(got, want) {
			t.Fatalf("section headers %q, want %q", got, want)
		}
		// alertname and severity are in the header; cluster is common.
		if n := len(secs[2].Widgets); n != 1 || !hasDecorated(msg, "cluster", "eu") {
			t.Errorf("common labels section has %d widgets, want cluster only", n)
		}
		for i := range 2 {
			var tops []string
			for _, w := range secs[i].Widgets {
				if w.DecoratedText != nil {
					tops = append(tops, w.DecoratedText.TopLabel)
				}
			}
			if want := []string{"instance", "Started"}; !cmp.Equal(tops, want) {
				t.Errorf("alert %d shows %q, want %q", i, tops, want)
			}
		}
		if got, want := msg.CardsV2[0].Card.Header.Subtitle, "DiskFull · critical"; got != want {
			t.Errorf("subtitle %q, want %q", got, want)
		}
	})
	t.Run("severity differs", func(t *testing.T) {
		msg := Build(group(firing(labels("db-1", "warning")), firing(labels("db-2", "critical"))), Options{})
		mustValid(t, msg)
		if !hasDecorated(msg, "severity", "warning") || !hasDecorated(msg, "severity", "critical") {
			t.Errorf("differing severities not shown per alert")
		}
		if got, want := msg.CardsV2[0].Card.Header.Subtitle, "DiskFull · critical"; got != want {
			t.Errorf("subtitle %q, want %q (the worst)", got, want)
		}
	})
	t.Run("shared annotations once", func(t *testing.T) {
		a, b := firing(labels("db-1", "critical")), firing(labels("db-2", "critical"))
		ann := map[string]string{"summary": "Disk full", "description": "Free space below 5%.", "team": "storage"}
		a.Annotations, b.Annotations = ann, ann
		msg := Build(group(a, b), Options{})
		mustValid(t, msg)
		first := msg.CardsV2[0].Card.Sections[0]
		if first.Header != "" || first.Widgets[0].TextParagraph == nil ||
			first.Widgets[0].TextParagraph.Text != "<b>Disk full</b><br>Free space below 5%." {
			t.Errorf("first section %+v, want the shared summary and description", first.Widgets[0])
		}
		if n := strings.Count(mustJSON(t, msg), "Free space"); n != 1 {
			t.Errorf("shared description shown %d times, want once", n)
		}
	})
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestBuildStatus(t *testing.T) {
	a := firing(map[string]string{"alertname": "A", "i": "1"})
	a.Annotations = map[string]string{"summary": "one"}
	b := firing(map[string]string{"alertname": "A", "i": "2"})
	b.Annotations = map[string]string{"summary": "two"}
	b.Status, b.EndsAt = Resolved, t0.Add(90*time.Minute)
	c := firing(map[string]string{"alertname": "A", "i": "3"})
	c.Annotations = map[string]string{"summary": "three"}
	mixed := group(b, a, c)
	mixed.TruncatedAlerts = 4

	allResolved := group(b)
	tests := []struct {
		name              string
		g                 Group
		title, text, fall string
		headers           []string
	}{
		{"mixed", mixed, "🔥 FIRING · 2 alerts · 1 resolved", "🔥 *FIRING* A (2)", "FIRING: A (2)",
			[]string{"🔥 one", "🔥 three", "✅ two", ""}}, // alertname, the only common label, is in the header
		{"resolved", allResolved, "✅ RESOLVED · 1 alert", "✅ *RESOLVED* A (1)", "RESOLVED: A (1)",
			[]string{"two", "Labels"}},
		{"empty", Group{}, "✅ RESOLVED", "✅ *RESOLVED*", "RESOLVED", nil},
		{"only left out", Group{Status: Firing, TruncatedAlerts: 3}, "🔥 FIRING", "🔥 *FIRING*", "FIRING", []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := Build(tt.g, Options{Summary: true})
			mustValid(t, msg)
			if got := msg.CardsV2[0].Card.Header.Title; got != tt.title {
				t.Errorf("title %q, want %q", got, tt.title)
			}
			if msg.Text != tt.text || msg.FallbackText != tt.fall {
				t.Errorf("text %q, fallback %q; want %q, %q", msg.Text, msg.FallbackText, tt.text, tt.fall)
			}
			if got := sectionHeaders(msg); !cmp.Equal(got, tt.headers) {
				t.Errorf("section headers %q, want %q", got, tt.headers)
			}
		})
	}
	msg := Build(mixed, Options{})
	last := widgets(msg)
	if !strings.Contains(mustJSON(t, msg), "4 more alerts not shown") {
		t.Errorf("left-out alerts not counted: %v", last)
	}
	if !hasDecoratedText(msg, "2026-11-27 07:18 → 2026-11-27 08:48 UTC · resolved after 1h 30m") {
		t.Errorf("resolved alert does not show its start, end and duration")
	}
}

func hasDecoratedText(msg gchat.Message, text string) bool {
	for _, w := range widgets(msg) {
		if w.DecoratedText != nil && w.DecoratedText.Text == text {
			return true
		}
	}
	return false
}

// TestBuildText: by default the text holds the mention only (the card says
// the rest); with Summary, a one-line summary follows it.
func TestBuildText(t *testing.T) {
	g := group(firing(diskLabels("db-1", "critical")))
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{}, ""},
		{Options{Mention: "<users/all>"}, "<users/all>"},
		{Options{Mention: "<users/all>", Summary: true}, "<users/all> 🔥 *FIRING* DiskFull (1)"},
		{Options{Summary: true}, "🔥 *FIRING* DiskFull (1)"},
	} {
		if got := Build(g, c.o).Text; got != c.want {
			t.Errorf("%+v: text %q, want %q", c.o, got, c.want)
		}
	}
}

// TestBuildTimes: times in the option's zone, with the date only off the
// day of Now, and how long the alert fires or fired.
func TestBuildTimes(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 27, 7, 18, 43, 0, time.UTC)
	fire := firing(diskLabels("db-1", "critical"))
	fire.StartsAt = start
	res := fire
	res.Status, res.EndsAt = Resolved, start.Add(13*time.Minute+5*time.Second)
	for _, c := range []struct {
		name string
		a    Alert
		o    Options
		want string
	}{
		{"firing", fire, Options{Now: start.Add(4*time.Minute + 30*time.Second)}, "07:18 UTC · firing 4m"},
		{"firing in Berlin", fire, Options{Now: start.Add(2 * time.Hour), Location: berlin}, "08:18 CET · firing 2h"},
		{"firing since yesterday", fire, Options{Now: start.Add(26*time.Hour + 5*time.Minute)}, "Nov 27 07:18 UTC · firing 1d 2h"},
		{"firing, no now", fire, Options{}, "2026-11-27 07:18 UTC"},
		{"resolved", res, Options{Now: start.Add(20 * time.Minute)}, "07:18 → 07:31 UTC · resolved after 13m"},
		{"resolved last year", res, Options{Now: start.AddDate(1, 0, 0)}, "2026-11-27 07:18 → 2026-11-27 07:31 UTC · resolved after 13m"},
	} {
		msg := Build(group(c.a), c.o)
		if !hasDecoratedText(msg, c.want) {
			t.Errorf("%s: card lacks the time %q:\n%s", c.name, c.want, mustJSON(t, msg))
		}
	}
}

// TestBuildSilenceRule: Silence is on each firing alert and on no
// resolved one, in firing, mixed and resolved groups alike.
func TestBuildSilenceRule(t *testing.T) {
	a, b := firing(diskLabels("db-1", "critical")), firing(diskLabels("db-2", "critical"))
	a.SilenceURL, b.SilenceURL = "https://am/#/silences/new?a", "https://am/#/silences/new?b"
	rb := b
	rb.Status, rb.EndsAt = Resolved, rb.StartsAt.Add(time.Minute)
	ra := a
	ra.Status, ra.EndsAt = Resolved, ra.StartsAt.Add(time.Minute)
	for _, c := range []struct {
		name string
		g    Group
		want int
	}{
		{"firing", group(a, b), 2},
		{"mixed", group(a, rb), 1},
		{"resolved", group(ra, rb), 0},
	} {
		n := 0
		for _, text := range buttonTexts(Build(c.g, Options{})) {
			if text == "Silence" {
				n++
			}
		}
		if n != c.want {
			t.Errorf("%s: %d Silence buttons, want %d", c.name, n, c.want)
		}
	}
}

func hasDecoratedBottom(msg gchat.Message, bottom string) bool {
	for _, w := range widgets(msg) {
		if d := w.DecoratedText; d != nil && d.BottomLabel == bottom {
			return true
		}
	}
	return false
}

func TestBuildMaxAlerts(t *testing.T) {
	alerts := make([]Alert, 25)
	for i := range alerts {
		alerts[i] = firing(map[string]string{"alertname": "A", "instance": fmt.Sprint(i)})
	}
	tests := []struct {
		max, truncated int
		shown          int
		more           string
	}{
		{0, 0, 10, "15 more alerts not shown"},
		{3, 0, 3, "22 more alerts not shown"},
		{25, 0, 25, ""},
		{25, 1, 25, "1 more alert not shown"},
		{100, 0, 25, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max, tt.truncated), func(t *testing.T) {
			g := group(alerts...)
			g.TruncatedAlerts = tt.truncated
			msg := Build(g, Options{MaxAlerts: tt.max})
			mustValid(t, msg)
			shown := 0
			for _, h := range sectionHeaders(msg) {
				if strings.HasPrefix(h, "instance=") {
					shown++
				}
			}
			js := mustJSON(t, msg)
			if shown != tt.shown || tt.more != "" && !strings.Contains(js, tt.more) || tt.more == "" && strings.Contains(js, "more alert") {
				t.Errorf("%d alerts shown, want %d, and %q", shown, tt.shown, tt.more)
			}
		})
	}
}

// TestBuildLimits checks that groups far beyond Google's limits still give a
// valid card of at most 100 widgets that counts every alert it leaves out.
func TestBuildLimits(t *testing.T) {
	huge := strings.Repeat("&<\u0001é😀 ", 20000)
	url := "https://example.com/?q=" + strings.Repeat("%22", (maxURL-30)/3)
	manyLabels := func(i int) map[string]string {
		m := map[string]string{"alertname": "A"}
		for j := range 40 {
			m[fmt.Sprintf("label_%02d", j)] = fmt.Sprintf("value %d of alert %d %s", j, i, huge[:300])
		}
		return m
	}
	tests := []struct {
		name string
		g    func() Group
		max  int
	}{
		{"many widgets", func() Group {
			var as []Alert
			for i := range 60 {
				a := firing(map[string]string{"alertname": "A", "x": fmt.Sprint(i), "y": fmt.Sprint(i), "z": fmt.Sprint(i)})
				a.Annotations = map[string]string{"description": "d", "a1": "1", "a2": "2"}
				a.GeneratorURL = "https://p/g"
				as = append(as, a)
			}
			return group(as...)
		}, 60},
		{"huge values", func() Group {
			var as []Alert
			for i := range 30 {
				a := firing(manyLabels(i))
				a.Annotations = map[string]string{"summary": huge, "description": huge, "runbook_url": url, "extra": huge}
				a.GeneratorURL, a.SilenceURL, a.DashboardURL, a.PanelURL = url, url, url, url
				a.ValueString = huge
				as = append(as, a)
			}
			g := group(as...)
			g.GroupLabels = map[string]string{"alertname": huge, "cluster": huge}
			g.TruncatedAlerts = 7
			return g
		}, 30},
		{"huge common part", func() Group {
			var as []Alert
			for i := range 3 {
				a := firing(manyLabels(0))
				a.Labels["i"] = fmt.Sprint(i)
				a.Annotations = map[string]string{"summary": huge, "description": huge, "x": huge, "y": huge}
				as = append(as, a)
			}
			return group(as...)
		}, 10},
		{"huge name", func() Group {
			return group(firing(map[string]string{huge[:70000]: huge[:70000]}))
		}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.g()
			msg := Build(g, Options{MaxAlerts: tt.max})
			mustValid(t, msg)
			c := msg.CardsV2[0].Card
			n, shown := 0, 0
			for _, s := range c.Sections {
				n += len(s.Widgets)
				for _, w := range s.Widgets {
					if d := w.DecoratedText; d != nil && d.TopLabel == "Started" {
						shown++
					}
				}
			}
			if n > maxWidgets {
				t.Errorf("%d widgets, more than %d", n, maxWidgets)
			}
			if shown == 0 {
				t.Errorf("no alert shown")
			}
			if hidden := len(g.Alerts) - shown + g.TruncatedAlerts; hidden > 0 {
				if want := plural(hidden, "more alert") + " not shown"; !strings.Contains(mustJSON(t, msg), want) {
					t.Errorf("%d alerts shown of %d, and no %q line", shown, len(g.Alerts), want)
				}
			}
			if utf8.RuneCountInString(msg.Text) > 400 {
				t.Errorf("text has %d characters", utf8.RuneCountInString(msg.Text))
			}
			t.Logf("%d alerts shown, %d widgets, %d bytes", shown, n, size(c))
		})
	}
}

// TestBuildRandom builds random groups full of markup, invalid UTF-8, blank
// values and bad links, and checks each message (see mustValid).
func TestBuildRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", " ", "\n", "a", "_", "*", "`", "~", "<", ">", "&", "&amp;", "<b>", "</i>", "<users/all>",
		"é", "😀", "\xff", "\u200b", "\u00a0", "-", "http://x", "https://h/p?a=1&b=<2>", "javascript:x", "/rel"}
	str := func(n int) string {
		var b strings.Builder
		for range r.IntN(n + 1) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	smap := func(n, m int) map[string]string {
		out := make(map[string]string)
		for range r.IntN(n + 1) {
			out[str(4)] = str(m)
		}
		for _, k := range []string{"alertname", "severity", "summary", "description", "runbook_url", "runbook"} {
			if r.IntN(3) == 0 {
				out[k] = str(m)
			}
		}
		return out
	}
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		var as []Alert
		for range r.IntN(30) {
			a := Alert{Status: []Status{Firing, Resolved, ""}[r.IntN(3)], Labels: smap(8, 20), Annotations: smap(5, 200),
				GeneratorURL: str(3), SilenceURL: str(3), DashboardURL: str(3), PanelURL: str(3), ValueString: str(10)}
			if r.IntN(2) == 0 {
				a.StartsAt = t0.Add(time.Duration(r.IntN(1e6)) * time.Second)
			}
			if r.IntN(2) == 0 {
				a.EndsAt = t0.Add(time.Duration(r.IntN(1e6)) * time.Second)
			}
			as = append(as, a)
		}
		g := group(as...)
		g.GroupLabels = smap(3, 10)
		g.TruncatedAlerts = r.IntN(3)
		if r.IntN(4) == 0 {
			g.Status = Firing
		}
		msg := Build(g, Options{MaxAlerts: r.IntN(40)})
		t.Run(fmt.Sprint(i), func(t *testing.T) { mustValid(t, msg) })
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"ab cd", 4, "ab…"},
		{"ééé😀", 3, "éé…"},
	}
	for _, tt := range tests {
		if got := cut(tt.in, tt.n); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
	lines := []struct {
		in   string
		n    int
		want string
	}{
		{"a\n\tb  \xff", 10, "a b \uFFFD"},
		{strings.Repeat("ab ", 100000), 10, "ab ab ab…"},
		{strings.Repeat(" ", 100000) + "x", 10, "…"},
	}
	for _, tt := range lines {
		if got := line(tt.in, tt.n); got != tt.want {
			t.Errorf("line(%.20q…, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
	if got, want := multiline("a < b\r\nc"+strings.Repeat("d", 100000), 10), "a &lt; b<br>cdd…"; got != want {
		t.Errorf("multiline = %q, want %q", got, want)
	}
}
