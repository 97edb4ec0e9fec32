package webhookapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Constructors of Google's canonical errors, with the HTTP status of each
// google.rpc.Code (docs/google-chat.md §6.2).

// InvalidArgument is a 400 INVALID_ARGUMENT.
func InvalidArgument(msg string, details ...json.RawMessage) *Error {
	return &Error{Code: http.StatusBadRequest, Status: "INVALID_ARGUMENT", Message: msg, Details: details}
}

// PermissionDenied is a 403 PERMISSION_DENIED.
func PermissionDenied(msg string) *Error {
	return &Error{Code: http.StatusForbidden, Status: "PERMISSION_DENIED", Message: msg}
}

// NotFound is a 404 NOT_FOUND.
func NotFound(msg string) *Error {
	return &Error{Code: http.StatusNotFound, Status: "NOT_FOUND", Message: msg}
}

// AlreadyExists is a 409 ALREADY_EXISTS.
func AlreadyExists(msg string) *Error {
	return &Error{Code: http.StatusConflict, Status: "ALREADY_EXISTS", Message: msg}
}

// ResourceExhausted is a 429 RESOURCE_EXHAUSTED. Google's text for webhooks
// is unknown (docs/google-chat.md §4.2); "Resource has been exhausted (e.g. check quota)."
// is its generic one.
func ResourceExhausted(msg string) *Error {
	return &Error{Code: http.StatusTooManyRequests, Status: "RESOURCE_EXHAUSTED", Message: msg}
}

// Unavailable is a 503 UNAVAILABLE; an empty msg means Google's "The
// service is currently unavailable." (docs/google-chat.md §6.3, quickstart).
func Unavailable(msg string) *Error {
	if msg == "" {
		msg = "The service is currently unavailable."
	}
	return &Error{Code: http.StatusServiceUnavailable, Status: "UNAVAILABLE", Message: msg}
}

// Internal is a 500 INTERNAL.
func Internal(msg string) *Error {
	return &Error{Code: http.StatusInternalServerError, Status: "INTERNAL", Message: msg}
}

// MethodNotAllowed answers a method other than POST on the messages path.
//
// Guess: what Google answers is unknown (docs/google-chat.md §1.4, §11.1: GET maps to
// spaces.messages.list, which wants OAuth); 405 tells a misconfigured client
// the truth. The status name is not a google.rpc.Code.
func MethodNotAllowed() *Error {
	return &Error{Code: http.StatusMethodNotAllowed, Status: "METHOD_NOT_ALLOWED",
		Message: "Only POST is supported on /v1/spaces/{space}/messages."}
}

