// Package config loads and checks the relay's configuration file.
//
// Load is a pure function of the file's bytes, an environment lookup and a
// file reader, so the relay can call it again on SIGHUP and tests need no
// files or environment. It reports every problem at once, each with its
// line, column and field, and never quotes a secret.
package config

import (
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/httpserve"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
)

// Defaults of settings the file leaves out.
const (
	DefaultListen = "127.0.0.1:8686"
	DefaultStore  = "sqlite:gchat.db"
	// DefaultMaxAge is the dispatcher's, which applies it.
	DefaultMaxAge = dispatch.DefaultMaxAge
	// DefaultQueueLimit bounds a space's pending deliveries; beyond it
	// ingest answers 503 with Retry-After.
	DefaultQueueLimit = 10_000
	DefaultDelivered  = 7 * 24 * time.Hour
	DefaultDead       = 30 * 24 * time.Hour
	// DefaultPace is gchat.DefaultPace: just over Google's one request per
	// second per space, burst 1.
	DefaultPace = gchat.DefaultPace

	// GoogleHost is the host webhooks may always post to; others must be
	// listed in allowed_hosts.
	GoogleHost = "chat.googleapis.com"

	// MinTokenLen is the least length of ingest and admin tokens.
	MinTokenLen = 16
)

// Config is the relay's configuration. Load fills it from a file with the
// defaults applied; code that changes it (flag overrides) calls Validate again.
type Config struct {
	// Listen is the host:port of the relay's HTTP server. Default DefaultListen.
	Listen string
	// Store names the queue's database: "sqlite:PATH" (a bare PATH is
	// accepted too) for one relay, or a "postgres://…" URL (also
	// "postgresql://") that several replicas share. Default DefaultStore.
	// It may hold a password: it is printed and logged only redacted.
	Store string
	// AdminToken protects the admin API; empty means none was configured.
	AdminToken Secret
	// IngestKey is the key= callers must send; empty accepts any key, and
	// the space's ingest token is the credential.
	IngestKey Secret
	// AllowedHosts are hosts (host or host:port) the relay may post to
	// besides GoogleHost, such as an emulator or a proxy.
	AllowedHosts []string
	// Spaces in file order; names are unique.
	Spaces []*Space
	// Retention says how long finished deliveries are kept.
	Retention Retention
	// Timing holds the dispatcher's timing; zero fields take its defaults.
	Timing Timing
	// Operator names the space that receives operator notices; empty for none.
	Operator string
	// Routes take payloads of monitoring systems and other senders, in
	// file order; names are unique.
	Routes []*Route
	// Server bounds what HTTP clients can hold (timeouts, connections,
	// streams); zero fields take httpserve's defaults. A reload keeps the
	// values the relay started with.
	Server httpserve.Limits
	// TLS is the certificate the relay serves HTTPS with, from
	// tls_cert_file and tls_key_file; nil serves plain HTTP.
	TLS *tls.Certificate
	// Log is how the relay logs; the --log-format and --log-level flags
	// override it.
	Log Log

	file     string
	pos      map[string]position // field → where its value was written
	loaded   struct{ listen, store string }
	adminKey string // "admin_token" or "admin_token_file"
	secrets  []SecretFile
}

// Space is one destination: a name callers use in ingest URLs
// (/v1/spaces/{name}/messages) and the Google webhook it delivers to.
type Space struct {
	// Name matches [a-z0-9][a-z0-9_-]*, at most 64 characters.
	Name string
	// Webhook is the Google webhook; it masks itself when printed.
	Webhook *gchat.Webhook
	// IngestToken is what callers send as token=; empty means the space
	// accepts any token, allowed only on a loopback listener.
	IngestToken Secret
	// Pace is the least interval between two requests to the Google space,
	// burst 1. Default DefaultPace.
	Pace time.Duration
	// ReplyFallback applies REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD when a
	// caller sets a thread but no reply option. Default false: Google's
	// semantics, a new thread.
	ReplyFallback bool
	// OnFailure says what to do with a message Google refuses for good or
	// that grew too old. Default OnFailureRetry.
	OnFailure OnFailure
	// MaxAge is how long a message may wait before it counts as failed.
	// Default DefaultMaxAge.
	MaxAge time.Duration
	// Coalesce merges a thread's queued messages into one request when a
	// backlog builds. Default true.
	Coalesce bool
	// QueueLimit bounds the space's pending deliveries: ingest answers 503
	// beyond it. Default DefaultQueueLimit; zero means no bound (code only).
	QueueLimit int
	// Line is where the space is named in the file; 0 for code.
	Line int

	tokenKey string // "ingest_token" or "ingest_token_file"
	hookKey  string // "webhook_url" or "webhook_url_file"
}

