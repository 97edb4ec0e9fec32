package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Label values of the counters. Labels hold only relay space names and these
// words: never a webhook URL, a token or a Google space id.
const (
	ResultOK      = "ok"
	Result429     = "429"
	Result5xx     = "5xx"
	Result4xx     = "4xx"
	ResultNetwork = "network"
)

var (
	results  = []string{ResultOK, Result429, Result5xx, Result4xx, ResultNetwork}
	outcomes = []store.State{store.StateDone, store.StateDead, store.StateDropped}
)

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 5 * time.Second

// latencyBuckets cover a delivery sent at once (well under a second) up to
// one that waited out an hour-long backlog or pause, in seconds.
var latencyBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// Observer is told what happens to deliveries; *Metrics is one. The
// dispatcher does not call it: cmd/gchat wraps the store (ObserveStore) and
// the sender (ObserveSender) handed to the dispatcher instead, which sees the
// same events without the dispatcher knowing. A dispatcher that calls an
// Observer itself must not also get the wrappers, or it counts twice.
type Observer interface {
	// Enqueued reports that ingest committed n deliveries of a relay space.
	Enqueued(space string, n int)
	// Attempted reports one request to Google for a relay space; err is the
	// sender's answer, nil when Google accepted it.
	Attempted(space string, err error)
	// Finished reports a delivery, as the store returned it, that reached a
	// final state: done, dead or dropped.
	Finished(d store.Delivery)
}

// queueReader is what the gauges read at scrape time.
type queueReader interface {
	LaneStates(ctx context.Context) ([]store.LaneState, error)
	SpaceStates(ctx context.Context) ([]store.SpaceState, error)
	List(ctx context.Context, f store.Filter) ([]store.Delivery, error)
	DeadLetters(ctx context.Context) (map[string]int, error)
}

// Metrics is the relay's Prometheus instrumentation, on a registry of its
// own: counters fed through Observer, and queue gauges read from the store
// at each scrape. It serves the text exposition as an http.Handler. It is
// safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	handler  http.Handler
	enqueued *prometheus.CounterVec
	finished *prometheus.CounterVec
	replayed *prometheus.CounterVec
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ops      *opsMetrics // metrics_ops.go
	store    queueReader
	cfg      atomic.Pointer[config.Config]
	now      func() time.Time
}

// NewMetrics returns the metrics of a relay reading its queue from st and
// describing the spaces of cfg (SetConfig changes them). A nil logger
// discards.
func NewMetrics(cfg *config.Config, st queueReader, logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_deliveries_enqueued_total",
			Help: "Deliveries committed to the queue by ingest, by relay space (a message fitted into several parts counts each).",
		}, []string{"space"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_deliveries_finished_total",
			Help: "Deliveries that reached a final state, by relay space and outcome: done, dead or dropped. A replayed dead letter counts again when it finishes, as it counted in gchat_relay_deliveries_replayed_total.",
		}, []string{"space", "outcome"}),
		replayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_deliveries_replayed_total",
			Help: "Dead letters an operator replayed into the queue, by relay space (a batch counts each of its messages). Enqueued plus replayed, minus finished, is what is pending.",
		}, []string{"space"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gchat_relay_attempts_total",
			Help: "Requests sent to Google Chat, by relay space and result: ok, 429, 5xx, 4xx, or network (no answer).",
		}, []string{"space", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gchat_relay_delivery_latency_seconds",
			Help:    "Time from a delivery entering the queue (enqueue or replay) to Google accepting it, by relay space.",
			Buckets: latencyBuckets,
		}, []string{"space"}),
		store: st,
		now:   time.Now,
	}
	m.reg.MustRegister(m.enqueued, m.finished, m.replayed, m.attempts, m.latency, &queueCollector{m: m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.ops = newOpsMetrics(m.reg)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{logger},
		ErrorHandling: promhttp.ContinueOnError,
	})
	m.SetConfig(cfg)
	return m
}

// SetConfig makes the gauges describe the spaces of cfg, and starts every
// counter of its spaces at zero so that rates exist from the first scrape.
// Counters of spaces that left the configuration are kept: a counter never
// goes back.
func (m *Metrics) SetConfig(cfg *config.Config) {
	for _, s := range cfg.Spaces {
		m.enqueued.WithLabelValues(s.Name)
		m.replayed.WithLabelValues(s.Name)
		for _, o := range outcomes {
			m.finished.WithLabelValues(s.Name, string(o))
		}
		for _, r := range results {
			m.attempts.WithLabelValues(s.Name, r)
		}
		m.latency.WithLabelValues(s.Name)
	}
	m.ops.setConfig(cfg)
	m.cfg.Store(cfg)
}

// ServeHTTP serves the Prometheus text exposition.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// Enqueued implements Observer.
func (m *Metrics) Enqueued(space string, n int) { m.enqueued.WithLabelValues(space).Add(float64(n)) }

