package dispatch

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// TestAttemptHistory: each attempt enters the delivery's history with how
// long its request took, by the dispatcher's clock, and the replica that
// made it.
func TestAttemptHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, testConfig(space(t, "ops", "AAA", pace)), func(c call, n int) (time.Duration, error) {
			if n == 1 {
				return 700 * time.Millisecond, apiError(503, "UNAVAILABLE", "try later")
			}
			return 300 * time.Millisecond, nil
		})
		h.start()
		ds := h.enqueue("ops", msg{text: "m1"})
		h.settled(time.Minute, ds...)

		got, err := h.st.Attempts(context.Background(), ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("history %+v, want 2 attempts", got)
		}
		for i, want := range []struct {
			took   time.Duration
			state  store.State
			status int
		}{{700 * time.Millisecond, store.StateQueued, 503}, {300 * time.Millisecond, store.StateDone, 0}} {
			a := got[i]
			if a.Duration != want.took || a.State != want.state || a.Status != want.status || a.Owner != "replica-1" {
				t.Errorf("attempt %d: took %s, %s %d, by %q; want %s, %s %d, by replica-1",
					i+1, a.Duration, a.State, a.Status, a.Owner, want.took, want.state, want.status)
			}
		}
	})
}
