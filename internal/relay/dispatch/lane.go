package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
)

// A lane delivers the messages of one Google space. Its loop claims one due
// thread-group head per pace slot, so nothing is marked sending without being
// sent at once: a pause never has to hand claims back, and Attempts counts
// real attempts. Sends run in their own goroutines, so a slow request does
// not stop the next start; the store keeps each group to one in flight.
//
// A 429 pauses the lane: the quota is the Google space's. A 403 or 404
// halts only the relay spaces whose webhook answered it (store.PauseSpace):
// the store passes over their groups, and the lane's other relay spaces go
// on at its pace.
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
	lastStart time.Time      // our clock when the last request started
	inflight  sync.WaitGroup // sends, and retries of their records
	// busy counts what inflight waits for, so that the loop can tell when
	// nothing is in flight (a lane gives its lease back only then).
	busy atomic.Int32
	// handoff: the lane gives its lease back for the replica's share as
	// soon as nothing is in flight, and claims nothing meanwhile.
	handoff bool
	// token is the fencing token of the lease held, 0 when none: the
	// sends' goroutines read it to retry a failed record only while the
	// lane still holds their claims.
	token atomic.Int64

	// pauseMu orders the store writes of pauses (see recordPause); the
	// loop never waits on it.
	pauseMu sync.Mutex

	// Set by sends' outcomes, read by the loop.
	mu          sync.Mutex
	pausedUntil time.Time // a 429 pause, our clock
	// stopped: the whole lane is paused until resumed, a pause the store
	// holds for the lane (earlier versions paused the lane on a 403/404).
	stopped bool
	// halted holds the relay spaces paused until resumed (their webhook
	// answered 403 or 404), with the reason.
	halted    map[string]string
	stops     int         // counts stops and their writes, so a stale read of the store cannot undo a newer one
	pausing   int         // stops being written to the store: until then the store cannot show them
	throttles int         // 429s since the last success
	due       []time.Time // retry times we scheduled, so an idle lane wakes for them

	emptyAt time.Time // when the last claim found nothing; zero after one that found something, or a resume
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
	if l.handoff {
		l.handoff = false
		l.d.bal.released(false)
	}
	if l.held {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := l.d.store.ReleaseLease(rctx, l.lease); err != nil && !errors.Is(err, store.ErrLeaseLost) {
			l.log.LogAttrs(rctx, slog.LevelError, "lease_release_failed", slog.Any("err", err))
		}
		l.held = false
		l.token.Store(0)
		l.d.bal.dropped()
	}
}

// spawn runs f beside the loop as something in flight (a send, the retries
// of a record), and wakes the loop when it is done.
func (l *lane) spawn(f func()) {
	l.inflight.Add(1)
	l.busy.Add(1)
	go func() {
		defer l.inflight.Done()
		f()
		l.busy.Add(-1)
		l.poke()
	}()
}

