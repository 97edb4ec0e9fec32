package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// BenchmarkActivity measures the console's chart of sends and 429s on a
// store of a million attempts, as the SQLite backend's benchmark does
// (storetest.BenchActivity). The rows are filled with SQL, then analyzed,
// as autovacuum would.
func BenchmarkActivity(b *testing.B) {
	dbURL, _ := postgres.FreshSchema(b)
	s, err := postgres.Open(b.Context(), dbURL, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(b.Context(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	ts := func(x string) string { return fmt.Sprintf("to_timestamp(%d + %s)", storetest.ActivityBase, x) }
	series := ` FROM generate_series(1, ` + fmt.Sprint(storetest.ActivityRows) + `) AS x`
	for _, q := range []string{
		`INSERT INTO lanes (lane) SELECT 'LANE' || x FROM generate_series(0, 9) AS x`,
		`INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id, caller_request_id, dedup_key,
			relay_thread, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at, queued_at, done_at, route)
		SELECT x, x, 'space-' || (x % 10), 'LANE' || (x % 10), 'g' || (x % 1000),
			convert_to('{"text":"x"}', 'UTF8'), '', '', 'req-' || x, '', '', '', 'done', 1, ` + ts("x") + `, 200, '',
			` + ts("x") + `, ` + ts("x") + `, ` + ts("x") + `, ` + ts("x") + `, ''` + series,
		`INSERT INTO attempts (delivery_id, n, try, started_at, ended_at, duration, owner, request_id,
			state, status, error, google_message, rescued)
		SELECT x, 1, 1, ` + ts("x") + `, ` + ts("x") + ` + interval '300 ms', interval '300 ms', 'replica-1', 'req-' || x,
			` + storetest.ActivityStateSQL("x") + `, ` + storetest.ActivityStatusSQL("x") + `, '', '', false` + series,
		`SELECT setval('delivery_ids', ` + fmt.Sprint(storetest.ActivityRows) + `)`,
		`ANALYZE deliveries`,
		`ANALYZE attempts`,
	} {
		if _, err := conn.Exec(b.Context(), q); err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	storetest.BenchActivity(b, func(since time.Time, bucket time.Duration) ([]store.SpaceActivity, error) {
		return s.Activity(b.Context(), since, bucket)
	})
}
