package webhookapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

const (
	testKey   = "AIzaSyTESTKEY"
	testToken = "tok="
	testSpace = "AAAAb1cD2eF"
	base      = "/v1/spaces/" + testSpace + "/messages?key=" + testKey + "&token=tok%3D"
)

func testConfig() Config {
	return Config{
		KeyValid: func(k string) bool { return k == testKey },
		TokenValid: func(space, tok string) (bool, *Error) {
			if tok == "disabled" {
				return false, PermissionDenied("The caller does not have permission")
			}
			return space == testSpace && tok == testToken, nil
		},
	}
}

// answer runs Parse and writes its answer as a handler would.
func answer(t testing.TB, r *http.Request, cfg Config) (*httptest.ResponseRecorder, *Request) {
	t.Helper()
	rec := httptest.NewRecorder()
	req, e := Parse(r, cfg)
	switch {
	case e != nil && req != nil:
		t.Fatalf("Parse returned both a Request and an error %v", e)
	case e != nil:
		WriteError(rec, nil, e)
	case req == nil:
		t.Fatal("Parse returned neither a Request nor an error")
	default:
		WriteMessage(rec, req, req.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("Content-Type %q, want application/json; charset=UTF-8", ct)
	}
	return rec, req
}

type gotError struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Status  string            `json:"status"`
	Details []json.RawMessage `json:"details"`
}

