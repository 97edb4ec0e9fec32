// Package adminapi holds the JSON of the relay's admin API that both its
// ends read: the server (relay/admin.go) writes these types, and the
// operator commands (`gchat deliveries`, `gchat dead`) read them. One type
// per answer keeps the two ends from drifting apart.
package adminapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// Delivery is a delivery as the admin API shows it.
type Delivery struct {
	ID    string      `json:"id"`
	Space string      `json:"space"`
	Lane  string      `json:"lane"`
	Group string      `json:"group,omitempty"`
	Seq   int64       `json:"seq"`
	State store.State `json:"state"`
	// Attempts counts the requests made to Google for it.
	Attempts int `json:"attempts"`
	// NextAttemptTime is set while the delivery is queued.
	NextAttemptTime *time.Time `json:"nextAttemptTime,omitempty"`
	LastStatus      int        `json:"lastStatus,omitempty"`
	LastError       string     `json:"lastError,omitempty"`
	CreateTime      time.Time  `json:"createTime"`
	UpdateTime      time.Time  `json:"updateTime"`
	QueueTime       time.Time  `json:"queueTime"`
	// DoneTime is set once the delivery reached a final state.
	DoneTime        *time.Time      `json:"doneTime,omitempty"`
	RequestID       string          `json:"requestId"`
	CallerRequestID string          `json:"callerRequestId,omitempty"`
	MessageID       string          `json:"messageId,omitempty"`
	Reply           string          `json:"messageReplyOption,omitempty"`
	RelayThread     string          `json:"relayThread,omitempty"`
	GoogleMessage   string          `json:"googleMessage,omitempty"`
	GoogleThread    string          `json:"googleThread,omitempty"`
	Batch           bool            `json:"batch,omitempty"`
	BatchID         string          `json:"batchId,omitempty"`
	Message         json.RawMessage `json:"message"`
	// AttemptHistory is every attempt recorded for the delivery, oldest
	// first, across replays (a batch member's are its batch's). Only
	// GET /api/v1/deliveries/{id} gives it; lists leave it out.
	AttemptHistory []Attempt `json:"attemptHistory,omitempty"`
}

// Attempt is one attempt of a delivery as the admin API shows it.
type Attempt struct {
	// N numbers the attempts from 1 across replays; Try restarts at 1
	// after each replay (it is the delivery's attempts count then).
	N   int `json:"n"`
	Try int `json:"try"`
	// StartTime is the claim and EndTime the record of the outcome.
	StartTime time.Time `json:"startTime"`
	EndTime   time.Time `json:"endTime"`
	// Duration is the request's time in seconds with an "s" suffix
	// ("0.153s", as Google's JSON writes durations); absent when no
	// request was made or it is not known.
	Duration string `json:"duration,omitempty"`
	// Replica is the relay replica (its lease owner) that made it.
	Replica   string `json:"replica,omitempty"`
	RequestID string `json:"requestId"`
	// Outcome is the state the attempt led to: done, queued (retried),
	// dead or dropped.
	Outcome store.State `json:"outcome"`
	Status  int         `json:"status,omitempty"`
	Error   string      `json:"error,omitempty"`
	// GoogleMessage is Google's message name, once done.
	GoogleMessage string `json:"googleMessage,omitempty"`
	// Ambiguous reports an attempt whose outcome was never recorded (its
	// replica died or lost its lease while sending): Google may have
	// accepted it; it was sent again with the same requestId.
	Ambiguous bool `json:"ambiguous,omitempty"`
}

// AttemptOf is a as the admin API shows it.
func AttemptOf(a store.Attempt) Attempt {
	j := Attempt{
		N: a.N, Try: a.Try, StartTime: a.StartedAt, EndTime: a.EndedAt, Replica: a.Owner, RequestID: a.RequestID,
		Outcome: a.State, Status: a.Status, Error: a.Error, GoogleMessage: a.GoogleMessage, Ambiguous: a.Rescued,
	}
	if a.Duration > 0 {
		j.Duration = strconv.FormatFloat(a.Duration.Seconds(), 'f', -1, 64) + "s"
	}
	return j
}

// ParseDuration reads an Attempt's Duration; zero for "".
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// DeliveryOf is d as the admin API shows it.
func DeliveryOf(d store.Delivery) Delivery {
	j := Delivery{
		ID: d.ID, Space: d.Space, Lane: d.Lane, Group: d.Group, Seq: d.Seq, State: d.State,
		Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError,
		CreateTime: d.CreatedAt, UpdateTime: d.UpdatedAt, QueueTime: d.QueuedAt,
		RequestID: d.RequestID, CallerRequestID: d.CallerRequestID, MessageID: d.MessageID, Reply: d.Reply,
		RelayThread: d.RelayThread, GoogleMessage: d.GoogleMessage, GoogleThread: d.GoogleThread,
		Batch: d.Batch, BatchID: d.BatchID, Message: d.Message,
	}
	if d.State == store.StateQueued {
		j.NextAttemptTime = &d.NextAttemptAt
	}
	if !d.DoneAt.IsZero() {
		j.DoneTime = &d.DoneAt
	}
	return j
}

// Page is one page of a list route's answer (GET /api/v1/deliveries,
// GET /api/v1/dead), its deliveries of type D: Delivery for the server, raw
// JSON for a client that prints them as they came. Next is the after= of
// the following page, "" on the last.
type Page[D any] struct {
	Deliveries []D    `json:"deliveries"`
	Next       string `json:"next,omitempty"`
}

// Space is one relay space in GET /api/v1/spaces. It names neither the
// webhook URL nor the Google space id: both identify the webhook.
type Space struct {
	Space string `json:"space"`
	// Pending counts the queued and sending deliveries of every relay space
	// sharing its Google space.
	Pending int `json:"pending"`
	// SpacePending counts the space's own queued and sending deliveries,
	// what its queue bound counts.
	SpacePending int  `json:"spacePending"`
	Paused       bool `json:"paused"`
	// PauseScope says what is paused: "webhook" when the space's webhook
	// was refused (403, 404), which stops this space and any other posting
	// through the same webhook; "googleSpace" when the Google space is
	// (a 429), which stops every space sharing it.
	PauseScope  string    `json:"pauseScope,omitempty"`
	PauseReason string    `json:"pauseReason,omitempty"`
	PausedUntil time.Time `json:"pausedUntil,omitzero"` // zero while paused: until resumed
	LastSend    time.Time `json:"lastSend,omitzero"`
	// Holder names the relay replica sending to the space (its lease
	// owner: host, process id and a random part), "" when none holds it;
	// LeaseUntil is when its lease ends unless renewed.
	Holder     string    `json:"holder,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
}

// Spaces is the answer of GET /api/v1/spaces: every configured space, in
// the configuration's order.
type Spaces struct {
	Spaces []Space `json:"spaces"`
}
