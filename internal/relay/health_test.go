package relay_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// errDiskFull is what SQLite says when the disk refuses the log's growth.
var errDiskFull = errors.New("commit: database or disk is full (13)")

// fullDisk is a real SQLite store whose writes of the accept path and whose
// Ping fail while full is set, as they do on a full disk.
type fullDisk struct {
	store.Store
	full  atomic.Bool
	pings atomic.Int32
}

func (f *fullDisk) Enqueue(ctx context.Context, req store.EnqueueRequest) (store.EnqueueResult, error) {
	if f.full.Load() {
		return store.EnqueueResult{}, errDiskFull
	}
	return f.Store.Enqueue(ctx, req)
}

func (f *fullDisk) Ping(ctx context.Context) error {
	f.pings.Add(1)
	if f.full.Load() {
		return errDiskFull
	}
	return f.Store.Ping(ctx)
}

// TestReadyFollowsStore: /readyz fails once a commit of the accept path
// failed and while the store's probe fails, and recovers by itself once the
// probe succeeds or a commit does; /healthz stays ok; a healthy store is not
// probed.
func TestReadyFollowsStore(t *testing.T) {
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=k&token=" + googleSecret)
	if err != nil {
		t.Fatal(err)
	}
	sp := config.NewSpace("alerts", hook)
	sp.IngestToken = alertsToken
	cfg := &config.Config{Listen: "127.0.0.1:8686", Store: "sqlite:test.db", AdminToken: adminToken,
		IngestKey: ingestKey, Spaces: []*config.Space{sp}}
	real, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { real.Close() })
	st := &fullDisk{Store: real}
	e := &env{t: t, cfg: cfg, store: st, notify: &fakeNotifier{}, logs: &syncBuffer{}}
	e.srv = relay.NewServer(cfg, st, e.notify, nil, relay.Options{Listen: cfg.Listen})

	get := func(path string) answer {
		t.Helper()
		return e.do(httptest.NewRequest(http.MethodGet, path, nil))
	}
	wantReady := func(when string, code int, body string) {
		t.Helper()
		if a := get("/readyz"); a.code != code || a.body != body {
			t.Errorf("%s: /readyz %d %q, want %d %q", when, a.code, a.body, code, body)
		}
		if a := get("/healthz"); a.code != http.StatusOK {
			t.Errorf("%s: /healthz %d, want 200", when, a.code)
		}
	}

	e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	wantReady("healthy", http.StatusOK, "ok\n")
	if n := st.pings.Load(); n != 0 {
		t.Errorf("healthy: %d probes of the store, want none", n)
	}

	st.full.Store(true)
	wantReady("disk full, no commit failed yet", http.StatusOK, "ok\n")
	a := e.post("alerts", alertsToken, "", `{"text":"two"}`)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("post on a full disk: %d, Retry-After %q; want 503 with Retry-After", a.code, a.header.Get("Retry-After"))
	}
	wantReady("disk full", http.StatusServiceUnavailable, "store failing\n")
	wantReady("disk still full", http.StatusServiceUnavailable, "store failing\n")

	// Space freed: the probe commits, /readyz recovers with no ingest.
	st.full.Store(false)
	wantReady("space freed", http.StatusOK, "ok\n")
	pings := st.pings.Load()
	wantReady("recovered", http.StatusOK, "ok\n")
	if n := st.pings.Load(); n != pings {
		t.Errorf("recovered: %d more probes, want none", n-pings)
	}

	// A commit that succeeds also clears the failure, without a probe.
	st.full.Store(true)
	e.post("alerts", alertsToken, "", `{"text":"three"}`)
	st.full.Store(false)
	e.mustPost("alerts", alertsToken, "", `{"text":"four"}`)
	pings = st.pings.Load()
	wantReady("commit after failure", http.StatusOK, "ok\n")
	if n := st.pings.Load(); n != pings {
		t.Errorf("after a commit succeeded: %d probes, want none", n-pings)
	}
}
