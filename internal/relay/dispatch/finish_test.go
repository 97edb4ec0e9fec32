package dispatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// failingFinish is a store whose Finish fails, with an error that is not a
// lost lease (a full disk), for the first n calls that record delivery id
// as done.
type failingFinish struct {
	store.Store
	id string
	mu sync.Mutex
	n  int
}

var errDiskFull = errors.New("database or disk is full")

func (f *failingFinish) Finish(ctx context.Context, lease store.Lease, id string, out store.Outcome) (store.Delivery, error) {
	f.mu.Lock()
	fail := id == f.id && out.State == store.StateDone && f.n > 0
	if fail {
		f.n--
	}
	f.mu.Unlock()
	if fail {
		return store.Delivery{}, errDiskFull
	}
	return f.Store.Finish(ctx, lease, id, out)
}

// TestFinishFailureRetried: Google accepted m1, then recording it failed
// several times. The answer is kept and the record retried while the lane
// holds the group: m1 is sent once and recorded done with Google's names,
// and m2 of its thread follows it once the record is in.
func TestFinishFailureRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), nil)
		ds := h.enqueue("ops", msg{text: "m1", group: "g"}, msg{text: "m2", group: "g"}, msg{text: "other", group: "h"})
		h.withStore(func(st store.Store) store.Store { return &failingFinish{Store: st, id: ds[0].ID, n: 4} })
		h.start()
		h.settled(10*time.Minute, ds...)

		if diff := cmp.Diff([]string{"m1"}, texts(h.send.callsOf("m1"))); diff != "" {
			t.Errorf("m1 sends (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"m2"}, texts(h.send.callsOf("m2"))); diff != "" {
			t.Errorf("m2 sends (-want +got):\n%s", diff)
		}
		for _, d := range ds {
			got := h.get(d.ID)
			want := "spaces/AAA/messages/" + map[string]string{ds[0].ID: "m1", ds[1].ID: "m2", ds[2].ID: "other"}[d.ID]
			if got.State != store.StateDone || got.GoogleMessage != want {
				t.Errorf("%s: state %s, Google message %q; want done, %s", d.ID, got.State, got.GoogleMessage, want)
			}
		}
		// The thread's order holds: m2 went out after m1's record, and the
		// other thread was not held up by it.
		calls := h.send.Calls()
		if diff := cmp.Diff([]string{"m1", "other", "m2"}, texts(calls)); diff != "" {
			t.Errorf("send order (-want +got):\n%s", diff)
		}
		if got := h.logs.records(t, "finish_recorded"); len(got) != 1 || got[0]["tries"] != float64(5) {
			t.Errorf("finish_recorded logs = %v, want one after 5 tries", got)
		}
	})
}

// TestFinishRetryEndsWithLease: a record that keeps failing is abandoned
// when the lane loses the lease (another replica took it): the delivery is
// then the new holder's, and the old holder does not retry it forever.
func TestFinishRetryEndsWithLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), nil)
		ds := h.enqueue("ops", msg{text: "m1", group: "g"})
		h.withStore(func(st store.Store) store.Store { return &failingFinish{Store: st, id: ds[0].ID, n: 1 << 30} })
		h.start()
		h.waitFor("m1 sent", time.Minute, func() bool { return len(h.send.callsOf("m1")) == 1 })
		h.waitFor("a failed record", time.Minute, func() bool { return len(h.logs.records(t, "finish_failed")) > 0 })
		// Another replica takes the lane: its lease replaces ours, and
		// m1 goes back to the queue with ours.
		ls := h.laneState("AAA")
		if err := h.st.ReleaseLease(context.Background(), store.Lease{Lane: "AAA", Owner: ls.Owner, Token: ls.Token}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.st.AcquireLease(context.Background(), store.LeaseRequest{Lane: "AAA", Owner: "replica-2", TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
		h.waitFor("the retries to end", 10*time.Minute, func() bool { return len(h.logs.records(t, "finish_abandoned")) == 1 })
		if got := h.get(ds[0].ID); got.State != store.StateQueued || got.RequestID != ds[0].RequestID {
			t.Errorf("m1: state %s, requestId %q; want queued for the new holder, with %q", got.State, got.RequestID, ds[0].RequestID)
		}
	})
}

// lockProbe is a store whose PauseSpace checks that the lane's mutex, which
// the loop waits on, is free while the store is called: it takes and drops
// the mutex from another goroutine before answering.
type lockProbe struct {
	store.Store
	mu   *sync.Mutex
	held chan bool // one answer per PauseSpace: was the mutex held throughout?
}

func (p *lockProbe) PauseSpace(ctx context.Context, pause store.SpacePause) error {
	free := make(chan struct{})
	go func() { p.mu.Lock(); p.mu.Unlock(); close(free) }()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-free:
		p.held <- false
	case <-t.C:
		p.held <- true
	}
	return p.Store.PauseSpace(ctx, pause)
}

// TestNoStoreCallUnderLaneMutex: a 403 pauses the relay space in the store without
// holding the mutex the loop waits on, so a slow store write cannot stall
// the loop (lease renewals, other lanes' wakeups). Real time: the probe
// gives the mutex 5 s, which only a held mutex exhausts.
func TestNoStoreCallUnderLaneMutex(t *testing.T) {
	h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
		return 0, apiError(403, "PERMISSION_DENIED", "webhook revoked")
	})
	probe := &lockProbe{held: make(chan bool, 4)}
	h.withStore(func(st store.Store) store.Store { probe.Store = st; return probe })
	probe.mu = &h.d.lanes["AAA"].mu
	h.start()
	h.enqueue("ops", msg{text: "m1"})
	select {
	case held := <-probe.held:
		if held {
			t.Error("PauseSpace was called with the lane's mutex held")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no PauseSpace within 30 s of a 403")
	}
}
