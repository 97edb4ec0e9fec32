package main

import (
	"context"
	"encoding/json"
	"github.com/gchatkit/gchat/internal/source/alertmanager"
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
	"syscall"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// startRelay runs "gchat relay args..." in-process with getenv, waits until
// stdout holds a line matching ready, and returns that match, the outputs,
// and a function that cancels the run and returns its error.
func startRelay(t *testing.T, env map[string]string, ready *regexp.Regexp, args ...string) ([]string, *lockedBuffer, *lockedBuffer, func() error) {
	t.Helper()
	return startRelayReload(t, env, nil, ready, args...)
}

// startRelayReload is startRelay with reload requests delivered on reloads
// (nil: none), as main delivers SIGHUP.
func startRelayReload(t *testing.T, env map[string]string, reloads chan os.Signal, ready *regexp.Regexp, args ...string) ([]string, *lockedBuffer, *lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr lockedBuffer
	e := environment{getenv: func(k string) string { return env[k] }, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	if reloads != nil {
		e.reload = func() (<-chan os.Signal, func()) { return reloads, func() {} }
	}
	done := make(chan error, 1)
	go func() {
		done <- runEnv(ctx, append([]string{"relay"}, args...), e)
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
				Text         string `json:"text"`
				FallbackText string `json:"fallbackText"`
			} `json:"body"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("emulator messages: %v", err)
	}
	texts := make([]string, len(got.Messages))
	for i, m := range got.Messages {
		texts[i] = m.Body.Text
		if texts[i] == "" { // a card without a text line: its fallback says what it is
			texts[i] = m.Body.FallbackText
		}
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
	// The console is served, behind its sign-in.
	if !strings.Contains(stdout.String(), "console:       "+base+"/console/ ") {
		t.Errorf("no console URL on stdout:\n%s", stdout.String())
	}
	if cresp, err := http.Get(base + "/console/"); err != nil || cresp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /console/ without a session: %v %v, want 401", cresp, err)
	} else {
		cresp.Body.Close()
	}

	resp, body := postJSON(t, ingest, `{"text":"Hello from the gchat relay demo"}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Gchat-Delivery-State") != "queued" || resp.Header.Get("X-Gchat-Delivery-Id") == "" {
		t.Fatalf("ingest: got %d %v:\n%s", resp.StatusCode, resp.Header, body)
	}
	texts := waitMessages(t, base+"/emulator/api/v1", spaceID("demo"), 1)
	if texts[0] != "Hello from the gchat relay demo" {
		t.Errorf("emulator got %q", texts[0])
	}
	// The printed Alertmanager route takes a real notification.
	if !strings.Contains(stdout.String(), "Alertmanager:  "+base+"/v1/alertmanager/demo ") {
		t.Errorf("no Alertmanager route on stdout:\n%s", stdout.String())
	}
	if resp, body := postJSON(t, base+"/v1/alertmanager/demo", string(alertmanager.Sample)); resp.StatusCode != 200 {
		t.Fatalf("alertmanager route: got %d:\n%s", resp.StatusCode, body)
	}
	if texts := waitMessages(t, base+"/emulator/api/v1", spaceID("demo"), 2); !strings.Contains(texts[1], "FIRING") {
		t.Errorf("emulator got %q after the Alertmanager notification, want a firing alert", texts[1])
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
	_, token, _ := strings.Cut(emulatorWebhookURL(t, api), "token=")
	if token == "" {
		t.Fatal("no token in the emulator's webhook URL")
	}
	return token
}

// unpacedEmulator serves an emulator without quotas (the tests' relays
// pace themselves) with one space of the given id, and returns its server
// and the space's webhook URL (token "emu-secret-token").
func unpacedEmulator(t *testing.T, spaceID string) (*httptest.Server, string) {
	t.Helper()
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0
	emu := emulator.NewServer(emulator.Config{
		Spaces:   []emulator.SpaceSpec{{ID: spaceID, DisplayName: "alerts", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-secret-token"}}}},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { emu.Close() }) // runs first: ends event streams, so ts.Close need not wait
	return ts, ts.URL + "/v1/spaces/" + spaceID + "/messages?key=" + emulator.FakeKey + "&token=emu-secret-token"
}

// TestRelayConfigEndToEnd runs the relay from a configuration file whose
// space delivers to an emulator on another port.
func TestRelayConfigEndToEnd(t *testing.T) {
	ts, hook := unpacedEmulator(t, "AAAAconfig1") // the test paces at 50 ms

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

	// /metrics counts them, and names neither the webhook nor its space.
	deadline := time.Now().Add(10 * time.Second)
	for scrapeMetric(t, base, `gchat_relay_deliveries_finished_total{outcome="done",space="alerts"}`) != "3" {
		if time.Now().After(deadline) {
			t.Fatal("the metrics never counted 3 deliveries done")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for series, want := range map[string]string{
		`gchat_relay_deliveries_enqueued_total{space="alerts"}`:      "3",
		`gchat_relay_attempts_total{result="ok",space="alerts"}`:     "3",
		`gchat_relay_delivery_latency_seconds_count{space="alerts"}`: "3",
		`gchat_relay_queue_depth{space="alerts"}`:                    "0",
	} {
		if got := scrapeMetric(t, base, series); got != want {
			t.Errorf("%s = %s, want %s", series, got, want)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, secret := range []string{"emu-secret-token", "AAAAconfig1", "alerts-token-0123456789", emulator.FakeKey} {
		if strings.Contains(string(exposition), secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Host = "rebind.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics for Host rebind.example: got %d, want 403", resp.StatusCode)
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
		{"store override", empty, []string{"--config", good, "--store", "mysql://x"}, `store: unknown store "mysql://…"`},
		{"store unreachable", empty, []string{"--config", good, "--store", "postgres://gchat@127.0.0.1:1/gchat?connect_timeout=5"}, "store postgres://gchat@127.0.0.1:1/gchat?connect_timeout=5: open store: "},
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

// reloadEmulator is an emulator with two spaces for the relay to deliver
// to; it returns its base URL and the webhook URL of each space.
func reloadEmulator(t *testing.T) (string, map[string]string) {
	t.Helper()
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0 // off: the relay paces at 50 ms
	emu := emulator.NewServer(emulator.Config{
		Spaces: []emulator.SpaceSpec{
			{ID: "AAAAreload1", DisplayName: "alerts", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-secret-token-1"}}},
			{ID: "AAAAreload2", DisplayName: "ops", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-secret-token-2"}}},
		},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { emu.Close() })
	hook := func(id, token string) string {
		return ts.URL + "/v1/spaces/" + id + "/messages?key=" + emulator.FakeKey + "&token=" + token
	}
	return ts.URL, map[string]string{"alerts": hook("AAAAreload1", "emu-secret-token-1"), "ops": hook("AAAAreload2", "emu-secret-token-2")}
}

// TestRelayReload changes the configuration file of a running relay and
// sends the reload signal: a valid file replaces the spaces and tokens at
// once and the dispatcher serves the new spaces; an invalid one is refused
// with every problem logged and the running configuration keeps working.
func TestRelayReload(t *testing.T) {
	emu, hooks := reloadEmulator(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yaml")
	head := "listen: 127.0.0.1:0\n" +
		"store: sqlite:" + filepath.Join(dir, "relay.db") + "\n" +
		"allowed_hosts: [" + strings.TrimPrefix(emu, "http://") + "]\n" +
		"spaces:\n" +
		"  alerts:\n" +
		"    webhook_url: ${ALERTS_HOOK}\n" +
		"    pace: 50ms\n"
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(head + "    ingest_token: alerts-token-old-0123\n")
	reloads := make(chan os.Signal, 1)
	env := map[string]string{"ALERTS_HOOK": hooks["alerts"], "OPS_HOOK": hooks["ops"]}
	m, stdout, stderr, stop := startRelayReload(t, env, reloads, regexp.MustCompile(`gchat relay on (http://\S+) `), "--config", path)
	base := m[1]
	waitReady(t, base, "ok")
	post := func(space, token, text string) int {
		t.Helper()
		resp, _ := postJSON(t, base+"/v1/spaces/"+space+"/messages?key=k&token="+token, `{"text":"`+text+`"}`)
		return resp.StatusCode
	}
	reload := func(n int) {
		t.Helper()
		reloads <- syscall.SIGHUP
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(stderr.String(), "msg=reloaded")+strings.Count(stderr.String(), "msg=reload_refused") < n {
			if time.Now().After(deadline) {
				t.Fatalf("reload %d did not finish:\n%s", n, stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if code := post("alerts", "alerts-token-old-0123", "one"); code != 200 {
		t.Fatalf("before the reload: got %d", code)
	}
	waitMessages(t, emu+"/api/v1", "AAAAreload1", 1)

	// A new token for alerts, and a new space whose token is in a file.
	if err := os.WriteFile(filepath.Join(dir, "ops.token"), []byte("ops-token-from-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write(head + "    ingest_token: alerts-token-new-0123\n" +
		"  ops:\n" +
		"    webhook_url: ${OPS_HOOK}\n" +
		"    ingest_token_file: ops.token\n" +
		"    pace: 50ms\n")
	reload(1)
	if !strings.Contains(stderr.String(), "added=[ops]") {
		t.Errorf("the reload does not name the added space:\n%s", stderr.String())
	}
	if code := post("alerts", "alerts-token-old-0123", "refused"); code != http.StatusForbidden {
		t.Errorf("the old token after the reload: got %d, want 403", code)
	}
	if code := post("alerts", "alerts-token-new-0123", "two"); code != 200 {
		t.Errorf("the new token after the reload: got %d, want 200", code)
	}
	if code := post("ops", "ops-token-from-file-0123", "to ops"); code != 200 {
		t.Errorf("the added space: got %d, want 200", code)
	}
	if texts := waitMessages(t, emu+"/api/v1", "AAAAreload1", 2); strings.Join(texts, ",") != "one,two" {
		t.Errorf("alerts got %q, want one, two", texts)
	}
	if texts := waitMessages(t, emu+"/api/v1", "AAAAreload2", 1); texts[0] != "to ops" {
		t.Errorf("ops got %q: the dispatcher does not serve the added space", texts)
	}

	// An invalid file: every problem is logged, the running configuration
	// stays.
	write(head + "    ingest_token: alerts-token-newer-0123\n    on_failure: sometimes\n  Bad Name:\n    webhook_url: ${OPS_HOOK}\n")
	reload(2)
	log := stderr.String()
	for _, want := range []string{"msg=reload_refused", "spaces.alerts.on_failure", "Bad Name", "problems=2"} {
		if !strings.Contains(log, want) {
			t.Errorf("the refused reload's log has no %q:\n%s", want, log)
		}
	}
	if code := post("alerts", "alerts-token-newer-0123", "refused"); code != http.StatusForbidden {
		t.Errorf("a token of the refused file: got %d, want 403", code)
	}
	if code := post("alerts", "alerts-token-new-0123", "three"); code != 200 {
		t.Errorf("after a refused reload: got %d, want 200", code)
	}
	if code := post("ops", "ops-token-from-file-0123", "to ops again"); code != 200 {
		t.Errorf("ops after a refused reload: got %d, want 200", code)
	}
	waitMessages(t, emu+"/api/v1", "AAAAreload1", 3)
	waitMessages(t, emu+"/api/v1", "AAAAreload2", 2)

	// A missing file is refused too.
	os.Remove(path)
	reload(3)
	if code := post("alerts", "alerts-token-new-0123", "four"); code != 200 {
		t.Errorf("after a missing file: got %d, want 200", code)
	}

	// listen and store need a restart; ops is removed.
	write(strings.Replace(head, "127.0.0.1:0", "127.0.0.1:1", 1) + "    ingest_token: alerts-token-new-0123\n")
	reload(4)
	if !strings.Contains(stderr.String(), "msg=reload_ignored setting=listen") {
		t.Errorf("the listen change is not reported ignored:\n%s", stderr.String())
	}
	if code := post("alerts", "alerts-token-new-0123", "five"); code != 200 {
		t.Errorf("after a listen change: got %d, want 200", code)
	}
	if code := post("ops", "ops-token-from-file-0123", "gone"); code != http.StatusForbidden {
		t.Errorf("a removed space: got %d, want 403, as for a wrong token", code)
	}
	waitMessages(t, emu+"/api/v1", "AAAAreload1", 5)

	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil\nstderr:\n%s", err, stderr.String())
	}
	for _, secret := range []string{"emu-secret-token-1", "emu-secret-token-2", "ops-token-from-file-0123", "alerts-token-new-0123", "alerts-token-newer-0123"} {
		if out := stdout.String() + stderr.String(); strings.Contains(out, secret) {
			t.Errorf("the output contains %q:\n%s", secret, out)
		}
	}
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
