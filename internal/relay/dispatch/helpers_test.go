package dispatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// secret is in every test webhook's token; no log may contain it.
const secret = "s3cret-token"

func testHook(tb testing.TB, googleSpace string) *gchat.Webhook {
	tb.Helper()
	h, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=k&token=" + secret + "-" + googleSpace)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// call is one request the fake sender received.
type call struct {
	At        time.Time
	Space     string // the Google space id
	Text      string // identifies the delivery in tests
	RequestID string
	Reply     gchat.ReplyOption
	MessageID string
	Thread    string // thread.name as sent
	Size      int    // bytes of the encoded message
	Cards     int    // len(cardsV2)
}

// script answers the n-th attempt (from 1) of a message: after delay, with
// err (nil: success).
type script func(c call, n int) (delay time.Duration, err error)

// fakeSender records calls and answers from a script.
type fakeSender struct {
	script script
	mu     sync.Mutex
	calls  []call
}

func (f *fakeSender) Send(ctx context.Context, hook *gchat.Webhook, msg *gchat.Message, opts ...gchat.Option) (*gchat.Response, error) {
	var o gchat.Options
	for _, opt := range opts {
		if v, ok := opt.(gchat.Options); ok {
			o = v
		}
	}
	c := call{At: time.Now(), Space: hook.Space(), Text: msg.Text, RequestID: o.RequestID, Reply: o.Reply, MessageID: o.MessageID, Cards: len(msg.CardsV2)}
	if body, err := gchat.Encode(msg); err == nil {
		c.Size = len(body)
	}
	thread := "spaces/" + c.Space + "/threads/" + msg.Text
	if msg.Thread != nil {
		c.Thread = msg.Thread.Name
		switch {
		case strings.HasPrefix(msg.Thread.Name, "spaces/"):
			thread = msg.Thread.Name
		case msg.Thread.Name != "":
			return nil, &gchat.APIError{StatusCode: 400, Status: "INVALID_ARGUMENT", Message: "unknown thread " + msg.Thread.Name}
		case msg.Thread.ThreadKey != "":
			thread = "spaces/" + c.Space + "/threads/" + msg.Thread.ThreadKey
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	n := 0
	for _, p := range f.calls {
		if p.Text == c.Text {
			n++
		}
	}
	f.mu.Unlock()
	var delay time.Duration
	var err error
	if f.script != nil {
		delay, err = f.script(c, n)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("send message: %w", ctx.Err())
		case <-t.C:
		}
	}
	if err != nil {
		return nil, err
	}
	return &gchat.Response{
		Name:   "spaces/" + c.Space + "/messages/" + c.Text,
		Thread: gchat.Thread{Name: thread},
	}, nil
}

func (f *fakeSender) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// callsOf returns the calls of one message, in order.
func (f *fakeSender) callsOf(text string) []call {
	var out []call
	for _, c := range f.Calls() {
		if c.Text == text {
			out = append(out, c)
		}
	}
	return out
}

// logBuffer collects JSON log lines from concurrent goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log records with message msg.
func (b *logBuffer) records(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// harness is a Dispatcher on a real SQLite store and a fake sender. Use it
// inside a synctest bubble: the clock is the bubble's.
type harness struct {
	t    *testing.T
	cfg  Config
	st   *sqlite.Store
	send *fakeSender
	logs *logBuffer
	d    *Dispatcher
	// logger is d's; withStore builds another Dispatcher with it.
	logger *slog.Logger

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// testConfig has short, round timings; Rand 0.5 makes backoff(n) half of
// BackoffBase·2ⁿ⁻¹.
func testConfig(spaces ...Space) Config {
	return Config{
		Spaces:         spaces,
		Owner:          "replica-1",
		RequestTimeout: 5 * time.Second,
		BackoffBase:    4 * time.Second,
		BackoffCap:     time.Minute,
		PollInterval:   time.Second,
		DrainTimeout:   10 * time.Second,
		Rand:           func() float64 { return 0.5 },
	}
}

func space(tb testing.TB, name, googleSpace string, pace time.Duration) Space {
	return Space{Name: name, Webhook: testHook(tb, googleSpace), Pace: pace}
}

func newHarness(t *testing.T, cfg Config, s script) *harness {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{
		// Commit at once: a group-commit wait would move the bubble's clock
		// and blur the exact timings the tests assert.
		MaxWait: -1,
	})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	h := &harness{t: t, cfg: cfg, st: st, send: &fakeSender{script: s}, logs: &logBuffer{}}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.logger = logger
	h.d = New(cfg, st, h.send, logger)
	t.Cleanup(func() {
		if strings.Contains(h.logs.String(), secret) {
			t.Errorf("logs contain the webhook token:\n%s", h.logs.String())
		}
	})
	return h
}

// withStore makes the dispatcher use wrap(the store) instead of the store;
// the harness itself keeps reading and enqueueing through the store. Call
// it before start.
func (h *harness) withStore(wrap func(store.Store) store.Store) {
	h.d = New(h.cfg, wrap(h.st), h.send, h.logger)
}

// start runs the dispatcher until stop or the end of the test.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.d.Run(ctx) }()
	h.t.Cleanup(func() {
		if err := h.stop(); err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
	})
}

// stop cancels Run and returns its result.
func (h *harness) stop() error {
	h.once.Do(func() {
		h.cancel()
		h.err = <-h.done
	})
	return h.err
}

// msg is one message to enqueue: its text identifies it. The body names
// threadName if set, else has the group as its thread key.
type msg struct {
	text, group string
	reply       string
	messageID   string
	relayThread string
	threadName  string
	cards       []card.CardWithID
	// route names the relay route of the request (the first message's
	// counts for all of one enqueue call).
	route string
}

// enqueue stores msgs, in one request, for relay space name.
func (h *harness) enqueue(name string, msgs ...msg) []store.Delivery {
	h.t.Helper()
	var lane string
	for _, s := range h.cfg.Spaces {
		if s.Name == name {
			lane = s.Webhook.Space()
		}
	}
	req := store.EnqueueRequest{Space: name, Lane: lane}
	if len(msgs) > 0 {
		req.Route = msgs[0].route
	}
	for _, m := range msgs {
		gm := gchat.Message{Text: m.text, CardsV2: m.cards}
		switch {
		case m.threadName != "":
			gm.Thread = &gchat.Thread{Name: m.threadName}
		case m.group != "":
			gm.Thread = &gchat.Thread{ThreadKey: m.group}
		}
		body, err := json.Marshal(gm)
		if err != nil {
			h.t.Fatal(err)
		}
		req.Deliveries = append(req.Deliveries, store.NewDelivery{Group: m.group, Message: body, Reply: m.reply, MessageID: m.messageID, RelayThread: m.relayThread})
	}
	res, err := h.st.Enqueue(context.Background(), req)
	if err != nil {
		h.t.Fatalf("enqueue: %v", err)
	}
	h.d.Notify(lane)
	return res.Deliveries
}

func (h *harness) get(id string) store.Delivery {
	h.t.Helper()
	d, err := h.st.Get(context.Background(), id)
	if err != nil {
		h.t.Fatalf("get %s: %v", id, err)
	}
	return d
}

func (h *harness) laneState(lane string) store.LaneState {
	h.t.Helper()
	ls, err := h.st.LaneStates(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range ls {
		if l.Lane == lane {
			return l
		}
	}
	h.t.Fatalf("lane %s unknown to the store", lane)
	return store.LaneState{}
}

func (h *harness) spaceState(name string) store.SpaceState {
	h.t.Helper()
	states, err := h.st.SpaceStates(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, st := range states {
		if st.Space == name {
			return st
		}
	}
	return store.SpaceState{Space: name}
}

// waitFor sleeps on the bubble's clock until cond holds, failing after limit.
func (h *harness) waitFor(what string, limit time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("after %s: still waiting for %s; calls: %+v", limit, what, h.send.Calls())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settled waits until every delivery is in a final state.
func (h *harness) settled(limit time.Duration, ds ...store.Delivery) {
	h.t.Helper()
	h.waitFor("deliveries to settle", limit, func() bool {
		for _, d := range ds {
			// A batch member waits for its batch's final state.
			if st := h.get(d.ID).State; st.Pending() || st == store.StateBatched {
				return false
			}
		}
		return true
	})
}

func texts(cs []call) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

// checkPace fails when two starts in one Google space are closer than pace.
// Under synctest the clock is exact, so there is no tolerance.
func checkPace(tb testing.TB, cs []call, googleSpace string, pace time.Duration) {
	tb.Helper()
	var last time.Time
	for _, c := range cs {
		if c.Space != googleSpace {
			continue
		}
		if !last.IsZero() && c.At.Sub(last) < pace {
			tb.Errorf("space %s: %s started %s after the previous start, want at least %s", googleSpace, c.Text, c.At.Sub(last), pace)
		}
		last = c.At
	}
}
