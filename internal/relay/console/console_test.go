package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// Secrets of the test relay: no page, JSON or log may hold them. The
// Google space id is not secret on its own but names the webhook: pages
// show it masked.
const (
	hookKey     = "KEYCANARYconsole01"
	hookToken   = "TOKENCANARYconsole01"
	googleSpace = "AAAAcanarySpace42"
	adminToken  = "admin-token-console-0123456789"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a relay (package relay's server, the console mounted as it ships)
// on a loopback listener, over a real SQLite store.
type env struct {
	t     *testing.T
	ts    *httptest.Server
	store store.Store
	cfg   *config.Config
	logs  *syncBuffer
}

func newEnv(t *testing.T, token string) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvStore(t, token, st)
}

// newEnvPostgres is newEnv on a fresh PostgreSQL schema; skipped without
// GCHAT_TEST_POSTGRES_URL.
func newEnvPostgres(t *testing.T, token string) *env {
	t.Helper()
	dbURL, _ := pgtest.FreshSchema(t, "gchat_console_")
	st, err := postgres.Open(t.Context(), dbURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvStore(t, token, st)
}

// newEnvStore is newEnv on st; change, when given, adjusts the relay's
// configuration and options before it starts.
func newEnvStore(t *testing.T, token string, st store.Store, change ...func(*config.Config, *relay.Options)) *env {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=" + hookKey + "&token=" + hookToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{AdminToken: config.Secret(token), Spaces: []*config.Space{config.NewSpace("alerts", hook)}}
	logs := &syncBuffer{}
	ts := httptest.NewUnstartedServer(nil)
	opts := relay.Options{Listen: ts.Listener.Addr().String()}
	for _, c := range change {
		c(cfg, &opts)
	}
	srv := relay.NewServer(cfg, st, nil, slog.New(slog.NewJSONHandler(logs, nil)), opts)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return &env{t: t, ts: ts, store: st, cfg: cfg, logs: logs}
}

// dead stores a dead letter whose message and error carry the webhook's
// secrets, and returns its id.
func (e *env) dead(text string) string {
	e.t.Helper()
	ctx := e.t.Context()
	msg, _ := json.Marshal(map[string]string{"text": text + " see https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=" + hookKey + "&token=" + hookToken})
	res, err := e.store.Enqueue(ctx, store.EnqueueRequest{Space: "alerts", Lane: googleSpace, DedupKey: "dk-" + text,
		Deliveries: []store.NewDelivery{{Group: "g-" + text, Message: msg}}})
	if err != nil {
		e.t.Fatal(err)
	}
	l, err := e.store.AcquireLease(ctx, store.LeaseRequest{Lane: googleSpace, Owner: "test", TTL: time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Claim(ctx, l, 10); err != nil {
		e.t.Fatal(err)
	}
	id := res.Deliveries[0].ID
	if _, err := e.store.Finish(ctx, l, id, store.Outcome{State: store.StateDead, Status: 400,
		Error: "400 from https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=" + hookKey + "&token=" + hookToken}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.ReleaseLease(ctx, l); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// client is a browser-like client: a cookie jar, and Origin and
// Sec-Fetch-Site on POSTs as a browser sends them from the console's pages.
type client struct {
	e   *env
	hc  *http.Client
	who string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string) answer {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(c.e.t.Context(), method, c.e.ts.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (c *client) get(path string) answer { return c.do("GET", path, nil, nil) }

// post posts form as the console's own page would: same origin, with the
// CSRF token of the page at from.
func (c *client) post(from, path string, form url.Values) answer {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf(from))
	}
	return c.do("POST", path, form, map[string]string{"Origin": c.e.ts.URL, "Sec-Fetch-Site": "same-origin"})
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) csrf(page string) string {
	c.e.t.Helper()
	a := c.get(page)
	m := csrfRe.FindStringSubmatch(a.body)
	if a.status != 200 || m == nil {
		c.e.t.Fatalf("GET %s: status %d, no CSRF token in:\n%s", page, a.status, a.body)
	}
	return m[1]
}

func (c *client) signIn() {
	c.e.t.Helper()
	a := c.do("POST", "/console/signin", url.Values{"token": {adminToken}, "name": {"ana"}},
		map[string]string{"Origin": c.e.ts.URL, "Sec-Fetch-Site": "same-origin"})
	if a.status != 200 {
		c.e.t.Fatalf("sign in: status %d:\n%s", a.status, a.body)
	}
}

var pages = []string{"/console/", "/console/deliveries", "/console/dead", "/console/routes", "/console/dead/confirm?action=replay"}

// TestNoSessionRefused: every page, the event stream and every action
// answer 401 without a session, and show nothing of the store.
func TestNoSessionRefused(t *testing.T) {
	e := newEnv(t, adminToken)
	id := e.dead("secret-text")
	c := e.client()
	for _, p := range append(pages, "/console/deliveries/"+id, "/console/events?page=/console/", "/console/nope") {
		a := c.get(p)
		if a.status != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: status %d, want 401", p, a.status)
		}
		if strings.Contains(a.body, "secret-text") || strings.Contains(a.body, id) {
			t.Errorf("GET %s without a session shows the store:\n%s", p, a.body)
		}
	}
	// A forged cookie is no session.
	u, _ := url.Parse(e.ts.URL + "/console/")
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "gchat_console", Value: "eyJpZCI6ImEiLCJ3aG8iOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA", Path: "/console/"}})
	if a := c.get("/console/"); a.status != http.StatusUnauthorized {
		t.Errorf("forged cookie: status %d, want 401", a.status)
	}
	for _, p := range []string{"/console/deliveries/" + id + "/replay", "/console/dead/selected", "/console/spaces/alerts/resume"} {
		a := c.do("POST", p, url.Values{"id": {id}, "action": {"replay"}}, map[string]string{"Origin": e.ts.URL, "Sec-Fetch-Site": "same-origin"})
		if a.status != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: status %d, want 401", p, a.status)
		}
	}
	if d, _ := e.store.Get(t.Context(), id); d.State != store.StateDead {
		t.Errorf("dead letter is %s after refused replays", d.State)
	}
}

// TestSignIn: a wrong token is refused; the right one gives a cookie that
// holds no token, is HttpOnly, SameSite=Strict and scoped to /console/;
// the admin API does not honour it.
func TestSignIn(t *testing.T) {
	e := newEnv(t, adminToken)
	c := e.client()
	a := c.do("POST", "/console/signin", url.Values{"token": {"wrong-token-0123456789"}}, nil)
	if a.status != http.StatusUnauthorized || a.header.Get("Set-Cookie") != "" {
		t.Errorf("wrong token: status %d, Set-Cookie %q", a.status, a.header.Get("Set-Cookie"))
	}
	a = c.do("POST", "/console/signin", url.Values{"token": {adminToken}, "name": {"ana"}}, nil)
	ck := a.header.Get("Set-Cookie")
	if a.status != 200 {
		t.Fatalf("sign in: status %d", a.status)
	}
	for _, want := range []string{"gchat_console=", "Path=/console/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(ck, adminToken) || strings.Contains(ck, "Secure") {
		t.Errorf("cookie %q holds the token, or is Secure over plain HTTP", ck)
	}
	for _, p := range pages {
		if a := c.get(p); a.status != 200 {
			t.Errorf("GET %s signed in: status %d\n%s", p, a.status, a.body)
		}
	}
	// The admin API takes the bearer token only.
	val := regexp.MustCompile(`gchat_console=([^;]+)`).FindStringSubmatch(ck)[1]
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/api/v1/dead", nil)
	req.AddCookie(&http.Cookie{Name: "gchat_console", Value: val})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin API with the console's cookie: status %d, want 401", resp.StatusCode)
	}
	if strings.Contains(e.logs.String(), adminToken) {
		t.Errorf("log holds the admin token")
	}
	// Signing out clears the cookie.
	c.post("/console/", "/console/signout", nil)
	if a := c.get("/console/"); a.status != http.StatusUnauthorized {
		t.Errorf("after sign-out: status %d, want 401", a.status)
	}
}

