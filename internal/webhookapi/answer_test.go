package webhookapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAnswer: the 200 body is the request's message plus name and
// thread.name, with a query threadKey echoed (a body key wins), and nothing
// else; the request's Body is left as it was.
func TestAnswer(t *testing.T) {
	tests := []struct {
		name, query, body string
		want              map[string]any
	}{
		{name: "text", body: `{"text":"hi"}`,
			want: map[string]any{"name": "spaces/S/messages/M", "text": "hi", "thread": map[string]any{"name": "spaces/S/threads/T"}}},
		{name: "body key", body: `{"text":"hi","thread":{"thread_key":"k"}}`,
			want: map[string]any{"name": "spaces/S/messages/M", "text": "hi", "thread": map[string]any{"name": "spaces/S/threads/T", "threadKey": "k"}}},
		{name: "query key echoed", query: "&threadKey=q", body: `{"text":"hi"}`,
			want: map[string]any{"name": "spaces/S/messages/M", "text": "hi", "thread": map[string]any{"name": "spaces/S/threads/T", "threadKey": "q"}}},
		{name: "body key wins", query: "&threadKey=q", body: `{"text":"hi","thread":{"threadKey":"k"}}`,
			want: map[string]any{"name": "spaces/S/messages/M", "text": "hi", "thread": map[string]any{"name": "spaces/S/threads/T", "threadKey": "k"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, e := Parse(httptest.NewRequest(http.MethodPost, base+tt.query, strings.NewReader(tt.body)), testConfig())
			if e != nil {
				t.Fatal(e)
			}
			before := cmp.Diff(map[string]any{}, req.Body)
			got := Answer(req, "spaces/S/messages/M", "spaces/S/threads/T")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if after := cmp.Diff(map[string]any{}, req.Body); after != before {
				t.Errorf("Answer changed req.Body:\n%s", after)
			}
		})
	}
}

// TestParseForeignThread: a thread of another space is refused with the
// configured status, unless ThreadSpaceValid lets it in.
func TestParseForeignThread(t *testing.T) {
	const foreign = "spaces/BBBBother02/threads/T1"
	body := `{"text":"x","thread":{"name":"` + foreign + `"}}`
	for _, tt := range []struct {
		name       string
		change     func(*Config)
		wantCode   int
		wantStatus string
	}{
		{name: "default", wantCode: 400, wantStatus: "INVALID_ARGUMENT"},
		{name: "404", change: func(c *Config) { c.ForeignThreadStatus = http.StatusNotFound }, wantCode: 404, wantStatus: "NOT_FOUND"},
		{name: "allowed", change: func(c *Config) {
			c.ThreadSpaceValid = func(space, threadSpace string) bool { return space == testSpace && threadSpace == "BBBBother02" }
		}, wantCode: 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.change != nil {
				tt.change(&cfg)
			}
			rec, _ := answer(t, httptest.NewRequest(http.MethodPost, base, strings.NewReader(body)), cfg)
			if rec.Code != tt.wantCode {
				t.Fatalf("got %d, want %d:\n%s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantStatus != "" {
				if got := decodeEnvelope(t, rec.Body.Bytes()); got.Status != tt.wantStatus {
					t.Errorf("status %q, want %q", got.Status, tt.wantStatus)
				}
			}
		})
	}
}

// TestMethodNotAllowedAllow: every 405 names the one method allowed.
func TestMethodNotAllowedAllow(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, nil, MethodNotAllowed())
	if got := rec.Header().Get("Allow"); got != http.MethodPost {
		t.Errorf("Allow %q, want POST", got)
	}
}
