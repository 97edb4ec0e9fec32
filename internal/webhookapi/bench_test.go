package webhookapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures Parse on the emulator's hot path; "decode-only" is
// what a minimal JSON handler does with the same body, for comparison.
func BenchmarkParse(b *testing.B) {
	alert, err := os.ReadFile(filepath.Join("..", "..", "card", "testdata", "alert.json"))
	if err != nil {
		b.Fatal(err)
	}
	bodies := []struct {
		name string
		body []byte
	}{
		{"text", []byte(`{"text":"Deploy *succeeded* for ` + "`api`" + ` <https://ci.example.com/42|build 42>","thread":{"threadKey":"deploy-api"}}`)},
		{"card", []byte(`{"cardsV2":[` + string(alert) + `]}`)},
	}
	cfg := testConfig()
	u := &url.URL{Path: "/v1/spaces/" + testSpace + "/messages", RawQuery: "key=" + testKey + "&token=tok%3D&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"}
	for _, bb := range bodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			rd := bytes.NewReader(bb.body)
			r := &http.Request{Method: http.MethodPost, URL: u, Header: http.Header{}, ContentLength: int64(len(bb.body))}
			for b.Loop() {
				rd.Reset(bb.body)
				r.Body = io.NopCloser(rd)
				if _, e := Parse(r, cfg); e != nil {
					b.Fatal(e)
				}
			}
		})
		b.Run(bb.name+"/decode-only", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			rd := bytes.NewReader(bb.body)
			for b.Loop() {
				rd.Reset(bb.body)
				var v map[string]any
				if err := json.NewDecoder(rd).Decode(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
