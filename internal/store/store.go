// Package store is the relay's storage contract: deliveries waiting to go to
// Google Chat, their outcomes, and what the dispatchers of one or several relay
// replicas coordinate through (leases, pauses, the last send time per lane).
//
// The contract is the Store interface and the types below; each backend
// (store/sqlite, the embedded default, and store/postgres, for several relay
// replicas) implements it with its own SQL, and storetest.Run checks every
// backend against the same suite. The package imports only the standard
// library, so a backend depends on nothing but it.
//
// # Rescue
//
// A delivery left sending goes back to the queue only when the lease that
// claimed it is dead, never while its owner may still record it: when
// AcquireLease passes the lane to a new owner after the lease expired (or
// was released), and, for a backend whose store holds its database
// exclusively (store/sqlite's lock file), when a store opens, since the
// process that held the leases has then ended. The attempt is ambiguous
// (Rescued) and is sent again with the same RequestID. A live owner whose
// record of an outcome failed retries it itself (internal/relay/dispatch).
//
// # Vocabulary
//
// A delivery is one request to Google: a message and its delivery options. Its
// relay space is the configured name callers post to, with its own webhook;
// its lane is the Google space id taken from the webhook URL, the unit of
// pacing and leasing (two relay spaces may share a lane). Each relay space's
// deliveries in a lane form thread groups keyed by the relay ("" is the relay
// space's unthreaded group); a group is sent first in first out, one request
// in flight at a time.
//
// # Pauses
//
// What a webhook's answer says decides what it stops. A 403 or 404 says the
// webhook is gone, not the Google space: PauseSpace stops the relay space
// whose webhook it was, and Claim passes over its groups while the other
// relay spaces of the lane go on at the lane's pace, in their order. A 429
// speaks for the Google space's quota: PauseLane stops the lane. The bound on
// pending deliveries (EnqueueRequest.Limit) is the relay space's too, so a
// stopped webhook's backlog fills only its own queue.
//
// # Time
//
// A store reads time from one clock: its Now option when set (tests), else
// the database's clock. Every time written by the store (due checks, lease
// expiry, done times, retention) comes from that clock, never from the
// caller's, so several replicas agree on lease expiry.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors that callers branch on. Backends return them wrapped or bare;
// compare with errors.Is.
var (
	// ErrNotFound: no delivery, thread or lease with that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the delivery is not in a state that allows the operation
	// (finishing one that is not sending, replaying one that is not dead,
	// freezing deliveries that are not the queued heads of one group…).
	ErrConflict = errors.New("conflict")
	// ErrFull: accepting the deliveries would take their relay space past
	// the caller's bound on pending deliveries. Nothing was stored.
	ErrFull = errors.New("queue full")
	// ErrMessageIDExists: a delivery of the lane (the Google space) already
	// carries one of the request's message ids (EnqueueRequest.
	// UniqueMessageID). Nothing was stored; Enqueue's result holds that
	// delivery.
	ErrMessageIDExists = errors.New("message id already taken in the lane")
	// ErrLeaseHeld: another owner holds a live lease on the lane.
	ErrLeaseHeld = errors.New("lease held by another owner")
	// ErrLeaseLost: the caller's lease is no longer the lane's current one
	// (taken over or released), or has expired where the operation needs a
	// live lease. The caller must stop sending on that lane.
	ErrLeaseLost = errors.New("lease lost")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
)

// State is where a delivery is in its life.
type State string

const (
	// StateQueued: waiting to be claimed, at or after NextAttemptAt.
	StateQueued State = "queued"
	// StateSending: claimed by the lease holder of its lane; at most one per
	// thread group.
	StateSending State = "sending"
	// StateBatched: merged into the frozen batch named by BatchID; it is sent
	// as part of that batch and takes the batch's final state with it.
	StateBatched State = "batched"
	// StateDone: Google accepted it (GoogleMessage, GoogleThread are set).
	StateDone State = "done"
	// StateDead: given up on; LastError holds the reason. Replay requeues it.
	StateDead State = "dead"
	// StateDropped: given up on by the route's choice (not worth retrying);
	// LastError holds the reason. Not replayable.
	StateDropped State = "dropped"
)

