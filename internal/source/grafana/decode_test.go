package grafana

import (
	"encoding/json"
	"fmt"
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

// payloads returns the names of the payload fixtures.
func payloads(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	if len(names) == 0 {
		tb.Fatal("no fixtures in testdata")
	}
	return names
}

// fixtureGroup is what firing.json decodes to, with the statuses and end
// times given; resolved.json differs only in those and the values.
func fixtureGroup(status alert.Status, ends [2]time.Time, values [2]string, title, message string) alert.Group {
	labels := func(n string) map[string]string {
		return map[string]string{"alertname": "DiskAlmostFull", "grafana_folder": "Storage", "instance": "db-" + n + ":9100", "mountpoint": "/var/lib/postgresql", "severity": "critical"}
	}
	annotations := func(n, pct string) map[string]string {
		return map[string]string{
			"description": "Only " + pct + "% of /var/lib/postgresql is free on db-" + n + ":9100.",
			"runbook_url": "https://runbooks.example.com/disk-almost-full",
			"summary":     "Disk almost full on db-" + n,
		}
	}
	silence := func(n string) string {
		return "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DDiskAlmostFull&matcher=instance%3Ddb-" + n + "%3A9100&orgId=1"
	}
	gen := "https://grafana.example.com/alerting/grafana/ddlx2v9/view?orgId=1"
	return alert.Group{
		Source:            "grafana",
		Receiver:          "gchat-ops",
		Status:            status,
		GroupKey:          `{}/{__grafana_receiver__="gchat-ops"}:{alertname="DiskAlmostFull", grafana_folder="Storage"}`,
		GroupLabels:       map[string]string{"alertname": "DiskAlmostFull", "grafana_folder": "Storage"},
		CommonLabels:      map[string]string{"alertname": "DiskAlmostFull", "grafana_folder": "Storage", "mountpoint": "/var/lib/postgresql", "severity": "critical"},
		CommonAnnotations: map[string]string{"runbook_url": "https://runbooks.example.com/disk-almost-full"},
		ExternalURL:       "https://grafana.example.com/",
		Title:             title,
		Message:           message,
		Alerts: []alert.Alert{{
			Status:       status,
			Labels:       labels("1"),
			Annotations:  annotations("1", "4.1"),
			StartsAt:     time.Date(2024, 5, 14, 7, 51, 3, 157076000, time.UTC),
			EndsAt:       ends[0],
			GeneratorURL: gen,
			Fingerprint:  "a3c9f2b1d04e7c55",
			SilenceURL:   silence("1"),
			DashboardURL: "https://grafana.example.com/d/node-disk?orgId=1",
			PanelURL:     "https://grafana.example.com/d/node-disk?orgId=1&viewPanel=4",
			ValueString:  values[0],
		}, {
			Status:       status,
			Labels:       labels("2"),
			Annotations:  annotations("2", "7.9"),
			StartsAt:     time.Date(2024, 5, 14, 7, 56, 3, 157076000, time.UTC),
			EndsAt:       ends[1],
			GeneratorURL: gen,
			Fingerprint:  "5e0b7d3c9a1f2468",
			SilenceURL:   silence("2"),
			ValueString:  values[1],
		}},
	}
}

func TestDecodeFixtures(t *testing.T) {
	var raw struct{ Message string }
	for _, tc := range []struct {
		name string
		want func(message string) alert.Group
	}{
		{"firing", func(m string) alert.Group {
			return fixtureGroup(alert.Firing, [2]time.Time{}, [2]string{
				// Grafana's own valueString is kept as sent.
				"[ var='B' labels={instance=db-1:9100, mountpoint=/var/lib/postgresql} value=4.1277519035339355 ], [ var='C' labels={instance=db-1:9100, mountpoint=/var/lib/postgresql} value=1 ]",
				// Made from values, refIds sorted, numbers as written.
				"B=7.912, C=1",
			}, "[FIRING:2] DiskAlmostFull Storage (/var/lib/postgresql critical)", m)
		}},
		{"resolved", func(m string) alert.Group {
			return fixtureGroup(alert.Resolved, [2]time.Time{
				time.Date(2024, 5, 14, 8, 31, 3, 157076000, time.UTC),
				time.Date(2024, 5, 14, 8, 26, 3, 157076000, time.UTC),
			}, [2]string{
				"[ var='B' labels={instance=db-1:9100, mountpoint=/var/lib/postgresql} value=23.5 ], [ var='C' labels={instance=db-1:9100, mountpoint=/var/lib/postgresql} value=0 ]",
				"B=31.25, C=0",
			}, "[RESOLVED] DiskAlmostFull Storage (/var/lib/postgresql critical)", m)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := fixture(t, tc.name)
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want(raw.Message), got); diff != "" {
				t.Errorf("Decode(%s.json) mismatch (-want +got):\n%s", tc.name, diff)
			}
			if !strings.HasPrefix(got.Message, "**") {
				t.Errorf("Message = %.20q…, want Grafana's message as sent", got.Message)
			}
		})
	}
}

