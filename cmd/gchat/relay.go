package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/httpserve"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

const relayUsage = `Usage: gchat relay [flags]

Receive messages in Google Chat's webhook dialect and deliver them to Google
Chat spaces: durably, paced to Google's quota, in order per thread. A 200
answer means "queued"; its X-Gchat-Delivery-Id header names the delivery.

The configuration is --config FILE, else gchat.yaml in the working
directory. With neither, the relay runs a demo: loopback only, a temporary
store, and an embedded emulator instead of Google Chat.

The store is sqlite:PATH for one relay, or a postgres:// URL that several
replicas share: any replica accepts messages, and each Google space is
sent to by one replica at a time, under a lease that another replica takes
over when its holder dies. The relay applies missing migrations at start
(see gchat migrate).

SIGHUP reloads the file and its *_file secrets: spaces, tokens and their
settings change at once, and spaces paused by a 403 or 404 resume. An
invalid file is refused and logged, and the running configuration kept.
listen and store need a restart. SIGTERM stops accepting messages, drains
the deliveries in flight and releases the spaces to other replicas.

GET /metrics serves Prometheus metrics without a token, to a Host header
that names the relay (a loopback name, the listen host, or any IP address
when listening on every interface).

Flags:
`

// defaultConfig is the configuration file used without --config.
const defaultConfig = "gchat.yaml"

