// Package dispatch delivers the relay's queued messages to Google Chat.
//
// A Dispatcher runs one loop per lane, the Google space id taken from the
// webhook URL, so that relay spaces posting into one Google space share its
// quota. Each loop holds the lane's lease in the store, starts at most one
// request per pace, claims the due head of one thread group at a time (the
// store keeps each group first in first out, one in flight), sends it with a
// single-attempt sender and records the outcome. Retries, pauses and backoff
// live here and in the store, nowhere else.
//
// Pacing and the lease are the lane's; thread groups, the pending bound and
// a webhook's pause are the relay space's. A 429 pauses the lane, since the
// quota is the Google space's; a 403 or 404 says a webhook is gone, so it
// halts only the relay spaces posting through that webhook (store.PauseSpace,
// one operator notice each), and the lane's other relay spaces go on at its
// pace and in their order until an operator resumes the halted ones.
//
// Where things live: lane.go has the loop (step, start), the send and its
// outcome (deliver), pauses (recordPause, recordHalt) and the record of an outcome
// (finish): a record that fails for a reason other than a lost lease (a
// full disk) is retried with backoff, Google's answer kept in memory, for
// as long as the lane holds the lease the delivery was claimed under, so a
// part Google accepted is not sent again because its record failed.
// Deliveries left sending by a lease that died (a crashed or cut-off
// replica) are not rescued here but by the store: AcquireLease returns them
// to the queue when the lane passes to a new owner, and store/sqlite at
// Open, which holds its file exclusively (see store.Rescued). decide.go
// maps an answer to an action, coalesce.go merges a thread's backlog,
// notice.go writes the operator notices.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
)

// Sender sends one request to Google. A *gchat.Client with Pace -1 and
// Retry gchat.RetryPolicy{MaxAttempts: 1} is one: the dispatcher owns pacing
// and retries.
type Sender interface {
	Send(ctx context.Context, hook *gchat.Webhook, msg *gchat.Message, opts ...gchat.Option) (*gchat.Response, error)
}

// Defaults of the Config fields left zero.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultBackoffBase    = time.Second
	DefaultBackoffCap     = 5 * time.Minute
	DefaultPollInterval   = 2 * time.Second
	DefaultDrainTimeout   = 10 * time.Second
	DefaultMaxAge         = 24 * time.Hour
	// DefaultCoalesceBacklog is the least number of pending deliveries a
	// thread group must hold before its queued ones are merged.
	DefaultCoalesceBacklog = 3
	// DefaultNoticeInterval is the least interval between two operator
	// notices of one kind about one space.
	DefaultNoticeInterval = time.Minute
)

// storeTimeout bounds the store writes made after the run context has ended
// (finishing drained sends, releasing leases), so a stuck store cannot hold
// shutdown forever.
const storeTimeout = 10 * time.Second

// OnFailure is what happens to a message whose delivery fails. Its values
// are those of the relay configuration's on_failure (config.OnFailure is
// this type).
type OnFailure string

const (
	// OnFailureRetry retries 429, 5xx, timeouts and network failures until
	// MaxAge, then dead-letters; a final refusal (other 4xx) dead-letters
	// at once.
	OnFailureRetry OnFailure = "retry"
	// OnFailureDeadLetter dead-letters at the first failed attempt of any
	// kind, without retrying (a 429 or a paused space is not a failure).
	OnFailureDeadLetter OnFailure = "dead_letter"
	// OnFailureDrop logs the first failure and forgets the message.
	OnFailureDrop OnFailure = "drop"
)