// NewSpace returns a space with the defaults applied, for configurations
// built in code (the demo, tests).
func NewSpace(name string, hook *gchat.Webhook) *Space {
	return &Space{Name: name, Webhook: hook, Pace: DefaultPace, OnFailure: OnFailureRetry, MaxAge: DefaultMaxAge, Coalesce: true, QueueLimit: DefaultQueueLimit}
}

// Retention says how long finished deliveries are kept in the store.
type Timing struct {
	RequestTimeout time.Duration // one attempt; default 30s
	Lease          time.Duration // a replica's hold on a space; default twice RequestTimeout
	BackoffBase    time.Duration // first retry wait ceiling; default 1s
	BackoffCap     time.Duration // largest retry wait; default 5m
}

// Log is how the relay logs.
type Log struct {
	// Format is LogText (the default when empty) or LogJSON.
	Format string
	// Level is the least level logged: debug, info (the default when
	// empty), warn or error.
	Level string
}

// Log formats.
const (
	LogText = "text"
	LogJSON = "json"
)

var (
	logFormats = []string{LogText, LogJSON}
	logLevels  = []string{"debug", "info", "warn", "error"}
)

// SlogLevel is the level Level names; info when it is empty.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Validate checks the format and the level, each when set; the error names
// the bad field ("format: …", "level: …").
func (l Log) Validate() error {
	if l.Format != "" && !slices.Contains(logFormats, l.Format) {
		return fmt.Errorf("format %q: want one of %s%s", l.Format, strings.Join(logFormats, ", "), suggest(l.Format, logFormats))
	}
	if l.Level != "" && !slices.Contains(logLevels, l.Level) {
		return fmt.Errorf("level %q: want one of %s%s", l.Level, strings.Join(logLevels, ", "), suggest(l.Level, logLevels))
	}
	return nil
}

// Retention says how long finished deliveries are kept.
type Retention struct {
	Delivered time.Duration // default DefaultDelivered
	Dead      time.Duration // dead letters; default DefaultDead
}

// OnFailure is what the relay does with a message that cannot be delivered:
// the dispatcher's type, which applies it (retry, dead_letter, drop).
type OnFailure = dispatch.OnFailure

// The on_failure values.
const (
	OnFailureRetry      = dispatch.OnFailureRetry
	OnFailureDeadLetter = dispatch.OnFailureDeadLetter
	OnFailureDrop       = dispatch.OnFailureDrop
)

var onFailureNames = []string{string(OnFailureRetry), string(OnFailureDeadLetter), string(OnFailureDrop)}

// Secret is a credential read from the configuration. It prints, logs and
// encodes as "REDACTED" (or "" when empty); Reveal gives the value.
type Secret string

// Reveal returns the secret itself. Use it only to compare or send it.
func (s Secret) Reveal() string { return string(s) }

// Equal compares in constant time.
func (s Secret) Equal(t string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(t)) == 1 }

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}

// Format masks the secret for every verb.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// LogValue masks the secret in log records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText masks the secret in JSON, YAML and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Space returns the space with the given name, or nil.
func (c *Config) Space(name string) *Space {
	for _, s := range c.Spaces {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// AllowsHost reports whether the relay may post to host (a host or
// host:port, as in a URL).
func (c *Config) AllowsHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if strings.EqualFold(name, GoogleHost) {
		return true
	}
	for _, a := range c.AllowedHosts {
		if strings.EqualFold(a, host) || strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// SQLitePath returns the database path of a "sqlite:PATH" (or bare PATH)
// store, and false for other backends.
func (c *Config) SQLitePath() (string, bool) {
	kind, rest := storeKind(c.Store)
	return rest, kind == "sqlite"
}

// PostgresURL returns the URL of a "postgres://…" store, and false for
// other backends.
func (c *Config) PostgresURL() (string, bool) {
	kind, rest := storeKind(c.Store)
	return rest, kind == "postgres"
}

// storeKind splits a store setting into its backend and the rest.
func storeKind(s string) (kind, rest string) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		return "sqlite", strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "//")
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return "postgres", s
	case strings.Contains(s, "://"):
		scheme, _, _ := strings.Cut(s, "://")
		return scheme, s
	}
	return "sqlite", s
}

