package dispatch

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

const pace = time.Second

func apiError(code int, status, message string) *gchat.APIError {
	return &gchat.APIError{StatusCode: code, Status: status, Message: message}
}

func TestFIFOPerThread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), nil)
		h.start()
		// m1 starts the thread by key; the others reply by the thread name
		// the relay handed out, which must reach Google as Google's name.
		reply := func(text string) msg {
			return msg{text: text, group: "g", relayThread: "relay/t1", threadName: "relay/t1"}
		}
		m2 := reply("m2")
		m2.messageID = "client-m2"
		var ds []store.Delivery
		ds = append(ds, h.enqueue("ops",
			msg{text: "m1", group: "g", relayThread: "relay/t1", reply: "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
			m2, reply("m3"))...)
		ds = append(ds, h.enqueue("ops", reply("m4"))...)
		ds = append(ds, h.enqueue("ops", reply("m5"))...)
		h.settled(time.Minute, ds...)

		calls := h.send.Calls()
		if diff := cmp.Diff([]string{"m1", "m2", "m3", "m4", "m5"}, texts(calls)); diff != "" {
			t.Errorf("send order (-want +got):\n%s", diff)
		}
		checkPace(t, calls, "AAA", pace)
		for i, d := range ds {
			got := h.get(d.ID)
			if got.State != store.StateDone || got.GoogleMessage != "spaces/AAA/messages/"+calls[i].Text {
				t.Errorf("%s: state %s, Google message %q; want done, spaces/AAA/messages/%s", d.ID, got.State, got.GoogleMessage, calls[i].Text)
			}
			if calls[i].RequestID != d.RequestID {
				t.Errorf("%s: sent requestId %q, want the stored %q", calls[i].Text, calls[i].RequestID, d.RequestID)
			}
		}
		// Stored options travel with the request.
		if c := calls[0]; c.Reply != gchat.ReplyFallbackToNewThread || c.MessageID != "" {
			t.Errorf("m1 sent with reply %v, messageId %q; want REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD and none", c.Reply, c.MessageID)
		}
		if c := calls[1]; c.Reply != gchat.ReplyUnset || c.MessageID != "client-m2" {
			t.Errorf("m2 sent with reply %v, messageId %q; want unset and client-m2", c.Reply, c.MessageID)
		}
		// The relay thread maps to Google's once the first message is done,
		// and the replies go to Google's thread.
		th, err := h.st.Thread(context.Background(), "relay/t1")
		if err != nil || th.GoogleName != "spaces/AAA/threads/g" {
			t.Errorf("thread relay/t1 = %+v, %v; want Google name spaces/AAA/threads/g", th, err)
		}
		for _, c := range calls[1:] {
			if c.Thread != th.GoogleName {
				t.Errorf("%s sent to thread %q, want %q", c.Text, c.Thread, th.GoogleName)
			}
		}
	})
}

func TestRetryHoldsOnlyItsThread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
			if c.Text == "a1" && n <= 2 {
				return 0, apiError(503, "UNAVAILABLE", "try later")
			}
			return 0, nil
		})
		h.start()
		ds := h.enqueue("ops", msg{text: "a1", group: "a"}, msg{text: "a2", group: "a"},
			msg{text: "b1", group: "b"}, msg{text: "b2", group: "b"}, msg{text: "b3", group: "b"})
		h.settled(time.Minute, ds...)

		calls := h.send.Calls()
		checkPace(t, calls, "AAA", pace)
		a1 := h.send.callsOf("a1")
		if len(a1) != 3 {
			t.Fatalf("a1 was attempted %d times, want 3", len(a1))
		}
		// Backoff with full jitter at Rand 0.5: half of 4 s, then of 8 s.
		for i, want := range []time.Duration{2 * time.Second, 4 * time.Second} {
			if got := a1[i+1].At.Sub(a1[i].At); got < want {
				t.Errorf("a1 retry %d came %s after the previous attempt, want at least %s", i+1, got, want)
			}
		}
		for _, c := range a1 {
			if c.RequestID != ds[0].RequestID {
				t.Errorf("a1 attempt sent requestId %q, want the stable %q", c.RequestID, ds[0].RequestID)
			}
		}
		// a2 waits for a1; thread b does not.
		done := a1[2].At
		if a2 := h.send.callsOf("a2"); len(a2) != 1 || !a2[0].At.After(done) {
			t.Errorf("a2: %+v; want one attempt after a1's success at %s", a2, done)
		}
		for _, b := range []string{"b1", "b2", "b3"} {
			if c := h.send.callsOf(b); len(c) != 1 || !c[0].At.Before(done) {
				t.Errorf("%s: %+v; want one attempt before a1's success at %s (b is not held by a's backoff)", b, c, done)
			}
		}
		if got := h.get(ds[0].ID); got.State != store.StateDone || got.Attempts != 3 {
			t.Errorf("a1: state %s after %d attempts, want done after 3", got.State, got.Attempts)
		}
	})
}