// Pending reports whether s counts against a relay space's queue bound and blocks
// its thread group: queued or sending.
func (s State) Pending() bool { return s == StateQueued || s == StateSending }

// Delivery is one request to Google Chat and its history.
type Delivery struct {
	// ID identifies the delivery. IDs are opaque strings that sort, byte-wise,
	// in the order the deliveries were created; they are never reused.
	ID string
	// Space is the relay space the caller posted to.
	Space string
	// Route is the relay route that made the delivery ("" for messages
	// posted to a space directly); its settings may override the space's
	// (on_failure, max_age).
	Route string
	// Lane is the Google space id: the unit of pacing and leasing.
	Lane string
	// Group is the thread group within the relay space and lane; "" is the
	// unthreaded group. Groups of different relay spaces are independent,
	// even with the same key.
	Group string
	// Seq orders the deliveries of a group: lower goes first. It is assigned
	// at enqueue, at replay (the back of the group), and a frozen batch takes
	// the lowest Seq of its members.
	Seq int64
	// Message is the message JSON as it will be sent.
	Message json.RawMessage
	// Reply is Google's messageReplyOption name ("" when unset), as
	// gchat.ReplyOption.String returns it.
	Reply string
	// MessageID is the caller's custom message id, "" for none.
	MessageID string
	// RequestID is the stable requestId sent with every attempt. The store
	// assigns it at enqueue (and for a batch at freeze); it never changes.
	RequestID string
	// CallerRequestID and DedupKey are the ingest deduplication keys of the
	// request that created the delivery ("" for none).
	CallerRequestID string
	DedupKey        string
	// RelayThread is the thread name the relay handed out for this message's
	// thread, "" for none; see Queue.Thread.
	RelayThread string

	State State
	// Attempts counts claims: an attempt is counted when it starts. Replay
	// sets it back to zero; the attempt history (Admin.Attempts) keeps
	// every attempt.
	Attempts int
	// NextAttemptAt is when a queued delivery becomes due.
	NextAttemptAt time.Time
	// LastStatus is the HTTP status of the last attempt (0: none, or no
	// answer); LastError is its error text, or the reason it is dead or
	// dropped.
	LastStatus int
	LastError  string

	CreatedAt time.Time
	UpdatedAt time.Time
	// QueuedAt is when the delivery last entered the queue: at enqueue or at
	// replay. "Too old" is measured from it. A batch takes its oldest
	// member's.
	QueuedAt time.Time
	// DoneAt is when it reached done, dead or dropped; zero before.
	DoneAt time.Time

	// GoogleMessage and GoogleThread are Google's resource names, once done.
	GoogleMessage string
	GoogleThread  string
	// Batch reports that the delivery is a frozen batch (FreezeBatch).
	Batch bool
	// BatchID is the frozen batch this delivery was merged into, "" if none.
	BatchID string
}

// Rescued is the LastError of a delivery whose claim ended before its outcome
// was recorded, which the store returned to the queue: its lease was taken
// over after it expired, released, or ended with the process that held it
// (a store opened with its database held exclusively knows every earlier
// lease dead). The attempt is ambiguous: Google may have accepted it. It is
// sent again with the same RequestID, and LastStatus is 0.
const Rescued = "ambiguous attempt: its claim ended before the outcome was recorded; sent again with the same requestId"

// NewDelivery is one message of an EnqueueRequest.
type NewDelivery struct {
	Group       string
	Message     json.RawMessage
	Reply       string
	MessageID   string
	RelayThread string
}

