package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
)

// lockedBuffer is a bytes.Buffer safe to write from the program and read
// from the test at the same time.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
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

// startEmulator runs "gchat emulator args..." in-process and returns its
// printed output once the webhook URLs are out, and a function that stops it
// and returns run's error.
func startEmulator(t *testing.T, wantURLs int, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"emulator", "--listen", "127.0.0.1:0"}, args...), func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(stdout.String(), "/messages?key=") < wantURLs {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("emulator stopped early: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no webhook URLs printed:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("emulator did not stop within 10 s")
			return nil
		}
	}
	return stdout.String(), stop
}

var webhookURLPattern = regexp.MustCompile(`http://\S+/v1/spaces/(\w+)/messages\?key=\S+&token=\S+`)

func TestEmulatorEndToEnd(t *testing.T) {
	out, stop := startEmulator(t, 2, "--space", "alerts", "--space", "deploys", "--token", "alerts=fixed-token-1", "--quota-per-second", "0")
	urls := webhookURLPattern.FindAllStringSubmatch(out, -1)
	if len(urls) != 2 || !strings.HasSuffix(urls[0][0], "&token=fixed-token-1") {
		t.Fatalf("printed webhook URLs %q, want two, the first with the fixed token", urls)
	}
	hook, err := gchat.ParseWebhook(urls[0][0])
	if err != nil {
		t.Fatal(err)
	}
	if hook.Space() != spaceID("alerts") {
		t.Errorf("space id %q, want the one derived from the name, %q", hook.Space(), spaceID("alerts"))
	}
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}}
	for _, text := range []string{"firing", "resolved"} {
		if _, err := client.Send(t.Context(), hook, &gchat.Message{Text: text, Thread: &gchat.Thread{ThreadKey: "k"}}); err != nil {
			t.Fatal(err)
		}
	}
	base := strings.SplitN(urls[0][0], "/v1/", 2)[0]
	resp, err := http.Get(base + "/api/v1/spaces/" + hook.Space() + "/threads")
	if err != nil {
		t.Fatal(err)
	}
	var threads struct {
		Threads []struct {
			ThreadKey    string `json:"threadKey"`
			MessageCount int    `json:"messageCount"`
		} `json:"threads"`
	}
	err = json.NewDecoder(resp.Body).Decode(&threads)
	resp.Body.Close()
	if err != nil || len(threads.Threads) != 1 || threads.Threads[0].MessageCount != 2 {
		t.Errorf("threads %+v (%v), want one thread of 2 messages", threads, err)
	}
	if err := stop(); err != nil {
		t.Errorf("run returned %v after a clean stop, want nil", err)
	}
}

func TestEmulatorUsageErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"busy port", []string{"--listen", busy.Addr().String()}, "address already in use"},
		{"bad guess", []string{"--listen", "127.0.0.1:0", "--or-fail", "maybe"}, "orFailUnknownThread"},
		{"bad precedence", []string{"--listen", "127.0.0.1:0", "--thread-precedence", "name"}, "threadPrecedence"},
		{"token for no space", []string{"--listen", "127.0.0.1:0", "--space", "a", "--token", "b=t"}, `no --space "b"`},
		{"bad fault", []string{"--listen", "127.0.0.1:0", "--fault-503", "2"}, "503"},
		{"argument", []string{"--listen", "127.0.0.1:0", "extra"}, "no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), nil, "", append([]string{"emulator"}, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tc.want)
			}
		})
	}
}
