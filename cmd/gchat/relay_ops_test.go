package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRelayJSONLogsAndReloadEndpoint: --log-format json makes every log
// line a JSON object; the file's log.level applies, and a reload through
// POST /-/reload (admin token) applies a new one; an invalid file is
// refused with its problem as JSON.
func TestRelayJSONLogsAndReloadEndpoint(t *testing.T) {
	ts, hook := unpacedEmulator(t, "AAAAlogs001")
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yaml")
	head := "listen: 127.0.0.1:0\n" +
		"store: sqlite:" + filepath.Join(dir, "relay.db") + "\n" +
		"admin_token: " + adminTestToken + "\n" +
		"allowed_hosts: [" + strings.TrimPrefix(ts.URL, "http://") + "]\n" +
		"spaces:\n" +
		"  alerts:\n" +
		"    webhook_url: ${HOOK}\n" +
		"    ingest_token: alerts-token-0123456789\n" +
		"    pace: 50ms\n"
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(head + "log: {format: text, level: warn}\n")
	m, _, stderr, stop := startRelay(t, map[string]string{"HOOK": hook}, regexp.MustCompile(`gchat relay on (http://\S+) `), "--config", path, "--log-format", "json")
	base := m[1]
	for _, p := range []string{"/-/healthy", "/-/ready"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	reload := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/-/reload", nil)
		req.Header.Set("Authorization", "Bearer "+adminTestToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if strings.Contains(stderr.String(), `"msg":"started"`) {
		t.Errorf("an info line at level warn:\n%s", stderr.String())
	}

	write(head + "log: {level: info}\n")
	if code, body := reload(); code != 200 || !strings.Contains(body, `"reloaded"`) {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	waitLog(t, stderr, `"msg":"reloaded"`)

	write(head + "    pace: -1s\n")
	code, body := reload()
	if code != http.StatusBadRequest || !strings.Contains(body, "INVALID_ARGUMENT") || !strings.Contains(body, `relay.yaml:10:5: spaces.alerts: duplicate key \"pace\"`) {
		t.Errorf("POST /-/reload of an invalid file: %d %s, want 400 naming the problem", code, body)
	}
	waitLog(t, stderr, `"msg":"reload_refused"`)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil || rec["time"] == nil {
			t.Errorf("not a JSON log line: %q (%v)", line, err)
		}
		if strings.Contains(line, "emu-secret-token") {
			t.Errorf("the log names the webhook: %s", line)
		}
	}
	if len(lines) < 3 {
		t.Errorf("%d log lines, want the reloads and the shutdown", len(lines))
	}
}

// TestRelayLogFlagsRefused: a bad --log-format or --log-level is a usage
// error that names the flag.
func TestRelayLogFlagsRefused(t *testing.T) {
	for _, tc := range []struct{ flag, value, want string }{
		{"--log-format", "xml", `--log-format "xml": want one of text, json`},
		{"--log-level", "verbose", `--log-level "verbose": want one of debug, info, warn, error`},
	} {
		r := runCLI(t, t.Context(), nil, "", "relay", tc.flag, tc.value)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s %s: exit %d, stderr %q; want %q", tc.flag, tc.value, r.code, r.stderr, tc.want)
		}
	}
}
