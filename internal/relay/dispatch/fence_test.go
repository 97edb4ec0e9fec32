package dispatch

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
)

// fenceSender records, at each send, the request's deadline and the lane's
// lease as the store has it at that moment.
type fenceSender struct {
	Sender
	st store.Store
	mu sync.Mutex
	// deadlines and leaseEnds are per send, in order.
	deadlines, leaseEnds []time.Time
}

func (f *fenceSender) Send(ctx context.Context, hook *gchat.Webhook, msg *gchat.Message, opts ...gchat.Option) (*gchat.Response, error) {
	dl, _ := ctx.Deadline()
	var until time.Time
	if ls, err := f.st.LaneStates(context.Background()); err == nil {
		for _, l := range ls {
			if l.Lane == hook.Space() {
				until = l.LeaseUntil
			}
		}
	}
	f.mu.Lock()
	f.deadlines, f.leaseEnds = append(f.deadlines, dl), append(f.leaseEnds, until)
	f.mu.Unlock()
	return f.Sender.Send(ctx, hook, msg, opts...)
}

// TestSendDeadlineBeforeLeaseEnd: a request's deadline is RequestTimeout
// after its start and at least LeaseMargin before the lease ends, so that it
// is over before another replica can take the lane.
func TestSendDeadlineBeforeLeaseEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(space(t, "ops", "AAA", pace))
		cfg.LeaseTTL = 8 * time.Second
		h := newHarness(t, cfg, func(c call, n int) (time.Duration, error) {
			return 10 * time.Second, nil // outlasts the request timeout
		})
		rec := &fenceSender{Sender: h.send, st: h.st}
		h.d = New(cfg, h.st, rec, nil)
		h.start()
		ds := h.enqueue("ops", msg{text: "slow"})
		h.waitFor("two attempts", time.Minute, func() bool { return len(h.send.Calls()) >= 2 })
		margin := h.d.cfg.LeaseMargin
		if margin != 500*time.Millisecond {
			t.Errorf("default LeaseMargin %s, want 500ms (a tenth of the 5s request timeout)", margin)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for i, c := range h.send.Calls()[:2] {
			if got := rec.deadlines[i].Sub(c.At); got != cfg.RequestTimeout {
				t.Errorf("send %d: deadline %s after its start, want the request timeout %s", i, got, cfg.RequestTimeout)
			}
			if left := rec.leaseEnds[i].Sub(rec.deadlines[i]); left < margin {
				t.Errorf("send %d: deadline %s before the lease's end, want at least %s", i, left, margin)
			}
		}
		if got := h.get(ds[0].ID); got.LastError == "" || got.Attempts < 2 {
			t.Errorf("after two timeouts: %+v", got)
		}
	})
}

// slowLeaseStore answers the first AcquireLease that records a send late,
// as a loaded database would.
type slowLeaseStore struct {
	store.Store
	delay time.Duration
	slow  atomic.Int32 // sends still to slow down
}

func (s *slowLeaseStore) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if req.Send && s.slow.Add(-1) >= 0 {
		time.Sleep(s.delay)
	}
	return s.Store.AcquireLease(ctx, req)
}

// TestLeaseTooShortToSend: when renewing the lease took so long that what
// is left of it, on the replica's clock from when it asked, does not cover
// the request timeout plus the margin, the claim goes back unsent and the
// next try sends it.
func TestLeaseTooShortToSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(space(t, "ops", "AAA", pace))
		cfg.LeaseTTL = 8 * time.Second // margin 500ms: a send needs more than 5.5s of lease
		h := newHarness(t, cfg, nil)
		// 2.6s to renew leaves 5.4s: enough for the request timeout
		// alone, not with the margin.
		slow := &slowLeaseStore{Store: h.st, delay: 2600 * time.Millisecond}
		slow.slow.Store(1)
		h.d = New(cfg, slow, h.send, nil)
		h.start()
		ds := h.enqueue("ops", msg{text: "m"})
		h.settled(time.Minute, ds...)
		got := h.get(ds[0].ID)
		if n := len(h.send.Calls()); n != 1 || got.State != store.StateDone || got.Attempts != 2 {
			t.Errorf("%d sends, delivery %s after %d claims; want 1 send, done after 2 claims (the first not sent)", n, got.State, got.Attempts)
		}
	})
}

