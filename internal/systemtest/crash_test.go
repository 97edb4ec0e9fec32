package systemtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestCrash kills the relay with SIGKILL at random moments while a client
// posts a burst, starts it again on the same SQLite store each time, and
// checks what reached the emulator: with the emulator honouring requestId,
// every message the relay answered 2xx exactly once; without, none lost and
// no more duplicates than attempts that were in flight at a kill.
//
// The relay started after a kill holds the SQLite store's lock file, so it
// knows the dead process's leases dead and takes its lanes at once (see
// TestSQLiteHeldExclusively). The two variants run in parallel.
func TestCrash(t *testing.T) {
	binary(t) // skip before starting subtests
	for _, honour := range []bool{true, false} {
		t.Run(fmt.Sprintf("honour-request-id=%t", honour), func(t *testing.T) {
			t.Parallel()
			testCrash(t, honour)
		})
	}
}

// confirmSlack is how long, at most, the relay takes from the emulator's
// answer to a committed "done" (an SQLite commit with synchronous=FULL on a
// loaded machine). An attempt answered earlier than that before a kill was
// recorded, so it cannot be sent again.
const confirmSlack = time.Second

func testCrash(t *testing.T, honour bool) {
	const (
		threads   = 5
		perThread = 20
		total     = threads * perThread
		kills     = 2
		crashPace = 100 * time.Millisecond
	)
	emu := startEmulator(t, "--space", "crash", "--quota-per-second", "20", "--quota-per-minute", "0",
		fmt.Sprintf("--honour-request-id=%t", honour))
	space := emu.spaces(t)["crash"]
	r := startRelay(t, emu.host, &relaySpace{Name: "crash", Webhook: space.Webhooks[0].URL, Pace: crashPace})
	start := time.Now()

	// The client posts message i into thread i%threads, in order, each
	// until it gets a 2xx (at most 30 s), repeating its requestId so that
	// the relay's ingest deduplicates a post whose answer a kill cut off.
	var (
		mu       sync.Mutex
		accepted = map[mark]bool{}
		retries  int
	)
	client := make(chan struct{})
	go func() {
		defer close(client)
		for i := range total {
			m := mark{fmt.Sprintf("t%d", i%threads), i / threads}
			q := url.Values{"requestId": {fmt.Sprintf("crash-%d", i)}}
			for k, v := range threadQuery {
				q[k] = v
			}
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) && t.Context().Err() == nil {
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				status, _, _ := r.post(ctx, "crash", q, message(m, m.label))
				cancel()
				if status/100 == 2 {
					mu.Lock()
					accepted[m] = true
					mu.Unlock()
					break
				}
				mu.Lock()
				retries++
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(rand.N(20 * time.Millisecond))
		}
	}()

	// The kills: the first at a random moment of the burst; the second
	// once the restarted relay delivers again, as soon as the emulator
	// has posted a message. That aims at the few milliseconds in which an
	// attempt is answered but not yet recorded, which a kill at a random
	// moment, with requests taking a millisecond out of each 100 ms pace,
	// would rarely hit.
	var killedAt []time.Time
	for k := range kills {
		if k == 0 {
			time.Sleep(200*time.Millisecond + rand.N(time.Second))
		} else {
			n := len(emu.messages(t, space.ID, 0, time.Second))
			emu.messages(t, space.ID, n+1, 2*time.Minute)
			time.Sleep(rand.N(500 * time.Millisecond))
			emu.nextMessageEvent(t, 10*time.Second) // else kill anyway: all was delivered
		}
		killedAt = append(killedAt, time.Now())
		r.kill()
		r.start()
	}
	<-client

	// Wait until the relay has settled every delivery, so that no late
	// duplicate can follow the count.
	waitFor(t, 3*time.Minute, "the relay to deliver everything", func() bool {
		ds := r.deliveries(t, "crash")
		for _, d := range ds {
			if d.State != "done" && d.State != "batched" {
				return false
			}
		}
		return len(ds) > 0
	})
	got := collect(emu.messages(t, space.ID, 0, time.Second))
	elapsed := time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	lost, dups, maxCopies := 0, 0, 0
	for i := range total {
		m := mark{fmt.Sprintf("t%d", i%threads), i / threads}
		c := got.copies[m]
		maxCopies = max(maxCopies, c)
		switch {
		case c == 0 && accepted[m]:
			lost++
			t.Errorf("%s: answered 2xx, never delivered", m.text())
		case c > 1 && honour:
			t.Errorf("%s delivered %d times, want once: the emulator honours requestId", m.text(), c)
		case c > 1+kills:
			// Each message has at most one attempt in flight, so each
			// kill can leave it at most one ambiguous attempt.
			t.Errorf("%s delivered %d times, want at most %d (one more per kill)", m.text(), c, 1+kills)
		}
		if c > 1 {
			dups += c - 1
		}
	}
	var want []int
	for n := range perThread {
		want = append(want, n)
	}
	for i := range threads {
		key := fmt.Sprintf("t%d", i)
		if g := firsts(got.order[key]); !slices.Equal(g, want) {
			t.Errorf("thread %s: first arrivals %v, want %v", key, g, want)
		}
	}

	// The bound on duplicates: a message is posted twice only when an
	// attempt reached the emulator and was answered 200, but the relay did
	// not record it before it died, so that the next process sent it again.
	// Such an attempt started before the kill and was answered no earlier
	// than confirmSlack before it; the emulator's request records list
	// them.
	reqs := emu.requests(t, space.ID)
	ambiguous := 0
	for _, k := range killedAt {
		for _, rq := range reqs {
			if rq.Status == 200 && !rq.Start.After(k) && !rq.end().Before(k.Add(-confirmSlack)) {
				ambiguous++
			}
		}
	}
	// Duplicates are counted per request posted again (a coalesced batch
	// repeats several messages in one request).
	if got.repeats > ambiguous {
		t.Errorf("%d requests posted again, want at most %d: the attempts answered 200 within %s before a kill", got.repeats, ambiguous, confirmSlack)
	}
	t.Logf("%d messages, %d answered 2xx (%d posts retried), %d kills, %d requests to the emulator, %d duplicated messages in %d repeated requests (max %d copies of one; bound %d), relay runs %d, %s",
		total, len(accepted), retries, kills, len(reqs), dups, got.repeats, maxCopies, ambiguous, r.runs, elapsed.Round(time.Millisecond))
}
