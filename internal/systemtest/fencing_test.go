package systemtest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestFencing freezes (SIGSTOP) the replica that holds every space, in the
// middle of its deliveries, for longer than its lease, lets a second
// replica take the spaces over, and resumes it (SIGCONT). The resumed
// replica must send nothing more to the spaces it no longer holds: it
// finds its leases gone and says so ("lease_lost"). Nothing is lost, every
// thread stays in order, the pace holds across both replicas, and each
// message arrives once (the emulator honours requestId, which covers a
// request the frozen replica had sent but not recorded).
//
// The two replicas share the store and the configuration, except that each
// posts through its own webhook of each emulator space: one Google space,
// so one lane, but the emulator records which webhook a request came
// through, which tells the replicas' requests apart.
func TestFencing(t *testing.T) {
	const nSpaces, threads = 4, 2
	args := []string{"--quota-per-second", quotaPerSecond, "--quota-per-minute", "0"}
	for i := range nSpaces {
		args = append(args, "--space", fmt.Sprintf("s%d", i))
	}
	emu := startEmulator(t, args...)
	emuSpaces := emu.spaces(t)
	var spaces []*relaySpace
	laneOf := map[string]string{}     // relay space → emulator space id
	frozenHook := map[string]string{} // relay space → the frozen replica's webhook URL
	frozenID := map[string]bool{}     // the frozen replica's webhook ids
	for i := range nSpaces {
		name := fmt.Sprintf("s%d", i)
		sp := emuSpaces[name]
		var second emuWebhook
		mustJSON(t, "POST", emu.base+"/api/v1/spaces/"+sp.ID+"/webhooks", "", map[string]string{"name": "frozen replica"}, &second)
		spaces = append(spaces, &relaySpace{Name: name, Webhook: sp.Webhooks[0].URL, Pace: testPace})
		laneOf[name], frozenHook[name], frozenID[second.ID] = sp.ID, second.URL, true
	}
	c := newCluster(t, emu.host, spaces...)

	// The replica to freeze starts first and takes every space.
	frozen := c.startReplica(frozenHook)
	frozen.waitReady()
	waitFor(t, 10*time.Second, "the first replica to hold every space", func() bool {
		for _, h := range frozen.holders(t) {
			if h.Holder != frozen.owner {
				return false
			}
		}
		return true
	})
	other := c.startReplica(nil)
	other.waitReady()

	// Messages go to the other replica until the frozen one resumes, then
	// to both; they stop once the resumed one has had time to misbehave.
	var labels []label
	for _, s := range spaces {
		for th := range threads {
			labels = append(labels, label{s.Name, fmt.Sprintf("%s-t%d", s.Name, th)})
		}
	}
	var resumed atomic.Bool
	targets := func() []*replica {
		if resumed.Load() {
			return []*replica{other, frozen}
		}
		return []*replica{other}
	}
	ctx, stopPosting := context.WithCancel(t.Context())
	defer stopPosting()
	p := newPoster(c)
	posted := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(posted)
		p.run(ctx, labels, 1000, 200*time.Millisecond, targets)
	}()

	// Freeze the holder while it delivers.
	waitFor(t, 10*time.Second, "the first replica to deliver in every space", func() bool {
		for _, s := range spaces {
			if !slices.ContainsFunc(emu.requests(t, laneOf[s.Name]), func(r emuRequest) bool { return frozenID[r.Webhook] }) {
				return false
			}
		}
		return true
	})
	stoppedAt := time.Now()
	frozen.signal(syscall.SIGSTOP)

	// The other replica takes every space over once the leases expire.
	waitFor(t, 20*time.Second, "the other replica to hold and deliver in every space", func() bool {
		hs := other.holders(t)
		for _, s := range spaces {
			if hs[s.Name].Holder != other.owner {
				return false
			}
			if !slices.ContainsFunc(emu.requests(t, laneOf[s.Name]), func(r emuRequest) bool {
				return !frozenID[r.Webhook] && r.Start.After(stoppedAt)
			}) {
				return false
			}
		}
		return true
	})
	// About clusterLease after the freeze; about 5 s when the freeze caught
	// the replica inside a transaction, whose lane lock PostgreSQL keeps
	// until idle_in_transaction_session_timeout ends the session.
	tookOver := time.Now()
	time.Sleep(300 * time.Millisecond)
	const marker = "=== systemtest: SIGCONT"
	fmt.Fprintln(frozen.out, marker)
	contAt := time.Now()
	frozen.signal(syscall.SIGCONT)
	resumed.Store(true)

	// The resumed replica finds its leases gone, and keeps ingesting.
	waitFor(t, 10*time.Second, "the resumed replica to notice its leases are gone", func() bool {
		return frozen.logCount("lease_lost", "", marker) >= nSpaces
	})
	time.Sleep(1500 * time.Millisecond) // it would send now, if it did
	stopPosting()
	<-posted
	waitFor(t, 30*time.Second, "the replicas to deliver everything", func() bool { return other.settled(t) })

	// The frozen replica's requests: none after it was frozen but those it
	// had already sent, and after it resumed none but under a lease it took
	// anew (the replicas share the spaces, so the resumed one may take its
	// share back: each such lease is logged, lease_acquired, before its
	// first request).
	var lastFrozen time.Time
	var lists [][]emuMessage
	sent := 0
	for _, s := range spaces {
		rs := emu.requests(t, laneOf[s.Name])
		sent += len(rs)
		retaken := frozen.logTimes(t, "lease_acquired", "google_space="+laneOf[s.Name], marker)
		for _, r := range rs {
			if !frozenID[r.Webhook] {
				continue
			}
			if !r.Start.After(contAt) {
				if r.Start.After(lastFrozen) {
					lastFrozen = r.Start
				}
				continue
			}
			if len(retaken) == 0 || r.Start.Before(retaken[0]) {
				t.Errorf("space %s: the resumed replica sent a request %s after SIGCONT under its old lease (new leases taken at %v)",
					s.Name, r.Start.Sub(contAt), retaken)
			}
		}
		if gap := minGap(rs); gap < testPace-pacingTolerance {
			t.Errorf("space %s: two requests started %s apart, want at least %s (pace %s less %s tolerance)", s.Name, gap, testPace-pacingTolerance, testPace, pacingTolerance)
		}
		lists = append(lists, emu.messages(t, laneOf[s.Name], 0, time.Second))
	}
	if lastFrozen.After(stoppedAt.Add(pacingTolerance)) {
		t.Errorf("the frozen replica's last request started %s after SIGSTOP", lastFrozen.Sub(stoppedAt))
	}
	// Held by the other replica, by the resumed one under a lease taken
	// anew, or by none (a space being handed over between them).
	for name, h := range other.holders(t) {
		if h.Holder == frozen.owner && frozen.logCount("lease_acquired", "google_space="+laneOf[name], marker) == 0 {
			t.Errorf("space %s: held by the resumed replica %s without a new lease", name, h.Holder)
		}
	}

	got := collect(lists...)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, err := range p.errs {
		t.Error(err)
	}
	accepted, byFrozen := 0, 0
	for _, l := range labels {
		var want []int
		for n := 0; p.accepted[mark{l.String(), n}]; n++ {
			want = append(want, n)
		}
		accepted += len(want)
		for _, n := range want {
			m := mark{l.String(), n}
			if c := got.copies[m]; c != 1 {
				t.Errorf("%s delivered %d times, want once", m.text(), c)
			}
		}
		// The post in flight when posting stopped may have been committed
		// without its answer reaching the poster: it may follow.
		g := firsts(got.order[l.String()])
		if !slices.Equal(g, want) && !slices.Equal(g, append(want, len(want))) {
			t.Errorf("thread %s: first arrivals %v, want %v", l, g, want)
		}
	}
	byFrozen = frozen.logCount("lease_lost", "", marker)
	t.Logf("%d messages answered 2xx, %d requests to the emulator; frozen %s after the start, its last request %s after SIGSTOP; taken over %s after SIGSTOP (lease %s); resumed %s after SIGSTOP, then %d lease_lost records and no request from it",
		accepted, sent, stoppedAt.Sub(start).Round(time.Millisecond), lastFrozen.Sub(stoppedAt).Round(time.Millisecond),
		tookOver.Sub(stoppedAt).Round(time.Millisecond), clusterLease, contAt.Sub(stoppedAt).Round(time.Millisecond), byFrozen)
}