// EnqueueRequest is what one accepted ingest request adds: one or more
// deliveries (a message fitted into several parts, or one per alert) of one
// relay space and lane.
type EnqueueRequest struct {
	Space string
	Lane  string
	// Route names the relay route that made the request, "" for none.
	Route string
	// CallerRequestID, when set, deduplicates the whole request within Space:
	// a later request with the same id stores nothing and returns the
	// deliveries of the first.
	CallerRequestID string
	// DedupKey, when set, deduplicates within Space in the same way (the
	// route's dedup key).
	DedupKey string
	// DedupWindow, when positive, limits the DedupKey match to deliveries
	// created within it (CreatedAt after now minus the window, by the
	// store's clock); zero matches any delivery the store still holds. It
	// does not apply to CallerRequestID.
	DedupWindow time.Duration
	// UniqueMessageID, when set, refuses the request with ErrMessageIDExists
	// when a delivery of Lane, of any relay space and in any state, carries
	// the MessageID of one of its deliveries (non-empty ones only): Google
	// refuses a messageId already used in its space, and a lane is one
	// Google space. The id stays taken as long as the store holds such a
	// delivery. A repeat by CallerRequestID or DedupKey is checked first
	// and answered as a duplicate.
	UniqueMessageID bool
	// Limit bounds the relay space's pending deliveries (queued or sending,
	// in any lane; a frozen batch counts once): when Space already holds p
	// pending and p+len(Deliveries) > Limit, Enqueue stores nothing and
	// returns ErrFull. Zero means no bound.
	Limit int
	// Deliveries are stored in this order, with increasing Seq.
	Deliveries []NewDelivery
}

// EnqueueResult is the answer to an EnqueueRequest.
type EnqueueResult struct {
	// Deliveries are the stored deliveries, in request order; for a
	// duplicate, those of the first request, in ID order.
	Deliveries []Delivery
	// Duplicate reports that the request matched an earlier one by
	// CallerRequestID or DedupKey and nothing was stored.
	Duplicate bool
}

// Outcome is the result of one attempt, given to Finish.
type Outcome struct {
	// State is StateDone, StateQueued (retry), StateDead or StateDropped.
	State State
	// RetryAt is when a retried delivery becomes due again; zero means now.
	RetryAt time.Time
	// Status is the attempt's HTTP status, 0 when there was no answer.
	Status int
	// Error is the attempt's error (retry) or the reason (dead, dropped).
	Error string
	// GoogleMessage and GoogleThread are Google's names (done).
	GoogleMessage string
	GoogleThread  string
	// Duration is how long the attempt's request took, as the sender
	// measured it; zero when no request was made. It is recorded in the
	// attempt's history (Attempt.Duration).
	Duration time.Duration
}

// Attempt is one claim of a delivery and what came of it, as the store
// recorded it in the delivery's attempt history: by Finish, or, for a claim
// that ended before its outcome was recorded, by the rescue that returned
// the delivery to the queue (Rescued). The history is kept across Replay and
// goes with the delivery (Delete, Prune).
type Attempt struct {
	// N numbers the delivery's attempts from 1, in the order they were
	// recorded; it keeps counting across replays.
	N int
	// Try is the delivery's Attempts during this attempt: it starts again
	// at 1 after a replay.
	Try int
	// StartedAt is when the delivery was claimed and EndedAt when the
	// attempt was recorded, both by the store's clock.
	StartedAt time.Time
	EndedAt   time.Time
	// Duration is Outcome.Duration: the request's own time, zero when none
	// was made or it is not known (a rescued attempt).
	Duration time.Duration
	// Owner is the lease owner that claimed the delivery: the replica that
	// made the attempt.
	Owner string
	// RequestID is the requestId the attempt was sent with.
	RequestID string
	// State is what the attempt led to: done, queued (a retry), dead or
	// dropped.
	State State
	// Status, Error and GoogleMessage are the outcome's: the HTTP status
	// (0 when there was no answer), the error text (Google's status and
	// message when it answered) and, once done, Google's message name.
	Status        int
	Error         string
	GoogleMessage string
	// Rescued reports an ambiguous attempt: its claim ended before its
	// outcome was recorded, so Google may have accepted it; Error is
	// Rescued's text and State queued.
	Rescued bool
}

