package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/httpserve"
)

const emulatorUsage = `Usage: gchat emulator [flags]

Run a local Google Chat for incoming webhooks: the webhook endpoint with
Google's answers, errors and quotas, a page that shows messages as Chat does,
and a JSON API for tests under /api/v1/. Each --space gets one webhook whose
URL is printed at start. Space ids derive from their names, so with --token
a webhook URL stays the same across restarts.

Where Google's behaviour is unknown, the emulator guesses; each guess is a
flag below (and a setting of the API's PUT /api/v1/settings).

Flags:
`

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runEmulator(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("gchat emulator", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8687", "`ADDR` to listen on")
	publicURL := fs.String("public-url", "", "base `URL` for webhook URLs when behind a proxy (default http://ADDR)")
	var spaces, tokens stringList
	fs.Var(&spaces, "space", "create a space `NAME` with one webhook (repeatable; default \"demo\")")
	fs.Var(&tokens, "token", "fix a webhook token, `SPACE=TOKEN` (or just TOKEN with one space)")
	key := fs.String("key", emulator.FakeKey, "the API `KEY` all webhook URLs share")
	maxMessages := fs.Int("max-messages", emulator.DefaultMaxMessages, "messages kept per space; older ones are dropped")

	def := emulator.DefaultSettings()
	set := def
	fs.Float64Var(&set.QuotaPerSecond, "quota-per-second", def.QuotaPerSecond, "requests per second per space, shared by its webhooks (0: off)")
	fs.IntVar(&set.QuotaPerMinute, "quota-per-minute", def.QuotaPerMinute, "requests per rolling minute per space (0: off)")
	fs.IntVar(&set.RetryAfterSeconds, "retry-after", 0, "guess: send Retry-After `SECONDS` with 429 (0: no header; unknown for Google)")
	fs.StringVar(&set.OrFailUnknownThread, "or-fail", def.OrFailUnknownThread, "guess: REPLY_MESSAGE_OR_FAIL on an unknown thread: NOT_FOUND (404) or NEW_THREAD")
	precedence := fs.String("thread-precedence", strings.Join(def.ThreadPrecedence, ","), "guess: which thread identifier wins: an order of name, bodyKey, queryKey")
	fs.BoolVar(&set.HonourRequestID, "honour-request-id", def.HonourRequestID, "guess: a repeated requestId returns the first message and posts nothing")
	fs.BoolVar(&set.MessageIDConflict, "message-id-conflict", def.MessageIDConflict, "guess: a reused messageId is 409 ALREADY_EXISTS")
	fs.IntVar(&set.DeletedWebhookStatus, "deleted-webhook-status", def.DeletedWebhookStatus, "guess: the status a deleted webhook's URL answers (403 or 404)")
	fs.IntVar(&set.UnknownSpaceStatus, "unknown-space-status", def.UnknownSpaceStatus, "guess: the status for an unknown space (403 or 404)")
	fs.BoolVar(&set.LegacyTextLimit, "legacy-text-limit", false, "guess: refuse text over 4,096 characters, as Google did in 2018-2020")
	fs.BoolVar(&set.AcceptPreviewText, "accept-preview-text", def.AcceptPreviewText, "observed: accept previewText, which Google accepts though its discovery document lacks it (Grafana sends it)")

	var faults emulator.Faults
	fs.Float64Var(&faults.Rate429, "fault-429", 0, "share of requests answered 429 RESOURCE_EXHAUSTED")
	fs.Float64Var(&faults.Rate500, "fault-500", 0, "share of requests answered 500 INTERNAL")
	fs.Float64Var(&faults.Rate503, "fault-503", 0, "share of requests answered 503 UNAVAILABLE")
	fs.DurationVar(&faults.Latency, "fault-latency", 0, "latency added to every request")
	fs.Float64Var(&faults.Reset, "fault-reset", 0, "share of requests whose connection is reset")
	fs.Float64Var(&faults.Hang, "fault-hang", 0, "share of requests never answered (until the client gives up)")
	fs.Float64Var(&faults.Lost, "fault-lost", 0, "share of requests posted whose answer is lost (the connection is reset after the post)")
	var lim httpserve.Limits
	fs.IntVar(&lim.MaxConns, "max-connections", httpserve.DefaultMaxConns, "open connections; past it, a 503 and close")
	fs.DurationVar(&lim.BodyTimeout, "body-timeout", httpserve.DefaultBodyTimeout, "time for a whole request body to arrive")
	fs.DurationVar(&lim.IdleTimeout, "idle-timeout", httpserve.DefaultIdleTimeout, "close a keep-alive connection idle this long")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), emulatorUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("emulator takes no arguments, got %q", fs.Args())
	}
	if lim.MaxConns <= 0 || lim.BodyTimeout <= 0 || lim.IdleTimeout <= 0 {
		return usageError("--max-connections, --body-timeout and --idle-timeout: want values above zero")
	}
	set.ThreadPrecedence = strings.Split(*precedence, ",")
	if len(spaces) == 0 {
		spaces = stringList{"demo"}
	}
	specs, err := spaceSpecs(spaces, tokens)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return usageError("listen: %w", err)
	}
	defer ln.Close()
	base := *publicURL
	if base == "" {
		base = "http://" + urlHost(ln.Addr().(*net.TCPAddr))
	}
	cfg := emulator.Config{
		BaseURL:     strings.TrimSuffix(base, "/"),
		Key:         *key,
		MaxMessages: *maxMessages,
		Spaces:      specs,
		Settings:    &set,
		Faults:      emulator.FaultConfig{Global: faults},
	}
	if err := cfg.Validate(); err != nil {
		return usageError("%w", err)
	}
	logger := slog.New(slog.NewTextHandler(env.stderr, nil))
	emu := emulator.NewServer(cfg, logger)
	defer emu.Close()

	fmt.Fprintf(env.stdout, "gchat emulator\n  page: %s/\n  API:  %s/api/v1/\n", cfg.BaseURL, cfg.BaseURL)
	for _, sp := range emu.Spaces() {
		for _, h := range sp.Webhooks {
			fmt.Fprintf(env.stdout, "space %q (%s), webhook URL:\n  %s\n", sp.DisplayName, sp.ID, h.URL)
		}
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		logger.Warn("listening beyond loopback: anyone who can reach this address can read every message", "addr", ln.Addr().String())
	}
	return serve(ctx, ln, emu, logger, emu.Close, httpserve.Options{Limits: lim})
}

