package postgres_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// BenchmarkListMillion measures the relay console's deliveries list on a
// store of a million deliveries, as the SQLite backend's benchmark does
// (storetest.BenchListMillion). The rows are filled with SQL, then
// analyzed, as autovacuum would.
func BenchmarkListMillion(b *testing.B) {
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
	ts := func(x string) string { return "to_timestamp(1700000000 + " + x + ")" }
	for _, q := range []string{
		`INSERT INTO lanes (lane) SELECT 'LANE' || x FROM generate_series(0, 9) AS x`,
		`INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id, caller_request_id, dedup_key,
			relay_thread, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at, queued_at, done_at, route)
		SELECT x, x, 'space-' || (x % 10), 'LANE' || (x % 10), 'g' || (x % 1000),
			convert_to(` + storetest.ListMillionMessageSQL("x", "repeat('0', 200)") + `, 'UTF8'), '', '', 'req-' || x, '', '', '',
			` + storetest.ListMillionStateSQL("x") + `, 1, ` + ts("x") + `, 200, '', ` + ts("x") + `, ` + ts("x") + `, ` + ts("x") + `, ` + ts("x") + `,
			` + storetest.ListMillionRouteSQL("x") + `
		FROM generate_series(1, ` + fmt.Sprint(storetest.ListMillionRows) + `) AS x`,
		`SELECT setval('delivery_ids', ` + fmt.Sprint(storetest.ListMillionRows) + `)`,
		`ANALYZE deliveries`,
	} {
		if _, err := conn.Exec(b.Context(), q); err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	storetest.BenchListMillion(b, func(f store.Filter) ([]store.Delivery, error) { return s.List(b.Context(), f) })
}
