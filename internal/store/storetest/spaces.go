package storetest

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// spaceTests check what belongs to the relay space rather than the lane:
// thread groups, the pending bound and the pause of a webhook.
var spaceTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"SpacePauseOthersGoOn", testSpacePauseOthersGoOn},
	{"SpaceGroupsIndependent", testSpaceGroupsIndependent},
	{"SpaceBound", testSpaceBound},
	{"SpacePauseApart", testSpacePauseApart},
}

// enqueueIn stores one request of relay space space in lane, one delivery
// per group given.
func (h *harness) enqueueIn(space, lane string, groups ...string) []store.Delivery {
	h.t.Helper()
	req := store.EnqueueRequest{Space: space, Lane: lane}
	for _, g := range groups {
		req.Deliveries = append(req.Deliveries, store.NewDelivery{Group: g, Message: msg(space + " to " + g)})
	}
	res, err := h.s.Enqueue(h.t.Context(), req)
	if err != nil {
		h.t.Fatalf("Enqueue: %v", err)
	}
	return res.Deliveries
}

func (h *harness) pauseSpace(p store.SpacePause) {
	h.t.Helper()
	if err := h.s.PauseSpace(h.t.Context(), p); err != nil {
		h.t.Fatalf("PauseSpace(%s): %v", p.Space, err)
	}
}

// spaceStates returns the store's SpaceStates by relay space.
func (h *harness) spaceStates() map[string]store.SpaceState {
	h.t.Helper()
	states, err := h.s.SpaceStates(h.t.Context())
	if err != nil {
		h.t.Fatalf("SpaceStates: %v", err)
	}
	out := make(map[string]store.SpaceState, len(states))
	for _, st := range states {
		out[st.Space] = st
	}
	return out
}

