package store

import (
	"context"
	"time"
)

// Escalations holds the timers of the routes' escalate: rules: a short
// reply posted in an incident's thread while it is still firing, once per
// rule and incident. Arming, claiming and cancelling go by the store's
// clock, so that the timers survive a restart and fire once across
// replicas.
type Escalations interface {
	// ArmEscalations records a firing notification of an incident: each
	// timer not yet known (by ID) is stored, due After from now; a known
	// one keeps its due time and has its Seen set to now, which keeps it
	// from going stale. Timers of the same Key and an older Incident
	// (an incident that ended without a resolved) are deleted.
	ArmEscalations(ctx context.Context, timers []NewEscalation) error
	// CancelEscalations ends the escalations of an incident key (its
	// resolved notification): timers not yet fired are deleted, and a
	// fired timer's delivery that is still queued is dropped
	// (EscalationCancelled). It returns how many timers it ended.
	CancelEscalations(ctx context.Context, key string) (int, error)
	// ClaimEscalations marks at most max timers that are due and not fired
	// as fired, and returns them; a timer claimed once is never returned
	// again, by any replica. Timers whose Seen is older than their
	// StaleAfter are cancelled first, never fired; timers not seen for
	// twice their StaleAfter are forgotten, so that the table holds only
	// live incidents (a firing after that arms them afresh).
	ClaimEscalations(ctx context.Context, max int) ([]Escalation, error)
	// EscalationSent records the delivery that carries a fired timer's
	// reply. When the timer was cancelled since it was claimed, the
	// delivery is dropped if still queued instead.
	EscalationSent(ctx context.Context, id, delivery string) error
	// PendingEscalations returns the timers not yet fired and not stale,
	// by due time.
	PendingEscalations(ctx context.Context) ([]Escalation, error)
}

// EscalationCancelled is the LastError of an escalation reply dropped
// because its incident resolved (or went stale) before it was sent.
const EscalationCancelled = "escalation cancelled: the incident resolved before the reply was sent"

// NewEscalation is one timer a firing notification arms.
type NewEscalation struct {
	// ID identifies the timer: one per route rule, incident and thread.
	ID string
	// Key is the incident key (route NUL group key) that a resolved
	// cancels; Incident its number.
	Key      string
	Incident int64
	// Route and Rule name the rule (its index in the route's escalate:).
	Route string
	Rule  int
	// Space and ThreadKey are where the reply goes: the incident's thread.
	Space     string
	ThreadKey string
	// Text is the reply's text (with its mention).
	Text string
	// After is how long after the first firing notification it is due;
	// StaleAfter how long without a firing notification cancels it.
	After      time.Duration
	StaleAfter time.Duration
}

// Escalation is a stored timer.
type Escalation struct {
	NewEscalation
	// Due is when it fires, Seen the last firing notification's time,
	// CreatedAt when it was armed, all by the store's clock.
	Due       time.Time
	Seen      time.Time
	CreatedAt time.Time
	// Fired reports that it was claimed; Delivery is the reply's delivery,
	// once recorded.
	Fired    bool
	Delivery string
}
