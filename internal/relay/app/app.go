// Package app is the relay as it runs: `gchat relay`, the benchmark
// programs and the in-process tests all start it through Run, so the relay
// that is measured and tested is the relay that ships.
//
// Where each part of the runtime lives:
//
//   - New and Run (app.go) wire the store behind the metrics wrappers, the HTTP
//     server of package relay, the dispatcher of relay/dispatch with the
//     configured timeouts, retention and the owner name of this process's
//     leases, and serves until its context ends.
//   - Shutdown order (Run and serve, app.go and serve.go): ingest answers
//     503 and the dispatcher stops claiming, finishes its in-flight sends
//     under its drain deadline (relay/dispatch) and releases its leases, the
//     demo's emulator ends its event streams, and only then does
//     http.Server.Shutdown run; the store is closed last.
//   - Reload (reload.go): Relay.Reload reads the configuration again and
//     swaps it in at once, or refuses it and keeps the running one. `gchat
//     relay` calls it on SIGHUP, and the server on POST /-/reload
//     (relay.Options.Reload). The operator notice limit is the relay's, not
//     the dispatcher's, so a reload does not reset it.
//   - Retention (retention.go): finished deliveries past their retention are
//     pruned at start and every Options.PruneEvery.
//   - Escalation (escalate.go): the escalate: timers that are due are fired
//     every Options.EscalateEvery (relay.Server.FireEscalations).
//
// cmd/gchat only parses flags, opens the configuration, the store and the
// listener, and calls New and Run.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/httpserve"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
	"github.com/gchatkit/gchat/internal/store"
)

// GCPercent is the garbage collector's target `gchat relay` runs with
// unless GOGC is set: a collection when the heap has grown by 4× the live
// heap. The relay's live heap is a few megabytes and each accepted request
// allocates tens of kilobytes, so at the default of 100 the collector runs
// often enough to stall accepts (at 64 callers, BenchmarkIngest: about
// 9,500 accepts/s at 100 against 12,500 at 400).
const GCPercent = 400

// DefaultPruneEvery is how often the relay deletes finished deliveries
// past their retention.
const DefaultPruneEvery = 10 * time.Minute

// Emulator is a stand-in for Google Chat served beside the relay (the
// demo's embedded emulator): an *emulator.Server is one. Close ends its
// long-lived requests (event streams).
type Emulator interface {
	http.Handler
	Close() error
}

// Options are the relay's settings beyond the configuration file.
type Options struct {
	// GCPercent, when positive, is the garbage collector's target while Run
	// runs (debug.SetGCPercent; the previous target is restored when Run
	// returns). Zero leaves the collector as it is: `gchat relay` passes
	// GCPercent unless GOGC is set.
	GCPercent int
	// Load reads the configuration again for Reload, overrides applied; nil
	// means the relay cannot reload (the demo, which has no file).
	Load func() (*config.Config, error)
	// PruneEvery is how often retention is applied; zero means
	// DefaultPruneEvery.
	PruneEvery time.Duration
	// EscalateEvery is how often due escalations are fired; zero means
	// DefaultEscalateEvery.
	EscalateEvery time.Duration
	// Emulator, when not nil, is served under /emulator/ on the relay's
	// listener and makes /readyz say "demo".
	Emulator Emulator
	// MaxPending, when positive, bounds each relay space's pending
	// deliveries in place of its queue_limit; zero means the spaces' own
	// queue_limit, negative no bound (the ingest benchmark, whose queue
	// nothing drains fast enough).
	MaxPending int
	// ConsoleBehindTLSProxy says that a TLS proxy serves the console over
	// HTTPS (relay.Options).
	ConsoleBehindTLSProxy bool
}

