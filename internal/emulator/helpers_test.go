package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// clock is a manual clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// noQuota returns the default settings with both quotas off.
func noQuota() emulator.Settings {
	set := emulator.DefaultSettings()
	set.QuotaPerSecond, set.QuotaPerMinute = 0, 0
	return set
}

// env is a server with one threaded space and two webhooks.
type env struct {
	t      testing.TB
	s      *emulator.Server
	clock  *clock
	space  emulator.Space
	h1, h2 emulator.Webhook
}

func newEnv(t testing.TB, set emulator.Settings) *env {
	t.Helper()
	c := newClock()
	s := emulator.NewServer(emulator.Config{Settings: &set, Now: c.Now}, nil)
	t.Cleanup(func() { s.Close() })
	sp, err := s.CreateSpace(emulator.SpaceSpec{ID: "AAAAspace01", DisplayName: "Alerts"})
	if err != nil {
		t.Fatal(err)
	}
	h1, err := s.CreateWebhook(sp.ID, emulator.WebhookSpec{Name: "Alertmanager", AvatarURL: "https://example.com/a.png"})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := s.CreateWebhook(sp.ID, emulator.WebhookSpec{Name: "Grafana"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, clock: c, space: sp, h1: h1, h2: h2}
}

// answer is a decoded webhook answer.
type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// str returns the string at a dotted path of the answer body, or "".
func (a answer) str(path string) string {
	var v any = a.Body
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// errStatus is the error envelope's status, or "".
func (a answer) errStatus() string { return a.str("error.status") }

// post sends body to a webhook URL with extra query parameters, in memory.
func (e *env) post(url, query, body string) answer {
	e.t.Helper()
	return serve(e.t, e.s, http.MethodPost, url+query, "application/json; charset=UTF-8", body)
}

// do runs one request through ServeHTTP with a recorder.
func serve(t testing.TB, h http.Handler, method, url, contentType, body string) answer {
	t.Helper()
	r := httptest.NewRequest(method, url, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answer{Status: w.Code, Header: w.Header(), Raw: w.Body.String()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &a.Body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, url, err, w.Body)
		}
	}
	return a
}

// api calls the test API at the emulator's base URL, in memory.
func api(t testing.TB, s http.Handler, method, path string, body any) answer {
	t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	ct := ""
	if method != http.MethodGet {
		ct = "application/json"
	}
	return serve(t, s, method, emulator.DefaultBaseURL+path, ct, string(data))
}

// decodeInto re-decodes an answer's body into v.
func decodeInto(t testing.TB, a answer, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(a.Raw), v); err != nil {
		t.Fatalf("decode %s: %v", a.Raw, err)
	}
}

// text is a webhook body holding text and, when key is set, a thread key.
func text(s string) string {
	data, _ := json.Marshal(map[string]any{"text": s})
	return string(data)
}

func textKey(s, key string) string {
	data, _ := json.Marshal(map[string]any{"text": s, "thread": map[string]any{"threadKey": key}})
	return string(data)
}

func textName(s, name string) string {
	data, _ := json.Marshal(map[string]any{"text": s, "thread": map[string]any{"name": name}})
	return string(data)
}

const (
	fallback = "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	orFail   = "&messageReplyOption=REPLY_MESSAGE_OR_FAIL"
)

// readAll reads a response body.
func readAll(t testing.TB, r io.Reader) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// newLoopback serves s on a real loopback socket. Its cleanup closes s first,
// which ends event streams, so that closing the listener need not wait.
func newLoopback(t testing.TB, s *emulator.Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	return srv
}
