package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

func coalescing(tb testing.TB, name, googleSpace string) Space {
	sp := space(tb, name, googleSpace, pace)
	sp.Coalesce = true
	return sp
}

// thread returns n messages of thread group g whose texts are prefix and a
// number, padded with x to size characters when size is larger.
func thread(g, prefix string, n, size int) []msg {
	out := make([]msg, n)
	for i := range out {
		text := fmt.Sprintf("%s%02d", prefix, i)
		if size > len(text) {
			text += " " + strings.Repeat("x", size-len(text)-1)
		}
		out[i] = msg{text: text, group: g, relayThread: "spaces/ops/threads/k" + g}
	}
	return out
}

func msgTexts(ms []msg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.text
	}
	return out
}

// checkLimits fails for a request over Google's limits.
func checkLimits(tb testing.TB, cs []call) {
	tb.Helper()
	for i, c := range cs {
		if n := utf16Len(c.Text); n > gchat.DefaultMaxText {
			tb.Errorf("request %d: text of %d UTF-16 units, want at most %d", i, n, gchat.DefaultMaxText)
		}
		if c.Size > gchat.DefaultMaxBytes {
			tb.Errorf("request %d: %d bytes, want at most %d", i, c.Size, gchat.DefaultMaxBytes)
		}
	}
}

func TestCoalesceBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), nil)
		// 12 messages of 1,000 characters: four fit in 4,096 UTF-16 units
		// with their blank lines, five do not.
		ms := thread("g", "m", 12, 1000)
		ds := h.enqueue("ops", ms...) // a backlog before the lane starts
		h.start()
		h.settled(time.Minute, ds...)

		calls := h.send.Calls()
		want := []string{
			strings.Join(msgTexts(ms[0:4]), "\n\n"),
			strings.Join(msgTexts(ms[4:8]), "\n\n"),
			strings.Join(msgTexts(ms[8:12]), "\n\n"),
		}
		if diff := cmp.Diff(want, texts(calls)); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		checkPace(t, calls, "AAA", pace)
		checkLimits(t, calls)
		for i, d := range ds {
			got := h.get(d.ID)
			if got.State != store.StateDone || got.BatchID == "" {
				t.Errorf("%s: %s in batch %q, want done in a batch", ms[i].text[:4], got.State, got.BatchID)
				continue
			}
			batch := h.get(got.BatchID)
			c := calls[i/4]
			if c.RequestID != batch.RequestID || c.RequestID == d.RequestID {
				t.Errorf("%s: sent with requestId %q, want its batch's %q", ms[i].text[:4], c.RequestID, batch.RequestID)
			}
			if got.GoogleMessage == "" || got.GoogleMessage != batch.GoogleMessage {
				t.Errorf("%s: Google message %q, want its batch's %q", ms[i].text[:4], got.GoogleMessage, batch.GoogleMessage)
			}
		}
		if c := calls[0]; c.Reply != gchat.ReplyUnset || c.MessageID != "" {
			t.Errorf("batch sent with reply %v, messageId %q; want the members' (unset, none)", c.Reply, c.MessageID)
		}
	})
}

func TestCoalesceWhilePaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), nil)
		h.start()
		// The first message goes alone, at once; the ones arriving during
		// the pace wait form a backlog that goes as one request.
		ms := thread("g", "m", 6, 10)
		ds := h.enqueue("ops", ms[0])
		h.waitFor("the first send", time.Minute, func() bool { return len(h.send.Calls()) == 1 })
		for _, m := range ms[1:] {
			time.Sleep(100 * time.Millisecond)
			ds = append(ds, h.enqueue("ops", m)...)
		}
		h.settled(time.Minute, ds...)
		want := []string{ms[0].text, strings.Join(msgTexts(ms[1:]), "\n\n")}
		if diff := cmp.Diff(want, texts(h.send.Calls())); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		checkPace(t, h.send.Calls(), "AAA", pace)
	})
}

func TestCoalesceBelowBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(coalescing(t, "ops", "AAA"))
		cfg.CoalesceBacklog = 4
		h := newHarness(t, cfg, nil)
		ms := thread("g", "m", 3, 10)
		ds := h.enqueue("ops", ms...)
		h.start()
		h.settled(time.Minute, ds...)
		if diff := cmp.Diff(msgTexts(ms), texts(h.send.Calls())); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})
}

func TestCoalesceOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), nil)
		ms := thread("g", "m", 12, 10)
		ds := h.enqueue("ops", ms...)
		h.start()
		h.settled(time.Minute, ds...)
		if diff := cmp.Diff(msgTexts(ms), texts(h.send.Calls())); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
		for _, d := range ds {
			if got := h.get(d.ID); got.BatchID != "" {
				t.Errorf("%s merged into %s with coalesce off", d.ID, got.BatchID)
			}
		}
	})
}

func TestCoalesceRetryKeepsBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), func(c call, n int) (time.Duration, error) {
			if n <= 2 {
				return 0, apiError(503, "UNAVAILABLE", "try later")
			}
			return 0, nil
		})
		ms := thread("g", "m", 3, 10)
		ds := h.enqueue("ops", ms...)
		h.start()
		h.settled(time.Minute, ds...)
		calls := h.send.Calls()
		merged := strings.Join(msgTexts(ms), "\n\n")
		if diff := cmp.Diff([]string{merged, merged, merged}, texts(calls)); diff != "" {
			t.Fatalf("requests (-want +got):\n%s", diff)
		}
		batch := h.get(h.get(ds[0].ID).BatchID)
		for i, c := range calls {
			if c.RequestID != batch.RequestID {
				t.Errorf("attempt %d sent requestId %q, want the batch's %q", i+1, c.RequestID, batch.RequestID)
			}
		}
		if batch.State != store.StateDone || batch.Attempts != 3 {
			t.Errorf("batch: %s after %d attempts, want done after 3", batch.State, batch.Attempts)
		}
		for _, d := range ds {
			if got := h.get(d.ID); got.State != store.StateDone {
				t.Errorf("member %s is %s, want done", d.ID, got.State)
			}
		}
	})
}

func TestCoalesceFrozenBatchDoesNotGrow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), func(c call, n int) (time.Duration, error) {
			if n == 1 && strings.HasPrefix(c.Text, "m00") {
				return 0, apiError(503, "UNAVAILABLE", "try later")
			}
			return 0, nil
		})
		ms := thread("g", "m", 3, 10)
		ds := h.enqueue("ops", ms...)
		h.start()
		h.waitFor("the first attempt", time.Minute, func() bool { return len(h.send.Calls()) == 1 })
		late := thread("g", "late", 3, 10)
		ds = append(ds, h.enqueue("ops", late...)...) // during the batch's backoff
		h.settled(time.Minute, ds...)
		first := strings.Join(msgTexts(ms), "\n\n")
		want := []string{first, first, strings.Join(msgTexts(late), "\n\n")}
		if diff := cmp.Diff(want, texts(h.send.Calls())); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})
}

func TestCoalesceRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), nil)
		ms := thread("g", "a", 9, 3)
		ms[3].messageID = "client-a03"
		for i := 6; i < 9; i++ {
			ms[i].reply = "REPLY_MESSAGE_OR_FAIL"
		}
		// Another thread in between, and messages that start threads of
		// their own (the unthreaded group, each with its own relay thread).
		other := []msg{
			{text: "b00", group: "b", relayThread: "spaces/ops/threads/kb"},
			{text: "n00", relayThread: "spaces/ops/threads/n0"},
			{text: "n01", relayThread: "spaces/ops/threads/n1"},
			{text: "n02", relayThread: "spaces/ops/threads/n2"},
		}
		ds := h.enqueue("ops", append(ms, other...)...)
		h.start()
		h.settled(time.Minute, ds...)

		var got []string
		for _, c := range h.send.Calls() {
			if strings.HasPrefix(c.Text, "a") {
				got = append(got, c.Text)
			}
		}
		want := []string{
			"a00\n\na01\n\na02", // a03 has a messageId
			"a03",
			"a04\n\na05", // a06 has another reply option
			"a06\n\na07\n\na08",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("thread a (-want +got):\n%s", diff)
		}
		for _, text := range []string{"b00", "n00", "n01", "n02"} {
			if n := len(h.send.callsOf(text)); n != 1 {
				t.Errorf("%s sent %d times on its own, want once", text, n)
			}
		}
		if c := h.send.callsOf("a03"); len(c) != 1 || c[0].MessageID != "client-a03" {
			t.Errorf("a03: %+v, want one request with messageId client-a03", c)
		}
		if c := h.send.callsOf("a06\n\na07\n\na08"); len(c) != 1 || c[0].Reply != gchat.ReplyOrFail {
			t.Errorf("a06-a08: %+v, want one request with REPLY_MESSAGE_OR_FAIL", c)
		}
	})
}

func TestCoalesceWithinLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), nil)
		// Texts of mixed sizes, with characters outside the BMP (two UTF-16
		// units each) and cards large enough that bytes bind before text.
		var ms []msg
		var cards int
		for i := range 40 {
			m := msg{text: fmt.Sprintf("t%02d %s", i, strings.Repeat("😀", (i*37)%700)), group: "g", relayThread: "spaces/ops/threads/kg"}
			if i%3 == 0 {
				m.cards = []card.CardWithID{{Card: card.New(fmt.Sprintf("card %d", i),
					card.NewSection("", card.Text(strings.Repeat("<b>big</b> ", 500+i*20))))}}
				cards++
			}
			ms = append(ms, m)
		}
		ds := h.enqueue("ops", ms...)
		h.start()
		h.settled(5*time.Minute, ds...)

		calls := h.send.Calls()
		checkLimits(t, calls)
		if len(calls) >= len(ms) {
			t.Errorf("%d requests for %d messages, want fewer", len(calls), len(ms))
		}
		if got, want := strings.Join(texts(calls), "\n\n"), strings.Join(msgTexts(ms), "\n\n"); got != want {
			t.Errorf("texts sent differ from the texts queued")
		}
		var sent int
		for _, c := range calls {
			sent += c.Cards
		}
		if sent != cards {
			t.Errorf("%d cards sent, want %d", sent, cards)
		}
		for _, d := range ds {
			if got := h.get(d.ID); got.State != store.StateDone {
				t.Errorf("%s is %s, want done", d.ID, got.State)
			}
		}
	})
}