// serve runs handler on ln until ctx ends, with the server limits of
// internal/httpserve; beforeShutdown ends long-lived requests (event
// streams, hanging faults).
func serve(ctx context.Context, ln net.Listener, handler http.Handler, logger *slog.Logger, beforeShutdown func() error, opts httpserve.Options) error {
	opts.Logger = logger
	opts.BeforeShutdown = func() { _ = beforeShutdown() }
	return httpserve.Serve(ctx, ln, handler, opts)
}

// urlHost is the host:port to put in URLs for a listening address: an
// unspecified address (0.0.0.0, ::) is reached through loopback.
func urlHost(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// spaceSpecs makes one space per name, each with one webhook. A space's id
// derives from its name, so that a fixed token gives the same URL across
// restarts.
func spaceSpecs(names, tokens []string) ([]emulator.SpaceSpec, error) {
	fixed := map[string]string{}
	for _, t := range tokens {
		name, token, ok := strings.Cut(t, "=")
		if !ok {
			if len(names) != 1 {
				return nil, usageError("--token %q: with several spaces, write SPACE=TOKEN", t)
			}
			name, token = names[0], t
		}
		if token == "" {
			return nil, usageError("--token %q: empty token", t)
		}
		fixed[name] = token
	}
	var specs []emulator.SpaceSpec
	seen := map[string]bool{}
	for _, name := range names {
		if name == "" || seen[name] {
			return nil, usageError("--space %q: want distinct, non-empty names", name)
		}
		seen[name] = true
		specs = append(specs, emulator.SpaceSpec{
			ID:          spaceID(name),
			DisplayName: name,
			Webhooks:    []emulator.WebhookSpec{{Name: name + " webhook", Token: fixed[name]}},
		})
		delete(fixed, name)
	}
	for name := range fixed {
		return nil, usageError("--token %s=…: no --space %q", name, name)
	}
	return specs, nil
}

// spaceID derives an 11-character Google-like space id from a name.
func spaceID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "AAAA" + base64.RawURLEncoding.EncodeToString(sum[:])[:7]
}
