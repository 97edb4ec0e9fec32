package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Settings are the emulator's quotas and its answers where Google's behaviour
// is not documented. Each guess is a field, so a test suite can run against
// either answer; [DefaultSettings] holds the emulator's best guesses:
//
//   - OrFailUnknownThread: REPLY_MESSAGE_OR_FAIL on an unknown thread
//     (docs/google-chat.md §7, [UNK]: discovery text and quickstart disagree).
//   - ThreadPrecedence: which of thread.name, body thread.threadKey and query
//     threadKey wins when several are given (docs/google-chat.md §7, §13, [UNK]).
//   - HonourRequestID: whether a repeated requestId returns the first message
//     (docs/google-chat.md §1.3, §10, [UNK] for webhooks).
//   - MessageIDConflict: whether a reused messageId is 409 ALREADY_EXISTS
//     (docs/google-chat.md §1.3, §6.3, [INF]).
//   - ForeignThreadStatus: the answer to a thread.name of another space
//     (docs/google-chat.md §11.6, [UNK]: 400 or 404).
//   - DeletedWebhookStatus, UnknownSpaceStatus: the answer for a deleted
//     webhook or an unknown space (docs/google-chat.md §6.3, §13, [UNK]).
//   - RetryAfterSeconds: whether a 429 carries Retry-After (docs/google-chat.md §4.2, [UNK]).
//   - LegacyTextLimit: the 4,096-character text limit of 2018–2020
//     (docs/google-chat.md §4.1, [UNK] today).
//   - AcceptPreviewText: whether previewText, which Google accepts though
//     its discovery document lacks it, is accepted (observed; see
//     docs/senders.md).
//
// Settings are read by value: a change applies to requests that start after it.
type Settings struct {
	// QuotaPerSecond is the rate of the per-space token bucket shared by all
	// webhooks of a space (docs/google-chat.md §4.2: 1 request per second). Zero or
	// negative switches it off.
	QuotaPerSecond float64 `json:"quotaPerSecond"`
	// QuotaBurst is the bucket's size; zero means 1 (docs/google-chat.md §4.2: "1 request
	// per second", bursts of a few are observed to fail).
	QuotaBurst int `json:"quotaBurst"`
	// QuotaPerMinute caps accepted requests per space in any rolling 60
	// seconds (docs/google-chat.md §4.2: 60 writes per minute, shared with apps). Zero or
	// negative switches it off.
	QuotaPerMinute int `json:"quotaPerMinute"`

	// Guess: docs/google-chat.md §4.2 says no Retry-After has been reported [UNK]. Zero
	// (the default) sends none; a positive value is sent as the header's
	// seconds with every 429, from the quota or a fault.
	RetryAfterSeconds int `json:"retryAfterSeconds"`

	// Guess: docs/google-chat.md §7 [UNK]: the quickstart says an unknown thread with
	// REPLY_MESSAGE_OR_FAIL is not sent (404 NOT_FOUND, the default,
	// OrFailNotFound); the discovery text says a new thread_key creates a
	// thread (OrFailNewThread).
	OrFailUnknownThread string `json:"orFailUnknownThread"`

	// Guess: docs/google-chat.md §7/§13 [UNK]: which thread identifier counts when several
	// are given, first present wins: some order of ThreadByName
	// ("name", thread.name), ThreadByBodyKey ("bodyKey", thread.threadKey)
	// and ThreadByQueryKey ("queryKey", the deprecated threadKey parameter).
	// Default: name, bodyKey, queryKey. When a new thread is made, the first
	// present key in this order is bound to it.
	ThreadPrecedence []string `json:"threadPrecedence"`

	// Guess: docs/google-chat.md §1.3/§10 [UNK]: requestId is documented for the API, not
	// for webhooks. True (the default): a repeated requestId in the same
	// space answers the first message again and posts nothing.
	HonourRequestID bool `json:"honourRequestId"`

	// Guess: docs/google-chat.md §6.3 [INF]: a messageId already used in the space is 409
	// ALREADY_EXISTS (true, the default). False records the id and posts.
	MessageIDConflict bool `json:"messageIdConflict"`

	// Guess: docs/google-chat.md §11.6 [UNK]: a thread.name of another
	// space is 400 INVALID_ARGUMENT "The request contains an invalid thread
	// resource name" (400, the default; zero means it too, for Settings
	// written before the field), or 404 NOT_FOUND like an unknown thread.
	ForeignThreadStatus int `json:"foreignThreadStatus"`

	// Guess: docs/google-chat.md §6.3 [UNK]/[INF]: a deleted webhook's URL most likely
	// answers like a bad token, 403 PERMISSION_DENIED (the default); 404
	// NOT_FOUND is the other choice.
	DeletedWebhookStatus int `json:"deletedWebhookStatus"`

	// Guess: docs/google-chat.md §6.3/§13 [UNK]: an unknown (or deleted) space answers 403
	// PERMISSION_DENIED like a bad token (the default, [INF]: the token is
	// not valid for that space), or 404 NOT_FOUND.
	UnknownSpaceStatus int `json:"unknownSpaceStatus"`

	// Guess: docs/google-chat.md §4.1 [UNK]: whether text is still capped at 4,096
	// characters ("Message is longer than 4096 characters", seen 2018–2020).
	// Off by default.
	LegacyTextLimit bool `json:"legacyTextLimit"`

	// Observed, not documented: Google answers 200 to a message with
	// previewText (Grafana's contact point sends it with every alert; see
	// docs/senders.md), though today's discovery document lacks the field.
	// True (the default) accepts it; false refuses it with the 400 for an
	// unknown name, as the discovery document alone would.
	AcceptPreviewText bool `json:"acceptPreviewText"`
}

