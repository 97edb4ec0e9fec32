package main

import (
	"net/url"

	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/gchatkit/gchat/gchattest"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// result is what one in-process run of the program produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the program in-process with the given environment and stdin.
func runCLI(tb testing.TB, ctx context.Context, env map[string]string, stdin string, args ...string) result {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(ctx, args, getenv, strings.NewReader(stdin), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// canary is the webhook token of every test: it must never be printed.
const canary = "CANARYtoken%3D"

func assertNoCanary(tb testing.TB, r result) {
	tb.Helper()
	for _, s := range []string{"CANARYtoken", "AIzaSyTESTKEY"} {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			tb.Errorf("output leaks %s:\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
}

// chat is a stand-in for Google Chat's webhook endpoint: it records requests
// and answers each with the next scripted status (200 when the script is out).
type chat struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	script   []int
}

type recorded struct {
	query map[string][]string
	body  map[string]any
}

func newChat(tb testing.TB, script ...int) *chat {
	c := &chat{script: script}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	tb.Cleanup(c.Close)
	return c
}

func (c *chat) serve(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(data, &body)
	c.mu.Lock()
	n := len(c.requests)
	c.requests = append(c.requests, recorded{query: r.URL.Query(), body: body})
	status := 200
	if n < len(c.script) {
		status = c.script[n]
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	switch status {
	case 200:
		fmt.Fprintf(w, `{"name":"spaces/AAAAtest123/messages/m%d.t1","thread":{"name":"spaces/AAAAtest123/threads/t1"}}`, n+1)
	case 400:
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"body\" at 'message': Cannot find field.","status":"INVALID_ARGUMENT"}}`)
	case 429:
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`)
	default:
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`, status)
	}
}

func (c *chat) seen() []recorded {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recorded(nil), c.requests...)
}

func (c *chat) hook() string {
	return c.URL + "/v1/spaces/AAAAtest123/messages?key=AIzaSyTESTKEY&token=" + canary
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"help.golden", []string{"--help"}},
		{"help.golden", []string{"help"}},
		{"send-help.golden", []string{"send", "--help"}},
		{"send-help.golden", []string{"help", "send"}},
		{"version-help.golden", []string{"version", "-h"}},
		{"emulator-help.golden", []string{"emulator", "--help"}},
		{"migrate-help.golden", []string{"migrate", "--help"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, t.Context(), nil, "", tc.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", r.code, r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, t.Context(), nil, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "gchat ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("got exit %d, %q; want 0 and \"gchat VERSION goX\"", r.code, r.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	srv := newChat(t)
	env := map[string]string{"GCHAT_WEBHOOK": srv.hook()}
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	os.WriteFile(badJSON, []byte("{\n  \"text\": \"x\",\n  \"body\": 1\n}"), 0o644)
	brokenJSON := filepath.Join(dir, "broken.json")
	os.WriteFile(brokenJSON, []byte("{\n  \"header\": {\"title\": \"x\"},\n  \"sections\": [\n}"), 0o644)
	badCard := filepath.Join(dir, "card.json")
	os.WriteFile(badCard, []byte(`{"sections":[{"widgets":[{"buttonList":{"buttons":[{"text":"open","onClick":{"openLink":{"url":"/relative"}}}]}}]}]}`), 0o644)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no command", env, nil, "no command given"},
		{"unknown command", env, []string{"sned"}, `unknown command "sned"`},
		{"unknown flag", env, []string{"send", "--colour", "x"}, "flag provided but not defined: -colour"},
		{"no webhook", nil, []string{"send", "hi"}, "no webhook"},
		{"bad webhook", map[string]string{"GCHAT_WEBHOOK": "https://chat.googleapis.com/v1/spaces/S/messages?token=" + canary}, []string{"send", "hi"}, `$GCHAT_WEBHOOK: parse webhook URL: query parameter "key" is missing`},
		{"empty message", env, []string{"send", ""}, "message is empty"},
		{"bad reply option", env, []string{"send", "--reply-option", "maybe", "hi"}, `--reply-option "maybe"`},
		{"bad message id", env, []string{"send", "--message-id", "x1", "hi"}, "--message-id"},
		{"negative retries", env, []string{"send", "--retries", "-1", "hi"}, "--retries -1"},
		{"unknown field", env, []string{"send", "--message", badJSON}, `unknown field "body"`},
		{"broken json", env, []string{"send", "--card", brokenJSON}, "line 4, column 1"},
		{"missing file", env, []string{"send", "--card", filepath.Join(dir, "nope.json")}, "no such file"},
		{"card error", env, []string{"send", "--card", badCard}, "cardsV2[0].card.sections[0].widgets[0].buttonList.buttons[0].onClick.openLink.url"},
		{"bad thread name", env, []string{"send", "--thread", "spaces/x", "hi"}, "thread.name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), tc.env, "", tc.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, tc.want)
			}
			assertNoCanary(t, r)
		})
	}
	if n := len(srv.seen()); n != 0 {
		t.Errorf("%d requests sent by invalid commands, want 0", n)
	}
}

func TestSendExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   []int
		args     []string
		code     int
		requests int
		want     string // on stdout for 0, on stderr otherwise
	}{
		{"sent", nil, []string{"hello"}, exitOK, 1, "message spaces/AAAAtest123/messages/m1.t1\nthread  spaces/AAAAtest123/threads/t1\n"},
		{"retried then sent", []int{503, 429}, []string{"hello"}, exitOK, 3, "message spaces/AAAAtest123/messages/m3.t1"},
		{"rejected", []int{400}, []string{"hello"}, exitRejected, 1, "HTTP 400 INVALID_ARGUMENT: Invalid JSON payload received."},
		{"gave up", []int{503, 503}, []string{"--retries", "1", "hello"}, exitGaveUp, 2, "gave up after 2 attempts"},
		{"no retries", []int{429}, []string{"--retries", "0", "hello"}, exitGaveUp, 1, "RESOURCE_EXHAUSTED"},
		{"later part rejected", []int{200, 400}, []string{strings.Repeat("word ", 1000)}, exitRejected, 2, "part 2 of 2 (parts 1-1 were sent)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newChat(t, tc.script...)
			args := append([]string{"send", "--webhook", srv.hook()}, tc.args...)
			r := runCLI(t, t.Context(), nil, "", args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			out := r.stderr
			if tc.code == exitOK {
				out = r.stdout
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output %q does not say %q", out, tc.want)
			}
			if n := len(srv.seen()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			assertNoCanary(t, r)
		})
	}
}

func TestSendInterrupted(t *testing.T) {
	srv := newChat(t, 503, 503, 503, 503, 503)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for len(srv.seen()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel() // Ctrl-C during the first backoff
	}()
	start := time.Now()
	r := runCLI(t, ctx, nil, "", "send", "--webhook", srv.hook(), "--retries", "4", "hello")
	if r.code != exitGaveUp || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("exit %d, stderr %q; want %d and \"interrupted\"", r.code, r.stderr, exitGaveUp)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop: retries did not stop at once", d)
	}
}

func TestSendFromStdinWithThreadAndOptions(t *testing.T) {
	srv := newChat(t)
	r := runCLI(t, t.Context(), map[string]string{"GCHAT_WEBHOOK": srv.hook()}, "Disk full on db-1\n",
		"send", "--thread", "incident-42", "--message-id", "client-incident-42", "--request-id", "req-1", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := srv.seen()[0]
	want := recorded{
		query: map[string][]string{"key": {"AIzaSyTESTKEY"}, "token": {"CANARYtoken="}, "messageId": {"client-incident-42"},
			"requestId": {"req-1"}, "messageReplyOption": {"REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"}},
		body: map[string]any{"text": "Disk full on db-1", "thread": map[string]any{"threadKey": "incident-42"}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(recorded{})); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	golden(t, "send-json.golden", r.stdout)
}

func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	cardFile := filepath.Join(dir, "card.json")
	os.WriteFile(cardFile, []byte(`{"header":{"title":"Deploy"},"sections":[{"widgets":[{"textParagraph":{"text":"v1.2.3 is <b>live</b> & well"}}]}]}`), 0o644)
	r := runCLI(t, t.Context(), map[string]string{"GCHAT_WEBHOOK": "https://chat.googleapis.com/v1/spaces/AAAAtest123/messages?key=AIzaSyTESTKEY&token=" + canary}, "",
		"send", "--dry-run", "--card", cardFile, "--thread", "deploys", "--reply-option", "fail", "--request-id", "req-7", "Deployed <https://example.com|v1.2.3>")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	assertNoCanary(t, r)
	golden(t, "send-dry-run.golden", r.stdout)
}

// TestReadmeDryRun runs the README's first command and checks that the README
// shows its real output.
func TestReadmeDryRun(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ go run ./cmd/gchat send --dry-run "
	_, block, ok := strings.Cut(string(readme), prompt)
	if !ok {
		t.Fatalf("README.md has no %q block", prompt)
	}
	block, _, _ = strings.Cut(block, "```")
	var command strings.Builder
	lines := strings.SplitAfter(block, "\n")
	for len(lines) > 0 {
		line := lines[0]
		lines = lines[1:]
		if cont, ok := strings.CutSuffix(line, "\\\n"); ok {
			command.WriteString(cont)
			continue
		}
		command.WriteString(line)
		break
	}
	args := append([]string{"send", "--dry-run"}, shellWords(command.String())...)
	r := runCLI(t, t.Context(), nil, "", args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if diff := cmp.Diff(strings.Join(lines, ""), r.stdout); diff != "" {
		t.Errorf("README.md shows other output than gchat %q gives (-readme +real):\n%s", args, diff)
	}
}

// shellWords splits a command line as sh does for words and single quotes.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, c := range s {
		switch {
		case c == '\'':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\n' || c == '\t'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("spaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token: 0123456789abcdef0123\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("spaces:\n  alerts:\n    webhook_url: ${HOOK}\n    pase: 2s\n"), 0o644)
	env := map[string]string{"HOOK": "https://chat.googleapis.com/v1/spaces/AAAAtest123/messages?key=AIzaSyTESTKEY&token=" + canary}

	r := runCLI(t, t.Context(), env, "", "config", "check", good)
	if r.code != 0 || !strings.Contains(r.stdout, "OK") {
		t.Errorf("valid file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	assertNoCanary(t, r)

	r = runCLI(t, t.Context(), env, "", "config", "check", bad)
	if want := bad + `:4:5: spaces.alerts: unknown key "pase" (did you mean "pace"?)`; r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("invalid file: exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
	assertNoCanary(t, r)

	// A secret file every user may read is accepted, with a warning.
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("0123456789abcdef0123-CANARYtoken\n"), 0o600)
	os.Chmod(tokenFile, 0o644)
	exposed := filepath.Join(dir, "exposed.yaml")
	os.WriteFile(exposed, []byte("spaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token_file: token\n"), 0o644)
	r = runCLI(t, t.Context(), env, "", "config", "check", exposed)
	if want := "warning: " + exposed + ":4:24: spaces.alerts.ingest_token_file: " + tokenFile + " is open to every user (mode 0644)"; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("exposed secret file: exit %d, stderr %q; want 0 and %q", r.code, r.stderr, want)
	}
	assertNoCanary(t, r)
	os.Chmod(tokenFile, 0o640)
	if r = runCLI(t, t.Context(), env, "", "config", "check", exposed); r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Errorf("secret file 0640: exit %d, stderr %q; want 0 and no warning", r.code, r.stderr)
	}

	r = runCLI(t, t.Context(), env, "", "config", "check", filepath.Join(dir, "missing.yaml"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestConfigCheckRoutes: each route is tried with its sample; a template
// that makes a message Google would refuse is reported with the file, line
// and field; --send posts the sample's messages through the route.
func TestConfigCheckRoutes(t *testing.T) {
	chat := gchattest.NewServer(t)
	u, err := url.Parse(chat.WebhookURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "uptime.json"), []byte(`{"monitor":{"name":"api","url":"https://api.example.com"},"heartbeat":{"status":0,"msg":"timeout"}}`), 0o644)
	head := "allowed_hosts: [" + u.Host + "]\nspaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token: 0123456789abcdef0123\nroutes:\n" +
		"  - name: prom\n    source: alertmanager\n    spaces: [alerts]\n    thread: incident\n"
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(head+
		"  - name: uptime\n    source: json\n    spaces: [alerts]\n    sample_file: uptime.json\n    template:\n"+
		"      text: \"{{ .monitor.name }} is down: {{ .heartbeat.msg }}\"\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(head+
		"  - name: uptime\n    source: json\n    spaces: [alerts]\n    sample_file: uptime.json\n    template:\n"+
		"      card:\n        sections:\n          - widgets:\n              - buttons: [{text: Open, url: \"{{ .monitor.name }}\"}]\n"), 0o644)
	env := map[string]string{"HOOK": chat.WebhookURL}

	r := runCLI(t, t.Context(), env, "", "config", "check", good)
	if r.code != 0 || !strings.Contains(r.stdout, "route prom: the built-in Alertmanager sample makes 1 message(s)") ||
		!strings.Contains(r.stdout, "route uptime: "+filepath.Join(dir, "uptime.json")+" makes 1 message(s)") {
		t.Errorf("valid file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if n := len(chat.Messages()); n != 0 {
		t.Errorf("check without --send posted %d messages", n)
	}

	r = runCLI(t, t.Context(), env, "", "config", "check", bad)
	if want := bad + ":19:45: routes[1].template.card.sections[0].widgets[0].buttons[0].url: with " + filepath.Join(dir, "uptime.json"); r.code != exitUsage || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "not an absolute http or https URL") {
		t.Errorf("bad template: exit %d, stderr %q; want 1 and %q about the link", r.code, r.stderr, want)
	}

	r = runCLI(t, t.Context(), env, "", "config", "check", "--send", "prom", good)
	if r.code != 0 || !strings.Contains(r.stdout, "sent to space alerts: message spaces/") {
		t.Fatalf("--send: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	msgs := chat.Messages()
	if len(msgs) != 1 || len(msgs[0].Message.CardsV2) != 1 || !strings.Contains(msgs[0].Message.FallbackText, "DiskFull") {
		t.Errorf("--send posted %+v, want the sample's alert card", msgs)
	}

	r = runCLI(t, t.Context(), env, "", "config", "check", "--send", "nope", good)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--send nope: no such route") {
		t.Errorf("--send unknown route: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestExamplesCheck runs `gchat config check` on the source examples: every
// route's template or card renders its sample into messages Google takes.
func TestExamplesCheck(t *testing.T) {
	hook := func(space string) string {
		return "https://chat.googleapis.com/v1/spaces/" + space + "/messages?key=AIzaSyTESTKEY&token=" + canary
	}
	env := map[string]string{
		"GCHAT_ALERTS_WEBHOOK": hook("AAAAalerts1"), "GCHAT_ONCALL_WEBHOOK": hook("AAAAoncall1"), "GCHAT_DEV_WEBHOOK": hook("AAAAdev0001"),
		"GCHAT_ALERTMANAGER_TOKEN": "0123456789abcdef-am", "GCHAT_GRAFANA_PASSWORD": "0123456789abcdef-gr", "GCHAT_EVENTS_TOKEN": "0123456789abcdef-ev",
	}
	for file, want := range map[string][]string{
		"alertmanager.yaml": {"route prometheus: the built-in Alertmanager sample makes 2 message(s)", "route grafana: the built-in Grafana sample makes 1 message(s)"},
		"events.yaml":       {"route github-issues: ", "route github-pulls: ", "route gitlab-pipelines: ", "route uptime: "},
	} {
		t.Run(file, func(t *testing.T) {
			r := runCLI(t, t.Context(), env, "", "config", "check", filepath.Join("..", "..", "examples", file))
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "makes none") || strings.Contains(r.stdout, "not tried") {
				t.Errorf("a route made nothing of its sample:\n%s", r.stdout)
			}
			assertNoCanary(t, r)
		})
	}
}