// Two relay spaces post into one lane with their own webhooks; one webhook
// is revoked (403): its relay space is paused, and the other's deliveries,
// unthreaded ones included, are claimed in their order while the paused
// one's wait, until it is resumed.
func testSpacePauseOthersGoOn(t *testing.T, h *harness) {
	a1 := h.enqueueIn("a", "L", "")[0]
	b1 := h.enqueueIn("b", "L", "")[0]
	a2 := h.enqueueIn("a", "L", "")[0]
	b2 := h.enqueueIn("b", "L", "")[0]
	b3 := h.enqueueIn("b", "L", "t")[0]
	revoked := store.Pause{Reason: "403 webhook revoked"}
	h.pauseSpace(store.SpacePause{Space: "a", Lane: "L", Pause: revoked})

	l := h.lease("L", "r1")
	if diff := cmp.Diff([]store.SpacePause{{Space: "a", Lane: "L", Pause: revoked}}, l.Spaces); diff != "" {
		t.Errorf("lease's space pauses (-want +got):\n%s", diff)
	}
	if l.Pause != (store.Pause{}) {
		t.Errorf("lane paused: %+v", l.Pause)
	}
	h.clock.Advance(365 * 24 * time.Hour) // until resumed
	l = h.lease("L", "r1")
	if diff := cmp.Diff([]string{b1.ID, b3.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("first claim, a paused (-want +got):\n%s", diff)
	}
	h.finish(l, b1.ID, done)
	h.finish(l, b3.ID, done)
	if diff := cmp.Diff([]string{b2.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("second claim, a paused (-want +got):\n%s", diff)
	}
	h.finish(l, b2.ID, done)
	if got := h.claimIDs(l, 10); got != nil {
		t.Errorf("claimed %v with only the paused space's deliveries left", got)
	}
	st := h.spaceStates()
	if st["a"].Pause != revoked || st["a"].Lane != "L" || st["a"].Pending != 2 || st["b"].Pause != (store.Pause{}) || st["b"].Pending != 0 {
		t.Errorf("space states: %+v", st)
	}

	// Resumed: a's deliveries go, in their order; the lease no longer
	// lists it.
	h.pauseSpace(store.SpacePause{Space: "a"})
	l = h.lease("L", "r1")
	if l.Spaces != nil {
		t.Errorf("lease's space pauses after resume: %+v", l.Spaces)
	}
	if diff := cmp.Diff([]string{a1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("claim after resume (-want +got):\n%s", diff)
	}
	h.finish(l, a1.ID, done)
	if diff := cmp.Diff([]string{a2.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("claim after a1 (-want +got):\n%s", diff)
	}
}

// The same group key in two relay spaces of one lane names two groups: one
// space's head in flight or retrying does not hold the other's, and a batch
// may take in a group's deliveries across another space's between them.
func testSpaceGroupsIndependent(t *testing.T, h *harness) {
	a1 := h.enqueueIn("a", "L", "g")[0]
	b1 := h.enqueueIn("b", "L", "g")[0]
	a2 := h.enqueueIn("a", "L", "g")[0]
	b2 := h.enqueueIn("b", "L", "g")[0]
	l := h.lease("L", "r1")
	if diff := cmp.Diff([]string{a1.ID, b1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("heads of two spaces' group g (-want +got):\n%s", diff)
	}
	h.finish(l, a1.ID, store.Outcome{State: store.StateQueued, RetryAt: start.Add(time.Minute), Error: "503"})
	h.finish(l, b1.ID, done)
	if diff := cmp.Diff([]string{b2.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("a's head retrying later (-want +got):\n%s", diff)
	}
	h.finish(l, b2.ID, done)

	a3 := h.enqueueIn("a", "L", "g")[0]
	h.enqueueIn("b", "L", "g")
	a4 := h.enqueueIn("a", "L", "g")[0]
	b, err := h.s.FreezeBatch(t.Context(), l, []string{a2.ID, a3.ID, a4.ID}, msg("a2+a3+a4"))
	if err != nil {
		t.Fatalf("FreezeBatch across another space's delivery: %v", err)
	}
	if b.Seq != a2.Seq || b.Space != "a" {
		t.Errorf("batch: seq %d space %s, want %d a", b.Seq, b.Space, a2.Seq)
	}
}

// The pending bound is the relay space's: one that is full (its webhook
// paused, say) leaves room for the others of its lane.
func testSpaceBound(t *testing.T, h *harness) {
	ctx := t.Context()
	req := func(space string, n int) store.EnqueueRequest {
		r := store.EnqueueRequest{Space: space, Lane: "L", Limit: 2}
		for range n {
			r.Deliveries = append(r.Deliveries, store.NewDelivery{Message: msg("x")})
		}
		return r
	}
	if _, err := h.s.Enqueue(ctx, req("a", 2)); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Enqueue(ctx, req("a", 1))
	h.wantErr("Enqueue past a's bound", err, store.ErrFull)
	if _, err := h.s.Enqueue(ctx, req("b", 2)); err != nil {
		t.Errorf("b in the lane of a full a: %v", err)
	}
	_, err = h.s.Enqueue(ctx, req("b", 1))
	h.wantErr("Enqueue past b's bound", err, store.ErrFull)
	// The bound counts the space's deliveries in any lane.
	other := req("a", 1)
	other.Lane = "M"
	_, err = h.s.Enqueue(ctx, other)
	h.wantErr("Enqueue of full a into another lane", err, store.ErrFull)

	// Sending still counts; done frees room.
	l := h.lease("L", "r1")
	first := h.claimIDs(l, 1)
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 2}, pendingBySpace(h.spaceStates())); diff != "" {
		t.Errorf("pending per space, one sending (-want +got):\n%s", diff)
	}
	h.finish(l, first[0], done)
	if _, err := h.s.Enqueue(ctx, req("a", 1)); err != nil {
		t.Errorf("a after one done: %v", err)
	}
	if err := h.s.Delete(ctx, h.enqueueIn("c", "L", "")[0].ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 2, "c": 0}, pendingBySpace(h.spaceStates())); diff != "" {
		t.Errorf("pending per space (-want +got):\n%s", diff)
	}
}

func pendingBySpace(st map[string]store.SpaceState) map[string]int {
	out := make(map[string]int, len(st))
	for k, v := range st {
		out[k] = v.Pending
	}
	return out
}

// A relay space's pause and its lane's are apart: a 429 on the lane stops
// every space, a space's timed pause ends by itself, resuming the space
// leaves the lane's pause, and PauseSpace checks its arguments.
func testSpacePauseApart(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueueIn("a", "L", "")[0]
	b1 := h.enqueueIn("b", "L", "")[0]
	if err := h.s.PauseLane(ctx, "L", store.Pause{Until: start.Add(time.Minute), Reason: "429"}); err != nil {
		t.Fatal(err)
	}
	h.pauseSpace(store.SpacePause{Space: "a", Lane: "L", Pause: store.Pause{Until: start.Add(2 * time.Minute), Reason: "slow down a"}})
	h.pauseSpace(store.SpacePause{Space: "b"}) // resuming a space never paused
	l := h.lease("L", "r1")
	if got := h.claimIDs(l, 10); got != nil {
		t.Errorf("claimed %v while the lane is paused", got)
	}
	h.clock.Advance(time.Minute)
	l = h.lease("L", "r1")
	if diff := cmp.Diff([]string{b1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("lane's pause over, a's not (-want +got):\n%s", diff)
	}
	h.clock.Advance(time.Minute)
	l = h.lease("L", "r1")
	if diff := cmp.Diff([]string{a1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("a's timed pause over (-want +got):\n%s", diff)
	}
	states, err := h.s.LaneStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].Pause.Reason != "429" {
		t.Errorf("lane states after space pauses: %+v", states)
	}
	for _, p := range []store.SpacePause{
		{Lane: "L", Pause: store.Pause{Reason: "x"}},
		{Space: "a", Pause: store.Pause{Reason: "x"}},
		{Space: "a", Lane: "L", Pause: store.Pause{Until: start}},
	} {
		if err := h.s.PauseSpace(ctx, p); err == nil {
			t.Errorf("PauseSpace(%+v): no error", p)
		}
	}
}