// Thread maps a thread name the relay handed out to Google's.
type Thread struct {
	// RelayName is the name the relay handed out; unique across the store.
	RelayName string
	Lane      string
	// GoogleName is Google's "spaces/S/threads/T", "" until the first
	// delivery of the thread is done.
	GoogleName string
	CreatedAt  time.Time
	// UpdatedAt is the last time the thread was used by Enqueue or Finish;
	// retention is measured from it. Enqueue may leave it alone when it is
	// less than ThreadTouch old, so that a busy thread is not rewritten at
	// every message.
	UpdatedAt time.Time
}

// ThreadTouch is how stale a thread's UpdatedAt may be left by Enqueue.
const ThreadTouch = time.Minute

// LeaseRequest asks for a lane's lease.
type LeaseRequest struct {
	Lane string
	// Owner names the replica (its process identity); not empty.
	Owner string
	// TTL is how long the lease lasts from the store's clock; positive.
	TTL time.Duration
	// Send records, with the grant, that the owner is about to send a
	// request on the lane now: the lane's LastSend becomes the store's now.
	Send bool
	// MinFree, when positive, holds back a lane that passes to a new owner
	// until it has been free that long: its last lease ended (expired or
	// released) at least MinFree before the store's now, else ErrLeaseHeld.
	// A lane never leased is free. A renewal by the holder ignores it.
	// Dispatchers that hold their share of the lanes already ask with it,
	// so they take a lane only when no replica short of its share did.
	MinFree time.Duration
}

// MemberRequest records that a relay replica is alive.
type MemberRequest struct {
	// Owner names the replica, as in its leases; not empty.
	Owner string
	// TTL is how long the replica counts as alive without another
	// heartbeat, from the store's clock; positive.
	TTL time.Duration
}

// Member is a live relay replica: the dispatchers share the lanes out
// among the members.
type Member struct {
	Owner string
	// Until is when it stops counting as alive without another heartbeat,
	// by the store's clock.
	Until time.Time
}

// Lease is a lane's lease as granted, with the lane's state read in the same
// transaction.
type Lease struct {
	Lane  string
	Owner string
	// Token is the fencing token: it increases each time the lease passes to
	// an owner that did not hold it (a takeover, or acquiring after a release)
	// and stays the same on renewal.
	Token int64
	// Granted is the store's clock at the grant and Until the expiry. The
	// holder may start a send only while Until-Granted, minus the time
	// elapsed since the grant on its own monotonic clock, outlives its request
	// timeout.
	Granted time.Time
	Until   time.Time
	// LastSend is when a send on the lane last started (by any owner), zero if
	// never: pacing continues from it across replicas.
	LastSend time.Time
	// Pause is the lane's pause state.
	Pause Pause
	// Spaces are the pauses recorded for relay spaces of the lane
	// (PauseSpace), by relay space name; a resumed relay space is not
	// listed, an expired timed pause may be.
	Spaces []SpacePause
}

// SpacePause is the pause of one relay space, apart from its lane's: its
// webhook's.
type SpacePause struct {
	Space string
	// Lane is the lane the pause was recorded in; the lease of that lane
	// reports it.
	Lane  string
	Pause Pause
}

// Pause is a lane's pause state; the zero value is "not paused".
type Pause struct {
	// Until ends the pause; zero with a Reason means until resumed.
	Until time.Time
	// Reason says why ("429 Too Many Requests", "404 webhook deleted"…).
	Reason string
}

// Active reports whether the pause holds at now.
func (p Pause) Active(now time.Time) bool {
	return p.Reason != "" && (p.Until.IsZero() || now.Before(p.Until))
}

// LaneState is what the store knows about a lane.
type LaneState struct {
	Lane string
	// Owner, Token and LeaseUntil describe the lease; Owner is "" when
	// released or never leased.
	Owner      string
	Token      int64
	LeaseUntil time.Time
	LastSend   time.Time
	Pause      Pause
	// Pending counts queued and sending deliveries.
	Pending int
}

// SpaceState is what the store knows about a relay space that has had
// deliveries or a pause.
type SpaceState struct {
	Space string
	// Lane is the lane of its last pause, "" if it was never paused.
	Lane string
	// Pause is the relay space's own pause (PauseSpace), not its lane's.
	Pause Pause
	// Pending counts its queued and sending deliveries, what
	// EnqueueRequest.Limit bounds.
	Pending int
}

