package main

import (
	"context"
	"crypto/rand"
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
	"strings"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

const relayUsage = `Usage: gchat relay [flags]

Receive messages in Google Chat's webhook dialect and deliver them to Google
Chat spaces: durably, paced to Google's quota, in order per thread. A 200
answer means "queued"; its X-Gchat-Delivery-Id header names the delivery.

The configuration is --config FILE, else gchat.yaml in the working
directory. With neither, the relay runs a demo: loopback only, a temporary
store, and an embedded emulator instead of Google Chat.

Flags:
`

// defaultConfig is the configuration file used without --config.
const defaultConfig = "gchat.yaml"

func runRelay(ctx context.Context, args []string, env environment) error {
	flags := flag.NewFlagSet("gchat relay", flag.ContinueOnError)
	configPath := flags.String("config", "", "the configuration `FILE` (default ./"+defaultConfig+"; without it, the demo)")
	listen := flags.String("listen", "", "`ADDR` to listen on (default the file's listen, else "+config.DefaultListen+")")
	storeFlag := flags.String("store", "", "the store, sqlite:`PATH` (default the file's store)")
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
	cfg, err := config.Load(data, path, env.getenv, readConfigFile)
	if err == nil && (*listen != "" || *storeFlag != "") {
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *storeFlag != "" {
			cfg.Store = *storeFlag
		}
		err = cfg.Validate()
	}
	if err != nil {
		var ps *config.Problems
		if errors.As(err, &ps) {
			return usageError("%s: %d problem(s):\n%v", path, len(ps.List), err)
		}
		return usageError("%s: %w", path, err)
	}
	dbPath, _ := cfg.SQLitePath() // Validate refuses other backends

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return usageError("listen: %w", err)
	}
	defer ln.Close()
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{Synchronous: "FULL"})
	if err != nil {
		return usageError("store: %w", err)
	}
	fmt.Fprintf(env.stdout, "gchat relay on http://%s (config %s)\n%s", urlHost(ln.Addr().(*net.TCPAddr)), path, cfg.Summary())
	return serveRelay(ctx, ln, cfg, st, nil, logger)
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
	}

	ingest := base + "/v1/spaces/demo/messages?key=x&token=" + sp.IngestToken.Reveal()
	fmt.Fprintf(env.stdout, `gchat relay demo
  emulator page: %s/emulator/
  ingest URL:    %s
  admin API:     %s/api/v1/ (Authorization: Bearer %s)
Send a message, then watch it arrive on the page:
  curl -sS -X POST '%s' -H 'Content-Type: application/json' -d '{"text":"Hello from the gchat relay demo"}'
`, base, ingest, base, cfg.AdminToken.Reveal(), ingest)
	return serveRelay(ctx, ln, cfg, st, emu, logger)
}

// serveRelay runs the dispatcher and the HTTP server (with emu under
// /emulator/ when not nil) until ctx ends, then stops ingest, lets the
// dispatcher drain and closes the store, which it owns from here.
func serveRelay(ctx context.Context, ln net.Listener, cfg *config.Config, st *sqlite.Store, emu *emulator.Server, logger *slog.Logger) error {
	dcfg := dispatch.Config{Owner: owner(), RequestTimeout: dispatch.DefaultRequestTimeout}
	for _, s := range cfg.Spaces {
		dcfg.Spaces = append(dcfg.Spaces, dispatch.Space{Name: s.Name, Webhook: s.Webhook, Pace: s.Pace,
			OnFailure: dispatch.OnFailure(s.OnFailure), MaxAge: s.MaxAge})
	}
	if err := dcfg.Validate(); err != nil {
		st.Close()
		return usageError("%w", err)
	}
	// One attempt per send, no pacing: the dispatcher owns both.
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}, Timeout: dcfg.RequestTimeout}
	d := dispatch.New(dcfg, st, client, logger)
	srv := relay.NewServer(cfg, st, d, logger, relay.Options{Listen: ln.Addr().String(), Demo: emu != nil})

	var handler http.Handler = srv
	if emu != nil {
		mux := http.NewServeMux()
		mux.Handle("/emulator/", http.StripPrefix("/emulator", emu))
		mux.Handle("/", srv)
		handler = mux
	}

	dctx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	dispatched := make(chan error, 1)
	go func() { dispatched <- d.Run(dctx) }()

	err := serve(ctx, ln, handler, logger, func() error {
		srv.StopIngest()
		if emu != nil {
			emu.Close()
		}
		return nil
	})
	stopDispatch()
	derr := <-dispatched
	if cerr := st.Close(); cerr != nil {
		derr = errors.Join(derr, fmt.Errorf("close store: %w", cerr))
	}
	return errors.Join(err, derr)
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