// position is where a value was written in the file.
type position struct{ line, col int }

// Validate checks the configuration as it stands (after flag overrides, say)
// and returns a *Problems naming every bad field, or nil. Fields still
// holding the value read from the file are reported at their line.
func (c *Config) Validate() error { return c.validate(nil) }

// validate checks c; skip reports fields whose value Load already found
// bad, so that one mistake is not reported twice.
func (c *Config) validate(skip func(field string) bool) error {
	ps := &Problems{}
	add := func(field, format string, args ...any) {
		if skip != nil && skip(field) {
			return
		}
		p := Problem{File: c.file, Field: field, Message: fmt.Sprintf(format, args...)}
		if at, ok := c.at(field); ok {
			p.Line, p.Column = at.line, at.col
		}
		ps.List = append(ps.List, p)
	}

	listenLoopback := true
	if host, port, err := net.SplitHostPort(c.Listen); err != nil || !validPort(port) {
		add("listen", "%q is not host:port (want e.g. %s, or :8686 for every interface)", c.Listen, DefaultListen)
	} else {
		listenLoopback = isLoopback(host)
	}

	switch kind, rest := storeKind(c.Store); {
	case c.Store == "" || kind == "sqlite" && rest == "":
		add("store", "no path (want sqlite:PATH, e.g. %s)", DefaultStore)
	case kind == "postgres":
		// Not quoted: the URL may hold a password.
		if _, err := url.Parse(rest); err != nil {
			add("store", "not a valid URL (want postgres://USER@HOST:5432/DATABASE?sslmode=…)")
		}
	case kind != "sqlite":
		add("store", "unknown store %q (want sqlite:PATH or postgres://…)", kind+"://…")
	}

	if c.AdminToken != "" {
		if msg := tokenProblem(c.AdminToken.Reveal(), false); msg != "" {
			add(c.adminField(), "%s, since it guards the admin API (replay, delete, pause)", msg)
		}
	}
	if c.IngestKey != "" && !urlSafe(c.IngestKey.Reveal()) {
		add("ingest_key", "contains characters that need escaping in a URL query (allowed: A-Z a-z 0-9 - . _ ~)")
	}

	for i, h := range c.AllowedHosts {
		field := fmt.Sprintf("allowed_hosts[%d]", i)
		if msg := hostProblem(h); msg != "" {
			add(field, "%q %s", h, msg)
		}
	}

	if len(c.Spaces) == 0 {
		add("spaces", "no spaces configured")
	}
	seen := map[string]*Space{}
	tokens := map[string]*Space{}
	var open []string // spaces without an ingest token
	for _, s := range c.Spaces {
		f := spaceField(s.Name)
		if !validName(s.Name) {
			add(f, "space name %q must match [a-z0-9][a-z0-9_-]* and be at most 64 characters: it appears in ingest URLs /v1/spaces/{name}/messages", s.Name)
		} else if seen[s.Name] != nil {
			add(f, "space %q is defined twice", s.Name)
		}
		seen[s.Name] = s

		if s.Webhook == nil {
			if skip == nil || !skip(f+".webhook_url") && !skip(f+".webhook_url_file") {
				add(f, "webhook_url or webhook_url_file is required")
			}
		} else if msg := c.hostAllowed(s.Webhook); msg != "" {
			add(f+"."+orDefault(s.hookKey, "webhook_url"), "%s", msg)
		}

		tf := f + "." + orDefault(s.tokenKey, "ingest_token")
		switch tok := s.IngestToken.Reveal(); {
		case tok == "":
			if skip == nil || !skip(f+".ingest_token") && !skip(f+".ingest_token_file") {
				open = append(open, s.Name)
			}
		case tokenProblem(tok, true) != "":
			add(tf, "%s, since it is the credential that lets a caller post into the space", tokenProblem(tok, true))
		case tokens[tok] != nil:
			add(tf, "the same token as space %q: give each space its own, so that one leaked token opens one space", tokens[tok].Name)
		case c.AdminToken != "" && c.AdminToken.Equal(tok):
			add(tf, "the same token as admin_token: an ingest token travels in URLs and must not open the admin API")
		default:
			tokens[tok] = s
		}

		if s.Pace <= 0 {
			add(f+".pace", "%s: want a positive interval (default %s)", FormatDuration(s.Pace), FormatDuration(DefaultPace))
		}
		if s.MaxAge <= 0 {
			add(f+".max_age", "%s: want a positive duration (default %s)", FormatDuration(s.MaxAge), FormatDuration(DefaultMaxAge))
		}
		if !slices.Contains(onFailureNames, string(s.OnFailure)) {
			add(f+".on_failure", "%q is not one of %s%s", s.OnFailure, strings.Join(onFailureNames, ", "), suggest(string(s.OnFailure), onFailureNames))
		}
	}
	if !listenLoopback && len(open) > 0 {
		quoted := make([]string, len(open))
		for i, n := range open {
			quoted[i] = strconv.Quote(n)
		}
		what := "space " + quoted[0] + " has"
		if len(open) > 1 {
			what = "spaces " + strings.Join(quoted, ", ") + " have"
		}
		add("listen", "refusing to listen on %s without ingest credentials: %s no ingest_token", c.Listen, what)
	}

	if c.Retention.Delivered <= 0 {
		add("retention.delivered", "%s: want a positive duration (default %s)", FormatDuration(c.Retention.Delivered), FormatDuration(DefaultDelivered))
	}
	if c.Retention.Dead <= 0 {
		add("retention.dead", "%s: want a positive duration (default %s)", FormatDuration(c.Retention.Dead), FormatDuration(DefaultDead))
	}
	if c.Log.Format != "" && !slices.Contains(logFormats, c.Log.Format) {
		add("log.format", "%q is not one of %s%s", c.Log.Format, strings.Join(logFormats, ", "), suggest(c.Log.Format, logFormats))
	}
	if c.Log.Level != "" && !slices.Contains(logLevels, c.Log.Level) {
		add("log.level", "%q is not one of %s%s", c.Log.Level, strings.Join(logLevels, ", "), suggest(c.Log.Level, logLevels))
	}
	c.validateRoutes(add, listenLoopback)
	if c.Operator != "" && c.Space(c.Operator) == nil {
		names := make([]string, len(c.Spaces))
		for i, s := range c.Spaces {
			names[i] = s.Name
		}
		add("operator", "%q is not a configured space%s", c.Operator, suggest(c.Operator, names))
	}
	return ps.err()
}

