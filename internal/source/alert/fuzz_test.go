package alert

import (
	"fmt"
	"testing"
)

// FuzzBuild checks that Build makes a valid message (see mustValid) of groups
// whose strings the fuzzer picks. FuzzDecode in source/alertmanager covers
// whole payloads; this one reaches odd strings faster.
func FuzzBuild(f *testing.F) {
	f.Add("alertname", "DiskFull", "Disk almost full on db-1", "Only 2% free.\nSoon 0%.", "https://runbooks.example.com/x", uint8(2), int8(0), false)
	f.Add("team", "_a_ *b* `c` <x> &", "<users/all>", "&amp; <b>", "http://", uint8(12), int8(3), true)
	f.Add("", " ", "\xff", "\u200b", "javascript:alert(1)", uint8(0), int8(-1), true)
	f.Fuzz(func(t *testing.T, name, value, summary, description, link string, n uint8, maxAlerts int8, resolved bool) {
		var as []Alert
		for i := range int(n % 40) {
			a := firing(map[string]string{"alertname": value, name: value + fmt.Sprint(i%3)})
			a.Annotations = map[string]string{"summary": summary, "description": description, "runbook_url": link, name: value}
			a.GeneratorURL, a.SilenceURL, a.DashboardURL, a.PanelURL = link, link, link, link
			a.ValueString = description
			if resolved && i%2 == 0 {
				a.Status, a.EndsAt = Resolved, a.StartsAt.Add(61e9)
			}
			as = append(as, a)
		}
		g := group(as...)
		g.GroupLabels = map[string]string{name: value, "alertname": summary}
		mustValid(t, Build(g, Options{MaxAlerts: int(maxAlerts)}))
	})
}
