package emulator

import (
	"encoding/json"
	"errors"
	"html/template"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// Errors of the in-process methods; compare with errors.Is.
var (
	// ErrNotFound: no such space, webhook or thread.
	ErrNotFound = errors.New("emulator: not found")
	// ErrExists: a space id or a webhook token is already taken.
	ErrExists = errors.New("emulator: already exists")
	// ErrInvalid: a field of a spec is not valid; the error names it.
	ErrInvalid = errors.New("emulator: invalid")
	// ErrClosed: the server was closed while waiting.
	ErrClosed = errors.New("emulator: closed")
)

// Threading modes of a space (docs/google-chat.md §7, Space.spaceThreadingState).
const (
	Threaded   = "THREADED_MESSAGES"
	Grouped    = "GROUPED_MESSAGES"
	Unthreaded = "UNTHREADED_MESSAGES"
)

// Kinds of space.
const (
	KindSpace         = "SPACE"
	KindDirectMessage = "DIRECT_MESSAGE"
)

// SpaceSpec describes a space to create. Only DisplayName is needed.
type SpaceSpec struct {
	// ID is the space id, [A-Za-z0-9_-]+; empty means 11 random characters
	// starting "AAAA", like Google's (docs/google-chat.md §1.2).
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName"`
	// Threading is Threaded (empty means this), Grouped or Unthreaded.
	Threading string `json:"threading,omitempty"`
	// Kind is KindSpace (empty means this) or KindDirectMessage.
	Kind string `json:"kind,omitempty"`
	// AppsEnabled says whether apps, and so webhooks, may post (docs/google-chat.md §9:
	// otherwise 403 "The caller does not have permission"). Nil means true
	// for a space and false for a direct message, where webhooks work only
	// when every member has apps enabled.
	AppsEnabled *bool `json:"appsEnabled,omitempty"`
	// Webhooks are created with the space.
	Webhooks []WebhookSpec `json:"webhooks,omitempty"`
}

// WebhookSpec describes a webhook to register in a space.
type WebhookSpec struct {
	// ID names the webhook in the API and logs; empty means "w" and a number.
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatarUrl,omitempty"`
	// Token is the webhook's secret; empty means 43 random URL-safe base64
	// characters, like Google's current tokens (docs/google-chat.md §1.2).
	Token string `json:"token,omitempty"`
}

// Space is a space as the API shows it.
type Space struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"` // "spaces/ID"
	DisplayName  string    `json:"displayName"`
	Threading    string    `json:"threading"`
	Kind         string    `json:"kind"`
	AppsEnabled  bool      `json:"appsEnabled"`
	Webhooks     []Webhook `json:"webhooks"` // registered, not deleted, oldest first
	MessageCount int       `json:"messageCount"`
	CreateTime   time.Time `json:"createTime"`
	// Deleted is set only in the "space" event that announces a deletion.
	Deleted bool `json:"deleted,omitempty"`
}

// Webhook is a registered webhook. Its URL holds the token in full: the
// emulator's tokens are local test credentials, and copying the URL is the
// point of the page.
type Webhook struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	AvatarURL  string    `json:"avatarUrl,omitempty"`
	URL        string    `json:"url"`
	CreateTime time.Time `json:"createTime"`
}

// Thread is a thread of a space.
type Thread struct {
	Name         string    `json:"name"` // "spaces/S/threads/T"
	ThreadKey    string    `json:"threadKey,omitempty"`
	Webhook      string    `json:"webhook"` // the webhook whose key namespace holds ThreadKey
	MessageCount int       `json:"messageCount"`
	LastTime     time.Time `json:"lastTime"`
}

// Sender is who a message shows as: the webhook's name and avatar, a bot
// (docs/google-chat.md §5, §11.9).
type Sender struct {
	Name        string `json:"name"` // "users/" + webhook id
	DisplayName string `json:"displayName"`
	AvatarURL   string `json:"avatarUrl,omitempty"`
	Type        string `json:"type"` // "BOT"
}

// MessageThread is the thread of a stored message.
type MessageThread struct {
	Name      string `json:"name"`
	ThreadKey string `json:"threadKey,omitempty"`
}

// Message is an accepted message with what the emulator learnt on arrival.
// Messages are immutable once stored; the slices and Body are shared with
// the server and must not be modified.
type Message struct {
	Name        string        `json:"name"` // "spaces/S/messages/M.T"
	Space       string        `json:"space"`
	Thread      MessageThread `json:"thread"`
	ThreadReply bool          `json:"threadReply"`
	Sender      Sender        `json:"sender"`
	CreateTime  time.Time     `json:"createTime"`
	Webhook     string        `json:"webhook"`
	RequestID   string        `json:"requestId,omitempty"`
	MessageID   string        `json:"messageId,omitempty"`
	// Body is the message as echoed to the client: the request's message in
	// lowerCamelCase plus name and thread.name (docs/google-chat.md §5).
	Body json.RawMessage `json:"body"`
	// Message is the typed request message.
	Message gchat.Message `json:"-"`
	// HTML is the message rendered as the page shows it.
	HTML template.HTML `json:"html"`
	// Problems are the message's gchat Check findings.
	Problems card.Problems `json:"-"`
}

// apiProblem is a card.Problem on the wire.
type apiProblem struct {
	Path     string `json:"path"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// MarshalJSON writes the message as the API contract shows it, problems
// with their severity spelt out.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message // no methods: no recursion
	ps := make([]apiProblem, len(m.Problems))
	for i, p := range m.Problems {
		ps[i] = apiProblem{p.Path, p.Severity.String(), p.Message}
	}
	return json.Marshal(struct {
		plain
		Problems []apiProblem `json:"problems"`
	}{plain(m), ps})
}

// MessageFilter selects messages of a space; the zero value selects all.
type MessageFilter struct {
	// Thread is a thread id or name ("spaces/S/threads/T"); empty means any.
	Thread string
	// Since keeps messages created strictly after it.
	Since time.Time
	// Limit keeps only the newest Limit matches (still oldest first); zero
	// means no limit.
	Limit int
}

// RequestRecord is one webhook request, answered or not. Start and Duration
// let a test see requests that were in flight at the same time.
type RequestRecord struct {
	// ID names the record in the API ("r1", "r2", …, in arrival order).
	ID       string        `json:"id"`
	Space    string        `json:"space"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"-"`
	// Status is the HTTP status answered, 0 when none was (reset or hang).
	Status int `json:"status"`
	// Fault is the injected fault: "", "latency", "429", "500", "503",
	// "reset" or "hang".
	Fault   string `json:"fault"`
	Webhook string `json:"webhook,omitempty"` // empty when authentication failed
	// Message is the name of the message the request posted, or answered
	// again (a repeated requestId); empty when it posted none.
	Message string `json:"message,omitempty"`

	capture  *capture      // while the request is handled
	problems card.Problems // of the message posted
	detail   *captured     // once recorded; immutable
}

// MarshalJSON adds durationMs.
func (r RequestRecord) MarshalJSON() ([]byte, error) {
	type plain RequestRecord
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"durationMs"`
	}{plain(r), float64(r.Duration) / float64(time.Millisecond)})
}

// Stats counts webhook answers by HTTP status; status 0 counts requests
// that got none (reset, hang).
type Stats struct {
	ByStatus map[int]int           `json:"byStatus"`
	Spaces   map[string]SpaceStats `json:"spaces"`
}

// SpaceStats counts one space's answers.
type SpaceStats struct {
	ByStatus map[int]int `json:"byStatus"`
}
