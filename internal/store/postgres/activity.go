package postgres

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// activitySQL sums the sends of the attempts started since $1 by relay
// space and bucket ($2 wide, counted from $1 by date_bin). The index
// attempts_started (0009_attempts_started.sql) gives the attempts of the
// window in a range that grows with the window's attempts, not the
// history's; each adds one seek in deliveries for its relay space.
const activitySQL = `SELECT d.space, date_bin($2::interval, a.started_at, $1::timestamptz) AS bucket, count(*)::int,
		count(*) FILTER (WHERE a.state = 'done')::int, count(*) FILTER (WHERE a.status = 429)::int
	FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
	WHERE a.started_at >= $1 AND (a.state = 'done' OR a.status <> 0 OR a.duration > interval '0' OR a.rescued)
	GROUP BY d.space, bucket ORDER BY d.space, bucket`

// Activity implements store.Admin.
func (s *Store) Activity(ctx context.Context, since time.Time, bucket time.Duration) ([]store.SpaceActivity, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if bucket < time.Microsecond {
		return nil, fmt.Errorf("activity: bucket %s, want at least 1µs", bucket)
	}
	rows, err := s.pool.Query(ctx, activitySQL, since, pgtype.Interval{Microseconds: bucket.Microseconds(), Valid: true})
	if err != nil {
		return nil, fmt.Errorf("activity: %w", s.closedErr(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SpaceActivity, error) {
		var a store.SpaceActivity
		err := row.Scan(&a.Space, &a.Start, &a.Sent, &a.OK, &a.Throttled)
		a.Start = a.Start.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("activity: %w", s.closedErr(err))
	}
	return out, nil
}

// IncidentCount implements store.Admin: a range of the incidents table's
// key (COLLATE "C": byte order). An upper bound that is not valid UTF-8
// is left to starts_with.
func (s *Store) IncidentCount(ctx context.Context, prefix string) (store.IncidentCount, error) {
	var c store.IncidentCount
	if s.closed.Load() {
		return c, store.ErrClosed
	}
	prefix = textKey(prefix)
	q, args := `SELECT count(*), count(*) FILTER (WHERE firing), coalesce(sum(number), 0)::bigint
		FROM incidents WHERE key >= $1 AND starts_with(key, $1)`, []any{prefix}
	if end := store.PrefixEnd(prefix); end != "" && utf8.ValidString(end) {
		q, args = q+` AND key < $2`, append(args, end)
	}
	if err := s.pool.QueryRow(ctx, q, args...).Scan(&c.Keys, &c.Open, &c.Opened); err != nil {
		return c, fmt.Errorf("incident count: %w", s.closedErr(err))
	}
	return c, nil
}
