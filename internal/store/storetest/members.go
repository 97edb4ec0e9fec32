package storetest

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

var memberTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"MembersSeenExpiredLeft", testMembersSeenExpiredLeft},
	{"LeaseMinFree", testLeaseMinFree},
}

// heartbeat records owner as a member for ttl and returns the members.
func (h *harness) heartbeat(owner string, ttl time.Duration) []store.Member {
	h.t.Helper()
	ms, err := h.s.Heartbeat(h.t.Context(), store.MemberRequest{Owner: owner, TTL: ttl})
	if err != nil {
		h.t.Fatalf("Heartbeat(%s): %v", owner, err)
	}
	return ms
}

// testMembersSeenExpiredLeft: a member is seen until its TTL runs out
// without another heartbeat, or until it leaves.
func testMembersSeenExpiredLeft(t *testing.T, h *harness) {
	ctx := t.Context()
	t0 := h.clock.Now()
	if diff := cmp.Diff([]store.Member{{Owner: "r1", Until: t0.Add(10 * time.Second)}}, h.heartbeat("r1", 10*time.Second)); diff != "" {
		t.Errorf("first heartbeat (-want +got):\n%s", diff)
	}
	h.clock.Advance(time.Second)
	want := []store.Member{{Owner: "r1", Until: t0.Add(10 * time.Second)}, {Owner: "r2", Until: t0.Add(31 * time.Second)}}
	if diff := cmp.Diff(want, h.heartbeat("r2", 30*time.Second)); diff != "" {
		t.Errorf("second member (-want +got):\n%s", diff)
	}
	// r1 sent no heartbeat for its whole TTL: gone.
	h.clock.Advance(9 * time.Second)
	want = []store.Member{{Owner: "r2", Until: t0.Add(40 * time.Second)}}
	if diff := cmp.Diff(want, h.heartbeat("r2", 30*time.Second)); diff != "" {
		t.Errorf("after r1's TTL (-want +got):\n%s", diff)
	}
	// r1 comes back: a member again.
	want = []store.Member{{Owner: "r1", Until: t0.Add(20 * time.Second)}, {Owner: "r2", Until: t0.Add(40 * time.Second)}}
	if diff := cmp.Diff(want, h.heartbeat("r1", 10*time.Second)); diff != "" {
		t.Errorf("r1 back (-want +got):\n%s", diff)
	}
	if err := h.s.Leave(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Leave(ctx, "never-joined"); err != nil {
		t.Errorf("Leave of a non-member: %v", err)
	}
	want = []store.Member{{Owner: "r2", Until: t0.Add(40 * time.Second)}}
	if diff := cmp.Diff(want, h.heartbeat("r2", 30*time.Second)); diff != "" {
		t.Errorf("after r1 left (-want +got):\n%s", diff)
	}
	if _, err := h.s.Heartbeat(ctx, store.MemberRequest{Owner: "", TTL: time.Second}); err == nil {
		t.Error("Heartbeat without an owner: no error")
	}
	if _, err := h.s.Heartbeat(ctx, store.MemberRequest{Owner: "r3"}); err == nil {
		t.Error("Heartbeat without a TTL: no error")
	}
}

// testLeaseMinFree: with MinFree a lane passes to a new owner only once it
// has been free that long, after a release as after an expiry; a lane never
// leased is free, and the holder's renewal ignores MinFree.
func testLeaseMinFree(t *testing.T, h *harness) {
	ctx := t.Context()
	acquire := func(owner string, minFree time.Duration) (store.Lease, error) {
		return h.s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: owner, TTL: time.Minute, MinFree: minFree})
	}
	l1, err := acquire("r1", 10*time.Second)
	if err != nil {
		t.Fatalf("a lane never leased: %v", err)
	}
	if _, err := acquire("r1", 10*time.Second); err != nil {
		t.Fatalf("renewal with MinFree: %v", err)
	}
	if err := h.s.ReleaseLease(ctx, l1); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(9 * time.Second)
	_, err = acquire("r2", 10*time.Second)
	h.wantErr("9 s after a release, MinFree 10 s", err, store.ErrLeaseHeld)
	_, err = acquire("r1", 10*time.Second)
	h.wantErr("the releasing owner, 9 s after its release", err, store.ErrLeaseHeld)
	h.clock.Advance(time.Second)
	l2, err := acquire("r2", 10*time.Second)
	if err != nil {
		t.Fatalf("10 s after a release, MinFree 10 s: %v", err)
	}
	if l2.Token <= l1.Token {
		t.Errorf("token %d after a takeover, want more than %d", l2.Token, l1.Token)
	}
	// r2's lease expires; 5 s later only a request without MinFree (or
	// with a shorter one) takes the lane.
	h.clock.Advance(time.Minute + 5*time.Second)
	_, err = acquire("r3", 10*time.Second)
	h.wantErr("5 s after an expiry, MinFree 10 s", err, store.ErrLeaseHeld)
	if _, err := acquire("r2", 10*time.Second); err != nil {
		t.Errorf("renewal of an expired lease nobody took, with MinFree: %v", err)
	}
	h.clock.Advance(time.Minute + 5*time.Second)
	l3, err := acquire("r3", 5*time.Second)
	if err != nil {
		t.Fatalf("5 s after an expiry, MinFree 5 s: %v", err)
	}
	if l3.Owner != "r3" || l3.Token <= l2.Token {
		t.Errorf("lease %+v, want r3's with a token above %d", l3, l2.Token)
	}
}