func decodeEnvelope(t testing.TB, body []byte) gotError {
	t.Helper()
	var env struct {
		Error *gotError `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error == nil {
		t.Fatalf("not Google's error envelope (%v):\n%s", err, body)
	}
	return *env.Error
}

func errorInfoKey() string {
	return `{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"chat.googleapis.com"}}`
}

func badRequest(field, desc string) string {
	return string(BadRequest(FieldViolation{Field: field, Description: desc}))
}

func TestParse(t *testing.T) {
	big := strings.Repeat("x", 32000-len(`{"text":""}`))
	type tc struct {
		name        string
		method      string // default POST
		target      string // default base
		body        string
		header      http.Header
		cfg         func(*Config)
		pathValue   string
		wantCode    int    // default 200
		wantStatus  string // Google status of an error
		wantMessage string
		wantDetails []string
		check       func(t *testing.T, req *Request, raw []byte)
	}
	tests := []tc{
		// docs/google-chat.md §1.1, §11.1 routing
		{name: "§11.1/GET → 405", method: http.MethodGet, body: `{"text":"hi"}`, wantCode: 405, wantStatus: "METHOD_NOT_ALLOWED", wantMessage: "Only POST is supported on /v1/spaces/{space}/messages."},
		{name: "§1.1/path without a space → 404", target: "/v1/spaces//messages?key=" + testKey + "&token=tok%3D", body: `{"text":"hi"}`, wantCode: 404, wantStatus: "NOT_FOUND", wantMessage: "Requested entity was not found."},
		{name: "§11.1/space outside [A-Za-z0-9_-] → 404", target: "/v1/spaces/a.b/messages?key=" + testKey + "&token=tok%3D", body: `{"text":"hi"}`, wantCode: 404, wantStatus: "NOT_FOUND", wantMessage: "Requested entity was not found."},
		{name: "§1.1/any prefix before /v1/", target: "/relay/x/v1/spaces/" + testSpace + "/messages?key=" + testKey + "&token=tok%3D", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.Space != testSpace {
					t.Errorf("Space %q, want %q", req.Space, testSpace)
				}
			}},
		{name: "§1.1/space from the route's PathValue", target: "/hooks/x?key=" + testKey + "&token=tok%3D", pathValue: testSpace, body: `{"text":"hi"}`},

		// docs/google-chat.md §11.2 authentication, in Google's order
		{name: "§11.2/no key and no token → 403", target: "/v1/spaces/" + testSpace + "/messages", body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgUnregistered},
		{name: "§11.2/token without key → 403 unregistered", target: "/v1/spaces/" + testSpace + "/messages?token=tok%3D", body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgUnregistered},
		{name: "§11.2/no key comes before a bad body", target: "/v1/spaces/" + testSpace + "/messages", body: `not json`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgUnregistered},
		{name: "§11.2/wrong key → 400 API_KEY_INVALID", target: "/v1/spaces/" + testSpace + "/messages?key=AIzaSyWRONG&token=tok%3D", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgKeyInvalid, wantDetails: []string{errorInfoKey()}},
		{name: "§11.2/wrong key without token → 400 before the token", target: "/v1/spaces/" + testSpace + "/messages?key=AIzaSyWRONG", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgKeyInvalid, wantDetails: []string{errorInfoKey()}},
		{name: "§11.2/key without token → 403 no valid token", target: "/v1/spaces/" + testSpace + "/messages?key=" + testKey, body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgNoToken},
		{name: "§10/&amp; in the URL loses the token → 403", target: "/v1/spaces/" + testSpace + "/messages?key=" + testKey + "&amp;token=tok%3D", body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgNoToken},
		{name: "§11.2/unknown token → 403 no valid token", target: "/v1/spaces/" + testSpace + "/messages?key=" + testKey + "&token=nope", body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgNoToken},
		{name: "§11.2/token of another space → 403", target: "/v1/spaces/OTHER/messages?key=" + testKey + "&token=tok%3D", body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgNoToken},
		{name: "§11.2/TokenValid's own error (apps disabled for the OU)", target: "/v1/spaces/" + testSpace + "/messages?key=" + testKey + "&token=disabled", body: `{"text":"hi"}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: "The caller does not have permission"},
		{name: "§1.2/token with %3D is compared decoded", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.Token != testToken || req.Key != testKey {
					t.Errorf("Key, Token = %q, %q", req.Key, req.Token)
				}
			}},
		{name: "§11.2/nil KeyValid and TokenValid accept any", target: "/v1/spaces/S/messages?key=k&token=t", body: `{"text":"hi"}`, cfg: func(c *Config) { *c = Config{} }},

		// docs/google-chat.md §1.3 query parameters
		{name: "§1.3/unknown parameter → 400", target: base + "&foo=1", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "foo": Cannot bind query parameter. Field 'foo' could not be found in request message.`,
			wantDetails: []string{badRequest("", `Invalid JSON payload received. Unknown name "foo": Cannot bind query parameter. Field 'foo' could not be found in request message.`)}},
		{name: "§1.3/unknown messageReplyOption → 400", target: base + "&messageReplyOption=REPLY", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message_reply_option' (type.googleapis.com/google.chat.v1.CreateMessageRequest.MessageReplyOption), "REPLY"`,
			wantDetails: []string{badRequest("message_reply_option", `Invalid value at 'message_reply_option' (type.googleapis.com/google.chat.v1.CreateMessageRequest.MessageReplyOption), "REPLY"`)}},
		{name: "§1.3/messageReplyOption FALLBACK", target: base + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", body: `{"text":"hi","thread":{"threadKey":"k"}}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.ReplyOption != gchat.ReplyFallbackToNewThread || !req.ReplyOptionSet {
					t.Errorf("ReplyOption %v set %v", req.ReplyOption, req.ReplyOptionSet)
				}
			}},
		{name: "§1.3/messageReplyOption case-insensitive, snake_case name", target: base + "&message_reply_option=reply-message-or-fail", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.ReplyOption != gchat.ReplyOrFail {
					t.Errorf("ReplyOption %v, want ReplyOrFail", req.ReplyOption)
				}
			}},
		{name: "§1.3/explicit MESSAGE_REPLY_OPTION_UNSPECIFIED is set", target: base + "&messageReplyOption=MESSAGE_REPLY_OPTION_UNSPECIFIED", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.ReplyOption != gchat.ReplyNewThread || !req.ReplyOptionSet {
					t.Errorf("ReplyOption %v set %v, want ReplyNewThread set", req.ReplyOption, req.ReplyOptionSet)
				}
			}},
		{name: "§1.3/no messageReplyOption is unset", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.ReplyOption != gchat.ReplyUnset || req.ReplyOptionSet {
					t.Errorf("ReplyOption %v set %v, want unset", req.ReplyOption, req.ReplyOptionSet)
				}
			}},
		{name: "§1.3/threadKey, messageId, requestId parameters", target: base + "&threadKey=deploy&messageId=client-abc-1&requestId=r-1&createMessageNotificationOptions.notificationType=notification_type_silent", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				want := [4]string{"deploy", "client-abc-1", "r-1", "NOTIFICATION_TYPE_SILENT"}
				if got := [4]string{req.ThreadKeyParam, req.MessageID, req.RequestID, req.NotificationType}; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			}},
		{name: "§1.3/snake_case thread_key parameter", target: base + "&thread_key=deploy", body: `{"text":"hi"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.ThreadKeyParam != "deploy" {
					t.Errorf("ThreadKeyParam %q", req.ThreadKeyParam)
				}
			}},
		{name: "§1.3/invalid messageId → 400", target: base + "&messageId=custom", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid message ID. A custom message ID must begin with "client-", have at most 63 characters and contain only lowercase letters, numbers and hyphens.`,
			wantDetails: []string{badRequest("message_id", `messageId "custom": must begin with "client-" and have more after it`)}},
		{name: "§4.1/threadKey parameter over 4000 characters → 400", target: base + "&threadKey=" + strings.Repeat("k", 4001), body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Thread key is longer than 4000 characters.",
			wantDetails: []string{badRequest("thread_key", "Thread key is longer than 4000 characters.")}},
		{name: "§1.3/platform parameters accepted and ignored", target: base + "&alt=json&quotaUser=u&%24.xgafv=2&callback=cb&upload_protocol=raw&uploadType=media&access_token=a&oauth_token=o", body: `{"text":"hi"}`},
		{name: "§1.3/alt=proto → 400", target: base + "&alt=proto", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Request contains an invalid argument.",
			wantDetails: []string{badRequest("alt", "only alt=json is supported")}},
		{name: "§1.3/alt=media → 400", target: base + "&alt=media", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Request contains an invalid argument.",
			wantDetails: []string{badRequest("alt", "only alt=json is supported")}},
		{name: "§1.3/alt=xml → 400", target: base + "&alt=xml", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: `Invalid value at 'alt' (TYPE_ENUM), "xml"`,
			wantDetails: []string{badRequest("alt", `Invalid value at 'alt' (TYPE_ENUM), "xml"`)}},
		{name: "§1.3/prettyPrint=maybe → 400", target: base + "&prettyPrint=maybe", body: `{"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: `Invalid value at 'pretty_print' (TYPE_BOOL), "maybe"`,
			wantDetails: []string{badRequest("pretty_print", `Invalid value at 'pretty_print' (TYPE_BOOL), "maybe"`)}},
		{name: "§1.3/alt=json&prettyPrint=false → compact answer", target: base + "&alt=json&prettyPrint=false", body: `{"text":"hi","thread":{"threadKey":"k"}}`,
			check: func(t *testing.T, req *Request, raw []byte) {
				if want := `{"text":"hi","thread":{"threadKey":"k"}}`; string(raw) != want {
					t.Errorf("answer %q, want %q", raw, want)
				}
			}},
		{name: "§1.3/prettyPrint=false → compact error", target: base + "&prettyPrint=false", body: `{}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty,
			check: func(t *testing.T, _ *Request, raw []byte) {
				if want := `{"error":{"code":400,"message":"Message cannot be empty.","status":"INVALID_ARGUMENT"}}`; string(raw) != want {
					t.Errorf("answer %q, want %q", raw, want)
				}
			}},
		{name: "§1.3/prettyPrint=false → compact 403", target: "/v1/spaces/" + testSpace + "/messages?prettyPrint=false", body: `{}`, wantCode: 403, wantStatus: "PERMISSION_DENIED", wantMessage: msgUnregistered,
			check: func(t *testing.T, _ *Request, raw []byte) {
				if bytes.Contains(raw, []byte("\n")) {
					t.Errorf("answer not compact: %q", raw)
				}
			}},
		{name: "§1.3/fields=text,thread.threadKey selects", target: base + "&fields=text,thread.threadKey", body: `{"text":"hi","fallbackText":"f","thread":{"threadKey":"k","name":"spaces/` + testSpace + `/threads/T"}}`,
			check: func(t *testing.T, _ *Request, raw []byte) {
				if want := "{\n  \"text\": \"hi\",\n  \"thread\": {\n    \"threadKey\": \"k\"\n  }\n}\n"; string(raw) != want {
					t.Errorf("answer %q, want %q", raw, want)
				}
			}},
		{name: "§1.3/fields with / and sub-selection", target: base + "&fields=thread(name),fallbackText", body: `{"text":"hi","fallbackText":"f","thread":{"threadKey":"k","name":"spaces/` + testSpace + `/threads/T"}}`,
			check: func(t *testing.T, _ *Request, raw []byte) {
				if want := "{\n  \"fallbackText\": \"f\",\n  \"thread\": {\n    \"name\": \"spaces/" + testSpace + "/threads/T\"\n  }\n}\n"; string(raw) != want {
					t.Errorf("answer %q, want %q", raw, want)
				}
			}},

		// docs/google-chat.md §1.4 HTTP request details
		{name: "§1.4/no Content-Type accepted", body: `{"text":"hi"}`, header: http.Header{}},
		{name: "§1.4/text/plain Content-Type still read as JSON", body: `{"text":"hi"}`, header: http.Header{"Content-Type": {"text/plain"}}},
		{name: "§5/answer pretty-printed with two spaces and a final newline", body: `{"text":"a<b"}`,
			check: func(t *testing.T, _ *Request, raw []byte) {
				if want := "{\n  \"text\": \"a\\u003cb\"\n}\n"; string(raw) != want {
					t.Errorf("answer %q, want %q", raw, want)
				}
			}},

		// docs/google-chat.md §2.1 JSON
		{name: "§2.1/not JSON → 400 Unexpected token", body: `Test message content`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Invalid JSON payload received. Unexpected token.\nTest message content\n^"},
		{name: "§2.1/bad token inside → context and caret", body: `{"text": "a", "thread": nope}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Invalid JSON payload received. Unexpected token.\nxt\": \"a\", \"thread\": nope}\n                    ^"},
		{name: "§2.1/missing colon", body: `{"text"  "hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Invalid JSON payload received. Expected : between key:value pair.\n{\"text\"  \"hi\"}\n         ^"},
		{name: "§2.1/truncated → Unexpected end of string", body: `{"text" : "hi"`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Invalid JSON payload received. Unexpected end of string. Expected , or } after key:value pair.\n\n^"},
		{name: "§2.1/trailing data", body: `{"text":"hi"} x`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Invalid JSON payload received. Parsing terminated before end of input.\n{\"text\":\"hi\"} x\n              ^"},
		{name: "§1.4/invalid UTF-8 → 400", body: "{\"text\":\"\xff\"}", wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Invalid JSON payload received. Invalid UTF-8 in the request body."},
		{name: "§2.1/unknown field → 400 with BadRequest", body: `{"body":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "body" at 'message': Cannot find field.`,
			wantDetails: []string{badRequest("message", `Invalid JSON payload received. Unknown name "body" at 'message': Cannot find field.`)}},
		{name: "§2.1/nested unknown field → snake_case location", body: `{"cardsV2":[{"cardId":"a","card":{"sections":[{"widgets":[{"divider":{}}]}],"headr":{}}}]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "headr" at 'message.cards_v2[0].card': Cannot find field.`,
			wantDetails: []string{badRequest("message.cards_v2[0].card", `Invalid JSON payload received. Unknown name "headr" at 'message.cards_v2[0].card': Cannot find field.`)}},
		{name: "§2.1/unknown name reported in snake_case", body: `{"text":"hi","cardsV3":[]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "cards_v3" at 'message': Cannot find field.`,
			wantDetails: []string{badRequest("message", `Invalid JSON payload received. Unknown name "cards_v3" at 'message': Cannot find field.`)}},
		{name: "§2.1/names are case-sensitive", body: `{"Text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "text" at 'message': Cannot find field.`,
			wantDetails: []string{badRequest("message", `Invalid JSON payload received. Unknown name "text" at 'message': Cannot find field.`)}},
		{name: "§2.1/number for a string → Invalid value TYPE_STRING", body: `{"text":5}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message.text' (TYPE_STRING), 5`, wantDetails: []string{badRequest("message.text", `Invalid value at 'message.text' (TYPE_STRING), 5`)}},
		{name: "§2.1/string for a message → Invalid value with type URL", body: `{"text":"hi","thread":"t"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message.thread' (type.googleapis.com/google.chat.v1.Thread), "t"`,
			wantDetails: []string{badRequest("message.thread", `Invalid value at 'message.thread' (type.googleapis.com/google.chat.v1.Thread), "t"`)}},
		{name: "§2.1/list for a single field → not repeating", body: `{"text":["a"]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "text" at 'message': Proto field is not repeating, cannot start list.`,
			wantDetails: []string{badRequest("message", `Invalid JSON payload received. Unknown name "text" at 'message': Proto field is not repeating, cannot start list.`)}},
		{name: "§2.1/string for a bool", body: `{"cardsV2":[{"card":{"sections":[{"collapsible":"maybe","widgets":[{"divider":{}}]}]}}]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message.cards_v2[0].card.sections[0].collapsible' (TYPE_BOOL), "maybe"`,
			wantDetails: []string{badRequest("message.cards_v2[0].card.sections[0].collapsible", `Invalid value at 'message.cards_v2[0].card.sections[0].collapsible' (TYPE_BOOL), "maybe"`)}},
		{name: "§2.1/unknown enum value → 400", body: `{"cardsV2":[{"card":{"header":{"title":"t","imageType":"OVAL"}}}]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message.cards_v2[0].card.header.image_type' (TYPE_ENUM), "OVAL"`,
			wantDetails: []string{badRequest("message.cards_v2[0].card.header.image_type", `Invalid value at 'message.cards_v2[0].card.header.image_type' (TYPE_ENUM), "OVAL"`)}},
		{name: "§2.1/enum names case-insensitive, normalised", body: `{"cardsV2":[{"card":{"header":{"title":"t","imageType":"circle"}}}]}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if got := req.Message.CardsV2[0].Card.Header.ImageType; got != "CIRCLE" {
					t.Errorf("imageType %q, want CIRCLE", got)
				}
			}},
		{name: "§2.1/non-integral int32 → 400", body: `{"cardsV2":[{"card":{"sections":[{"uncollapsibleWidgetsCount":1.5,"widgets":[{"divider":{}}]}]}}]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message.cards_v2[0].card.sections[0].uncollapsible_widgets_count' (TYPE_INT32), 1.5`,
			wantDetails: []string{badRequest("message.cards_v2[0].card.sections[0].uncollapsible_widgets_count", `Invalid value at 'message.cards_v2[0].card.sections[0].uncollapsible_widgets_count' (TYPE_INT32), 1.5`)}},
		{name: "§2.1/snake_case names normalised to lowerCamelCase", target: base + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
			body: `{"cards_v2":[{"card_id":"c","card":{"header":{"title":"t","image_type":"SQUARE"}}}],"thread":{"thread_key":"k"},"fallback_text":"f"}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				want := map[string]any{
					"cardsV2":      []any{map[string]any{"cardId": "c", "card": map[string]any{"header": map[string]any{"title": "t", "imageType": "SQUARE"}}}},
					"thread":       map[string]any{"threadKey": "k"},
					"fallbackText": "f",
				}
				if diff := cmp.Diff(want, req.Body); diff != "" {
					t.Errorf("Body (-want +got):\n%s", diff)
				}
				if req.Message.Thread == nil || req.Message.Thread.ThreadKey != "k" || len(req.Message.CardsV2) != 1 || req.Message.CardsV2[0].CardID != "c" || req.Message.FallbackText != "f" {
					t.Errorf("Message %+v", req.Message)
				}
			}},
		{name: "§2.1/both spellings of one field → 400", body: `{"cardsV2":[],"cards_v2":[],"text":"hi"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "cards_v2" at 'message': Field is set twice, as "cardsV2" and "cards_v2".`,
			wantDetails: []string{badRequest("message", `Invalid JSON payload received. Unknown name "cards_v2" at 'message': Field is set twice, as "cardsV2" and "cards_v2".`)}},
		{name: "§2.1/output-only fields accepted and dropped", body: `{"text":"hi","sender":{"name":"users/1","type":"BOT"},"createTime":"2022-06-16T13:30:41.907695Z","argumentText":"hi","name":"spaces/S/messages/M","space":{"name":"spaces/S"},"annotations":[]}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if diff := cmp.Diff(map[string]any{"text": "hi"}, req.Body); diff != "" {
					t.Errorf("Body (-want +got):\n%s", diff)
				}
			}},
		{name: "§2.1/output-only field of a wrong type → 400", body: `{"text":"hi","createTime":"yesterday"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message.create_time' (type.googleapis.com/google.protobuf.Timestamp), Invalid time format: yesterday`,
			wantDetails: []string{badRequest("message.create_time", `Invalid value at 'message.create_time' (type.googleapis.com/google.protobuf.Timestamp), Invalid time format: yesterday`)}},
		{name: "§2.1/null is absent", body: `{"text":"hi","thread":null,"cardsV2":null}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if diff := cmp.Diff(map[string]any{"text": "hi"}, req.Body); diff != "" {
					t.Errorf("Body (-want +got):\n%s", diff)
				}
			}},
		{name: "§2.1/a single object for a list is a list of one", body: `{"cardsV2":{"cardId":"c","card":{"header":{"title":"t"}}}}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if l, ok := req.Body["cardsV2"].([]any); !ok || len(l) != 1 || len(req.Message.CardsV2) != 1 {
					t.Errorf("cardsV2 %#v", req.Body["cardsV2"])
				}
			}},
		{name: "§2.1/top-level list → 400", body: `[{"text":"hi"}]`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid JSON payload received. Unknown name "message": Proto field is not repeating, cannot start list.`,
			wantDetails: []string{badRequest("", `Invalid JSON payload received. Unknown name "message": Proto field is not repeating, cannot start list.`)}},
		{name: "§2.1/top-level string → 400", body: `"hi"`, wantCode: 400, wantStatus: "INVALID_ARGUMENT",
			wantMessage: `Invalid value at 'message' (type.googleapis.com/google.chat.v1.Message), "hi"`,
			wantDetails: []string{badRequest("message", `Invalid value at 'message' (type.googleapis.com/google.chat.v1.Message), "hi"`)}},
		{name: "§2.3/deprecated cards v1 accepted", body: `{"cards":[{"header":{"title":"t","imageStyle":"AVATAR"},"sections":[{"widgets":[{"keyValue":{"topLabel":"a","content":"b","icon":"STAR"}},{"buttons":[{"textButton":{"text":"open","onClick":{"openLink":{"url":"https://example.com"}}}}]}]}]}]}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if len(req.Message.Cards) == 0 {
					t.Error("Message.Cards empty")
				}
			}},

		// docs/google-chat.md §2.2 empty messages
		{name: "§2.2/empty body → Message cannot be empty", body: ``, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/{} → empty", body: `{}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/null → empty", body: `null`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/blank text → empty", body: `{"text":" \n\t"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/thread and fallbackText only → empty", body: `{"thread":{"threadKey":"k"},"fallbackText":"f"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/actionResponse only → empty", body: `{"actionResponse":{"type":"REQUEST_CONFIG","url":"https://google.com"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/empty cardsV2 list → empty", body: `{"cardsV2":[]}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgEmpty},
		{name: "§2.2/a card alone is content", body: `{"cardsV2":[{"card":{"header":{"title":"t"}}}]}`},

		// docs/google-chat.md §4.1 sizes
		{name: "§4.1/exactly 32,000 bytes accepted", body: `{"text":"` + big + `"}`},
		{name: "§4.1/over 32,000 bytes → 400", body: `{"text":"` + big + `x"}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Message is larger than 32000 bytes."},
		{name: "§4.1/size measured on the normalised message", body: `{ "text" : "` + big + `" , "sender" : {} }`},
		{name: "§4.1/negative MaxBytes: no message limit", body: `{"text":"` + big + big + `"}`, cfg: func(c *Config) { c.MaxBytes = -1 }},
		{name: "§4.1/body over MaxBodyBytes → 400", body: `{"text":"` + big + `"}`, cfg: func(c *Config) { c.MaxBodyBytes = 1000 }, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Request payload size exceeds the limit: 1000 bytes."},
		{name: "§4.1/MaxText → Message is longer than 4096 characters", body: `{"text":"` + strings.Repeat("é", 4097) + `"}`, cfg: func(c *Config) { c.MaxText = 4096 }, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Message is longer than 4096 characters"},
		{name: "§4.1/MaxText counts UTF-16 code units", body: `{"text":"` + strings.Repeat("😀", 2049) + `"}`, cfg: func(c *Config) { c.MaxText = 4096 }, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Message is longer than 4096 characters"},
		{name: "§4.1/MaxText at the limit accepted", body: `{"text":"` + strings.Repeat("😀", 2048) + `"}`, cfg: func(c *Config) { c.MaxText = 4096 }},
		{name: "§4.1/thread.threadKey over 4000 characters → 400", body: `{"text":"hi","thread":{"threadKey":"` + strings.Repeat("k", 4001) + `"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: "Thread key is longer than 4000 characters.",
			wantDetails: []string{badRequest("message.thread.thread_key", "Thread key is longer than 4000 characters.")}},

		// docs/google-chat.md §7 threads
		{name: "§7/thread.name of this space accepted", body: `{"text":"hi","thread":{"name":"spaces/` + testSpace + `/threads/ITDO-j7EFM8"}}`,
			check: func(t *testing.T, req *Request, _ []byte) {
				if req.Message.Thread == nil || req.Message.Thread.Name != "spaces/"+testSpace+"/threads/ITDO-j7EFM8" {
					t.Errorf("Thread %+v", req.Message.Thread)
				}
			}},
		{name: "§7/malformed thread.name → 400", body: `{"text":"hi","thread":{"name":"threads/T"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgThreadName},
		{name: "§7/thread.name with extra segments → 400", body: `{"text":"hi","thread":{"name":"spaces/` + testSpace + `/threads/T/x"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgThreadName},
		{name: "§11.6/thread.name of another space → 400", body: `{"text":"hi","thread":{"name":"spaces/OTHER/threads/T"}}`, wantCode: 400, wantStatus: "INVALID_ARGUMENT", wantMessage: msgThreadName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, target := tt.method, tt.target
			if method == "" {
				method = http.MethodPost
			}
			if target == "" {
				target = base
			}
			r := httptest.NewRequest(method, target, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json; charset=UTF-8")
			if tt.header != nil {
				r.Header = tt.header
			}
			if tt.pathValue != "" {
				r.SetPathValue("space", tt.pathValue)
			}
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			rec, req := answer(t, r, cfg)
			wantCode := tt.wantCode
			if wantCode == 0 {
				wantCode = http.StatusOK
			}
			if rec.Code != wantCode {
				t.Fatalf("status %d, want %d; body:\n%s", rec.Code, wantCode, rec.Body)
			}
			raw := rec.Body.Bytes()
			if wantCode != http.StatusOK {
				got := decodeEnvelope(t, raw)
				if got.Code != wantCode || got.Status != tt.wantStatus || got.Message != tt.wantMessage {
					t.Errorf("got %d %s %q\nwant %d %s %q", got.Code, got.Status, got.Message, wantCode, tt.wantStatus, tt.wantMessage)
				}
				var gotDetails []string
				for _, d := range got.Details {
					var b bytes.Buffer
					if err := json.Compact(&b, d); err != nil {
						t.Fatal(err)
					}
					gotDetails = append(gotDetails, b.String())
				}
				if diff := cmp.Diff(tt.wantDetails, gotDetails); diff != "" {
					t.Errorf("details (-want +got):\n%s", diff)
				}
			}
			if tt.check != nil {
				tt.check(t, req, raw)
			}
		})
	}
}

// goldenBodies returns each golden card of package card wrapped in a message.
func goldenBodies(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "card", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cards: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = []byte(`{"cardsV2":[` + string(data) + `]}`)
	}
	return out
}

// TestGoldenCards: every field of the golden card messages is accepted, kept
// as sent in Body, and read into Message as package card reads it.
func TestGoldenCards(t *testing.T) {
	for name, body := range goldenBodies(t) {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, base, bytes.NewReader(body))
			req, e := Parse(r, testConfig())
			if e != nil {
				t.Fatalf("Parse: %v", e)
			}
			var want map[string]any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, req.Body); diff != "" {
				t.Errorf("Body (-want +got):\n%s", diff)
			}
			var wantMsg struct {
				CardsV2 []card.CardWithID `json:"cardsV2"`
			}
			if err := json.Unmarshal(body, &wantMsg); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantMsg.CardsV2, req.Message.CardsV2); diff != "" {
				t.Errorf("Message.CardsV2 (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEncodedSize holds encodedSize to what gchat.Encode measures: compact
// JSON without HTML escaping.
func TestEncodedSize(t *testing.T) {
	values := []any{
		map[string]any{"text": "a<b>&c \"q\" \\ \n\r\t\b\f\x01\x1f \u2028\u2029 é 😀", "n": json.Number("1.5e3"), "b": true, "f": false, "z": nil},
		[]any{}, map[string]any{}, "", []any{json.Number("1"), "x", map[string]any{"k": []any{true}}},
	}
	for _, body := range goldenBodies(t) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	for _, v := range values {
		if got, want := encodedSize(v), len(compactJSON(t, v)); got != want {
			t.Errorf("encodedSize = %d, want %d for %s", got, want, compactJSON(t, v))
		}
	}
}

func compactJSON(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// TestWriteError: the envelope, pretty-printed as Google does.
func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, nil, InvalidArgument(msgKeyInvalid, ErrorInfo("API_KEY_INVALID", "googleapis.com", map[string]string{"service": "chat.googleapis.com"})))
	want := `{
  "error": {
    "code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {
          "service": "chat.googleapis.com"
        }
      }
    ]
  }
}
`
	if got := rec.Body.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Errorf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}

	rec = httptest.NewRecorder()
	WriteError(rec, &Request{Pretty: false}, Unavailable(""))
	if got, want := rec.Body.String(), `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestConstructors(t *testing.T) {
	for _, tt := range []struct {
		e      *Error
		code   int
		status string
	}{
		{InvalidArgument("m"), 400, "INVALID_ARGUMENT"},
		{PermissionDenied("m"), 403, "PERMISSION_DENIED"},
		{NotFound("m"), 404, "NOT_FOUND"},
		{AlreadyExists("m"), 409, "ALREADY_EXISTS"},
		{ResourceExhausted("m"), 429, "RESOURCE_EXHAUSTED"},
		{Unavailable("m"), 503, "UNAVAILABLE"},
		{Internal("m"), 500, "INTERNAL"},
		{MethodNotAllowed(), 405, "METHOD_NOT_ALLOWED"},
	} {
		if tt.e.Code != tt.code || tt.e.Status != tt.status {
			t.Errorf("%v: got %d %s, want %d %s", tt.e, tt.e.Code, tt.e.Status, tt.code, tt.status)
		}
	}
}

func TestParseFields(t *testing.T) {
	msg := map[string]any{
		"name": "n", "text": "t",
		"thread":  map[string]any{"name": "tn", "threadKey": "k"},
		"cardsV2": []any{map[string]any{"cardId": "a", "card": map[string]any{}}, map[string]any{"cardId": "b"}},
	}
	for _, tt := range []struct {
		fields string
		want   any
	}{
		{"name", map[string]any{"name": "n"}},
		{"name,thread.name", map[string]any{"name": "n", "thread": map[string]any{"name": "tn"}}},
		{"name,thread/name", map[string]any{"name": "n", "thread": map[string]any{"name": "tn"}}},
		{"thread(name,threadKey)", map[string]any{"thread": map[string]any{"name": "tn", "threadKey": "k"}}},
		{"thread,thread.name", map[string]any{"thread": map[string]any{"name": "tn", "threadKey": "k"}}},
		{"cardsV2.cardId", map[string]any{"cardsV2": []any{map[string]any{"cardId": "a"}, map[string]any{"cardId": "b"}}}},
		{"*", msg},
		{"missing", map[string]any{}},
	} {
		if diff := cmp.Diff(tt.want, applyFields(msg, parseFields(tt.fields))); diff != "" {
			t.Errorf("fields=%s (-want +got):\n%s", tt.fields, diff)
		}
	}
}

// TestParseReadsBodyOnce: the body is read through once and not needed again.
func TestParseBodyReader(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, base, io.NopCloser(strings.NewReader(`{"text":"hi"}`)))
	r.ContentLength = -1 // unknown length: chunked
	if _, e := Parse(r, testConfig()); e != nil {
		t.Fatal(e)
	}
}
