package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
)

// TestLogBounded: under reads that always overlap, so that SQLite's own
// checkpoint never finds the log unused and cannot start it over, the log
// still stays bounded while far more than its bound is written. The bound
// is lowered to 1 MiB, below SQLite's automatic checkpoint (about 4 MiB),
// so that without the writer's own checkpoint the log would pass it.
func TestLogBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	const limit = 1 << 20
	s, err := Open(t.Context(), path, Options{Synchronous: "NORMAL", logLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	readers, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer readers.Close()

	// Two read transactions in turn, each begun before the other ends.
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			var held *sql.Tx
			for ctx.Err() == nil {
				tx, err := readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
				if err != nil {
					return err
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&n); err != nil {
					tx.Rollback()
					return err
				}
				if held != nil {
					held.Rollback()
				}
				held = tx
			}
			if held != nil {
				held.Rollback()
			}
			return nil
		}()
	}()

	const (
		calls   = 160
		perCall = 2
		size    = 20 << 10
	)
	text, _ := json.Marshal(map[string]string{"text": strings.Repeat("x", size)})
	var most int64
	for range calls {
		req := store.EnqueueRequest{Space: "ops", Lane: "L"}
		for range perCall {
			req.Deliveries = append(req.Deliveries, store.NewDelivery{Message: text})
		}
		if _, err := s.Enqueue(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			most = max(most, fi.Size())
		}
	}
	stop()
	if err := <-done; err != nil && ctx.Err() == nil {
		t.Fatalf("reader: %v", err)
	}
	// The writer looks at the log every logEvery groups (here calls), and
	// a checkpoint that could not finish (the readers' turn came late) is
	// tried again a quarter of the limit later; allow both, with half as
	// much again for the log's own overhead. Without the writer's
	// checkpoint the log passes 5 MiB.
	const bound = 2*limit + logEvery*perCall*size*3/2
	written := int64(calls * perCall * size)
	t.Logf("wrote %d MiB of messages; the log reached %.1f MiB", written>>20, float64(most)/(1<<20))
	if most > bound {
		t.Errorf("log reached %d bytes, want at most %d", most, bound)
	}

	// The writer's checkpoints left its usual settings.
	got := map[string]int64{}
	err = s.write(t.Context(), func(ctx context.Context, tx *wtx, _ int64) error {
		for _, p := range []string{"busy_timeout", "journal_size_limit"} {
			var v int64
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
	if want := map[string]int64{"busy_timeout": 5000, "journal_size_limit": logKeep}; !maps.Equal(got, want) {
		t.Errorf("writer's pragmas after checkpoints: %v, want %v", got, want)
	}
}
