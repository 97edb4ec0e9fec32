// Package httpserve serves gchat's HTTP listeners (the relay and the
// emulator) so that a slow or hostile client costs little: a whole request
// body must arrive within a deadline of its own that trickling cannot extend,
// answers are bounded in time, idle connections are closed, connections past
// a cap get a clear 503 and are closed, event streams and long polls are
// counted and bounded on their own, and no answer is a redirect that echoes
// the query (where webhook credentials travel).
//
// Body memory is the handlers' part: they read through http.MaxBytesReader
// and grow buffers with what arrived, never with what Content-Length claims.
package httpserve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Defaults of Limits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	// DefaultMaxConns leaves room for load tests at 64 connections and
	// Alertmanager clusters many times over.
	DefaultMaxConns          = 1024
	DefaultMaxStreams        = 64
	DefaultMaxStreamDuration = 30 * time.Minute
	DefaultShutdownTimeout   = 10 * time.Second
)

// Limits bound what one client can hold. Zero fields take the defaults;
// Validate refuses negative ones.
type Limits struct {
	// ReadHeaderTimeout bounds the request line and headers, from their
	// first byte. Default 10s.
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds the whole request body, from the end of the
	// headers: a client that trickles it gets no more time. Default 30s.
	BodyTimeout time.Duration
	// WriteTimeout bounds the answer, from the end of the request's headers
	// to its last byte; streams are exempt (see Stream). Default 60s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no new request
	// in time. Default 60s.
	IdleTimeout time.Duration
	// MaxConns caps open connections; the next one is answered 503 with
	// Retry-After and closed. Default 1,024.
	MaxConns int
	// MaxStreams caps concurrent event streams and long polls; the next is
	// answered 503. Default 64.
	MaxStreams int
	// MaxStreamDuration ends a stream or long poll (an EventSource
	// reconnects by itself). Default 30m.
	MaxStreamDuration time.Duration
}

// WithDefaults returns l with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.BodyTimeout, DefaultBodyTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	def(&l.MaxStreamDuration, DefaultMaxStreamDuration)
	if l.MaxConns == 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxStreams == 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	return l
}

// Validate reports the first negative field by its name in the relay's
// configuration file (server.body_timeout).
func (l Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"read_header_timeout", int64(l.ReadHeaderTimeout)},
		{"body_timeout", int64(l.BodyTimeout)},
		{"write_timeout", int64(l.WriteTimeout)},
		{"idle_timeout", int64(l.IdleTimeout)},
		{"max_connections", int64(l.MaxConns)},
		{"max_streams", int64(l.MaxStreams)},
		{"max_stream_duration", int64(l.MaxStreamDuration)},
	} {
		if f.v < 0 {
			return fmt.Errorf("server.%s: negative", f.name)
		}
	}
	return nil
}

// Options configure Serve beyond the limits.
type Options struct {
	Limits
	// TLS, when not nil, serves HTTPS on the listener. Serve wraps the
	// listener itself, below TLS, so that the connection cap counts (and
	// answers) connections before their handshake.
	TLS *tls.Config
	// Logger receives net/http's own errors at warn and the shutdown; nil
	// discards.
	Logger *slog.Logger
	// BeforeShutdown runs once ctx ends, before the server stops accepting:
	// it ends long-lived requests (event streams, hanging faults) and may
	// drain work that still needs the listener.
	BeforeShutdown func()
	// ShutdownTimeout bounds the wait for open requests after
	// BeforeShutdown. Default 10s: net/http waits up to 5s for a
	// connection that was opened but never sent a request.
	ShutdownTimeout time.Duration
}

// Serve serves h on ln (a plain TCP listener: see Options.TLS) until ctx
// ends, then runs BeforeShutdown and shuts down within ShutdownTimeout. It
// returns nil after a clean shutdown. It closes ln before it returns.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, opts Options) error {
	defer ln.Close()
	if err := opts.Limits.Validate(); err != nil {
		return err
	}
	lim := opts.Limits.WithDefaults()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	cl := newConnLimiter(ln, lim.MaxConns, opts.TLS)
	var serveLn net.Listener = cl
	if opts.TLS != nil {
		serveLn = tls.NewListener(cl, opts.TLS)
	}
	srv := &http.Server{
		Handler:           Handler(h, lim),
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		// No ReadTimeout: Handler sets the body's deadline, from the end
		// of the headers, where a route may change it.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveLn) }()
	select {
	case err := <-done:
		cl.wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting_down")
	if opts.BeforeShutdown != nil {
		opts.BeforeShutdown()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("shutdown: %w", err)
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve: %w", serr))
	}
	cl.wait()
	return err
}

// limitsKey keys the *state of the serving Handler in a request's context.
type limitsKey struct{}

// state is what Stream and ExtendWrite need from the serving Handler.
type state struct {
	lim     Limits
	streams atomic.Int64
}

func fromContext(ctx context.Context) *state {
	st, _ := ctx.Value(limitsKey{}).(*state)
	return st
}
