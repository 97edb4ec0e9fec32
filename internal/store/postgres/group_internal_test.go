package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
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

// TestPendingCounts: the pending counts of lanes and relay spaces, kept by
// the triggers (per statement for inserts, per row for updates and
// deletes), equal a count of the pending deliveries after a group that
// spans lanes and spaces, claims, a retry, finishes, a batch, a delete and
// a replay.
func TestPendingCounts(t *testing.T) {
	dbURL, _ := FreshSchema(t)
	s, err := Open(t.Context(), dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	check := func(when string) {
		t.Helper()
		for _, q := range []string{
			`SELECT l.lane, l.pending, count(d.id) FILTER (WHERE d.state IN ('queued', 'sending'))
				FROM lanes l LEFT JOIN deliveries d ON d.lane = l.lane GROUP BY l.lane, l.pending ORDER BY 1`,
			`SELECT p.space, p.pending, count(d.id) FILTER (WHERE d.state IN ('queued', 'sending'))
				FROM spaces p LEFT JOIN deliveries d ON d.space = p.space GROUP BY p.space, p.pending ORDER BY 1`,
		} {
			rows, err := s.pool.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var name string
			var kept, counted int
			n := 0
			if _, err := pgx.ForEachRow(rows, []any{&name, &kept, &counted}, func() error {
				n++
				if kept != counted {
					t.Errorf("%s: %s counts %d pending, holds %d", when, name, kept, counted)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatalf("%s: no rows", when)
			}
		}
	}
	var calls []*enqueueCall
	for i := range 12 {
		ds := []store.NewDelivery{{Group: fmt.Sprint("g", i%3), Message: []byte(`{"text":"x"}`)}}
		if i%4 == 0 {
			ds = append(ds, store.NewDelivery{Group: fmt.Sprint("g", i%3), Message: []byte(`{"text":"y"}`)})
		}
		calls = append(calls, &enqueueCall{ctx: ctx, requestIDs: make([]string, len(ds)), done: make(chan struct{}),
			req: store.EnqueueRequest{Space: fmt.Sprint("s", i%4), Lane: fmt.Sprint("L", i%3), Deliveries: ds}})
	}
	s.commitGroup(calls)
	for i, c := range calls {
		if c.err != nil {
			t.Fatalf("call %d: %v", i, c.err)
		}
	}
	check("after the group")

	lease, err := s.AcquireLease(ctx, store.LeaseRequest{Lane: "L0", Owner: "o", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, lease, 10)
	if err != nil || len(claimed) < 3 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	check("after a claim")
	if _, err := s.Finish(ctx, lease, claimed[0].ID, store.Outcome{State: store.StateDead, Status: 400}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, lease, claimed[2].ID, store.Outcome{State: store.StateDone, Status: 200}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, lease, claimed[1].ID, store.Outcome{State: store.StateQueued, Status: 500}); err != nil {
		t.Fatal(err)
	}
	check("after finishes")
	if err := s.Delete(ctx, claimed[1].ID); err != nil {
		t.Fatal(err)
	}
	check("after a delete")
	if _, err := s.Replay(ctx, claimed[0].ID); err != nil {
		t.Fatal(err)
	}
	check("after a replay")

	lease1, err := s.AcquireLease(ctx, store.LeaseRequest{Lane: "L1", Owner: "o", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	queued, err := s.List(ctx, store.Filter{Lane: "L1", Space: "s0", Group: "g1", States: []store.State{store.StateQueued}})
	if err != nil || len(queued) < 2 {
		t.Fatalf("list: %d, %v", len(queued), err)
	}
	slices.SortFunc(queued, func(a, b store.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	if _, err := s.FreezeBatch(ctx, lease1, []string{queued[0].ID, queued[1].ID}, []byte(`{"text":"x\ny"}`)); err != nil {
		t.Fatal(err)
	}
	check("after a batch")
	if err := s.ReleaseLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	check("after a release")
}

// TestGroupStalledLane: while another session holds a lane's row (a
// replica mid-transaction, or frozen), a call into that lane waits, and a
// call into another lane of the same store commits all the same (by a
// spare committer).
func TestGroupStalledLane(t *testing.T) {
	dbURL, _ := FreshSchema(t)
	s, err := Open(t.Context(), dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	enqueue := func(ctx context.Context, lane string) error {
		_, err := s.Enqueue(ctx, store.EnqueueRequest{Space: "s-" + lane, Lane: lane,
			Deliveries: []store.NewDelivery{{Group: "g", Message: []byte(`{"text":"x"}`)}}})
		return err
	}
	for _, l := range []string{"X", "Y"} {
		if err := enqueue(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.WithoutCancel(ctx))
	if _, err := holder.Exec(ctx, `SELECT 1 FROM lanes WHERE lane = 'X' FOR NO KEY UPDATE`); err != nil {
		t.Fatal(err)
	}
	stalled := make(chan error, 1)
	go func() { stalled <- enqueue(ctx, "X") }()
	// Wait until the call into X is in a group, waiting for the lock.
	for {
		s.group.mu.Lock()
		busy := s.group.busy["X"]
		s.group.mu.Unlock()
		if busy {
			break
		}
		select {
		case err := <-stalled:
			t.Fatalf("the call into the held lane returned %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	if err := enqueue(ctx, "Y"); err != nil {
		t.Fatalf("call into lane Y while X is held: %v", err)
	}
	select {
	case err := <-stalled:
		t.Fatalf("the call into the held lane returned %v before the lane was free", err)
	default:
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-stalled; err != nil {
		t.Fatalf("the call into X once free: %v", err)
	}
}
