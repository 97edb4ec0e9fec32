package storetest

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// attemptTests are the cases of the attempt history (store.Attempt) and the
// dead-letter count; Run runs them with the others.
var attemptTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"AttemptsRecordedAcrossReplay", testAttemptsAcrossReplay},
	{"AttemptsRescued", testAttemptsRescued},
	{"AttemptsRescuedAtRestart", testAttemptsRescuedAtRestart},
	{"AttemptsOfBatch", testAttemptsOfBatch},
	{"AttemptsGoWithDelivery", testAttemptsGoWithDelivery},
	{"DeadLetters", testDeadLetters},
	{"AttemptsClosed", testAttemptsClosed},
}

func (h *harness) attempts(id string) []store.Attempt {
	h.t.Helper()
	as, err := h.s.Attempts(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("Attempts(%s): %v", id, err)
	}
	return as
}

func (h *harness) deadLetters() map[string]int {
	h.t.Helper()
	n, err := h.s.DeadLetters(h.t.Context())
	if err != nil {
		h.t.Fatalf("DeadLetters: %v", err)
	}
	return n
}

// testAttemptsAcrossReplay: each Finish appends what the attempt was (its
// claim and record times by the store's clock, the sender's duration, the
// owner, the outcome), and a replay keeps the history: the next attempt is
// the third, its Try 1 again.
func testAttemptsAcrossReplay(t *testing.T, h *harness) {
	d := h.enqueue("L", "g")[0]
	if got := h.attempts(d.ID); len(got) != 0 {
		t.Fatalf("before any claim: %+v, want no attempts", got)
	}
	_, err := h.s.Attempts(t.Context(), "d0000000000999999")
	h.wantErr("Attempts of an unknown delivery", err, store.ErrNotFound)

	a := h.lease("L", "replica-a")
	t0 := h.clock.Now()
	h.claim(a, 1)
	h.clock.Advance(2 * time.Second)
	t1 := h.clock.Now()
	h.finish(a, d.ID, store.Outcome{State: store.StateQueued, Status: 503, Error: "503 UNAVAILABLE: backend error",
		Duration: 1500 * time.Millisecond})
	h.clock.Advance(time.Second)
	t2 := h.clock.Now()
	h.claim(a, 1)
	h.clock.Advance(300 * time.Millisecond)
	t3 := h.clock.Now()
	h.finish(a, d.ID, store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT: bad card",
		Duration: 250 * time.Millisecond})
	first := []store.Attempt{
		{N: 1, Try: 1, StartedAt: t0, EndedAt: t1, Duration: 1500 * time.Millisecond, Owner: "replica-a", RequestID: d.RequestID,
			State: store.StateQueued, Status: 503, Error: "503 UNAVAILABLE: backend error"},
		{N: 2, Try: 2, StartedAt: t2, EndedAt: t3, Duration: 250 * time.Millisecond, Owner: "replica-a", RequestID: d.RequestID,
			State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT: bad card"},
	}
	if diff := cmp.Diff(first, h.attempts(d.ID)); diff != "" {
		t.Fatalf("history before the replay (-want +got):\n%s", diff)
	}

	h.clock.Advance(time.Hour)
	if _, err := h.s.Replay(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, h.attempts(d.ID)); diff != "" {
		t.Fatalf("history after the replay (-want +got):\n%s", diff)
	}
	a = h.lease("L", "replica-a")
	t4 := h.clock.Now()
	h.claim(a, 1)
	h.clock.Advance(100 * time.Millisecond)
	t5 := h.clock.Now()
	h.finish(a, d.ID, store.Outcome{State: store.StateDone, Status: 200, GoogleMessage: "spaces/G/messages/M",
		GoogleThread: "spaces/G/threads/T", Duration: 90 * time.Millisecond})
	want := append(first, store.Attempt{N: 3, Try: 1, StartedAt: t4, EndedAt: t5, Duration: 90 * time.Millisecond,
		Owner: "replica-a", RequestID: d.RequestID, State: store.StateDone, Status: 200, GoogleMessage: "spaces/G/messages/M"})
	if diff := cmp.Diff(want, h.attempts(d.ID)); diff != "" {
		t.Errorf("history after the replayed delivery was sent (-want +got):\n%s", diff)
	}
	if got := h.get(d.ID).Attempts; got != 1 {
		t.Errorf("Attempts after the replay's send: %d, want 1 (the history keeps the earlier ones)", got)
	}
}