// TestTokenRotationSignsOut: a session signed under one admin token is not
// valid under another (a replica, or a restart, with a new token), and is
// valid on another relay with the same token.
func TestTokenRotationSignsOut(t *testing.T) {
	e := newEnv(t, adminToken)
	c := e.client()
	c.signIn()
	u, _ := url.Parse(e.ts.URL + "/console/")
	cookies := c.hc.Jar.Cookies(u)

	same := newEnv(t, adminToken)
	sc := same.client()
	su, _ := url.Parse(same.ts.URL + "/console/")
	sc.hc.Jar.SetCookies(su, cookies)
	if a := sc.get("/console/"); a.status != 200 {
		t.Errorf("another replica with the same token: status %d, want 200", a.status)
	}

	rotated := newEnv(t, "rotated-token-0123456789")
	rc := rotated.client()
	ru, _ := url.Parse(rotated.ts.URL + "/console/")
	rc.hc.Jar.SetCookies(ru, cookies)
	if a := rc.get("/console/"); a.status != http.StatusUnauthorized {
		t.Errorf("after rotating the token: status %d, want 401", a.status)
	}
}

// TestCrossSitePostRefused: a POST from another site, or without the
// session's CSRF token, changes nothing.
func TestCrossSitePostRefused(t *testing.T) {
	e := newEnv(t, adminToken)
	id := e.dead("x")
	c := e.client()
	c.signIn()
	token := c.csrf("/console/dead")
	path := "/console/deliveries/" + id + "/replay"
	for _, tt := range []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"cross-site fetch", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"same-site other origin", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
		{"foreign Origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "http://evil.example"}},
		{"null Origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "null"}},
		{"no CSRF token", url.Values{}, map[string]string{"Origin": e.ts.URL, "Sec-Fetch-Site": "same-origin"}},
		{"wrong CSRF token", url.Values{"csrf": {"AAAA"}}, map[string]string{"Origin": e.ts.URL, "Sec-Fetch-Site": "same-origin"}},
		{"sign-in from another site", url.Values{"token": {adminToken}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		p := path
		if strings.HasPrefix(tt.name, "sign-in") {
			p = "/console/signin"
		}
		if a := c.do("POST", p, tt.form, tt.hdr); a.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403\n%s", tt.name, a.status, a.body)
		}
	}
	if d, _ := e.store.Get(t.Context(), id); d.State != store.StateDead {
		t.Errorf("dead letter is %s after refused replays", d.State)
	}
	// A foreign Host (DNS rebinding) is refused even for pages.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/console/", nil)
	req.Host = "evil.example"
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: status %d, want 403", resp.StatusCode)
	}
	// And the same POST from the console's page goes through.
	if a := c.post("/console/dead", path, nil); a.status != 200 {
		t.Fatalf("same-origin replay: status %d\n%s", a.status, a.body)
	}
	if d, _ := e.store.Get(t.Context(), id); d.State != store.StateQueued {
		t.Errorf("dead letter is %s after the replay, want queued", d.State)
	}
}

// TestHeaders: every answer carries the CSP without inline script and with
// frame-ancestors 'none'.
func TestHeaders(t *testing.T) {
	e := newEnv(t, adminToken)
	c := e.client()
	for _, p := range []string{"/console/", "/console/assets/console.js"} {
		a := c.get(p)
		csp := a.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if regexp.MustCompile(`script-src[^;]*unsafe-inline`).MatchString(csp) {
			t.Errorf("GET %s: CSP allows inline script: %q", p, csp)
		}
	}
	if a := c.get("/console/"); strings.Contains(a.body, "<script>") || regexp.MustCompile(`\son[a-z]+=`).MatchString(a.body) {
		t.Errorf("sign-in page has inline script:\n%s", a.body)
	}
}

// TestNoConsoleWithoutAdminAPI: no admin token, no console.
func TestNoConsoleWithoutAdminAPI(t *testing.T) {
	e := newEnv(t, "")
	c := e.client()
	if a := c.get("/console/"); a.status != http.StatusNotFound {
		t.Errorf("GET /console/ without an admin token: status %d, want 404", a.status)
	}
	if a := c.do("POST", "/console/signin", url.Values{"token": {""}}, nil); a.status != http.StatusNotFound {
		t.Errorf("sign-in without an admin token: status %d, want 404", a.status)
	}
}

// TestSecretCanary: no page, no page's JSON, no live stream and no log
// holds the webhook's key or token, or the full Google space id.
func TestSecretCanary(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSecretCanary(t, newEnv(t, adminToken)) })
	t.Run("postgres", func(t *testing.T) { testSecretCanary(t, newEnvPostgres(t, adminToken)) })
}

