// Package storetest is the conformance suite of store.Store: every backend
// runs Run against itself, so they all keep the same contract.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// start is the time every test's clock starts at; never modified.
var start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Opener makes an empty database for one test and returns a function that
// opens a store on it. The store must read its time from now only, and is
// closed by the suite (Close may be called twice). The suite calls the
// function again after closing a store, to test a restart: the new store
// must see everything the closed one committed.
type Opener func(t *testing.T) func(now func() time.Time) store.Store

// Backend is what Run checks.
type Backend struct {
	Open Opener
	// Exclusive reports that an open store holds its database exclusively
	// (no other process can open one on it meanwhile, as SQLite's lock file
	// ensures), so that a store just opened knows every lease recorded in
	// the database dead. False for a database several replicas share.
	Exclusive bool
}

// Run runs the conformance suite against backend b. Each subtest gets a
// fresh database and its own clock, and runs in parallel.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"EnqueueAssigns", testEnqueueAssigns},
		{"EnqueueValidates", testEnqueueValidates},
		{"DedupCallerRequestID", testDedupCallerRequestID},
		{"DedupKey", testDedupKey},
		{"DedupWindow", testDedupWindow},
		{"Incident", testIncident},
		{"QueueBound", testQueueBound},
		{"FIFOPerGroupAcrossClaims", testFIFOPerGroup},
		{"HeadsOfGroupsOldestFirst", testHeadsOfGroups},
		{"RetryHoldsOnlyItsGroup", testRetryHoldsOnlyItsGroup},
		{"FinishOutcomes", testFinishOutcomes},
		{"FinishConflicts", testFinishConflicts},
		{"ThreadMapping", testThreadMapping},
		{"PauseResume", testPauseResume},
		{"LeaseExclusive", testLeaseExclusive},
		{"LeaseTakeoverFences", testLeaseTakeoverFences},
		{"LeaseRenewAndSend", testLeaseRenewAndSend},
		{"LeaseRelease", testLeaseRelease},
		{"RescueOnlyDeadLeases", testRescueOnlyDeadLeases},
		{"RescueAtRestart", testRescueAtRestart},
		{"FreezeBatchOrder", testFreezeBatchOrder},
		{"FreezeBatchImmutable", testFreezeBatchImmutable},
		{"FreezeBatchConflicts", testFreezeBatchConflicts},
		{"Replay", testReplay},
		{"ReplayBatch", testReplayBatch},
		{"Delete", testDelete},
		{"List", testList},
		{"ListSearch", testListSearch},
		{"Prune", testPrune},
		{"ConcurrentEnqueue", testConcurrentEnqueue},
		{"Closed", testClosed},
		{"Ping", testPing},
	}
	tests = append(tests, spaceTests...)
	tests = append(tests, attemptTests...)
	tests = append(tests, activityTests...)
	tests = append(tests, groupTests...)
	tests = append(tests, escalationTests...)
	tests = append(tests, messageIDTests...)
	tests = append(tests, memberTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock(start)
			h := &harness{t: t, clock: clock, open: b.Open(t), exclusive: b.Exclusive}
			h.s = h.open(clock.Now)
			t.Cleanup(func() { h.s.Close() })
			tt.fn(t, h)
		})
	}
}

// harness holds one test's store and clock, with helpers that fail the test
// on unexpected errors.
type harness struct {
	t         *testing.T
	s         store.Store
	clock     *Clock
	open      func(now func() time.Time) store.Store
	exclusive bool
}

// restart closes the store without releasing anything, as a process that
// was killed leaves it, and opens another on the same database.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.s.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	h.s = h.open(h.clock.Now)
	h.t.Cleanup(func() { h.s.Close() })
}

func msg(text string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"text": text})
	return b
}

// enqueue stores one request of one delivery per group given.
func (h *harness) enqueue(lane string, groups ...string) []store.Delivery {
	h.t.Helper()
	req := store.EnqueueRequest{Space: "relay-" + lane, Lane: lane}
	for _, g := range groups {
		req.Deliveries = append(req.Deliveries, store.NewDelivery{Group: g, Message: msg("to " + g)})
	}
	res, err := h.s.Enqueue(h.t.Context(), req)
	if err != nil {
		h.t.Fatalf("Enqueue: %v", err)
	}
	return res.Deliveries
}

func (h *harness) lease(lane, owner string) store.Lease {
	h.t.Helper()
	l, err := h.s.AcquireLease(h.t.Context(), store.LeaseRequest{Lane: lane, Owner: owner, TTL: time.Minute})
	if err != nil {
		h.t.Fatalf("AcquireLease(%s, %s): %v", lane, owner, err)
	}
	return l
}

func (h *harness) claim(l store.Lease, max int) []store.Delivery {
	h.t.Helper()
	ds, err := h.s.Claim(h.t.Context(), l, max)
	if err != nil {
		h.t.Fatalf("Claim: %v", err)
	}
	return ds
}

// claimIDs claims and returns the ids claimed, nil for none.
func (h *harness) claimIDs(l store.Lease, max int) []string {
	h.t.Helper()
	return ids(h.claim(l, max))
}

func (h *harness) finish(l store.Lease, id string, out store.Outcome) store.Delivery {
	h.t.Helper()
	d, err := h.s.Finish(h.t.Context(), l, id, out)
	if err != nil {
		h.t.Fatalf("Finish(%s, %s): %v", id, out.State, err)
	}
	return d
}

// list returns the IDs List gives for f.
func (h *harness) list(f store.Filter) []string {
	h.t.Helper()
	ds, err := h.s.List(h.t.Context(), f)
	if err != nil {
		h.t.Fatalf("List(%+v): %v", f, err)
	}
	return ids(ds)
}

func (h *harness) get(id string) store.Delivery {
	h.t.Helper()
	d, err := h.s.Get(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("Get(%s): %v", id, err)
	}
	return d
}

