package webhookapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
)

// Defaults of a zero Config.
const (
	// DefaultMaxBytes is Google's limit on a whole message (docs/google-chat.md §4.1).
	DefaultMaxBytes = 32000
	// DefaultMaxBodyBytes caps what is read of a request body.
	DefaultMaxBodyBytes = 1 << 20
)

// Google's texts, with their sources.
const (
	// docs/google-chat.md §6.3, §10 (concourse#8956).
	msgUnregistered = "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
	// docs/google-chat.md §6.3, §10 (glpi-webhook#30).
	msgKeyInvalid = "API key not valid. Please pass a valid API key."
	// docs/google-chat.md §6.3 (glpi-webhook#30).
	msgNoToken = "The API is called without a valid token. Instructions on how to use incoming webhooks can be found at https://developers.google.com/chat/how-tos/webhooks"
	// docs/google-chat.md §2.2, §6.3 (google-api-nodejs-client#3379, on an app-auth call;
	// the webhook text is unknown).
	msgEmpty = "Message cannot be empty."
	// docs/google-chat.md §6.3, §7 (openclaw#39554, app auth).
	msgThreadName = "The request contains an invalid thread resource name"
	// Google's generic NOT_FOUND text (docs/google-chat.md §6.3 [INF]).
	msgNotFound = "Requested entity was not found."
	// Guess: docs/google-chat.md §6.3 [UNK]: the text of a duplicate messageId.
	msgMessageIDExists = "Message with the given messageId already exists."
)

// Parse reads a webhook request: the space from the path, the query
// parameters, the credentials (docs/google-chat.md §11.2) and the Message body (docs/google-chat.md §2,
// §11.3, §11.4). It returns the Request, or the error Google would answer
// with; write it with WriteError.
//
// The checks run in this order: method and path, credentials, the other
// query parameters, the body as JSON, the body against the schema, then the
// content (thread name, emptiness, size, text length).
//
// Guess: the order of credentials against query parameters and body is
// unknown; credentials first tells an unauthenticated caller nothing about
// the rest.
func Parse(r *http.Request, cfg Config) (*Request, *Error) {
	// docs/google-chat.md §1.1, §11.1: POST only.
	if r.Method != http.MethodPost {
		return nil, MethodNotAllowed()
	}
	// docs/google-chat.md §1.1: {space} from the route, else from the path (…/v1/spaces/{space}/messages).
	space := r.PathValue("space")
	if space == "" {
		space = spaceFromPath(r.URL.Path)
	}
	if !validSpace(space) {
		// Guess: Google's generic NOT_FOUND text for a path that names no
		// space; §11.1 allows [A-Za-z0-9_-]+.
		return nil, NotFound("Requested entity was not found.")
	}

	q, perr := parseQuery(r.URL.RawQuery)
	req := &Request{Space: space, Pretty: true}
	if v, ok := q.get("prettyPrint"); ok {
		if b, ok := parseBool(v); ok {
			req.Pretty = b
		}
	}
	fail := func(e *Error) (*Request, *Error) {
		c := *e // e may be the caller's (TokenValid)
		c.compact = !req.Pretty
		return nil, &c
	}
	if perr != nil {
		return fail(perr)
	}

	// docs/google-chat.md §11.2: credentials, in Google's order.
	req.Key, _ = q.get("key")
	req.Token, _ = q.get("token")
	if req.Key == "" {
		// No key, with or without a token (§10: a lost query string).
		// Guess: an empty key= counts as none.
		return fail(PermissionDenied(msgUnregistered))
	}
	if cfg.KeyValid != nil && !cfg.KeyValid(req.Key) {
		return fail(InvalidArgument(msgKeyInvalid,
			ErrorInfo("API_KEY_INVALID", "googleapis.com", map[string]string{"service": "chat.googleapis.com"})))
	}
	if req.Token == "" {
		return fail(PermissionDenied(msgNoToken))
	}
	if cfg.TokenValid != nil {
		ok, e := cfg.TokenValid(space, req.Token)
		switch {
		case e != nil:
			return fail(e)
		case !ok:
			// Guess: a wrong or deleted token gets the missing-token text
			// (§6.3, §13).
			return fail(PermissionDenied(msgNoToken))
		}
	}

	if e := req.readParams(q); e != nil {
		return fail(e)
	}

	body, e := readBody(r, cfg.MaxBodyBytes)
	if e != nil {
		return fail(e)
	}
	req.Size = len(body)
	if e := req.readBody(body, cfg); e != nil {
		return fail(e)
	}
	return req, nil
}