func TestPacePerGoogleSpace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// ops and dev post into one Google space: one lane, the larger pace.
		cfg := testConfig(
			space(t, "ops", "AAA", pace),
			space(t, "dev", "AAA", 1500*time.Millisecond),
			space(t, "web", "BBB", pace))
		h := newHarness(t, cfg, nil)
		h.start()
		start := time.Now()
		var ds []store.Delivery
		for _, name := range []string{"ops", "dev", "web"} {
			ds = append(ds, h.enqueue(name,
				msg{text: name + "1", group: name + "-x"},
				msg{text: name + "2", group: name + "-y"},
				msg{text: name + "3"})...)
		}
		h.settled(time.Minute, ds...)

		calls := h.send.Calls()
		checkPace(t, calls, "AAA", 1500*time.Millisecond)
		checkPace(t, calls, "BBB", pace)
		// BBB is not slowed by AAA's six messages.
		if got := h.send.callsOf("web3")[0].At.Sub(start); got > 2*pace {
			t.Errorf("web3 started %s after the enqueue, want at most %s", got, 2*pace)
		}
		if n := len(calls); n != 9 {
			t.Errorf("%d calls, want 9", n)
		}
	})
}

func TestTooManyRequestsPausesLane(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
		wantPause  time.Duration
	}{
		{"retry-after", 5 * time.Second, 5 * time.Second},
		{"backoff", 0, 2 * time.Second}, // half of BackoffBase at Rand 0.5
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
					if c.Text == "a1" && n == 1 {
						e := apiError(429, "RESOURCE_EXHAUSTED", "quota")
						e.RetryAfter = tc.retryAfter
						return 0, e
					}
					return 0, nil
				})
				h.start()
				ds := h.enqueue("ops", msg{text: "a1", group: "a"}, msg{text: "b1", group: "b"})
				h.settled(time.Minute, ds...)

				calls := h.send.Calls()
				if diff := cmp.Diff([]string{"a1", "a1", "b1"}, texts(calls)); diff != "" {
					t.Fatalf("calls (-want +got):\n%s", diff)
				}
				// The whole lane waits: b1 (another thread) too.
				for _, c := range calls[1:] {
					if got := c.At.Sub(calls[0].At); got < tc.wantPause {
						t.Errorf("%s started %s after the 429, want at least %s", c.Text, got, tc.wantPause)
					}
				}
				if calls[1].RequestID != calls[0].RequestID {
					t.Errorf("retry after 429 sent requestId %q, want %q", calls[1].RequestID, calls[0].RequestID)
				}
				if got := h.get(ds[0].ID); got.State != store.StateDone {
					t.Errorf("a1 is %s, want done", got.State)
				}
				if n := len(h.logs.records(t, "space_throttled")); n != 1 {
					t.Errorf("%d space_throttled records, want 1", n)
				}
			})
		})
	}
}

func TestForbiddenPausesUntilResumed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var forbidden atomic.Bool
		forbidden.Store(true)
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
			if forbidden.Load() {
				return 0, apiError(403, "PERMISSION_DENIED", "The API is called without a valid token.")
			}
			return 0, nil
		})
		h.start()
		ds := h.enqueue("ops", msg{text: "a1", group: "a"}, msg{text: "a2", group: "a"}, msg{text: "a3", group: "a"}, msg{text: "b1", group: "b"})
		time.Sleep(30 * time.Second)

		if n := len(h.send.Calls()); n != 1 {
			t.Errorf("%d sends while paused, want 1 (the one that got 403)", n)
		}
		if p := h.laneState("AAA").Pause; p.Reason != "" {
			t.Errorf("lane pause = %+v, want none: the webhook is gone, not the Google space", p)
		}
		if p := h.spaceState("ops").Pause; !p.Active(time.Now()) || !p.Until.IsZero() || !strings.Contains(p.Reason, "403") {
			t.Errorf("relay space pause = %+v, want until resumed, with the 403 as reason", p)
		}
		for _, d := range ds {
			if got := h.get(d.ID); got.State != store.StateQueued {
				t.Errorf("%s is %s while the space is paused, want queued", d.ID, got.State)
			}
		}
		if got := h.get(ds[0].ID); got.LastStatus != 403 {
			t.Errorf("a1 last status %d, want 403", got.LastStatus)
		}
		recs := h.logs.records(t, "space_paused")
		if len(recs) != 1 || recs[0]["level"] != "ERROR" || recs[0]["relay_space"] != "ops" || recs[0]["space"] != "ops" || recs[0]["google_space"] != "AAA" {
			t.Errorf("space_paused records = %v, want one at ERROR naming relay space ops and Google space AAA", recs)
		}

		// An operator resumes the space: the backlog goes out in order.
		forbidden.Store(false)
		if err := h.st.PauseSpace(context.Background(), store.SpacePause{Space: "ops"}); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		h.d.Notify("AAA")
		h.settled(time.Minute, ds...)
		var after []call
		for _, c := range h.send.Calls()[1:] {
			if c.At.Before(resumed) {
				t.Errorf("%s sent at %s, before the resume at %s", c.Text, c.At, resumed)
			}
			if c.Text[0] == 'a' {
				after = append(after, c)
			}
		}
		if diff := cmp.Diff([]string{"a1", "a2", "a3"}, texts(after)); diff != "" {
			t.Errorf("thread a after resume (-want +got):\n%s", diff)
		}
		if n := len(h.logs.records(t, "space_paused")); n != 1 {
			t.Errorf("%d space_paused records, want 1", n)
		}
		if n := len(h.logs.records(t, "space_resumed")); n != 1 {
			t.Errorf("%d space_resumed records, want 1", n)
		}
	})
}