// Relay is one running relay: the configuration, the HTTP server holding
// it (ingest's space table) and the dispatcher serving its lanes, which a
// reload replaces together. It is the http.Handler and the Notifier handed
// to every server, so both always reach the current ones.
type Relay struct {
	ln      net.Listener
	raw     store.Store // closed by Run
	store   store.Store // observed by metrics
	metrics *relay.Metrics
	logger  *slog.Logger
	opts    Options
	srvOpts relay.Options
	owner   string // kept across dispatchers, so a lease not released is ours still
	dcfg    dispatch.Config
	// notices is kept across dispatchers, so that a reload does not reset
	// the limit of one operator notice per kind and space per interval.
	notices *dispatch.NoticeLimiter

	cfg  atomic.Pointer[config.Config]
	srv  atomic.Pointer[relay.Server]
	disp atomic.Pointer[dispatch.Dispatcher]

	mu       sync.Mutex // serializes reloads, start and shutdown
	runCtx   context.Context
	running  bool // between Run's start and its shutdown: reloads apply
	stopping bool // shutting down: no reload
	// stopDispatch ends the current dispatcher's Run and waits for its
	// drain.
	stopDispatch func() error
	// stopStreams is closed at shutdown: the console's event streams end.
	stopStreams chan struct{}
}

// New checks cfg and prepares a relay serving it on ln from st. Run starts
// it; until then nothing is served. cfg must be valid (config.Load and
// Validate); an error here is a configuration the dispatcher refuses. A nil
// logger discards.
func New(cfg *config.Config, ln net.Listener, st store.Store, logger *slog.Logger, opts Options) (*Relay, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = DefaultPruneEvery
	}
	if opts.EscalateEvery <= 0 {
		opts.EscalateEvery = DefaultEscalateEvery
	}
	metrics := relay.NewMetrics(cfg, st, logger)
	r := &Relay{
		ln:      ln,
		raw:     st,
		store:   relay.ObserveStore(st, metrics),
		metrics: metrics,
		logger:  logger,
		opts:    opts,
		srvOpts: relay.Options{Listen: ln.Addr().String(), Demo: opts.Emulator != nil, Metrics: metrics, MaxPending: opts.MaxPending,
			ConsoleBehindTLSProxy: opts.ConsoleBehindTLSProxy},
		owner:   owner(),
		notices: &dispatch.NoticeLimiter{},

		stopStreams: make(chan struct{}),
	}
	if opts.Load != nil {
		r.srvOpts.Reload = r.Reload // POST /-/reload
	}
	r.srvOpts.Stop = r.stopStreams
	r.dcfg = r.dispatchConfig(cfg)
	if err := r.dcfg.Validate(); err != nil {
		return nil, err
	}
	r.cfg.Store(cfg)
	r.srv.Store(relayServer(r, cfg))
	return r, nil
}

// relayServer is the HTTP server of package relay for cfg, notifying r.
func relayServer(r *Relay, cfg *config.Config) *relay.Server {
	return relay.NewServer(cfg, r.store, r, r.logger, r.srvOpts)
}

// Owner names this process in the store's leases (GET /api/v1/spaces shows
// each space's holder).
func (r *Relay) Owner() string { return r.owner }

// Config is the running configuration.
func (r *Relay) Config() *config.Config { return r.cfg.Load() }