// spaceFromPath returns the {space} of …/v1/spaces/{space}/messages, any
// prefix allowed, or "".
func spaceFromPath(p string) string {
	i := strings.LastIndex(p, "/v1/spaces/")
	if i < 0 {
		return ""
	}
	space, rest, ok := strings.Cut(p[i+len("/v1/spaces/"):], "/")
	if !ok || rest != "messages" {
		return ""
	}
	return space
}

// validSpace reports whether s is a space id (§11.1: [A-Za-z0-9_-]+).
func validSpace(s string) bool { return gchat.ValidSpaceID(s) }

// query holds the parameters in their order; the first of a repeated name
// wins.
//
// Guess: Google's binding of a repeated singular parameter is unknown.
type query []param

type param struct{ name, value string }

func (q query) get(name string) (string, bool) {
	for _, p := range q {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// parseQuery splits a raw query. Values are unescaped ('+' is a space), so
// a token issued with "%3D" is compared with its "=" (§1.2).
func parseQuery(raw string) (query, *Error) {
	if raw == "" {
		return nil, nil
	}
	q := make(query, 0, 4)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		n, err1 := url.QueryUnescape(name)
		v, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil {
			// Guess: Google's text for a malformed escape is unknown.
			return nil, InvalidArgument("Invalid query string: malformed percent-encoding.")
		}
		q = append(q, param{n, v})
	}
	return q, nil
}

// readParams reads the parameters other than key and token (§1.3).
func (req *Request) readParams(q query) *Error {
	seen := make(map[string]bool, len(q))
	for _, p := range q {
		canon, known := knownParams[p.name]
		if !known {
			// docs/google-chat.md §1.3: Google's binding refuses names the method does not have.
			msg := `Invalid JSON payload received. Unknown name "` + p.name + `": Cannot bind query parameter. Field '` + p.name + `' could not be found in request message.`
			return InvalidArgument(msg, BadRequest(FieldViolation{Description: msg}))
		}
		if seen[canon] {
			continue // the first wins
		}
		seen[canon] = true
		v := p.value
		switch canon {
		case "alt":
			switch v {
			case "", "json":
			case "proto", "media":
				// Guess: this server answers JSON only; Google would send
				// protobuf or refuse media download on this method.
				return InvalidArgument("Request contains an invalid argument.",
					BadRequest(FieldViolation{Field: "alt", Description: "only alt=json is supported"}))
			default:
				return invalidParam("alt", "TYPE_ENUM", v)
			}
		case "prettyPrint":
			if _, ok := parseBool(v); !ok {
				return invalidParam("pretty_print", "TYPE_BOOL", v) // Guess: text
			}
		case "$.xgafv":
			if v != "1" && v != "2" {
				return invalidParam("$.xgafv", "TYPE_ENUM", v) // Guess: text
			}
		case "fields":
			req.Fields = v
		case "threadKey":
			if utf8.RuneCountInString(v) > maxThreadKey {
				return threadKeyTooLong("thread_key")
			}
			req.ThreadKeyParam = v
		case "messageReplyOption":
			if v == "" {
				continue // Guess: an empty value is no value
			}
			i, ok := enumIndex(replyOptions, v)
			if !ok {
				// docs/google-chat.md §1.3, §7. Guess: the type URL.
				return invalidParam("message_reply_option", "type.googleapis.com/google.chat.v1.CreateMessageRequest.MessageReplyOption", v)
			}
			req.ReplyOption, _ = gchat.ParseReplyOption(replyOptions[i])
			if i == 0 {
				req.ReplyOption = gchat.ReplyNewThread
			}
			req.ReplyOptionSet = true
		case "messageId":
			if v == "" {
				continue
			}
			if err := gchat.CheckMessageID(v); err != nil {
				// docs/google-chat.md §1.3, §4.1. Guess: the text.
				msg := "Invalid message ID. A custom message ID must begin with \"client-\", have at most 63 characters and contain only lowercase letters, numbers and hyphens."
				return InvalidArgument(msg, BadRequest(FieldViolation{Field: "message_id", Description: err.Error()}))
			}
			req.MessageID = v
		case "requestId":
			req.RequestID = v
		case "notificationType":
			if v == "" {
				continue
			}
			i, ok := enumIndex(notificationTypes, v)
			if !ok {
				return invalidParam("create_message_notification_options.notification_type",
					"type.googleapis.com/google.chat.v1.CreateMessageNotificationOptions.NotificationType", v) // Guess: the type URL
			}
			req.NotificationType = notificationTypes[i]
		}
	}
	return nil
}

// knownParams maps each accepted parameter to its canonical name. The
// method's own fields are bound by their JSON or proto name, like the body;
// Google's platform parameters (§1.3) have one name each. quotaUser,
// callback, upload_protocol, uploadType, access_token and oauth_token are
// accepted and ignored.
var knownParams = map[string]string{
	"key": "key", "token": "token",
	"threadKey": "threadKey", "thread_key": "threadKey",
	"messageReplyOption": "messageReplyOption", "message_reply_option": "messageReplyOption",
	"messageId": "messageId", "message_id": "messageId",
	"requestId": "requestId", "request_id": "requestId",
	"createMessageNotificationOptions.notificationType":     "notificationType",
	"create_message_notification_options.notification_type": "notificationType",
	"alt": "alt", "prettyPrint": "prettyPrint", "fields": "fields", "$.xgafv": "$.xgafv",
	"quotaUser": "quotaUser", "callback": "callback", "upload_protocol": "upload_protocol",
	"uploadType": "uploadType", "access_token": "access_token", "oauth_token": "oauth_token",
}

// Enum values of the method's parameters, numbered as in Google's protos.
var (
	replyOptions      = []string{"MESSAGE_REPLY_OPTION_UNSPECIFIED", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", "REPLY_MESSAGE_OR_FAIL"}
	notificationTypes = []string{"NOTIFICATION_TYPE_NONE", "NOTIFICATION_TYPE_FORCE_NOTIFY", "NOTIFICATION_TYPE_SILENT"}
)

// enumIndex finds v among names as Google's converter does: exactly, then
// case-insensitively with '-' for '_', then as a number.
func enumIndex(names []string, v string) (int, bool) {
	norm := strings.ToUpper(strings.ReplaceAll(v, "-", "_"))
	for i, n := range names {
		if n == v || n == norm {
			return i, true
		}
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(names) {
		return n, true
	}
	return 0, false
}

func invalidParam(field, typ, value string) *Error {
	msg := "Invalid value at '" + field + "' (" + typ + "), \"" + value + "\""
	return InvalidArgument(msg, BadRequest(FieldViolation{Field: field, Description: msg}))
}

// parseBool is protobuf's safe_strtob, which Google's converter uses for
// booleans given as strings.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1":
		return true, true
	case "false", "f", "no", "n", "0":
		return false, true
	}
	return false, false
}

// maxThreadKey is the longest thread key, in characters (§1.3, §4.1).
const maxThreadKey = 4000

// threadKeyTooLong: §4.1 documents the limit. Guess: the text.
func threadKeyTooLong(field string) *Error {
	msg := "Thread key is longer than 4000 characters."
	return InvalidArgument(msg, BadRequest(FieldViolation{Field: field, Description: msg}))
}

// readBody reads the body through http.MaxBytesReader.
//
// Over the cap the answer is 400 INVALID_ARGUMENT "Request payload size
// exceeds the limit: N bytes.", the text Google's API front end gives for an
// oversized payload on its other APIs [OBS], not 413: Google's JSON APIs
// answer it with a 400 and clients already treat a 400 as final. The cap
// only guards memory: anything over MaxBytes fails later anyway.
func readBody(r *http.Request, limit int64) ([]byte, *Error) {
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	rd := http.MaxBytesReader(nil, r.Body, limit)
	// Memory grows with what arrived, never with what Content-Length
	// claims: a client that declares a megabyte and sends a hundred bytes
	// must not make the server hold the megabyte. The first buffer is small
	// and doubles as bytes come, up to the declared length plus one (to see
	// the end without growing again).
	want := int64(-1)
	if n := r.ContentLength; n > 0 && n < limit {
		want = n + 1
	}
	size := int64(firstBodyBuffer)
	if want > 0 && want < size {
		size = want
	}
	buf := make([]byte, 0, size)
	for {
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, InvalidArgument("Request payload size exceeds the limit: " + strconv.FormatInt(limit, 10) + " bytes.")
			}
			// Guess: a body cut short by the client.
			return nil, InvalidArgument("Invalid JSON payload received. Unexpected end of string.")
		}
		if len(buf) == cap(buf) {
			next := 2 * int64(cap(buf))
			if want > int64(cap(buf)) && want < next {
				next = want
			}
			next = min(next, limit+1)
			buf = append(make([]byte, 0, next), buf...)
		}
	}
}