func TestMergeRun(t *testing.T) {
	enc := func(m gchat.Message) []byte {
		b, err := gchat.Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	d := func(id string, m gchat.Message) store.Delivery {
		return store.Delivery{ID: id, Space: "ops", Group: "g", State: store.StateQueued, Message: enc(m)}
	}
	key := &gchat.Thread{ThreadKey: "k"}
	for _, tc := range []struct {
		name string
		in   []store.Delivery
		want int // members
	}{
		{"all", []store.Delivery{d("1", gchat.Message{Text: "a", Thread: key}), d("2", gchat.Message{Text: "b", Thread: key})}, 2},
		{"head attempted", func() []store.Delivery {
			a := d("1", gchat.Message{Text: "a"})
			a.Attempts = 1
			return []store.Delivery{a, d("2", gchat.Message{Text: "b"})}
		}(), 0},
		{"replayed dead letter", func() []store.Delivery {
			b := d("2", gchat.Message{Text: "b"})
			b.LastStatus, b.LastError = 400, "refused"
			return []store.Delivery{d("1", gchat.Message{Text: "a"}), b}
		}(), 1},
		{"other thread", []store.Delivery{d("1", gchat.Message{Text: "a", Thread: key}), d("2", gchat.Message{Text: "b", Thread: &gchat.Thread{Name: "spaces/S/threads/T"}})}, 1},
		{"other space", func() []store.Delivery {
			b := d("2", gchat.Message{Text: "b"})
			b.Space = "dev"
			return []store.Delivery{d("1", gchat.Message{Text: "a"}), b}
		}(), 1},
		{"open code fence", []store.Delivery{d("1", gchat.Message{Text: "a"}), d("2", gchat.Message{Text: "```\nb"})}, 1},
		{"v1 cards", []store.Delivery{d("1", gchat.Message{Text: "a"}), d("2", gchat.Message{Text: "b", Cards: []byte(`[{}]`)})}, 1},
		{"duplicate card id", []store.Delivery{
			d("1", gchat.Message{CardsV2: []card.CardWithID{{CardID: "x", Card: card.New("1", card.NewSection("", card.Text("a")))}}}),
			d("2", gchat.Message{CardsV2: []card.CardWithID{{CardID: "x", Card: card.New("2", card.NewSection("", card.Text("b")))}}}),
		}, 1},
		{"text limit", []store.Delivery{d("1", gchat.Message{Text: strings.Repeat("a", 2047)}), d("2", gchat.Message{Text: strings.Repeat("b", 2047)}), d("3", gchat.Message{Text: "c"})}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, merged := mergeRun(tc.in)
			if got := len(run); got != tc.want {
				t.Fatalf("run of %d, want %d", got, tc.want)
			}
			if merged != nil && len(run) > 1 {
				if parts, err := gchat.Fit(*merged, gchat.Options{}, gchat.Limits{}); err != nil || len(parts) != 1 {
					t.Errorf("merged message fits in %d parts (%v), want 1", len(parts), err)
				}
			}
		})
	}
}

func TestCoalesceConfig(t *testing.T) {
	ok := testConfig(space(t, "ops", "AAA", pace))
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"backlog of one", func(c *Config) { c.CoalesceBacklog = 1 }, "coalesce_backlog"},
		{"unknown operator", func(c *Config) { c.Operator = "nope" }, "operator"},
		{"operator", func(c *Config) { c.Operator = "ops" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
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

// listCounter counts the dispatcher's List calls: each coalescing pass makes
// one.
type listCounter struct {
	store.Store
	n     atomic.Int64
	mu    sync.Mutex
	lists []listed // every List, in order
}

// listed is one List: when (the bubble's time) and its limit.
type listed struct {
	at    time.Time
	limit int
}

func (c *listCounter) List(ctx context.Context, f store.Filter) ([]store.Delivery, error) {
	c.n.Add(1)
	c.mu.Lock()
	c.lists = append(c.lists, listed{time.Now(), f.Limit})
	c.mu.Unlock()
	return c.Store.List(ctx, f)
}

// limitsAt returns the limits of the Lists made at t.
func (c *listCounter) limitsAt(t time.Time) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, l := range c.lists {
		if l.at.Equal(t) {
			out = append(out, l.limit)
		}
	}
	return out
}

// TestCoalesceNotPerMessage: while the lane's heads wait for their retries
// (Google out of reach), the messages that keep arriving wake the lane but
// do not each cost a coalescing pass: the pass reads up to a thousand
// pending deliveries, and ingest would slow as the backlog grows.
func TestCoalesceNotPerMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), func(c call, n int) (time.Duration, error) {
			return 0, apiError(503, "UNAVAILABLE", "try later")
		})
		lists := &listCounter{}
		h.withStore(func(st store.Store) store.Store { lists.Store = st; return lists })
		h.enqueue("ops", msg{text: "first", group: "g"})
		h.start()
		h.waitFor("the first attempt", time.Minute, func() bool { return len(h.send.Calls()) == 1 })
		// Past the pace, before the retry (BackoffBase/2 = 2 s).
		time.Sleep(pace + 100*time.Millisecond)
		synctest.Wait()
		before := lists.n.Load()
		for i := range 50 {
			h.enqueue("ops", msg{text: fmt.Sprint(i), group: "g"})
			synctest.Wait()
		}
		if got := lists.n.Load() - before; got > 1 {
			t.Errorf("%d coalescing passes for 50 messages while the head waits for its retry, want at most 1", got)
		}
		if got := len(h.send.Calls()); got != 1 {
			t.Errorf("%d attempts, want 1 (the retry is not due)", got)
		}
	})
}

