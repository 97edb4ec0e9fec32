package main

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// TestDeliveryGetHistory: gchat deliveries get shows every attempt of a
// delivery, those before a replay and an ambiguous one included.
func TestDeliveryGetHistory(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	ctx := t.Context()
	start := adminNow.Add(-2 * time.Hour)
	rel.setClock(start)
	id := rel.enqueue(t, "alerts", alertsLane, "Disk full on db-1")[0]
	lease := func(owner string) store.Lease {
		t.Helper()
		l, err := rel.store.AcquireLease(ctx, store.LeaseRequest{Lane: alertsLane, Owner: owner, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rel.store.Claim(ctx, l, 1); err != nil {
			t.Fatal(err)
		}
		return l
	}
	finish := func(l store.Lease, after time.Duration, out store.Outcome) {
		t.Helper()
		rel.setClock(rel.clock().Add(after))
		if _, err := rel.store.Finish(ctx, l, id, out); err != nil {
			t.Fatal(err)
		}
	}
	r1 := lease("relay-1")
	finish(r1, time.Second, store.Outcome{State: store.StateQueued, Status: 503, Error: "503 UNAVAILABLE: The service is currently unavailable.",
		Duration: 153 * time.Millisecond})
	rel.setClock(rel.clock().Add(4 * time.Second))
	r1 = lease("relay-1")
	finish(r1, time.Second, store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT: Invalid JSON payload received.",
		Duration: 88 * time.Millisecond})
	rel.setClock(start.Add(time.Hour))
	if _, err := rel.store.Replay(ctx, id); err != nil {
		t.Fatal(err)
	}
	lease("relay-1") // and relay-1 dies while sending
	rel.setClock(rel.clock().Add(2 * time.Minute))
	r2 := lease("relay-2")
	finish(r2, time.Second, store.Outcome{State: store.StateDone, GoogleMessage: "spaces/AAAAalerts01/messages/m1.m1",
		Duration: 1210 * time.Millisecond})
	rel.setClock(adminNow)

	r := runCLI(t, ctx, rel.env(), "", "deliveries", "get", id)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", r.code, r.stderr)
	}
	assertNoCanary(t, r)
	golden(t, "deliveries-get-history.golden", requestIDs.ReplaceAllString(r.stdout, "REQUEST-ID"))
}
