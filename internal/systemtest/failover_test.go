package systemtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFailover runs three relay replicas on one PostgreSQL schema, all
// with the same configuration of ten spaces (each its own emulator space),
// posts a burst of several threads per space to them in turn, and kills
// (SIGKILL) the replica holding the most spaces in the middle of it. Then:
// nothing the replicas answered 2xx is lost, every thread arrives in order,
// no two requests to one emulator space start closer than the pace allows
// across all replicas, and with the emulator honouring requestId every
// message arrives once; without, no more requests are posted twice than
// attempts that were ambiguous (answered by the emulator but perhaps not
// recorded by the killed replica, or left without an answer by a live
// one, which logs it). It reports the takeover time: from the kill to the
// first request another replica makes in each of the dead one's spaces.
func TestFailover(t *testing.T) {
	for _, honour := range []bool{true, false} {
		t.Run(fmt.Sprintf("honour-request-id=%t", honour), func(t *testing.T) {
			testFailover(t, honour)
		})
	}
}

func testFailover(t *testing.T, honour bool) {
	const (
		nSpaces   = 10
		threads   = 3  // per space
		perThread = 12 // messages
		replicas  = 3
	)
	args := []string{"--quota-per-second", quotaPerSecond, "--quota-per-minute", "0", fmt.Sprintf("--honour-request-id=%t", honour)}
	for i := range nSpaces {
		args = append(args, "--space", fmt.Sprintf("s%d", i))
	}
	emu := startEmulator(t, args...)
	emuSpaces := emu.spaces(t)
	var spaces []*relaySpace
	laneOf := map[string]string{} // relay space → emulator space id
	for i := range nSpaces {
		name := fmt.Sprintf("s%d", i)
		sp := emuSpaces[name]
		spaces = append(spaces, &relaySpace{Name: name, Webhook: sp.Webhooks[0].URL, Pace: testPace})
		laneOf[name] = sp.ID
	}
	c := newCluster(t, emu.host, spaces...)
	c.launch(replicas)

	var labels []label
	for _, s := range spaces {
		for th := range threads {
			labels = append(labels, label{s.Name, fmt.Sprintf("%s-t%d", s.Name, th)})
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p := newPoster(c)
	posted := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(posted)
		// Up to 400 ms between two posts of a thread: the burst lasts
		// about 2.5 s. The posts go to every replica in turn, the killed
		// one included, as through a load balancer that has not noticed
		// yet: they fail there and go to the next.
		p.run(ctx, labels, perThread, 400*time.Millisecond, nil)
	}()

	// The kill: in the middle of the burst, once half of it has been
	// accepted, the replica holding the most spaces.
	total := len(labels) * perThread
	waitFor(t, 20*time.Second, "half of the burst accepted", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.accepted) >= total/2
	})
	held := map[*replica][]string{}
	for name, h := range c.replicas[0].holders(t) {
		if r := c.byOwner(h.Holder); r != nil {
			held[r] = append(held[r], name)
		}
	}
	victim := c.replicas[0]
	for r, names := range held {
		if len(names) > len(held[victim]) {
			victim = r
		}
	}
	if len(held[victim]) == 0 {
		t.Fatalf("no replica holds a space: %v", c.replicas[0].holders(t))
	}
	slices.Sort(held[victim])
	// Right after the emulator posts a message, most likely in one of the
	// victim's spaces: that aims at the moment an attempt is answered but
	// not yet recorded, which makes the next holder send it again.
	emu.nextMessageEvent(t, 2*time.Second)
	killedAt := time.Now()
	victim.p.kill()
	t.Logf("killed replica %s (%s) %s after the burst began; it held %v; spaces per replica %v",
		victim.name, victim.owner, killedAt.Sub(start).Round(time.Millisecond), held[victim], spacesPerReplica(held))

	<-posted
	p.mu.Lock()
	for _, err := range p.errs {
		t.Error(err)
	}
	p.mu.Unlock()
	survivor := c.live()[0]
	waitFor(t, 45*time.Second, "the replicas to deliver everything", func() bool { return survivor.settled(t) })
	elapsed := time.Since(start)

	// What the emulator got.
	var lists [][]emuMessage
	reqs := map[string][]emuRequest{}
	for _, s := range spaces {
		lists = append(lists, emu.messages(t, laneOf[s.Name], 0, time.Second))
		reqs[s.Name] = emu.requests(t, laneOf[s.Name])
	}
	got := collect(lists...)

	p.mu.Lock()
	defer p.mu.Unlock()
	var want []int
	for n := range perThread {
		want = append(want, n)
	}
	dupMarks := 0
	for _, l := range labels {
		for n := range perThread {
			m := mark{l.String(), n}
			switch c := got.copies[m]; {
			case c == 0 && p.accepted[m]:
				t.Errorf("%s: answered 2xx, never delivered", m.text())
			case c > 1 && honour:
				t.Errorf("%s delivered %d times, want once: the emulator honours requestId", m.text(), c)
			case c > 1:
				dupMarks += c - 1
			}
		}
		if g := firsts(got.order[l.String()]); !slices.Equal(g, want) {
			t.Errorf("thread %s: first arrivals %v, want %v", l, g, want)
		}
	}

	// Pacing across replicas, from the emulator's records.
	least := time.Duration(-1)
	for _, s := range spaces {
		gap := minGap(reqs[s.Name])
		if gap < testPace-pacingTolerance {
			t.Errorf("space %s: two requests started %s apart, want at least %s (pace %s less %s tolerance)", s.Name, gap, testPace-pacingTolerance, testPace, pacingTolerance)
		}
		if least < 0 || gap < least {
			least = gap
		}
	}
	stats := emu.byStatus(t)
	if stats["429"] != 0 {
		t.Errorf("emulator answered 429 %d times, want 0: %v", stats["429"], stats)
	}

	// Takeover: the first request after the kill in each space the victim
	// held is another replica's.
	var takeovers []time.Duration
	for _, name := range held[victim] {
		for _, rq := range reqs[name] {
			if rq.Start.After(killedAt) {
				takeovers = append(takeovers, rq.Start.Sub(killedAt))
				break
			}
		}
	}
	slices.Sort(takeovers)
	if len(takeovers) == 0 {
		t.Errorf("no request after the kill in the spaces the victim held (%v)", held[victim])
	}
	for name, h := range survivor.holders(t) {
		if h.Holder == victim.owner {
			t.Errorf("space %s still held by the killed replica", name)
		}
	}

	// The bound on duplicates. An attempt is ambiguous when the emulator
	// posted it but the relay may not have recorded that: the victim's
	// attempts answered 200 no earlier than confirmSlack before the kill
	// (or after it), in the spaces it held; and the attempts a live
	// replica logged as retried without an answer (status=0: a timeout or
	// a broken connection) or could not record (finish_failed). A request
	// posted twice counts once however many messages it merged.
	ambiguous := 0
	for _, name := range held[victim] {
		for _, rq := range reqs[name] {
			if rq.Status == 200 && !rq.Start.After(killedAt) && !rq.end().Before(killedAt.Add(-confirmSlack)) {
				ambiguous++
			}
		}
	}
	logged := 0
	for _, r := range c.live() {
		logged += r.logCount("delivery_retry", "status=0", "") + r.logCount("finish_failed", "", "")
	}
	ambiguous += logged
	if !honour && got.repeats > ambiguous {
		t.Errorf("%d requests posted again, want at most %d ambiguous attempts", got.repeats, ambiguous)
	}
	nReqs := 0
	for _, rs := range reqs {
		nReqs += len(rs)
	}
	// Deliveries attempted again: the victim's claims that the takeover
	// put back, sent again with the same requestId.
	again := 0
	for _, name := range held[victim] {
		for _, d := range survivor.deliveries(t, name) {
			if d.Attempts > 1 {
				again++
			}
		}
	}
	t.Logf("%d messages in %d threads over %d spaces, %d answered 2xx (%d posts retried); %d requests to the emulator, least gap %s (pace %s, tolerance %s); %d duplicated messages in %d repeated requests (bound %d: %d logged); everything delivered after %s",
		total, len(labels), nSpaces, len(p.accepted), p.retries, nReqs, least, testPace, pacingTolerance,
		dupMarks, got.repeats, ambiguous, logged, elapsed.Round(time.Millisecond))
	t.Logf("takeover of %d spaces after kill -9 (lease %s, request_timeout %s): first request by another replica after %s; %d deliveries attempted again",
		len(held[victim]), clusterLease, clusterRequestTimeout, fmtDurations(takeovers), again)
}

// spacesPerReplica counts the spaces each replica holds, by replica name.
func spacesPerReplica(held map[*replica][]string) map[string]int {
	m := map[string]int{}
	for r, names := range held {
		m[r.name] = len(names)
	}
	return m
}

// fmtDurations prints sorted durations as "min … max (n)".
func fmtDurations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Round(10*time.Millisecond).String())
	}
	return fmt.Sprintf("%s to %s [%s]", ds[0].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond), strings.Join(parts, " "))
}
