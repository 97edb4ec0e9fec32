package webhookapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func fuzzRequest(body []byte, query string) *http.Request {
	q := "key=" + testKey + "&token=tok%3D"
	if query != "" {
		q += "&" + query
	}
	return &http.Request{
		Method:        http.MethodPost,
		URL:           &url.URL{Path: "/v1/spaces/" + testSpace + "/messages", RawQuery: q},
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

// FuzzParse: Parse never panics; every answer is a Request or an Error of
// 400, 403 or 413 that writes a valid envelope; a Request's Body, encoded and
// parsed again, gives the same Body; the JSON error reporter agrees with
// encoding/json on what is valid.
func FuzzParse(f *testing.F) {
	for _, body := range goldenBodies(f) {
		f.Add(body, "")
		f.Add(body, "prettyPrint=false&fields=cardsV2.cardId")
	}
	for _, seed := range []struct{ body, query string }{
		{`{"text":"hi","thread":{"thread_key":"k"}}`, "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
		{`{"cards_v2":[{"card":{"header":{"title":"t","image_type":"circle"}}}],"sender":{"name":"users/1"}}`, "alt=json&prettyPrint=false"},
		{`{"cards":[{"sections":[{"widgets":[{"keyValue":{"content":"c","icon":"STAR"}}]}]}]}`, ""},
		{`{"text":"hi","thread":{"name":"spaces/` + testSpace + `/threads/T"}}`, "messageId=client-x&requestId=r"},
		{`{"text":5}`, "foo=bar"},
		{`{"previewText":"p","fallbackText":"f","cards":[{"header":{"title":"t"},"sections":[{"widgets":[{"buttons":[{"textButton":{"text":"b","onClick":{"openLink":{"url":"https://x"}}}}]},{"image":{"imageUrl":"https://x/i.png"}}]}]}]}`, ""},
		{`Test message content`, ""},
		{`{"text" : "hi"`, ""},
		{`{"text":"hi"} }`, ""},
		{`[1,2]`, "threadKey=k"},
		{`{"cardsV2":{"card":{"sections":[{"uncollapsibleWidgetsCount":"3","collapsible":"yes","widgets":[{"divider":{}}]}]}}}`, ""},
		{`{"text":"a","createTime":"2024-01-01T00:00:00Z"}`, "%zz"},
	} {
		f.Add([]byte(seed.body), seed.query)
	}
	cfg := testConfig()
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		if !json.Valid(body) {
			if _, ok := syntaxError(body); !ok {
				t.Fatalf("encoding/json refuses %q, the reporter finds no error", body)
			}
		} else if msg, ok := syntaxError(body); ok && !strings.HasPrefix(msg, "Message too deep") {
			t.Fatalf("encoding/json accepts %q, the reporter says %q", body, msg)
		}

		req, e := Parse(fuzzRequest(body, query), cfg)
		if (req == nil) == (e == nil) {
			t.Fatalf("Parse returned Request %v and Error %v", req, e)
		}
		if e != nil {
			switch e.Code {
			case 400, 403, 413:
			default:
				t.Fatalf("code %d: %v", e.Code, e)
			}
			rec := newRecorder()
			WriteError(rec, nil, e)
			got := decodeEnvelope(t, rec.body.Bytes())
			if got.Code != e.Code || got.Status != e.Status || !utf8.ValidString(got.Message) {
				t.Fatalf("envelope %+v for %v", got, e)
			}
			if got.Message != e.Message && utf8.ValidString(e.Message) {
				t.Fatalf("envelope message %q, want %q", got.Message, e.Message)
			}
			return
		}
		again, err := json.Marshal(req.Body)
		if err != nil {
			t.Fatalf("encode Body: %v", err)
		}
		req2, e2 := Parse(fuzzRequest(again, query), cfg)
		if e2 != nil {
			t.Fatalf("Body %s parsed again: %v", again, e2)
		}
		if diff := cmp.Diff(req.Body, req2.Body); diff != "" {
			t.Fatalf("Body changed when parsed again (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(req.Message.CardsV2, req2.Message.CardsV2); diff != "" {
			t.Fatalf("Message.CardsV2 changed when parsed again (-first +second):\n%s", diff)
		}
		if req.Message.Text != req2.Message.Text {
			t.Fatalf("Message.Text changed when parsed again")
		}
		if got, want := encodedSize(req.Body), len(compactJSON(t, req.Body)); got != want {
			t.Fatalf("encodedSize %d, want %d", got, want)
		}
	})
}

// recorder is a minimal ResponseWriter (httptest.ResponseRecorder is fine
// too; this one keeps the fuzz loop lean).
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newRecorder() *recorder                    { return &recorder{header: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