func runRelay(ctx context.Context, args []string, env environment) error {
	flags := flag.NewFlagSet("gchat relay", flag.ContinueOnError)
	configPath := flags.String("config", "", "the configuration `FILE` (default ./"+defaultConfig+"; without it, the demo)")
	listen := flags.String("listen", "", "`ADDR` to listen on (default the file's listen, else "+config.DefaultListen+")")
	storeFlag := flags.String("store", "", "the `STORE`, sqlite:PATH or postgres://… (default the file's store)")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), relayUsage)
		flags.PrintDefaults()
	}
	if err := parseFlags(flags, args, env); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return usageError("relay takes no arguments, got %q", flags.Args())
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))
	if env.getenv("GOGC") == "" {
		// The relay's live heap is small and every accept allocates: a
		// collection every 4× of it, not 2×, takes the collector off the
		// hot path (docs/benchmarks.md). GOGC in the environment wins.
		debug.SetGCPercent(relay.GCPercent)
	}

	path, explicit := *configPath, *configPath != ""
	if !explicit {
		path = defaultConfigPath(env.getenv)
	}
	data, err := readConfigFile(path)
	switch {
	case err == nil:
	case !explicit && errors.Is(err, fs.ErrNotExist):
		return runRelayDemo(ctx, *listen, *storeFlag, env, logger)
	default:
		return usageError("config: %w", err)
	}
	// Flags beat the file, at start and at every reload.
	overrides := func(cfg *config.Config) {
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *storeFlag != "" {
			cfg.Store = *storeFlag
		}
	}
	cfg, err := config.Load(data, path, env.getenv, readConfigFile)
	if err == nil && (*listen != "" || *storeFlag != "") {
		overrides(cfg)
		err = cfg.Validate()
	}
	if err != nil {
		var ps *config.Problems
		if errors.As(err, &ps) {
			return usageError("%s: %d problem(s):\n%v", path, len(ps.List), err)
		}
		return usageError("%s: %w", path, err)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return usageError("listen: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	addr := urlHost(ln.Addr().(*net.TCPAddr))
	if cfg.TLS != nil {
		// The certificate is read at start; a reload keeps it. serve
		// serves TLS on ln (below it, the connection cap).
		scheme = "https"
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return usageError("store %s: %w", cfg.RedactedStore(), err)
	}
	setup := relaySetup{cfg: cfg, load: func() (*config.Config, error) {
		data, err := readConfigFile(path)
		if err != nil {
			return nil, err
		}
		cfg, err := config.Load(data, path, env.getenv, readConfigFile)
		if err != nil {
			return nil, err
		}
		overrides(cfg)
		return cfg, nil
	}}
	if env.reload != nil {
		reloads, stop := env.reload()
		defer stop()
		setup.reloads = reloads
	}
	fmt.Fprintf(env.stdout, "gchat relay on %s://%s (config %s)\n%s", scheme, addr, path, cfg.Summary())
	return serveRelay(ctx, ln, st, setup, logger)
}

// defaultConfigPath is gchat.yaml in the working directory, as the
// environment's PWD names it (tests point it at an empty directory), else
// relative to the process's.
func defaultConfigPath(getenv func(string) string) string {
	if dir := getenv("PWD"); filepath.IsAbs(dir) {
		return filepath.Join(dir, defaultConfig)
	}
	return defaultConfig
}

// runRelayDemo runs the relay with no configuration: loopback only, a
// temporary store, and the emulator on the same listener under /emulator/,
// standing in for Google Chat.
func runRelayDemo(ctx context.Context, listen, storeFlag string, env environment, logger *slog.Logger) error {
	if storeFlag != "" {
		return usageError("--store needs --config or ./%s: the demo's store is temporary", defaultConfig)
	}
	if listen == "" {
		listen = config.DefaultListen
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return usageError("--listen %q: want host:port, e.g. %s", listen, config.DefaultListen)
	}
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return usageError("--listen %q: the demo listens on loopback only; write a configuration (--config) to listen beyond it", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return usageError("listen: %w", err)
	}
	defer ln.Close()
	addr := urlHost(ln.Addr().(*net.TCPAddr))
	base := "http://" + addr
	fmt.Fprintln(env.stderr, "DEMO MODE: messages go to an embedded emulator, not to Google Chat; the store is temporary")

	dir, err := os.MkdirTemp("", "gchat-relay-demo-")
	if err != nil {
		return usageError("store: %w", err)
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "relay.db")
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{Synchronous: "FULL"})
	if err != nil {
		return usageError("store: %w", err)
	}

	// Google's quota is one request per second per space; the relay's pace,
	// config.DefaultPace, stays just under it.
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 1
	emuCfg := emulator.Config{
		BaseURL: base + "/emulator",
		Spaces: []emulator.SpaceSpec{{
			ID: spaceID("demo"), DisplayName: "demo",
			Webhooks: []emulator.WebhookSpec{{Name: "gchat relay"}},
		}},
		Settings: &set,
	}
	if err := emuCfg.Validate(); err != nil {
		st.Close()
		return err
	}
	emu := emulator.NewServer(emuCfg, logger.With(slog.String("component", "emulator")))
	hook, err := gchat.ParseWebhook(emu.Spaces()[0].Webhooks[0].URL)
	if err != nil {
		st.Close()
		return err
	}
	sp := config.NewSpace("demo", hook)
	sp.IngestToken = config.Secret(randomHex(16))
	cfg := &config.Config{
		Listen:       addr,
		Store:        "sqlite:" + dbPath,
		AdminToken:   config.Secret(randomHex(16)),
		AllowedHosts: []string{addr},
		Spaces:       []*config.Space{sp},
		Retention:    config.Retention{Delivered: config.DefaultDelivered, Dead: config.DefaultDead},
		// An Alertmanager route into the demo space, without credentials:
		// the demo listens on loopback only.
		Routes: []*config.Route{{Name: "demo", Source: config.SourceAlertmanager, Spaces: []string{"demo"},
			Thread: alert.PolicyGroup, DedupWindow: config.DefaultDedupWindow, MaxAlerts: config.DefaultMaxAlerts}},
	}

	ingest := base + "/v1/spaces/demo/messages?key=x&token=" + sp.IngestToken.Reveal()
	fmt.Fprintf(env.stdout, `gchat relay demo
  emulator page: %s/emulator/
  ingest URL:    %s
  admin API:     %s/api/v1/ (Authorization: Bearer %s)
  Alertmanager:  %s/v1/alertmanager/demo (a webhook receiver's url)
Send a message, then watch it arrive on the page:
  curl -sS -X POST '%s' -H 'Content-Type: application/json' -d '{"text":"Hello from the gchat relay demo"}'
`, base, ingest, base, cfg.AdminToken.Reveal(), base, ingest)
	return serveRelay(ctx, ln, st, relaySetup{cfg: cfg, emu: emu}, logger)
}

// defaultPruneEvery is how often the relay deletes finished deliveries
// past their retention.
const defaultPruneEvery = 10 * time.Minute

// relaySetup is what serveRelay needs beyond the listener and the store.
type relaySetup struct {
	cfg *config.Config
	// emu, when not nil, is served under /emulator/ (the demo).
	emu *emulator.Server
	// load reads the configuration again, flags applied, for a reload; nil
	// for the demo, which has no file.
	load func() (*config.Config, error)
	// reloads are the reload requests (SIGHUP); nil for none.
	reloads <-chan os.Signal
	// pruneEvery is how often retention is applied; zero means
	// defaultPruneEvery.
	pruneEvery time.Duration
}

