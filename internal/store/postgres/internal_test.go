package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestFirstSchema(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"gchat", "gchat", true},
		{"  GChat , public", "gchat", true},
		{`"GChat", public`, "GChat", true},
		{`"a ""b"", c",public`, `a "b", c`, true},
		{`"$user", public`, "", false},
		{"$user", "", false},
		{"", "", false},
		{`"unterminated`, "", false},
	}
	for _, tt := range tests {
		got, ok := firstSchema(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("firstSchema(%q) = %q, %t; want %q, %t", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// TestQueryPlans guards the indexes of the hot queries: a partial index is
// usable only when the query implies its WHERE term, which is easy to lose.
// Sequential scans are disabled so that the planner shows whether it can use
// the index at all on the tiny test tables.
func TestQueryPlans(t *testing.T) {
	dbURL, _ := FreshSchema(t)
	s, err := Open(t.Context(), dbURL, Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		query string
		index string
	}{
		{`SELECT ` + columns + ` FROM deliveries WHERE space = 's' AND caller_request_id = 'r' AND caller_request_id <> '' ORDER BY id`,
			"deliveries_caller_request"},
		{`SELECT ` + columns + ` FROM deliveries WHERE space = 's' AND dedup_key = 'k' AND dedup_key <> '' AND created_at > now() ORDER BY id`,
			"deliveries_dedup"},
		{`SELECT DISTINCT ON (grp) id, seq, state, next_attempt_at FROM deliveries
			WHERE lane = 'L' AND state IN ('queued', 'sending') ORDER BY grp, seq`,
			"deliveries_pending"},
		{`UPDATE deliveries SET state = 'queued' WHERE lane = 'L' AND state = 'sending'`, "deliveries_pending"},
		{`SELECT id FROM deliveries WHERE batch_id = 1`, "deliveries_batch"},
		{`SELECT id FROM deliveries WHERE is_batch = false AND ((state IN ('done', 'dropped') AND done_at < now()) OR
			(state = 'dead' AND done_at < now())) LIMIT 1000`, "deliveries_state"},
	}
	for _, tt := range tests {
		var plan []string
		err := pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(t.Context(), `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(t.Context(), "EXPLAIN "+tt.query)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), tt.index) {
			t.Errorf("plan of %.60s…:\n%s\nwant it to use %s", tt.query, strings.Join(plan, "\n"), tt.index)
		}
	}
}
