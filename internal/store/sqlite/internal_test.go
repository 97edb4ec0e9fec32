package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pragmas reads, through the writer, the settings Open promises.
func pragmas(t *testing.T, s *Store) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := s.write(t.Context(), func(ctx context.Context, tx *wtx, now int64) error {
		for _, p := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout"} {
			var v string
			if err := tx.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
				return err
			}
			got[p] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPragmas(t *testing.T) {
	tests := []struct {
		opts  Options
		want  map[string]string
		syncs bool
	}{
		// SQLite's own mode is NORMAL in both: under FULL the store syncs
		// the log itself (TestFullWaitsForSync).
		{Options{}, map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000"}, true},
		{Options{Synchronous: "normal"}, map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000"}, false},
	}
	for _, tt := range tests {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "db"), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, pragmas(t, s)); diff != "" {
			t.Errorf("Options %+v: pragmas (-want +got):\n%s", tt.opts, diff)
		}
		if got := s.sync != nil; got != tt.syncs {
			t.Errorf("Options %+v: store syncs the log: %t, want %t", tt.opts, got, tt.syncs)
		}
		s.Close()
	}
}

// TestFullWaitsForSync: under FULL, a write call returns only after a sync
// of the log that began after its commit, writes are answered in commit
// order, and a failed sync fails the writes it covered.
func TestFullWaitsForSync(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := make(chan error)
	entered := make(chan struct{}, 16)
	realSync := s.sync
	s.sync = func() error {
		entered <- struct{}{}
		if err := <-release; err != nil {
			return err
		}
		return realSync()
	}
	enqueue := func(text string) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := s.Enqueue(context.Background(), store.EnqueueRequest{Space: "ops", Lane: "L",
				Deliveries: []store.NewDelivery{{Message: []byte(`{"text":"` + text + `"}`)}}})
			done <- err
		}()
		return done
	}
	first := enqueue("a")
	<-entered // committed, now syncing
	second := enqueue("b")
	// The second write commits while the first group's sync is held, and
	// neither caller is answered.
	deadline := time.After(10 * time.Second)
	for {
		ds, err := s.List(t.Context(), store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 2 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("the second write did not commit while the first group was syncing")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case err := <-first:
		t.Fatalf("first write answered (%v) before its sync finished", err)
	case err := <-second:
		t.Fatalf("second write answered (%v) before any sync finished", err)
	default:
	}
	release <- nil
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	// The second group needs a sync of its own, begun after its commit.
	<-entered
	select {
	case err := <-second:
		t.Fatalf("second write answered (%v) before its own sync", err)
	default:
	}
	release <- errors.New("disk on fire")
	if err := <-second; err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("second write after a failed sync: %v, want the sync's error", err)
	}
	// The store goes on: the next write syncs and succeeds.
	third := enqueue("c")
	<-entered
	release <- nil
	if err := <-third; err != nil {
		t.Fatalf("third write: %v", err)
	}
}

// TestQueryPlans guards the indexes of the hot queries: a partial index is
// used only when the query repeats its WHERE term, which is easy to lose.
func TestQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT ` + columns + ` FROM deliveries WHERE space = ? AND caller_request_id = ? AND caller_request_id <> '' ORDER BY id`,
			[]any{"s", "r"}, "deliveries_caller_request"},
		{`SELECT ` + columns + ` FROM deliveries WHERE space = ? AND dedup_key = ? AND dedup_key <> '' ORDER BY id`,
			[]any{"s", "k"}, "deliveries_dedup"},
		{messageIDHolder, []any{"L", "m"}, "deliveries_message_id (lane=? AND message_id=?)"},
		{claimSQL, []any{0, "L", 1}, "deliveries_pending (lane=? AND space=? AND grp>?)"},
		// List's form for the dispatcher's coalescing pass.
		{`SELECT ` + columns + ` FROM deliveries WHERE lane = ? AND state IN (?, ?) AND state IN ('queued', 'sending') ORDER BY id LIMIT ?`,
			[]any{"L", "queued", "sending", 1000}, "deliveries_lane_pending (lane=?)"},
		{`SELECT space, paused_until, pause_reason FROM spaces WHERE lane = ? AND pause_reason <> '' ORDER BY space`,
			[]any{"L"}, "spaces_lane"},
		{`SELECT id FROM deliveries WHERE batch_id = ?`, []any{1}, "deliveries_batch"},
	}
	for _, tt := range tests {
		var plan []string
		err := s.write(t.Context(), func(ctx context.Context, tx *wtx, now int64) error {
			rows, err := tx.conn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(plan, "\n"), "deliveries_state") {
			t.Errorf("plan of %.60s…:\n%s\nwalks the deliveries of a state", tt.query, strings.Join(plan, "\n"))
		}
		if !strings.Contains(strings.Join(plan, "\n"), tt.index) {
			t.Errorf("plan of %.60s…:\n%s\nwant it to use %s", tt.query, strings.Join(plan, "\n"), tt.index)
		}
	}
}

// TestTouchedThreadsForgottenOnPrune: the writer skips rewriting a thread
// it wrote less than store.ThreadTouch ago, but a thread that Prune deleted
// meanwhile is written again by the next Enqueue that uses it.
func TestTouchedThreadsForgottenOnPrune(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	enqueue := func() store.Delivery {
		res, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "L",
			Deliveries: []store.NewDelivery{{Group: "g", Message: []byte(`{"text":"x"}`), RelayThread: "spaces/ops/threads/k1"}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Deliveries[0]
	}
	d := enqueue()
	if err := s.Delete(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	// Unreferenced and past a one-nanosecond retention: pruned.
	now = now.Add(time.Second)
	if _, err := s.Prune(t.Context(), store.Retention{Threads: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Thread(t.Context(), "spaces/ops/threads/k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after prune: %v, want ErrNotFound", err)
	}
	enqueue() // within a minute of the first touch
	if _, err := s.Thread(t.Context(), "spaces/ops/threads/k1"); err != nil {
		t.Errorf("thread used again after a prune: %v, want it known", err)
	}
}
