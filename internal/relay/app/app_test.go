package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// lockedBuffer is a log sink safe for the relay's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog waits until out holds want.
func waitLog(t *testing.T, out *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newRelay prepares a relay, as New does, serving the configuration yaml
// returns on a loopback listener from st; with reloadable, Options.Load
// reads yaml again. Its log, at level, is the returned buffer; base is its
// URL.
func newRelay(t *testing.T, yaml func() string, st store.Store, reloadable bool, level slog.Level) (rl *Relay, logs *lockedBuffer, base string) {
	t.Helper()
	load := func() (*config.Config, error) {
		return config.Load([]byte(yaml()), "relay.yaml", func(string) string { return "" }, os.ReadFile)
	}
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts Options
	if reloadable {
		opts.Load = load
	}
	logs = new(lockedBuffer)
	rl, err = New(cfg, ln, st, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rl, logs, "http://" + ln.Addr().String()
}

// relayYAML is a configuration with one space whose ingest token is token.
// Its webhook is a loopback port nothing listens on: the tests send nothing
// to it.
func relayYAML(dir, token string) string {
	return "listen: 127.0.0.1:0\n" +
		"store: sqlite:" + filepath.Join(dir, "relay.db") + "\n" +
		"allowed_hosts: [127.0.0.1:1]\n" +
		"spaces:\n" +
		"  alerts:\n" +
		"    webhook_url: http://127.0.0.1:1/v1/spaces/AAAAreload/messages?key=k&token=google-token-0123\n" +
		"    ingest_token: " + token + "\n"
}

// TestReload calls Reload on a running relay, as an HTTP endpoint would:
// a valid configuration replaces ingest's tokens at once, an invalid one is
// refused with an error and the running one kept; before Run, and without
// Options.Load, there is nothing to reload.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yaml")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	load := func() (*config.Config, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return config.Load(data, path, func(string) string { return "" }, os.ReadFile)
	}
	write(relayYAML(dir, "token-old-0123456789"))
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	rl, err := New(cfg, ln, st, slog.New(slog.NewTextHandler(&logs, nil)), Options{Load: load})
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.Reload(t.Context()); !errors.Is(err, ErrNoReload) {
		t.Errorf("Reload before Run: %v, want ErrNoReload", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()

	base := "http://" + ln.Addr().String()
	post := func(token string) int {
		t.Helper()
		// The listener is open from the start, so this waits for Run to serve.
		resp, err := http.Post(base+"/v1/spaces/alerts/messages?key=k&token="+token, "application/json", strings.NewReader(`{"text":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("token-new-0123456789"); code != http.StatusForbidden {
		t.Fatalf("the new token before the reload: got %d, want 403", code)
	}

	write(relayYAML(dir, "token-new-0123456789"))
	if err := rl.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if code := post("token-old-0123456789"); code != http.StatusForbidden {
		t.Errorf("the old token after the reload: got %d, want 403", code)
	}
	if got := rl.Config().Space("alerts").IngestToken.Reveal(); got != "token-new-0123456789" {
		t.Errorf("the running configuration's token is not the new one")
	}

	write(relayYAML(dir, "token-newer-0123456789") + "    on_failure: sometimes\n")
	err = rl.Reload(t.Context())
	var ps *config.Problems
	if !errors.As(err, &ps) || len(ps.List) != 1 {
		t.Errorf("Reload of an invalid file: %v, want its one problem", err)
	}
	if got := rl.Config().Space("alerts").IngestToken.Reveal(); got != "token-new-0123456789" {
		t.Errorf("a refused reload replaced the running configuration")
	}
	if !strings.Contains(logs.String(), "msg=reload_refused") {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if err := rl.Reload(t.Context()); !errors.Is(err, ErrNoReload) {
		t.Errorf("Reload after Run: %v, want ErrNoReload", err)
	}
	if _, err := st.LaneStates(t.Context()); err == nil {
		t.Errorf("the store is still open after Run returned")
	}
}

// TestReloadWithoutLoad: a relay without a configuration file (the demo)
// cannot reload.
func TestReloadWithoutLoad(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load([]byte(relayYAML(dir, "token-0123456789")), "relay.yaml", func(string) string { return "" }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rl, err := New(cfg, ln, st, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.Reload(t.Context()); !errors.Is(err, ErrNoReload) {
		t.Errorf("Reload: %v, want ErrNoReload", err)
	}
}

// TestPruneLoop applies retention at once and then at every interval, and
// logs what it deleted.
func TestPruneLoop(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	finish := func(state store.State) string {
		t.Helper()
		res, err := st.Enqueue(ctx, store.EnqueueRequest{Space: "alerts", Lane: "AAAA", Deliveries: []store.NewDelivery{{Message: []byte(`{"text":"x"}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		lease, err := st.AcquireLease(ctx, store.LeaseRequest{Lane: "AAAA", Owner: "test", TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Claim(ctx, lease, 1); err != nil {
			t.Fatal(err)
		}
		id := res.Deliveries[0].ID
		if _, err := st.Finish(ctx, lease, id, store.Outcome{State: state, Error: "x"}); err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseLease(ctx, lease); err != nil {
			t.Fatal(err)
		}
		return id
	}
	done, dead := finish(store.StateDone), finish(store.StateDead)

	var logs lockedBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	retention := func() store.Retention {
		return storeRetention(&config.Config{Retention: config.Retention{Delivered: 24 * time.Hour, Dead: 48 * time.Hour}})
	}
	lctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		pruneLoop(lctx, st, retention, 20*time.Millisecond, logger)
	}()
	waitLog(t, &logs, "msg=pruned deliveries=0") // at start: nothing is old enough

	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	waitLog(t, &logs, "msg=pruned deliveries=1")
	if _, err := st.Get(ctx, done); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("done delivery past retention: %v, want ErrNotFound", err)
	}
	if _, err := st.Get(ctx, dead); err != nil {
		t.Errorf("dead letter within its retention: %v", err)
	}
	cancel()
	<-stopped
	if strings.Contains(logs.String(), "prune_failed") {
		t.Errorf("prune failed:\n%s", logs.String())
	}
}