// ErrorInfo returns a google.rpc.ErrorInfo detail, its keys in Google's
// order: {"@type","reason","domain","metadata"} (docs/google-chat.md §6.3 API_KEY_INVALID).
func ErrorInfo(reason, domain string, metadata map[string]string) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":`)
	writeString(&b, reason)
	b.WriteString(`,"domain":`)
	writeString(&b, domain)
	if len(metadata) > 0 {
		b.WriteString(`,"metadata":{`)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(&b, k)
			b.WriteByte(':')
			writeString(&b, metadata[k])
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// FieldViolation is one entry of a google.rpc.BadRequest detail.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// BadRequest returns a google.rpc.BadRequest detail (docs/google-chat.md §6.1).
func BadRequest(violations ...FieldViolation) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[`)
	for i, v := range violations {
		if i > 0 {
			b.WriteByte(',')
		}
		// proto3 JSON leaves out an empty field.
		b.WriteByte('{')
		if v.Field != "" {
			b.WriteString(`"field":`)
			writeString(&b, v.Field)
			b.WriteByte(',')
		}
		b.WriteString(`"description":`)
		writeString(&b, v.Description)
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func writeString(b *bytes.Buffer, s string) {
	data, _ := json.Marshal(s) // a string always encodes
	b.Write(data)
}

// envelope is Google's error body, fields in Google's order (docs/google-chat.md §6.1).
type envelope struct {
	Error struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Status  string            `json:"status"`
		Details []json.RawMessage `json:"details,omitempty"`
	} `json:"error"`
}

// WriteError writes e in Google's envelope {"error":{"code","message",
// "status","details"}}: pretty-printed with two spaces and a final newline
// unless the request said prettyPrint=false (docs/google-chat.md §1.4, §6.1). req may be nil,
// for errors found before a Request existed; Parse's errors remember
// prettyPrint themselves.
func WriteError(w http.ResponseWriter, req *Request, e *Error) {
	if e == nil {
		e = Internal("Internal error encountered.")
	}
	var env envelope
	env.Error.Code, env.Error.Message, env.Error.Status, env.Error.Details = e.Code, e.Message, e.Status, e.Details
	pretty := !e.compact
	if req != nil {
		pretty = req.Pretty
	}
	if e.Code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost) // RFC 9110 §15.5.6
	}
	write(w, e.Code, &env, pretty)
}

// Rules are the dialect's answers where the evidence for Google's is weaker
// than documented (docs/google-chat.md §6.3, §11.6, §13). The emulator makes
// each a setting (emulator.Settings) whose default is DefaultRules; the
// relay, which answers in Google's place, follows DefaultRules.
type Rules struct {
	// MessageIDConflict: a messageId already used in the space is 409
	// ALREADY_EXISTS ([INF], docs/google-chat.md §6.3); false accepts it.
	MessageIDConflict bool
	// ForeignThreadStatus is the answer to a thread.name of another space
	// ([UNK], docs/google-chat.md §11.6): http.StatusBadRequest, Google's
	// answer to a malformed thread name, or http.StatusNotFound, its answer
	// to an unknown thread.
	ForeignThreadStatus int
}

// DefaultRules returns the best guesses: a reused messageId is a 409 and a
// thread of another space is a 400.
func DefaultRules() Rules {
	return Rules{MessageIDConflict: true, ForeignThreadStatus: http.StatusBadRequest}
}

// MessageIDExists is the 409 of a messageId already used in the space.
// Guess: docs/google-chat.md §6.3 [UNK] for the text.
func MessageIDExists() *Error {
	return AlreadyExists(msgMessageIDExists)
}

// UnknownThread is the 404 of REPLY_MESSAGE_OR_FAIL to a thread that does
// not exist (docs/google-chat.md §6.3 [DOC]; the text is Google's generic
// NOT_FOUND, [INF]).
func UnknownThread() *Error {
	return NotFound(msgNotFound)
}

// ForeignThread is the answer to a thread.name of another space, by status
// (see Rules.ForeignThreadStatus): 404 NOT_FOUND, else 400 INVALID_ARGUMENT.
func ForeignThread(status int) *Error {
	if status == http.StatusNotFound {
		return NotFound(msgNotFound)
	}
	return InvalidArgument(msgThreadName)
}

// Answer is the body of the 200 answer to a created message, one reading
// of docs/google-chat.md §5 for every face: the request's message as Parse
// normalised it, plus name and thread.name, and nothing else (no sender,
// space or createTime: webhook answers carry none). A threadKey given in the
// query is echoed as thread.threadKey like one given in the body (§5 [INF]).
// req.Body is not changed.
func Answer(req *Request, name, threadName string) map[string]any {
	body := maps.Clone(req.Body)
	if body == nil {
		body = map[string]any{}
	}
	body["name"] = name
	th, _ := body["thread"].(map[string]any)
	th = maps.Clone(th)
	if th == nil {
		th = map[string]any{}
	}
	th["name"] = threadName
	if _, ok := th["threadKey"]; !ok && req.ThreadKeyParam != "" {
		th["threadKey"] = req.ThreadKeyParam
	}
	body["thread"] = th
	return body
}

// WriteMessage writes msg, the created message, with status 200, honouring
// the request's prettyPrint and fields parameters (docs/google-chat.md §5). req may be nil:
// pretty, all fields.
func WriteMessage(w http.ResponseWriter, req *Request, msg map[string]any) {
	pretty := true
	var v any = msg
	if req != nil {
		pretty = req.Pretty
		if req.Fields != "" {
			v = applyFields(msg, parseFields(req.Fields))
		}
	}
	write(w, http.StatusOK, v, pretty)
}

// write encodes v as Google does: '<', '>' and '&' escaped as \u003c, \u003e
// and \u0026.
//
// Guess: Google's JSON printer escapes them, like encoding/json; the raw
// characters would decode the same.
func write(w http.ResponseWriter, code int, v any, pretty bool) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		b.Reset()
		b.WriteString(`{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}` + "\n")
		code = http.StatusInternalServerError
	}
	out := b.Bytes()
	if !pretty {
		// Guess: a compact answer has no final newline.
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(code)
	w.Write(out)
}

// A fieldSel is a parsed partial-response selector: field names to their
// sub-selections (nil: the whole field).
type fieldSel map[string]fieldSel

// parseFields parses Google's fields parameter: comma-separated paths whose
// parts are joined by '/' or '.', with parenthesised sub-selections:
// "name,thread/name", "name,thread.name", "thread(name,threadKey)". "*"
// selects everything.
//
// Guess: a malformed selector selects what it can instead of Google's 400,
// since this server only filters its own answer.
func parseFields(s string) fieldSel {
	sel := fieldSel{}
	p := fieldParser{s: s}
	p.list(sel)
	return sel
}

type fieldParser struct {
	s   string
	pos int
}

// list parses "path[,path…]" into sel until ')' or the end.
func (p *fieldParser) list(sel fieldSel) {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ',', ' ':
			p.pos++
			continue
		case ')':
			return
		}
		p.path(sel)
	}
}

// path parses "a/b.c(sub)" into sel.
func (p *fieldParser) path(sel fieldSel) {
	start := p.pos
	for p.pos < len(p.s) && !strings.ContainsRune("/.,()", rune(p.s[p.pos])) {
		p.pos++
	}
	name := strings.TrimSpace(p.s[start:p.pos])
	if name == "" {
		p.pos++ // skip a stray separator
		return
	}
	sub, seen := sel[name]
	if p.pos >= len(p.s) || p.s[p.pos] == ',' || p.s[p.pos] == ')' {
		sel[name] = nil // whole field
		return
	}
	if seen && sub == nil {
		sub = fieldSel{"*": nil} // already whole: keep it whole
	}
	if sub == nil {
		sub = fieldSel{}
	}
	switch p.s[p.pos] {
	case '/', '.':
		p.pos++
		p.path(sub)
	case '(':
		p.pos++
		p.list(sub)
		if p.pos < len(p.s) && p.s[p.pos] == ')' {
			p.pos++
		}
	}
	sel[name] = sub
}

// applyFields returns the parts of v that sel selects; lists are filtered
// element by element.
func applyFields(v any, sel fieldSel) any {
	if sel == nil {
		return v
	}
	if _, all := sel["*"]; all {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(sel))
		for name, sub := range sel {
			if e, ok := x[name]; ok {
				out[name] = applyFields(e, sub)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = applyFields(e, sel)
		}
		return out
	}
	return v
}