// serveRelay runs the dispatcher, the HTTP server, retention and reloads
// until ctx ends, then stops ingest, lets the dispatcher drain and closes
// the store, which it owns from here.
func serveRelay(ctx context.Context, ln net.Listener, st store.Store, setup relaySetup, logger *slog.Logger) error {
	if setup.pruneEvery <= 0 {
		setup.pruneEvery = defaultPruneEvery
	}
	metrics := relay.NewMetrics(setup.cfg, st, logger)
	r := &relayRuntime{
		store:   relay.ObserveStore(st, metrics),
		metrics: metrics,
		logger:  logger,
		opts:    relay.Options{Listen: ln.Addr().String(), Demo: setup.emu != nil, Metrics: metrics},
		owner:   owner(),
	}
	dcfg := r.dispatchConfig(setup.cfg)
	if err := dcfg.Validate(); err != nil {
		st.Close()
		return usageError("%w", err)
	}
	r.cfg.Store(setup.cfg)
	r.srv.Store(relay.NewServer(setup.cfg, r.store, r, logger, r.opts))
	// The owner names this process in the store's leases (GET /api/v1/spaces
	// shows each space's holder).
	logger.Info("started", slog.String("owner", r.owner))

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	r.startDispatcher(runCtx, setup.cfg, dcfg)
	var loops sync.WaitGroup
	loops.Go(func() {
		pruneLoop(runCtx, st, func() store.Retention { return storeRetention(r.cfg.Load()) }, setup.pruneEvery, logger)
	})
	if setup.load != nil && setup.reloads != nil {
		loops.Go(func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case <-setup.reloads:
					r.reload(runCtx, setup.load)
				}
			}
		})
	}

	var handler http.Handler = r
	if setup.emu != nil {
		mux := http.NewServeMux()
		mux.Handle("/emulator/", http.StripPrefix("/emulator", setup.emu))
		mux.Handle("/", r)
		handler = mux
	}
	// Shutdown order: ingest answers 503, then the dispatcher drains its
	// in-flight sends (in the demo they go to the emulator on this very
	// listener, so it must still serve them), then the emulator ends its event
	// streams, and only then does the HTTP server shut down.
	var derr error
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			r.mu.Lock()
			r.stopping = true
			r.srv.Load().StopIngest()
			r.mu.Unlock()
			cancelRun()
			loops.Wait()
			r.mu.Lock()
			derr = r.stopDispatch()
			r.mu.Unlock()
			if setup.emu != nil {
				setup.emu.Close()
			}
		})
	}
	opts := httpserve.Options{Limits: setup.cfg.Server}
	if setup.cfg.TLS != nil {
		opts.TLS = &tls.Config{Certificates: []tls.Certificate{*setup.cfg.TLS}, MinVersion: tls.VersionTLS12}
	}
	err := serve(ctx, ln, handler, logger, func() error { stop(); return nil }, opts)
	stop() // when serving failed before a shutdown began
	if cerr := st.Close(); cerr != nil {
		derr = errors.Join(derr, fmt.Errorf("close store: %w", cerr))
	}
	return errors.Join(err, derr)
}

// relayRuntime is the part of a running relay that a reload replaces: the
// configuration, the server holding it (ingest's space table) and the
// dispatcher serving its lanes. It is the http.Handler and the Notifier
// handed to every server, so both always reach the current ones.
type relayRuntime struct {
	store   store.Store // observed by metrics
	metrics *relay.Metrics
	logger  *slog.Logger
	opts    relay.Options
	owner   string // kept across dispatchers, so a lease not released is ours still

	cfg  atomic.Pointer[config.Config]
	srv  atomic.Pointer[relay.Server]
	disp atomic.Pointer[dispatch.Dispatcher]

	mu       sync.Mutex // serializes reloads and shutdown
	stopping bool       // shutting down: no reload
	// stopDispatch ends the current dispatcher's Run and waits for its
	// drain.
	stopDispatch func() error
}

func (r *relayRuntime) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.srv.Load().ServeHTTP(w, req)
}

// Notify wakes a lane of the current dispatcher. A server replaced by a
// reload may still finish a request and notify: the new dispatcher gets it.
func (r *relayRuntime) Notify(lane string) {
	if d := r.disp.Load(); d != nil {
		d.Notify(lane)
	}
}

