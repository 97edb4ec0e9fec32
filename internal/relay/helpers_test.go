package relay_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// Credentials of the test relay. googleSecret is in the webhook URL: no
// answer or log may contain it.
const (
	googleSecret = "google-webhook-secret"
	ingestKey    = "ingest-key"
	alertsToken  = "alerts-token-0123456789"
	adminToken   = "admin-token-0123456789"
	googleSpace  = "AAAAlane001"
)

// fakeNotifier records the lanes it was told about.
type fakeNotifier struct {
	mu    sync.Mutex
	lanes []string
}

func (n *fakeNotifier) Notify(lane string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lanes = append(n.lanes, lane)
}

func (n *fakeNotifier) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.lanes)
}

// syncBuffer is a log destination safe for concurrent writes.
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

// env is a relay under test with a real SQLite store.
type env struct {
	t      *testing.T
	cfg    *config.Config
	srv    *relay.Server
	store  store.Store
	notify *fakeNotifier
	logs   *syncBuffer
}

// newEnv starts a relay with two spaces, "alerts" (token alertsToken) and
// "open" (no token, reply_fallback on), both delivering into googleSpace.
// change edits the configuration and options before the server is made.
func newEnv(t *testing.T, change func(*config.Config, *relay.Options)) *env {
	t.Helper()
	return newEnvStore(t, sqlite.Options{}, change)
}

// newEnvStore is newEnv with the store's options.
func newEnvStore(t *testing.T, so sqlite.Options, change func(*config.Config, *relay.Options)) *env {
	t.Helper()
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=k&token=" + googleSecret)
	if err != nil {
		t.Fatal(err)
	}
	alerts := config.NewSpace("alerts", hook)
	alerts.IngestToken = alertsToken
	open := config.NewSpace("open", hook)
	open.ReplyFallback = true
	cfg := &config.Config{
		Listen:     "127.0.0.1:8686",
		Store:      "sqlite:test.db",
		AdminToken: adminToken,
		IngestKey:  ingestKey,
		Spaces:     []*config.Space{alerts, open},
	}
	opts := relay.Options{Listen: cfg.Listen}
	if change != nil {
		change(cfg, &opts)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, cfg: cfg, store: st, notify: &fakeNotifier{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv = relay.NewServer(cfg, st, e.notify, logger, opts)
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), googleSecret) {
			t.Errorf("logs contain the webhook token:\n%s", e.logs.String())
		}
	})
	return e
}

// answer is a recorded response.
type answer struct {
	code   int
	header http.Header
	body   string
}

// json decodes the body.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.code, err, a.body)
	}
	return m
}

// errorStatus is the status name of a Google error envelope.
func (a answer) errorStatus(t *testing.T) string {
	t.Helper()
	e, _ := a.json(t)["error"].(map[string]any)
	s, _ := e["status"].(string)
	return s
}

func (e *env) do(r *http.Request) answer {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	a := answer{code: w.Code, header: w.Header(), body: w.Body.String()}
	if strings.Contains(a.body, googleSecret) {
		e.t.Errorf("answer contains the webhook token:\n%s", a.body)
	}
	return a
}

// post sends body to space's ingest URL with query (after key and token).
func (e *env) post(space, token, query, body string) answer {
	e.t.Helper()
	target := "/v1/spaces/" + space + "/messages?key=" + ingestKey + "&token=" + token
	if query != "" {
		target += "&" + query
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return e.do(r)
}

// mustPost posts and wants 200; it returns the delivery id.
func (e *env) mustPost(space, token, query, body string) (string, map[string]any) {
	e.t.Helper()
	a := e.post(space, token, query, body)
	if a.code != http.StatusOK {
		e.t.Fatalf("post %s: got %d, want 200:\n%s", body, a.code, a.body)
	}
	return a.header.Get(relay.HeaderDeliveryID), a.json(e.t)
}

// admin calls the admin API with the admin token from a loopback Host.
func (e *env) admin(method, target string) answer {
	e.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:8686"
	r.Header.Set("Authorization", "Bearer "+adminToken)
	return e.do(r)
}

func (e *env) get(id string) store.Delivery {
	e.t.Helper()
	d, err := e.store.Get(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("get %s: %v", id, err)
	}
	return d
}

// finish plays the dispatcher: it claims the lane's due heads and finishes
// the one with id with out.
func (e *env) finish(id string, out store.Outcome) store.Delivery {
	e.t.Helper()
	ctx := e.t.Context()
	lease, err := e.store.AcquireLease(ctx, store.LeaseRequest{Lane: googleSpace, Owner: "test", TTL: time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Claim(ctx, lease, 100); err != nil {
		e.t.Fatal(err)
	}
	d, err := e.store.Finish(ctx, lease, id, out)
	if err != nil {
		e.t.Fatalf("finish %s: %v", id, err)
	}
	if err := e.store.ReleaseLease(ctx, lease); err != nil {
		e.t.Fatal(err)
	}
	return d
}