// Space is one relay space: the name callers post to and its webhook.
type Space struct {
	// Name is the relay space name, store.Delivery.Space.
	Name string
	// Webhook is where its messages go; its Space() is the lane.
	Webhook *gchat.Webhook
	// Pace is the least interval between two request starts in the lane.
	// Zero means gchat.DefaultPace. Relay spaces sharing a lane share one
	// pace, the largest of theirs.
	Pace time.Duration
	// OnFailure: zero means OnFailureRetry.
	OnFailure OnFailure
	// MaxAge is how long a message may wait, from store.Delivery.QueuedAt,
	// before it fails as too old. Zero means DefaultMaxAge.
	MaxAge time.Duration
	// Coalesce lets a backlog of this space's messages of one thread go out
	// as one request (see coalesce.go for the rules).
	// The relay configuration's coalesce defaults to on: its loader sets
	// this to true unless told otherwise.
	Coalesce bool
}

// Route is a relay route's delivery settings: a delivery the route made
// (store.Delivery.Route) takes them instead of its space's. Zero fields
// keep the space's.
type Route struct {
	Name      string
	OnFailure OnFailure
	MaxAge    time.Duration
}

// Config configures a Dispatcher. Zero fields take the stated defaults.
type Config struct {
	// Spaces are the relay spaces to serve; their webhooks' space ids are
	// the lanes.
	Spaces []Space
	// Routes override the settings of their deliveries' spaces.
	Routes []Route
	// Owner names this replica in lane leases; required.
	Owner string
	// RequestTimeout bounds one attempt. Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// LeaseTTL is how long a lane lease lasts; it must exceed
	// RequestTimeout, since a request starts only while the lease outlives
	// it. Default twice RequestTimeout.
	LeaseTTL time.Duration
	// LeaseMargin is how much longer than RequestTimeout the lease must
	// still run, on this replica's clock, for a request to start; the
	// request's deadline is then at least LeaseMargin before the lease
	// ends, which leaves room for the last bytes of a request cut at its
	// deadline to reach Google before another replica may take the lane
	// over. Zero means a tenth of RequestTimeout, at most a second and at
	// most half of LeaseTTL minus RequestTimeout.
	LeaseMargin time.Duration
	// BackoffBase and BackoffCap shape retries: the wait before retry n is
	// random in [0, min(BackoffCap, BackoffBase·2ⁿ⁻¹)] (full jitter). They
	// also shape a 429 pause without Retry-After, and cap Retry-After.
	// Defaults DefaultBackoffBase and DefaultBackoffCap.
	BackoffBase time.Duration
	BackoffCap  time.Duration
	// PollInterval is how often an idle lane looks for due deliveries it was
	// not told about (replays, resumed lanes, other replicas' retries).
	// Notify wakes a lane at once. Default DefaultPollInterval; it must be
	// under LeaseTTL/2, since idle lanes renew their lease when they poll.
	PollInterval time.Duration
	// DrainTimeout bounds how long Run waits for in-flight sends after its
	// context ends. Default DefaultDrainTimeout.
	DrainTimeout time.Duration
	// CoalesceBacklog is how many pending deliveries a thread group must
	// hold before its queued ones are merged, in spaces with Coalesce on: a
	// thread that keeps up with the pace goes out message by message.
	// Default DefaultCoalesceBacklog; at least 2.
	CoalesceBacklog int
	// Operator names the relay space (one of Spaces) that receives a short
	// notice when a delivery becomes a dead letter or a space pauses on a
	// 403 or 404; "" sends none. Events of the operator space itself are
	// only logged, so a failing operator space cannot feed itself.
	Operator string
	// NoticeInterval is the least interval between two notices of one kind
	// (dead letter, pause) about one relay space; the notices suppressed
	// meanwhile are counted in the next one. Default DefaultNoticeInterval.
	NoticeInterval time.Duration
	// Notices limits the operator notices; nil means the dispatcher's own.
	// A runtime that replaces its dispatcher on reload passes the same one
	// to each, so the limit holds across reloads.
	Notices *NoticeLimiter
	// Now is the clock; nil means time.Now. Rand returns a number in [0, 1)
	// for jitter; nil means math/rand/v2.
	Now  func() time.Time
	Rand func() float64
}

