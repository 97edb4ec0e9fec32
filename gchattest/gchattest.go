// Package gchattest runs a local Google Chat emulator for tests, as
// net/http/httptest runs an HTTP server: NewServer(t) starts one on loopback
// with one space and one webhook, records everything posted to it, and stops
// it when the test ends.
//
//	func TestAlert(t *testing.T) {
//		chat := gchattest.NewServer(t)
//		notifyOnCall(chat.WebhookURL, "db-1 is down") // the code under test
//		msgs := chat.WaitMessages(t, 1)
//		if !strings.Contains(msgs[0].Message.Text, "db-1") { … }
//	}
//
// The emulator answers exactly as Google's webhook endpoint does (its errors,
// threads, quotas), with the guesses where Google is undocumented set to
// their defaults. Quotas are off unless WithGoogleQuotas is given, so that
// tests are not paced; faults can be injected with SetFaults.
//
// What the emulator recorded comes back as this package's types: Message
// (the request's gchat.Message with its thread, sender, ids and check
// findings), Thread, RequestRecord and Stats; Settings holds the quotas and
// each guess about Google as a field of its own.
package gchattest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
)

// Server is a running emulator.
type Server struct {
	// URL is the emulator's base URL: its page and its API under api/v1/.
	URL string
	// Space is the id of the space created at start.
	Space string
	// WebhookURL is the URL of the space's webhook, as Google's "Copy link"
	// gives it.
	WebhookURL string

	emu  *emulator.Server
	http *httptest.Server
}

// Option changes the emulator NewServer starts.
type Option func(*emulator.Config)

// WithGoogleQuotas keeps Google's per-space quotas (1 request per second, 60
// per minute), so that a test can see its client being paced or refused
// with 429.
func WithGoogleQuotas() Option {
	return func(c *emulator.Config) { c.Settings = nil }
}

// WithSettings sets the quotas and guesses.
func WithSettings(s Settings) Option {
	return func(c *emulator.Config) {
		es := emulator.Settings(s)
		c.Settings = &es
	}
}

// WithFaults injects faults from the start.
func WithFaults(f Faults) Option {
	return func(c *emulator.Config) { c.Faults = emulator.FaultConfig{Global: emulator.Faults(f)} }
}

// NewServer starts an emulator on a loopback port with one space ("AAAAtest001",
// named "Test") and one webhook, and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	settings := emulator.DefaultSettings()
	settings.QuotaPerSecond, settings.QuotaPerMinute = 0, 0 // tests run unpaced
	cfg := emulator.Config{
		Settings: &settings,
		Spaces: []emulator.SpaceSpec{{
			ID: "AAAAtest001", DisplayName: "Test",
			Webhooks: []emulator.WebhookSpec{{ID: "w1", Name: "gchattest"}},
		}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	hs := httptest.NewUnstartedServer(nil)
	cfg.BaseURL = "http://" + hs.Listener.Addr().String()
	if err := cfg.Validate(); err != nil {
		hs.Close()
		tb.Fatalf("gchattest: %v", err)
	}
	emu := emulator.NewServer(cfg, slog.New(slog.DiscardHandler))
	hs.Config.Handler = emu
	hs.Start()
	tb.Cleanup(func() {
		emu.Close() // ends event streams and hanging requests first
		hs.Close()
	})
	sp, err := emu.Space("AAAAtest001")
	if err != nil || len(sp.Webhooks) == 0 {
		tb.Fatalf("gchattest: the start-up space is missing: %v", err)
	}
	return &Server{URL: cfg.BaseURL, Space: sp.ID, WebhookURL: sp.Webhooks[0].URL, emu: emu, http: hs}
}

// Webhook returns the space's webhook, parsed.
func (s *Server) Webhook() *gchat.Webhook {
	h, err := gchat.ParseWebhook(s.WebhookURL)
	if err != nil {
		panic("gchattest: the emulator made an invalid webhook URL: " + err.Error())
	}
	return h
}

// AddWebhook registers another webhook in the space and returns its URL.
// Two webhooks of one space share its quota, but not their thread keys.
func (s *Server) AddWebhook(tb testing.TB, name string) string {
	tb.Helper()
	h, err := s.emu.CreateWebhook(s.Space, emulator.WebhookSpec{Name: name})
	if err != nil {
		tb.Fatalf("gchattest: add webhook: %v", err)
	}
	return h.URL
}

// Messages returns the messages the space holds, oldest first.
func (s *Server) Messages() []Message {
	return messagesOf(s.emu.Messages(s.Space, emulator.MessageFilter{}))
}

// MessagesIn returns the messages of one thread (id or "spaces/S/threads/T").
func (s *Server) MessagesIn(thread string) []Message {
	return messagesOf(s.emu.Messages(s.Space, emulator.MessageFilter{Thread: thread}))
}

// Threads returns the space's threads.
func (s *Server) Threads() []Thread {
	ts, _ := s.emu.Threads(s.Space)
	return threadsOf(ts)
}

// WaitMessages waits until the space holds at least n messages and returns
// them, or fails the test after 10 seconds.
func (s *Server) WaitMessages(tb testing.TB, n int) []Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := s.emu.WaitMessages(ctx, s.Space, n)
	if err != nil {
		tb.Fatalf("gchattest: waiting for %d messages, have %d: %v", n, len(s.Messages()), err)
	}
	return messagesOf(msgs)
}

// SetFaults replaces the injected faults of every space.
func (s *Server) SetFaults(tb testing.TB, f Faults) {
	tb.Helper()
	if err := s.emu.SetFaults(emulator.FaultConfig{Global: emulator.Faults(f)}); err != nil {
		tb.Fatalf("gchattest: %v", err)
	}
}

// SetSettings replaces the quotas and guesses.
func (s *Server) SetSettings(tb testing.TB, set Settings) {
	tb.Helper()
	if err := s.emu.SetSettings(emulator.Settings(set)); err != nil {
		tb.Fatalf("gchattest: %v", err)
	}
}

// Settings returns the quotas and guesses in force.
func (s *Server) Settings() Settings { return Settings(s.emu.Settings()) }

// Requests returns the space's webhook requests with their timing and answer.
func (s *Server) Requests() []RequestRecord {
	rs, _ := s.emu.Requests(s.Space)
	return requestsOf(rs)
}

// Stats counts the answers served, by HTTP status.
func (s *Server) Stats() Stats { return Stats{ByStatus: s.emu.Stats().ByStatus} }

// Reset drops every message, request record and fault, keeping the space and
// its webhook URL.
func (s *Server) Reset() { s.emu.Reset() }