func testSecretCanary(t *testing.T, e *env) {
	id := e.dead("canary")
	if err := e.store.PauseLane(t.Context(), googleSpace, store.Pause{Reason: "404 webhook https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=" + hookKey + "&token=" + hookToken}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.signIn()
	var outs []string
	for _, p := range append(pages, "/console/deliveries/"+id, "/console/deliveries?q=canary", "/console/dead/confirm?action=drop") {
		a := c.get(p)
		if a.status != 200 {
			t.Errorf("GET %s: status %d", p, a.status)
		}
		outs = append(outs, p+"\n"+a.body)
	}
	d := c.get("/console/deliveries/" + id)
	if !strings.Contains(d.body, `id="json"`) || !strings.Contains(d.body, "canary see") {
		t.Errorf("delivery page lacks its JSON or its message:\n%s", d.body)
	}
	if !strings.Contains(d.body, `id="attempt-history"`) || !strings.Contains(d.body, `<td class="num">400</td>`) {
		t.Errorf("delivery page lacks its attempt history (the attempt answered 400):\n%s", d.body)
	}
	for _, p := range []string{"/console/deliveries/" + id + "/replay", "/console/spaces/alerts/resume"} {
		outs = append(outs, c.post("/console/", p, nil).body)
	}
	outs = append(outs, e.logs.String())
	for _, out := range outs {
		for _, secret := range []string{hookKey, hookToken, googleSpace, adminToken} {
			if strings.Contains(out, secret) {
				t.Errorf("output holds %q:\n%s", secret, out)
			}
		}
	}
}

// TestActionsLogged: replay, drop, resume and a bulk action change the
// store and are logged with who did what.
func TestActionsLogged(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testActionsLogged(t, newEnv(t, adminToken)) })
	t.Run("postgres", func(t *testing.T) { testActionsLogged(t, newEnvPostgres(t, adminToken)) })
}

