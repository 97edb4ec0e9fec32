// Package webhookapi is the Google Chat webhook dialect, shared by the
// emulator and the relay: it parses the request URL and query, authenticates
// in Google's order, decodes and checks the Message body against Google's
// schema, and writes Google-shaped answers. Every limit is a parameter, since
// the relay accepts larger messages than Google and fits them itself.
package webhookapi

import (
	"encoding/json"

	"github.com/gchatkit/gchat"
)

// Config says what a server accepts. The zero value is Google's limits and
// accepts any key and token; set KeyValid and TokenValid.
type Config struct {
	// MaxBytes caps the serialised message: the normalised Body as compact
	// JSON without HTML escaping, the measure gchat.Encode and the library's
	// fitting use, so that whatever the library fits is accepted. Zero means
	// Google's 32,000 bytes (docs/google-chat.md §4.1); negative, no limit beyond
	// MaxBodyBytes.
	MaxBytes int
	// MaxText caps text in characters, counted as UTF-16 code units like
	// the library (legacy 4,096 limit, docs/google-chat.md §4.1, §11.4, "Message is longer
	// than 4096 characters"). Zero means no such check.
	MaxText int
	// MaxBodyBytes caps what is read from the wire at all (an
	// http.MaxBytesReader); zero means 1 MiB.
	MaxBodyBytes int64
	// KeyValid reports whether key is the accepted API key. Nil accepts any.
	KeyValid func(key string) bool
	// StrictSchema refuses the fields Google accepts though its discovery
	// document lacks them (previewText; see lenient.go and
	// docs/senders.md) with Google's 400 for an unknown name. False, the
	// default, accepts them as Google does.
	StrictSchema bool
	// TokenValid reports whether token is a webhook of space. Nil accepts any.
	// It may return an *Error of its own (for a deleted webhook, a space
	// whose apps are disabled) to replace the default 403.
	TokenValid func(space, token string) (bool, *Error)
	// ThreadSpaceValid reports whether a thread.name of threadSpace may be
	// named in a message to space, which differs from it (the relay: the
	// Google space its relay space delivers to). Nil accepts none: a thread
	// of another space is refused with ForeignThreadStatus.
	ThreadSpaceValid func(space, threadSpace string) bool
	// ForeignThreadStatus is the answer to a thread of another space, as
	// Rules.ForeignThreadStatus; zero means DefaultRules'.
	ForeignThreadStatus int
}

// Request is a parsed and checked webhook request.
type Request struct {
	// Space is the {space} of the path.
	Space string
	// Key and Token are the credentials from the query, percent-decoded: a
	// token issued with a trailing "%3D" is here with "=" (docs/google-chat.md §1.2).
	Key, Token string
	// ThreadKeyParam is the deprecated threadKey query parameter.
	ThreadKeyParam string
	// ReplyOption is the messageReplyOption parameter; ReplyUnset when absent.
	ReplyOption gchat.ReplyOption
	// ReplyOptionSet tells an explicit MESSAGE_REPLY_OPTION_UNSPECIFIED from absence.
	ReplyOptionSet bool
	// MessageID and RequestID are the messageId and requestId parameters.
	MessageID, RequestID string
	// NotificationType is the createMessageNotificationOptions.notificationType
	// parameter (NOTIFICATION_TYPE_…), or "".
	NotificationType string
	// Pretty is the prettyPrint parameter (default true).
	Pretty bool
	// Fields is the partial-response field mask, or "".
	Fields string
	// Body is the message normalised to lowerCamelCase names (snake_case
	// input converted), output-only fields and nulls dropped, enum names in
	// their canonical case: what Google echoes. Numbers are json.Number,
	// as written; 64-bit integers are strings, as proto3 JSON writes them.
	// A field given as a single value where the schema has a list is a list
	// of one.
	Body map[string]any
	// Message is the typed view of Body for the fields gchat knows.
	Message gchat.Message
	// Size is the length in bytes of the body as received.
	Size int
}

// Error is an answer in Google's error envelope:
// {"error":{"code","message","status","details"}} (docs/google-chat.md §6).
type Error struct {
	Code    int    // HTTP status
	Status  string // google.rpc.Code name, e.g. INVALID_ARGUMENT
	Message string
	Details []json.RawMessage

	// compact remembers prettyPrint=false for errors Parse returns without
	// a Request, so that WriteError(w, nil, e) honours it.
	compact bool
}

func (e *Error) Error() string { return e.Status + ": " + e.Message }
