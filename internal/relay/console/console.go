// Package console is the relay's console: pages under /console/ on the
// admin API's port that show what is stuck and why, and fix it there
// (replay or drop a delivery, resume a paused space).
//
// The console shows untrusted message content with admin power, so it is
// built defensively:
//
//   - Sign-in takes the admin token through a form; the cookie holds a
//     session signed with a key derived from the token (session.go), never
//     the token, with a bounded lifetime. Every replica derives the same key,
//     so a session works on all of them, and rotating the token signs
//     everyone out. The cookie is HttpOnly, SameSite=Strict, scoped to
//     /console/, Secure under TLS (or when the relay sits behind a TLS
//     proxy); the admin API never reads it.
//   - Sign-in over plain HTTP is refused unless the client is on loopback.
//   - Every request checks the Host header (DNS rebinding); every POST
//     checks Origin and Sec-Fetch-Site and a CSRF token bound to the session.
//   - Pages carry a Content-Security-Policy without inline script and with
//     frame-ancestors 'none'; the message HTML comes from the emulator's
//     renderer (internal/emulator/render), which escapes and sanitises.
//   - No webhook URL, key or token is rendered: Google space ids are masked
//     and key= and token= values are scrubbed from every text shown.
//   - Every replay, drop and resume is logged with who (the name given at
//     sign-in and the session) and what.
//
// Pages are rendered on the server and work without JavaScript; the script
// only adds live updates (server-sent events: the page reloads its main
// part when what it shows changed in the store) and selection helpers.
package console

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gchatkit/gchat/internal/emulator/render"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
)

//go:embed assets
var assets embed.FS

// Defaults of Config.
const (
	// DefaultSessionTTL bounds a session: a sign-in lasts this long.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultPoll is how often a live page checks the store for changes.
	DefaultPoll = time.Second
	// pageSize is how many deliveries a list page shows.
	pageSize = 50
	// bulkMax bounds what one "all matching" action touches.
	bulkMax = 10_000
)

// Config is what the console needs. The relay builds one per configuration,
// so a reload gives a new console; sessions survive it unless the admin
// token changed.
type Config struct {
	// Token is the admin token; the console is served only when it is set.
	Token config.Secret
	// Spaces and Routes are the relay's configured spaces and routes.
	Spaces []*config.Space
	Routes []*config.Route
	Store  store.Store
	// Deduplicated, when not nil, returns this replica's counts of the
	// posts of source routes it did not queue, by route and reason (as
	// gchat_relay_deduplicated_total counts them): the Routes page shows
	// them. nil: the page says they are not counted.
	Deduplicated func() map[string]map[string]int
	// Wake wakes a lane's delivery after a replay or resume; nil: nobody.
	Wake func(lane string)
	// HostAllowed reports whether a Host header names this relay.
	HostAllowed func(host string) bool
	// BehindTLSProxy says that a TLS proxy in front of the relay serves
	// the console over HTTPS: cookies are Secure and sign-in is accepted
	// from any client address (the proxy's).
	BehindTLSProxy bool
	// Stop, when not nil, is closed as the relay shuts down: event streams
	// end.
	Stop <-chan struct{}
	// Logger records sign-ins and every action; nil discards.
	Logger *slog.Logger
	// Now is the clock of sessions; nil means time.Now.
	Now func() time.Time
	// SessionTTL bounds a session; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// Poll is how often live pages check the store; zero means DefaultPoll.
	Poll time.Duration
}

// Console is the console's http.Handler, to be mounted at /console/.
type Console struct {
	cfg    Config
	key    []byte // session signing key, derived from the token
	log    *slog.Logger
	tmpl   *template.Template
	static fs.FS
	mux    *http.ServeMux
	spaces map[string]*config.Space
}

// New returns the console for cfg. cfg.Token must be set.
func New(cfg Config) *Console {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.HostAllowed == nil {
		cfg.HostAllowed = func(string) bool { return false }
	}
	static, _ := fs.Sub(assets, "assets") // the directory is embedded
	c := &Console{cfg: cfg, key: sessionKey(cfg.Token.Reveal()), log: cfg.Logger.With(slog.String("part", "console")),
		static: static, spaces: map[string]*config.Space{}}
	for _, sp := range cfg.Spaces {
		c.spaces[sp.Name] = sp
	}
	c.tmpl = template.Must(template.New("").Funcs(c.funcs()).ParseFS(static, "*.html"))
	c.mux = c.routes()
	return c
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// routes lists the console's routes; every one checks the Host header and
// sets the security headers, and all but sign-in and the assets need a
// session.
func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /console/assets/{file}", c.guard(http.HandlerFunc(c.handleAsset), false))
	mux.Handle("POST /console/signin", c.guard(http.HandlerFunc(c.handleSignIn), true))
	mux.Handle("POST /console/signout", c.guard(c.withSession(c.handleSignOut), true))

	page := func(pattern string, v viewFunc) { mux.Handle("GET "+pattern, c.guard(c.withSession(c.page(v)), false)) }
	page("/console/{$}", c.viewSpaces)
	page("/console/deliveries", c.viewDeliveries)
	page("/console/deliveries/{id}", c.viewDelivery)
	page("/console/dead", c.viewDead)
	page("/console/dead/confirm", c.viewDeadConfirm)
	page("/console/routes", c.viewRoutes)
	mux.Handle("GET /console/events", c.guard(c.withSession(c.handleEvents), false))

	post := func(pattern string, h sessionHandler) { mux.Handle("POST "+pattern, c.guard(c.withSession(h), true)) }
	post("/console/spaces/{space}/resume", c.handleSpaceResume)
	post("/console/deliveries/{id}/replay", c.handleDeliveryReplay)
	post("/console/deliveries/{id}/drop", c.handleDeliveryDrop)
	post("/console/dead/selected", c.handleDeadSelected)
	post("/console/dead/all", c.handleDeadAll)

	mux.Handle("/console/", c.guard(c.withSession(func(w http.ResponseWriter, r *http.Request, _ session) {
		c.writeError(w, r, http.StatusNotFound, "No such page.")
	}), false))
	return mux
}

// handleAsset serves the console's stylesheet and script, and the
// renderer's stylesheet for the message HTML.
func (c *Console) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	w.Header().Set("Cache-Control", "no-cache")
	if name == "render.css" {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write([]byte(render.Stylesheet()))
		return
	}
	if name != "console.css" && name != "console.js" {
		http.NotFound(w, r)
		return
	}
	http.ServeFileFS(w, r, c.static, name)
}
