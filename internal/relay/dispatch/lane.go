package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
)

// A lane delivers the messages of one Google space. Its loop claims one due
// thread-group head per pace slot, so nothing is marked sending without being
// sent at once: a pause never has to hand claims back, and Attempts counts
// real attempts. Sends run in their own goroutines, so a slow request does
// not stop the next start; the store keeps each group to one in flight.
type lane struct {
	d      *Dispatcher
	id     string // the Google space id
	pace   time.Duration
	spaces map[string]*Space // by relay space name
	wake   chan struct{}
	log    *slog.Logger
	// coalescing: some relay space of the lane has Coalesce on.
	coalescing bool

	// Owned by the run goroutine.
	lease     store.Lease
	leaseAt   time.Time // our clock when the lease was asked for
	held      bool
	lastStart time.Time // our clock when the last request started
	inflight  sync.WaitGroup

	// Set by sends' outcomes, read by the loop.
	mu          sync.Mutex
	pausedUntil time.Time   // a 429 pause, our clock
	stopped     bool        // paused until resumed (403/404)
	stops       int         // counts stops, so a stale read of the store cannot undo a newer one
	throttles   int         // 429s since the last success
	due         []time.Time // retry times we scheduled, so an idle lane wakes for them
}

// poke wakes the loop without blocking.
func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run is the lane's loop. When ctx ends it stops claiming, waits for its
// sends (which Run cuts at the drain deadline) and releases the lease.
func (l *lane) run(ctx, sendCtx context.Context) {
	for ctx.Err() == nil {
		wait := l.step(ctx, sendCtx)
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-t.C:
		}
		t.Stop()
	}
	l.inflight.Wait()
	if l.held {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := l.d.store.ReleaseLease(rctx, l.lease); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			l.log.LogAttrs(rctx, slog.LevelError, "lease_release_failed", slog.Any("err", err))
		}
		l.held = false
	}
}

// step starts at most one request and returns how long to wait before the
// next step; a notification may cut the wait short.
func (l *lane) step(ctx, sendCtx context.Context) time.Duration {
	cfg := &l.d.cfg
	now := cfg.Now()
	if w := l.lastStart.Add(l.pace).Sub(now); w > 0 {
		return w
	}
	l.mu.Lock()
	pausedUntil, stopped := l.pausedUntil, l.stopped
	l.mu.Unlock()
	if w := pausedUntil.Sub(now); w > 0 {
		return w
	}
	// A stopped lane renews on every step to see whether it was resumed.
	if !l.held || stopped || l.leaseLeft(now) < cfg.LeaseTTL/2 {
		if l.acquire(ctx, false) != nil {
			return cfg.PollInterval
		}
		l.mu.Lock()
		pausedUntil, stopped = l.pausedUntil, l.stopped
		l.mu.Unlock()
		if stopped {
			return cfg.PollInterval
		}
		// A new holder paces from the lane's last start, which the grant
		// just brought in: maybe another replica's, less than a pace ago
		// when that one released the lane on shutdown.
		now = cfg.Now()
		if w := max(l.lastStart.Add(l.pace).Sub(now), pausedUntil.Sub(now)); w > 0 {
			return w
		}
	}
	l.coalesce(ctx)
	ds, err := l.d.store.Claim(ctx, l.lease, 1)
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			l.lost(ctx, err)
			return 0
		}
		if ctx.Err() == nil {
			l.log.LogAttrs(ctx, slog.LevelError, "claim_failed", slog.Any("err", err))
		}
		return cfg.PollInterval
	}
	if len(ds) == 0 {
		return l.idle(now)
	}
	return l.start(ctx, sendCtx, ds[0])
}

// idle returns how long an idle lane sleeps: until the next retry it
// scheduled, at most PollInterval.
func (l *lane) idle(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := l.d.cfg.PollInterval
	kept := l.due[:0]
	for _, t := range l.due {
		if t.After(now) {
			kept = append(kept, t)
			wait = min(wait, t.Sub(now))
		}
	}
	l.due = kept
	return wait
}

// leaseLeft is how long the held lease still runs, measured on our clock
// from when it was asked for (so never longer than the store's view).
func (l *lane) leaseLeft(now time.Time) time.Duration {
	return l.lease.Until.Sub(l.lease.Granted) - now.Sub(l.leaseAt)
}

