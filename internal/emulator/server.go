// Package emulator is a local Google Chat for incoming webhooks: spaces and
// registered webhooks, the webhook endpoint speaking Google's dialect with its
// answers and errors, per-space quotas, fault injection, a live page and a
// JSON API for tests (docs/emulator-api.md).
//
// A webhook request goes through these steps, in this order:
//
//  1. webhookapi.Parse: key, then token (a deleted webhook, an unknown space
//     and a space without apps answer here), then the body. Google checks
//     credentials before quota [INF], and a request it cannot read is not a
//     write.
//  2. Quota of the space: token bucket and rolling minute. A request refused
//     here consumes nothing; a request let through consumes quota even if a
//     fault or a later check then fails it, as a write that reached the
//     backend would.
//  3. Faults (after authentication and quota, so a fault never hides a
//     credential error and an injected 429 looks like a real one): latency
//     first, then at most one of reset, hang, 429, 500, 503.
//  4. requestId (a repeat answers the first message), messageId (reuse is 409),
//     thread placement (REPLY_MESSAGE_OR_FAIL may 404), storage.
//  5. 200 with the body echoed plus name and thread.name (docs/google-chat.md §5, §11.8).
package emulator

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	// DefaultBaseURL is where a standalone emulator listens.
	DefaultBaseURL = "http://127.0.0.1:8687"
	// FakeKey is the emulator's shared API key. It is fake: it only looks
	// like Google's "AIzaSy…" key that every webhook URL carries (docs/google-chat.md §1.2),
	// and Google would refuse it.
	FakeKey = "AIzaSyFake-GchatEmulatorKey-NotARealKey"
	// DefaultMaxMessages is the retention per space.
	DefaultMaxMessages = 10_000
	// DefaultMaxRequests is the number of request records kept per space.
	DefaultMaxRequests = 10_000
	// DefaultHeartbeat is the interval of SSE keep-alive comments.
	DefaultHeartbeat = 15 * time.Second
)

// Config configures a Server. The zero value is a working emulator at
// DefaultBaseURL with no spaces, Google's quotas and the default guesses.
type Config struct {
	// BaseURL is the emulator's external URL, from which webhook URLs are
	// built: "http://127.0.0.1:8687", or "http://127.0.0.1:8686/emulator"
	// when mounted under a prefix. Empty means DefaultBaseURL. Its host is
	// an allowed Host header.
	BaseURL string
	// Key is the one API key all webhooks share; empty means FakeKey.
	Key string
	// AllowedHosts are further Host header names (no port) that may use the
	// page and the API, beside localhost, 127.0.0.1, ::1 and BaseURL's host.
	AllowedHosts []string
	// MaxMessages is the retention per space: beyond it the oldest message
	// goes. Zero means DefaultMaxMessages.
	MaxMessages int
	// MaxRequests is the number of request records kept per space. Zero
	// means DefaultMaxRequests.
	MaxRequests int
	// Spaces are created at start and again by Reset, with the same ids and
	// tokens (random ones are drawn once, at NewServer).
	Spaces []SpaceSpec
	// Settings are the quotas and guesses; nil means DefaultSettings().
	Settings *Settings
	// Faults are the faults at start and after Reset.
	Faults FaultConfig
	// Heartbeat is the SSE keep-alive interval; zero means DefaultHeartbeat.
	Heartbeat time.Duration

	// Version is reported by /api/v1/info; empty means the module version
	// from the build information.
	Version string

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand draws faults, a number in [0, 1); nil means math/rand/v2.Float64.
	Rand func() float64
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("emulator config: BaseURL %q: want http://host[:port][/prefix]", c.BaseURL)
		}
	}
	switch {
	case c.MaxMessages < 0:
		return fmt.Errorf("emulator config: MaxMessages %d: want 0 or more", c.MaxMessages)
	case c.MaxRequests < 0:
		return fmt.Errorf("emulator config: MaxRequests %d: want 0 or more", c.MaxRequests)
	case c.Heartbeat < 0:
		return fmt.Errorf("emulator config: Heartbeat %v: want 0 or more", c.Heartbeat)
	}
	if c.Settings != nil {
		if err := c.Settings.Validate(); err != nil {
			return fmt.Errorf("emulator config: %w", err)
		}
	}
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("emulator config: %w", err)
	}
	ids := map[string]bool{}
	for i, sp := range c.Spaces {
		if err := sp.validate(); err != nil {
			return fmt.Errorf("emulator config: Spaces[%d]: %w", i, err)
		}
		if sp.ID != "" && ids[sp.ID] {
			return fmt.Errorf("emulator config: Spaces[%d]: id %q twice", i, sp.ID)
		}
		ids[sp.ID] = true
	}
	return nil
}

// Server is the emulator: an http.Handler for the webhook endpoint, the API
// and the page, and methods for in-process use. It is safe for concurrent use.
type Server struct {
	baseURL     string
	key         string
	maxMessages int
	maxRequests int
	heartbeat   time.Duration
	now         func() time.Time
	rand        func() float64
	log         *slog.Logger
	allowed     map[string]bool
	startup     []SpaceSpec // Config.Spaces with ids and tokens filled in
	startSet    Settings
	startFaults FaultConfig
	mux         *http.ServeMux
	version     string
	staticTmpl  *template.Template

	events  *broker
	metrics *metrics
	done    chan struct{}
	close   sync.Once

	mu         sync.RWMutex // guards everything below
	spaces     map[string]*space
	spaceSeq   int
	hookSeq    int
	requestSeq int
	settings   *Settings // immutable once stored: replaced whole, read without copying
	faults     FaultConfig
	stats      map[int]int
	changed    chan struct{} // closed when messages change; nil until a waiter asks
}