// handOff gives the lease back for the replica's share once nothing is in
// flight: the last send's outcome is recorded, so the release requeues
// nothing, and the lane's last send time stays in the store for the next
// holder's pacing. A finished send wakes the loop.
func (l *lane) handOff(ctx context.Context) time.Duration {
	if l.busy.Load() > 0 {
		return l.d.cfg.PollInterval
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := l.d.store.ReleaseLease(rctx, l.lease)
	if err != nil {
		l.handoff = false
		l.d.bal.released(false)
		if errors.Is(err, store.ErrLeaseLost) {
			l.lost(ctx, err) // it had passed to another replica already
			return 0
		}
		// Still ours as far as we know; the share is judged again.
		l.log.LogAttrs(rctx, slog.LevelError, "lease_release_failed", slog.Any("err", err))
		return l.d.cfg.PollInterval
	}
	l.handoff, l.held = false, false
	l.token.Store(0)
	l.d.bal.released(true)
	l.log.LogAttrs(rctx, slog.LevelDebug, "lease_handed_off")
	return l.d.cfg.PollInterval
}

// step starts at most one request and returns how long to wait before the
// next step; a notification may cut the wait short.
func (l *lane) step(ctx, sendCtx context.Context) time.Duration {
	cfg := &l.d.cfg
	if l.held && !l.handoff {
		l.mu.Lock()
		idle := l.stopped || !l.emptyAt.IsZero()
		l.mu.Unlock()
		l.handoff = l.d.bal.shouldRelease(idle && l.busy.Load() == 0)
	}
	if l.handoff {
		return l.handOff(ctx)
	}
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
	if l.mayCoalesce(now) {
		l.coalesce(ctx)
	}
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
	l.mu.Lock()
	l.emptyAt = time.Time{}
	if len(ds) == 0 {
		l.emptyAt = now
	}
	l.mu.Unlock()
	if len(ds) == 0 {
		return l.idle(now)
	}
	return l.start(ctx, sendCtx, ds[0])
}

// mayCoalesce reports whether coalescing could find a group to merge: not
// when the last claim found nothing due, unless a retry came due since or
// PollInterval passed. Ingest wakes the lane for every message; while
// Google is out of reach the heads all wait for their retries, and a
// coalescing pass (a read of up to a thousand pending deliveries) per
// message would cost ingest more the longer the backlog grows. A message
// only lengthens a group or starts one, which makes no head due.
func (l *lane) mayCoalesce(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.emptyAt.IsZero() || now.Sub(l.emptyAt) >= l.d.cfg.PollInterval {
		return true
	}
	for _, t := range l.due {
		if !t.After(now) {
			return true
		}
	}
	return false
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
	req := store.LeaseRequest{Lane: l.id, Owner: cfg.Owner, TTL: cfg.LeaseTTL, Send: send}
	if !l.held {
		// Free lanes go to the replicas short of their share first.
		req.MinFree = l.d.bal.minFree()
	}
	asked := cfg.Now()
	lease, err := l.d.store.AcquireLease(ctx, req)
	if !l.held {
		l.d.bal.asked(err == nil, req.MinFree)
		if err == nil {
			// A new lease, not a renewal: which replica took which space,
			// and when, is what an operator reads after a failover or a
			// rebalance.
			attrs := []slog.Attr{slog.Int64("token", lease.Token)}
			if req.MinFree > 0 {
				attrs = append(attrs, slog.Duration("free_for_at_least", req.MinFree))
			}
			l.log.LogAttrs(ctx, slog.LevelInfo, "lease_acquired", attrs...)
		}
	}
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
	l.token.Store(lease.Token)

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
	case l.stopped && l.stops == stops && l.pausing == 0:
		l.stopped = false
		l.emptyAt = time.Time{} // its backlog may coalesce now
		l.log.LogAttrs(ctx, slog.LevelInfo, "space_resumed")
	}
	// The relay spaces' own pauses: one halted elsewhere (another replica,
	// before a restart) is halted here too; one the store no longer shows
	// paused was resumed, unless a halt of ours is still being written.
	inStore := make(map[string]bool, len(lease.Spaces))
	for _, sp := range lease.Spaces {
		if !sp.Pause.Active(lease.Granted) || !sp.Pause.Until.IsZero() {
			continue // a timed pause: the store's Claim keeps to it
		}
		inStore[sp.Space] = true
		if _, ok := l.halted[sp.Space]; !ok && l.spaces[sp.Space] != nil {
			l.halt(ctx, sp.Space, sp.Pause.Reason)
		}
	}
	if l.stops == stops && l.pausing == 0 {
		for name := range l.halted {
			if !inStore[name] {
				delete(l.halted, name)
				l.emptyAt = time.Time{} // its backlog may coalesce now
				l.log.LogAttrs(ctx, slog.LevelInfo, "space_resumed", slog.String("relay_space", name))
			}
		}
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

// halt marks relay space name paused until resumed and alerts once: it
// reports whether the space was running until now. l.mu is held.
func (l *lane) halt(ctx context.Context, name, reason string) bool {
	l.stops++
	if _, ok := l.halted[name]; ok {
		return false
	}
	if l.halted == nil {
		l.halted = make(map[string]string)
	}
	l.halted[name] = reason
	l.log.LogAttrs(ctx, slog.LevelError, "space_paused", slog.String("relay_space", name), slog.String("reason", reason))
	return true
}

// sameWebhook returns the names of the lane's relay spaces that post
// through sp's webhook, sp's first.
func (l *lane) sameWebhook(sp *Space) []string {
	names := []string{sp.Name}
	for name, o := range l.spaces {
		if name != sp.Name && o.Webhook.Reveal() == sp.Webhook.Reveal() {
			names = append(names, name)
		}
	}
	slices.Sort(names[1:])
	return names
}

// lost forgets a lease another owner took or that ended. The store has put
// our claimed deliveries back in the queue; our in-flight sends will fail to
// finish and be retried by the new holder with the same requestId.
func (l *lane) lost(ctx context.Context, err error) {
	if l.held {
		l.d.bal.dropped()
	}
	l.held = false
	l.token.Store(0)
	l.log.LogAttrs(ctx, slog.LevelWarn, "lease_lost", slog.Any("err", err))
}

// attempt is one claimed delivery on its way to Google: everything its send
// and the record of its outcome need, fixed when the loop claimed it.
type attempt struct {
	d  store.Delivery
	sp *Space // its settings: the relay space's, with its route's
	// lease is the lease the delivery was claimed under; only its holder
	// may record the outcome.
	lease store.Lease
	// deadline cuts the request; it ends at least LeaseMargin before the
	// lease (set by start, zero until then).
	deadline time.Time
	msg      *gchat.Message
	opts     gchat.Options
	log      *slog.Logger
	// took is how long its request took, once sent: the outcome's
	// Duration in the delivery's attempt history.
	took time.Duration
}

// start sends claimed delivery d, or settles it at once when it cannot be
// sent.
func (l *lane) start(ctx, sendCtx context.Context, d store.Delivery) time.Duration {
	cfg := &l.d.cfg
	a := &attempt{d: d, lease: l.lease, log: l.log.With(slog.String("delivery_id", d.ID), slog.Int("attempt", d.Attempts))}
	a.sp = l.d.settings(l.spaces[d.Space], d.Route)
	if a.sp == nil {
		// Its relay space left the configuration; keep it for a reload.
		a.log.LogAttrs(ctx, slog.LevelWarn, "space_not_configured", slog.String("relay_space", d.Space))
		l.settle(ctx, sendCtx, a, store.Outcome{State: store.StateQueued, RetryAt: cfg.Now().Add(cfg.BackoffCap),
			Error: fmt.Sprintf("relay space %q is not configured", d.Space)})
		return 0
	}
	if age := cfg.Now().Sub(d.QueuedAt); age > a.sp.MaxAge {
		l.settle(ctx, sendCtx, a, a.failure(ctx, 0, fmt.Sprintf("too old: queued %s ago, max_age %s", age.Round(time.Millisecond), a.sp.MaxAge)))
		return 0
	}
	var err error
	a.msg, a.opts, err = l.prepare(ctx, d)
	if err != nil {
		l.settle(ctx, sendCtx, a, a.failure(ctx, 0, err.Error()))
		return 0
	}
	if ctx.Err() != nil {
		return 0 // shutting down: ReleaseLease puts the claim back
	}
	// Fencing: renew (recording the start) and send only while the lease
	// outlives the request by LeaseMargin; the request's deadline is set
	// so that it ends that much before the lease.
	if err := l.acquire(ctx, true); err != nil {
		if !errors.Is(err, store.ErrLeaseHeld) {
			// Still ours as far as we know: put it back.
			l.settle(ctx, sendCtx, a, store.Outcome{State: store.StateQueued, Error: "not sent: " + err.Error()})
		}
		return cfg.PollInterval
	}
	if l.lease.Token != a.lease.Token {
		// The lane changed hands meanwhile, and the claim went back to
		// the queue with it.
		return 0
	}
	a.lease = l.lease
	now := cfg.Now()
	l.mu.Lock()
	_, halted := l.halted[d.Space]
	blocked, resume := l.stopped || halted || l.pausedUntil.After(now), l.pausedUntil
	l.mu.Unlock()
	if blocked || l.leaseLeft(now) <= cfg.RequestTimeout+cfg.LeaseMargin {
		// Paused meanwhile (the lane, or this relay space before the
		// store showed it), or the store was too slow to leave the lease
		// time for a request: not sent, so not a failure.
		l.settle(ctx, sendCtx, a, store.Outcome{State: store.StateQueued, RetryAt: resume, Error: "not sent: paused or lease too short"})
		return 0
	}
	// now+RequestTimeout is at least LeaseMargin before the lease's end,
	// by the check above; the deadline is fixed here, so a send that starts
	// late (the process was descheduled or frozen) gets only what is left.
	a.deadline = now.Add(cfg.RequestTimeout)
	l.lastStart = now
	// Poked when done: the group's next message may be due.
	l.spawn(func() { l.deliver(sendCtx, a) })
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

// deliver makes one attempt, cut at its deadline, and records its outcome.
func (l *lane) deliver(ctx context.Context, a *attempt) {
	cfg := &l.d.cfg
	log := a.log
	// The last check before the request leaves: a goroutine that starts
	// after the deadline (the process stalled since start checked the
	// lease) no longer holds the lease long enough, and must not send.
	left := a.deadline.Sub(cfg.Now())
	if left <= 0 {
		log.LogAttrs(ctx, slog.LevelWarn, "send_too_late", slog.Duration("late_by", -left))
		l.finish(ctx, a, store.Outcome{State: store.StateQueued, Error: "not sent: started after its deadline, the lease may be gone"})
		return
	}
	actx, cancel := context.WithTimeout(ctx, left)
	sent := cfg.Now()
	resp, err := l.d.send.Send(actx, a.sp.Webhook, a.msg, a.opts)
	a.took = cfg.Now().Sub(sent)
	timedOut := err != nil && ctx.Err() == nil && actx.Err() != nil
	cancel()
	// Logging and recording must happen even when the drain deadline cut
	// the send.
	lctx := context.WithoutCancel(ctx)
	if err != nil && ctx.Err() != nil {
		// Cut by the drain deadline: it may have arrived. It goes again,
		// with the same requestId.
		l.finish(ctx, a, store.Outcome{State: store.StateQueued, Error: "interrupted by shutdown: " + err.Error()})
		return
	}
	now := cfg.Now()
	status := statusOf(err)
	switch decide(err, a.d.Reply, timedOut) {
	case actDone:
		l.mu.Lock()
		l.throttles = 0
		l.mu.Unlock()
		log.LogAttrs(lctx, slog.LevelDebug, "delivery_sent")
		// Google's answer is kept here until the store records it: finish
		// retries a failed record, so the part is not sent again.
		out := store.Outcome{State: store.StateDone}
		if resp != nil {
			out.GoogleMessage, out.GoogleThread = resp.Name, resp.Thread.Name
		}
		l.finish(ctx, a, out)

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
		l.mu.Unlock()
		// Recorded in the store for the next holder and the admin page.
		l.recordPause(lctx, store.Pause{Until: until, Reason: err.Error()}, log)
		log.LogAttrs(lctx, slog.LevelWarn, "space_throttled", slog.Int("status", status), slog.Duration("retry_in", wait))
		l.finish(ctx, a, store.Outcome{State: store.StateQueued, RetryAt: until, Status: status, Error: err.Error()})

	case actStop:
		// The webhook is gone, not the Google space: only the relay
		// spaces posting through it stop.
		halted := l.recordHalt(lctx, l.sameWebhook(a.sp), err.Error(), log)
		l.finish(ctx, a, store.Outcome{State: store.StateQueued, Status: status, Error: err.Error()})
		for _, name := range halted {
			// Once per pause, however many requests were in flight.
			l.d.noticePause(lctx, name, l.id, err.Error(), log)
		}

	case actRetry:
		if a.sp.OnFailure != OnFailureRetry {
			l.finish(ctx, a, a.failure(lctx, status, err.Error()))
			return
		}
		wait := l.d.backoff(a.d.Attempts)
		at := now.Add(wait)
		l.mu.Lock()
		l.due = append(l.due, at)
		l.mu.Unlock()
		log.LogAttrs(lctx, slog.LevelWarn, "delivery_retry", slog.Int("status", status), slog.Any("err", err), slog.Duration("retry_in", wait))
		l.finish(ctx, a, store.Outcome{State: store.StateQueued, RetryAt: at, Status: status, Error: err.Error()})

	case actFail:
		l.finish(ctx, a, a.failure(lctx, status, err.Error()))
	}
}

// recordPause pauses the lane until p.Until (a 429). The store write
// happens outside l.mu, which the loop waits on; pauseMu keeps the writes
// in the order of the decisions.
func (l *lane) recordPause(ctx context.Context, p store.Pause, log *slog.Logger) {
	l.pauseMu.Lock()
	defer l.pauseMu.Unlock()
	l.mu.Lock()
	stopped := l.stopped
	l.mu.Unlock()
	if stopped {
		return // an indefinite pause holds; the loop knows the timed one
	}
	if err := l.d.store.PauseLane(ctx, l.id, p); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "pause_failed", slog.Any("err", err))
	}
}

// recordHalt pauses relay spaces names until resumed (a 403 or 404 from
// their webhook) and returns those that were running until now. The store
// writes happen outside l.mu, as recordPause's.
func (l *lane) recordHalt(ctx context.Context, names []string, reason string, log *slog.Logger) (halted []string) {
	l.pauseMu.Lock()
	defer l.pauseMu.Unlock()
	// Halted at once, so the loop starts nothing more of theirs; while
	// the writes are pending the store does not show the pauses yet, and
	// acquire must not take that for a resume (pausing), nor may a read
	// of the store from before the writes (stops moves again after them).
	l.mu.Lock()
	for _, name := range names {
		if l.halt(ctx, name, reason) {
			halted = append(halted, name)
		}
	}
	l.pausing++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.pausing--
		l.stops++
		l.mu.Unlock()
	}()
	for _, name := range names {
		if err := l.d.store.PauseSpace(ctx, store.SpacePause{Space: name, Lane: l.id, Pause: store.Pause{Reason: reason}}); err != nil {
			log.LogAttrs(ctx, slog.LevelError, "pause_failed", slog.String("relay_space", name), slog.Any("err", err))
		}
	}
	return halted
}