// acquire gets or renews the lane's lease; send records a request start
// with it, so that pacing carries over to whichever replica holds the lane
// next. It also takes in the pause state the store keeps for the lane.
func (l *lane) acquire(ctx context.Context, send bool) error {
	cfg := &l.d.cfg
	l.mu.Lock()
	stops := l.stops
	l.mu.Unlock()
	asked := cfg.Now()
	lease, err := l.d.store.AcquireLease(ctx, store.LeaseRequest{Lane: l.id, Owner: cfg.Owner, TTL: cfg.LeaseTTL, Send: send})
	// The store's clock read Granted somewhere between asked and answered
	// on ours. Times that limit us translate from the side that is safe:
	// the lease's end from asked (it ends no later than we think), the last
	// send and a pause's end from answered (they end no earlier).
	answered := cfg.Now()
	if err != nil {
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			if l.held {
				l.lost(ctx, err)
			}
		case ctx.Err() == nil:
			l.log.LogAttrs(ctx, slog.LevelError, "lease_failed", slog.Any("err", err))
		}
		return err
	}
	if !l.held && !lease.LastSend.IsZero() {
		// A new holder paces from the lane's last start, maybe another
		// replica's: translate it from the store's clock to ours.
		if last := answered.Add(lease.LastSend.Sub(lease.Granted)); last.After(l.lastStart) {
			l.lastStart = last
		}
	}
	l.lease, l.leaseAt, l.held = lease, asked, true

	l.mu.Lock()
	defer l.mu.Unlock()
	p := lease.Pause
	switch {
	case p.Active(lease.Granted) && p.Until.IsZero():
		l.stop(ctx, p.Reason)
	case p.Active(lease.Granted):
		if until := answered.Add(p.Until.Sub(lease.Granted)); until.After(l.pausedUntil) {
			l.pausedUntil = until
		}
	case l.stopped && l.stops == stops:
		l.stopped = false
		l.log.LogAttrs(ctx, slog.LevelInfo, "space_resumed")
	}
	return nil
}

// stop marks the lane paused until resumed and alerts once: it reports
// whether the lane was running until now. l.mu is held.
func (l *lane) stop(ctx context.Context, reason string) bool {
	l.stops++
	if l.stopped {
		return false
	}
	l.stopped = true
	l.log.LogAttrs(ctx, slog.LevelError, "space_paused", slog.String("reason", reason))
	return true
}

// lost forgets a lease another owner took or that ended. The store has put
// our claimed deliveries back in the queue; our in-flight sends will fail to
// finish and be retried by the new holder with the same requestId.
func (l *lane) lost(ctx context.Context, err error) {
	l.held = false
	l.log.LogAttrs(ctx, slog.LevelWarn, "lease_lost", slog.Any("err", err))
}

// start sends claimed delivery d, or settles it at once when it cannot be
// sent.
func (l *lane) start(ctx, sendCtx context.Context, d store.Delivery) time.Duration {
	cfg := &l.d.cfg
	log := l.log.With(slog.String("delivery_id", d.ID), slog.Int("attempt", d.Attempts))
	sp := l.d.settings(l.spaces[d.Space], d.Route)
	if sp == nil {
		// Its relay space left the configuration; keep it for a reload.
		log.LogAttrs(ctx, slog.LevelWarn, "space_not_configured", slog.String("relay_space", d.Space))
		l.finish(ctx, l.lease, d, store.Outcome{State: store.StateQueued, RetryAt: cfg.Now().Add(cfg.BackoffCap),
			Error: fmt.Sprintf("relay space %q is not configured", d.Space)}, log)
		return 0
	}
	if age := cfg.Now().Sub(d.QueuedAt); age > sp.MaxAge {
		l.fail(ctx, l.lease, d, sp, 0, fmt.Sprintf("too old: queued %s ago, max_age %s", age.Round(time.Millisecond), sp.MaxAge), log)
		return 0
	}
	msg, opts, err := l.prepare(ctx, d)
	if err != nil {
		l.fail(ctx, l.lease, d, sp, 0, err.Error(), log)
		return 0
	}
	if ctx.Err() != nil {
		return 0 // shutting down: ReleaseLease puts the claim back
	}
	// Fencing: renew (recording the start) and send only while the lease
	// outlives the request by LeaseMargin; the request's deadline is set
	// so that it ends that much before the lease.
	claimed := l.lease
	if err := l.acquire(ctx, true); err != nil {
		if !errors.Is(err, store.ErrLeaseHeld) {
			// Still ours as far as we know: put it back.
			l.finish(ctx, claimed, d, store.Outcome{State: store.StateQueued, Error: "not sent: " + err.Error()}, log)
		}
		return cfg.PollInterval
	}
	if l.lease.Token != claimed.Token {
		// The lane changed hands meanwhile, and the claim went back to
		// the queue with it.
		return 0
	}
	now := cfg.Now()
	l.mu.Lock()
	blocked, resume := l.stopped || l.pausedUntil.After(now), l.pausedUntil
	l.mu.Unlock()
	if blocked || l.leaseLeft(now) <= cfg.RequestTimeout+cfg.LeaseMargin {
		// Paused meanwhile, or the store was too slow to leave the lease
		// time for a request: not sent, so not a failure.
		l.finish(ctx, l.lease, d, store.Outcome{State: store.StateQueued, RetryAt: resume, Error: "not sent: lane paused or lease too short"}, log)
		return 0
	}
	// now+RequestTimeout is at least LeaseMargin before the lease's end,
	// by the check above; the deadline is fixed here, so a send that starts
	// late (the process was descheduled or frozen) gets only what is left.
	deadline := now.Add(cfg.RequestTimeout)
	l.lastStart = now
	l.inflight.Add(1)
	lease := l.lease
	go func() {
		defer l.inflight.Done()
		l.deliver(sendCtx, lease, deadline, d, sp, msg, opts, log)
		l.poke() // the group's next message may be due
	}()
	return l.pace
}

