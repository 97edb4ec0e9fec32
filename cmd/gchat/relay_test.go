package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// startRelay runs "gchat relay args..." in-process with getenv, waits until
// stdout holds a line matching ready, and returns that match, the outputs,
// and a function that cancels the run and returns its error.
func startRelay(t *testing.T, env map[string]string, ready *regexp.Regexp, args ...string) ([]string, *lockedBuffer, *lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"relay"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("relay did not stop within 20 s")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := ready.FindStringSubmatch(stdout.String()); m != nil {
			return m, &stdout, &stderr, stop
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("relay stopped early: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay did not start:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady polls base/readyz until it answers want.
func waitReady(t *testing.T, base, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(body)) == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never said %q (last error %v)", want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postJSON posts body to url and returns the answer, body read.
func postJSON(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
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

var curlLine = regexp.MustCompile(`curl -sS -X POST '(http://([^/']+)/v1/spaces/demo/messages\?key=x&token=[0-9a-f]+)' -H 'Content-Type: application/json' -d '\{"text":"Hello from the gchat relay demo"\}'\n`)

// TestRelayDemoEndToEnd runs "gchat relay" without configuration: the demo
// delivers through the real dispatcher into the embedded emulator.
func TestRelayDemoEndToEnd(t *testing.T) {
	m, stdout, stderr, stop := startRelay(t, map[string]string{"PWD": t.TempDir()}, curlLine, "--listen", "127.0.0.1:0")
	ingest, base := m[1], "http://"+m[2]
	if !strings.Contains(stderr.String(), "DEMO MODE: messages go to an embedded emulator, not to Google Chat; the store is temporary") {
		t.Errorf("no demo banner on stderr:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "emulator page: "+base+"/emulator/\n") {
		t.Errorf("no page URL on stdout:\n%s", stdout.String())
	}
	waitReady(t, base, "demo")

	resp, body := postJSON(t, ingest, `{"text":"Hello from the gchat relay demo"}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Gchat-Delivery-State") != "queued" || resp.Header.Get("X-Gchat-Delivery-Id") == "" {
		t.Fatalf("ingest: got %d %v:\n%s", resp.StatusCode, resp.Header, body)
	}
	texts := waitMessages(t, base+"/emulator/api/v1", spaceID("demo"), 1)
	if texts[0] != "Hello from the gchat relay demo" {
		t.Errorf("emulator got %q", texts[0])
	}

	// The printed admin token opens the admin API, which shows the delivery done.
	admin := regexp.MustCompile(`Authorization: Bearer ([0-9a-f]+)`).FindStringSubmatch(stdout.String())
	if admin == nil {
		t.Fatalf("no admin token printed:\n%s", stdout.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/deliveries/"+resp.Header.Get("X-Gchat-Delivery-Id"), nil)
		req.Header.Set("Authorization", "Bearer "+admin[1])
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ State string }
		json.NewDecoder(r.Body).Decode(&d)
		r.Body.Close()
		if d.State == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery state %q, want done", d.State)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The webhook URL the relay posts to is a secret: never printed or logged.
	token := emulatorWebhookToken(t, base+"/emulator/api/v1")
	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil\nstderr:\n%s", err, stderr.String())
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(out, token) {
			t.Errorf("%s contains the webhook token:\n%s", name, out)
		}
	}
}

// emulatorWebhookToken returns the token of the emulator's first webhook.
func emulatorWebhookToken(t *testing.T, api string) string {
	t.Helper()
	resp, err := http.Get(api + "/spaces")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Spaces []struct {
			Webhooks []struct{ URL string } `json:"webhooks"`
		} `json:"spaces"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Spaces) == 0 || len(got.Spaces[0].Webhooks) == 0 {
		t.Fatalf("emulator spaces: %v %+v", err, got)
	}
	_, token, _ := strings.Cut(got.Spaces[0].Webhooks[0].URL, "token=")
	if token == "" {
		t.Fatal("no token in the emulator's webhook URL")
	}
	return token
}

// TestRelayConfigEndToEnd runs the relay from a configuration file whose
// space delivers to an emulator on another port.
func TestRelayConfigEndToEnd(t *testing.T) {
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0 // off: the test paces at 50 ms
	emu := emulator.NewServer(emulator.Config{
		Spaces:   []emulator.SpaceSpec{{ID: "AAAAconfig1", DisplayName: "alerts", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-secret-token"}}}},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	defer ts.Close()
	defer emu.Close()
	hook := ts.URL + "/v1/spaces/AAAAconfig1/messages?key=" + emulator.FakeKey + "&token=emu-secret-token"

	dir := t.TempDir()
	cfg := "listen: 127.0.0.1:0\n" +
		"store: sqlite:" + filepath.Join(dir, "relay.db") + "\n" +
		"allowed_hosts: [" + strings.TrimPrefix(ts.URL, "http://") + "]\n" +
		"spaces:\n" +
		"  alerts:\n" +
		"    webhook_url: ${HOOK}\n" +
		"    ingest_token: alerts-token-0123456789\n" +
		"    pace: 50ms\n"
	path := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	m, stdout, stderr, stop := startRelay(t, map[string]string{"HOOK": hook}, regexp.MustCompile(`gchat relay on (http://\S+) `), "--config", path)
	base := m[1]
	waitReady(t, base, "ok")
	for _, text := range []string{"one", "two", "three"} {
		resp, body := postJSON(t, base+"/v1/spaces/alerts/messages?key=k&token=alerts-token-0123456789", `{"text":"`+text+`"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("ingest: got %d:\n%s", resp.StatusCode, body)
		}
	}
	texts := waitMessages(t, ts.URL+"/api/v1", "AAAAconfig1", 3)
	if strings.Join(texts, ",") != "one,two,three" {
		t.Errorf("emulator got %q, want one, two, three in order", texts)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil\nstderr:\n%s", err, stderr.String())
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "emu-secret-token") {
		t.Errorf("output contains the webhook token:\n%s", out)
	}
}

func TestRelayStartErrors(t *testing.T) {
	dir := t.TempDir()
	empty := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t\n    pace: -1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withDefault := t.TempDir()
	if err := os.WriteFile(filepath.Join(withDefault, "gchat.yaml"), []byte("lisen: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name       string
		pwd        string
		args       []string
		wantStderr string
	}{
		{"missing config", empty, []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file"},
		{"invalid config", empty, []string{"--config", bad}, "bad.yaml:4:11: spaces.alerts.pace:"},
		{"invalid gchat.yaml is no demo", withDefault, nil, `gchat.yaml:1:1: unknown key "lisen"`},
		{"demo beyond loopback", empty, []string{"--listen", "0.0.0.0:0"}, "the demo listens on loopback only"},
		{"demo on every interface", empty, []string{"--listen", ":0"}, "the demo listens on loopback only"},
		{"demo with a store", empty, []string{"--listen", "127.0.0.1:0", "--store", "sqlite:x.db"}, "--store needs --config"},
		{"bad listen override", empty, []string{"--config", good, "--listen", "nope"}, `listen: "nope" is not host:port`},
		{"listen beyond loopback without tokens", empty, []string{"--config", good, "--listen", "0.0.0.0:0"}, "refusing to listen on 0.0.0.0:0 without ingest credentials"},
		{"store override", empty, []string{"--config", good, "--store", "postgres://x"}, "store: PostgreSQL is not supported yet"},
		{"busy port", empty, []string{"--listen", busy.Addr().String()}, "listen: "},
		{"arguments", empty, []string{"extra"}, "relay takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), map[string]string{"PWD": tt.pwd}, "", append([]string{"relay"}, tt.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, r.stderr)
			}
			if strings.Contains(r.stderr, "DEMO MODE") {
				t.Errorf("started the demo:\n%s", r.stderr)
			}
		})
	}
}