// edited builds a payload from firing.json with edit applied to its
// decoded JSON.
func edited(t *testing.T, edit func(p map[string]any)) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(fixture(t, "firing"), &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func alerts(p map[string]any) []any          { return p["alerts"].([]any) }
func alert0(p map[string]any) map[string]any { return alerts(p)[0].(map[string]any) }

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte("  \n"), "payload is empty"},
		{"syntax", []byte(`{"version":"1",}`), "invalid JSON at byte 16: "},
		{"truncated", []byte(`{"version":"1","alerts":[`), "invalid JSON at byte 25: unexpected end of JSON input"},
		{"not an object", []byte(`[1,2]`), "payload: want an object, got array"},
		{"trailing data", []byte(`{"version":"1"} {}`), "invalid JSON at byte 17: "},
		{"no version", edited(t, func(p map[string]any) { delete(p, "version") }), "version: missing"},
		{"alertmanager version", edited(t, func(p map[string]any) { p["version"] = "4" }), `version: "4" is Alertmanager's payload, not Grafana's (want "1"); send it to the alertmanager source`},
		{"other version", edited(t, func(p map[string]any) { p["version"] = "2" }), `version: "2" is not supported (want "1")`},
		{"version type", edited(t, func(p map[string]any) { p["version"] = 1 }), "version: want a string, got number"},
		{"no groupKey", edited(t, func(p map[string]any) { p["groupKey"] = "" }), "groupKey: missing"},
		{"negative truncatedAlerts", edited(t, func(p map[string]any) { p["truncatedAlerts"] = -1 }), "truncatedAlerts: -1 is out of range"},
		{"fractional truncatedAlerts", edited(t, func(p map[string]any) { p["truncatedAlerts"] = 1.5 }), "truncatedAlerts: want an integer, got number 1.5"},
		{"no alerts", edited(t, func(p map[string]any) { p["alerts"] = []any{} }), "alerts: missing or empty"},
		{"null alerts", edited(t, func(p map[string]any) { p["alerts"] = nil }), "alerts: missing or empty"},
		{"no status", edited(t, func(p map[string]any) { delete(p, "status") }), "status: missing"},
		{"bad status", edited(t, func(p map[string]any) { p["status"] = "alerting" }), `status: "alerting" is not firing or resolved`},
		{"label not a string", edited(t, func(p map[string]any) { p["commonLabels"].(map[string]any)["severity"] = 2 }), "commonLabels.severity: want a string, got number"},
		{"odd label name", edited(t, func(p map[string]any) { p["groupLabels"].(map[string]any)["a b"] = true }), `groupLabels["a b"]: want a string, got bool`},
		{"alert status", edited(t, func(p map[string]any) { alert0(p)["status"] = "x" }), `alerts[0].status: "x" is not firing or resolved`},
		{"alert not an object", edited(t, func(p map[string]any) { alerts(p)[1] = "x" }), "alerts[1]: want an object, got string"},
		{"alert label", edited(t, func(p map[string]any) { alert0(p)["labels"].(map[string]any)["zone"] = []any{} }), "alerts[0].labels.zone: want a string, got array"},
		{"alert annotation", edited(t, func(p map[string]any) { alert0(p)["annotations"] = "x" }), "alerts[0].annotations: want an object, got string"},
		{"no startsAt", edited(t, func(p map[string]any) { delete(alert0(p), "startsAt") }), "alerts[0].startsAt: missing"},
		{"bad startsAt", edited(t, func(p map[string]any) { alert0(p)["startsAt"] = "yesterday" }), `alerts[0].startsAt: "yesterday" is not an RFC 3339 time`},
		{"bad endsAt", edited(t, func(p map[string]any) { alerts(p)[1].(map[string]any)["endsAt"] = "2024-05-14 10:00" }), `alerts[1].endsAt: "2024-05-14 10:00" is not an RFC 3339 time`},
		{"value not a number", edited(t, func(p map[string]any) {
			a := alerts(p)[1].(map[string]any)
			a["values"].(map[string]any)["B"] = true
		}), "alerts[1].values.B: want a number, got bool"},
		{"long value quoted short", edited(t, func(p map[string]any) { p["status"] = strings.Repeat("é", 100) }), `status: "` + strings.Repeat("é", 32) + `"… is not firing or resolved`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.data)
			if err == nil {
				t.Fatalf("Decode succeeded, want error %q", tc.want)
			}
			if got := err.Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("error = %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(p map[string]any)
		check func(t *testing.T, g alert.Group)
	}{
		{"unknown fields", func(p map[string]any) {
			p["futureField"] = map[string]any{"x": 1}
			alert0(p)["futureAlertField"] = []any{1, "two"}
		}, func(t *testing.T, g alert.Group) {
			if len(g.Alerts) != 2 {
				t.Errorf("%d alerts, want 2", len(g.Alerts))
			}
		}},
		{"null maps and strings", func(p map[string]any) {
			p["groupLabels"] = nil
			p["title"] = nil
			alert0(p)["annotations"] = nil
			alert0(p)["labels"].(map[string]any)["zone"] = nil
		}, func(t *testing.T, g alert.Group) {
			if g.GroupLabels != nil || g.Title != "" || g.Alerts[0].Annotations != nil {
				t.Errorf("got %v, %q, %v; want nil, \"\", nil", g.GroupLabels, g.Title, g.Alerts[0].Annotations)
			}
			if v, ok := g.Alerts[0].Labels["zone"]; !ok || v != "" {
				t.Errorf(`labels["zone"] = %q, %v; want "", true`, v, ok)
			}
		}},
		{"null value is Grafana's NaN", func(p map[string]any) {
			a := alerts(p)[1].(map[string]any)
			a["values"] = map[string]any{"B": nil, "A": 1e-7}
		}, func(t *testing.T, g alert.Group) {
			if got, want := g.Alerts[1].ValueString, "A=1e-7, B=null"; got != want {
				t.Errorf("ValueString = %q, want %q", got, want)
			}
		}},
		{"no values", func(p map[string]any) {
			delete(alerts(p)[1].(map[string]any), "values")
		}, func(t *testing.T, g alert.Group) {
			if got := g.Alerts[1].ValueString; got != "" {
				t.Errorf("ValueString = %q, want \"\"", got)
			}
		}},
		{"firing group with only resolved alerts is resolved", func(p map[string]any) {
			for _, a := range alerts(p) {
				a.(map[string]any)["status"] = "resolved"
			}
		}, func(t *testing.T, g alert.Group) {
			if g.Status != alert.Resolved {
				t.Errorf("Status = %q, want resolved", g.Status)
			}
		}},
		{"firing group with alerts left out stays firing", func(p map[string]any) {
			for _, a := range alerts(p) {
				a.(map[string]any)["status"] = "resolved"
			}
			p["truncatedAlerts"] = 3
		}, func(t *testing.T, g alert.Group) {
			if g.Status != alert.Firing || g.TruncatedAlerts != 3 {
				t.Errorf("Status = %q, TruncatedAlerts = %d; want firing, 3", g.Status, g.TruncatedAlerts)
			}
		}},
		{"resolved group with a firing alert is firing", func(p map[string]any) {
			p["status"] = "resolved"
		}, func(t *testing.T, g alert.Group) {
			if g.Status != alert.Firing {
				t.Errorf("Status = %q, want firing", g.Status)
			}
		}},
		{"missing endsAt is zero", func(p map[string]any) {
			delete(alert0(p), "endsAt")
		}, func(t *testing.T, g alert.Group) {
			if !g.Alerts[0].EndsAt.IsZero() {
				t.Errorf("EndsAt = %v, want zero", g.Alerts[0].EndsAt)
			}
		}},
		{"alerts past the cap are counted", func(p map[string]any) {
			one := alert0(p)
			many := make([]any, maxAlerts+5)
			for i := range many {
				many[i] = one
			}
			p["alerts"] = many
			p["truncatedAlerts"] = 2
		}, func(t *testing.T, g alert.Group) {
			if len(g.Alerts) != maxAlerts || g.TruncatedAlerts != 7 {
				t.Errorf("%d alerts, TruncatedAlerts %d; want %d, 7", len(g.Alerts), g.TruncatedAlerts, maxAlerts)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Decode(edited(t, tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, g)
			if err := checkGroup(g); err != nil {
				t.Error(err)
			}
		})
	}
}

func ExampleDecode() {
	g, err := Decode([]byte(`{
		"receiver": "ops", "status": "firing", "version": "1", "groupKey": "{}:{alertname=\"Down\"}",
		"alerts": [{"status": "firing", "labels": {"alertname": "Down"},
		            "startsAt": "2024-05-14T09:51:03+02:00", "values": {"B": 0}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	a := g.Alerts[0]
	fmt.Println(g.Source, g.Status, a.Name(), a.StartsAt, a.ValueString)
	// Output: grafana firing Down 2024-05-14 07:51:03 +0000 UTC B=0
}
