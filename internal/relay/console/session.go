package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// cookieName is the session cookie; its Path is /console/, so the browser
// sends it nowhere else on the relay.
const cookieName = "gchat_console"

// session is what the signed cookie holds: never the token.
type session struct {
	ID      string `json:"id"`  // random; names the session in the log
	Who     string `json:"who"` // the name given at sign-in
	Expires int64  `json:"exp"` // Unix seconds
}

// sessionKey derives the key that signs sessions from the admin token: the
// same on every replica, and a new token invalidates every session.
func sessionKey(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("gchat relay console session v1"))
	return m.Sum(nil)
}

func (c *Console) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// encode signs s into a cookie value: payload "." signature.
func (c *Console) encode(s session) string {
	data, _ := json.Marshal(s)
	p := base64.RawURLEncoding.EncodeToString(data)
	return p + "." + base64.RawURLEncoding.EncodeToString(c.mac("session", p))
}

// decode checks a cookie value's signature and lifetime.
func (c *Console) decode(v string) (session, bool) {
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, c.mac("session", p)) {
		return session{}, false
	}
	data, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return session{}, false
	}
	var s session
	if json.Unmarshal(data, &s) != nil || s.ID == "" {
		return session{}, false
	}
	if !c.cfg.Now().Before(time.Unix(s.Expires, 0)) {
		return session{}, false
	}
	return s, true
}

// csrf is the CSRF token of a session: forms carry it, POSTs must match.
func (c *Console) csrf(s session) string {
	return base64.RawURLEncoding.EncodeToString(c.mac("csrf", s.ID))
}

// secure reports whether the browser reached the console over HTTPS.
func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.cfg.BehindTLSProxy }

// guard checks the Host header and sets the security headers of every
// answer; for a state-changing request it also checks where the request
// comes from (Origin, Sec-Fetch-Site). The CSRF token is checked by
// withSession, once the session is known.
func (c *Console) guard(h http.Handler, post bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "+
			"img-src 'self' https: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin") // no-referrer would make the browser send Origin: null on our own POSTs
		hd.Set("Cache-Control", "no-store")
		if !c.cfg.HostAllowed(r.Host) {
			c.writePlain(w, http.StatusForbidden, "Host "+r.Host+" is not allowed")
			return
		}
		if post {
			// A selection of bulkMax ids fits with room to spare.
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		if post && !c.sameOrigin(r) {
			c.log.Warn("console_cross_site_refused", slog.String("path", r.URL.Path),
				slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
			c.writePlain(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether a state-changing request comes from the
// console's own pages: Sec-Fetch-Site, when the browser sends it, must be
// same-origin; Origin, when sent, must be this host. A request with
// neither (not a browser) still needs the CSRF token, which only the
// console's pages hold.
func (c *Console) sameOrigin(r *http.Request) bool {
	if v := r.Header.Get("Sec-Fetch-Site"); v != "" && v != "same-origin" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || o == "null" {
		return false
	}
	scheme := "http"
	if c.secure(r) {
		scheme = "https"
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, s session)

// withSession passes the request on only with a valid session, and for a
// POST with its CSRF token; otherwise it answers 401 with the sign-in page.
func (c *Console) withSession(h sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s session
		ok := false
		if ck, err := r.Cookie(cookieName); err == nil {
			s, ok = c.decode(ck.Value)
		}
		if !ok {
			if r.URL.Path == "/console/events" {
				c.writePlain(w, http.StatusUnauthorized, "sign in first")
				return
			}
			c.renderSignIn(w, r, http.StatusUnauthorized, "")
			return
		}
		if r.Method == http.MethodPost {
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(c.csrf(s))) {
				c.log.Warn("console_csrf_refused", slog.String("path", r.URL.Path), slog.String("session", s.ID))
				c.writePlain(w, http.StatusForbidden, "missing or wrong CSRF token: reload the page")
				return
			}
		}
		h(w, r, s)
	})
}

// loopback reports whether the client's address is a loopback one.
func loopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handleSignIn: POST /console/signin with token= and an optional name=.
func (c *Console) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if !c.secure(r) && !loopback(r) {
		c.renderSignIn(w, r, http.StatusForbidden, "Sign-in over plain HTTP is allowed only from loopback: serve the relay with TLS, or behind a TLS proxy.")
		return
	}
	if !c.cfg.Token.Equal(r.PostFormValue("token")) {
		c.log.Warn("console_signin_refused", slog.String("remote", r.RemoteAddr))
		c.renderSignIn(w, r, http.StatusUnauthorized, "Wrong admin token.")
		return
	}
	s := session{ID: randomID(), Who: cleanName(r.PostFormValue("name")), Expires: c.cfg.Now().Add(c.cfg.SessionTTL).Unix()}
	c.setCookie(w, r, c.encode(s), c.cfg.SessionTTL)
	c.log.Info("console_signed_in", slog.String("who", s.Who), slog.String("session", s.ID), slog.String("remote", r.RemoteAddr))
	c.renderResult(w, r, s, "Signed in as "+s.Who+".", "/console/")
}

// handleSignOut: POST /console/signout.
func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request, s session) {
	c.setCookie(w, r, "", -1)
	c.log.Info("console_signed_out", slog.String("who", s.Who), slog.String("session", s.ID))
	c.renderSignIn(w, r, http.StatusOK, "Signed out.")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, v string, ttl time.Duration) {
	ck := &http.Cookie{Name: cookieName, Value: v, Path: "/console/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.secure(r)}
	if ttl < 0 {
		ck.MaxAge = -1
	} else {
		ck.MaxAge = int(ttl / time.Second)
	}
	http.SetCookie(w, ck)
}

func randomID() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b)
}

// cleanName is the name given at sign-in as the log shows it: printable,
// at most 64 characters, "admin" when empty.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	if s == "" {
		return "admin"
	}
	return s
}