// failure is the outcome that gives up on a: a dead letter, or dropped when
// its settings say so.
func (a *attempt) failure(ctx context.Context, status int, reason string) store.Outcome {
	out := store.Outcome{State: store.StateDead, Status: status, Error: reason}
	if a.sp.OnFailure == OnFailureDrop {
		out.State = store.StateDropped
		a.log.LogAttrs(ctx, slog.LevelWarn, "delivery_dropped", slog.Int("status", status), slog.String("err", reason))
	} else {
		a.log.LogAttrs(ctx, slog.LevelError, "delivery_dead", slog.Int("status", status), slog.String("err", reason))
	}
	return out
}

// maxFinishWait caps the wait between two tries to record an outcome.
const maxFinishWait = 10 * time.Second

// settle records the outcome of a delivery the loop claimed but did not
// send. A first failure does not hold the loop: the retries run beside it,
// as a send's would.
func (l *lane) settle(ctx, sendCtx context.Context, a *attempt, out store.Outcome) {
	if done, retry := l.finishOnce(ctx, a, out, 1); done || !retry {
		return
	}
	l.spawn(func() { l.retryFinish(sendCtx, a, out) })
}

// finish records the outcome of attempt a, and sends the dead-letter notice
// for it. A failure other than a lost lease or a conflict (the disk is full,
// the database is away) is retried with backoff for as long as the lane
// holds the lease a was claimed under, and so its thread group: the store
// keeps the delivery sending meanwhile, nobody else can send it, and the
// outcome, Google's answer included, waits here rather than be lost, so a
// part Google accepted is not sent again because its record failed. The
// retries end with ctx (the drain deadline at shutdown) or with the lease;
// the delivery then goes back to the queue with its lease (a takeover, a
// release, or the store's rescue at a restart that holds it exclusively)
// and is sent again with the same requestId.
func (l *lane) finish(ctx context.Context, a *attempt, out store.Outcome) bool {
	if done, retry := l.finishOnce(ctx, a, out, 1); done || !retry {
		return done
	}
	return l.retryFinish(ctx, a, out)
}