// withDefaults returns c with zero fields set.
func (c Config) withDefaults() Config {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 2 * c.RequestTimeout
	}
	if c.LeaseMargin <= 0 {
		c.LeaseMargin = max(min(c.RequestTimeout/10, time.Second, (c.LeaseTTL-c.RequestTimeout)/2), 0)
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = DefaultBackoffBase
	}
	if c.BackoffCap <= 0 {
		c.BackoffCap = DefaultBackoffCap
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.CoalesceBacklog == 0 {
		c.CoalesceBacklog = DefaultCoalesceBacklog
	}
	if c.NoticeInterval <= 0 {
		c.NoticeInterval = DefaultNoticeInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	c.Spaces = append([]Space(nil), c.Spaces...)
	for i := range c.Spaces {
		s := &c.Spaces[i]
		if s.Pace <= 0 {
			s.Pace = gchat.DefaultPace
		}
		if s.OnFailure == "" {
			s.OnFailure = OnFailureRetry
		}
		if s.MaxAge <= 0 {
			s.MaxAge = DefaultMaxAge
		}
	}
	return c
}

// Validate reports the first field that is wrong, after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Owner == "" {
		return errors.New("dispatch config: owner is required")
	}
	if c.LeaseTTL <= c.RequestTimeout {
		return fmt.Errorf("dispatch config: lease_ttl %s must exceed request_timeout %s", c.LeaseTTL, c.RequestTimeout)
	}
	if c.LeaseTTL <= c.RequestTimeout+c.LeaseMargin {
		return fmt.Errorf("dispatch config: lease_ttl %s must exceed request_timeout %s plus lease_margin %s", c.LeaseTTL, c.RequestTimeout, c.LeaseMargin)
	}
	if c.PollInterval >= c.LeaseTTL/2 {
		return fmt.Errorf("dispatch config: poll_interval %s must be under half of lease_ttl %s", c.PollInterval, c.LeaseTTL)
	}
	if c.CoalesceBacklog < 2 {
		return fmt.Errorf("dispatch config: coalesce_backlog %d must be at least 2", c.CoalesceBacklog)
	}
	seen := make(map[string]bool)
	for i, s := range c.Spaces {
		switch {
		case s.Name == "":
			return fmt.Errorf("dispatch config: spaces[%d]: name is required", i)
		case seen[s.Name]:
			return fmt.Errorf("dispatch config: spaces[%d]: duplicate name %q", i, s.Name)
		case s.Webhook == nil:
			return fmt.Errorf("dispatch config: spaces[%d] (%s): webhook is required", i, s.Name)
		}
		switch s.OnFailure {
		case OnFailureRetry, OnFailureDeadLetter, OnFailureDrop:
		default:
			return fmt.Errorf("dispatch config: spaces[%d] (%s): on_failure %q: want retry, dead_letter or drop", i, s.Name, s.OnFailure)
		}
		seen[s.Name] = true
	}
	for i, r := range c.Routes {
		switch r.OnFailure {
		case "", OnFailureRetry, OnFailureDeadLetter, OnFailureDrop:
		default:
			return fmt.Errorf("dispatch config: routes[%d] (%s): on_failure %q: want retry, dead_letter or drop", i, r.Name, r.OnFailure)
		}
	}
	if c.Operator != "" && !seen[c.Operator] {
		return fmt.Errorf("dispatch config: operator %q is not one of the spaces", c.Operator)
	}
	return nil
}

// Dispatcher delivers queued messages; see the package documentation.
type Dispatcher struct {
	cfg    Config
	store  store.Store
	send   Sender
	logger *slog.Logger
	lanes  map[string]*lane // by Google space id; fixed at New

	operator *Space // cfg.Operator's space; nil for none
	notices  *NoticeLimiter
	bal      *balancer // the members and this replica's share of the lanes
}