// Values of Settings.OrFailUnknownThread.
const (
	OrFailNotFound  = "NOT_FOUND"
	OrFailNewThread = "NEW_THREAD"
)

// Values in Settings.ThreadPrecedence.
const (
	ThreadByName     = "name"
	ThreadByBodyKey  = "bodyKey"
	ThreadByQueryKey = "queryKey"
)

// legacyTextLimit is the historic cap on text (docs/google-chat.md §4.1).
const legacyTextLimit = 4096

// DefaultSettings returns Google's documented quotas and the emulator's best
// guess for each undocumented behaviour. The guesses the relay shares come
// from webhookapi.DefaultRules, so that both faces answer alike.
func DefaultSettings() Settings {
	rules := webhookapi.DefaultRules()
	return Settings{
		QuotaPerSecond:       1,
		QuotaBurst:           1,
		QuotaPerMinute:       60,
		OrFailUnknownThread:  OrFailNotFound,
		ThreadPrecedence:     []string{ThreadByName, ThreadByBodyKey, ThreadByQueryKey},
		HonourRequestID:      true,
		MessageIDConflict:    rules.MessageIDConflict,
		ForeignThreadStatus:  rules.ForeignThreadStatus,
		DeletedWebhookStatus: http.StatusForbidden,
		UnknownSpaceStatus:   http.StatusForbidden,
		AcceptPreviewText:    true,
	}
}

// Validate reports the first invalid field by its JSON name.
func (s Settings) Validate() error {
	switch {
	case s.QuotaBurst < 0:
		return fmt.Errorf("settings: quotaBurst %d: want 0 or more", s.QuotaBurst)
	case s.RetryAfterSeconds < 0:
		return fmt.Errorf("settings: retryAfterSeconds %d: want 0 or more", s.RetryAfterSeconds)
	case s.OrFailUnknownThread != OrFailNotFound && s.OrFailUnknownThread != OrFailNewThread:
		return fmt.Errorf("settings: orFailUnknownThread %q: want %q or %q", s.OrFailUnknownThread, OrFailNotFound, OrFailNewThread)
	case s.ForeignThreadStatus != 0 && s.ForeignThreadStatus != http.StatusBadRequest && s.ForeignThreadStatus != http.StatusNotFound:
		return fmt.Errorf("settings: foreignThreadStatus %d: want 400 or 404", s.ForeignThreadStatus)
	case s.DeletedWebhookStatus != http.StatusForbidden && s.DeletedWebhookStatus != http.StatusNotFound:
		return fmt.Errorf("settings: deletedWebhookStatus %d: want 403 or 404", s.DeletedWebhookStatus)
	case s.UnknownSpaceStatus != http.StatusForbidden && s.UnknownSpaceStatus != http.StatusNotFound:
		return fmt.Errorf("settings: unknownSpaceStatus %d: want 403 or 404", s.UnknownSpaceStatus)
	}
	p := slices.Clone(s.ThreadPrecedence)
	slices.Sort(p)
	if !slices.Equal(p, []string{ThreadByBodyKey, ThreadByName, ThreadByQueryKey}) {
		return fmt.Errorf("settings: threadPrecedence %q: want an order of %q, %q and %q",
			s.ThreadPrecedence, ThreadByName, ThreadByBodyKey, ThreadByQueryKey)
	}
	return nil
}