// prepare decodes the stored message and its options. A reply by the thread
// name the relay handed out goes to Google's thread once that is known.
func (l *lane) prepare(ctx context.Context, d store.Delivery) (*gchat.Message, gchat.Options, error) {
	var msg gchat.Message
	if err := json.Unmarshal(d.Message, &msg); err != nil {
		return nil, gchat.Options{}, fmt.Errorf("decode stored message: %w", err)
	}
	reply, err := gchat.ParseReplyOption(d.Reply)
	if err != nil {
		return nil, gchat.Options{}, fmt.Errorf("stored reply option: %w", err)
	}
	if d.RelayThread != "" && msg.Thread != nil && msg.Thread.Name == d.RelayThread {
		if t, err := l.d.store.Thread(ctx, d.RelayThread); err == nil && t.GoogleName != "" {
			msg.Thread.Name = t.GoogleName
		}
	}
	// One Options literal rather than With… options: the same values, and a
	// Sender can read them back.
	return &msg, gchat.Options{Reply: reply, MessageID: d.MessageID, RequestID: d.RequestID}, nil
}

// deliver makes one attempt, cut at deadline, and records its outcome.
func (l *lane) deliver(ctx context.Context, lease store.Lease, deadline time.Time, d store.Delivery, sp *Space, msg *gchat.Message, opts gchat.Options, log *slog.Logger) {
	cfg := &l.d.cfg
	// The last check before the request leaves: a goroutine that starts
	// after the deadline (the process stalled since start checked the
	// lease) no longer holds the lease long enough, and must not send.
	left := deadline.Sub(cfg.Now())
	if left <= 0 {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer fcancel()
		log.LogAttrs(fctx, slog.LevelWarn, "send_too_late", slog.Duration("late_by", -left))
		l.finish(fctx, lease, d, store.Outcome{State: store.StateQueued, Error: "not sent: started after its deadline, the lease may be gone"}, log)
		return
	}
	actx, cancel := context.WithTimeout(ctx, left)
	resp, err := l.d.send.Send(actx, sp.Webhook, msg, opts)
	timedOut := err != nil && ctx.Err() == nil && actx.Err() != nil
	cancel()
	// Finishing must happen even when the drain deadline cut the send.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer fcancel()
	if err != nil && ctx.Err() != nil {
		// Cut by the drain deadline: it may have arrived. It goes again,
		// with the same requestId.
		l.finish(fctx, lease, d, store.Outcome{State: store.StateQueued, Error: "interrupted by shutdown: " + err.Error()}, log)
		return
	}
	now := cfg.Now()
	status := statusOf(err)
	switch decide(err, d.Reply, timedOut) {
	case actDone:
		l.mu.Lock()
		l.throttles = 0
		l.mu.Unlock()
		log.LogAttrs(fctx, slog.LevelDebug, "delivery_sent")
		var out store.Outcome
		out.State = store.StateDone
		if resp != nil {
			out.GoogleMessage, out.GoogleThread = resp.Name, resp.Thread.Name
		}
		l.finish(fctx, lease, d, out, log)

	case actThrottle:
		var retryAfter time.Duration
		if ae := (*gchat.APIError)(nil); errors.As(err, &ae) {
			retryAfter = ae.RetryAfter
		}
		l.mu.Lock()
		l.throttles++
		wait := min(retryAfter, cfg.BackoffCap)
		if wait <= 0 {
			wait = l.d.backoff(l.throttles)
		}
		until := now.Add(wait)
		l.pausedUntil = later(l.pausedUntil, until)
		// Recorded in the store for the next holder and the admin page;
		// an indefinite pause must not be overwritten by a timed one.
		var perr error
		if !l.stopped {
			perr = l.d.store.PauseLane(fctx, l.id, store.Pause{Until: until, Reason: err.Error()})
		}
		l.mu.Unlock()
		if perr != nil {
			log.LogAttrs(fctx, slog.LevelError, "pause_failed", slog.Any("err", perr))
		}
		log.LogAttrs(fctx, slog.LevelWarn, "space_throttled", slog.Int("status", status), slog.Duration("retry_in", wait))
		l.finish(fctx, lease, d, store.Outcome{State: store.StateQueued, RetryAt: until, Status: status, Error: err.Error()}, log)

	case actStop:
		l.mu.Lock()
		perr := l.d.store.PauseLane(fctx, l.id, store.Pause{Reason: err.Error()})
		stopped := l.stop(fctx, err.Error())
		l.mu.Unlock()
		if perr != nil {
			log.LogAttrs(fctx, slog.LevelError, "pause_failed", slog.Any("err", perr))
		}
		l.finish(fctx, lease, d, store.Outcome{State: store.StateQueued, Status: status, Error: err.Error()}, log)
		if stopped {
			// Once per pause, however many requests were in flight.
			l.d.noticePause(fctx, d.Space, l.id, err.Error(), log)
		}

	case actRetry:
		if sp.OnFailure != OnFailureRetry {
			l.fail(fctx, lease, d, sp, status, err.Error(), log)
			return
		}
		wait := l.d.backoff(d.Attempts)
		at := now.Add(wait)
		l.mu.Lock()
		l.due = append(l.due, at)
		l.mu.Unlock()
		log.LogAttrs(fctx, slog.LevelWarn, "delivery_retry", slog.Int("status", status), slog.Any("err", err), slog.Duration("retry_in", wait))
		l.finish(fctx, lease, d, store.Outcome{State: store.StateQueued, RetryAt: at, Status: status, Error: err.Error()}, log)

	case actFail:
		l.fail(fctx, lease, d, sp, status, err.Error(), log)
	}
}

