package dispatch

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// keyedHook is a webhook into googleSpace with its own key: another webhook
// of the same Google space.
func keyedHook(tb testing.TB, googleSpace, key string) *gchat.Webhook {
	tb.Helper()
	h, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=" + key + "&token=" + secret + "-" + key)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// TestRevokedWebhookStopsOnlyItsSpaces: relay spaces a and b post into
// Google space AAA through two webhooks, and c through a's. a's webhook is
// revoked (403): a and c stop, with a notice each naming them; b delivers
// on, at the lane's pace and in its order, unthreaded messages too (the
// groups are the relay space's, so a's waiting head holds none of b's). The
// operator resumes a: its backlog goes out in order, c still waits.
func TestRevokedWebhookStopsOnlyItsSpaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hookA := keyedHook(t, "AAA", "ka")
		cfg := testConfig(
			Space{Name: "a", Webhook: hookA, Pace: pace},
			Space{Name: "b", Webhook: keyedHook(t, "AAA", "kb"), Pace: pace},
			Space{Name: "c", Webhook: hookA, Pace: pace},
			space(t, "ops", "OOO", pace),
		)
		cfg.Operator = "ops"
		revoked := func(text string) bool { return text[0] == 'a' || text[0] == 'c' }
		var fixed atomic.Bool // a's webhook works again
		h := newHarness(t, cfg, func(c call, n int) (time.Duration, error) {
			if c.Space == "AAA" && revoked(c.Text) && !(fixed.Load() && c.Text[0] == 'a') {
				return 0, apiError(403, "PERMISSION_DENIED", "The caller does not have permission")
			}
			return 0, nil
		})
		a := h.enqueue("a", msg{text: "a1"}, msg{text: "a2"})
		b := h.enqueue("b", msg{text: "b1"}, msg{text: "b2", group: "t"}, msg{text: "b3"})
		cs := h.enqueue("c", msg{text: "c1"})
		b = append(b, h.enqueue("b", msg{text: "b4"}, msg{text: "b5", group: "t"})...)
		h.start()
		h.settled(time.Minute, b...)
		time.Sleep(10 * time.Second) // the lane goes on polling

		var inAAA, ofB, unthreadedB []call
		for _, c := range h.send.Calls() {
			if c.Space != "AAA" {
				continue
			}
			inAAA = append(inAAA, c)
			if c.Text[0] == 'b' {
				ofB = append(ofB, c)
				if c.Text != "b2" && c.Text != "b5" {
					unthreadedB = append(unthreadedB, c)
				}
			}
		}
		if diff := cmp.Diff([]string{"a1", "b1", "b2", "b3", "b4", "b5"}, texts(inAAA)); diff != "" {
			t.Errorf("sends into AAA (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"b1", "b3", "b4"}, texts(unthreadedB)); diff != "" {
			t.Errorf("b's unthreaded messages (-want +got):\n%s", diff)
		}
		checkPace(t, inAAA, "AAA", pace)
		for _, d := range b {
			if got := h.get(d.ID); got.State != store.StateDone {
				t.Errorf("%s of b is %s, want done", d.ID, got.State)
			}
		}
		for _, d := range append(append([]store.Delivery{}, a...), cs...) {
			if got := h.get(d.ID); got.State != store.StateQueued {
				t.Errorf("%s of %s is %s, want queued while its webhook is paused", d.ID, d.Space, got.State)
			}
		}
		if p := h.laneState("AAA").Pause; p.Reason != "" {
			t.Errorf("lane AAA paused: %+v", p)
		}
		for _, name := range []string{"a", "c"} {
			if p := h.spaceState(name).Pause; !p.Active(time.Now()) || !p.Until.IsZero() || !strings.Contains(p.Reason, "403") {
				t.Errorf("relay space %s pause = %+v, want until resumed, with the 403", name, p)
			}
		}
		if p := h.spaceState("b").Pause; p.Reason != "" {
			t.Errorf("relay space b paused: %+v", p)
		}
		// The notices name the relay spaces stopped, and only those.
		notices, err := h.st.List(context.Background(), store.Filter{Space: "ops"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range notices {
			var m gchat.Message
			if err := json.Unmarshal(n.Message, &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Text)
		}
		if len(got) != 2 || !strings.Contains(got[0], "space a paused") || !strings.Contains(got[1], "space c paused") {
			t.Errorf("operator notices = %q, want one for a and one for c", got)
		}
		if recs := h.logs.records(t, "space_paused"); len(recs) != 2 || recs[0]["relay_space"] != "a" || recs[1]["relay_space"] != "c" {
			t.Errorf("space_paused records = %v, want a and c", recs)
		}

		// a's webhook is fixed and a resumed: its backlog goes in order.
		fixed.Store(true)
		if err := h.st.PauseSpace(context.Background(), store.SpacePause{Space: "a"}); err != nil {
			t.Fatal(err)
		}
		h.d.Notify("AAA")
		h.settled(time.Minute, a...)
		var ofA []call
		for _, c := range h.send.Calls() {
			if c.Text[0] == 'a' {
				ofA = append(ofA, c)
			}
		}
		if diff := cmp.Diff([]string{"a1", "a1", "a2"}, texts(ofA)); diff != "" {
			t.Errorf("a's sends (-want +got):\n%s", diff)
		}
		if got := h.get(cs[0].ID); got.State != store.StateQueued {
			t.Errorf("c1 is %s after a's resume, want queued", got.State)
		}
		if n := len(h.send.callsOf("c1")); n != 0 {
			t.Errorf("c1 sent %d times, want never (a's 403 stopped its webhook)", n)
		}
		if recs := h.logs.records(t, "space_resumed"); len(recs) != 1 || recs[0]["relay_space"] != "a" {
			t.Errorf("space_resumed records = %v, want one for a", recs)
		}
	})
}

// TestNextGroupPerRelaySpace: one group key in two relay spaces names two
// groups; the next is the one whose head Claim takes, with only its own
// deliveries.
func TestNextGroupPerRelaySpace(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	d := func(id, space string, seq int64) store.Delivery {
		return store.Delivery{ID: id, Space: space, Group: "g", Seq: seq, State: store.StateQueued, NextAttemptAt: now}
	}
	pending := []store.Delivery{d("a1", "a", 1), d("b2", "b", 2), d("a3", "a", 3), d("b4", "b", 4)}
	if diff := cmp.Diff([]string{"a1", "a3"}, ids(nextGroup(pending, now))); diff != "" {
		t.Errorf("next group (-want +got):\n%s", diff)
	}
	pending[0].State = store.StateSending // a's head in flight: b's group is next
	if diff := cmp.Diff([]string{"b2", "b4"}, ids(nextGroup(pending, now))); diff != "" {
		t.Errorf("next group with a's head sending (-want +got):\n%s", diff)
	}
}

func ids(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