// quotaInterval is the time one token takes to return, or 0 when the
// per-second quota is off.
func (s *Settings) quotaInterval() time.Duration {
	if s.QuotaPerSecond <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / s.QuotaPerSecond)
}

// Faults are injected failures: each rate is the share (0..1) of requests
// that fail that way, drawn once per request; Latency is added to every
// request before it is answered.
type Faults struct {
	Rate429 float64 // 429 RESOURCE_EXHAUSTED, as the quota answers
	Rate500 float64 // 500 INTERNAL
	Rate503 float64 // 503 UNAVAILABLE "The service is currently unavailable."
	Latency time.Duration
	Reset   float64 // the connection is closed without an answer
	Hang    float64 // no answer until the client goes away or the server closes
	// Lost: the message is posted, then the connection is closed without
	// the answer, so the client cannot tell it was posted (an ambiguous
	// attempt).
	Lost float64
}

// jsonFaults is Faults on the wire: latency as a Go duration string.
type jsonFaults struct {
	Rate429 float64 `json:"rate429"`
	Rate500 float64 `json:"rate500"`
	Rate503 float64 `json:"rate503"`
	Latency string  `json:"latency"`
	Reset   float64 `json:"reset"`
	Hang    float64 `json:"hang"`
	Lost    float64 `json:"lost"`
}

// MarshalJSON writes {"rate429","rate500","rate503","latency":"200ms","reset","hang","lost"}.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonFaults{f.Rate429, f.Rate500, f.Rate503, f.Latency.String(), f.Reset, f.Hang, f.Lost})
}

// UnmarshalJSON reads what MarshalJSON writes; latency may be "" for none.
func (f *Faults) UnmarshalJSON(data []byte) error {
	var j jsonFaults
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	var lat time.Duration
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		lat = d
	}
	*f = Faults{Rate429: j.Rate429, Rate500: j.Rate500, Rate503: j.Rate503, Latency: lat, Reset: j.Reset, Hang: j.Hang, Lost: j.Lost}
	return nil
}

// Validate reports the first invalid field.
func (f Faults) Validate() error {
	rates := []struct {
		name string
		v    float64
	}{{"rate429", f.Rate429}, {"rate500", f.Rate500}, {"rate503", f.Rate503}, {"reset", f.Reset}, {"hang", f.Hang}, {"lost", f.Lost}}
	sum := 0.0
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) {
			return fmt.Errorf("faults: %s %v: want a share from 0 to 1", r.name, r.v)
		}
		sum += r.v
	}
	switch {
	case sum > 1+1e-9:
		return fmt.Errorf("faults: shares add up to %v: want at most 1", sum)
	case f.Latency < 0:
		return fmt.Errorf("faults: latency %v: want 0 or more", f.Latency)
	}
	return nil
}

func (f Faults) zero() bool { return f == Faults{} }

// FaultConfig holds the global faults and per-space faults. A space's entry
// replaces the global faults for that space.
type FaultConfig struct {
	Global Faults            `json:"global"`
	Spaces map[string]Faults `json:"spaces"`
}

// Validate reports the first invalid entry.
func (fc FaultConfig) Validate() error {
	if err := fc.Global.Validate(); err != nil {
		return fmt.Errorf("global: %w", err)
	}
	for id, f := range fc.Spaces {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("space %s: %w", id, err)
		}
	}
	return nil
}

func (fc FaultConfig) clone() FaultConfig {
	out := FaultConfig{Global: fc.Global, Spaces: make(map[string]Faults, len(fc.Spaces))}
	for id, f := range fc.Spaces {
		out.Spaces[id] = f
	}
	return out
}

// forSpace returns the faults that apply to a space.
func (fc *FaultConfig) forSpace(id string) Faults {
	if f, ok := fc.Spaces[id]; ok {
		return f
	}
	return fc.Global
}
