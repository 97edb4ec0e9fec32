package relay

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/store"
)

// readyPingTimeout bounds the store probe of one /readyz request.
const readyPingTimeout = 2 * time.Second

// storeHealth is what the server knows of the store's ability to commit:
// the accept path notes each commit's outcome, and /readyz, while the last
// one failed, asks the store (Ping) whether it commits again. A healthy
// store costs /readyz nothing; a failing one costs each probe one small
// write, which is also how readiness comes back without an ingest to prove
// it.
type storeHealth struct {
	ping func(ctx context.Context) error
	// failing: the last commit noted, or the last probe, failed.
	failing atomic.Bool
	// probing is held by the one probe running: the others answer at once
	// that the store is failing rather than queue more writes on it.
	probing sync.Mutex
}

// errProbing: another probe of a failing store is running.
var errProbing = errors.New("store failing: a probe is running")

// note records the outcome of a commit. A full lane, a closed store and a
// caller that went away say nothing of the store's health.
func (h *storeHealth) note(err error) {
	switch {
	case err == nil:
		// Load first: a healthy store's commits do not write the flag.
		if h.failing.Load() {
			h.failing.Store(false)
		}
	case errors.Is(err, store.ErrFull), errors.Is(err, store.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		h.failing.Store(true)
	}
}

// check returns nil while the store is believed to commit, and otherwise
// probes it, clearing the failure when the probe succeeds.
func (h *storeHealth) check(ctx context.Context) error {
	if !h.failing.Load() {
		return nil
	}
	if !h.probing.TryLock() {
		return errProbing
	}
	defer h.probing.Unlock()
	ctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
	defer cancel()
	if err := h.ping(ctx); err != nil {
		return err
	}
	h.failing.Store(false)
	return nil
}

// notingStore is the accept path's store with each Enqueue's outcome noted.
type notingStore struct {
	accept.Store
	health *storeHealth
}

func (n notingStore) Enqueue(ctx context.Context, req store.EnqueueRequest) (store.EnqueueResult, error) {
	res, err := n.Store.Enqueue(ctx, req)
	n.health.note(err)
	return res, err
}
