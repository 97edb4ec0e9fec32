package alertmanager

import (
	"slices"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/google/go-cmp/cmp"
)

// part is what a test compares of an alert.Part.
type part struct {
	Key          string
	Status       alert.Status
	Fingerprints []string
}

func parts(ps []alert.Part) []part {
	out := make([]part, len(ps))
	for i, p := range ps {
		out[i] = part{Key: p.ThreadKey, Status: p.Group.Status}
		for _, a := range p.Group.Alerts {
			out[i].Fingerprints = append(out[i].Fingerprints, a.Fingerprint)
		}
	}
	return out
}

func TestSplitFixture(t *testing.T) {
	g := decodeFixture(t, "diskfull-firing")
	key := `{}:{alertname="DiskFull", cluster="prod-eu"}`
	both := []string{"f84dd559b166cb25", "a815564b87afcebe"}
	// Late in the day in UTC, early the next day east of it.
	day := time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC).In(time.FixedZone("UTC+2", 2*3600))
	tests := []struct {
		policy alert.Policy
		want   []part
	}{
		{alert.PolicyGroup, []part{{key, alert.Firing, both}}},
		{alert.PolicyIncident, []part{{key, alert.Firing, both}}},
		{alert.PolicyAlertName, []part{{"DiskFull", alert.Firing, both}}},
		{alert.PolicyDay, []part{{"2026-11-27", alert.Firing, both}}},
		{alert.PolicyNone, []part{{"", alert.Firing, both}}},
		{alert.PolicyFingerprint, []part{
			{"f84dd559b166cb25", alert.Firing, both[:1]},
			{"a815564b87afcebe", alert.Firing, both[1:]},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			got := alert.Split(g, tt.policy, day)
			if diff := cmp.Diff(tt.want, parts(got)); diff != "" {
				t.Errorf("Split (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSplitFiringResolvedSameThread checks that a group's resolved
// notification goes to the thread of its firing one under every policy that
// threads by what the alerts are.
func TestSplitFiringResolvedSameThread(t *testing.T) {
	firing, resolved := decodeFixture(t, "diskfull-firing"), decodeFixture(t, "diskfull-resolved")
	later := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC) // the next day: keys must not depend on it
	now := time.Date(2026, 11, 27, 7, 19, 0, 0, time.UTC)
	keys := func(ps []alert.Part) []string {
		var ks []string
		for _, p := range ps {
			ks = append(ks, p.ThreadKey)
		}
		return ks
	}
	for _, p := range []alert.Policy{alert.PolicyGroup, alert.PolicyFingerprint, alert.PolicyAlertName, alert.PolicyIncident} {
		f, r := alert.Split(firing, p, now), alert.Split(resolved, p, later)
		if !slices.Equal(keys(f), keys(r)) {
			t.Errorf("%s: firing keys %q, resolved keys %q", p, keys(f), keys(r))
		}
		for _, part := range r {
			if part.Group.Status != alert.Resolved {
				t.Errorf("%s: resolved part %q has status %q", p, part.ThreadKey, part.Group.Status)
			}
		}
	}
}

func TestStateHashFixtures(t *testing.T) {
	firing := decodeFixture(t, "diskfull-firing")
	resolved := decodeFixture(t, "diskfull-resolved")
	other := decodeFixture(t, "highlatency-firing")

	// A repeat: Alertmanager resends the group unchanged but for annotations
	// and order.
	repeat := decodeFixture(t, "diskfull-firing")
	slices.Reverse(repeat.Alerts)
	repeat.Alerts[0].Annotations = map[string]string{"summary": "Disk almost full on db-2 (1% free)"}

	// One of the two alerts resolves.
	half := decodeFixture(t, "diskfull-firing")
	half.Alerts[1].Status = alert.Resolved

	h := alert.StateHash(firing)
	if got := alert.StateHash(repeat); got != h {
		t.Errorf("repeat of an unchanged group: hash %s, want %s", got, h)
	}
	for name, g := range map[string]alert.Group{"resolved": resolved, "one resolved": half, "other group": other} {
		if got := alert.StateHash(g); got == h {
			t.Errorf("%s: hash %s equals the firing group's", name, got)
		}
	}
}