// Filter selects deliveries for List. Zero fields select everything.
type Filter struct {
	Space   string
	Lane    string
	Group   string
	States  []State
	BatchID string
	// After is a cursor: only deliveries with an ID greater than it.
	After string
	// Limit caps the answer; zero means 100, and at most 1,000 are returned.
	Limit int

	// Route selects the deliveries a relay route made.
	Route string
	// Text selects the deliveries whose message JSON contains it, byte for
	// byte (case-sensitive, as stored: a caller's \u0026 is not "&").
	Text string
	// Before is the cursor of a newest-first listing: only deliveries with
	// an ID less than it.
	Before string
	// Newest lists in descending ID order (newest first) instead of
	// ascending; the limit then keeps the newest.
	Newest bool
}

// Retention is how long finished deliveries and threads are kept; zero fields
// take the defaults.
type Retention struct {
	// Done applies to done and dropped deliveries, from DoneAt; default 7 days.
	Done time.Duration
	// Dead applies to dead letters, from DoneAt; default 30 days.
	Dead time.Duration
	// Threads applies to thread mappings not used for this long and no longer
	// referenced by any delivery, and to incident keys not used for this
	// long; default 30 days.
	Threads time.Duration
}

// Default retention periods.
const (
	DefaultRetainDone    = 7 * 24 * time.Hour
	DefaultRetainDead    = 30 * 24 * time.Hour
	DefaultRetainThreads = 30 * 24 * time.Hour
)

// WithDefaults returns r with zero fields replaced by the defaults.
func (r Retention) WithDefaults() Retention {
	if r.Done == 0 {
		r.Done = DefaultRetainDone
	}
	if r.Dead == 0 {
		r.Dead = DefaultRetainDead
	}
	if r.Threads == 0 {
		r.Threads = DefaultRetainThreads
	}
	return r
}

// Store is the relay's storage. It is safe for concurrent use. Every method
// is atomic: it happens entirely or not at all, and an error other than
// ErrClosed or a context error means nothing changed. When a method returns
// nil its effect is durable (committed to the backend's durability setting)
// and visible to every later call.
type Store interface {
	Queue
	Incidents
	Escalations
	Lanes
	Admin
	// Ping reports whether the store can commit now: it commits a small
	// write through the same path as the other writes, so it fails while
	// they would (a full disk, a database that refuses writes) and
	// succeeds once they work again. It changes nothing a caller can see.
	// It is meant for a readiness check that already suspects the store,
	// not for every probe.
	Ping(ctx context.Context) error
	// Close lets the write in progress finish, then releases the store's
	// resources. Later calls return ErrClosed; Close itself is idempotent.
	Close() error
}

