package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// groupTests check what committing concurrent Enqueue calls together (group
// commit) could break: each call is answered for itself, as if it had
// committed alone. The calls start together, so that a store that groups
// them does.
var groupTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"GroupDuplicateOfItself", testGroupDuplicateOfItself},
	{"GroupSpanningLanes", testGroupSpanningLanes},
	{"GroupFailingMember", testGroupFailingMember},
	{"GroupAnswerLost", testGroupAnswerLost},
	{"GroupBoundExact", testGroupBoundExact},
}

// together runs n calls of fn at once and waits for them.
func together(n int, fn func(i int)) {
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		wg.Go(func() {
			ready.Done()
			<-start
			fn(i)
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
}

// testGroupDuplicateOfItself: calls that repeat one another (by
// CallerRequestID, or by DedupKey) arriving together store one request
// each, and every repeat is answered with the deliveries stored.
func testGroupDuplicateOfItself(t *testing.T, h *harness) {
	const n = 48
	res := make([]store.EnqueueResult, n)
	errs := make([]error, n)
	together(n, func(i int) {
		req := store.EnqueueRequest{Space: "s", Lane: "L",
			Deliveries: []store.NewDelivery{{Group: fmt.Sprintf("g%d", i%3), Message: msg(fmt.Sprint(i))}}}
		switch i % 3 {
		case 0:
			req.CallerRequestID = "same-request"
		case 1:
			req.DedupKey = "same-key"
		default:
			req.CallerRequestID = fmt.Sprintf("own-%d", i)
		}
		res[i], errs[i] = h.s.Enqueue(t.Context(), req)
	})
	stored := map[int][]string{} // by i%3: the ids of the stored request
	fresh := map[int]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if len(res[i].Deliveries) != 1 {
			t.Fatalf("call %d: %d deliveries, want 1", i, len(res[i].Deliveries))
		}
		id := res[i].Deliveries[0].ID
		if !res[i].Duplicate {
			fresh[i%3]++
		}
		if i%3 == 2 {
			if res[i].Duplicate {
				t.Errorf("call %d with its own requestId answered as a duplicate", i)
			}
			continue
		}
		if prev, ok := stored[i%3]; ok && prev[0] != id {
			t.Errorf("repeats answered with %s and %s, want one stored delivery", prev[0], id)
		}
		stored[i%3] = []string{id}
	}
	if fresh[0] != 1 || fresh[1] != 1 {
		t.Errorf("stored %d of the calls sharing a requestId and %d of those sharing a dedup key, want 1 each", fresh[0], fresh[1])
	}
	all, err := h.s.List(t.Context(), store.Filter{Lane: "L", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 + n/3; len(all) != want {
		t.Errorf("%d deliveries stored, want %d", len(all), want)
	}
}

// testGroupSpanningLanes: calls into several lanes and relay spaces arriving
// together are each answered with their own deliveries, in their own lane
// and space, and each lane's deliveries are claimed in the order of their
// Seq, every group's in the order its calls were answered.
func testGroupSpanningLanes(t *testing.T, h *harness) {
	const n, lanes = 60, 5
	res := make([]store.EnqueueResult, n)
	errs := make([]error, n)
	together(n, func(i int) {
		res[i], errs[i] = h.s.Enqueue(t.Context(), store.EnqueueRequest{
			Space: fmt.Sprintf("s%d", i%lanes), Lane: fmt.Sprintf("L%d", i%lanes),
			Deliveries: []store.NewDelivery{
				{Group: "g", Message: msg(fmt.Sprintf("%d/a", i))},
				{Group: "g", Message: msg(fmt.Sprintf("%d/b", i))},
			}})
	})
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		ds := res[i].Deliveries
		if len(ds) != 2 || res[i].Duplicate {
			t.Fatalf("call %d: %d deliveries, duplicate %t; want 2 new", i, len(ds), res[i].Duplicate)
		}
		for k, d := range ds {
			want := fmt.Sprintf(`{"text":"%d/%c"}`, i, 'a'+k)
			if d.Space != fmt.Sprintf("s%d", i%lanes) || d.Lane != fmt.Sprintf("L%d", i%lanes) || string(d.Message) != want {
				t.Errorf("call %d delivery %d: space %s, lane %s, message %s; want s%d, L%d, %s", i, k, d.Space, d.Lane, d.Message, i%lanes, i%lanes, want)
			}
			if ids[d.ID] {
				t.Errorf("id %s answered twice", d.ID)
			}
			ids[d.ID] = true
		}
		if ds[0].Seq >= ds[1].Seq {
			t.Errorf("call %d: Seq %d then %d, want increasing", i, ds[0].Seq, ds[1].Seq)
		}
	}
	// Claimed one at a time, a lane gives each call's two deliveries next
	// to each other and in order: nothing of another call sits between.
	for l := range lanes {
		lease := h.lease(fmt.Sprintf("L%d", l), "r")
		var got []string
		for {
			ds := h.claim(lease, 1)
			if len(ds) == 0 {
				break
			}
			h.finish(lease, ds[0].ID, store.Outcome{State: store.StateDone, Status: 200})
			got = append(got, string(ds[0].Message))
		}
		if len(got) != 2*n/lanes {
			t.Fatalf("lane L%d: claimed %d, want %d", l, len(got), 2*n/lanes)
		}
		for k := 0; k < len(got); k += 2 {
			var i int
			fmt.Sscanf(got[k], `{"text":"%d/a"}`, &i)
			if got[k] != fmt.Sprintf(`{"text":"%d/a"}`, i) || got[k+1] != fmt.Sprintf(`{"text":"%d/b"}`, i) {
				t.Errorf("lane L%d claimed %s then %s, want one call's a then b", l, got[k], got[k+1])
			}
		}
	}
}

// testGroupFailingMember: a call refused for its own reason (its relay
// space is full; a value the database may refuse) fails alone: the calls
// arriving with it are stored.
func testGroupFailingMember(t *testing.T, h *harness) {
	h.enqueueIn("full", "L", "g")
	const n = 40
	errs := make([]error, n)
	res := make([]store.EnqueueResult, n)
	together(n, func(i int) {
		req := store.EnqueueRequest{Space: "ok", Lane: "L",
			Deliveries: []store.NewDelivery{{Group: "g", Message: msg(fmt.Sprint(i))}}}
		switch i {
		case 7:
			req.Space, req.Limit = "full", 1
		case 13:
			// A NUL byte: PostgreSQL's text refuses it; a store that
			// takes it stores it like any other.
			req.Deliveries[0].Group = "g\x00"
		}
		res[i], errs[i] = h.s.Enqueue(t.Context(), req)
	})
	var stored []string
	for i := range n {
		switch {
		case i == 7:
			if !errors.Is(errs[i], store.ErrFull) {
				t.Errorf("call into the full space: %v, want ErrFull", errs[i])
			}
		case i == 13:
			if errs[i] == nil {
				stored = append(stored, res[i].Deliveries[0].ID)
			}
		case errs[i] != nil:
			t.Errorf("call %d: %v, want it stored whatever its neighbours did", i, errs[i])
		default:
			stored = append(stored, res[i].Deliveries[0].ID)
		}
	}
	all, err := h.s.List(t.Context(), store.Filter{Space: "ok", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range all {
		got = append(got, d.ID)
	}
	slices.Sort(stored)
	slices.Sort(got)
	if !slices.Equal(got, stored) {
		t.Errorf("space ok holds %v, want what was answered as stored, %v", got, stored)
	}
}

// testGroupAnswerLost: a caller whose answer was lost after the commit (the
// relay crashed between the two) retries with the same requestId and gets
// the delivery stored, even from another store on the same database.
func testGroupAnswerLost(t *testing.T, h *harness) {
	const n = 16
	first := make([]store.EnqueueResult, n)
	together(n, func(i int) {
		var err error
		first[i], err = h.s.Enqueue(t.Context(), store.EnqueueRequest{Space: "s", Lane: "L", CallerRequestID: fmt.Sprintf("req-%d", i),
			Deliveries: []store.NewDelivery{{Group: fmt.Sprintf("g%d", i), Message: msg(fmt.Sprint(i))}}})
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	})
	h.restart()
	together(n, func(i int) {
		res, err := h.s.Enqueue(t.Context(), store.EnqueueRequest{Space: "s", Lane: "L", CallerRequestID: fmt.Sprintf("req-%d", i),
			Deliveries: []store.NewDelivery{{Group: fmt.Sprintf("g%d", i), Message: msg("retried")}}})
		if err != nil {
			t.Errorf("retry %d: %v", i, err)
			return
		}
		if !res.Duplicate || len(res.Deliveries) != 1 || len(first[i].Deliveries) != 1 ||
			res.Deliveries[0].ID != first[i].Deliveries[0].ID || string(res.Deliveries[0].Message) != string(msg(fmt.Sprint(i))) {
			t.Errorf("retry %d: %+v, want the stored delivery as a duplicate", i, res)
		}
	})
}

// testGroupBoundExact: calls arriving together into one relay space never
// overshoot its bound, through two stores on the same database when it can
// be shared (as replicas are): exactly the bound is stored, the rest are
// refused with ErrFull.
func testGroupBoundExact(t *testing.T, h *harness) {
	stores := []store.Store{h.s}
	if !h.exclusive {
		other := h.open(h.clock.Now)
		t.Cleanup(func() { other.Close() })
		stores = append(stores, other)
	}
	const n, limit = 60, 17
	errs := make([]error, n)
	together(n, func(i int) {
		_, errs[i] = stores[i%len(stores)].Enqueue(t.Context(), store.EnqueueRequest{Space: "s", Lane: fmt.Sprintf("L%d", i%2), Limit: limit,
			Deliveries: []store.NewDelivery{{Group: "g", Message: msg(fmt.Sprint(i))}}})
	})
	var ok, full int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrFull):
			full++
		default:
			t.Errorf("call %d: %v", i, err)
		}
	}
	if ok != limit || full != n-limit {
		t.Errorf("%d stored and %d refused, want %d and %d", ok, full, limit, n-limit)
	}
}
