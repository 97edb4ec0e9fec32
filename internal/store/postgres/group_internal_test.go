package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// TestGroupOfOneCommit: calls committed as one group, some repeating
// others of the same group, one past its space's bound, one with a value
// the database refuses: the repeats are answered with the first's
// deliveries, the refused calls fail alone, the rest are stored in call
// order. (Concurrent callers rarely make such a group on demand; this
// builds it.)
func TestGroupOfOneCommit(t *testing.T) {
	dbURL, _ := FreshSchema(t)
	s, err := Open(t.Context(), dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	call := func(space, caller, dedup, group string, limit int) *enqueueCall {
		return &enqueueCall{ctx: t.Context(), requestIDs: []string{store.NewRequestID()}, done: make(chan struct{}),
			req: store.EnqueueRequest{Space: space, Lane: "L", CallerRequestID: caller, DedupKey: dedup, Limit: limit,
				Deliveries: []store.NewDelivery{{Group: group, Message: []byte(`{"text":"x"}`)}}}}
	}
	for _, bad := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused value %t", bad), func(t *testing.T) {
			p := fmt.Sprint(bad)
			calls := []*enqueueCall{
				call("s"+p, "r1", "", "g", 0),
				call("s"+p, "r1", "", "g", 0),   // repeats 0
				call("s"+p, "", "k1", "g", 0),   // new
				call("s"+p, "r2", "k1", "g", 0), // repeats 2 by its dedup key
				call("f"+p, "", "", "g", 1),
				call("f"+p, "", "", "g", 1), // past the bound of 1
			}
			if bad {
				calls = append(calls, call("s"+p, "", "", "g\x00", 0))
			}
			s.commitGroup(calls)
			for i, c := range calls {
				switch {
				case i == 5:
					if !errors.Is(c.err, store.ErrFull) {
						t.Errorf("call 5: %v, want ErrFull", c.err)
					}
				case i == 6:
					if c.err == nil {
						t.Errorf("call 6 with a NUL byte: stored")
					}
				case c.err != nil:
					t.Fatalf("call %d: %v", i, c.err)
				}
			}
			for _, pair := range [][2]int{{1, 0}, {3, 2}} {
				d, o := calls[pair[0]].res, calls[pair[1]].res
				if !d.Duplicate || o.Duplicate || len(d.Deliveries) != 1 || d.Deliveries[0].ID != o.Deliveries[0].ID {
					t.Errorf("call %d: %+v, want a duplicate of call %d's %+v", pair[0], d, pair[1], o)
				}
			}
			ids := []int64{}
			for _, i := range []int{0, 2, 4} {
				n, _ := store.ParseID(calls[i].res.Deliveries[0].ID)
				ids = append(ids, n)
			}
			if ids[0] >= ids[1] || ids[1] >= ids[2] {
				t.Errorf("ids %v, want increasing in call order", ids)
			}
			all, err := s.List(t.Context(), store.Filter{Space: "s" + p})
			if err != nil || len(all) != 2 {
				t.Errorf("space s holds %d deliveries (err %v), want 2", len(all), err)
			}
		})
	}
}

// TestGroupMessageIDRepeat: two calls of one group, of two relay spaces,
// carry one message id into one lane with UniqueMessageID: the group is run
// again call by call, so the first is stored and the second refused naming
// it; a call of the group that repeats nothing is stored.
func TestGroupMessageIDRepeat(t *testing.T) {
	dbURL, _ := FreshSchema(t)
	s, err := Open(t.Context(), dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	call := func(space, messageID string) *enqueueCall {
		return &enqueueCall{ctx: t.Context(), requestIDs: []string{store.NewRequestID()}, done: make(chan struct{}),
			req: store.EnqueueRequest{Space: space, Lane: "L", UniqueMessageID: true,
				Deliveries: []store.NewDelivery{{Message: []byte(`{"text":"x"}`), MessageID: messageID}}}}
	}
	calls := []*enqueueCall{call("a", "m"), call("b", "m"), call("b", "other")}
	s.commitGroup(calls)
	if calls[0].err != nil || calls[2].err != nil {
		t.Fatalf("calls 0 and 2: %v, %v; want both stored", calls[0].err, calls[2].err)
	}
	if !errors.Is(calls[1].err, store.ErrMessageIDExists) {
		t.Fatalf("call 1: %v, want ErrMessageIDExists", calls[1].err)
	}
	if got, want := calls[1].res.Deliveries, calls[0].res.Deliveries; len(got) != 1 || got[0].ID != want[0].ID {
		t.Errorf("call 1 names %+v, want call 0's delivery %s", got, want[0].ID)
	}
	all, err := s.List(t.Context(), store.Filter{Lane: "L"})
	if err != nil || len(all) != 2 {
		t.Errorf("lane L holds %d deliveries (err %v), want 2", len(all), err)
	}
}
