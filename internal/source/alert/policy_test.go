package alert

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr bool
	}{
		{"", PolicyGroup, false},
		{"group", PolicyGroup, false},
		{"fingerprint", PolicyFingerprint, false},
		{"alertname", PolicyAlertName, false},
		{"day", PolicyDay, false},
		{"none", PolicyNone, false},
		{"incident", PolicyIncident, false},
		{"Group", "", true},
		{"per-alert", "", true},
	}
	for _, tt := range tests {
		got, err := ParsePolicy(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParsePolicy(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := ParsePolicy("daily"); err == nil || err.Error() != `thread policy "daily": want one of group, fingerprint, alertname, day, none, incident` {
		t.Errorf("error %v", err)
	}
}

func TestSplit(t *testing.T) {
	a1 := firing(map[string]string{"alertname": "A", "i": "1", "env": "prod"})
	a1.Fingerprint = "fa1"
	a2 := firing(map[string]string{"alertname": "A", "i": "2", "env": "prod"})
	a2.Status = Resolved
	b1 := firing(map[string]string{"alertname": "B", "i": "1", "env": "prod"})
	b1.Fingerprint = "fb1"
	g := group(a1, b1, a2)
	g.GroupKey = `{}:{env="prod"}`
	g.TruncatedAlerts = 2
	day := time.Date(2026, 1, 2, 0, 30, 0, 0, time.FixedZone("CET", 3600)) // still Jan 1 in UTC

	type part struct {
		Key         string
		Status      Status
		Alerts      []string
		Common      map[string]string
		Truncated   int
		SameAsGroup bool
	}
	summarise := func(ps []Part) []part {
		var out []part
		for _, p := range ps {
			q := part{Key: p.ThreadKey, Status: p.Group.Status, Common: p.Group.CommonLabels, Truncated: p.Group.TruncatedAlerts,
				SameAsGroup: cmp.Equal(p.Group, g)}
			for _, a := range p.Group.Alerts {
				q.Alerts = append(q.Alerts, a.Labels["alertname"]+a.Labels["i"])
			}
			out = append(out, q)
		}
		return out
	}
	whole := part{Status: Firing, Alerts: []string{"A1", "B1", "A2"}, Common: map[string]string{"env": "prod"}, Truncated: 2, SameAsGroup: true}
	with := func(p part, key string) part { p.Key = key; return p }
	tests := []struct {
		p    Policy
		want []part
	}{
		{PolicyGroup, []part{with(whole, `{}:{env="prod"}`)}},
		{PolicyIncident, []part{with(whole, `{}:{env="prod"}`)}},
		{"unknown", []part{with(whole, `{}:{env="prod"}`)}},
		{PolicyNone, []part{with(whole, "")}},
		{PolicyDay, []part{with(whole, "2026-01-01")}},
		{PolicyFingerprint, []part{
			{Key: "fa1", Status: Firing, Alerts: []string{"A1"}, Common: a1.Labels},
			{Key: "fb1", Status: Firing, Alerts: []string{"B1"}, Common: b1.Labels},
			{Key: LabelsFingerprint(a2.Labels), Status: Resolved, Alerts: []string{"A2"}, Common: a2.Labels},
		}},
		{PolicyAlertName, []part{
			{Key: "A", Status: Firing, Alerts: []string{"A1", "A2"}, Common: map[string]string{"alertname": "A", "env": "prod"}},
			{Key: "B", Status: Firing, Alerts: []string{"B1"}, Common: b1.Labels},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.p), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarise(Split(g, tt.p, day))); diff != "" {
				t.Errorf("Split (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("alertname, one name", func(t *testing.T) {
		g := group(a1, a2)
		g.TruncatedAlerts = 1
		ps := Split(g, PolicyAlertName, day)
		if len(ps) != 1 || ps[0].ThreadKey != "A" || !cmp.Equal(ps[0].Group, g) {
			t.Errorf("Split = %+v, want the group unchanged under key A", ps)
		}
	})
	t.Run("no alerts", func(t *testing.T) {
		g := Group{GroupKey: "k", Status: Firing, TruncatedAlerts: 3}
		for _, p := range []Policy{PolicyFingerprint, PolicyAlertName} {
			ps := Split(g, p, day)
			if len(ps) != 1 || ps[0].ThreadKey != "k" || !cmp.Equal(ps[0].Group, g) {
				t.Errorf("%s: Split = %+v, want the group under its key", p, ps)
			}
		}
	})
	t.Run("alerts without alertname", func(t *testing.T) {
		x := firing(map[string]string{"job": "x"})
		ps := Split(group(a1, x), PolicyAlertName, day)
		if got := []string{ps[0].ThreadKey, ps[1].ThreadKey}; !slices.Equal(got, []string{"A", ""}) {
			t.Errorf("keys %q", got)
		}
	})
}

func TestStateHash(t *testing.T) {
	a := firing(map[string]string{"alertname": "A", "i": "1"})
	b := firing(map[string]string{"alertname": "A", "i": "2"})
	b.Fingerprint = "fb"
	base := group(a, b)
	h := StateHash(base)
	if len(h) != 32 {
		t.Errorf("hash %q, want 32 hex digits", h)
	}

	same := map[string]func(g *Group){
		"reordered": func(g *Group) { g.Alerts = []Alert{b, a} },
		"annotations, end times and links": func(g *Group) {
			x, y := a, b
			x.Annotations = map[string]string{"description": "now 1% free"}
			y.EndsAt, y.GeneratorURL = t0.Add(time.Hour), "https://p"
			g.Alerts = []Alert{x, y}
			g.CommonAnnotations = map[string]string{"k": "v"}
		},
		"fingerprint given as Alertmanager computes it": func(g *Group) {
			x := a
			x.Fingerprint = LabelsFingerprint(a.Labels)
			g.Alerts = []Alert{x, b}
		},
		"receiver": func(g *Group) { g.Receiver = "other" },
	}
	differ := map[string]func(g *Group){
		"alert resolves": func(g *Group) {
			x := a
			x.Status = Resolved
			g.Alerts = []Alert{x, b}
		},
		"group resolves": func(g *Group) { g.Status = Resolved },
		// b resolved and fired again while a kept the group firing: same
		// ids and statuses as before, a new start.
		"alert fires again": func(g *Group) {
			y := b
			y.StartsAt = t0.Add(time.Hour)
			g.Alerts = []Alert{a, y}
		},
		"alert added": func(g *Group) {
			g.Alerts = append(slices.Clone(g.Alerts), firing(map[string]string{"alertname": "A", "i": "3"}))
		},
		"alert gone": func(g *Group) { g.Alerts = g.Alerts[:1] },
		"label changed": func(g *Group) {
			x := a
			x.Labels = map[string]string{"alertname": "A", "i": "9"}
			g.Alerts = []Alert{x, b}
		},
		"more left out":   func(g *Group) { g.TruncatedAlerts = 1 },
		"other group":     func(g *Group) { g.GroupKey = "{}:{x}" },
		"other source":    func(g *Group) { g.Source = "grafana" },
		"duplicate alert": func(g *Group) { g.Alerts = []Alert{a, b, b} },
	}
	for name, change := range same {
		g := base
		change(&g)
		if got := StateHash(g); got != h {
			t.Errorf("%s: hash changed", name)
		}
	}
	seen := map[string]string{h: "base"}
	for name, change := range differ {
		g := base
		change(&g)
		got := StateHash(g)
		if other, dup := seen[got]; dup {
			t.Errorf("%s: same hash as %s", name, other)
		}
		seen[got] = name
	}
}

func TestLabelsFingerprint(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		// Alertmanager 0.25's fingerprints of the captured fixtures.
		{map[string]string{"alertname": "DiskFull", "cluster": "prod-eu", "instance": "db-1:9100", "mountpoint": "/var/lib/postgresql", "severity": "critical"}, "f84dd559b166cb25"},
		{map[string]string{"alertname": "HighLatency", "cluster": "prod-eu", "service": "checkout", "severity": "warning"}, "d75ba3efb1021e22"},
		{nil, "cbf29ce484222325"}, // FNV-1a's offset basis, as Prometheus gives for no labels
	}
	for _, tt := range tests {
		if got := LabelsFingerprint(tt.labels); got != tt.want {
			t.Errorf("LabelsFingerprint(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

func TestSeverity(t *testing.T) {
	sev := func(s string, st Status) Alert {
		a := firing(map[string]string{"severity": s})
		a.Status = st
		return a
	}
	tests := []struct {
		name string
		g    Group
		want string
	}{
		{"common label first", Group{CommonLabels: map[string]string{"severity": "page"}, Alerts: []Alert{sev("critical", Firing)}}, "page"},
		{"worst firing", Group{Alerts: []Alert{sev("warning", Firing), sev("critical", Firing), sev("info", Firing)}}, "critical"},
		{"resolved ones do not count", Group{Alerts: []Alert{sev("critical", Resolved), sev("warning", Firing)}}, "warning"},
		{"all resolved", Group{Alerts: []Alert{sev("info", Resolved), sev("critical", Resolved)}}, "critical"},
		{"case and unknown values", Group{Alerts: []Alert{sev("P3", Firing), sev("CRITICAL", Firing)}}, "CRITICAL"},
		{"unknown: first wins", Group{Alerts: []Alert{sev("P3", Firing), sev("P1", Firing)}}, "P3"},
		{"none", Group{Alerts: []Alert{firing(map[string]string{"alertname": "A"})}}, ""},
	}
	for _, tt := range tests {
		if got := Severity(tt.g); got != tt.want {
			t.Errorf("%s: Severity = %q, want %q", tt.name, got, tt.want)
		}
	}
}
