package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// escalationTests check store.Escalations.
var escalationTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"EscalationFiresOnce", testEscalationFiresOnce},
	{"EscalationCancelledByResolve", testEscalationCancelledByResolve},
	{"EscalationQueuedReplyDropped", testEscalationQueuedReplyDropped},
	{"EscalationStale", testEscalationStale},
	{"EscalationSurvivesRestart", testEscalationSurvivesRestart},
	{"EscalationOneOfThreeFires", testEscalationOneOfThree},
	{"KeysWithAnyBytes", testKeysWithAnyBytes},
}

// testKeysWithAnyBytes: incident and escalation keys are any strings; the
// relay's hold NUL bytes (route NUL group key) and group keys may hold
// backslashes.
func testKeysWithAnyBytes(t *testing.T, h *harness) {
	keys := []string{"prom\x00{}:{a=\"b\"}", "prom\\0{}:{a=\"b\"}", "prom\x01echo\x00ab", `prom\\0`}
	for _, k := range keys {
		for i, firing := range []bool{true, false, true} {
			n, err := h.s.Incident(t.Context(), k, firing)
			if err != nil {
				t.Fatalf("Incident(%q): %v", k, err)
			}
			if want := int64(1 + i/2); n != want {
				t.Fatalf("Incident(%q) #%d: got %d, want %d", k, i, n, want)
			}
		}
	}
	for i, k := range keys {
		h.arm(timer(string(rune('a'+i)), k, 1, time.Minute))
	}
	es, err := h.s.PendingEscalations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if e.Key != keys[i] {
			t.Errorf("escalation %s: key %q, want %q", e.ID, e.Key, keys[i])
		}
	}
	if n, err := h.s.CancelEscalations(t.Context(), keys[1]); err != nil || n != 1 {
		t.Fatalf("CancelEscalations(%q): %d, %v; want 1", keys[1], n, err)
	}
	h.wantIDs("pending", h.pendingEscalations(), []string{"a", "c", "d"})
}

func timer(id, key string, incident int64, after time.Duration) store.NewEscalation {
	return store.NewEscalation{ID: id, Key: key, Incident: incident, Route: "prom", Space: "ops",
		ThreadKey: "prom-thread", Text: "<users/all> still firing", After: after, StaleAfter: time.Hour}
}

func (h *harness) arm(timers ...store.NewEscalation) {
	h.t.Helper()
	if err := h.s.ArmEscalations(h.t.Context(), timers); err != nil {
		h.t.Fatalf("ArmEscalations: %v", err)
	}
}

