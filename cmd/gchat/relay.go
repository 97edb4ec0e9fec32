package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
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

SIGHUP, or POST /-/reload with the admin token, reloads the file and its
*_file secrets: spaces, tokens and their settings change at once, and
spaces paused by a 403 or 404 whose webhook changed resume. An invalid file
is refused and logged (and answered as JSON to /-/reload), and the running
configuration kept. listen, store and the log format need a restart. SIGTERM stops accepting messages, drains
the deliveries in flight and releases the spaces to other replicas.

GET /metrics serves Prometheus metrics without a token, to a Host header
that names the relay (a loopback name, the listen host, or any IP address
when listening on every interface). /healthz and /readyz, or /-/healthy
and /-/ready, answer probes.

Logs go to stderr, as text (key=value) or JSON lines, from the level set
(the file's log: section, or the flags).

Flags:
`

// defaultConfig is the configuration file used without --config.
const defaultConfig = "gchat.yaml"

func runRelay(ctx context.Context, args []string, env environment) error {
	flags := flag.NewFlagSet("gchat relay", flag.ContinueOnError)
	configPath := flags.String("config", "", "the configuration `FILE` (default ./"+defaultConfig+"; without it, the demo)")
	listen := flags.String("listen", "", "`ADDR` to listen on (default the file's listen, else "+config.DefaultListen+")")
	storeFlag := flags.String("store", "", "the `STORE`, sqlite:PATH or postgres://… (default the file's store)")
	logFormat := flags.String("log-format", "", "log `FORMAT` on stderr: text or json (default the file's log.format, else text)")
	logLevel := flags.String("log-level", "", "the least `LEVEL` logged: debug, info, warn or error (default the file's log.level, else info)")
	behindTLS := flags.Bool("console-behind-tls-proxy", false, "a TLS proxy serves the console (/console/) over HTTPS: its cookie is Secure and sign-in is accepted from the proxy's address")
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
	// The flags are checked as the file's log: is.
	flagLog := config.Log{Format: *logFormat, Level: *logLevel}
	if err := flagLog.Validate(); err != nil {
		return usageError("--log-%w", err)
	}
	level := new(slog.LevelVar)
	logSettings := func(cfg *config.Config) config.Log {
		l := cfg.Log
		if *logFormat != "" {
			l.Format = *logFormat
		}
		if *logLevel != "" {
			l.Level = *logLevel
		}
		return l
	}
	opts := app.Options{ConsoleBehindTLSProxy: *behindTLS}
	if env.getenv("GOGC") == "" {
		// The relay's live heap is small and every accept allocates: a
		// collection every 4× of it, not 2×, takes the collector off the
		// hot path (docs/benchmarks.md). GOGC in the environment wins.
		opts.GCPercent = app.GCPercent
	}

	path, explicit := *configPath, *configPath != ""
	if !explicit {
		path = defaultConfigPath(env.getenv)
	}
	data, err := readConfigFile(path)
	switch {
	case err == nil:
	case !explicit && errors.Is(err, fs.ErrNotExist):
		level.Set(flagLog.SlogLevel())
		return runRelayDemo(ctx, *listen, *storeFlag, env, opts, newLogger(env.stderr, flagLog.Format, level))
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
	logs := logSettings(cfg)
	level.Set(logs.SlogLevel())
	logger := newLogger(env.stderr, logs.Format, level)
	warnExposed(cfg, logger)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return usageError("listen: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	addr := urlHost(ln.Addr().(*net.TCPAddr))
	if cfg.TLS != nil {
		scheme = "https" // app serves TLS over the listener, above its connection cap
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return usageError("store %s: %w", cfg.RedactedStore(), err)
	}
	opts.Load = func() (*config.Config, error) {
		data, err := readConfigFile(path)
		if err != nil {
			return nil, err
		}
		cfg, err := config.Load(data, path, env.getenv, readConfigFile)
		if err != nil {
			return nil, err
		}
		overrides(cfg)
		warnExposed(cfg, logger)
		// A reload applies a new level at once; the format is the
		// start's, so that one process writes one format.
		level.Set(logSettings(cfg).SlogLevel())
		return cfg, nil
	}
	var reloads <-chan os.Signal
	if env.reload != nil {
		var stop func()
		reloads, stop = env.reload()
		defer stop()
	}
	fmt.Fprintf(env.stdout, "gchat relay on %s://%s (config %s)\n%s", scheme, addr, path, cfg.Summary())
	return runApp(ctx, cfg, ln, st, opts, reloads, logger)
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
// standing in for Google Chat. The demo is opened here, like a
// configuration file: it is what the user gets by naming nothing, its
// configuration and printed URLs are the command's face, and the relay
// takes the emulator as any handler to serve beside it (app.Options), so
// package app does not import the emulator.
func runRelayDemo(ctx context.Context, listen, storeFlag string, env environment, opts app.Options, logger *slog.Logger) error {
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
  console:       %s/console/ (sign in with the admin API's token)
  Alertmanager:  %s/v1/alertmanager/demo (a webhook receiver's url)
Send a message, then watch it arrive on the page:
  curl -sS -X POST '%s' -H 'Content-Type: application/json' -d '{"text":"Hello from the gchat relay demo"}'
`, base, ingest, base, cfg.AdminToken.Reveal(), base, base, ingest)
	opts.Emulator = emu
	return runApp(ctx, cfg, ln, st, opts, nil, logger)
}

// runApp runs the relay cfg describes (package app) on ln from st until
// ctx ends, reloading it on every request from reloads (SIGHUP; nil for
// none). The relay owns the store from here.
func runApp(ctx context.Context, cfg *config.Config, ln net.Listener, st store.Store, opts app.Options, reloads <-chan os.Signal, logger *slog.Logger) error {
	rl, err := app.New(cfg, ln, st, logger, opts)
	if err != nil {
		st.Close()
		return usageError("%w", err)
	}
	if reloads != nil && opts.Load != nil {
		reloadCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		wg.Go(func() {
			for {
				select {
				case <-reloadCtx.Done():
					return
				case <-reloads:
					// A refused reload is logged by the relay, which keeps
					// running on the configuration it has.
					_ = rl.Reload(reloadCtx)
				}
			}
		})
	}
	return rl.Run(ctx)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// newLogger logs to w in format (config.LogJSON, else text) from level on.
func newLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// warnExposed logs each secret file of cfg that every user may read.
func warnExposed(cfg *config.Config, logger *slog.Logger) {
	for _, p := range cfg.ExposedSecretFiles(os.Stat) {
		logger.Warn("secret_file_exposed", slog.String("problem", p.Error()))
	}
}