// firstBodyBuffer is the first buffer readBody reads a body into: a typical
// message fits, and a client that sends nothing costs no more.
const firstBodyBuffer = 4 << 10

// readBody decodes, checks and normalises the body.
func (req *Request) readBody(body []byte, cfg Config) *Error {
	// docs/google-chat.md §1.4: Content-Type is not looked at: a missing one is accepted (the
	// official Java sample sends none), and the body is read as JSON
	// whatever it says.
	if !utf8.Valid(body) {
		// docs/google-chat.md §1.4: the body is UTF-8. Guess: the text.
		return InvalidArgument("Invalid JSON payload received. Invalid UTF-8 in the request body.")
	}
	var v any
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		err := dec.Decode(&v)
		if err == nil && dec.InputOffset() < int64(len(bytes.TrimRight(body, " \t\r\n"))) {
			err = errors.New("trailing data")
		}
		if err != nil {
			// docs/google-chat.md §2.1: "Invalid JSON payload received. Unexpected token.\n<excerpt>\n^".
			msg, ok := syntaxError(body)
			if !ok {
				msg = "Unexpected token."
			}
			return InvalidArgument("Invalid JSON payload received. " + msg)
		}
	}
	root := loadSchema().root
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case nil:
		// An empty body or null is an empty message, refused below.
		m = map[string]any{}
	case []any:
		// Guess: what Google's converter says for a list where the body's
		// message belongs.
		return unknownName("message", nil, "Proto field is not repeating, cannot start list.")
	default:
		at := rootLoc()
		return invalidValue(&at, root.typeURL, repr(v))
	}

	// docs/google-chat.md §2.1, §11.3: names, types and enum values against the full schema;
	// output-only fields dropped.
	changed, e := checkBody(root, m, cfg.StrictSchema, body)
	if e != nil {
		return e
	}
	if _, isMap := v.(map[string]any); !isMap {
		changed = true
	}
	// Message.name is an identifier the server assigns on create.
	// Guess: a name in the request is ignored, like an output-only field.
	if _, ok := m["name"]; ok {
		delete(m, "name")
		changed = true
	}
	req.Body = m

	text, _ := m["text"].(string)
	if th, ok := m["thread"].(map[string]any); ok {
		if name, ok := th["name"].(string); ok {
			// docs/google-chat.md §7, §11.6: spaces/{space}/threads/{thread}.
			sp, ok := threadSpace(name)
			if !ok {
				return InvalidArgument(msgThreadName)
			}
			if sp != req.Space && (cfg.ThreadSpaceValid == nil || !cfg.ThreadSpaceValid(req.Space, sp)) {
				// Guess: §11.6 leaves 400 or 404 open (Rules.ForeignThreadStatus).
				status := cfg.ForeignThreadStatus
				if status == 0 {
					status = DefaultRules().ForeignThreadStatus
				}
				return ForeignThread(status)
			}
		}
		if key, ok := th["threadKey"].(string); ok && utf8.RuneCountInString(key) > maxThreadKey {
			return threadKeyTooLong("message.thread.thread_key")
		}
	}
	// docs/google-chat.md §2.2, §11.4: a message needs content. What counts: text that is not
	// blank, or at least one card (cardsV2 or deprecated cards) or
	// attachment. fallbackText describes cards, accessory widgets go "at
	// the bottom" of text or cards, and a thread or actionResponse alone is
	// no content (nodejs-client#3379 got this error for an actionResponse).
	//
	// Guess: blank text counts as empty, as the library's Check says.
	if strings.TrimSpace(text) == "" && !nonEmptyList(m["cardsV2"]) && !nonEmptyList(m["cards"]) && !nonEmptyList(m["attachment"]) {
		return InvalidArgument(msgEmpty)
	}
	// docs/google-chat.md §4.1, §11.4: 32,000 bytes, measured as the library measures.
	maxBytes := cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxBytes > 0 {
		if n := encodedSize(m); n > maxBytes {
			// Guess: the text, modelled on the observed length error.
			return InvalidArgument("Message is larger than " + strconv.Itoa(maxBytes) + " bytes.")
		}
	}
	// docs/google-chat.md §4.1, §6.3: the legacy text limit, when configured (calert#17 text).
	if cfg.MaxText > 0 && utf16Len(text) > cfg.MaxText {
		return InvalidArgument("Message is longer than " + strconv.Itoa(cfg.MaxText) + " characters")
	}

	msg, err := typed(m, body, changed)
	if err != nil {
		// Guess: a value Google's schema allows but gchat's types cannot
		// hold (an enum given by number, a NaN colour). Google would accept
		// it; this server refuses rather than lose it from Message.
		return InvalidArgument("Invalid JSON payload received. This server cannot represent a value of the message: " + err.Error())
	}
	req.Message = msg
	return nil
}