// NewServer returns an emulator. It panics if cfg does not pass Validate:
// callers that take cfg from users call Validate first. A nil logger discards.
func NewServer(cfg Config, logger *slog.Logger) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		baseURL:     strings.TrimSuffix(cfg.BaseURL, "/"),
		key:         cfg.Key,
		maxMessages: cfg.MaxMessages,
		maxRequests: cfg.MaxRequests,
		heartbeat:   cfg.Heartbeat,
		now:         cfg.Now,
		rand:        cfg.Rand,
		log:         logger,
		startSet:    DefaultSettings(),
		startFaults: cfg.Faults.clone(),
		events:      newBroker(),
		version:     cfg.Version,
		done:        make(chan struct{}),
	}
	if s.baseURL == "" {
		s.baseURL = DefaultBaseURL
	}
	if s.key == "" {
		s.key = FakeKey
	}
	if s.maxMessages == 0 {
		s.maxMessages = DefaultMaxMessages
	}
	if s.maxRequests == 0 {
		s.maxRequests = DefaultMaxRequests
	}
	if s.heartbeat == 0 {
		s.heartbeat = DefaultHeartbeat
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	if cfg.Settings != nil {
		s.startSet = *cfg.Settings
		s.startSet.ThreadPrecedence = append([]string(nil), cfg.Settings.ThreadPrecedence...)
	}
	s.allowed = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	if u, err := url.Parse(s.baseURL); err == nil {
		s.allowed[strings.ToLower(u.Hostname())] = true
	}
	for _, h := range cfg.AllowedHosts {
		s.allowed[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	// Draw random ids and tokens once, so that Reset restores the same URLs.
	for _, sp := range cfg.Spaces {
		sp.Webhooks = append([]WebhookSpec(nil), sp.Webhooks...)
		s.startup = append(s.startup, sp)
	}
	s.metrics = newMetrics(s)
	s.staticTmpl = parseStatic()
	s.mux = s.routes()
	s.Reset()
	return s
}

// ServeHTTP serves the webhook endpoint, the API and the page. Mounted under
// a prefix, strip it first: http.StripPrefix("/emulator", s).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/") { // http.StripPrefix("/emulator/", …)
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = "/" + u.Path
		if u.RawPath != "" {
			u.RawPath = "/" + u.RawPath
		}
		r2.URL = &u
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// Close ends the SSE streams, hanging requests and waits. The webhook
// endpoint and the API keep working; Close is for shutdown.
func (s *Server) Close() error {
	s.close.Do(func() { close(s.done) })
	return nil
}

// Reset returns to the start-up state: the configured spaces and webhooks
// (same ids and tokens), settings and faults; no messages, threads, request
// records or counts. Subscribers get a "reset" event.
func (s *Server) Reset() {
	s.mu.Lock()
	s.spaces = map[string]*space{}
	start := s.startSet
	s.settings = &start
	s.faults = s.startFaults.clone()
	s.stats = map[int]int{}
	for i := range s.startup {
		spec := &s.startup[i]
		sp, err := s.createSpaceLocked(*spec)
		if err != nil { // Validate ran in NewServer: only a collision can fail
			s.log.Error("reset_space_failed", "space", spec.ID, "err", err)
			continue
		}
		// Pin what was drawn, so the next Reset gives the same URLs.
		spec.ID = sp.id
		for j, h := range sp.hooks {
			spec.Webhooks[j].ID, spec.Webhooks[j].Token = h.id, h.token
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.events.publish("reset", struct{}{})
}

// Settings returns the current settings.
func (s *Server) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return *s.settings
}

// SetSettings replaces the settings.
func (s *Server) SetSettings(set Settings) error {
	if err := set.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	set.ThreadPrecedence = append([]string(nil), set.ThreadPrecedence...)
	s.mu.Lock()
	s.settings = &set
	s.mu.Unlock()
	return nil
}

// Faults returns the current faults.
func (s *Server) Faults() FaultConfig {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.faults.clone()
}

// SetFaults replaces the faults, global and per space.
func (s *Server) SetFaults(fc FaultConfig) error {
	if err := fc.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	fc = fc.clone()
	s.mu.Lock()
	s.faults = fc
	s.mu.Unlock()
	return nil
}

// Stats returns the counts of webhook answers by status.
func (s *Server) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{ByStatus: make(map[int]int, len(s.stats)), Spaces: make(map[string]SpaceStats, len(s.spaces))}
	for k, v := range s.stats {
		st.ByStatus[k] = v
	}
	for id, sp := range s.spaces {
		m := make(map[int]int, len(sp.stats))
		for k, v := range sp.stats {
			m[k] = v
		}
		st.Spaces[id] = SpaceStats{ByStatus: m}
	}
	return st
}

// Requests returns the request records of a space, oldest first.
func (s *Server) Requests(space string) ([]RequestRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaceLocked(space)
	if sp == nil {
		return nil, spaceNotFound(space)
	}
	return append([]RequestRecord(nil), sp.requests...), nil
}

// notifyLocked wakes the waiters of WaitMessages. s.mu must be held.
func (s *Server) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// waitChanLocked returns a channel closed at the next change. s.mu must be
// held (for writing: it may create the channel).
func (s *Server) waitChanLocked() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// sleep waits d, or until ctx ends or the server closes; it reports whether
// the whole time passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// hostAllowed reports whether a Host header names this emulator.
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return s.allowed[strings.ToLower(strings.Trim(host, "[]"))]
}