// Attempted implements Observer.
func (m *Metrics) Attempted(space string, err error) {
	m.attempts.WithLabelValues(space, resultOf(err)).Inc()
}

// Finished implements Observer.
func (m *Metrics) Finished(d store.Delivery) {
	if !slices.Contains(outcomes, d.State) {
		return
	}
	m.finished.WithLabelValues(d.Space, string(d.State)).Inc()
	if d.State == store.StateDone && !d.DoneAt.IsZero() {
		m.latency.WithLabelValues(d.Space).Observe(max(d.DoneAt.Sub(d.QueuedAt).Seconds(), 0))
	}
}

// Replayed tells the metrics that n deliveries of a relay space were
// replayed (a batch's members count each). ObserveStore calls it on an
// Observer that has it.
func (m *Metrics) Replayed(space string, n int) { m.replayed.WithLabelValues(space).Add(float64(n)) }

// replayObserver is an Observer that counts replays; *Metrics is one.
type replayObserver interface {
	Replayed(space string, n int)
}

// resultOf classifies a sender's answer for gchat_relay_attempts_total; an
// error without an HTTP status is "network".
func resultOf(err error) string {
	var ae *gchat.APIError
	switch {
	case err == nil:
		return ResultOK
	case !errors.As(err, &ae):
		return ResultNetwork
	case ae.StatusCode == http.StatusTooManyRequests:
		return Result429
	case ae.StatusCode >= 500:
		return Result5xx
	default:
		return Result4xx
	}
}

// queueCollector reads the queue gauges from the store at scrape time.
//
// They describe the Google space a relay space delivers to: relay spaces
// sharing a Google space share its queue, pacing and pause, so each of them
// reports the same values (a sum over spaces counts such a queue twice).
// Deliveries left in a Google space no configured relay space delivers to
// anymore are reported under the relay space of their oldest delivery.
type queueCollector struct{ m *Metrics }

var (
	depthDesc = prometheus.NewDesc("gchat_relay_queue_depth",
		"Pending (queued or sending) deliveries of the Google space the relay space delivers to.", []string{"space"}, nil)
	oldestDesc = prometheus.NewDesc("gchat_relay_queue_oldest_seconds",
		"Age of the oldest pending delivery of the Google space the relay space delivers to, since it entered the queue; 0 when none.", []string{"space"}, nil)
	pausedDesc = prometheus.NewDesc("gchat_relay_space_paused",
		"1 while the relay space is paused: its webhook refused (403/404, until resumed), or the Google space it delivers to throttled (429); else 0.", []string{"space"}, nil)
	deadDesc = prometheus.NewDesc("gchat_relay_dead_letters",
		"Dead letters of the relay space the store holds, waiting to be replayed or deleted (a dead batch counts each of its messages); every replica reports the same count.", []string{"space"}, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
	ch <- pausedDesc
	ch <- deadDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	c.collectDead(ctx, ch)
	states, err := c.m.store.LaneStates(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, fmt.Errorf("read lane states: %w", err))
		return
	}
	spaces, err := c.m.store.SpaceStates(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pausedDesc, fmt.Errorf("read space states: %w", err))
		return
	}
	now := c.m.now()
	byLane := make(map[string][]string) // Google space id → relay spaces
	for _, s := range c.m.cfg.Load().Spaces {
		lane := s.Webhook.Space()
		byLane[lane] = append(byLane[lane], s.Name)
	}
	type sample struct {
		depth  int
		oldest float64
		paused bool
	}
	samples := make(map[string]*sample) // by relay space
	add := func(space string, s sample) {
		if t := samples[space]; t != nil {
			t.depth += s.depth
			t.oldest = max(t.oldest, s.oldest)
			t.paused = t.paused || s.paused
			return
		}
		samples[space] = &s
	}
	for _, names := range byLane {
		for _, n := range names {
			add(n, sample{}) // a space whose lane the store has not seen yet
		}
	}
	for _, ls := range states {
		names := byLane[ls.Lane]
		s := sample{depth: ls.Pending}
		if ls.Pending > 0 {
			oldest, err := c.m.store.List(ctx, store.Filter{Lane: ls.Lane, States: []store.State{store.StateQueued, store.StateSending}, Limit: 1})
			if err != nil {
				ch <- prometheus.NewInvalidMetric(oldestDesc, fmt.Errorf("read oldest delivery: %w", err))
				return
			}
			if len(oldest) > 0 {
				s.oldest = max(now.Sub(oldest[0].QueuedAt).Seconds(), 0)
				if names == nil {
					names = []string{oldest[0].Space}
				}
			}
		}
		if names == nil {
			continue // no configured space and nothing pending
		}
		s.paused = byLane[ls.Lane] != nil && ls.Pause.Active(now)
		for _, n := range names {
			add(n, s)
		}
	}
	// A relay space whose webhook was refused is paused on its own.
	for _, st := range spaces {
		if s := samples[st.Space]; s != nil && st.Pause.Active(now) {
			s.paused = true
		}
	}
	for space, s := range samples {
		paused := 0.0
		if s.paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(s.depth), space)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, s.oldest, space)
		ch <- prometheus.MustNewConstMetric(pausedDesc, prometheus.GaugeValue, paused, space)
	}
}

