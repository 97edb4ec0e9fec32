package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// messageIDTests check EnqueueRequest.UniqueMessageID: a message id is
// taken in its lane (one Google space), whichever relay space delivers
// there.
var messageIDTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"MessageIDPerLane", testMessageIDPerLane},
	{"MessageIDConcurrent", testMessageIDConcurrent},
}

// uniqueReq is a request of relay space sp into lane with one delivery that
// carries messageID.
func uniqueReq(sp, lane, messageID, caller string) store.EnqueueRequest {
	return store.EnqueueRequest{Space: sp, Lane: lane, CallerRequestID: caller, UniqueMessageID: true,
		Deliveries: []store.NewDelivery{{Message: msg(sp + " " + caller), MessageID: messageID}, {Message: msg("part 2")}}}
}

// testMessageIDPerLane: two relay spaces delivering into one lane share its
// message ids; a repeated CallerRequestID is still answered with its
// deliveries; another lane, or a request without UniqueMessageID, does not
// look; the id stays taken after the delivery is done.
func testMessageIDPerLane(t *testing.T, h *harness) {
	ctx := t.Context()
	first, err := h.s.Enqueue(ctx, uniqueReq("alerts", "L", "client-1", "r1"))
	if err != nil {
		t.Fatal(err)
	}
	refused := func(what string, req store.EnqueueRequest) {
		t.Helper()
		res, err := h.s.Enqueue(ctx, req)
		if !errors.Is(err, store.ErrMessageIDExists) {
			t.Fatalf("%s: error %v, want ErrMessageIDExists", what, err)
		}
		if len(res.Deliveries) != 1 || res.Deliveries[0].ID != first.Deliveries[0].ID {
			t.Errorf("%s: result holds %v, want the holder %s", what, ids(res.Deliveries), first.Deliveries[0].ID)
		}
	}
	refused("another relay space, same lane", uniqueReq("ops", "L", "client-1", "r2"))
	refused("same relay space, another requestId", uniqueReq("alerts", "L", "client-1", "r3"))
	// The requestId repeat is checked first.
	again, err := h.s.Enqueue(ctx, uniqueReq("alerts", "L", "client-1", "r1"))
	if err != nil || !again.Duplicate || ids(again.Deliveries)[0] != first.Deliveries[0].ID {
		t.Errorf("requestId repeat: %v, duplicate %t, %v; want the first deliveries", err, again.Duplicate, ids(again.Deliveries))
	}
	// The id only matters in its lane, and only when asked.
	if _, err := h.s.Enqueue(ctx, uniqueReq("ops", "L2", "client-1", "r4")); err != nil {
		t.Errorf("same id in another lane: %v, want it stored", err)
	}
	lax := uniqueReq("ops", "L", "client-1", "r5")
	lax.UniqueMessageID = false
	if _, err := h.s.Enqueue(ctx, lax); err != nil {
		t.Errorf("without UniqueMessageID: %v, want it stored", err)
	}
	// Taken for as long as the delivery is held, whatever its state.
	l := h.lease("L", "a")
	for _, d := range h.claim(l, 10) {
		h.finish(l, d.ID, done)
	}
	refused("after the holder was sent", uniqueReq("ops", "L", "client-1", "r6"))
	all, err := h.s.List(ctx, store.Filter{Lane: "L", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("lane L holds %d deliveries, want 4 (two requests of two)", len(all))
	}
}

// testMessageIDConcurrent: requests of several relay spaces carrying one id
// into one lane, arriving together (at two stores on one database where it
// can be shared, as replicas are), store exactly one; every other is
// refused and names the one stored.
func testMessageIDConcurrent(t *testing.T, h *harness) {
	stores := []store.Store{h.s}
	if !h.exclusive {
		other := h.open(h.clock.Now)
		t.Cleanup(func() { other.Close() })
		stores = append(stores, other)
	}
	const n = 24
	res := make([]store.EnqueueResult, n)
	errs := make([]error, n)
	together(n, func(i int) {
		res[i], errs[i] = stores[i%len(stores)].Enqueue(t.Context(),
			uniqueReq(fmt.Sprintf("s%d", i%4), "L", "client-once", fmt.Sprintf("r%d", i)))
	})
	var stored []string
	for i := range n {
		switch {
		case errs[i] == nil:
			stored = append(stored, res[i].Deliveries[0].ID)
		case !errors.Is(errs[i], store.ErrMessageIDExists):
			t.Fatalf("call %d: %v", i, errs[i])
		}
	}
	if len(stored) != 1 {
		t.Fatalf("%d calls stored, want 1", len(stored))
	}
	for i := range n {
		if errs[i] != nil && (len(res[i].Deliveries) != 1 || res[i].Deliveries[0].ID != stored[0]) {
			t.Errorf("call %d refused naming %v, want %s", i, ids(res[i].Deliveries), stored[0])
		}
	}
	all, err := h.s.List(t.Context(), store.Filter{Lane: "L", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Errorf("%d deliveries stored, want 2 (one request of two)", len(all))
	}
}