// at returns where field was written, if it still holds the file's value.
func (c *Config) at(field string) (position, bool) {
	switch {
	case field == "listen" && c.Listen != c.loaded.listen,
		field == "store" && c.Store != c.loaded.store:
		return position{}, false
	}
	p, ok := c.pos[field]
	return p, ok
}

func (c *Config) adminField() string { return orDefault(c.adminKey, "admin_token") }

// hostAllowed says what is wrong with the webhook's host, or "".
func (c *Config) hostAllowed(w *gchat.Webhook) string {
	u, err := url.Parse(w.Reveal())
	if err != nil { // ParseWebhook accepted it, so this does not happen
		return "invalid webhook URL"
	}
	if !c.AllowsHost(u.Host) {
		return fmt.Sprintf("host %q is neither %s nor listed in allowed_hosts", u.Host, GoogleHost)
	}
	if strings.EqualFold(u.Hostname(), GoogleHost) && u.Scheme != "https" {
		return fmt.Sprintf("%s must be reached over https, not %s", GoogleHost, u.Scheme)
	}
	return ""
}

// tokenProblem says what is wrong with a token, or "". Ingest tokens travel
// in URL queries, so they must not need escaping.
func tokenProblem(tok string, inURL bool) string {
	switch {
	case utf8.RuneCountInString(tok) < MinTokenLen:
		return fmt.Sprintf("too short: want at least %d characters (e.g. openssl rand -hex 16)", MinTokenLen)
	case inURL && !urlSafe(tok):
		return "contains characters that need escaping in a URL query (allowed: A-Z a-z 0-9 - . _ ~)"
	case strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "contains spaces or control characters"
	}
	return ""
}

