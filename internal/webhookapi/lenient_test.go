package webhookapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUndocumentedFields: a field Google accepts though the discovery
// document lacks it (previewText, observed) is accepted, kept in the echo
// and in the typed message, in either spelling and beside v1 cards; with
// StrictSchema it gets Google's 400 for an unknown name, like any field
// Google refuses.
func TestUndocumentedFields(t *testing.T) {
	const grafana = `{"previewText":"[FIRING:1] Disk","fallbackText":"[FIRING:1] Disk","cards":[{"header":{"title":"[FIRING:1] Disk"},"sections":[{"widgets":[{"textParagraph":{"text":"**Firing**"}}]}]}]}`
	for _, tc := range []struct {
		name, body string
		strict     bool
		wantCode   int
		wantMsg    string
		wantText   string // Message.PreviewText
	}{
		{name: "text with previewText", body: `{"text":"hi","previewText":"p"}`, wantCode: 200, wantText: "p"},
		{name: "snake_case preview_text", body: `{"text":"hi","preview_text":"p"}`, wantCode: 200, wantText: "p"},
		{name: "grafana cards v1", body: grafana, wantCode: 200, wantText: "[FIRING:1] Disk"},
		{name: "strict refuses previewText", body: grafana, strict: true, wantCode: 400,
			wantMsg: `Invalid JSON payload received. Unknown name "preview_text" at 'message': Cannot find field.`},
		{name: "an unknown field stays refused", body: `{"text":"hi","previewTexts":"p"}`, wantCode: 400,
			wantMsg: `Invalid JSON payload received. Unknown name "preview_texts" at 'message': Cannot find field.`},
		{name: "previewText is no content", body: `{"previewText":"p"}`, wantCode: 400, wantMsg: msgEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.StrictSchema = tc.strict
			r := httptest.NewRequest("POST", base, strings.NewReader(tc.body))
			rec, req := answer(t, r, cfg)
			if rec.Code != tc.wantCode {
				t.Fatalf("got %d, want %d\n%s", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantCode != 200 {
				if e := decodeEnvelope(t, rec.Body.Bytes()); e.Message != tc.wantMsg {
					t.Errorf("got message %q, want %q", e.Message, tc.wantMsg)
				}
				return
			}
			if req.Message.PreviewText != tc.wantText {
				t.Errorf("got Message.PreviewText %q, want %q", req.Message.PreviewText, tc.wantText)
			}
			if got := req.Body["previewText"]; got != tc.wantText {
				t.Errorf("got echoed previewText %v, want %q", got, tc.wantText)
			}
		})
	}
}