// threadSpace returns the space of a thread name spaces/{space}/threads/{thread}.
func threadSpace(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "spaces/")
	if !ok {
		return "", false
	}
	space, thread, ok := strings.Cut(rest, "/threads/")
	if !ok || space == "" || thread == "" || strings.Contains(space, "/") || strings.Contains(thread, "/") {
		return "", false
	}
	return space, true
}

func nonEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) > 0
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// typed returns the gchat.Message view of the normalised body. A message
// without cards is read from the map; one with cards is decoded from the
// received bytes when normalising changed nothing, else from the body
// re-encoded.
func typed(m map[string]any, raw []byte, changed bool) (gchat.Message, error) {
	var msg gchat.Message
	_, v2 := m["cardsV2"]
	_, v1 := m["cards"]
	if !v2 && !v1 {
		msg.Text, _ = m["text"].(string)
		msg.FallbackText, _ = m["fallbackText"].(string)
		msg.PreviewText, _ = m["previewText"].(string)
		if th, ok := m["thread"].(map[string]any); ok {
			msg.Thread = &gchat.Thread{}
			msg.Thread.Name, _ = th["name"].(string)
			msg.Thread.ThreadKey, _ = th["threadKey"].(string)
		}
		return msg, nil
	}
	if changed {
		var err error
		if raw, err = json.Marshal(m); err != nil {
			return msg, err
		}
	}
	err := json.Unmarshal(raw, &msg)
	return msg, err
}
