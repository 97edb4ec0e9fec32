package postgres

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// TestAttemptQueryPlans: the dead-letter count reads the partial index
// deliveries_dead, and a delivery's attempts are one range of the primary
// key.
func TestAttemptQueryPlans(t *testing.T) {
	dbURL, _ := FreshSchema(t)
	s, err := Open(t.Context(), dbURL, Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tt := range []struct{ query, index string }{
		{deadLettersSQL, "deliveries_dead"},
		{`SELECT ` + attemptColumns + ` FROM attempts WHERE delivery_id = 1 ORDER BY n`, "attempts_pkey"},
		{`SELECT max(n) FROM attempts WHERE delivery_id = 1`, "attempts_pkey"},
	} {
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

// BenchmarkDeadLetters measures what the dead-letter gauge costs a scrape:
// one DeadLetters call over n dead letters of 10 relay spaces, beside as
// many finished deliveries, once the table is vacuumed.
func BenchmarkDeadLetters(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("dead=%d", n), func(b *testing.B) {
			ctx := b.Context()
			dbURL, _ := FreshSchema(b)
			s, err := Open(ctx, dbURL, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			msg := []byte(`{"text":"` + strings.Repeat("x", 300) + `"}`)
			chunk := min(1000, n/5) // at least 10 requests: one space each
			for i := 0; i < 2*n; i += chunk {
				req := store.EnqueueRequest{Space: fmt.Sprint("space-", i/chunk%10), Lane: "AAAA"}
				for range chunk {
					req.Deliveries = append(req.Deliveries, store.NewDelivery{Message: msg})
				}
				if _, err := s.Enqueue(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			// Half dead, half done, as Finish would leave them.
			if _, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = CASE WHEN id % 2 = 0 THEN 'dead' ELSE 'done' END,
				done_at = now()`); err != nil {
				b.Fatal(err)
			}
			if _, err := s.pool.Exec(ctx, `VACUUM ANALYZE deliveries`); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := s.DeadLetters(ctx)
				if err != nil || len(got) != 10 {
					b.Fatalf("DeadLetters: %d spaces, %v", len(got), err)
				}
			}
		})
	}
}
