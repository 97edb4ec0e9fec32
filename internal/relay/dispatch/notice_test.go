package dispatch

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// noticeConfig has relay space alerts (Google space AAA) and the operator
// space ops (OOO).
func noticeConfig(t *testing.T) Config {
	cfg := testConfig(space(t, "alerts", "AAA", pace), space(t, "ops", "OOO", pace))
	cfg.Operator = "ops"
	cfg.NoticeInterval = 10 * time.Second
	return cfg
}

// notices returns the texts of the deliveries queued in the operator space.
func (h *harness) notices() []string {
	h.t.Helper()
	ds, err := h.st.List(context.Background(), store.Filter{Space: "ops"})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Message))
	}
	return out
}

func checkNotice(tb testing.TB, notice string, want ...string) {
	tb.Helper()
	for _, w := range append(want, "gchat relay: ") {
		if !strings.Contains(notice, w) {
			tb.Errorf("notice %s does not contain %q", notice, w)
		}
	}
	if strings.Contains(notice, secret) || strings.Contains(notice, "key=") {
		tb.Errorf("notice %s contains a webhook credential", notice)
	}
}

func TestNoticePauseOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Sends take 3 s: three are in flight when the first 403 comes.
		h := newHarness(t, noticeConfig(t), func(c call, n int) (time.Duration, error) {
			if c.Space == "AAA" {
				return 3 * time.Second, apiError(403, "PERMISSION_DENIED", "The caller does not have permission")
			}
			return 0, nil
		})
		h.start()
		var ds []store.Delivery
		for _, g := range []string{"a", "b", "c", "d", "e", "f"} {
			ds = append(ds, h.enqueue("alerts", msg{text: g + "1", group: g}, msg{text: g + "2", group: g})...)
		}
		time.Sleep(30 * time.Second)

		if n := len(h.send.Calls()); n < 4 {
			t.Fatalf("%d calls, want the 403s of the sends in flight and the notice", n)
		}
		ns := h.notices()
		if len(ns) != 1 {
			t.Fatalf("%d notices, want 1: %q", len(ns), ns)
		}
		checkNotice(t, ns[0], "space alerts paused", "403", "PERMISSION_DENIED", "POST /api/v1/spaces/alerts/resume")
		// It reached the operator space.
		var sent int
		for _, c := range h.send.Calls() {
			if c.Space == "OOO" {
				sent++
				checkNotice(t, c.Text, "space alerts paused")
			}
		}
		if sent != 1 {
			t.Errorf("%d notices sent to the operator space, want 1", sent)
		}
		for _, d := range ds {
			if got := h.get(d.ID); got.State != store.StateQueued {
				t.Errorf("%s is %s, want queued while paused", d.ID, got.State)
			}
		}
	})
}

func TestNoticeDeadLetterRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, noticeConfig(t), func(c call, n int) (time.Duration, error) {
			if c.Space == "AAA" {
				return 0, apiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
			}
			return 0, nil
		})
		h.start()
		// Five dead letters a second apart: one notice, four suppressed.
		ds := h.enqueue("alerts", msg{text: "a"}, msg{text: "b"}, msg{text: "c"}, msg{text: "d"}, msg{text: "e"})
		h.settled(time.Minute, ds...)
		ns := h.notices()
		if len(ns) != 1 {
			t.Fatalf("%d notices after five dead letters within the interval, want 1: %q", len(ns), ns)
		}
		checkNotice(t, ns[0], "delivery "+ds[0].ID+" to space alerts is dead", "400", "INVALID_ARGUMENT",
			"replay: POST /api/v1/dead/"+ds[0].ID+"/replay")

		// After the interval the next dead letter is noticed, with the count.
		time.Sleep(10 * time.Second)
		late := h.enqueue("alerts", msg{text: "f"})
		h.settled(time.Minute, late...)
		h.waitFor("the second notice", time.Minute, func() bool { return len(h.notices()) == 2 })
		checkNotice(t, h.notices()[1], "delivery "+late[0].ID+" to space alerts is dead", "4 similar notices suppressed")
		if n := len(h.logs.records(t, "notice_suppressed")); n != 4 {
			t.Errorf("%d notice_suppressed records, want 4", n)
		}
	})
}