// Queue is the ingest and dispatch side.
type Queue interface {
	// Enqueue stores the deliveries of one ingest request atomically, all or
	// none, with State queued, NextAttemptAt now, a fresh RequestID each, and
	// Seq increasing in request order (so a group's deliveries from one
	// request keep their order; deliveries of concurrent requests are ordered
	// by commit). Deduplication (CallerRequestID, DedupKey), then the
	// lane's message ids (UniqueMessageID), are checked in the same
	// transaction, so of concurrent duplicates exactly one is stored, across
	// replicas. ErrMessageIDExists when a message id is taken.
	// It registers each non-empty RelayThread as a known thread of the lane.
	// ErrFull when the relay space's bound would be exceeded.
	Enqueue(ctx context.Context, req EnqueueRequest) (EnqueueResult, error)
	// Claim marks sending, and returns, the due head of each thread group of
	// the lease's lane: for each group (relay space and group key), its
	// pending delivery of lowest Seq, if that one is queued (not sending)
	// with NextAttemptAt at or before now. Attempts is incremented. At most
	// max are claimed, oldest Seq first. A paused lane yields none; the
	// groups of a paused relay space (PauseSpace) are passed over, the
	// lane's other relay spaces' are not. ErrLeaseLost unless the lease is
	// the lane's current one and has not expired.
	Claim(ctx context.Context, lease Lease, max int) ([]Delivery, error)
	// Finish records the outcome of a claimed delivery of the lease's lane
	// and returns it updated. Done sets DoneAt and Google's names and maps
	// the delivery's RelayThread to GoogleThread if not yet mapped; queued
	// (retry) sets NextAttemptAt to RetryAt; dead and dropped set DoneAt and
	// LastError. A batch's members take its final state (and Google names).
	// In the same transaction it appends the attempt to the delivery's
	// history (Attempts), with the lease's Owner.
	// ErrLeaseLost unless the lease is the lane's current one (an expired
	// lease that nobody took over may still finish); ErrConflict unless the
	// delivery is sending in that lane.
	Finish(ctx context.Context, lease Lease, id string, out Outcome) (Delivery, error)
	// FreezeBatch replaces queued deliveries of one thread group by one new
	// delivery holding msg, atomically, and returns it. ids must name, in Seq
	// order, deliveries of the lease's lane that are queued, never attempted,
	// not batches, of one group, relay space, route and reply option, without
	// MessageID, with no other pending delivery of the group between the
	// first and the last; else ErrConflict. The batch gets the first
	// member's Seq (its place in the group), a new ID and RequestID, and is
	// never changed afterwards except by Finish and Replay; the members
	// become batched. ErrLeaseLost as for Claim.
	FreezeBatch(ctx context.Context, lease Lease, ids []string, msg json.RawMessage) (Delivery, error)
	// Thread returns the mapping of a relay thread name; ErrNotFound if the
	// store never saw it (or pruned it).
	Thread(ctx context.Context, relayName string) (Thread, error)
}

// Incidents numbers the incidents of alert groups, for the routes whose
// thread policy opens one thread per incident.
type Incidents interface {
	// Incident records a notification about the alert group named by key
	// and returns the group's incident number. A firing notification for a
	// key never seen, or whose last notification was resolved, opens a new
	// incident (the number goes up by one, from 1); any other notification
	// keeps the current number (a resolved one for an unseen key returns 1
	// and opens nothing). The key's state becomes firing or resolved. It is
	// atomic, so concurrent notifications from several replicas agree.
	// Prune forgets keys not used for Retention.Threads.
	Incident(ctx context.Context, key string, firing bool) (int64, error)
}

// Lanes coordinates dispatchers: leases with fencing, pacing, pauses.
type Lanes interface {
	// AcquireLease grants or renews the lease on a lane, by the store's
	// clock. The lease is granted when the lane has no owner, its lease has
	// expired, or Owner already holds it (even expired, if no one took it
	// over: then the token is kept). When it passes to a new owner the token
	// increases and the lane's sending deliveries return to queued (their
	// previous owner's sends are ambiguous: LastError becomes Rescued and
	// they are retried with the same RequestID; each such attempt enters its
	// delivery's history as Rescued, under the previous owner). This is the
	// rescuer: a sending delivery goes back to the queue only once the lease
	// that claimed it is dead, never while its owner may still record it.
	// ErrLeaseHeld when another owner's lease is live.
	AcquireLease(ctx context.Context, req LeaseRequest) (Lease, error)
	// ReleaseLease gives the lease up: the lane's sending deliveries return
	// to queued (as by AcquireLease, with LastError Rescued) and any owner
	// may acquire it at once. ErrLeaseLost if the
	// lease is not the lane's current one.
	ReleaseLease(ctx context.Context, lease Lease) error
	// PauseLane sets the lane's pause state; the zero Pause resumes it. It
	// needs no lease: operators resume lanes.
	PauseLane(ctx context.Context, lane string, p Pause) error
	// PauseSpace sets a relay space's own pause state, recorded in p.Lane
	// (required unless p.Pause is zero); the zero Pause resumes it, and it
	// leaves the lane's pause alone. Claim passes over a paused relay
	// space's groups. It needs no lease.
	PauseSpace(ctx context.Context, p SpacePause) error
	// LaneStates returns every lane the store knows, by lane id.
	LaneStates(ctx context.Context) ([]LaneState, error)
	// Heartbeat records req.Owner as a member until the store's now plus
	// req.TTL, and returns the members alive now (Until after now), the
	// caller among them, by Owner. Members whose Until has passed are gone
	// and may be forgotten. A backend whose store holds its database
	// exclusively may keep the members in memory: they are the processes
	// sharing it, so they all use one store.
	Heartbeat(ctx context.Context, req MemberRequest) ([]Member, error)
	// Leave removes owner from the members at once; nil if it is not one.
	Leave(ctx context.Context, owner string) error
	// SpaceStates returns every relay space the store knows (that had
	// deliveries or a pause), by name.
	SpaceStates(ctx context.Context) ([]SpaceState, error)
}

