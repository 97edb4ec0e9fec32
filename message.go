package gchat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gchatkit/gchat/card"
)

// Message is the body of a webhook request: a google.chat.v1.Message restricted to
// the fields an incoming webhook can use (docs/google-chat.md §2.2).
type Message struct {
	// Text is the plain-text body in Chat's own markup (docs/google-chat.md §3). It is not
	// HTML: never HTML-escape it; use [Escape] for user data.
	Text string `json:"text,omitempty"`
	// CardsV2 are the cards of the message.
	CardsV2 []card.CardWithID `json:"cardsV2,omitempty"`
	// Cards holds deprecated v1 cards, passed through unchanged.
	Cards json.RawMessage `json:"cards,omitempty"`
	// Thread names the thread to start or reply to. It takes effect only with a
	// reply option; see [ReplyOption].
	Thread *Thread `json:"thread,omitempty"`
	// FallbackText is the plain text shown where cards cannot be, such as in
	// mobile notifications.
	FallbackText string `json:"fallbackText,omitempty"`
	// PreviewText is text Chat reads for link preview chips and does not
	// show. Today's discovery document lacks it, but Google accepts it
	// (observed; Grafana sends it with every alert): see docs/senders.md.
	PreviewText string `json:"previewText,omitempty"`
}

// Thread identifies a thread by Google's resource name or by a key chosen by the
// sender. A thread key is scoped to the webhook that set it (docs/google-chat.md §7).
type Thread struct {
	// Name is Google's name of the thread, "spaces/S/threads/T".
	Name string `json:"name,omitempty"`
	// ThreadKey is the sender's key for the thread, at most 4,000 characters.
	ThreadKey string `json:"threadKey,omitempty"`
}

// hasThread reports whether the message names a thread.
func (m *Message) hasThread() bool {
	return m.Thread != nil && (m.Thread.Name != "" || m.Thread.ThreadKey != "")
}

// ReplyOption says how a message relates to the thread it names. It has an
// unset zero value so that the library can tell "not chosen" from an explicit
// choice.
type ReplyOption int

const (
	// ReplyUnset is the zero value: when the message names a thread, the
	// library sends ReplyFallbackToNewThread, because without a reply option
	// Google silently ignores the thread (docs/google-chat.md §7); otherwise it sends nothing.
	ReplyUnset ReplyOption = iota
	// ReplyNewThread always starts a new thread and ignores the message's thread
	// (MESSAGE_REPLY_OPTION_UNSPECIFIED, sent explicitly).
	ReplyNewThread
	// ReplyFallbackToNewThread replies in the named thread, or starts it and
	// binds the key when it does not exist (REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD).
	ReplyFallbackToNewThread
	// ReplyOrFail replies in the named thread, or fails with 404 NOT_FOUND
	// when it does not exist (REPLY_MESSAGE_OR_FAIL).
	ReplyOrFail
)

// String returns Google's name of the option, or "" for ReplyUnset.
func (r ReplyOption) String() string {
	switch r {
	case ReplyNewThread:
		return "MESSAGE_REPLY_OPTION_UNSPECIFIED"
	case ReplyFallbackToNewThread:
		return "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	case ReplyOrFail:
		return "REPLY_MESSAGE_OR_FAIL"
	}
	return ""
}

// ParseReplyOption parses Google's name of a reply option. The empty string is
// ReplyUnset.
func ParseReplyOption(s string) (ReplyOption, error) {
	for _, r := range []ReplyOption{ReplyUnset, ReplyNewThread, ReplyFallbackToNewThread, ReplyOrFail} {
		if r.String() == s {
			return r, nil
		}
	}
	return ReplyUnset, fmt.Errorf("unknown messageReplyOption %q", s)
}

// effective returns the option to send for msg: an explicit choice as given,
// and the fallback when a thread is set but no choice was made.
func (r ReplyOption) effective(msg *Message) ReplyOption {
	if r == ReplyUnset && msg.hasThread() {
		return ReplyFallbackToNewThread
	}
	return r
}

