package alertmanager

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/google/go-cmp/cmp"
)

// fixture returns the bytes of testdata/name.json.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// decodeFixture decodes testdata/name.json.
func decodeFixture(tb testing.TB, name string) alert.Group {
	tb.Helper()
	g, err := Decode(fixture(tb, name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return g
}

// payloads returns the names of the payload fixtures, golden files aside.
func payloads(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.json") {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
	}
	if len(names) == 0 {
		tb.Fatal("no fixtures in testdata")
	}
	return names
}

func TestDecodeFiring(t *testing.T) {
	got := decodeFixture(t, "diskfull-firing")
	started := time.Date(2026, 11, 27, 7, 18, 43, 0, time.UTC)
	gen := "http://prometheus.example.com:9090/graph?g0.expr=node_filesystem_avail_bytes"
	silence := "http://vm:19093/#/silences/new?filter=%7Balertname%3D%22DiskFull%22%2C%20cluster%3D%22prod-eu%22%2C%20instance%3D%22db-{N}%3A9100%22%2C%20mountpoint%3D%22%2Fvar%2Flib%2Fpostgresql%22%2C%20severity%3D%22critical%22%7D"
	labels := func(n string) map[string]string {
		return map[string]string{"alertname": "DiskFull", "cluster": "prod-eu", "instance": "db-" + n + ":9100", "mountpoint": "/var/lib/postgresql", "severity": "critical"}
	}
	want := alert.Group{
		Source:       "alertmanager",
		Receiver:     "gchat",
		Status:       alert.Firing,
		GroupKey:     `{}:{alertname="DiskFull", cluster="prod-eu"}`,
		GroupLabels:  map[string]string{"alertname": "DiskFull", "cluster": "prod-eu"},
		CommonLabels: map[string]string{"alertname": "DiskFull", "cluster": "prod-eu", "mountpoint": "/var/lib/postgresql", "severity": "critical"},
		ExternalURL:  "http://vm:19093",
		Alerts: []alert.Alert{{
			Status: alert.Firing,
			Labels: labels("1"),
			Annotations: map[string]string{
				"description": "Only 2% of /var/lib/postgresql is free; writes will fail within 30 minutes.",
				"runbook_url": "https://runbooks.example.com/disk-full",
				"summary":     "Disk almost full on db-1",
			},
			StartsAt:     started,
			GeneratorURL: gen,
			Fingerprint:  "f84dd559b166cb25",
			SilenceURL:   strings.Replace(silence, "{N}", "1", 1),
		}, {
			Status: alert.Firing,
			Labels: labels("2"),
			Annotations: map[string]string{
				"description": "Only 4% of /var/lib/postgresql is free.",
				"summary":     "Disk almost full on db-2",
			},
			StartsAt:     started,
			GeneratorURL: gen,
			Fingerprint:  "a815564b87afcebe",
			SilenceURL:   strings.Replace(silence, "{N}", "2", 1),
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
	for i, a := range got.Alerts {
		if !a.EndsAt.IsZero() {
			t.Errorf("alerts[%d].EndsAt = %v, want the zero time for Alertmanager's 0001-01-01", i, a.EndsAt)
		}
	}
}

func TestDecodeResolved(t *testing.T) {
	g := decodeFixture(t, "diskfull-resolved")
	if g.Status != alert.Resolved || g.Firing() != 0 {
		t.Errorf("Status %q with %d firing, want resolved with 0", g.Status, g.Firing())
	}
	ended := time.Date(2026, 11, 27, 7, 18, 47, 0, time.UTC)
	for i, a := range g.Alerts {
		if !a.EndsAt.Equal(ended) || a.EndsAt.Location() != time.UTC {
			t.Errorf("alerts[%d].EndsAt = %v, want %v", i, a.EndsAt, ended)
		}
	}
}

// mutate returns the diskfull-firing fixture changed by f, as JSON.
func mutate(tb testing.TB, f func(p map[string]any)) []byte {
	tb.Helper()
	var p map[string]any
	if err := json.Unmarshal(fixture(tb, "diskfull-firing"), &p); err != nil {
		tb.Fatal(err)
	}
	f(p)
	b, err := json.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// alertAt returns alerts[i] of a payload being mutated.
func alertAt(p map[string]any, i int) map[string]any {
	return p["alerts"].([]any)[i].(map[string]any)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte(" \n"), "payload is empty"},
		{"truncated JSON", []byte(`{"version":`), "invalid JSON at byte 11: unexpected end of JSON input"},
		{"bad JSON", []byte(`{"version": "4",}`), "invalid JSON at byte 17: invalid character '}' looking for beginning of object key string"},
		{"not an object", []byte(`[{"version": "4"}]`), "payload: want an object, got array"},
		{"no version", []byte(`{}`), "version: missing"},
		{"old version", mutate(t, func(p map[string]any) { p["version"] = "3" }), `version: "3" is not supported (want "4")`},
		{"version number", mutate(t, func(p map[string]any) { p["version"] = 4 }), "version: want a string, got number"},
		{"no group key", mutate(t, func(p map[string]any) { delete(p, "groupKey") }), "groupKey: missing"},
		{"bad status", mutate(t, func(p map[string]any) { p["status"] = "fring" }), `status: "fring" is not firing or resolved`},
		{"no status", mutate(t, func(p map[string]any) { p["status"] = "" }), "status: missing"},
		{"long status", mutate(t, func(p map[string]any) { p["status"] = strings.Repeat("x", 1000) }),
			`status: "` + strings.Repeat("x", 64) + `"… is not firing or resolved`},
		{"negative truncated", mutate(t, func(p map[string]any) { p["truncatedAlerts"] = -1 }), "truncatedAlerts: -1 is out of range"},
		{"fractional truncated", mutate(t, func(p map[string]any) { p["truncatedAlerts"] = 1.5 }), "truncatedAlerts: want an integer, got number 1.5"},
		{"group labels array", mutate(t, func(p map[string]any) { p["groupLabels"] = []any{} }), "groupLabels: want an object, got array"},
		{"common label number", mutate(t, func(p map[string]any) { p["commonLabels"].(map[string]any)["cluster"] = 3 }), "commonLabels.cluster: want a string, got number"},
		{"no alerts", mutate(t, func(p map[string]any) { delete(p, "alerts") }), "alerts: missing or empty"},
		{"empty alerts", mutate(t, func(p map[string]any) { p["alerts"] = []any{} }), "alerts: missing or empty"},
		{"alerts object", mutate(t, func(p map[string]any) { p["alerts"] = map[string]any{} }), "alerts: want an array, got object"},
		{"alert number", mutate(t, func(p map[string]any) { p["alerts"].([]any)[1] = 7 }), "alerts[1]: want an object, got number"},
		{"alert null", mutate(t, func(p map[string]any) { p["alerts"].([]any)[1] = nil }), "alerts[1].status: missing"},
		{"alert status", mutate(t, func(p map[string]any) { alertAt(p, 1)["status"] = "fring" }), `alerts[1].status: "fring" is not firing or resolved`},
		{"alert status type", mutate(t, func(p map[string]any) { alertAt(p, 0)["status"] = true }), "alerts[0].status: want a string, got bool"},
		{"label number", mutate(t, func(p map[string]any) { alertAt(p, 0)["labels"].(map[string]any)["severity"] = 2 }), "alerts[0].labels.severity: want a string, got number"},
		{"odd label name", mutate(t, func(p map[string]any) { alertAt(p, 0)["labels"].(map[string]any)["a b"] = false }), `alerts[0].labels["a b"]: want a string, got bool`},
		{"annotation object", mutate(t, func(p map[string]any) { alertAt(p, 1)["annotations"].(map[string]any)["summary"] = map[string]any{} }), "alerts[1].annotations.summary: want a string, got object"},
		{"bad startsAt", mutate(t, func(p map[string]any) { alertAt(p, 0)["startsAt"] = "yesterday" }), `alerts[0].startsAt: "yesterday" is not an RFC 3339 time`},
		{"bad endsAt", mutate(t, func(p map[string]any) { alertAt(p, 1)["endsAt"] = "2026-11-27 07:18:43" }), `alerts[1].endsAt: "2026-11-27 07:18:43" is not an RFC 3339 time`},
		{"fingerprint number", mutate(t, func(p map[string]any) { alertAt(p, 0)["fingerprint"] = 12 }), "alerts[0].fingerprint: want a string, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data)
			if err == nil {
				t.Fatalf("Decode(%s) succeeded, want error %q", tt.data, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		check func(t *testing.T, g alert.Group)
	}{
		{"unknown fields", mutate(t, func(p map[string]any) {
			p["futureField"] = map[string]any{"x": []any{1, 2}}
			alertAt(p, 0)["values"] = map[string]any{"A": 3}
		}), func(t *testing.T, g alert.Group) {
			if len(g.Alerts) != 2 {
				t.Errorf("%d alerts, want 2", len(g.Alerts))
			}
		}},
		{"fractional seconds and offset", mutate(t, func(p map[string]any) {
			alertAt(p, 0)["startsAt"] = "2026-11-27T08:18:43.123456789+01:00"
		}), func(t *testing.T, g alert.Group) {
			want := time.Date(2026, 11, 27, 7, 18, 43, 123456789, time.UTC)
			if got := g.Alerts[0].StartsAt; !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("StartsAt = %v, want %v", got, want)
			}
		}},
		{"null maps and values", mutate(t, func(p map[string]any) {
			p["commonAnnotations"] = nil
			alertAt(p, 0)["annotations"] = nil
			alertAt(p, 1)["labels"].(map[string]any)["instance"] = nil
		}), func(t *testing.T, g alert.Group) {
			if g.Alerts[0].Annotations != nil || g.CommonAnnotations != nil {
				t.Errorf("annotations %v, %v; want nil", g.Alerts[0].Annotations, g.CommonAnnotations)
			}
			if v, ok := g.Alerts[1].Labels["instance"]; !ok || v != "" {
				t.Errorf(`labels["instance"] = %q, %v; want "", true`, v, ok)
			}
		}},
		{"no fingerprint, no times", mutate(t, func(p map[string]any) {
			delete(alertAt(p, 0), "fingerprint")
			delete(alertAt(p, 0), "startsAt")
			alertAt(p, 0)["endsAt"] = ""
			alertAt(p, 1)["startsAt"] = "0001-01-01T00:00:00Z"
		}), func(t *testing.T, g alert.Group) {
			a := g.Alerts[0]
			if a.Fingerprint != "" || !a.StartsAt.IsZero() || !a.EndsAt.IsZero() || !g.Alerts[1].StartsAt.IsZero() {
				t.Errorf("Fingerprint %q, times %v, %v, %v; want empty", a.Fingerprint, a.StartsAt, a.EndsAt, g.Alerts[1].StartsAt)
			}
			if got, want := a.ID(), "f84dd559b166cb25"; got != want {
				t.Errorf("ID() = %q, want Alertmanager's fingerprint %q", got, want)
			}
		}},
		// Alertmanager computes the group's status and each alert's at
		// slightly different instants: the decoded status follows the alerts.
		{"said firing, all resolved", mutate(t, func(p map[string]any) {
			alertAt(p, 0)["status"] = "resolved"
			alertAt(p, 1)["status"] = "resolved"
		}), func(t *testing.T, g alert.Group) {
			if g.Status != alert.Resolved {
				t.Errorf("Status %q, want resolved", g.Status)
			}
		}},
		{"said resolved, one firing", mutate(t, func(p map[string]any) {
			p["status"] = "resolved"
			alertAt(p, 0)["status"] = "resolved"
		}), func(t *testing.T, g alert.Group) {
			if g.Status != alert.Firing {
				t.Errorf("Status %q, want firing", g.Status)
			}
		}},
		{"said firing, shown resolved, some left out", mutate(t, func(p map[string]any) {
			alertAt(p, 0)["status"] = "resolved"
			alertAt(p, 1)["status"] = "resolved"
			p["truncatedAlerts"] = 3
		}), func(t *testing.T, g alert.Group) {
			if g.Status != alert.Firing || g.TruncatedAlerts != 3 {
				t.Errorf("Status %q, TruncatedAlerts %d; want firing, 3", g.Status, g.TruncatedAlerts)
			}
		}},
		{"external URL not http", mutate(t, func(p map[string]any) { p["externalURL"] = "vm:19093" }), func(t *testing.T, g alert.Group) {
			if u := g.Alerts[0].SilenceURL; u != "" {
				t.Errorf("SilenceURL %q, want none", u)
			}
		}},
		{"external URL with path and slash", mutate(t, func(p map[string]any) { p["externalURL"] = "https://example.com/am/" }), func(t *testing.T, g alert.Group) {
			if u := g.Alerts[0].SilenceURL; !strings.HasPrefix(u, "https://example.com/am/#/silences/new?filter=%7B") {
				t.Errorf("SilenceURL %q", u)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Decode(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, g)
			if err := checkGroup(g); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestDecodeManyAlerts(t *testing.T) {
	const n = maxAlerts + 25
	data := mutate(t, func(p map[string]any) {
		first := alertAt(p, 0)
		alerts := make([]any, n)
		for i := range alerts {
			a := make(map[string]any)
			for k, v := range first {
				a[k] = v
			}
			a["fingerprint"] = fmt.Sprintf("%016x", i)
			alerts[i] = a
		}
		p["alerts"] = alerts
		p["truncatedAlerts"] = 5
	})
	g, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Alerts) != maxAlerts || g.TruncatedAlerts != 5+25 {
		t.Errorf("%d alerts and %d left out, want %d and %d", len(g.Alerts), g.TruncatedAlerts, maxAlerts, 30)
	}
	if got := g.Alerts[maxAlerts-1].Fingerprint; got != fmt.Sprintf("%016x", maxAlerts-1) {
		t.Errorf("last alert kept is %s, want the first %d in order", got, maxAlerts)
	}
}

func TestSilenceURL(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string // the decoded filter
	}{
		{map[string]string{"alertname": "A", "job": "node"}, `{alertname="A", job="node"}`},
		{map[string]string{"q": `say "hi"\now`, "x": "a\nb"}, `{q="say \"hi\"\\now", x="a\nb"}`},
		{map[string]string{"a&b": "1+1=2 #"}, `{"a&b"="1+1=2 #"}`},
	}
	for _, tt := range tests {
		got := silenceURL("http://am:9093/", tt.labels)
		filter, ok := strings.CutPrefix(got, "http://am:9093/#/silences/new?filter=")
		if !ok {
			t.Errorf("silenceURL(%v) = %q, want the new-silence page", tt.labels, got)
			continue
		}
		if strings.ContainsAny(filter, "+ &#\"") {
			t.Errorf("filter %q is not fully percent-encoded", filter)
		}
		dec, err := url.PathUnescape(filter)
		if err != nil || dec != tt.want {
			t.Errorf("filter of %v decodes to %q (%v), want %q", tt.labels, dec, err, tt.want)
		}
	}
	for _, base := range []string{"", "/relative", "ftp://am", "http://", "javascript:alert(1)"} {
		if got := silenceURL(base, map[string]string{"a": "b"}); got != "" {
			t.Errorf("silenceURL(%q) = %q, want none", base, got)
		}
	}
	if got := silenceURL("http://am", nil); got != "" {
		t.Errorf("silenceURL without labels = %q, want none", got)
	}
}
