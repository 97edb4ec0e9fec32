package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestReloadResumes: a space paused until resumed (Google answered 403 or
// 404) resumes on a reload that changes its webhook, and its queue goes out.
func TestReloadResumes(t *testing.T) {
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0 // off: the relay paces at 50 ms
	emu := emulator.NewServer(emulator.Config{
		Spaces: []emulator.SpaceSpec{{ID: "AAAAreload1", DisplayName: "alerts", Webhooks: []emulator.WebhookSpec{
			{Name: "relay", Token: "emu-secret-token-1"}, {Name: "relay2", Token: "emu-secret-token-2"}}}},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { emu.Close() })

	dir := t.TempDir()
	db := filepath.Join(dir, "relay.db")
	token := "emu-secret-token-1"
	yaml := func() string {
		return "listen: 127.0.0.1:0\n" +
			"store: sqlite:" + db + "\n" +
			"allowed_hosts: [" + strings.TrimPrefix(ts.URL, "http://") + "]\n" +
			"spaces:\n" +
			"  alerts:\n" +
			"    webhook_url: " + ts.URL + "/v1/spaces/AAAAreload1/messages?key=" + emulator.FakeKey + "&token=" + token + "\n" +
			"    ingest_token: alerts-token-0123456789\n" +
			"    pace: 50ms\n"
	}
	// The space was paused by an earlier run.
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PauseSpace(t.Context(), store.SpacePause{Space: "alerts", Lane: "AAAAreload1", Pause: store.Pause{Reason: "404 Not Found"}}); err != nil {
		t.Fatal(err)
	}

	rl, logs, base := newRelay(t, yaml, st, true, slog.LevelInfo)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()

	resp, err := http.Post(base+"/v1/spaces/alerts/messages?key=k&token=alerts-token-0123456789", "application/json", strings.NewReader(`{"text":"held"}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: got %d", resp.StatusCode)
	}
	waitLog(t, logs, "msg=space_paused")
	if got := scrapeMetric(t, base, `gchat_relay_space_paused{space="alerts"}`); got != "1" {
		t.Errorf("paused gauge %s, want 1", got)
	}
	// The same webhook: the pause stays.
	if err := rl.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	waitLog(t, logs, "msg=reloaded")
	if strings.Contains(logs.String(), "msg=resumed") {
		t.Fatalf("a reload with the same webhook resumed the space:\n%s", logs.String())
	}
	// A new webhook: the space resumes.
	token = "emu-secret-token-2"
	if err := rl.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	waitLog(t, logs, "msg=resumed space=alerts")
	if texts := waitMessages(t, ts.URL+"/api/v1", "AAAAreload1", 1); texts[0] != "held" {
		t.Errorf("got %q, want the held message", texts)
	}
	if got := scrapeMetric(t, base, `gchat_relay_space_paused{space="alerts"}`); got != "0" {
		t.Errorf("paused gauge %s after the reload, want 0", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil\n%s", err, logs.String())
	}
}

// waitMessages waits, through the emulator's API at api, until the space
// holds n messages, and returns their texts.
func waitMessages(t *testing.T, api, space string, n int) []string {
	t.Helper()
	resp, err := http.Get(api + "/spaces/" + space + "/messages?wait=" + strconv.Itoa(n) + "&timeout=10s")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Messages []struct {
			Body struct {
				Text string `json:"text"`
			} `json:"body"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("emulator messages: %v", err)
	}
	texts := make([]string, len(got.Messages))
	for i, m := range got.Messages {
		texts[i] = m.Body.Text
	}
	if len(texts) < n {
		t.Fatalf("emulator got %d messages %q, want %d", len(texts), texts, n)
	}
	return texts
}

// scrapeMetric returns the value of one series of base/metrics.
func scrapeMetric(t *testing.T, base, series string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, data)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s in:\n%s", series, data)
	return ""
}