// fail gives up on d: a dead letter, or dropped when the space says so.
func (l *lane) fail(ctx context.Context, lease store.Lease, d store.Delivery, sp *Space, status int, reason string, log *slog.Logger) {
	out := store.Outcome{State: store.StateDead, Status: status, Error: reason}
	if sp.OnFailure == OnFailureDrop {
		out.State = store.StateDropped
		log.LogAttrs(ctx, slog.LevelWarn, "delivery_dropped", slog.Int("status", status), slog.String("err", reason))
	} else {
		log.LogAttrs(ctx, slog.LevelError, "delivery_dead", slog.Int("status", status), slog.String("err", reason))
	}
	if l.finish(ctx, lease, d, out, log) && out.State == store.StateDead {
		l.d.noticeDeadLetter(ctx, d, reason, log)
	}
}

// finish records an outcome and reports whether it was recorded. Losing the
// lease is expected after a takeover: the new holder sends the delivery
// again.
func (l *lane) finish(ctx context.Context, lease store.Lease, d store.Delivery, out store.Outcome, log *slog.Logger) bool {
	if _, err := l.d.store.Finish(ctx, lease, d.ID, out); err != nil {
		level := slog.LevelError
		if errors.Is(err, store.ErrLeaseLost) {
			level = slog.LevelWarn
		}
		// TODO(store): a delivery whose Finish failed for another reason
		// stays sending, holding its group, until the lease changes hands.
		log.LogAttrs(ctx, level, "finish_failed", slog.Any("err", err))
		return false
	}
	return true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