// Run runs the dispatcher, the HTTP server and retention until ctx ends,
// then shuts down in order (see the package comment) and closes the store,
// which it owns from New on. It returns nil after a clean shutdown. Run is
// called once.
func (r *Relay) Run(ctx context.Context) error {
	if r.opts.GCPercent > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(r.opts.GCPercent))
	}
	r.logger.Info("started", slog.String("owner", r.owner))

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	r.mu.Lock()
	r.runCtx = runCtx
	r.running = true
	r.startDispatcher(runCtx, r.cfg.Load(), r.dcfg)
	r.mu.Unlock()
	var loops sync.WaitGroup
	loops.Go(func() {
		pruneLoop(runCtx, r.raw, func() store.Retention { return storeRetention(r.cfg.Load()) }, r.opts.PruneEvery, r.logger)
	})
	loops.Go(func() {
		escalateLoop(runCtx, func(ctx context.Context) (int, error) { return r.srv.Load().FireEscalations(ctx) },
			r.opts.EscalateEvery, r.logger)
	})

	var handler http.Handler = r.metrics.InstrumentIngest(r)
	if r.opts.Emulator != nil {
		mux := http.NewServeMux()
		mux.Handle("/emulator/", http.StripPrefix("/emulator", r.opts.Emulator))
		mux.Handle("/", handler)
		handler = mux
	}
	// Shutdown order: ingest answers 503, then the dispatcher drains its
	// in-flight sends (in the demo they go to the emulator on this very
	// listener, so it must still serve them) and releases its leases, then
	// the emulator ends its event streams, and only then does the HTTP
	// server shut down.
	var derr error
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			r.mu.Lock()
			r.stopping = true
			r.srv.Load().StopIngest()
			close(r.stopStreams)
			r.mu.Unlock()
			cancelRun()
			loops.Wait()
			r.mu.Lock()
			derr = r.stopDispatch()
			r.running = false
			r.mu.Unlock()
			if r.opts.Emulator != nil {
				r.opts.Emulator.Close()
			}
		})
	}
	// The server's limits and certificate are read at start; a reload keeps
	// them.
	cfg := r.cfg.Load()
	sopts := httpserve.Options{Limits: cfg.Server, Logger: r.logger, BeforeShutdown: stop}
	if cfg.TLS != nil {
		sopts.TLS = &tls.Config{Certificates: []tls.Certificate{*cfg.TLS}, MinVersion: tls.VersionTLS12}
	}
	err := httpserve.Serve(ctx, r.ln, handler, sopts)
	stop() // when serving failed before a shutdown began
	if cerr := r.raw.Close(); cerr != nil {
		derr = errors.Join(derr, fmt.Errorf("close store: %w", cerr))
	}
	return errors.Join(err, derr)
}

func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.srv.Load().ServeHTTP(w, req)
}

// Notify wakes a lane of the current dispatcher. A server replaced by a
// reload may still finish a request and notify: the new dispatcher gets it.
func (r *Relay) Notify(lane string) {
	if d := r.disp.Load(); d != nil {
		d.Notify(lane)
	}
}

// dispatchConfig is the dispatcher configuration for cfg.
func (r *Relay) dispatchConfig(cfg *config.Config) dispatch.Config {
	dcfg := dispatch.Config{Owner: r.owner, RequestTimeout: dispatch.DefaultRequestTimeout, Operator: cfg.Operator, Notices: r.notices,
		LeaseTTL: cfg.Timing.Lease, BackoffBase: cfg.Timing.BackoffBase, BackoffCap: cfg.Timing.BackoffCap}
	if cfg.Timing.RequestTimeout > 0 {
		dcfg.RequestTimeout = cfg.Timing.RequestTimeout
	}
	if l := cfg.Timing.Lease; l > 0 && dispatch.DefaultPollInterval >= l/2 {
		dcfg.PollInterval = l / 4 // idle lanes renew their lease when they poll
	}
	for _, s := range cfg.Spaces {
		dcfg.Spaces = append(dcfg.Spaces, dispatch.Space{Name: s.Name, Webhook: s.Webhook, Pace: s.Pace,
			OnFailure: dispatch.OnFailure(s.OnFailure), MaxAge: s.MaxAge, Coalesce: s.Coalesce})
	}
	for _, rt := range cfg.Routes {
		dcfg.Routes = append(dcfg.Routes, dispatch.Route{Name: rt.Name, OnFailure: dispatch.OnFailure(rt.OnFailure), MaxAge: rt.MaxAge})
	}
	return dcfg
}

// startDispatcher runs a dispatcher for cfg until ctx ends or stopDispatch
// is called. dcfg is valid; r.mu is held.
func (r *Relay) startDispatcher(ctx context.Context, cfg *config.Config, dcfg dispatch.Config) {
	// One attempt per send, no pacing: the dispatcher owns both.
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}, Timeout: dcfg.RequestTimeout}
	d := dispatch.New(dcfg, r.store, relay.ObserveSender(client, cfg, r.metrics), r.logger)
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	r.disp.Store(d)
	r.stopDispatch = func() error {
		cancel()
		return <-done
	}
}

// owner names this process in lane leases.
func owner() string {
	host, err := os.Hostname()
	if err != nil {
		host = "relay"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
