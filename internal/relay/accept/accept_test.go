package accept_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

const lane = "AAAAlane001"

// env is an accept path into a real SQLite store, recording its wake-ups.
type env struct {
	t      *testing.T
	store  store.Store
	acc    *accept.Accepter
	alerts *config.Space // reply_fallback off: Google's semantics
	open   *config.Space // reply_fallback on

	mu    sync.Mutex
	woken []string
}

func newEnv(t *testing.T, limit int) *env {
	t.Helper()
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + lane + "/messages?key=k&token=t")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, alerts: config.NewSpace("alerts", hook), open: config.NewSpace("open", hook)}
	e.open.ReplyFallback = true
	e.acc = accept.New(st, func(l string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.woken = append(e.woken, l)
	}, limit)
	return e
}

func (e *env) wakes() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.woken)
}

func (e *env) mustAccept(req accept.Request) accept.Result {
	e.t.Helper()
	res, err := e.acc.Accept(e.t.Context(), req)
	if err != nil {
		e.t.Fatalf("accept: %v", err)
	}
	return res
}

// sent is the message a delivery will send.
func sent(t *testing.T, d store.Delivery) gchat.Message {
	t.Helper()
	var m gchat.Message
	if err := json.Unmarshal(d.Message, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAcceptPlacesThreads(t *testing.T) {
	e := newEnv(t, 0)
	text := gchat.Message{Text: "hi"}
	keyed := func(key string) gchat.Message {
		return gchat.Message{Text: "hi", Thread: &gchat.Thread{ThreadKey: key}}
	}

	// No thread: a new thread of its own, in the lane's unthreaded group.
	d := e.mustAccept(accept.Request{Space: e.alerts, Message: text}).Deliveries[0]
	if !strings.HasPrefix(d.RelayThread, "spaces/alerts/threads/n") || d.Group != "" || d.Reply != "" || d.Lane != lane {
		t.Errorf("no thread: relay thread %q, group %q, reply %q, lane %q; want a new relay thread in the unthreaded group of %s", d.RelayThread, d.Group, d.Reply, d.Lane, lane)
	}

	// A key without a reply option: Google's default is a new thread,
	// said explicitly so that the library does not apply the fallback.
	d = e.mustAccept(accept.Request{Space: e.alerts, Message: keyed("db1")}).Deliveries[0]
	if d.Reply != gchat.ReplyNewThread.String() || d.Group != "" || !strings.HasPrefix(d.RelayThread, "spaces/alerts/threads/n") {
		t.Errorf("key, no reply option: reply %q, group %q, thread %q; want a new thread", d.Reply, d.Group, d.RelayThread)
	}

	// With reply_fallback the key is a thread: one relay name per (space,
	// key), which is its group.
	a := e.mustAccept(accept.Request{Space: e.open, Message: keyed("db1")}).Deliveries[0]
	b := e.mustAccept(accept.Request{Space: e.open, Message: keyed("db1"), Reply: gchat.ReplyFallbackToNewThread}).Deliveries[0]
	if a.Reply != gchat.ReplyFallbackToNewThread.String() || !strings.HasPrefix(a.RelayThread, "spaces/open/threads/k") || a.Group != a.RelayThread {
		t.Errorf("keyed: reply %q, thread %q, group %q; want the fallback in the key's own thread and group", a.Reply, a.RelayThread, a.Group)
	}
	if b.RelayThread != a.RelayThread || b.Group != a.Group {
		t.Errorf("the key's second message: thread %q group %q, want %q", b.RelayThread, b.Group, a.RelayThread)
	}
	if other := e.mustAccept(accept.Request{Space: e.open, Message: keyed("db2")}).Deliveries[0]; other.RelayThread == a.RelayThread {
		t.Errorf("another key shares thread %q", a.RelayThread)
	}
	if m := sent(t, a); m.Thread == nil || m.Thread.ThreadKey != "db1" {
		t.Errorf("sent thread %+v, want the caller's key", m.Thread)
	}

	// A reply by the relay thread name joins the key's group.
	c := e.mustAccept(accept.Request{Space: e.open, Message: gchat.Message{Text: "reply", Thread: &gchat.Thread{Name: a.RelayThread}},
		Reply: gchat.ReplyFallbackToNewThread}).Deliveries[0]
	if c.RelayThread != a.RelayThread || c.Group != a.Group {
		t.Errorf("reply by name: thread %q group %q, want %q", c.RelayThread, c.Group, a.RelayThread)
	}

	// Explicitly a new thread: a relay name in the message never reaches
	// Google.
	n := e.mustAccept(accept.Request{Space: e.open, Message: gchat.Message{Text: "new", Thread: &gchat.Thread{Name: a.RelayThread}},
		Reply: gchat.ReplyNewThread}).Deliveries[0]
	if n.RelayThread == a.RelayThread || n.Group != "" {
		t.Errorf("new thread: thread %q group %q, want a new thread", n.RelayThread, n.Group)
	}
	if m := sent(t, n); m.Thread != nil {
		t.Errorf("new thread: sent thread %+v, want none", m.Thread)
	}
}

func TestAcceptOptions(t *testing.T) {
	e := newEnv(t, 0)
	long := strings.Repeat("word ", 2000) // 10,000 characters: over the text limit
	res := e.mustAccept(accept.Request{Space: e.alerts, Message: gchat.Message{Text: long}, MessageID: "client-1",
		CallerRequestID: "req-1", Route: "prom", DedupKey: "k1"})
	if len(res.Deliveries) < 2 || res.Duplicate {
		t.Fatalf("long text: %d deliveries (duplicate %v), want several parts", len(res.Deliveries), res.Duplicate)
	}
	for i, d := range res.Deliveries {
		if d.RelayThread != res.Deliveries[0].RelayThread || d.Route != "prom" || d.CallerRequestID != "req-1" {
			t.Errorf("part %d: thread %q route %q caller request %q, want the first's thread, prom, req-1", i, d.RelayThread, d.Route, d.CallerRequestID)
		}
	}
	if res.Deliveries[0].MessageID != "client-1" {
		t.Errorf("first part's messageId %q, want client-1", res.Deliveries[0].MessageID)
	}
	if e.wakes() != 1 || e.woken[0] != lane {
		t.Errorf("woken %v, want %s once", e.woken, lane)
	}

	// The caller's requestId again, then the dedup key again: the first
	// request's deliveries, nothing stored.
	for _, req := range []accept.Request{
		{Space: e.alerts, Message: gchat.Message{Text: "other"}, CallerRequestID: "req-1"},
		{Space: e.alerts, Message: gchat.Message{Text: "other"}, DedupKey: "k1"},
	} {
		again := e.mustAccept(req)
		if !again.Duplicate || again.Deliveries[0].ID != res.Deliveries[0].ID {
			t.Errorf("repeat %+v: duplicate %v, first %s; want a duplicate of %s", req, again.Duplicate, again.Deliveries[0].ID, res.Deliveries[0].ID)
		}
	}
	all, err := e.store.List(t.Context(), store.Filter{})
	if err != nil || len(all) != len(res.Deliveries) {
		t.Errorf("stored %d (err %v), want %d", len(all), err, len(res.Deliveries))
	}
}

// TestAcceptErrors: each failure is a typed error the handlers translate,
// stores nothing and wakes nobody.
func TestAcceptErrors(t *testing.T) {
	e := newEnv(t, 2)
	e.mustAccept(accept.Request{Space: e.alerts, Message: gchat.Message{Text: "one"}})
	woken := e.wakes()

	var thErr *accept.ThreadError
	_, err := e.acc.Accept(t.Context(), accept.Request{Space: e.alerts,
		Message: gchat.Message{Text: "hi", Thread: &gchat.Thread{Name: "spaces/alerts/threads/knope"}}, Reply: gchat.ReplyOrFail})
	if !errors.As(err, &thErr) || thErr.Name != "spaces/alerts/threads/knope" {
		t.Errorf("REPLY_MESSAGE_OR_FAIL to an unknown thread name: %v, want a ThreadError naming it", err)
	}
	_, err = e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "hi"}, Reply: gchat.ReplyOrFail})
	if !errors.As(err, &thErr) || thErr.Name != "" {
		t.Errorf("REPLY_MESSAGE_OR_FAIL without a thread: %v, want a ThreadError", err)
	}
	var exists *accept.ExistsError
	_, err = e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "hi"}, MessageID: "client-x", UniqueMessageID: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "again"}, MessageID: "client-x", UniqueMessageID: true})
	if !errors.As(err, &exists) || exists.MessageID != "client-x" {
		t.Errorf("a messageId accepted before: %v, want an ExistsError", err)
	}
	woken = e.wakes()

	var msgErr *accept.MessageError
	cards := json.RawMessage(`[{"header":{"title":"` + strings.Repeat("x", 40000) + `"}}]`)
	_, err = e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Cards: cards}})
	if !errors.As(err, &msgErr) || msgErr.Op != accept.OpFit || !errors.Is(err, gchat.ErrTooLarge) {
		t.Errorf("a message that cannot be fitted: %v, want a MessageError of fit wrapping gchat.ErrTooLarge", err)
	}

	var full *accept.FullError
	_, err = e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: strings.Repeat("word ", 2000)}})
	if !errors.As(err, &full) || full.Space != "alerts" || full.Limit != 2 || !errors.Is(err, store.ErrFull) {
		t.Errorf("past the lane's bound: %v, want a FullError of alerts, limit 2, matching store.ErrFull", err)
	}

	if all, err := e.store.List(t.Context(), store.Filter{}); err != nil || len(all) != 2 {
		t.Errorf("stored %d (err %v), want only the first message and client-x", len(all), err)
	}
	e.store.Close()
	_, err = e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "closed"}})
	if err == nil || errors.As(err, &thErr) || errors.As(err, &msgErr) || errors.As(err, &full) {
		t.Errorf("closed store: %v, want a store failure", err)
	}
	if e.wakes() != woken {
		t.Errorf("woken %d times after failures, want none", e.wakes()-woken)
	}
}

// TestQueueLimitOfTheSpace: with no limit given to New, each space keeps to
// its own queue_limit, and a negative limit lifts every bound.
func TestQueueLimitOfTheSpace(t *testing.T) {
	e := newEnv(t, 0)
	e.alerts.QueueLimit = 1
	e.mustAccept(accept.Request{Space: e.alerts, Message: gchat.Message{Text: "first"}})
	var full *accept.FullError
	_, err := e.acc.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "second"}})
	if !errors.As(err, &full) || full.Limit != 1 {
		t.Errorf("past alerts' queue_limit of 1: %v, want a FullError, limit 1", err)
	}
	e.mustAccept(accept.Request{Space: e.open, Message: gchat.Message{Text: "other space"}})

	unbounded := accept.New(e.store, nil, -1)
	if _, err := unbounded.Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "second"}}); err != nil {
		t.Errorf("no bound: %v", err)
	}
}