// dispatchConfig is the dispatcher configuration for cfg.
func (r *relayRuntime) dispatchConfig(cfg *config.Config) dispatch.Config {
	dcfg := dispatch.Config{Owner: r.owner, RequestTimeout: dispatch.DefaultRequestTimeout, Operator: cfg.Operator,
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
// is called. dcfg is valid.
func (r *relayRuntime) startDispatcher(ctx context.Context, cfg *config.Config, dcfg dispatch.Config) {
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

// reload reads the configuration again. An invalid one is refused, every
// problem logged, and the running one kept. A valid one replaces ingest's
// space table (tokens, reply_fallback, spaces added or removed) at once,
// resumes the spaces paused until resumed (403, 404), and restarts the
// dispatcher on the new lanes after the old one drained. The queue is left
// as it is. Listen and store need a restart: their changes are ignored.
func (r *relayRuntime) reload(ctx context.Context, load func() (*config.Config, error)) {
	log := r.logger
	log.Info("reloading")
	next, err := load()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping || ctx.Err() != nil {
		return
	}
	cur := r.cfg.Load()
	if err == nil {
		if next.Listen != cur.Listen {
			log.Warn("reload_ignored", slog.String("setting", "listen"), slog.String("reason", "a restart applies it"))
			next.Listen = cur.Listen
		}
		if next.Store != cur.Store { // the store may hold a password: not logged
			log.Warn("reload_ignored", slog.String("setting", "store"), slog.String("reason", "a restart applies it"))
			next.Store = cur.Store
		}
		err = next.Validate()
	}
	var dcfg dispatch.Config
	if err == nil {
		dcfg = r.dispatchConfig(next)
		err = dcfg.Validate()
	}
	if err != nil {
		var ps *config.Problems
		if !errors.As(err, &ps) {
			ps = &config.Problems{List: []config.Problem{{Message: err.Error()}}}
		}
		for _, p := range ps.List {
			log.Error("reload_problem", slog.String("problem", p.Error()))
		}
		log.Error("reload_refused", slog.Int("problems", len(ps.List)), slog.String("reason", "the running configuration is kept"))
		return
	}

	// Ingest takes the new space table first: a request sees the old
	// configuration or the new one, never a mix.
	r.srv.Store(relay.NewServer(next, r.store, r, log, r.opts))
	r.cfg.Store(next)
	r.metrics.SetConfig(next)

	if err := r.stopDispatch(); err != nil {
		log.Error("dispatch_failed", slog.Any("err", err))
	}
	r.resumeStopped(ctx, next)
	r.startDispatcher(ctx, next, dcfg)

	added, removed := spaceChanges(cur, next)
	log.Info("reloaded", slog.Int("spaces", len(next.Spaces)), slog.Any("added", added), slog.Any("removed", removed))
}

// resumeStopped lifts the pauses that last until resumed (Google answered
// 403 or 404) of cfg's spaces: a reload is the operator saying the webhook
// was fixed. A 429's timed pause stays.
func (r *relayRuntime) resumeStopped(ctx context.Context, cfg *config.Config) {
	states, err := r.store.LaneStates(ctx)
	if err != nil {
		r.logger.Error("resume_failed", slog.Any("err", err))
		return
	}
	paused := make(map[string]bool)
	for _, ls := range states {
		paused[ls.Lane] = ls.Pause.Reason != "" && ls.Pause.Until.IsZero()
	}
	for _, s := range cfg.Spaces {
		lane := s.Webhook.Space()
		if !paused[lane] {
			continue
		}
		if err := r.store.PauseLane(ctx, lane, store.Pause{}); err != nil {
			r.logger.Error("resume_failed", slog.String("space", s.Name), slog.Any("err", err))
			continue
		}
		paused[lane] = false
		r.logger.Info("resumed", slog.String("space", s.Name))
	}
}

// spaceChanges names the spaces next adds to cur and those it removes.
func spaceChanges(cur, next *config.Config) (added, removed []string) {
	for _, s := range next.Spaces {
		if cur.Space(s.Name) == nil {
			added = append(added, s.Name)
		}
	}
	for _, s := range cur.Spaces {
		if next.Space(s.Name) == nil {
			removed = append(removed, s.Name)
		}
	}
	return added, removed
}

// storeRetention is the store's retention for cfg.
func storeRetention(cfg *config.Config) store.Retention {
	return store.Retention{Done: cfg.Retention.Delivered, Dead: cfg.Retention.Dead}.WithDefaults()
}

// pruneLoop applies retention at once and then every interval until ctx
// ends.
func pruneLoop(ctx context.Context, st store.Admin, retention func() store.Retention, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := st.Prune(ctx, retention())
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("prune_failed", slog.Any("err", err))
		case err == nil && n > 0:
			logger.Info("pruned", slog.Int("deliveries", n))
		case err == nil:
			logger.Debug("pruned", slog.Int("deliveries", 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// owner names this process in lane leases.
func owner() string {
	host, err := os.Hostname()
	if err != nil {
		host = "relay"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}