func testActionsLogged(t *testing.T, e *env) {
	a, b, d := e.dead("a"), e.dead("b"), e.dead("d")
	if err := e.store.PauseLane(t.Context(), googleSpace, store.Pause{Reason: "403 Forbidden"}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.signIn()
	if r := c.post("/console/", "/console/spaces/alerts/resume", nil); r.status != 200 {
		t.Fatalf("resume: %d\n%s", r.status, r.body)
	}
	lanes, _ := e.store.LaneStates(t.Context())
	if lanes[0].Pause.Reason != "" {
		t.Errorf("lane still paused: %+v", lanes[0].Pause)
	}
	if r := c.post("/console/dead", "/console/dead/selected", url.Values{"action": {"drop"}, "id": {a}}); r.status != 200 {
		t.Fatalf("drop selected: %d\n%s", r.status, r.body)
	}
	if _, err := e.store.Get(t.Context(), a); err == nil {
		t.Errorf("dropped %s is still there", a)
	}
	// All that match: the confirmation page shows the count first.
	conf := c.get("/console/dead/confirm?action=replay&space=alerts")
	if !strings.Contains(conf.body, "2 dead letter(s) match") {
		t.Errorf("confirmation lacks the count:\n%s", conf.body)
	}
	if r := c.post("/console/dead", "/console/dead/all", url.Values{"action": {"replay"}, "space": {"alerts"}, "count": {"2"}}); r.status != 200 || !strings.Contains(r.body, "Replayed 2") {
		t.Fatalf("replay all: %d\n%s", r.status, r.body)
	}
	for _, id := range []string{b, d} {
		if got, _ := e.store.Get(t.Context(), id); got.State != store.StateQueued {
			t.Errorf("%s is %s after replay all, want queued", id, got.State)
		}
	}
	logs := e.logs.String()
	for _, want := range []string{`"msg":"console_resumed","part":"console","who":"ana"`, `"msg":"console_dropped","part":"console","who":"ana"`,
		`"msg":"console_replayed","part":"console","who":"ana"`, `"delivery_id":"` + b} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestLive: the event stream says "change" once what the watched page
// shows changes in the store.
func TestLive(t *testing.T) {
	e := newEnv(t, adminToken)
	id := e.dead("live")
	c := e.client()
	c.signIn()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/console/events?page="+url.QueryEscape("/console/deliveries/"+id), nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := e.store.Replay(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var got string
	for !strings.Contains(got, "event: change") {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("read events (got %q): %v", got, err)
		}
		got += string(buf[:n])
	}
}

// TestPlainHTTPSignInOnlyFromLoopback: over plain HTTP a client that is
// not on loopback cannot sign in, unless a TLS proxy is declared.
func TestPlainHTTPSignInOnlyFromLoopback(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, proxy := range []bool{false, true} {
		cfg := &config.Config{AdminToken: adminToken}
		srv := relay.NewServer(cfg, st, nil, nil, relay.Options{Listen: "0.0.0.0:8080", ConsoleBehindTLSProxy: proxy})
		req := httptest.NewRequest("POST", "http://192.0.2.10:8080/console/signin", strings.NewReader("token="+adminToken))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "192.0.2.99:40000"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		ck := w.Header().Get("Set-Cookie")
		if !proxy && (w.Code != http.StatusForbidden || ck != "") {
			t.Errorf("plain HTTP from 192.0.2.99: status %d, cookie %q; want 403 and none", w.Code, ck)
		}
		if proxy && (w.Code != 200 || !strings.Contains(ck, "; Secure")) {
			t.Errorf("behind a TLS proxy: status %d, cookie %q; want 200 and a Secure cookie", w.Code, ck)
		}
	}
}