func TestRefusedDeadLetters(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reply      string
		err        *gchat.APIError
		wantStatus int
		wantError  []string
	}{
		{"bad request", "", apiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received."), 400, []string{"INVALID_ARGUMENT", "Invalid JSON payload received."}},
		{"reply or fail", "REPLY_MESSAGE_OR_FAIL", apiError(404, "NOT_FOUND", "Thread not found."), 404, []string{"NOT_FOUND", "Thread not found."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
					if c.Text == "a1" {
						return 0, tc.err
					}
					return 0, nil
				})
				h.start()
				ds := h.enqueue("ops", msg{text: "a1", group: "a", reply: tc.reply}, msg{text: "a2", group: "a"})
				h.settled(time.Minute, ds...)

				got := h.get(ds[0].ID)
				if got.State != store.StateDead || got.LastStatus != tc.wantStatus {
					t.Errorf("a1: state %s, status %d; want dead, %d", got.State, got.LastStatus, tc.wantStatus)
				}
				for _, s := range tc.wantError {
					if !strings.Contains(got.LastError, s) {
						t.Errorf("a1 last error %q does not contain %q", got.LastError, s)
					}
				}
				if len(h.send.callsOf("a1")) != 1 {
					t.Errorf("a1 attempted %d times, want once", len(h.send.callsOf("a1")))
				}
				// The thread moves on; the space is not paused.
				if got := h.get(ds[1].ID); got.State != store.StateDone {
					t.Errorf("a2 is %s, want done", got.State)
				}
				if p := h.laneState("AAA").Pause; p.Reason != "" {
					t.Errorf("lane paused (%+v), want not", p)
				}
				if n := len(h.logs.records(t, "delivery_dead")); n != 1 {
					t.Errorf("%d delivery_dead records, want 1", n)
				}
			})
		})
	}
}

