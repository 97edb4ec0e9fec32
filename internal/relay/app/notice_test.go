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

	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestReloadNoticeOnce: a space whose webhook Google refuses (403) pauses
// and notifies the operator once. Reloads that keep its webhook do not
// resume it, so they send no notice; reloads that change it resume it, it
// is refused again, and the notice limit, which outlives the dispatcher a
// reload replaces, holds the notices back. Six reloads, one notice.
//
// The limit's interval is a minute (dispatch.DefaultNoticeInterval): the
// test's reloads all fall within it.
func TestReloadNoticeOnce(t *testing.T) {
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0
	emu := emulator.NewServer(emulator.Config{
		Spaces: []emulator.SpaceSpec{
			{ID: "AAAAops0001", DisplayName: "ops", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-ops-token-1"}}},
			{ID: "AAAAbroken1", DisplayName: "broken", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-right-token"}}},
		},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { emu.Close() })

	dir := t.TempDir()
	db := filepath.Join(dir, "relay.db")
	brokenToken := "wrong-token-0"
	yaml := func() string {
		return "listen: 127.0.0.1:0\n" +
			"store: sqlite:" + db + "\n" +
			"allowed_hosts: [" + strings.TrimPrefix(ts.URL, "http://") + "]\n" +
			"operator: ops\n" +
			"spaces:\n" +
			"  ops:\n" +
			"    webhook_url: " + ts.URL + "/v1/spaces/AAAAops0001/messages?key=" + emulator.FakeKey + "&token=emu-ops-token-1\n" +
			"    ingest_token: ops-token-0123456789\n" +
			"    pace: 50ms\n" +
			"  broken:\n" +
			"    webhook_url: " + ts.URL + "/v1/spaces/AAAAbroken1/messages?key=" + emulator.FakeKey + "&token=" + brokenToken + "\n" +
			"    ingest_token: broken-token-0123456789\n" +
			"    pace: 50ms\n"
	}
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rl, logs, base := newRelay(t, yaml, st, true, slog.LevelDebug)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()

	resp, err := http.Post(base+"/v1/spaces/broken/messages?key=k&token=broken-token-0123456789", "application/json", strings.NewReader(`{"text":"refused"}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: got %d", resp.StatusCode)
	}
	waitCount(t, logs, "msg=space_paused space=broken", 1)
	waitCount(t, logs, "msg=notice_queued", 1)

	// Three reloads with the same webhook: the space stays paused.
	for i := range 3 {
		if err := rl.Reload(t.Context()); err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
		waitCount(t, logs, "msg=reloaded", i+1)
	}
	if n := strings.Count(logs.String(), "msg=resumed"); n != 0 {
		t.Errorf("%d resumes by reloads that kept the webhook, want 0", n)
	}
	// Three reloads, each with a new webhook that Google refuses too: each
	// resumes the space, which pauses again at its next send.
	for i := range 3 {
		brokenToken = "wrong-token-" + string(rune('1'+i))
		if err := rl.Reload(t.Context()); err != nil {
			t.Fatalf("reload %d: %v", i+4, err)
		}
		waitCount(t, logs, "msg=space_paused space=broken", i+2)
		waitCount(t, logs, "msg=notice_suppressed", i+1)
	}
	if n := strings.Count(logs.String(), "msg=notice_queued"); n != 1 {
		t.Errorf("%d operator notices after six reloads, want 1:\n%s", n, logs.String())
	}
	if texts := waitMessages(t, ts.URL+"/api/v1", "AAAAops0001", 1); len(texts) != 1 || !strings.Contains(texts[0], "space broken paused") {
		t.Errorf("the operator space got %q, want one notice that broken paused", texts)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil\n%s", err, logs.String())
	}
}

// waitCount waits until out holds want at least n times.
func waitCount(t *testing.T, out *lockedBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %q in the log, want %d:\n%s", strings.Count(out.String(), want), want, n, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
