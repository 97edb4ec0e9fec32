package main

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// TestEscalations: gchat escalations lists the pending escalations the
// relay's store holds, soonest first, with their due and stale times.
func TestEscalations(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	ctx := t.Context()
	r := runCLI(t, ctx, rel.env(), "", "escalations")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "escalations-empty.golden", r.stdout)

	timer := func(id string, rule int, after time.Duration, text string) store.NewEscalation {
		return store.NewEscalation{ID: id, Key: "prom\x00{}:{alertname=\"DiskFull\"}", Incident: 3, Route: "prom", Rule: rule,
			Space: "alerts", ThreadKey: "prom-k", Text: text, After: after, StaleAfter: 8*time.Hour + 10*time.Minute}
	}
	if err := rel.store.ArmEscalations(ctx, []store.NewEscalation{
		timer("b", 1, time.Hour, "<users/all> still firing after 1h: DiskFull"),
		timer("a", 0, 15*time.Minute, "<users/123> still firing after 15m: DiskFull"),
	}); err != nil {
		t.Fatal(err)
	}
	rel.setClock(adminNow.Add(5 * time.Minute))
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"escalations.golden", []string{"escalations"}},
		{"escalations-json.golden", []string{"escalations", "--json"}},
		{"escalations-help.golden", []string{"escalations", "--help"}},
	} {
		r := runCLI(t, ctx, rel.env(), "", tc.args...)
		if r.code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, r.code, r.stderr)
		}
		golden(t, tc.golden, r.stdout)
		assertNoCanary(t, r)
	}
}
