// Package relay is the relay's HTTP face: the ingest endpoint, which speaks
// Google's webhook dialect (ingest.go), the source routes for Alertmanager,
// Grafana and templated JSON (sources.go), the operator's admin API
// (admin.go), /metrics (metrics.go); every route is listed in routes.go.
//
// Every message, whichever route it came through, is accepted by one path:
// relay/accept places its thread, fits it, commits its deliveries and wakes
// the dispatcher. The handlers here only translate their own input into an
// accept.Request and the accept path's errors into their own answers, and a
// 2xx means "queued". What a source route makes of a payload (dedup keys,
// incidents, mentions, target spaces) is planned without HTTP in
// relay/plan. Delivery to Google is the dispatcher's job (relay/dispatch).
//
// The runtime that holds the server and the dispatcher (reload, retention,
// shutdown order) is relay/app.
package relay

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Defaults of Options.
const (
	// DefaultMaxBytes is the largest message ingest accepts, as encoded
	// JSON. It is much larger than Google's 32,000 bytes: the relay fits a
	// larger message into several deliveries of one thread.
	DefaultMaxBytes = 1 << 20
	// DefaultMaxPending bounds the pending deliveries of one relay space
	// whose queue_limit is not set; beyond it ingest answers 503 with
	// Retry-After.
	DefaultMaxPending = config.DefaultQueueLimit
	// retryAfterSeconds is the Retry-After of a 503: a full queue drains at
	// about one message per second, and a store error is usually brief.
	retryAfterSeconds = "5"
)

// Notifier wakes the delivery of a lane (a Google space id) after new
// deliveries were committed; a *dispatch.Dispatcher is one.
type Notifier interface {
	Notify(lane string)
}

// Options are the server's settings beyond the configuration file.
type Options struct {
	// Listen is the address the server listens on (host:port); its host is
	// an allowed Host header for the admin API besides the loopback names.
	Listen string
	// Demo makes /readyz say "demo".
	Demo bool
	// MaxBytes caps an ingested message; zero means DefaultMaxBytes.
	MaxBytes int
	// MaxPending, when positive, bounds each relay space's pending
	// deliveries in place of its queue_limit; zero means the spaces' own
	// queue_limit, negative no bound.
	MaxPending int
	// Metrics, when not nil, is served on GET /metrics.
	Metrics *Metrics
	// Reload, when not nil, reloads the configuration for POST /-/reload:
	// nil when it was applied; an error wrapping ErrNoReload when the
	// relay cannot reload (no file, shutting down); any other error is a
	// refused configuration, the running one kept. nil Reload answers
	// POST /-/reload as ErrNoReload.
	Reload func(ctx context.Context) error
	// ConsoleBehindTLSProxy says that a TLS proxy in front of the relay
	// serves the console over HTTPS: its cookie is Secure and sign-in is
	// accepted from the proxy's address.
	ConsoleBehindTLSProxy bool
	// Stop, when not nil, is closed as the relay shuts down: the console's
	// event streams end, so that the HTTP server's shutdown need not wait
	// for them.
	Stop <-chan struct{}
}

// ErrNoReload is the error of Options.Reload when the relay cannot reload:
// it has no configuration file (the demo), or it is not running.
var ErrNoReload = errors.New("reload: the relay is not running or has no configuration file")

// Server is the relay's http.Handler. It is safe for concurrent use.
type Server struct {
	cfg      *config.Config
	store    store.Store
	notify   Notifier
	log      *slog.Logger
	opts     Options
	allowed  map[string]bool // Host header names of the admin API
	anyIP    bool            // listening on every interface: IP literals are allowed hosts too
	stopping atomic.Bool
	accept   *accept.Accepter
	// rules are the emulator's default guesses, which the relay follows
	// where it answers in Google's place (a reused messageId, a thread of
	// another space).
	rules  webhookapi.Rules
	health *storeHealth
	mux    *http.ServeMux
}

// NewServer returns the relay server for cfg, storing into st and waking n
// (nil: nobody) after each commit. A nil logger discards.
func NewServer(cfg *config.Config, st store.Store, n Notifier, logger *slog.Logger, opts Options) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	s := &Server{cfg: cfg, store: st, notify: n, log: logger, opts: opts,
		allowed: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}, rules: webhookapi.DefaultRules()}
	if host, _, err := net.SplitHostPort(opts.Listen); err == nil {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			s.anyIP = true
		} else {
			s.allowed[strings.ToLower(strings.Trim(host, "[]"))] = true
		}
	}
	s.health = &storeHealth{ping: st.Ping}
	s.accept = accept.New(notingStore{st, s.health}, s.wake, opts.MaxPending)
	s.mux = s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// StopIngest makes ingest answer 503 from now on, so that no message is
// accepted while the relay shuts down. The admin API keeps answering.
func (s *Server) StopIngest() { s.stopping.Store(true) }

// hostAllowed reports whether a Host header names this relay: a loopback
// name, the listen host, or any IP literal when listening on every
// interface. A DNS-rebinding page always sends a host name.
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	return s.allowed[host] || s.anyIP && net.ParseIP(host) != nil
}

func (s *Server) wake(lane string) {
	if s.notify != nil {
		s.notify.Notify(lane)
	}
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeText(w, "ok")
}

// handleReload answers POST /-/reload (admin token): 200 with
// {"status":"reloaded"}, 400 with the refused configuration's problems (the
// running one kept), or 503 when the relay cannot reload.
func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	err := ErrNoReload
	if s.opts.Reload != nil {
		// The reload goes on if the caller hangs up: it is half done by then.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), reloadTimeout)
		defer cancel()
		err = s.opts.Reload(ctx)
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
	case errors.Is(err, ErrNoReload):
		webhookapi.WriteError(w, nil, webhookapi.Unavailable(err.Error()))
	default:
		webhookapi.WriteError(w, nil, webhookapi.InvalidArgument(err.Error()))
	}
}

// reloadTimeout bounds the store calls of a reload through POST /-/reload.
const reloadTimeout = 30 * time.Second

// handleReady answers whether to send this relay traffic: not while it
// stops, nor while its store cannot commit (see storeHealth), which it
// answers again by itself once the store commits.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeUnready(w, "stopping")
		return
	}
	if err := s.health.check(r.Context()); err != nil {
		if !errors.Is(err, errProbing) {
			s.log.Warn("store_unready", "err", err)
		}
		writeUnready(w, "store failing")
		return
	}
	switch {
	case s.opts.Demo:
		writeText(w, "demo")
	default:
		writeText(w, "ok")
	}
}

func writeUnready(w http.ResponseWriter, why string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(why + "\n"))
}

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(s + "\n"))
}
