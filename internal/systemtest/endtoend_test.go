package systemtest

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// Timing of the scaled-down tests. Google allows one request per second per
// space and the relay paces at 1.05 s; here the emulator allows 10 per
// second (one per 100 ms, burst 1) and the relay paces at 150 ms. The
// margin is wider than Google's 5 % because on two loaded cores the time
// from the relay's start of a request to the emulator's quota check varies
// by tens of milliseconds; the pacing itself is asserted from the
// emulator's request records to within pacingTolerance. One request that
// reaches the emulator late shortens its gap to the next by that delay,
// which on loaded cores was seen to reach 30 ms (gaps of 120 ms); the
// tolerance of 60 ms absorbs that, while two replicas sending to one space
// at once (the failure the failover and fencing tests look for) put two
// requests milliseconds apart, and the emulator's quota (one per 100 ms)
// answers 429 to anything faster than it, which the tests also count.
const (
	testPace        = 150 * time.Millisecond
	quotaPerSecond  = "10"
	pacingTolerance = 60 * time.Millisecond
)

// label names a relay space and thread of test messages.
type label struct {
	space  string // relay space
	thread string // thread key; "" for messages without a thread
}

func (l label) String() string {
	if l.thread == "" {
		return l.space + ".none"
	}
	return l.space + "." + l.thread
}

// TestEndToEnd posts 60 messages concurrently into three relay spaces, two
// of which are webhooks of one Google space and so share its lane, and
// checks that the emulator got each exactly once, in the relay's enqueue
// order per thread, with no two requests to a Google space closer than the
// pace allows and no 429.
func TestEndToEnd(t *testing.T) {
	emu := startEmulator(t, "--space", "alpha", "--space", "beta",
		"--quota-per-second", quotaPerSecond, "--quota-per-minute", "0")
	sp := emu.spaces(t)
	alpha, beta := sp["alpha"], sp["beta"]
	var second emuWebhook
	mustJSON(t, "POST", emu.base+"/api/v1/spaces/"+alpha.ID+"/webhooks", "", map[string]string{"name": "second"}, &second)
	r := startRelay(t, emu.host,
		&relaySpace{Name: "a1", Webhook: alpha.Webhooks[0].URL, Pace: testPace},
		&relaySpace{Name: "a2", Webhook: second.URL, Pace: testPace},
		&relaySpace{Name: "b", Webhook: beta.Webhooks[0].URL, Pace: testPace})

	// Thread keys are distinct across a1 and a2: they post into one Google
	// space, where equal keys would make one thread of two relay groups.
	labels := []label{{"a1", "a1-t1"}, {"a1", "a1-t2"}, {"a1", ""}, {"a2", "a2-t1"}, {"b", "b-t1"}, {"b", "b-t2"}}
	const perLabel, posters = 10, 2 // two concurrent posters per thread
	start := time.Now()
	var (
		mu   sync.Mutex
		ids  = map[mark]string{} // delivery id of each mark
		errs []error
		wg   sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for _, l := range labels {
		for p := range posters {
			wg.Go(func() {
				for i := range perLabel / posters {
					m := mark{l.String(), p*perLabel/posters + i}
					q := url.Values{}
					if l.thread != "" {
						q = threadQuery
					}
					_, id, err := r.post(ctx, l.space, q, message(m, l.thread))
					mu.Lock()
					if err != nil {
						errs = append(errs, fmt.Errorf("post %s: %w", m.text(), err))
					} else {
						ids[m] = id
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	posted := time.Since(start)

	// 40 messages go into alpha at one per pace: about 6 s.
	got := emu.waitMarks(t, time.Minute, len(labels)*perLabel, alpha.ID, beta.ID)
	elapsed := time.Since(start)

	// The relay's enqueue order: Seq orders a group's deliveries.
	seq := map[string]int64{}
	waitFor(t, 30*time.Second, "the relay to record every delivery done", func() bool {
		settled := true
		for _, s := range []string{"a1", "a2", "b"} {
			for _, d := range r.deliveries(t, s) {
				seq[d.ID] = d.Seq
				// A merged backlog's members are "batched", their batch "done".
				settled = settled && (d.State == "done" || d.State == "batched")
			}
		}
		return settled
	})
	for _, l := range labels {
		var want []int
		for n := range perLabel {
			want = append(want, n)
		}
		slices.SortFunc(want, func(a, b int) int {
			return cmp.Compare(seq[ids[mark{l.String(), a}]], seq[ids[mark{l.String(), b}]])
		})
		if g := got.order[l.String()]; !slices.Equal(g, want) {
			t.Errorf("%s: delivered %v, want the relay's enqueue order %v", l, g, want)
		}
		for n := range perLabel {
			m := mark{l.String(), n}
			if c := got.copies[m]; c != 1 {
				t.Errorf("%s delivered %d times, want 1", m.text(), c)
			}
			if msg, ok := got.thread[m]; ok && msg.Thread.ThreadKey != l.thread {
				t.Errorf("%s landed in thread key %q, want %q", m.text(), msg.Thread.ThreadKey, l.thread)
			}
		}
	}

	// Pacing per Google space: the emulator records when each request
	// arrived; consecutive arrivals must be at least the pace apart, less
	// pacingTolerance for the jitter between the relay's start and the
	// emulator's record.
	for _, s := range []emuSpace{alpha, beta} {
		rs := emu.requests(t, s.ID)
		gap := minGap(rs)
		t.Logf("space %s: %d requests, least gap between starts %s (pace %s, tolerance %s)", s.DisplayName, len(rs), gap, testPace, pacingTolerance)
		if gap < testPace-pacingTolerance {
			t.Errorf("space %s: two requests started %s apart, want at least %s (pace %s less %s tolerance)", s.DisplayName, gap, testPace-pacingTolerance, testPace, pacingTolerance)
		}
	}
	stats := emu.byStatus(t)
	if stats["429"] != 0 {
		t.Errorf("emulator answered 429 %d times, want 0: %v", stats["429"], stats)
	}
	t.Logf("posted %d messages in %s; all delivered after %s; emulator answers %v", len(labels)*perLabel, posted.Round(time.Millisecond), elapsed.Round(time.Millisecond), stats)
}