// collectDead reports the stored dead letters of every configured relay
// space (0 for none), and of any other relay space the store still holds
// some of.
func (c *queueCollector) collectDead(ctx context.Context, ch chan<- prometheus.Metric) {
	dead, err := c.m.store.DeadLetters(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(deadDesc, fmt.Errorf("count dead letters: %w", err))
		return
	}
	for _, s := range c.m.cfg.Load().Spaces {
		if _, ok := dead[s.Name]; !ok {
			dead[s.Name] = 0
		}
	}
	for space, n := range dead {
		ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(n), space)
	}
}

// promLogger passes promhttp's errors (a failed store read during a scrape)
// to slog.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics_failed", slog.String("err", fmt.Sprint(v...)))
}

// ObserveStore returns st reporting to o the deliveries ingest enqueues,
// those that reach a final state, and, when o has a Replayed method like
// *Metrics, those an operator replays. A finished or replayed batch reports
// each of its members, so that enqueued, replayed and finished counts match.
func ObserveStore(st store.Store, o Observer) store.Store {
	return &observedStore{Store: st, o: o}
}

type observedStore struct {
	store.Store
	o Observer
}

func (s *observedStore) Enqueue(ctx context.Context, req store.EnqueueRequest) (store.EnqueueResult, error) {
	res, err := s.Store.Enqueue(ctx, req)
	if err == nil && !res.Duplicate {
		s.o.Enqueued(req.Space, len(res.Deliveries))
	}
	return res, err
}

func (s *observedStore) Finish(ctx context.Context, lease store.Lease, id string, out store.Outcome) (store.Delivery, error) {
	d, err := s.Store.Finish(ctx, lease, id, out)
	if err != nil || !slices.Contains(outcomes, d.State) {
		return d, err
	}
	if !d.Batch {
		s.o.Finished(d)
		return d, nil
	}
	members := s.members(ctx, d)
	if len(members) == 0 {
		s.o.Finished(d)
	}
	for _, m := range members {
		m.State = d.State
		if m.DoneAt.IsZero() {
			m.DoneAt = d.DoneAt
		}
		s.o.Finished(m)
	}
	return d, nil
}

// Replay reports a replay to the observer when it counts them.
func (s *observedStore) Replay(ctx context.Context, id string) (store.Delivery, error) {
	d, err := s.Store.Replay(ctx, id)
	if o, ok := s.o.(replayObserver); ok && err == nil {
		n := 1
		if d.Batch {
			n = max(len(s.members(ctx, d)), 1)
		}
		o.Replayed(d.Space, n)
	}
	return d, err
}

// members returns batch d's members; none when they cannot be read, so
// that the caller counts the batch as one rather than half of it.
func (s *observedStore) members(ctx context.Context, d store.Delivery) []store.Delivery {
	var members []store.Delivery
	for f := (store.Filter{BatchID: d.ID, Limit: 1000}); ; {
		page, err := s.Store.List(ctx, f)
		if err != nil {
			return nil
		}
		members = append(members, page...)
		if len(page) < f.Limit {
			return members
		}
		f.After = page[len(page)-1].ID
	}
}

// ObserveSender returns s reporting each request to o under the relay space
// of cfg whose webhook it is sent to (the same *gchat.Webhook: the
// dispatcher sends with the configuration's; the first space when several
// share one), "" for another webhook.
func ObserveSender(s dispatch.Sender, cfg *config.Config, o Observer) dispatch.Sender {
	spaces := make(map[*gchat.Webhook]string, len(cfg.Spaces))
	for _, sp := range cfg.Spaces {
		if _, ok := spaces[sp.Webhook]; !ok {
			spaces[sp.Webhook] = sp.Name
		}
	}
	return &observedSender{s: s, spaces: spaces, o: o}
}

type observedSender struct {
	s      dispatch.Sender
	spaces map[*gchat.Webhook]string
	o      Observer
}

func (s *observedSender) Send(ctx context.Context, hook *gchat.Webhook, msg *gchat.Message, opts ...gchat.Option) (*gchat.Response, error) {
	resp, err := s.s.Send(ctx, hook, msg, opts...)
	s.o.Attempted(s.spaces[hook], err)
	return resp, err
}

// checkHost refuses a Host header that does not name this relay, as the
// admin API does, against DNS rebinding. /metrics needs no token:
// Prometheus scrapes without one, and nothing in it is secret.
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			webhookapi.WriteError(w, nil, webhookapi.PermissionDenied(fmt.Sprintf("Host %q is not allowed", r.Host)))
			return
		}
		h.ServeHTTP(w, r)
	})
}
