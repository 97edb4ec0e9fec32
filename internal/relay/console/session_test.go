package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store/sqlite"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// TestSessionExpires: a session is valid for SessionTTL from sign-in, then
// refused, whatever the cookie's Max-Age made the browser keep.
func TestSessionExpires(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := storetest.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	c := New(Config{Token: "admin-token-0123456789", Store: st, Now: clock.Now, SessionTTL: time.Hour,
		HostAllowed: func(h string) bool { return h == "127.0.0.1" }})
	req := httptest.NewRequest("POST", "http://127.0.0.1/console/signin", strings.NewReader(url.Values{"token": {"admin-token-0123456789"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:5000"
	w := httptest.NewRecorder()
	c.ServeHTTP(w, req)
	cookies := w.Result().Cookies()
	if w.Code != 200 || len(cookies) != 1 {
		t.Fatalf("sign in: status %d, cookies %v", w.Code, cookies)
	}
	get := func() int {
		req := httptest.NewRequest("GET", "http://127.0.0.1/console/", nil)
		req.AddCookie(cookies[0])
		w := httptest.NewRecorder()
		c.ServeHTTP(w, req)
		return w.Code
	}
	clock.Advance(59 * time.Minute)
	if got := get(); got != http.StatusOK {
		t.Errorf("59 minutes in: status %d, want 200", got)
	}
	clock.Advance(time.Minute)
	if got := get(); got != http.StatusUnauthorized {
		t.Errorf("after the session's lifetime: status %d, want 401", got)
	}
}
