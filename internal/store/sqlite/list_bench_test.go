package sqlite_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// BenchmarkListMillion measures the relay console's deliveries list on a
// store of a million deliveries (storetest.ListMillionRows): the first page
// newest first, the next page by cursor, and pages filtered by each of the
// console's filters. One operation is one page of 50.
func BenchmarkListMillion(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := sqlite.Open(b.Context(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	// Filled with SQL, not a million Enqueues: the store holds a lock file
	// while open, so the rows go in between two opens.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		b.Fatal(err)
	}
	ns := func(x string) string { return "(1700000000 + " + x + ") * 1000000000" }
	stmts := []string{
		`WITH RECURSIVE n(value) AS (SELECT 0 UNION ALL SELECT value + 1 FROM n WHERE value < 9) INSERT INTO lanes (lane) SELECT 'LANE' || value FROM n`,
		`WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < ` + fmt.Sprint(storetest.ListMillionRows) + `)
		INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id, caller_request_id, dedup_key,
			relay_thread, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at, queued_at, done_at, route)
		SELECT value, value, 'space-' || (value % 10), 'LANE' || (value % 10), 'g' || (value % 1000),
			CAST(` + storetest.ListMillionMessageSQL("value", "printf('%0200d', 0)") + ` AS BLOB), '', '', 'req-' || value, '', '', '',
			` + storetest.ListMillionStateSQL("value") + `, 1, ` + ns("value") + `, 200, '', ` + ns("value") + `, ` + ns("value") + `, ` + ns("value") + `, ` + ns("value") + `,
			` + storetest.ListMillionRouteSQL("value") + `
		FROM n`,
		`UPDATE counters SET value = ` + fmt.Sprint(storetest.ListMillionRows) + ` WHERE name = 'delivery'`,
	}
	for _, q := range stmts {
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
	storetest.BenchListMillion(b, func(f store.Filter) ([]store.Delivery, error) { return s.List(b.Context(), f) })
}
