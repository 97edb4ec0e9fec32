package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestShutdownOrder ends Run while a send is in flight at Google: ingest
// answers 503 at once while the HTTP server still serves, the send is
// finished (not cut, not put back) once Google answers, and only then does
// Run return.
func TestShutdownOrder(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	google := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name":"spaces/AAAAshutdn/messages/m1.m1","thread":{"name":"spaces/AAAAshutdn/threads/m1"}}`)
	}))
	defer google.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	dir := t.TempDir()
	db := filepath.Join(dir, "relay.db")
	yaml := "listen: 127.0.0.1:0\n" +
		"store: sqlite:" + db + "\n" +
		"allowed_hosts: [" + strings.TrimPrefix(google.URL, "http://") + "]\n" +
		"spaces:\n" +
		"  alerts:\n" +
		"    webhook_url: " + google.URL + "/v1/spaces/AAAAshutdn/messages?key=k&token=google-token-0123\n" +
		"    ingest_token: alerts-token-0123456789\n"
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rl, logs, base := newRelay(t, func() string { return yaml }, st, false, slog.LevelInfo)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()
	post := func() (int, string) {
		t.Helper()
		resp, err := http.Post(base+"/v1/spaces/alerts/messages?key=k&token=alerts-token-0123456789", "application/json", strings.NewReader(`{"text":"in flight"}`))
		if err != nil {
			t.Fatalf("ingest: %v (the HTTP server stopped before the drain)", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get(relay.HeaderDeliveryID)
	}
	code, id := post()
	if code != 200 {
		t.Fatalf("ingest: got %d", code)
	}
	<-arrived // the send is at Google, unanswered
	cancel()

	// Ingest stops at once; the server still answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("readyz during the drain: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(string(body)) == "stopping" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never said stopping (last %q)", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := post(); code != http.StatusServiceUnavailable {
		t.Errorf("ingest during the drain: got %d, want 503", code)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before the in-flight send finished", err)
	default:
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil\n%s", err, logs.String())
	}
	st, err = sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != store.StateDone {
		t.Errorf("the in-flight delivery is %s after the drain, want done", d.State)
	}
}
