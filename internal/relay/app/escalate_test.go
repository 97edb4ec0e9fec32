package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestEscalateLoop: the loop fires once per interval, not before the first
// one, and stops with its context.
func TestEscalateLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int32
		done := make(chan struct{})
		go func() {
			defer close(done)
			escalateLoop(ctx, func(context.Context) (int, error) { calls.Add(1); return 1, nil },
				10*time.Second, slog.New(slog.DiscardHandler))
		}()
		synctest.Wait()
		if n := calls.Load(); n != 0 {
			t.Fatalf("fired %d times at start, want 0", n)
		}
		time.Sleep(35 * time.Second)
		synctest.Wait()
		if n := calls.Load(); n != 3 {
			t.Fatalf("fired %d times in 35s, want 3", n)
		}
		cancel()
		<-done
	})
}