// Admin is the operator's side.
type Admin interface {
	// Get returns a delivery; ErrNotFound if there is none.
	Get(ctx context.Context, id string) (Delivery, error)
	// Attempts returns a delivery's attempt history, oldest first (by N);
	// a batch member's is its batch's, the attempts that carried it.
	// ErrNotFound if there is no such delivery.
	Attempts(ctx context.Context, id string) ([]Attempt, error)
	// DeadLetters counts the dead letters the store holds, by relay space;
	// spaces without any are left out. A dead batch counts its members,
	// not itself, so that the count is in the deliveries ingest enqueued.
	DeadLetters(ctx context.Context) (map[string]int, error)
	// List returns deliveries matching f, in ID order (descending when
	// f.Newest).
	List(ctx context.Context, f Filter) ([]Delivery, error)
	// Replay moves a dead delivery back to queued, at the back of its thread
	// group (a new Seq), due now, with Attempts zero, QueuedAt now and the
	// same RequestID; its attempt history is kept. A dead batch member replays its batch, and a batch's
	// members become batched again. ErrConflict unless it is dead.
	Replay(ctx context.Context, id string) (Delivery, error)
	// Delete removes a delivery that is not sending; deleting a batch
	// deletes its members. ErrConflict for a sending delivery or a batch
	// member; ErrNotFound if there is none.
	Delete(ctx context.Context, id string) error
	// Activity returns, for each relay space with attempts started at or
	// after since (by the store's clock), what they came to in each bucket
	// of the given length counted from since (SpaceActivity); buckets
	// without a send are left out. By space, then bucket. It reads the
	// attempts of the window only, not the whole history.
	Activity(ctx context.Context, since time.Time, bucket time.Duration) ([]SpaceActivity, error)
	// IncidentCount sums the incident counter's keys that start with
	// prefix (a route's, as its keys are formed by internal/relay/plan).
	IncidentCount(ctx context.Context, prefix string) (IncidentCount, error)
	// Prune deletes done and dropped deliveries older than r.Done, dead
	// letters older than r.Dead (both from DoneAt), and threads unused for
	// r.Threads that no delivery refers to. Pending deliveries are never
	// pruned. A deleted delivery's attempt history goes with it. It returns
	// how many deliveries it deleted.
	Prune(ctx context.Context, r Retention) (int, error)
}

// Migrated reports what a backend's Migrate did: each backend numbers its
// own embedded migrations (NNNN_description.sql) and records the schema
// version in the database.
type Migrated struct {
	// From and To are the schema versions before and after; equal when
	// there was nothing to do.
	From, To int
	// Applied names the migrations applied, in order ("0002_incidents.sql").
	Applied []string
}

// FormatID and ParseID are the delivery ID form both backends use: "d" and
// 16 digits of a positive integer, so that IDs sort as strings in the order
// of their numbers. Callers treat IDs as opaque.
func FormatID(n int64) string { return fmt.Sprintf("d%016d", n) }

// ParseID returns the number of an ID made by FormatID; false for any other
// string.
func ParseID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, "d")
	if !ok || len(rest) != 16 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil && n > 0
}

// NewRequestID returns a random requestId in UUID version 4 form, the form
// Google's documentation uses.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
