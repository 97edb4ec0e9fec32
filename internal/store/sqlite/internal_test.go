package sqlite

import (
	"context"
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
		opts Options
		want map[string]string
	}{
		{Options{}, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000"}},
		{Options{Synchronous: "normal"}, map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000"}},
	}
	for _, tt := range tests {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "db"), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, pragmas(t, s)); diff != "" {
			t.Errorf("Options %+v: pragmas (-want +got):\n%s", tt.opts, diff)
		}
		s.Close()
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
		{`SELECT grp, min(seq) AS seq FROM deliveries WHERE lane = ? AND state IN ('queued', 'sending') GROUP BY grp`,
			[]any{"L"}, "deliveries_pending"},
		{`SELECT 1 FROM deliveries WHERE relay_thread = ? AND relay_thread <> ''`,
			[]any{"t"}, "deliveries_relay_thread"},
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
		if !strings.Contains(strings.Join(plan, "\n"), tt.index) {
			t.Errorf("plan of %.60s…:\n%s\nwant it to use %s", tt.query, strings.Join(plan, "\n"), tt.index)
		}
	}
}
