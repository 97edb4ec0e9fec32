package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// BenchmarkActivity measures the console's chart of sends and 429s
// (Admin.Activity, the last hour in one-minute buckets) on a store of a
// million attempts (storetest.BenchActivity). One operation is one chart of
// every relay space.
func BenchmarkActivity(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := sqlite.Open(b.Context(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	// Filled with SQL between two opens, as BenchmarkListMillion is.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	ns := func(x string) string { return fmt.Sprintf("(%d + %s) * 1000000000", storetest.ActivityBase, x) }
	series := `WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < ` + fmt.Sprint(storetest.ActivityRows) + `) `
	for _, q := range []string{
		`WITH RECURSIVE n(value) AS (SELECT 0 UNION ALL SELECT value + 1 FROM n WHERE value < 9) INSERT INTO lanes (lane) SELECT 'LANE' || value FROM n`,
		series + `INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id, caller_request_id, dedup_key,
			relay_thread, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at, queued_at, done_at, route)
		SELECT value, value, 'space-' || (value % 10), 'LANE' || (value % 10), 'g' || (value % 1000),
			CAST('{"text":"x"}' AS BLOB), '', '', 'req-' || value, '', '', '', 'done', 1, ` + ns("value") + `, 200, '',
			` + ns("value") + `, ` + ns("value") + `, ` + ns("value") + `, ` + ns("value") + `, ''
		FROM n`,
		series + `INSERT INTO attempts (delivery_id, n, try, started_at, ended_at, duration_ns, owner, request_id,
			state, status, error, google_message, rescued)
		SELECT value, 1, 1, ` + ns("value") + `, ` + ns("value") + ` + 300000000, 300000000, 'replica-1', 'req-' || value,
			` + storetest.ActivityStateSQL("value") + `, ` + storetest.ActivityStatusSQL("value") + `, '', '', 0
		FROM n`,
		`UPDATE counters SET value = ` + fmt.Sprint(storetest.ActivityRows) + ` WHERE name = 'delivery'`,
	} {
		if _, err := db.ExecContext(b.Context(), q); err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	db.Close()
	s, err = sqlite.Open(b.Context(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchActivity(b, func(since time.Time, bucket time.Duration) ([]store.SpaceActivity, error) {
		return s.Activity(b.Context(), since, bucket)
	})
}