func (h *harness) wantErr(what string, err, want error) {
	h.t.Helper()
	if !errors.Is(err, want) {
		h.t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func ids(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// done is the outcome of a successful send; never modified.
var done = store.Outcome{State: store.StateDone, Status: 200, GoogleMessage: "spaces/G/messages/M"}

func testEnqueueAssigns(t *testing.T, h *harness) {
	req := store.EnqueueRequest{
		Space: "ops", Lane: "AAA", Route: "prometheus", CallerRequestID: "c1", DedupKey: "k1",
		Deliveries: []store.NewDelivery{
			{Group: "t1", Message: msg("one"), Reply: "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", RelayThread: "spaces/ops/threads/r1"},
			{Group: "", Message: msg("two"), MessageID: "client-x"},
		},
	}
	res, err := h.s.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || len(res.Deliveries) != 2 {
		t.Fatalf("got %d deliveries, duplicate %t; want 2, false", len(res.Deliveries), res.Duplicate)
	}
	a, b := res.Deliveries[0], res.Deliveries[1]
	if a.ID == "" || !(a.ID < b.ID) || !(a.Seq < b.Seq) {
		t.Errorf("ids %q, %q and seqs %d, %d: want both increasing", a.ID, b.ID, a.Seq, b.Seq)
	}
	if a.RequestID == "" || a.RequestID == b.RequestID {
		t.Errorf("request ids %q, %q: want distinct, not empty", a.RequestID, b.RequestID)
	}
	now := h.clock.Now()
	want := store.Delivery{
		ID: a.ID, Space: "ops", Route: "prometheus", Lane: "AAA", Group: "t1", Seq: a.Seq, Message: msg("one"),
		Reply: "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", RequestID: a.RequestID,
		CallerRequestID: "c1", DedupKey: "k1", RelayThread: "spaces/ops/threads/r1",
		State: store.StateQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now, QueuedAt: now,
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("returned delivery (-want +got):\n%s", diff)
	}
	for _, d := range res.Deliveries {
		if diff := cmp.Diff(d, h.get(d.ID)); diff != "" {
			t.Errorf("Get(%s) differs from Enqueue's answer (-enqueue +get):\n%s", d.ID, diff)
		}
	}
	if got := h.get(b.ID).MessageID; got != "client-x" {
		t.Errorf("MessageID: got %q, want client-x", got)
	}
	if _, err := h.s.Get(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(nope): got %v, want ErrNotFound", err)
	}
}

func testEnqueueValidates(t *testing.T, h *harness) {
	for _, req := range []store.EnqueueRequest{
		{Lane: "L", Deliveries: []store.NewDelivery{{Message: msg("x")}}},
		{Space: "s", Deliveries: []store.NewDelivery{{Message: msg("x")}}},
		{Space: "s", Lane: "L"},
	} {
		if _, err := h.s.Enqueue(t.Context(), req); err == nil {
			t.Errorf("Enqueue(%+v): got no error", req)
		}
	}
}

func testDedupCallerRequestID(t *testing.T, h *harness) {
	req := store.EnqueueRequest{Space: "ops", Lane: "L", CallerRequestID: "abc",
		Deliveries: []store.NewDelivery{{Message: msg("part 1")}, {Message: msg("part 2")}}}
	first, err := h.s.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	again := req
	again.Deliveries = []store.NewDelivery{{Message: msg("different")}}
	second, err := h.s.Enqueue(t.Context(), again)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate {
		t.Error("second request: Duplicate false, want true")
	}
	if diff := cmp.Diff(first.Deliveries, second.Deliveries); diff != "" {
		t.Errorf("duplicate's deliveries (-first +second):\n%s", diff)
	}
	// Another space does not share the key.
	other := req
	other.Space = "dev"
	res, err := h.s.Enqueue(t.Context(), other)
	if err != nil || res.Duplicate {
		t.Errorf("same id in another space: duplicate %t, err %v; want a new delivery", res.Duplicate, err)
	}
	all, err := h.s.List(t.Context(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("stored %d deliveries, want 4", len(all))
	}
}

func testDedupKey(t *testing.T, h *harness) {
	req := store.EnqueueRequest{Space: "ops", Lane: "L", DedupKey: "alert-1-firing",
		Deliveries: []store.NewDelivery{{Message: msg("firing")}}}
	first, err := h.s.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Even once done, the key still matches: retention is the window.
	l := h.lease("L", "r1")
	h.claim(l, 1)
	h.finish(l, first.Deliveries[0].ID, done)
	req.CallerRequestID = "another-request"
	second, err := h.s.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || len(second.Deliveries) != 1 || second.Deliveries[0].ID != first.Deliveries[0].ID {
		t.Errorf("got duplicate %t, ids %v; want true, [%s]", second.Duplicate, ids(second.Deliveries), first.Deliveries[0].ID)
	}
	if second.Deliveries[0].State != store.StateDone {
		t.Errorf("duplicate answer state %s, want the current state done", second.Deliveries[0].State)
	}
}

func testDedupWindow(t *testing.T, h *harness) {
	req := store.EnqueueRequest{Space: "ops", Lane: "L", DedupKey: "group-a", DedupWindow: time.Hour,
		Deliveries: []store.NewDelivery{{Message: msg("repeat")}}}
	first, err := h.s.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Within the window: a duplicate, also when the request's window differs.
	h.clock.Advance(59 * time.Minute)
	res, err := h.s.Enqueue(t.Context(), req)
	if err != nil || !res.Duplicate || res.Deliveries[0].ID != first.Deliveries[0].ID {
		t.Fatalf("within the window: duplicate %t, err %v; want the first delivery", res.Duplicate, err)
	}
	// Past it: stored anew. The window counts from the first delivery's
	// creation, not from the duplicate's.
	h.clock.Advance(2 * time.Minute)
	second, err := h.s.Enqueue(t.Context(), req)
	if err != nil || second.Duplicate {
		t.Fatalf("past the window: duplicate %t, err %v; want a new delivery", second.Duplicate, err)
	}
	// Now the newest match wins: within the window of the second one, the
	// answer is a duplicate again, naming the deliveries of the key.
	h.clock.Advance(time.Minute)
	res, err = h.s.Enqueue(t.Context(), req)
	if err != nil || !res.Duplicate {
		t.Fatalf("within the second window: duplicate %t, err %v", res.Duplicate, err)
	}
	found := false
	for _, d := range res.Deliveries {
		found = found || d.ID == second.Deliveries[0].ID
	}
	if !found {
		t.Errorf("duplicate answer %v does not name the second delivery %s", ids(res.Deliveries), second.Deliveries[0].ID)
	}
	// Another space never matches.
	other := req
	other.Space = "other"
	if res, err := h.s.Enqueue(t.Context(), other); err != nil || res.Duplicate {
		t.Errorf("other space: duplicate %t, err %v", res.Duplicate, err)
	}
	// The window does not apply to CallerRequestID.
	byCaller := store.EnqueueRequest{Space: "ops", Lane: "L", CallerRequestID: "r-1", DedupWindow: time.Second,
		Deliveries: []store.NewDelivery{{Message: msg("x")}}}
	if _, err := h.s.Enqueue(t.Context(), byCaller); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	if res, err := h.s.Enqueue(t.Context(), byCaller); err != nil || !res.Duplicate {
		t.Errorf("caller request id after the window: duplicate %t, err %v; want duplicate", res.Duplicate, err)
	}
}

func testIncident(t *testing.T, h *harness) {
	steps := []struct {
		key    string
		firing bool
		want   int64
	}{
		{"g1", true, 1},  // first firing opens incident 1
		{"g1", true, 1},  // a repeat stays in it
		{"g2", true, 1},  // keys are independent
		{"g1", false, 1}, // resolved closes it, same number
		{"g1", false, 1}, // a repeated resolved changes nothing
		{"g1", true, 2},  // firing again opens incident 2
		{"g2", false, 1}, // g2 untouched by g1
		{"g3", false, 1}, // resolved for an unseen key: 1, nothing open
		{"g3", true, 2},  // so its first firing is a new incident
		{"g1", true, 2},  // still 2
	}
	for i, st := range steps {
		got, err := h.s.Incident(t.Context(), st.key, st.firing)
		if err != nil {
			t.Fatalf("step %d: Incident(%s, %t): %v", i, st.key, st.firing, err)
		}
		if got != st.want {
			t.Errorf("step %d: Incident(%s, firing %t) = %d, want %d", i, st.key, st.firing, got, st.want)
		}
	}
	if _, err := h.s.Incident(t.Context(), "", true); err == nil {
		t.Error("Incident with an empty key: no error")
	}
	// Concurrent firings of a resolved key open exactly one new incident.
	if _, err := h.s.Incident(t.Context(), "g1", false); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]int64, 8)
	for i := range got {
		wg.Go(func() {
			n, err := h.s.Incident(t.Context(), "g1", true)
			if err != nil {
				t.Error(err)
			}
			got[i] = n
		})
	}
	wg.Wait()
	for i, n := range got {
		if n != 3 {
			t.Errorf("concurrent firing %d: incident %d, want 3", i, n)
		}
	}
	// Prune forgets keys unused for the thread retention: g2 starts over.
	h.clock.Advance(31 * 24 * time.Hour)
	if _, err := h.s.Incident(t.Context(), "g1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Prune(t.Context(), store.Retention{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := h.s.Incident(t.Context(), "g1", true); n != 3 {
		t.Errorf("g1, used recently: incident %d after prune, want 3", n)
	}
	if n, _ := h.s.Incident(t.Context(), "g2", true); n != 1 {
		t.Errorf("g2, unused past retention: incident %d after prune, want 1 (forgotten)", n)
	}
}

func testQueueBound(t *testing.T, h *harness) {
	req := func(n int, key string) store.EnqueueRequest {
		r := store.EnqueueRequest{Space: "ops", Lane: "L", Limit: 3, CallerRequestID: key}
		for range n {
			r.Deliveries = append(r.Deliveries, store.NewDelivery{Message: msg("x")})
		}
		return r
	}
	if _, err := h.s.Enqueue(t.Context(), req(2, "a")); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Enqueue(t.Context(), req(2, "b"))
	h.wantErr("Enqueue past the bound", err, store.ErrFull)
	// All or nothing: nothing of the refused request was stored.
	if all, _ := h.s.List(t.Context(), store.Filter{}); len(all) != 2 {
		t.Fatalf("stored %d, want 2", len(all))
	}
	// A duplicate is answered even when full.
	if _, err := h.s.Enqueue(t.Context(), req(1, "c")); err != nil {
		t.Fatal(err)
	}
	res, err := h.s.Enqueue(t.Context(), req(1, "a"))
	if err != nil || !res.Duplicate {
		t.Errorf("duplicate while full: duplicate %t, err %v", res.Duplicate, err)
	}
	// Another relay space has its own bound, in the same lane too.
	other := req(3, "d")
	other.Space = "dev"
	if _, err := h.s.Enqueue(t.Context(), other); err != nil {
		t.Errorf("other relay space: %v", err)
	}
	// Finishing one makes room; a sending delivery still counts.
	l := h.lease("L", "r1")
	claimed := h.claimIDs(l, 1)
	_, err = h.s.Enqueue(t.Context(), req(1, "e"))
	h.wantErr("Enqueue with one sending", err, store.ErrFull)
	h.finish(l, claimed[0], done)
	if _, err := h.s.Enqueue(t.Context(), req(1, "e")); err != nil {
		t.Errorf("after one done: %v", err)
	}
	states, err := h.s.LaneStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]int{}
	for _, st := range states {
		pending[st.Lane] = st.Pending
	}
	if diff := cmp.Diff(map[string]int{"L": 6}, pending); diff != "" {
		t.Errorf("pending per lane (-want +got):\n%s", diff)
	}
}

func testFIFOPerGroup(t *testing.T, h *harness) {
	var want []string
	for range 3 {
		want = append(want, h.enqueue("L", "thread-a")[0].ID)
	}
	l := h.lease("L", "r1")
	var got []string
	for range 3 {
		c := h.claimIDs(l, 10)
		if len(c) != 1 {
			t.Fatalf("claimed %v, want exactly the head", c)
		}
		// One in flight: nothing more from this group until finished.
		if more := h.claimIDs(l, 10); more != nil {
			t.Fatalf("claimed %v while %s is in flight", more, c[0])
		}
		got = append(got, c[0])
		h.finish(l, c[0], done)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claim order (-want +got):\n%s", diff)
	}
}

func testHeadsOfGroups(t *testing.T, h *harness) {
	a1 := h.enqueue("L", "a")[0]
	b1 := h.enqueue("L", "b")[0]
	h.enqueue("L", "a")
	c1 := h.enqueue("L", "")[0]
	h.enqueue("OTHER", "a")
	l := h.lease("L", "r1")
	if diff := cmp.Diff([]string{a1.ID, b1.ID}, h.claimIDs(l, 2)); diff != "" {
		t.Errorf("Claim(2) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{c1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("Claim(10) after (-want +got):\n%s", diff)
	}
	d := h.get(a1.ID)
	if d.State != store.StateSending || d.Attempts != 1 {
		t.Errorf("claimed delivery: state %s, attempts %d; want sending, 1", d.State, d.Attempts)
	}
}

func testRetryHoldsOnlyItsGroup(t *testing.T, h *harness) {
	a1 := h.enqueue("L", "a")[0]
	a2 := h.enqueue("L", "a")[0]
	b1 := h.enqueue("L", "b")[0]
	l := h.lease("L", "r1")
	if got := h.claimIDs(l, 1); len(got) != 1 || got[0] != a1.ID {
		t.Fatalf("first claim %v, want [%s]", got, a1.ID)
	}
	retry := h.finish(l, a1.ID, store.Outcome{State: store.StateQueued, RetryAt: h.clock.Now().Add(10 * time.Second), Status: 503, Error: "unavailable"})
	if retry.State != store.StateQueued || retry.LastStatus != 503 || retry.LastError != "unavailable" {
		t.Errorf("after retry: %+v", retry)
	}
	// a1 waits for its backoff and holds a2 behind it; b is not held.
	if diff := cmp.Diff([]string{b1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("claim during backoff (-want +got):\n%s", diff)
	}
	h.clock.Advance(9 * time.Second)
	l = h.lease("L", "r1")
	if got := h.claimIDs(l, 10); got != nil {
		t.Errorf("claim before due: %v, want none", got)
	}
	h.clock.Advance(time.Second)
	if diff := cmp.Diff([]string{a1.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("claim when due (-want +got):\n%s", diff)
	}
	if got := h.get(a1.ID).Attempts; got != 2 {
		t.Errorf("attempts: got %d, want 2", got)
	}
	h.finish(l, a1.ID, done)
	if diff := cmp.Diff([]string{a2.ID}, h.claimIDs(l, 10)); diff != "" {
		t.Errorf("claim after done (-want +got):\n%s", diff)
	}
}

func testFinishOutcomes(t *testing.T, h *harness) {
	tests := []struct {
		out  store.Outcome
		want func(now time.Time, d store.Delivery) store.Delivery
	}{
		{store.Outcome{State: store.StateDone, Status: 200, GoogleMessage: "spaces/G/messages/1", GoogleThread: "spaces/G/threads/T"},
			func(now time.Time, d store.Delivery) store.Delivery {
				d.State, d.LastStatus, d.DoneAt = store.StateDone, 200, now
				d.GoogleMessage, d.GoogleThread = "spaces/G/messages/1", "spaces/G/threads/T"
				return d
			}},
		{store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT"},
			func(now time.Time, d store.Delivery) store.Delivery {
				d.State, d.LastStatus, d.LastError, d.DoneAt = store.StateDead, 400, "400 INVALID_ARGUMENT", now
				return d
			}},
		{store.Outcome{State: store.StateDropped, Error: "too old"},
			func(now time.Time, d store.Delivery) store.Delivery {
				d.State, d.LastError, d.DoneAt = store.StateDropped, "too old", now
				return d
			}},
		{store.Outcome{State: store.StateQueued, Error: "timeout"}, // zero RetryAt: due now
			func(now time.Time, d store.Delivery) store.Delivery {
				d.State, d.LastError, d.NextAttemptAt = store.StateQueued, "timeout", now
				return d
			}},
	}
	for _, tt := range tests {
		t.Run(string(tt.out.State), func(t *testing.T) {
			lane := "L-" + string(tt.out.State)
			h.enqueue(lane, "g")
			l := h.lease(lane, "r1")
			h.clock.Advance(time.Second)
			claimed := h.claim(l, 1)[0]
			h.clock.Advance(time.Second)
			now := h.clock.Now()
			got := h.finish(l, claimed.ID, tt.out)
			want := tt.want(now, claimed)
			want.UpdatedAt = now
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Finish (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := h.s.Finish(t.Context(), h.lease("L-done", "r1"), "d1", store.Outcome{State: store.StateSending}); err == nil {
		t.Error("Finish with outcome sending: no error")
	}
}

func testFinishConflicts(t *testing.T, h *harness) {
	d := h.enqueue("L", "g")[0]
	other := h.enqueue("M", "g")[0]
	l := h.lease("L", "r1")
	lm := h.lease("M", "r1")
	_, err := h.s.Finish(t.Context(), l, d.ID, done)
	h.wantErr("Finish of a queued delivery", err, store.ErrConflict)
	h.claim(lm, 1)
	_, err = h.s.Finish(t.Context(), l, other.ID, done)
	h.wantErr("Finish of another lane's delivery", err, store.ErrConflict)
	_, err = h.s.Finish(t.Context(), l, "d9999999999999999", done)
	h.wantErr("Finish of an unknown delivery", err, store.ErrNotFound)
	h.claim(l, 1)
	h.finish(l, d.ID, done)
	_, err = h.s.Finish(t.Context(), l, d.ID, done)
	h.wantErr("second Finish", err, store.ErrConflict)
}

func testThreadMapping(t *testing.T, h *harness) {
	const relay = "spaces/ops/threads/r-1"
	_, err := h.s.Thread(t.Context(), relay)
	h.wantErr("unknown thread", err, store.ErrNotFound)
	enq := func() store.Delivery {
		res, err := h.s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "L",
			Deliveries: []store.NewDelivery{{Group: "t", Message: msg("x"), RelayThread: relay}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Deliveries[0]
	}
	first := enq()
	th, err := h.s.Thread(t.Context(), relay)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Thread{RelayName: relay, Lane: "L", CreatedAt: start, UpdatedAt: start}
	if diff := cmp.Diff(want, th); diff != "" {
		t.Errorf("pending thread (-want +got):\n%s", diff)
	}
	second := enq()
	l := h.lease("L", "r1")
	h.clock.Advance(time.Second)
	h.claim(l, 1)
	h.finish(l, first.ID, store.Outcome{State: store.StateDone, GoogleThread: "spaces/G/threads/T1"})
	h.claim(l, 1)
	// A later delivery of the thread does not remap it.
	h.finish(l, second.ID, store.Outcome{State: store.StateDone, GoogleThread: "spaces/G/threads/OTHER"})
	th, err = h.s.Thread(t.Context(), relay)
	if err != nil {
		t.Fatal(err)
	}
	want.GoogleName, want.UpdatedAt = "spaces/G/threads/T1", start.Add(time.Second)
	if diff := cmp.Diff(want, th); diff != "" {
		t.Errorf("mapped thread (-want +got):\n%s", diff)
	}
}

func testPauseResume(t *testing.T, h *harness) {
	d := h.enqueue("L", "g")[0]
	ctx := t.Context()
	if err := h.s.PauseLane(ctx, "L", store.Pause{Until: start.Add(5 * time.Second), Reason: "429"}); err != nil {
		t.Fatal(err)
	}
	l := h.lease("L", "r1")
	if diff := cmp.Diff(store.Pause{Until: start.Add(5 * time.Second), Reason: "429"}, l.Pause); diff != "" {
		t.Errorf("lease's pause (-want +got):\n%s", diff)
	}
	if got := h.claimIDs(l, 1); got != nil {
		t.Errorf("claimed %v while paused", got)
	}
	h.clock.Advance(5 * time.Second)
	l = h.lease("L", "r1")
	if diff := cmp.Diff([]string{d.ID}, h.claimIDs(l, 1)); diff != "" {
		t.Errorf("claim after the pause ended (-want +got):\n%s", diff)
	}
	h.finish(l, d.ID, done)

	// Paused until resumed (403/404).
	d2 := h.enqueue("L", "g")[0]
	if err := h.s.PauseLane(ctx, "L", store.Pause{Reason: "404 webhook deleted"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(365 * 24 * time.Hour)
	l = h.lease("L", "r1")
	if got := h.claimIDs(l, 1); got != nil {
		t.Errorf("claimed %v while paused until resumed", got)
	}
	states, err := h.s.LaneStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].Pause.Reason != "404 webhook deleted" || states[0].Pending != 1 {
		t.Errorf("lane states: %+v", states)
	}
	if err := h.s.PauseLane(ctx, "L", store.Pause{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{d2.ID}, h.claimIDs(l, 1)); diff != "" {
		t.Errorf("claim after resume (-want +got):\n%s", diff)
	}
	if err := h.s.PauseLane(ctx, "L", store.Pause{Until: start}); err == nil {
		t.Error("pause without a reason: no error")
	}
}

func testLeaseExclusive(t *testing.T, h *harness) {
	ctx := t.Context()
	l1 := h.lease("L", "r1")
	if l1.Token <= 0 || !l1.Granted.Equal(start) || !l1.Until.Equal(start.Add(time.Minute)) {
		t.Errorf("first lease: %+v", l1)
	}
	_, err := h.s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r2", TTL: time.Minute})
	h.wantErr("second owner", err, store.ErrLeaseHeld)
	// Another lane is independent.
	h.lease("M", "r2")
	h.clock.Advance(time.Minute - time.Nanosecond)
	_, err = h.s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r2", TTL: time.Minute})
	h.wantErr("second owner just before expiry", err, store.ErrLeaseHeld)
	h.clock.Advance(time.Nanosecond)
	l2 := h.lease("L", "r2")
	if l2.Token <= l1.Token {
		t.Errorf("token after takeover %d, want more than %d", l2.Token, l1.Token)
	}
	_, err = h.s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r1", TTL: time.Minute})
	h.wantErr("first owner after takeover", err, store.ErrLeaseHeld)
}

func testLeaseTakeoverFences(t *testing.T, h *harness) {
	ctx := t.Context()
	d := h.enqueue("L", "a")[0]
	l1 := h.lease("L", "r1")
	h.claim(l1, 1)
	h.clock.Advance(time.Minute)
	// Expired: r1 may not claim any more.
	_, err := h.s.Claim(ctx, l1, 1)
	h.wantErr("Claim with an expired lease", err, store.ErrLeaseLost)
	l2 := h.lease("L", "r2")
	// The takeover returned r1's in-flight delivery to the queue.
	got := h.get(d.ID)
	if got.State != store.StateQueued || got.RequestID != d.RequestID || got.Attempts != 1 {
		t.Errorf("after takeover: state %s, request id %q, attempts %d; want queued, %q, 1", got.State, got.RequestID, got.Attempts, d.RequestID)
	}
	// The stale token can neither finish nor claim nor freeze nor release.
	_, err = h.s.Finish(ctx, l1, d.ID, done)
	h.wantErr("Finish with a stale token", err, store.ErrLeaseLost)
	_, err = h.s.Claim(ctx, l1, 1)
	h.wantErr("Claim with a stale token", err, store.ErrLeaseLost)
	_, err = h.s.FreezeBatch(ctx, l1, []string{d.ID}, msg("x"))
	h.wantErr("FreezeBatch with a stale token", err, store.ErrLeaseLost)
	h.wantErr("ReleaseLease with a stale token", h.s.ReleaseLease(ctx, l1), store.ErrLeaseLost)
	// The new owner sends it again.
	if diff := cmp.Diff([]string{d.ID}, h.claimIDs(l2, 1)); diff != "" {
		t.Errorf("new owner's claim (-want +got):\n%s", diff)
	}
	h.finish(l2, d.ID, done)
}

func testLeaseRenewAndSend(t *testing.T, h *harness) {
	ctx := t.Context()
	d := h.enqueue("L", "a")[0]
	l := h.lease("L", "r1")
	h.claim(l, 1)
	h.clock.Advance(30 * time.Second)
	sent, err := h.s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r1", TTL: time.Minute, Send: true})
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	if sent.Token != l.Token || !sent.Until.Equal(now.Add(time.Minute)) || !sent.LastSend.Equal(now) {
		t.Errorf("renewal: token %d until %v last send %v; want %d, %v, %v", sent.Token, sent.Until, sent.LastSend, l.Token, now.Add(time.Minute), now)
	}
	// Expired, but no one took the lane: the owner renews with the same
	// token, its claim is intact, and it may finish.
	h.clock.Advance(2 * time.Minute)
	again := h.lease("L", "r1")
	if again.Token != l.Token || !again.LastSend.Equal(now) {
		t.Errorf("renewal after expiry: token %d, last send %v; want %d, %v", again.Token, again.LastSend, l.Token, now)
	}
	if got := h.get(d.ID).State; got != store.StateSending {
		t.Errorf("state after renewal: %s, want sending", got)
	}
	h.clock.Advance(2 * time.Minute)
	h.finish(l, d.ID, done) // expired lease, still current: finishing is allowed
	// Another replica inherits the last send time with the lane.
	h.clock.Advance(2 * time.Minute)
	other := h.lease("L", "r2")
	if !other.LastSend.Equal(now) {
		t.Errorf("last send seen by the next owner: %v, want %v", other.LastSend, now)
	}
}

func testLeaseRelease(t *testing.T, h *harness) {
	ctx := t.Context()
	d := h.enqueue("L", "a")[0]
	l1 := h.lease("L", "r1")
	h.claim(l1, 1)
	if err := h.s.ReleaseLease(ctx, l1); err != nil {
		t.Fatal(err)
	}
	if got := h.get(d.ID).State; got != store.StateQueued {
		t.Errorf("after release: %s, want queued", got)
	}
	_, err := h.s.Finish(ctx, l1, d.ID, done)
	h.wantErr("Finish after release", err, store.ErrLeaseLost)
	l2 := h.lease("L", "r2") // at once, not after the TTL
	if l2.Token <= l1.Token {
		t.Errorf("token after release %d, want more than %d", l2.Token, l1.Token)
	}
	states, err := h.s.LaneStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.LaneState{{Lane: "L", Owner: "r2", Token: l2.Token, LeaseUntil: l2.Until, Pending: 1}}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("lane states (-want +got):\n%s", diff)
	}
}

func testFreezeBatchOrder(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueue("L", "a")[0]
	a2 := h.enqueue("L", "a")[0]
	a3 := h.enqueue("L", "a")[0]
	a4 := h.enqueue("L", "a")[0]
	l := h.lease("L", "r1")
	// a1 in flight; a2 and a3 are merged behind it; a4 stays after them.
	h.claim(l, 1)
	h.clock.Advance(time.Second)
	b, err := h.s.FreezeBatch(ctx, l, []string{a2.ID, a3.ID}, msg("a2+a3"))
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	if !b.Batch || b.Seq != a2.Seq || b.State != store.StateQueued || b.Attempts != 0 || b.Group != "a" ||
		b.RequestID == "" || b.RequestID == a2.RequestID || !b.QueuedAt.Equal(a2.QueuedAt) || !b.CreatedAt.Equal(now) ||
		string(b.Message) != string(msg("a2+a3")) || !(b.ID > a4.ID) {
		t.Errorf("batch: %+v", b)
	}
	members, err := h.s.List(ctx, store.Filter{BatchID: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a2.ID, a3.ID}, ids(members)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	for _, m := range members {
		if m.State != store.StateBatched || m.BatchID != b.ID {
			t.Errorf("member %s: state %s, batch %q", m.ID, m.State, m.BatchID)
		}
	}
	var order []string
	h.finish(l, a1.ID, done)
	for range 2 {
		c := h.claimIDs(l, 10)
		if len(c) != 1 {
			t.Fatalf("claimed %v, want one", c)
		}
		order = append(order, c[0])
		h.finish(l, c[0], done)
	}
	if diff := cmp.Diff([]string{b.ID, a4.ID}, order); diff != "" {
		t.Errorf("order after freeze (-want +got):\n%s", diff)
	}
}

func testFreezeBatchImmutable(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueue("L", "a")[0]
	a2 := h.enqueue("L", "a")[0]
	l := h.lease("L", "r1")
	b, err := h.s.FreezeBatch(ctx, l, []string{a1.ID, a2.ID}, msg("both"))
	if err != nil {
		t.Fatal(err)
	}
	// A batch is not merged again.
	a3 := h.enqueue("L", "a")[0]
	_, err = h.s.FreezeBatch(ctx, l, []string{b.ID, a3.ID}, msg("again"))
	h.wantErr("freezing a batch", err, store.ErrConflict)
	// Retries keep content and request id.
	h.claim(l, 1)
	h.finish(l, b.ID, store.Outcome{State: store.StateQueued, Status: 500})
	c := h.claim(l, 1)
	if len(c) != 1 || c[0].ID != b.ID || c[0].RequestID != b.RequestID || string(c[0].Message) != string(b.Message) {
		t.Fatalf("retried batch: %+v, want id %s, request id %s, same message", c, b.ID, b.RequestID)
	}
	h.clock.Advance(time.Second)
	h.finish(l, b.ID, store.Outcome{State: store.StateDone, GoogleMessage: "spaces/G/messages/B", GoogleThread: "spaces/G/threads/T"})
	for _, id := range []string{a1.ID, a2.ID} {
		m := h.get(id)
		if m.State != store.StateDone || m.GoogleMessage != "spaces/G/messages/B" || !m.DoneAt.Equal(h.clock.Now()) {
			t.Errorf("member %s after the batch is done: %+v", id, m)
		}
	}
	_, err = h.s.FreezeBatch(ctx, l, []string{a1.ID}, msg("x"))
	h.wantErr("freezing a done member", err, store.ErrConflict)
}

func testFreezeBatchConflicts(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueue("L", "a")[0]
	b1 := h.enqueue("L", "b")[0]
	a2 := h.enqueue("L", "a")[0]
	a3 := h.enqueue("L", "a")[0]
	otherReply, err := h.s.Enqueue(ctx, store.EnqueueRequest{Space: "relay-L", Lane: "L",
		Deliveries: []store.NewDelivery{{Group: "a", Message: msg("x"), Reply: "REPLY_MESSAGE_OR_FAIL"}}})
	if err != nil {
		t.Fatal(err)
	}
	withID, err := h.s.Enqueue(ctx, store.EnqueueRequest{Space: "relay-L", Lane: "L",
		Deliveries: []store.NewDelivery{{Group: "a", Message: msg("x"), MessageID: "client-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	m1 := h.enqueue("M", "a")[0]
	r1 := h.enqueue("L", "r")[0]
	otherRoute, err := h.s.Enqueue(ctx, store.EnqueueRequest{Space: "relay-L", Lane: "L", Route: "prometheus",
		Deliveries: []store.NewDelivery{{Group: "r", Message: msg("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	l := h.lease("L", "r1")
	tests := []struct {
		name string
		ids  []string
		want error
	}{
		{"none", nil, store.ErrConflict},
		{"two groups", []string{a1.ID, b1.ID}, store.ErrConflict},
		{"gap", []string{a1.ID, a3.ID}, store.ErrConflict},
		{"out of order", []string{a2.ID, a1.ID}, store.ErrConflict},
		{"reply option", []string{a3.ID, otherReply.Deliveries[0].ID}, store.ErrConflict},
		{"message id", []string{withID.Deliveries[0].ID}, store.ErrConflict},
		{"route", []string{r1.ID, otherRoute.Deliveries[0].ID}, store.ErrConflict},
		{"other lane", []string{m1.ID}, store.ErrConflict},
		{"unknown", []string{"d0000000000999999"}, store.ErrNotFound},
	}
	for _, tt := range tests {
		_, err := h.s.FreezeBatch(ctx, l, tt.ids, msg("x"))
		h.wantErr("FreezeBatch "+tt.name, err, tt.want)
	}
	// An attempted delivery may already be posted under its own requestId.
	h.claim(l, 1) // a1 and b1
	h.finish(l, a1.ID, store.Outcome{State: store.StateQueued})
	_, err = h.s.FreezeBatch(ctx, l, []string{a1.ID, a2.ID}, msg("x"))
	h.wantErr("FreezeBatch of an attempted delivery", err, store.ErrConflict)
	// Nothing changed.
	for _, id := range []string{a1.ID, a2.ID, a3.ID} {
		if d := h.get(id); d.State != store.StateQueued || d.BatchID != "" {
			t.Errorf("%s after refused freezes: state %s, batch %q", id, d.State, d.BatchID)
		}
	}
}

func testReplay(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueue("L", "a")[0]
	a2 := h.enqueue("L", "a")[0]
	l := h.lease("L", "r1")
	h.claim(l, 1)
	h.finish(l, a1.ID, store.Outcome{State: store.StateDead, Status: 400, Error: "bad card"})
	_, err := h.s.Replay(ctx, a2.ID)
	h.wantErr("Replay of a queued delivery", err, store.ErrConflict)
	_, err = h.s.Replay(ctx, "d0000000000999999")
	h.wantErr("Replay of an unknown delivery", err, store.ErrNotFound)
	h.clock.Advance(time.Hour)
	l = h.lease("L", "r1")
	r, err := h.s.Replay(ctx, a1.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	if r.State != store.StateQueued || r.RequestID != a1.RequestID || r.Attempts != 0 || !r.QueuedAt.Equal(now) ||
		!r.NextAttemptAt.Equal(now) || !r.DoneAt.IsZero() || r.Seq <= a2.Seq {
		t.Errorf("replayed: %+v", r)
	}
	// At the back of its group: a2 goes first.
	var order []string
	for range 2 {
		c := h.claimIDs(l, 10)
		order = append(order, c...)
		for _, id := range c {
			h.finish(l, id, done)
		}
	}
	if diff := cmp.Diff([]string{a2.ID, a1.ID}, order); diff != "" {
		t.Errorf("order after replay (-want +got):\n%s", diff)
	}
	_, err = h.s.Replay(ctx, a1.ID)
	h.wantErr("Replay of a done delivery", err, store.ErrConflict)
}

func testReplayBatch(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueue("L", "a")[0]
	a2 := h.enqueue("L", "a")[0]
	l := h.lease("L", "r1")
	b, err := h.s.FreezeBatch(ctx, l, []string{a1.ID, a2.ID}, msg("both"))
	if err != nil {
		t.Fatal(err)
	}
	h.claim(l, 1)
	h.finish(l, b.ID, store.Outcome{State: store.StateDead, Error: "400"})
	if got := h.get(a2.ID).State; got != store.StateDead {
		t.Errorf("member of a dead batch: %s, want dead", got)
	}
	r, err := h.s.Replay(ctx, a2.ID) // a member replays its batch
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != b.ID || r.State != store.StateQueued || r.RequestID != b.RequestID {
		t.Errorf("replayed: %+v, want batch %s queued", r, b.ID)
	}
	if got := h.get(a1.ID).State; got != store.StateBatched {
		t.Errorf("member after replay: %s, want batched", got)
	}
}

func testDelete(t *testing.T, h *harness) {
	ctx := t.Context()
	a1 := h.enqueue("L", "a")[0]
	a2 := h.enqueue("L", "a")[0]
	a3 := h.enqueue("L", "a")[0]
	a4 := h.enqueue("L", "a")[0]
	l := h.lease("L", "r1")
	h.claim(l, 1)
	h.wantErr("Delete of a sending delivery", h.s.Delete(ctx, a1.ID), store.ErrConflict)
	b, err := h.s.FreezeBatch(ctx, l, []string{a2.ID, a3.ID}, msg("x"))
	if err != nil {
		t.Fatal(err)
	}
	h.wantErr("Delete of a member", h.s.Delete(ctx, a2.ID), store.ErrConflict)
	if err := h.s.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Delete(ctx, a4.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{b.ID, a2.ID, a3.ID, a4.ID} {
		_, err := h.s.Get(ctx, id)
		h.wantErr("Get after Delete", err, store.ErrNotFound)
	}
	h.wantErr("Delete of a deleted delivery", h.s.Delete(ctx, a4.ID), store.ErrNotFound)
	states, _ := h.s.LaneStates(ctx)
	if len(states) != 1 || states[0].Pending != 1 {
		t.Errorf("pending after deletes: %+v, want 1 (the sending one)", states)
	}
}

func testList(t *testing.T, h *harness) {
	var all []string
	for i := range 5 {
		all = append(all, h.enqueue("L", fmt.Sprint("g", i%2))[0].ID)
	}
	m := h.enqueue("M", "g0")[0]
	l := h.lease("L", "r1")
	c := h.claimIDs(l, 1)
	h.finish(l, c[0], store.Outcome{State: store.StateDead, Error: "x"})
	tests := []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"all", store.Filter{}, append(append([]string{}, all...), m.ID)},
		{"lane", store.Filter{Lane: "L"}, all},
		{"space", store.Filter{Space: "relay-M"}, []string{m.ID}},
		{"group", store.Filter{Lane: "L", Group: "g1"}, []string{all[1], all[3]}},
		{"dead", store.Filter{States: []store.State{store.StateDead}}, c},
		{"queued or dead", store.Filter{Lane: "L", States: []store.State{store.StateQueued, store.StateDead}}, all},
		{"page 1", store.Filter{Limit: 2}, all[:2]},
		{"page 2", store.Filter{Limit: 2, After: all[1]}, all[2:4]},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, h.list(tt.f)); diff != "" {
			t.Errorf("List %s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testPrune(t *testing.T, h *harness) {
	ctx := t.Context()
	l := h.lease("L", "r1")
	// finish enqueues one delivery and, unless state is queued, finishes it
	// with state; it returns the id.
	finish := func(state store.State) string {
		d := h.enqueue("L", "g")[0]
		if state == store.StateQueued {
			return d.ID
		}
		l = h.lease("L", "r1")
		h.claim(l, 1)
		h.finish(l, d.ID, store.Outcome{State: state, Error: "x"})
		return d.ID
	}
	// Day 0.
	oldDone := finish(store.StateDone)
	oldDropped := finish(store.StateDropped)
	oldDead := finish(store.StateDead)
	stuck := finish(store.StateQueued) // a queued delivery is never pruned
	if _, err := h.s.Enqueue(ctx, store.EnqueueRequest{Space: "s", Lane: "T",
		Deliveries: []store.NewDelivery{{Group: "x", Message: msg("x"), RelayThread: "old-thread"}}}); err != nil {
		t.Fatal(err)
	}
	// Day 28.
	h.clock.Advance(28 * 24 * time.Hour)
	if err := h.s.Delete(ctx, stuck); err != nil { // unblock group g
		t.Fatal(err)
	}
	newDone := finish(store.StateDone)
	newDead := finish(store.StateDead)
	// Day 31: old done, dropped (> 7 days) and old dead (> 30 days) go.
	h.clock.Advance(3 * 24 * time.Hour)
	n, err := h.s.Prune(ctx, store.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("pruned %d, want 3", n)
	}
	for _, id := range []string{oldDone, oldDropped, oldDead} {
		if _, err := h.s.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s) after prune: %v, want ErrNotFound", id, err)
		}
	}
	if got := h.get(newDead).State; got != store.StateDead {
		t.Errorf("young dead letter: %s", got)
	}
	// The old thread is still referred to by its queued delivery.
	if _, err := h.s.Thread(ctx, "old-thread"); err != nil {
		t.Errorf("thread of a pending delivery pruned: %v", err)
	}
	// Short retention: newDone goes, newDead stays; then the thread goes
	// once its delivery is gone.
	n, err = h.s.Prune(ctx, store.Retention{Done: time.Hour, Dead: 365 * 24 * time.Hour})
	if err != nil || n != 1 {
		t.Errorf("second prune: %d, %v; want 1", n, err)
	}
	if _, err := h.s.Get(ctx, newDone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("newDone after prune: %v", err)
	}
	old, err := h.s.List(ctx, store.Filter{Group: "x"})
	if err != nil || len(old) != 1 {
		t.Fatalf("List group x: %v, %v", old, err)
	}
	if err := h.s.Delete(ctx, old[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Prune(ctx, store.Retention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Thread(ctx, "old-thread"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unused thread after prune: %v, want ErrNotFound", err)
	}
	if _, err := h.s.Prune(ctx, store.Retention{Done: -1}); err == nil {
		t.Error("negative retention: no error")
	}
}

func testConcurrentEnqueue(t *testing.T, h *harness) {
	const workers, each = 32, 10
	ctx := t.Context()
	var wg sync.WaitGroup
	got := make([][]store.Delivery, workers)
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res, err := h.s.Enqueue(ctx, store.EnqueueRequest{
					Space: "ops", Lane: "L", CallerRequestID: fmt.Sprintf("w%d-%d", w, i),
					Deliveries: []store.NewDelivery{{Group: fmt.Sprint("g", w), Message: msg(fmt.Sprint(i))}},
				})
				if err != nil {
					errs <- err
					return
				}
				got[w] = append(got[w], res.Deliveries...)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	requestIDs := map[string]bool{}
	for w, ds := range got {
		for i, d := range ds {
			if seen[d.ID] || requestIDs[d.RequestID] {
				t.Fatalf("duplicate id %s or request id %s", d.ID, d.RequestID)
			}
			seen[d.ID], requestIDs[d.RequestID] = true, true
			if i > 0 && d.Seq <= ds[i-1].Seq {
				t.Errorf("worker %d: seq %d after %d", w, d.Seq, ds[i-1].Seq)
			}
		}
	}
	var stored []store.Delivery
	for after := ""; ; {
		page, err := h.s.List(ctx, store.Filter{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		stored = append(stored, page...)
		after = page[len(page)-1].ID
	}
	if len(stored) != workers*each || len(seen) != workers*each {
		t.Errorf("stored %d, answered %d distinct; want %d", len(stored), len(seen), workers*each)
	}
	// Each worker's group is stored in the worker's order (Claim follows
	// Seq, as FIFOPerGroupAcrossClaims checks).
	byGroup := map[string][]string{}
	for _, d := range stored {
		byGroup[d.Group] = append(byGroup[d.Group], d.ID)
	}
	for w, ds := range got {
		if diff := cmp.Diff(ids(ds), byGroup[fmt.Sprint("g", w)]); diff != "" {
			t.Errorf("group g%d in Seq order (-answered +stored):\n%s", w, diff)
		}
	}
}

func testClosed(t *testing.T, h *harness) {
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Enqueue(t.Context(), store.EnqueueRequest{Space: "s", Lane: "L",
		Deliveries: []store.NewDelivery{{Message: msg("x")}}})
	h.wantErr("Enqueue after Close", err, store.ErrClosed)
	_, err = h.s.AcquireLease(t.Context(), store.LeaseRequest{Lane: "L", Owner: "r", TTL: time.Second})
	h.wantErr("AcquireLease after Close", err, store.ErrClosed)
	_, err = h.s.Get(t.Context(), "d0000000000000001")
	h.wantErr("Get after Close", err, store.ErrClosed)
	_, err = h.s.List(t.Context(), store.Filter{})
	h.wantErr("List after Close", err, store.ErrClosed)
}

// testRescueOnlyDeadLeases: a sending delivery goes back to the queue only
// once the lease that claimed it is dead (expired and taken over), as an
// ambiguous attempt with the same RequestID; while its owner's lease lives,
// another owner can neither take the lane nor the delivery, and the owner
// can still record it.
func testRescueOnlyDeadLeases(t *testing.T, h *harness) {
	ds := h.enqueue("L", "g1", "g2")
	a := h.lease("L", "A")
	if got := h.claimIDs(a, 2); len(got) != 2 {
		t.Fatalf("claimed %v, want both", got)
	}
	h.finish(a, ds[1].ID, done)

	// A is alive: nothing is rescued.
	h.clock.Advance(30 * time.Second)
	_, err := h.s.AcquireLease(t.Context(), store.LeaseRequest{Lane: "L", Owner: "B", TTL: time.Minute})
	h.wantErr("B's AcquireLease while A's lease lives", err, store.ErrLeaseHeld)
	if got := h.get(ds[0].ID); got.State != store.StateSending || got.LastError != "" {
		t.Errorf("while A lives: state %s, last error %q; want sending, none", got.State, got.LastError)
	}

	// A's lease is dead: B takes the lane, and the claim with it.
	h.clock.Advance(31 * time.Second)
	b := h.lease("L", "B")
	if b.Token <= a.Token {
		t.Errorf("B's token %d, want above A's %d", b.Token, a.Token)
	}
	got := h.get(ds[0].ID)
	if got.State != store.StateQueued || got.RequestID != ds[0].RequestID || got.Attempts != 1 ||
		got.LastError != store.Rescued || got.LastStatus != 0 {
		t.Errorf("rescued: state %s, requestId %q, attempts %d, last %d %q; want queued, %q, 1, 0 %q",
			got.State, got.RequestID, got.Attempts, got.LastStatus, got.LastError, ds[0].RequestID, store.Rescued)
	}
	if got := h.get(ds[1].ID); got.State != store.StateDone {
		t.Errorf("finished delivery: state %s, want done (only sending ones are rescued)", got.State)
	}
	_, err = h.s.Finish(t.Context(), a, ds[0].ID, done)
	h.wantErr("A's Finish after the rescue", err, store.ErrLeaseLost)
	again := h.claim(b, 1)
	if len(again) != 1 || again[0].ID != ds[0].ID || again[0].RequestID != ds[0].RequestID || again[0].Attempts != 2 {
		t.Fatalf("B claimed %+v, want %s again with its requestId, attempt 2", again, ds[0].ID)
	}
}

// testRescueAtRestart: the process holding a lane is killed with a delivery
// sending. A store opened with its database held exclusively knows that
// process dead and rescues at once: the next owner takes the lane without
// waiting and finds the delivery queued as an ambiguous attempt. A shared
// database cannot know: the lease holds until it expires.
func testRescueAtRestart(t *testing.T, h *harness) {
	ds := h.enqueue("L", "g")
	a := h.lease("L", "A")
	h.claimIDs(a, 1)
	h.restart()

	_, err := h.s.AcquireLease(t.Context(), store.LeaseRequest{Lane: "L", Owner: "B", TTL: time.Minute})
	if !h.exclusive {
		h.wantErr("B's AcquireLease on a shared database before A's lease ends", err, store.ErrLeaseHeld)
		if got := h.get(ds[0].ID); got.State != store.StateSending {
			t.Errorf("before A's lease ends: state %s, want sending", got.State)
		}
		h.clock.Advance(time.Minute + time.Second)
		_, err = h.s.AcquireLease(t.Context(), store.LeaseRequest{Lane: "L", Owner: "B", TTL: time.Minute})
	}
	if err != nil {
		t.Fatalf("B's AcquireLease after the restart: %v", err)
	}
	got := h.get(ds[0].ID)
	if got.State != store.StateQueued || got.RequestID != ds[0].RequestID || got.Attempts != 1 || got.LastError != store.Rescued {
		t.Errorf("after the restart: state %s, requestId %q, attempts %d, last error %q; want queued, %q, 1, %q",
			got.State, got.RequestID, got.Attempts, got.LastError, ds[0].RequestID, store.Rescued)
	}
	_, err = h.s.Finish(t.Context(), a, ds[0].ID, done)
	h.wantErr("the killed owner's Finish", err, store.ErrLeaseLost)
}
