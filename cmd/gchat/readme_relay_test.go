package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeRelayDemoAnswer runs the relay demo, posts the printed curl
// command's message and checks that the README shows the answer the demo
// gives, its random thread id aside.
func TestReadmeRelayDemoAnswer(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const intro = `the curl answer is the relay's "queued"`
	_, rest, ok := strings.Cut(string(readme), intro)
	if !ok {
		t.Fatalf("README.md does not say %q", intro)
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	shown, _, closed := strings.Cut(rest, "```\n")
	if !ok || !closed {
		t.Fatalf("README.md has no json block after %q", intro)
	}

	m, _, _, _ := startRelay(t, map[string]string{"PWD": t.TempDir()}, curlLine, "--listen", "127.0.0.1:0")
	waitReady(t, "http://"+m[2], "demo")
	resp, body := postJSON(t, m[1], `{"text":"Hello from the gchat relay demo"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: got %d:\n%s", resp.StatusCode, body)
	}
	for _, h := range []string{"X-Gchat-Delivery-Id: d0000000000000001", "X-Gchat-Delivery-State: queued"} {
		name, value, _ := strings.Cut(h, ": ")
		if got := resp.Header.Get(name); got != value || !strings.Contains(string(readme), "`"+h+"`") {
			t.Errorf("header %s: got %q; the README must show %q", name, got, h)
		}
	}
	thread := regexp.MustCompile(`threads/n[0-9a-f]+`)
	if got, want := thread.ReplaceAllString(body, "threads/ID"), thread.ReplaceAllString(shown, "threads/ID"); got != want {
		t.Errorf("README.md shows another answer than the demo gives:\nREADME:\n%s\ndemo:\n%s", want, got)
	}
}