// Options are the delivery options of one send. They travel in the query
// string beside the message. Options is itself an [Option], so a literal can be
// passed to Send directly.
type Options struct {
	// Reply relates the message to its thread; see ReplyOption.
	Reply ReplyOption
	// MessageID is a custom message id: "client-" then lowercase letters,
	// digits and hyphens, at most 63 characters, unique in the space.
	MessageID string
	// RequestID makes the send idempotent where Google honours it. The client
	// makes one per logical send when empty and reuses it on every retry.
	RequestID string
}

// Option sets delivery options of a send.
type Option interface{ apply(*Options) }

func (o Options) apply(dst *Options) {
	if o.Reply != ReplyUnset {
		dst.Reply = o.Reply
	}
	if o.MessageID != "" {
		dst.MessageID = o.MessageID
	}
	if o.RequestID != "" {
		dst.RequestID = o.RequestID
	}
}

type optionFunc func(*Options)

func (f optionFunc) apply(o *Options) { f(o) }

// WithReply sets the reply option.
func WithReply(r ReplyOption) Option { return optionFunc(func(o *Options) { o.Reply = r }) }

// WithMessageID sets a custom message id; see Options.MessageID.
func WithMessageID(id string) Option { return optionFunc(func(o *Options) { o.MessageID = id }) }

// WithRequestID sets the request id; see Options.RequestID.
func WithRequestID(id string) Option { return optionFunc(func(o *Options) { o.RequestID = id }) }

func collect(opts []Option) Options {
	if len(opts) == 0 {
		return Options{}
	}
	o := new(Options) // escapes through the interface call: allocate only when needed
	for _, opt := range opts {
		if opt != nil {
			opt.apply(o)
		}
	}
	return *o
}

// CheckMessageID reports whether id is a valid custom message id (docs/google-chat.md §1.3):
// it begins with "client-", has at most 63 characters and holds only lowercase
// letters, digits and hyphens.
func CheckMessageID(id string) error {
	switch {
	case len(id) > 63:
		return fmt.Errorf("messageId %q: %d characters, at most 63 allowed", id, len(id))
	case !strings.HasPrefix(id, "client-") || id == "client-":
		return fmt.Errorf("messageId %q: must begin with \"client-\" and have more after it", id)
	}
	for i, c := range id {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("messageId %q: character %q at %d: only lowercase letters, digits and hyphens are allowed", id, c, i)
		}
	}
	return nil
}

// Encode returns the message as Google receives it: JSON without HTML escaping,
// so that '<', '>' and '&' take one byte each, as Google measures them.
func Encode(msg *Message) ([]byte, error) {
	return encodeJSON(msg)
}

func encodeJSON(v any) ([]byte, error) {
	// json.Marshal escapes '<', '>' and '&' as \u003c, \u003e and \u0026;
	// undoing that in place costs less than an Encoder with SetEscapeHTML(false)
	// and gives the same bytes (FuzzEncode checks it).
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return unescapeHTML(data), nil
}

// unescapeHTML turns the escapes \u003c, \u003e and \u0026 that json.Marshal
// writes back into '<', '>' and '&', in place. Any other escape, an escaped
// backslash included, is copied as is.
func unescapeHTML(data []byte) []byte {
	if bytes.Index(data, []byte(`\u00`)) < 0 {
		return data
	}
	// Start at the first backslash, not at the first "\u00": in "\\u003c" (an
	// escaped backslash, then "u003c") the latter is not an escape.
	i := bytes.IndexByte(data, '\\')
	out := data[:i]
	for i < len(data) {
		c := data[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+5 < len(data) && data[i+1] == 'u' && data[i+2] == '0' && data[i+3] == '0' {
			switch string(data[i+4 : i+6]) {
			case "3c":
				out, i = append(out, '<'), i+6
				continue
			case "3e":
				out, i = append(out, '>'), i+6
				continue
			case "26":
				out, i = append(out, '&'), i+6
				continue
			}
		}
		out = append(out, c, data[i+1]) // an escape: keep it and the byte after it
		i += 2
	}
	return out
}
