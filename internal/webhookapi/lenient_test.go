package webhookapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strconv"
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

// TestUnknownNamesAllReported: Google answers a body with several unknown
// names with every one of them, in the order of the body, joined by
// newlines, and one BadRequest detail listing each (observed:
// pydantic/logfire#1540, a Slack-shaped body).
func TestUnknownNamesAllReported(t *testing.T) {
	const (
		m1 = `Invalid JSON payload received. Unknown name "username" at 'message': Cannot find field.`
		m2 = `Invalid JSON payload received. Unknown name "attachments" at 'message': Cannot find field.`
		m3 = `Invalid JSON payload received. Unknown name "colour" at 'message.thread': Cannot find field.`
	)
	for _, tc := range []struct {
		name, body, wantMsg string
		wantDetails         []FieldViolation
	}{
		{"two, in body order", `{"text":"alert","username":"Logfire","attachments":[{"color":"#f00","text":"x"}]}`,
			m1 + "\n" + m2, []FieldViolation{{"message", m1}, {"message", m2}}},
		{"order of the body, not of names", `{"attachments":[],"username":"Logfire","text":"alert"}`,
			m2 + "\n" + m1, []FieldViolation{{"message", m2}, {"message", m1}}},
		{"a name written as a value first does not count", `{"text":"username","attachments":[],"username":"L"}`,
			m2 + "\n" + m1, []FieldViolation{{"message", m2}, {"message", m1}}},
		{"nested too", `{"text":"a","username":"L","thread":{"colour":"red"}}`,
			m1 + "\n" + m3, []FieldViolation{{"message", m1}, {"message.thread", m3}}},
		{"a type error wins", `{"text":5,"username":"L"}`, `Invalid value at 'message.text' (TYPE_STRING), 5`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _ := answer(t, httptest.NewRequest("POST", base, strings.NewReader(tc.body)), testConfig())
			e := decodeEnvelope(t, rec.Body.Bytes())
			if rec.Code != 400 || e.Message != tc.wantMsg {
				t.Fatalf("got %d %q, want 400 %q", rec.Code, e.Message, tc.wantMsg)
			}
			if tc.wantDetails == nil {
				return
			}
			var got bytes.Buffer
			if len(e.Details) == 1 {
				json.Compact(&got, e.Details[0])
			}
			if got.String() != string(BadRequest(tc.wantDetails...)) {
				t.Errorf("got details %s, want one BadRequest with %v", e.Details, tc.wantDetails)
			}
		})
	}
}

// TestUnknownNamesCapped: an answer lists at most maxUnknownNames names, so
// that a body of many short unknown names cannot make an answer many times
// its size.
func TestUnknownNamesCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"text":"x"`)
	for i := range 5000 {
		b.WriteString(`,"k` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString("}")
	rec, _ := answer(t, httptest.NewRequest("POST", base, strings.NewReader(b.String())), testConfig())
	e := decodeEnvelope(t, rec.Body.Bytes())
	lines := strings.Split(e.Message, "\n")
	if len(lines) != maxUnknownNames+1 || lines[maxUnknownNames] != "… and 4900 more unknown names." {
		t.Errorf("got %d lines ending %q, want %d names and a count of the rest", len(lines), lines[len(lines)-1], maxUnknownNames)
	}
	if rec.Body.Len() > 4*b.Len() {
		t.Errorf("a %d-byte body got a %d-byte answer", b.Len(), rec.Body.Len())
	}
}