func (h *harness) claimEscalations() []string {
	h.t.Helper()
	es, err := h.s.ClaimEscalations(h.t.Context(), 10)
	if err != nil {
		h.t.Fatalf("ClaimEscalations: %v", err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func (h *harness) pendingEscalations() []string {
	h.t.Helper()
	es, err := h.s.PendingEscalations(h.t.Context())
	if err != nil {
		h.t.Fatalf("PendingEscalations: %v", err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func (h *harness) wantIDs(what string, got, want []string) {
	h.t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

func testEscalationFiresOnce(t *testing.T, h *harness) {
	h.arm(timer("e15", "g", 1, 15*time.Minute), timer("e60", "g", 1, time.Hour))
	h.wantIDs("pending", h.pendingEscalations(), []string{"e15", "e60"})
	h.clock.Advance(14 * time.Minute)
	// A repeated firing keeps the due time of the first.
	h.arm(timer("e15", "g", 1, 15*time.Minute))
	h.wantIDs("claim before due", h.claimEscalations(), nil)
	h.clock.Advance(time.Minute)
	es, err := h.s.ClaimEscalations(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != "e15" || !es[0].Fired || es[0].Text != "<users/all> still firing" ||
		!es[0].Due.Equal(start.Add(15*time.Minute)) {
		t.Fatalf("claim when due: got %+v", es)
	}
	h.wantIDs("claim again", h.claimEscalations(), nil)
	h.arm(timer("e15", "g", 1, 15*time.Minute), timer("e60", "g", 1, time.Hour))
	h.clock.Advance(45 * time.Minute)
	h.wantIDs("claim after re-arming", h.claimEscalations(), []string{"e60"})
	h.wantIDs("pending", h.pendingEscalations(), nil)
}

func testEscalationCancelledByResolve(t *testing.T, h *harness) {
	h.arm(timer("a", "g", 1, time.Minute), timer("b", "other", 1, time.Minute))
	n, err := h.s.CancelEscalations(t.Context(), "g")
	if err != nil || n != 1 {
		t.Fatalf("CancelEscalations: got %d, %v; want 1", n, err)
	}
	h.clock.Advance(time.Hour)
	h.wantIDs("claim", h.claimEscalations(), []string{"b"})
	// A new incident of the key arms afresh.
	h.arm(timer("a2", "g", 2, time.Minute))
	h.clock.Advance(time.Minute)
	h.wantIDs("claim of the next incident", h.claimEscalations(), []string{"a2"})
}

func testEscalationQueuedReplyDropped(t *testing.T, h *harness) {
	h.arm(timer("a", "g", 1, time.Minute), timer("b", "g2", 1, time.Minute))
	h.clock.Advance(time.Minute)
	h.wantIDs("claim", h.claimEscalations(), []string{"a", "b"})
	ds := h.enqueue("AAA", "t1", "t2")
	// Sent before the resolve: the resolve drops the queued reply.
	if err := h.s.EscalationSent(t.Context(), "a", ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.CancelEscalations(t.Context(), "g"); err != nil {
		t.Fatal(err)
	}
	if d := h.get(ds[0].ID); d.State != store.StateDropped || d.LastError != store.EscalationCancelled {
		t.Fatalf("reply after resolve: got %s %q, want dropped", d.State, d.LastError)
	}
	// Resolved between the claim and the record: the record drops it.
	if _, err := h.s.CancelEscalations(t.Context(), "g2"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.EscalationSent(t.Context(), "b", ds[1].ID); err != nil {
		t.Fatal(err)
	}
	if d := h.get(ds[1].ID); d.State != store.StateDropped {
		t.Fatalf("reply recorded after resolve: got %s, want dropped", d.State)
	}
	if st := h.lanePending("AAA"); st != 0 {
		t.Fatalf("lane pending: got %d, want 0", st)
	}
}

func (h *harness) lanePending(lane string) int {
	h.t.Helper()
	ls, err := h.s.LaneStates(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range ls {
		if l.Lane == lane {
			return l.Pending
		}
	}
	return -1
}

func testEscalationStale(t *testing.T, h *harness) {
	h.arm(timer("a", "g", 1, 2*time.Hour), timer("b", "h", 1, 2*time.Hour))
	h.clock.Advance(50 * time.Minute)
	h.arm(timer("b", "h", 1, 2*time.Hour)) // h keeps firing, g went silent
	h.clock.Advance(11 * time.Minute)
	h.wantIDs("pending after g's staleness", h.pendingEscalations(), []string{"b"})
	// g fires again in the same incident: its stale timer stays cancelled.
	h.arm(timer("a", "g", 1, 2*time.Hour))
	h.clock.Advance(64 * time.Minute)
	h.wantIDs("claim when due", h.claimEscalations(), nil) // b went stale too
	// Not seen for twice its staleness: forgotten, and armed afresh.
	h.clock.Advance(time.Hour)
	h.wantIDs("claim", h.claimEscalations(), nil)
	h.arm(timer("a", "g", 1, time.Minute))
	h.wantIDs("pending after a forgotten timer is armed again", h.pendingEscalations(), []string{"a"})
}

func testEscalationSurvivesRestart(t *testing.T, h *harness) {
	h.arm(timer("a", "g", 1, 15*time.Minute))
	h.restart()
	h.wantIDs("pending after restart", h.pendingEscalations(), []string{"a"})
	h.clock.Advance(15 * time.Minute)
	h.wantIDs("claim", h.claimEscalations(), []string{"a"})
	h.restart()
	h.wantIDs("claim after restart", h.claimEscalations(), nil)
}

func testEscalationOneOfThree(t *testing.T, h *harness) {
	var timers []store.NewEscalation
	for i := range 20 {
		timers = append(timers, timer(string(rune('a'+i)), "g", 1, time.Minute))
	}
	h.arm(timers...)
	h.clock.Advance(time.Minute)
	replicas := []store.Store{h.s, h.s, h.s}
	if !h.exclusive {
		for i := 1; i < 3; i++ {
			replicas[i] = h.open(h.clock.Now)
			t.Cleanup(func() { replicas[i].Close() })
		}
	}
	var (
		mu    sync.Mutex
		fired = map[string]int{}
		wg    sync.WaitGroup
	)
	for _, s := range replicas {
		wg.Go(func() {
			for {
				es, err := s.ClaimEscalations(t.Context(), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(es) == 0 {
					return
				}
				mu.Lock()
				for _, e := range es {
					fired[e.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(fired) != 20 {
		t.Fatalf("fired %d timers, want 20", len(fired))
	}
	for id, n := range fired {
		if n != 1 {
			t.Errorf("timer %s fired %d times", id, n)
		}
	}
}
