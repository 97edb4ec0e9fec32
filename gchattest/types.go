package gchattest

import (
	"encoding/json"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/emulator"
)

// The types below are the emulator's own, written out here so that their
// fields are documented for users. Where a type has exactly the emulator's
// fields it is converted with a plain type conversion (Thread(t)), which
// stops compiling the day the two differ; Message and Stats are copied field
// by field, and a test checks that Message names every field of the
// emulator's message.

// Message is a message the emulator accepted, with what it learnt on
// arrival. The slices and Body are shared with the emulator: do not modify
// them.
type Message struct {
	// Name is the message's resource name, "spaces/S/messages/M.T": M equals
	// T for the first message of a thread.
	Name string
	// Space is the space id, as in the webhook URL.
	Space string
	// Thread is the thread the message went into: its name
	// ("spaces/S/threads/T") always, and the thread key the request gave, if
	// any.
	Thread gchat.Thread
	// ThreadReply is true when the message went into a thread that already
	// existed, false when it started one.
	ThreadReply bool
	// Sender is whom the message shows as: the webhook's name and avatar.
	Sender Sender
	// CreateTime is when the emulator accepted the message.
	CreateTime time.Time
	// Webhook is the id of the webhook that posted the message.
	Webhook string
	// RequestID is the request's requestId parameter, empty when none was
	// given.
	RequestID string
	// MessageID is the request's messageId parameter ("client-…"), empty
	// when none was given.
	MessageID string
	// Body is the message as the emulator answered it: the request's message
	// in lowerCamelCase plus name and thread.name, as Google answers a
	// webhook.
	Body json.RawMessage
	// Message is the request's message, decoded. Assert on its Text, CardsV2
	// and Thread.
	Message gchat.Message
	// HTML is the message rendered as the emulator's page shows it.
	HTML string
	// Problems are what Message.Check finds in the message: the emulator
	// accepts what Google accepts, and records the warnings (and any error
	// Google lets through) here.
	Problems card.Problems
}

// Sender is whom a message shows as in Chat: for a webhook, a bot with the
// webhook's name and avatar.
type Sender struct {
	// Name is "users/" followed by the webhook id.
	Name string
	// DisplayName is the webhook's name, as set when it was added.
	DisplayName string
	// AvatarURL is the webhook's avatar, empty when none was set.
	AvatarURL string
	// Type is "BOT" for a webhook.
	Type string
}

// Thread is a thread of the space.
type Thread struct {
	// Name is the thread's resource name, "spaces/S/threads/T".
	Name string
	// ThreadKey is the key the thread was started with, empty when it was
	// started without one.
	ThreadKey string
	// Webhook is the id of the webhook whose keys hold ThreadKey: a thread
	// key is scoped to the webhook that set it, so two webhooks sending the
	// same key make two threads.
	Webhook string
	// MessageCount counts the thread's messages, the first included.
	MessageCount int
	// LastTime is when the thread's latest message was accepted.
	LastTime time.Time
}

// Faults are injected failures. Each rate is the share, from 0 to 1, of
// requests that fail that way, drawn once per request; the shares add up to
// at most 1. The zero value injects nothing.
type Faults struct {
	// Rate429 answers 429 RESOURCE_EXHAUSTED, as Google's quota does.
	Rate429 float64
	// Rate500 answers 500 INTERNAL.
	Rate500 float64
	// Rate503 answers 503 UNAVAILABLE "The service is currently unavailable.".
	Rate503 float64
	// Latency is added to every request before it is answered.
	Latency time.Duration
	// Reset closes the connection without an answer; nothing is posted.
	Reset float64
	// Hang gives no answer until the client goes away or the server closes.
	Hang float64
	// Lost posts the message, then closes the connection without the
	// answer: the client cannot tell that it was posted (an ambiguous
	// attempt, which a retry turns into a duplicate unless requestId is
	// honoured).
	Lost float64
}