// TestCoalesceShortReadBehindAttemptedHead: while Google is out of reach the
// head of the group Claim takes next has been attempted, so nothing can be
// merged from it; the pass before each retry then reads only the oldest few
// pending deliveries, not a thousand, however long the backlog. A fresh
// head's pass reads on as long as the merge could use more, and its backlog
// is merged.
func TestCoalesceShortReadBehindAttemptedHead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var down atomic.Bool
		down.Store(true)
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), func(c call, n int) (time.Duration, error) {
			if down.Load() {
				return 0, apiError(503, "UNAVAILABLE", "try later")
			}
			return 0, nil
		})
		lists := &listCounter{}
		h.withStore(func(st store.Store) store.Store { lists.Store = st; return lists })
		ds := h.enqueue("ops", msg{text: "head", group: "g"})
		h.start()
		h.waitFor("the first attempt", time.Minute, func() bool { return len(h.send.Calls()) == 1 })
		ds = append(ds, h.enqueue("ops", thread("g", "m", 2*coalescePeekLimit, 0)...)...)
		h.waitFor("three retries", 5*time.Minute, func() bool { return len(h.send.Calls()) == 4 })
		// Each retry is claimed at the instant of its pass (time stands
		// still in the bubble while the lane works).
		for _, c := range h.send.Calls()[1:] {
			got := lists.limitsAt(c.At)
			if len(got) == 0 || slices.ContainsFunc(got, func(l int) bool { return l != coalescePeekLimit }) {
				t.Errorf("retry at %v: coalescing read with limits %v, want one read of %d", c.At, got, coalescePeekLimit)
			}
		}

		// Google is back: the head goes alone (it was attempted), then the
		// backlog behind it, read at length, is merged into one request.
		attempts := len(h.send.Calls())
		down.Store(false)
		h.settled(10*time.Minute, ds...)
		calls := h.send.Calls()[attempts:]
		if len(calls) != 2 {
			t.Fatalf("%d requests once Google was back, want 2: the head and the merged backlog", len(calls))
		}
		// All 128 fit in one request: the pass reads on past the first 64.
		if got := lists.limitsAt(calls[1].At); !slices.ContainsFunc(got, func(l int) bool { return l > coalescePeekLimit }) {
			t.Errorf("merged backlog sent after reads with limits %v, want one longer than %d", got, coalescePeekLimit)
		}
		if h.get(ds[1].ID).BatchID == "" {
			t.Errorf("%s went out alone, want it merged with the backlog behind it", ds[1].ID)
		}
	})
}

// TestCoalesceReadsWhatItMerges: a long backlog of messages of which four
// fill a request is merged four by four, each pass reading only the oldest
// 64 pending deliveries, since the run ends within them.
func TestCoalesceReadsWhatItMerges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(coalescing(t, "ops", "AAA")), nil)
		lists := &listCounter{}
		h.withStore(func(st store.Store) store.Store { lists.Store = st; return lists })
		ms := thread("g", "m", 200, 1000)
		ds := h.enqueue("ops", ms...)
		h.start()
		h.waitFor("three requests", time.Minute, func() bool { return len(h.send.Calls()) >= 3 })
		for _, c := range h.send.Calls()[:3] {
			if got := lists.limitsAt(c.At); !slices.Equal(got, []int{coalescePeekLimit}) {
				t.Errorf("request at %v: reads with limits %v, want one of %d", c.At, got, coalescePeekLimit)
			}
		}
		if got := h.get(ds[3].ID); got.BatchID == "" || got.BatchID != h.get(ds[0].ID).BatchID {
			t.Errorf("the first four messages not merged into one batch")
		}
	})
}
