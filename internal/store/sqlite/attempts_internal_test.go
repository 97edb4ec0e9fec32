package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// TestDeadLettersPlan: the dead-letter count reads the partial index only,
// never the table.
func TestDeadLettersPlan(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.rdb.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+deadLettersSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if got := strings.Join(plan, "\n"); !strings.Contains(got, "USING COVERING INDEX deliveries_dead") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("plan:\n%s\nwant a scan of the covering index deliveries_dead in its order", got)
	}
}

// BenchmarkDeadLetters measures what the dead-letter gauge costs a scrape:
// one DeadLetters call over n dead letters of 10 relay spaces, beside as
// many finished deliveries.
func BenchmarkDeadLetters(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("dead=%d", n), func(b *testing.B) {
			ctx := b.Context()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{Synchronous: "NORMAL"})
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
			if err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
				_, err := tx.execOnce(ctx, `UPDATE deliveries SET state = CASE WHEN id % 2 = 0 THEN 'dead' ELSE 'done' END, done_at = ?`, now)
				return err
			}); err != nil {
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