// retryFinish is finish after a first try failed.
func (l *lane) retryFinish(ctx context.Context, a *attempt, out store.Outcome) bool {
	for n := 1; ; n++ {
		t := time.NewTimer(min(l.d.backoff(n), maxFinishWait))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil || l.token.Load() != a.lease.Token {
			a.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "finish_abandoned",
				slog.Int("tries", n), slog.String("reason", "lease or run ended"))
			return false
		}
		if done, retry := l.finishOnce(ctx, a, out, n+1); done || !retry {
			return done
		}
	}
}

// finishOnce tries once to record out: done when it is recorded, retry when
// the failure may pass and the delivery is still ours to record. Losing the
// lease is expected after a takeover: the new holder sends the delivery
// again.
func (l *lane) finishOnce(ctx context.Context, a *attempt, out store.Outcome, try int) (done, retry bool) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	out.Duration = a.took
	_, err := l.d.store.Finish(fctx, a.lease, a.d.ID, out)
	switch {
	case err == nil:
		if try > 1 {
			a.log.LogAttrs(fctx, slog.LevelInfo, "finish_recorded", slog.Int("tries", try))
		}
		if out.State == store.StateDead {
			l.d.noticeDeadLetter(fctx, a.d, out.Error, a.log)
		}
		return true, false
	case errors.Is(err, store.ErrLeaseLost), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound),
		errors.Is(err, store.ErrClosed):
		a.log.LogAttrs(fctx, slog.LevelWarn, "finish_failed", slog.Any("err", err))
		return false, false
	}
	if try == 1 {
		a.log.LogAttrs(fctx, slog.LevelError, "finish_failed", slog.Any("err", err), slog.Bool("retrying", true))
	} else {
		a.log.LogAttrs(fctx, slog.LevelDebug, "finish_failed", slog.Any("err", err), slog.Int("tries", try))
	}
	return false, true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
