package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSendMessageKeepsPreviewText: gchat send --message follows the
// parser's leniency (docs/senders.md): Grafana's previewText, which Google
// accepts though its discovery document lacks it, is accepted and sent on.
func TestSendMessageKeepsPreviewText(t *testing.T) {
	srv := newChat(t)
	file := filepath.Join(t.TempDir(), "grafana.json")
	body := `{"previewText":"[FIRING:1] HighCPU","fallbackText":"[FIRING:1] HighCPU","cards":[{"header":{"title":"[FIRING:1] HighCPU"},"sections":[{"widgets":[{"textParagraph":{"text":"**Firing**"}}]}]}]}`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, t.Context(), map[string]string{"GCHAT_WEBHOOK": srv.hook()}, "", "send", "--message", file)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := srv.seen()[0].body["previewText"]; got != "[FIRING:1] HighCPU" {
		t.Errorf("sent previewText %v, want it kept", got)
	}
}