func TestLeaseMarginDefault(t *testing.T) {
	for _, tc := range []struct {
		request, lease, want time.Duration
	}{
		{30 * time.Second, 0, time.Second},                                 // the relay's defaults: capped at 1s
		{time.Second, 3 * time.Second, 100 * time.Millisecond},             // a tenth of the request timeout
		{5 * time.Second, 5200 * time.Millisecond, 100 * time.Millisecond}, // half of what the lease has beyond the request
	} {
		c := Config{RequestTimeout: tc.request, LeaseTTL: tc.lease}.withDefaults()
		if c.LeaseMargin != tc.want {
			t.Errorf("request_timeout %s, lease %s: margin %s, want %s", tc.request, tc.lease, c.LeaseMargin, tc.want)
		}
	}
	c := testConfig(space(t, "ops", "AAA", pace))
	c.LeaseTTL, c.LeaseMargin = 8*time.Second, 3*time.Second
	if err := c.Validate(); err == nil {
		t.Error("Validate accepts a lease that does not cover request_timeout plus lease_margin")
	}
}

// slowGrantStore grants the first lease late: the store's clock reads the
// grant a while after the replica asked, as when the call waits on a lock.
type slowGrantStore struct {
	store.Store
	delay time.Duration
	once  sync.Once
}

func (s *slowGrantStore) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	s.once.Do(func() { time.Sleep(s.delay) })
	return s.Store.AcquireLease(ctx, req)
}

// TestNewHolderWaitsOutPace: a replica that takes a lane over right after
// another released it (a graceful stop) makes its first request no sooner
// than a pace after the other's last one, even when its grant was slow.
func TestNewHolderWaitsOutPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(space(t, "ops", "AAA", pace))
		h := newHarness(t, cfg, nil)
		other, err := h.st.AcquireLease(context.Background(), store.LeaseRequest{Lane: "AAA", Owner: "replica-2", TTL: 8 * time.Second, Send: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.st.ReleaseLease(context.Background(), other); err != nil {
			t.Fatal(err)
		}
		h.d = New(cfg, &slowGrantStore{Store: h.st, delay: 600 * time.Millisecond}, h.send, nil)
		ds := h.enqueue("ops", msg{text: "m"})
		h.start()
		h.settled(time.Minute, ds...)
		if got := h.send.Calls()[0].At.Sub(other.LastSend); got < pace {
			t.Errorf("first send %s after replica-2's, want at least the pace %s", got, pace)
		}
	})
}

// stallClock is the dispatcher's clock, which jumps ahead once, on the
// third reading after arm: after a send's lease renewal, the readings are
// the renewal's answer, the send's start, and the send goroutine's last
// check, which then sees the process as stalled past the deadline.
type stallClock struct {
	mu     sync.Mutex
	armed  int
	jump   time.Duration
	offset time.Duration
}

func (c *stallClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed > 0 {
		c.armed--
		if c.armed == 0 {
			c.offset += c.jump
		}
	}
	return time.Now().Add(c.offset)
}

// armingStore arms the clock when the first send's lease renewal returns.
type armingStore struct {
	store.Store
	clock *stallClock
	once  sync.Once
}

func (s *armingStore) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	l, err := s.Store.AcquireLease(ctx, req)
	if req.Send {
		s.once.Do(func() {
			s.clock.mu.Lock()
			s.clock.armed = 3
			s.clock.mu.Unlock()
		})
	}
	return l, err
}

// TestSendTooLate: a send whose goroutine runs only after its deadline (the
// process stalled between the lease check and the send) is not sent; the
// claim goes back to the queue and a later attempt sends it.
func TestSendTooLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(space(t, "ops", "AAA", pace))
		clock := &stallClock{jump: cfg.RequestTimeout + time.Second}
		cfg.Now = clock.Now
		h := newHarness(t, cfg, nil)
		logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		h.d = New(cfg, &armingStore{Store: h.st, clock: clock}, h.send, logger)
		h.start()
		ds := h.enqueue("ops", msg{text: "m"})
		h.settled(time.Minute, ds...)
		if n := len(h.logs.records(t, "send_too_late")); n != 1 {
			t.Errorf("%d send_too_late records, want 1", n)
		}
		got := h.get(ds[0].ID)
		if n := len(h.send.Calls()); n != 1 || got.State != store.StateDone || got.Attempts != 2 {
			t.Errorf("%d sends, delivery %s after %d claims; want 1 send, done after 2 claims (the late one not sent)", n, got.State, got.Attempts)
		}
	})
}
