package adminapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/adminapi"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// TestDeliveryOf: the optional times appear only when they mean something,
// and what the server writes reads back as the same value in the CLI.
func TestDeliveryOf(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	queued := store.Delivery{ID: "d1", Space: "alerts", Lane: "AAAA", State: store.StateQueued, NextAttemptAt: at.Add(time.Minute),
		CreatedAt: at, UpdatedAt: at, QueuedAt: at, RequestID: "r", Message: json.RawMessage(`{"text":"hi"}`)}
	done := queued
	done.State, done.DoneAt, done.GoogleMessage = store.StateDone, at.Add(2*time.Minute), "spaces/AAAA/messages/m"

	q, d := adminapi.DeliveryOf(queued), adminapi.DeliveryOf(done)
	if q.NextAttemptTime == nil || !q.NextAttemptTime.Equal(queued.NextAttemptAt) || q.DoneTime != nil {
		t.Errorf("queued: next attempt %v, done %v; want the next attempt only", q.NextAttemptTime, q.DoneTime)
	}
	if d.NextAttemptTime != nil || d.DoneTime == nil || !d.DoneTime.Equal(done.DoneAt) {
		t.Errorf("done: next attempt %v, done %v; want the done time only", d.NextAttemptTime, d.DoneTime)
	}

	data, err := json.Marshal(adminapi.Page[adminapi.Delivery]{Deliveries: []adminapi.Delivery{q, d}, Next: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	var back adminapi.Page[adminapi.Delivery]
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(adminapi.Page[adminapi.Delivery]{Deliveries: []adminapi.Delivery{q, d}, Next: "d1"}, back); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
}

// TestAttemptOf: a duration is written as Google's JSON writes one, and
// reads back; an attempt the store rescued shows as ambiguous.
func TestAttemptOf(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		took time.Duration
		want string
	}{{153 * time.Millisecond, "0.153s"}, {2 * time.Second, "2s"}, {1500 * time.Microsecond, "0.0015s"}, {0, ""}} {
		a := adminapi.AttemptOf(store.Attempt{N: 1, Try: 1, StartedAt: at, EndedAt: at, Duration: tt.took})
		if a.Duration != tt.want {
			t.Errorf("%s: duration %q, want %q", tt.took, a.Duration, tt.want)
		}
		if back, err := adminapi.ParseDuration(a.Duration); err != nil || back != tt.took {
			t.Errorf("%q reads back as %s, %v; want %s", a.Duration, back, err, tt.took)
		}
	}
	if a := adminapi.AttemptOf(store.Attempt{Rescued: true, Error: store.Rescued, State: store.StateQueued}); !a.Ambiguous {
		t.Errorf("a rescued attempt: %+v, want ambiguous", a)
	}
}
