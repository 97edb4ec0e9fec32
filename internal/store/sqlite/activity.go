package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// activitySQL sums the sends of the attempts started since ?1 by relay
// space and bucket (?2 nanoseconds wide). The index attempts_started
// (0010_attempts_started.sql) holds start, state, status, duration and rescue, so
// the attempts of the window are read from it alone, in a range that grows
// with the window's attempts, not the history's; each adds one seek in
// deliveries for its relay space.
const activitySQL = `SELECT d.space, (a.started_at - ?1) / ?2 AS bucket, count(*),
		sum(a.state = 'done'), sum(a.status = 429)
	FROM attempts a INDEXED BY attempts_started JOIN deliveries d ON d.id = a.delivery_id
	WHERE a.started_at >= ?1 AND (a.state = 'done' OR a.status <> 0 OR a.duration_ns > 0 OR a.rescued <> 0)
	GROUP BY d.space, bucket ORDER BY d.space, bucket`

// Activity implements store.Admin.
func (s *Store) Activity(ctx context.Context, since time.Time, bucket time.Duration) ([]store.SpaceActivity, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	if bucket <= 0 {
		return nil, fmt.Errorf("activity: bucket %s, want positive", bucket)
	}
	rows, err := s.rdb.QueryContext(ctx, activitySQL, toNanos(since), bucket.Nanoseconds())
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	defer rows.Close()
	var out []store.SpaceActivity
	for rows.Next() {
		var a store.SpaceActivity
		var n int64
		if err := rows.Scan(&a.Space, &n, &a.Sent, &a.OK, &a.Throttled); err != nil {
			return nil, fmt.Errorf("activity: %w", err)
		}
		a.Start = since.Add(time.Duration(n) * bucket).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	return out, nil
}

// IncidentCount implements store.Admin: a range of the incidents table's
// key index.
func (s *Store) IncidentCount(ctx context.Context, prefix string) (store.IncidentCount, error) {
	var c store.IncidentCount
	if err := s.readable(); err != nil {
		return c, err
	}
	q, args := `SELECT count(*), coalesce(sum(firing), 0), coalesce(sum(number), 0) FROM incidents WHERE key >= ?`, []any{prefix}
	if end := store.PrefixEnd(prefix); end != "" {
		q, args = q+` AND key < ?`, append(args, end)
	}
	if err := s.rdb.QueryRowContext(ctx, q, args...).Scan(&c.Keys, &c.Open, &c.Opened); err != nil {
		return c, fmt.Errorf("incident count: %w", err)
	}
	return c, nil
}