func urlSafe(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// hostProblem says what is wrong with an allowed_hosts entry, or "".
func hostProblem(h string) string {
	switch {
	case h == "":
		return "is empty: want a host name such as chat.example.com"
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/?#@"):
		return "is not a host: want a host name such as chat.example.com, not a URL"
	case strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "contains spaces or control characters"
	}
	if host, port, err := net.SplitHostPort(h); err == nil && (host == "" || !validPort(port)) {
		return "is not host or host:port"
	}
	return ""
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535 && p == strconv.Itoa(n)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || i > 0 && (c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

// spaceField is the field path of a space, quoting names that need it.
func spaceField(name string) string {
	if validName(name) {
		return "spaces." + name
	}
	return "spaces." + strconv.Quote(name)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// FormatDuration prints two days or more in whole days as "7d", the rest as Go
// does without zero units: "1.05s", "24h", "1h30m".
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= 2*day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// redactStore masks the password of a database URL, in its user
// information and in the password and sslpassword parameters that pgx also
// reads.
func redactStore(s string) string {
	if kind, _ := storeKind(s); kind == "sqlite" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable store URL)"
	}
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// RedactedStore is Store with its password masked, for output.
func (c *Config) RedactedStore() string { return redactStore(c.Store) }

// String is a one-line summary with every secret masked.
func (c *Config) String() string {
	names := make([]string, len(c.Spaces))
	for i, s := range c.Spaces {
		names[i] = s.Name
	}
	return fmt.Sprintf("listen=%s store=%s spaces=[%s] admin_token=%s", c.Listen, redactStore(c.Store), strings.Join(names, " "), setOrNot(c.AdminToken))
}

// Format prints String for every verb, so that no formatting of a Config or
// a pointer to one shows a secret.
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// LogValue logs the configuration with secrets masked.
func (c *Config) LogValue() slog.Value {
	names := make([]string, len(c.Spaces))
	for i, s := range c.Spaces {
		names[i] = s.Name
	}
	return slog.GroupValue(
		slog.String("listen", c.Listen),
		slog.String("store", redactStore(c.Store)),
		slog.Any("spaces", names),
		slog.Bool("admin_token", c.AdminToken != ""),
		slog.Bool("ingest_key", c.IngestKey != ""),
		slog.Any("allowed_hosts", c.AllowedHosts),
	)
}

// Summary describes the configuration in a few lines for the relay's
// start-up output, secrets masked.
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen %s, store %s\n", c.Listen, redactStore(c.Store))
	key := "any accepted"
	if c.IngestKey != "" {
		key = "required"
	}
	fmt.Fprintf(&b, "admin API token: %s; ingest key: %s\n", setOrNot(c.AdminToken), key)
	hosts := append([]string{GoogleHost}, c.AllowedHosts...)
	fmt.Fprintf(&b, "posts to: %s\n", strings.Join(hosts, ", "))
	fmt.Fprintf(&b, "retention: delivered %s, dead letters %s\n", FormatDuration(c.Retention.Delivered), FormatDuration(c.Retention.Dead))
	if c.Operator != "" {
		fmt.Fprintf(&b, "operator notices: space %s\n", c.Operator)
	}
	fmt.Fprintf(&b, "spaces (%d):\n", len(c.Spaces))
	for _, s := range c.Spaces {
		fmt.Fprintf(&b, "  %s → %v; token %s, pace %s, on_failure %s, max_age %s, coalesce %t, reply_fallback %t\n",
			s.Name, s.Webhook, setOrNot(s.IngestToken), FormatDuration(s.Pace), s.OnFailure, FormatDuration(s.MaxAge), s.Coalesce, s.ReplyFallback)
	}
	if len(c.Routes) > 0 {
		fmt.Fprintf(&b, "routes (%d):\n", len(c.Routes))
		for _, r := range c.Routes {
			fmt.Fprintf(&b, "  %s: POST /v1/%s/%s → %s", r.Name, r.Source.Path(), r.Name, r.targetSummary())
			if r.Source.Alerting() {
				fmt.Fprintf(&b, "; thread %s", r.Thread)
			}
			fmt.Fprintf(&b, "; %s%s; credentials %s\n", r.dedupSummary(), r.escalateSummary(), r.authSummary())
		}
	}
	return b.String()
}

// Format masks the space's secrets for every verb.
func (s Space) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "%s → %v (token %s)", s.Name, s.Webhook, setOrNot(s.IngestToken))
}

func setOrNot(s Secret) string {
	if s == "" {
		return "not set"
	}
	return "set"
}