// Settings are the emulator's quotas and its answers where Google's
// behaviour is not documented. Each undocumented behaviour is a field, so a
// test can run against either answer; Server.Settings returns the ones in
// force. The evidence for each is in the repository's docs/google-chat.md,
// cited by section.
type Settings struct {
	// QuotaPerSecond is the rate of the per-space token bucket that all
	// webhooks of a space share (Google: 1 request per second, §4.2). Zero or
	// negative switches it off, as NewServer does unless WithGoogleQuotas is
	// given.
	QuotaPerSecond float64
	// QuotaBurst is the bucket's size; zero means 1.
	QuotaBurst int
	// QuotaPerMinute caps the requests accepted per space in any rolling 60
	// seconds (Google: 60, §4.2). Zero or negative switches it off.
	QuotaPerMinute int
	// RetryAfterSeconds, when positive, is sent as a Retry-After header with
	// every 429. Zero (the default) sends none: no Retry-After from Google
	// has been reported (§4.2).
	RetryAfterSeconds int
	// OrFailUnknownThread is the answer to REPLY_MESSAGE_OR_FAIL with a
	// thread that does not exist: OrFailNotFound (the default, 404) or
	// OrFailNewThread (start the thread). Google's two documents disagree
	// (§7).
	OrFailUnknownThread string
	// ThreadPrecedence orders ThreadByName, ThreadByBodyKey and
	// ThreadByQueryKey: when a request names a thread in several ways, the
	// first present wins. Default: name, body key, query key. Undocumented
	// (§7, §13).
	ThreadPrecedence []string
	// HonourRequestID makes a repeated requestId in one space answer the
	// first message again and post nothing (the default). Documented for the
	// Chat API, not for webhooks (§1.3).
	HonourRequestID bool
	// MessageIDConflict makes a messageId already used in the space a 409
	// ALREADY_EXISTS (the default, inferred, §6.3); false records the id and
	// posts.
	MessageIDConflict bool
	// ForeignThreadStatus is the answer to a thread.name of another space:
	// 400 (the default, and what zero means: "The request contains an
	// invalid thread resource name") or 404 NOT_FOUND. Unknown (docs/google-chat.md §11.6).
	ForeignThreadStatus int
	// DeletedWebhookStatus is the answer to a deleted webhook's URL: 403
	// (the default, like a bad token) or 404 (§6.3).
	DeletedWebhookStatus int
	// UnknownSpaceStatus is the answer for a space that does not exist: 403
	// (the default) or 404 (§6.3).
	UnknownSpaceStatus int
	// LegacyTextLimit refuses text over 4,096 characters, as Google did from
	// 2018 to 2020 (§4.1). Off by default.
	LegacyTextLimit bool
	// AcceptPreviewText accepts previewText, which Google is observed to
	// accept though its discovery document lacks it (Grafana sends it; see
	// docs/senders.md). On by default; off refuses it as an unknown name.
	AcceptPreviewText bool
}

// Values of Settings.OrFailUnknownThread.
const (
	OrFailNotFound  = emulator.OrFailNotFound
	OrFailNewThread = emulator.OrFailNewThread
)

// Values in Settings.ThreadPrecedence.
const (
	ThreadByName     = emulator.ThreadByName     // thread.name in the body
	ThreadByBodyKey  = emulator.ThreadByBodyKey  // thread.threadKey in the body
	ThreadByQueryKey = emulator.ThreadByQueryKey // the deprecated threadKey query parameter
)

// RequestRecord is one webhook request, answered or not. Start and Duration
// let a test see which requests were in flight at the same time.
type RequestRecord struct {
	// ID names the record in the emulator's API ("r1", "r2", … in arrival
	// order): GET /api/v1/spaces/S/requests/ID shows the request in full.
	ID string
	// Space is the space id of the request's URL.
	Space string
	// Start is when the request arrived.
	Start time.Time
	// Duration is how long it took to answer (or to give up on answering).
	Duration time.Duration
	// Status is the HTTP status answered, 0 when none was (reset or hang).
	Status int
	// Fault is the injected fault: "", "latency", "429", "500", "503",
	// "reset", "hang" or "lost".
	Fault string
	// Webhook is the id of the webhook, empty when authentication failed.
	Webhook string
	// Message is the name of the message the request posted, or answered
	// again for a repeated requestId; empty when it posted none.
	Message string
}

// Stats counts the emulator's webhook answers.
type Stats struct {
	// ByStatus counts answers by HTTP status; status 0 counts requests that
	// got none (reset, hang, lost).
	ByStatus map[int]int
}

func messageOf(m emulator.Message) Message {
	return Message{
		Name:        m.Name,
		Space:       m.Space,
		Thread:      gchat.Thread{Name: m.Thread.Name, ThreadKey: m.Thread.ThreadKey},
		ThreadReply: m.ThreadReply,
		Sender:      Sender(m.Sender),
		CreateTime:  m.CreateTime,
		Webhook:     m.Webhook,
		RequestID:   m.RequestID,
		MessageID:   m.MessageID,
		Body:        m.Body,
		Message:     m.Message,
		HTML:        string(m.HTML),
		Problems:    m.Problems,
	}
}

func messagesOf(ms []emulator.Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = messageOf(m)
	}
	return out
}

func threadsOf(ts []emulator.Thread) []Thread {
	out := make([]Thread, len(ts))
	for i, t := range ts {
		out[i] = Thread(t)
	}
	return out
}

func requestsOf(rs []emulator.RequestRecord) []RequestRecord {
	out := make([]RequestRecord, len(rs))
	for i, r := range rs {
		out[i] = RequestRecord{ID: r.ID, Space: r.Space, Start: r.Start, Duration: r.Duration,
			Status: r.Status, Fault: r.Fault, Webhook: r.Webhook, Message: r.Message}
	}
	return out
}