func TestMaxAge(t *testing.T) {
	for _, tc := range []struct {
		onFailure OnFailure
		want      store.State
	}{
		{OnFailureRetry, store.StateDead},
		{OnFailureDeadLetter, store.StateDead},
		{OnFailureDrop, store.StateDropped},
	} {
		t.Run(string(tc.onFailure), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sp := space(t, "ops", "AAA", pace)
				sp.MaxAge, sp.OnFailure = time.Hour, tc.onFailure
				h := newHarness(t, testConfig(sp), nil)
				old := h.enqueue("ops", msg{text: "old", group: "a"})
				time.Sleep(time.Hour + time.Second)
				fresh := h.enqueue("ops", msg{text: "fresh", group: "a"})
				h.start()
				h.settled(time.Minute, old[0], fresh[0])

				got := h.get(old[0].ID)
				if got.State != tc.want || !strings.Contains(got.LastError, "too old") {
					t.Errorf("old: state %s, error %q; want %s, too old", got.State, got.LastError, tc.want)
				}
				if diff := cmp.Diff([]string{"fresh"}, texts(h.send.Calls())); diff != "" {
					t.Errorf("calls (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestOnFailure(t *testing.T) {
	unavailable := apiError(503, "UNAVAILABLE", "down")
	for _, tc := range []struct {
		name      string
		onFailure OnFailure
		err       error // the first attempt's answer; later ones succeed
		want      store.State
		attempts  int
		logged    string
	}{
		{"retry 503", OnFailureRetry, unavailable, store.StateDone, 2, "delivery_retry"},
		{"retry 400", OnFailureRetry, apiError(400, "INVALID_ARGUMENT", "bad"), store.StateDead, 1, "delivery_dead"},
		{"dead_letter 503", OnFailureDeadLetter, unavailable, store.StateDead, 1, "delivery_dead"},
		{"dead_letter 400", OnFailureDeadLetter, apiError(400, "INVALID_ARGUMENT", "bad"), store.StateDead, 1, "delivery_dead"},
		{"drop 503", OnFailureDrop, unavailable, store.StateDropped, 1, "delivery_dropped"},
		{"drop 400", OnFailureDrop, apiError(400, "INVALID_ARGUMENT", "bad"), store.StateDropped, 1, "delivery_dropped"},
		// A 429 is the space's limit, not the message's failure.
		{"drop 429", OnFailureDrop, apiError(429, "RESOURCE_EXHAUSTED", "quota"), store.StateDone, 2, "space_throttled"},
		{"dead_letter timeout", OnFailureDeadLetter, errTimeout, store.StateDead, 1, "delivery_dead"},
		{"retry timeout", OnFailureRetry, errTimeout, store.StateDone, 2, "delivery_retry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sp := space(t, "ops", "AAA", pace)
				sp.OnFailure = tc.onFailure
				h := newHarness(t, testConfig(sp), func(c call, n int) (time.Duration, error) {
					if n == 1 {
						if tc.err == errTimeout {
							return time.Hour, nil // past RequestTimeout
						}
						return 0, tc.err
					}
					return 0, nil
				})
				h.start()
				ds := h.enqueue("ops", msg{text: "m", group: "a"})
				h.settled(time.Minute, ds...)
				got := h.get(ds[0].ID)
				if got.State != tc.want || got.Attempts != tc.attempts {
					t.Errorf("state %s after %d attempts, want %s after %d", got.State, got.Attempts, tc.want, tc.attempts)
				}
				if len(h.logs.records(t, tc.logged)) == 0 {
					t.Errorf("no %s record in the log:\n%s", tc.logged, h.logs.String())
				}
			})
		})
	}
}

// TestRouteOverridesSpace: a delivery made by a route takes the route's
// on_failure and max_age; the space's other deliveries keep the space's.
func TestRouteOverridesSpace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sp := space(t, "ops", "AAA", pace) // retry, max_age 24h
		cfg := testConfig(sp)
		cfg.Routes = []Route{
			{Name: "pager", OnFailure: OnFailureDeadLetter},
			{Name: "stale", MaxAge: time.Minute},
		}
		h := newHarness(t, cfg, func(c call, n int) (time.Duration, error) {
			if n == 1 {
				return 0, apiError(503, "UNAVAILABLE", "down")
			}
			return 0, nil
		})
		viaRoute := h.enqueue("ops", msg{text: "paged", group: "a", route: "pager"})
		direct := h.enqueue("ops", msg{text: "direct", group: "b"})
		// Queued two minutes before the dispatcher starts: past the stale
		// route's max_age, well within the space's.
		stale := h.enqueue("ops", msg{text: "old", group: "c", route: "stale"})
		oldDirect := h.enqueue("ops", msg{text: "old direct", group: "d"})
		time.Sleep(2 * time.Minute)
		h.start()
		h.settled(time.Minute, viaRoute[0], direct[0], stale[0], oldDirect[0])
		for _, tc := range []struct {
			name     string
			d        store.Delivery
			want     store.State
			attempts int
		}{
			{"route pager (dead_letter)", viaRoute[0], store.StateDead, 1},
			{"space default (retry)", direct[0], store.StateDone, 2},
			{"route stale (max_age 1m)", stale[0], store.StateDead, 1}, // claimed, never sent
			{"space default (max_age 24h)", oldDirect[0], store.StateDone, 2},
		} {
			got := h.get(tc.d.ID)
			if got.Route != tc.d.Route || got.State != tc.want || got.Attempts != tc.attempts {
				t.Errorf("%s: route %q, state %s after %d attempts; want %s after %d", tc.name, got.Route, got.State, got.Attempts, tc.want, tc.attempts)
			}
		}
		// 1 + 2 + 0 + 2: the stale delivery never reached Google.
		if n := len(h.send.Calls()); n != 5 {
			t.Errorf("%d requests sent, want 5", n)
		}
	})
}

// errTimeout marks, in TestOnFailure, an attempt that outlasts RequestTimeout.
var errTimeout = apiError(0, "", "timeout marker")

func TestNotifyStartsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(space(t, "ops", "AAA", pace))
		cfg.PollInterval = 20 * time.Second
		cfg.LeaseTTL = time.Minute
		h := newHarness(t, cfg, nil)
		h.start()
		time.Sleep(3 * time.Second) // idle, asleep until the poll
		at := time.Now()
		ds := h.enqueue("ops", msg{text: "m"}) // notifies
		h.settled(time.Minute, ds...)
		if got := h.send.Calls()[0].At.Sub(at); got != 0 {
			t.Errorf("sent %s after the notification, want at once", got)
		}
	})
}

func TestLeaseHeldElsewhere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), nil)
		other, err := h.st.AcquireLease(context.Background(), store.LeaseRequest{Lane: "AAA", Owner: "replica-2", TTL: 8 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		h.start()
		ds := h.enqueue("ops", msg{text: "m"})
		h.settled(time.Minute, ds...)
		if got := h.send.Calls()[0].At; got.Before(other.Until) {
			t.Errorf("sent at %s while replica-2 held the lane until %s", got, other.Until)
		}
		if ls := h.laneState("AAA"); ls.Owner != "replica-1" || ls.Token != other.Token+1 {
			t.Errorf("lane owner %q token %d, want replica-1 with token %d", ls.Owner, ls.Token, other.Token+1)
		}
	})
}

func TestShutdown(t *testing.T) {
	t.Run("drains in-flight sends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
				return 3 * time.Second, nil
			})
			h.start()
			ds := h.enqueue("ops", msg{text: "slow", group: "a"}, msg{text: "next", group: "b"})
			h.waitFor("the first send", time.Minute, func() bool { return len(h.send.Calls()) == 1 })
			sent := h.send.Calls()[0].At
			if err := h.stop(); err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
			if got := time.Since(sent); got != 3*time.Second {
				t.Errorf("Run returned %s after the send started, want 3s (the in-flight send)", got)
			}
			if got := h.get(ds[0].ID); got.State != store.StateDone {
				t.Errorf("in-flight delivery is %s, want done", got.State)
			}
			if got := h.get(ds[1].ID); got.State != store.StateQueued || got.Attempts != 0 {
				t.Errorf("unclaimed delivery: %s after %d attempts, want queued, never attempted", got.State, got.Attempts)
			}
			if ls := h.laneState("AAA"); ls.Owner != "" {
				t.Errorf("lane still leased by %q after shutdown", ls.Owner)
			}
		})
	})
	t.Run("cuts sends at the drain deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cfg := testConfig(space(t, "ops", "AAA", pace))
			cfg.RequestTimeout, cfg.DrainTimeout = 20*time.Second, 2*time.Second
			h := newHarness(t, cfg, func(c call, n int) (time.Duration, error) {
				return 15 * time.Second, nil
			})
			h.start()
			ds := h.enqueue("ops", msg{text: "slow"})
			h.waitFor("the send", time.Minute, func() bool { return len(h.send.Calls()) == 1 })
			cancelled := time.Now()
			if err := h.stop(); err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
			if got := time.Since(cancelled); got != 2*time.Second {
				t.Errorf("Run returned %s after cancel, want the 2s drain timeout", got)
			}
			// Maybe sent: it goes again, with the same requestId, later.
			if got := h.get(ds[0].ID); got.State != store.StateQueued || got.RequestID != ds[0].RequestID {
				t.Errorf("cut delivery is %s with requestId %q, want queued with %q", got.State, got.RequestID, ds[0].RequestID)
			}
			if ls := h.laneState("AAA"); ls.Owner != "" {
				t.Errorf("lane still leased by %q after shutdown", ls.Owner)
			}
			if n := len(h.logs.records(t, "drain_timeout")); n != 1 {
				t.Errorf("%d drain_timeout records, want 1", n)
			}
		})
	})
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig(space(t, "ops", "AAA", pace))
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // in the error; "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no owner", func(c *Config) { c.Owner = "" }, "owner"},
		{"lease not longer than request", func(c *Config) { c.LeaseTTL = c.RequestTimeout }, "lease_ttl"},
		{"poll too slow for lease", func(c *Config) { c.PollInterval = 6 * time.Second }, "poll_interval"},
		{"duplicate space", func(c *Config) { c.Spaces = append(c.Spaces, c.Spaces[0]) }, "duplicate"},
		{"bad on_failure", func(c *Config) { c.Spaces[0].OnFailure = "ignore" }, "on_failure"},
		{"no webhook", func(c *Config) { c.Spaces[0].Webhook = nil }, "webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Spaces = append([]Space(nil), ok.Spaces...)
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}