// New returns a Dispatcher for cfg. A nil logger discards. Run checks cfg.
func New(cfg Config, st store.Store, send Sender, logger *slog.Logger) *Dispatcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	d := &Dispatcher{cfg: cfg, store: st, send: send, logger: logger, lanes: make(map[string]*lane), notices: cfg.Notices}
	if d.notices == nil {
		d.notices = &NoticeLimiter{}
	}
	d.bal = &balancer{d: d}
	for i := range cfg.Spaces {
		s := &cfg.Spaces[i]
		if s.Webhook == nil {
			continue // Validate reports it
		}
		id := s.Webhook.Space()
		l := d.lanes[id]
		if l == nil {
			l = &lane{
				d:      d,
				id:     id,
				spaces: make(map[string]*Space),
				wake:   make(chan struct{}, 1),
			}
			d.lanes[id] = l
		}
		l.spaces[s.Name] = s
		l.pace = max(l.pace, s.Pace)
		l.coalescing = l.coalescing || s.Coalesce
		if s.Name == cfg.Operator {
			d.operator = s
		}
	}
	for id, l := range d.lanes {
		// Log lines name the relay spaces the operator configured (several
		// when they share a Google space), and the Google space id.
		names := slices.Sorted(maps.Keys(l.spaces))
		l.log = logger.With(slog.String("space", strings.Join(names, ",")), slog.String("google_space", id))
	}
	return d
}

// Notify wakes the loop of lane (a Google space id, store.Delivery.Lane) so
// that newly committed deliveries go out without waiting for the poll. It
// never blocks; unknown lanes are ignored.
func (d *Dispatcher) Notify(lane string) {
	if l := d.lanes[lane]; l != nil {
		l.poke()
	}
}

// Run delivers until ctx ends, then stops claiming, lets in-flight sends
// finish within DrainTimeout, releases its leases, leaves the members and
// returns nil. It returns an error only for an invalid Config.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.cfg.Validate(); err != nil {
		return err
	}
	// Sends outlive ctx by up to DrainTimeout: they get their own context,
	// cancelled only when the drain deadline passes.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	// The lanes start knowing the members, so a replica joining others
	// takes only its share.
	d.bal.heartbeat(ctx)
	var wg, beats sync.WaitGroup
	beats.Go(func() { d.bal.run(ctx) })
	defer func() {
		beats.Wait()
		d.bal.leave(ctx)
	}()
	for _, l := range d.lanes {
		wg.Go(func() { l.run(ctx, sendCtx) })
	}
	// Lanes loop until ctx ends; then they stop claiming and wait for their
	// sends, which the drain deadline cuts.
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	<-ctx.Done()
	t := time.NewTimer(d.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		d.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "drain_timeout",
			slog.Duration("drain_timeout", d.cfg.DrainTimeout))
		cancelSends()
		<-stopped
	}
	return nil
}

// backoff returns the full-jitter wait before retry n (n ≥ 1).
func (d *Dispatcher) backoff(n int) time.Duration {
	ceiling := d.cfg.BackoffCap
	if shift := max(n-1, 0); shift < 32 {
		if b := d.cfg.BackoffBase << shift; b > 0 && b < ceiling {
			ceiling = b
		}
	}
	return time.Duration(d.cfg.Rand() * float64(ceiling))
}

// settings returns the settings a delivery of relay space sp made by route
// is sent with: the space's, with the route's on_failure and max_age when
// it sets them. sp may be nil (not configured): nil.
func (d *Dispatcher) settings(sp *Space, route string) *Space {
	if sp == nil || route == "" {
		return sp
	}
	for _, r := range d.cfg.Routes {
		if r.Name != route {
			continue
		}
		c := *sp
		if r.OnFailure != "" {
			c.OnFailure = r.OnFailure
		}
		if r.MaxAge > 0 {
			c.MaxAge = r.MaxAge
		}
		return &c
	}
	return sp
}
