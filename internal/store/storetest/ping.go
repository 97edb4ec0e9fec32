package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// testPing: a store that can commit answers Ping with nil and Ping changes
// nothing a caller sees; a cancelled context and a closed store fail it.
func testPing(t *testing.T, h *harness) {
	ctx := t.Context()
	ds := h.enqueue("L", "")
	if err := h.s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if got := h.get(ds[0].ID); got.State != store.StateQueued || got.Attempts != 0 {
		t.Errorf("after Ping: state %s, attempts %d; want queued, 0", got.State, got.Attempts)
	}
	// Ping hands out no id: the next delivery follows the last one.
	next := h.enqueue("L", "")
	if !(next[0].ID > ds[0].ID) {
		t.Errorf("id after Ping %s, want after %s", next[0].ID, ds[0].ID)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.s.Ping(cancelled); err == nil {
		t.Error("Ping with a cancelled context: nil error")
	}
	h.restart()
	if err := h.s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	if err := h.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.s.Ping(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}