// testAttemptsRescued: a claim that ends before its outcome is recorded (a
// takeover after the lease expired, a release) enters the history as an
// ambiguous attempt of the owner that made it.
func testAttemptsRescued(t *testing.T, h *harness) {
	d := h.enqueue("L", "g")[0]
	a := h.lease("L", "A")
	t0 := h.clock.Now()
	h.claim(a, 1)
	h.clock.Advance(time.Minute + time.Second)
	t1 := h.clock.Now()
	b := h.lease("L", "B") // A's lease expired: a takeover
	t2 := h.clock.Now()
	h.claim(b, 1)
	h.clock.Advance(time.Second)
	t3 := h.clock.Now()
	if err := h.s.ReleaseLease(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	want := []store.Attempt{
		{N: 1, Try: 1, StartedAt: t0, EndedAt: t1, Owner: "A", RequestID: d.RequestID, State: store.StateQueued,
			Error: store.Rescued, Rescued: true},
		{N: 2, Try: 2, StartedAt: t2, EndedAt: t3, Owner: "B", RequestID: d.RequestID, State: store.StateQueued,
			Error: store.Rescued, Rescued: true},
	}
	if diff := cmp.Diff(want, h.attempts(d.ID)); diff != "" {
		t.Errorf("history after a takeover and a release (-want +got):\n%s", diff)
	}
	// A renewal rescues nothing.
	c := h.lease("L", "C")
	h.claim(c, 1)
	h.lease("L", "C")
	if got := h.attempts(d.ID); len(got) != 2 {
		t.Errorf("after a renewal: %d attempts, want 2 (the claim is still C's)", len(got))
	}
}

// testAttemptsRescuedAtRestart: what a killed process left sending is
// recorded as its owner's ambiguous attempt, whether the store rescues at
// open (a database held exclusively) or at the takeover after the lease.
func testAttemptsRescuedAtRestart(t *testing.T, h *harness) {
	d := h.enqueue("L", "g")[0]
	a := h.lease("L", "A")
	h.claim(a, 1)
	h.restart()
	if !h.exclusive {
		h.clock.Advance(time.Minute + time.Second)
	}
	h.lease("L", "B")
	got := h.attempts(d.ID)
	if len(got) != 1 || !got[0].Rescued || got[0].Owner != "A" || got[0].Error != store.Rescued || got[0].Try != 1 {
		t.Errorf("history after the restart: %+v, want one rescued attempt of A", got)
	}
}

// testAttemptsOfBatch: a batch's attempts are recorded on it, and a
// member's history is its batch's; dead letters count the members.
func testAttemptsOfBatch(t *testing.T, h *harness) {
	ds := h.enqueue("L", "g", "g")
	a := h.lease("L", "A")
	batch, err := h.s.FreezeBatch(t.Context(), a, ids(ds), msg("both"))
	if err != nil {
		t.Fatal(err)
	}
	h.claim(a, 1)
	h.finish(a, batch.ID, store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT"})
	want := h.attempts(batch.ID)
	if len(want) != 1 || want[0].RequestID != batch.RequestID || want[0].State != store.StateDead {
		t.Fatalf("batch history: %+v, want its one dead attempt", want)
	}
	for _, m := range ds {
		if diff := cmp.Diff(want, h.attempts(m.ID)); diff != "" {
			t.Errorf("member %s's history (-batch's +member's):\n%s", m.ID, diff)
		}
	}
	if diff := cmp.Diff(map[string]int{"relay-L": 2}, h.deadLetters()); diff != "" {
		t.Errorf("dead letters of a dead batch of two (-want +got):\n%s", diff)
	}
	if _, err := h.s.Replay(t.Context(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := h.deadLetters(); len(got) != 0 {
		t.Errorf("dead letters after the batch's replay: %v, want none", got)
	}
}

// testAttemptsGoWithDelivery: deleting or pruning a delivery with a history
// removes it with its history.
func testAttemptsGoWithDelivery(t *testing.T, h *harness) {
	ds := h.enqueue("L", "g1", "g2")
	a := h.lease("L", "A")
	h.claim(a, 2)
	h.finish(a, ds[0].ID, store.Outcome{State: store.StateDead, Error: "x"})
	h.finish(a, ds[1].ID, done)
	if err := h.s.Delete(t.Context(), ds[0].ID); err != nil {
		t.Fatalf("Delete of a dead letter with a history: %v", err)
	}
	_, err := h.s.Attempts(t.Context(), ds[0].ID)
	h.wantErr("Attempts of a deleted delivery", err, store.ErrNotFound)
	h.clock.Advance(store.DefaultRetainDone + time.Hour)
	if n, err := h.s.Prune(t.Context(), store.Retention{}); err != nil || n != 1 {
		t.Fatalf("Prune: %d, %v; want 1 delivery pruned with its history", n, err)
	}
	_, err = h.s.Attempts(t.Context(), ds[1].ID)
	h.wantErr("Attempts of a pruned delivery", err, store.ErrNotFound)
}

// testDeadLetters: the count follows dead letters by relay space: Finish
// adds, Replay and Delete take away; other states do not count.
func testDeadLetters(t *testing.T, h *harness) {
	if got := h.deadLetters(); len(got) != 0 {
		t.Fatalf("empty store: %v, want none", got)
	}
	one := h.enqueue("L1", "a", "b", "c")
	two := h.enqueue("L2", "a", "b")
	l1, l2 := h.lease("L1", "A"), h.lease("L2", "A")
	h.claim(l1, 3)
	h.claim(l2, 2)
	dead := store.Outcome{State: store.StateDead, Status: 400, Error: "400"}
	h.finish(l1, one[0].ID, dead)
	h.finish(l1, one[1].ID, dead)
	h.finish(l1, one[2].ID, store.Outcome{State: store.StateDropped, Error: "dropped"})
	h.finish(l2, two[0].ID, dead)
	h.finish(l2, two[1].ID, store.Outcome{State: store.StateQueued, Status: 503})
	if diff := cmp.Diff(map[string]int{"relay-L1": 2, "relay-L2": 1}, h.deadLetters()); diff != "" {
		t.Fatalf("dead letters (-want +got):\n%s", diff)
	}
	if _, err := h.s.Replay(t.Context(), one[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Delete(t.Context(), two[0].ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"relay-L1": 1}, h.deadLetters()); diff != "" {
		t.Errorf("after a replay and a delete (-want +got):\n%s", diff)
	}
}

// testAttemptsClosed: the readers of this file answer ErrClosed once the
// store is closed.
func testAttemptsClosed(t *testing.T, h *harness) {
	d := h.enqueue("L", "g")[0]
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Attempts(t.Context(), d.ID)
	h.wantErr("Attempts after Close", err, store.ErrClosed)
	_, err = h.s.DeadLetters(t.Context())
	h.wantErr("DeadLetters after Close", err, store.ErrClosed)
}
