package grafana

import (
	"errors"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat/internal/source/alert"
)

// checkGroup returns an error when a decoded group breaks an invariant of
// Decode.
func checkGroup(g alert.Group) error {
	status := func(s alert.Status) bool { return s == alert.Firing || s == alert.Resolved }
	switch {
	case g.Source != Source:
		return fmt.Errorf("Source %q", g.Source)
	case g.GroupKey == "":
		return errors.New("no GroupKey")
	case !status(g.Status):
		return fmt.Errorf("Status %q", g.Status)
	case len(g.Alerts) == 0 || len(g.Alerts) > maxAlerts:
		return fmt.Errorf("%d alerts", len(g.Alerts))
	case g.TruncatedAlerts < 0:
		return fmt.Errorf("TruncatedAlerts %d", g.TruncatedAlerts)
	case g.Firing() > 0 && g.Status != alert.Firing:
		return fmt.Errorf("Status %q with %d alerts firing", g.Status, g.Firing())
	case g.Status == alert.Firing && g.Firing() == 0 && g.TruncatedAlerts == 0:
		return errors.New("Status firing with no alert firing and none left out")
	}
	for i, a := range g.Alerts {
		switch {
		case !status(a.Status):
			return fmt.Errorf("alerts[%d].Status %q", i, a.Status)
		case a.StartsAt.IsZero():
			return fmt.Errorf("alerts[%d].StartsAt is zero", i)
		case a.StartsAt.Location() != time.UTC || !a.EndsAt.IsZero() && a.EndsAt.Location() != time.UTC:
			return fmt.Errorf("alerts[%d]: times %v, %v not in UTC", i, a.StartsAt, a.EndsAt)
		}
		for k, v := range a.Labels {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return fmt.Errorf("alerts[%d]: label %q=%q is not UTF-8", i, k, v)
			}
		}
	}
	return nil
}

// FuzzDecode checks that Decode never panics, that its errors say something,
// and that what it decodes keeps Decode's invariants. Seeds are the fixtures
// and a few hand-made edges.
func FuzzDecode(f *testing.F) {
	for _, name := range payloads(f) {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"version":"1","groupKey":"k","status":"firing","alerts":[{"status":"firing","startsAt":"2024-01-01T00:00:00Z","values":{"B":null,"A":1e400}}]}`))
	f.Add([]byte(`{"version":"1","groupKey":"k","status":"resolved","truncatedAlerts":3,"alerts":[null]}`))
	f.Add([]byte(`{"version":"4"}`))
	f.Add([]byte(`[`))

	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Decode(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error for %q", data)
			}
			return
		}
		if err := checkGroup(g); err != nil {
			t.Fatalf("%v\npayload: %s", err, data)
		}
	})
}