func TestNoticeKindsApart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A dead letter, then a pause of the same space within the interval:
		// both are noticed, each kind has its own limit.
		h := newHarness(t, noticeConfig(t), func(c call, n int) (time.Duration, error) {
			switch c.Text {
			case "bad":
				return 0, apiError(400, "INVALID_ARGUMENT", "bad")
			case "gone":
				return 0, apiError(404, "NOT_FOUND", "webhook deleted")
			}
			return 0, nil
		})
		h.start()
		h.enqueue("alerts", msg{text: "bad", group: "a"}, msg{text: "gone", group: "b"})
		h.waitFor("two notices", time.Minute, func() bool { return len(h.notices()) == 2 })
		ns := h.notices()
		checkNotice(t, ns[0], "is dead")
		checkNotice(t, ns[1], "space alerts paused", "404")
	})
}

func TestNoticeNoLoop(t *testing.T) {
	t.Run("operator space paused", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, noticeConfig(t), func(c call, n int) (time.Duration, error) {
				if c.Space == "OOO" {
					return 0, apiError(403, "PERMISSION_DENIED", "denied")
				}
				return 0, nil
			})
			h.start()
			h.enqueue("ops", msg{text: "o1"}, msg{text: "o2"})
			time.Sleep(30 * time.Second)
			if ns := h.notices(); len(ns) != 2 {
				t.Errorf("operator space holds %d deliveries, want its own 2 and no notice: %q", len(ns), ns)
			}
			if len(h.logs.records(t, "space_paused")) != 1 || len(h.logs.records(t, "notice_skipped")) != 1 {
				t.Errorf("want one space_paused and one notice_skipped record:\n%s", h.logs.String())
			}
		})
	})
	t.Run("operator delivery dead", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness(t, noticeConfig(t), func(c call, n int) (time.Duration, error) {
				return 0, apiError(400, "INVALID_ARGUMENT", "bad")
			})
			h.start()
			// alerts' dead letter is noticed; the notice dies too, which is
			// only logged.
			ds := h.enqueue("alerts", msg{text: "a"})
			h.settled(time.Minute, ds...)
			h.waitFor("the notice to die", time.Minute, func() bool {
				return len(h.logs.records(t, "notice_skipped")) == 1
			})
			time.Sleep(30 * time.Second)
			if ns := h.notices(); len(ns) != 1 {
				t.Errorf("%d notices, want 1: %q", len(ns), ns)
			}
		})
	})
}

func TestNoNoticeWithoutOperator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := noticeConfig(t)
		cfg.Operator = ""
		h := newHarness(t, cfg, func(c call, n int) (time.Duration, error) {
			return 0, apiError(400, "INVALID_ARGUMENT", "bad")
		})
		h.start()
		ds := h.enqueue("alerts", msg{text: "a"})
		h.settled(time.Minute, ds...)
		if ns := h.notices(); len(ns) != 0 {
			t.Errorf("notices without an operator space: %q", ns)
		}
	})
}

// TestNoticeDeadOrFailNamesThread: Google's 404 to REPLY_MESSAGE_OR_FAIL
// makes a dead letter (not a paused space) whose notice names the thread key.
func TestNoticeDeadOrFailNamesThread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, noticeConfig(t), func(c call, n int) (time.Duration, error) {
			if c.Space == "AAA" {
				return 0, apiError(404, "NOT_FOUND", "Requested entity was not found.")
			}
			return 0, nil
		})
		h.start()
		ds := h.enqueue("alerts", msg{text: "resolved", group: "db1-disk", reply: "REPLY_MESSAGE_OR_FAIL"})
		h.settled(time.Minute, ds...)
		if d, err := h.st.Get(context.Background(), ds[0].ID); err != nil || d.State != store.StateDead {
			t.Fatalf("delivery: %+v, %v; want dead", d, err)
		}
		ns := h.notices()
		if len(ns) != 1 {
			t.Fatalf("%d notices, want 1: %q", len(ns), ns)
		}
		checkNotice(t, ns[0], "delivery "+ds[0].ID, "is dead", "404", "REPLY_MESSAGE_OR_FAIL in thread key \\\"db1-disk\\\"")
	})
}
