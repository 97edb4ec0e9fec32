package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// Get implements store.Admin.
func (s *Store) Get(ctx context.Context, id string) (store.Delivery, error) {
	if s.closed.Load() {
		return store.Delivery{}, store.ErrClosed
	}
	n, ok := store.ParseID(id)
	if !ok {
		return store.Delivery{}, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	d, err := getDelivery(ctx, s.pool, n)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get %s: %w", id, s.closedErr(err))
	}
	return d, nil
}

// List implements store.Admin.
func (s *Store) List(ctx context.Context, f store.Filter) ([]store.Delivery, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	var where []string
	var args []any
	add := func(cond string, a any) {
		args = append(args, a)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Space != "" {
		add("space = ?", f.Space)
	}
	if f.Lane != "" {
		add("lane = ?", f.Lane)
	}
	if f.Group != "" {
		add("grp = ?", f.Group)
	}
	if lit, ok := stateLiterals(f.States); ok {
		where = append(where, "state IN ("+lit+")")
	} else if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		add("state = ANY(?)", states)
	}
	pendingOnly := len(f.States) > 0 && !slices.ContainsFunc(f.States, func(st store.State) bool {
		return st != store.StateQueued && st != store.StateSending
	})
	if pendingOnly {
		// Spelled out, the pending states let the partial indexes on
		// them serve (a bound parameter cannot): a lane's pending
		// deliveries are read in id order without sorting its backlog.
		where = append(where, "state IN ('queued', 'sending')")
	}
	if f.BatchID != "" {
		n, ok := store.ParseID(f.BatchID)
		if !ok {
			return nil, nil
		}
		add("batch_id = ?", n)
	}
	if f.After != "" {
		n, ok := store.ParseID(f.After)
		if !ok {
			return nil, fmt.Errorf("list: bad cursor %q", f.After)
		}
		add("id > ?", n)
	}
	if f.Route != "" {
		add("route = ?", f.Route)
	}
	if f.Text != "" {
		add("position(convert_to(?, 'UTF8') in message) > 0", f.Text)
	}
	if f.Before != "" {
		n, ok := store.ParseID(f.Before)
		if !ok {
			return nil, fmt.Errorf("list: bad cursor %q", f.Before)
		}
		add("id < ?", n)
	}
	order := "id"
	if f.Newest {
		order = "id DESC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT ` + columns + ` FROM deliveries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += ` ORDER BY ` + order + ` LIMIT $` + strconv.Itoa(len(args))
	// Planned at each run with its values (an unnamed statement), as
	// Claim is: which index serves a filter depends on the data, and a
	// generic plan cached while the table was small could walk a lane's
	// whole backlog for the dispatcher's coalescing pass. DescribeExec,
	// not Exec, keeps the binary format for the messages it reads.
	args = append([]any{pgx.QueryExecModeDescribeExec}, args...)
	if f.Lane == "" || !pendingOnly || f.Newest {
		ds, err := queryDeliveries(ctx, s.pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list: %w", s.closedErr(err))
		}
		return ds, nil
	}
	// The oldest pending deliveries of a lane (the dispatcher's coalescing
	// pass, a few times a second per lane) are read in order from
	// deliveries_lane_pending, never by reading the lane's whole backlog
	// and sorting it: with statistics older than the backlog (a table
	// grown in the last minute, before autovacuum analysed it) the planner
	// takes a lane for a few rows and sorts, and a read of 64 rows cost 100
	// ms at 10,000 pending. Bitmap scans and sorts are off for this read.
	var ds []store.Delivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off`); err != nil {
			return err
		}
		var err error
		ds, err = queryDeliveries(ctx, tx, q, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return ds, nil
}

// lockDelivery locks the lane of delivery n, then the delivery's row (which
// Prune, taking no lane lock, could otherwise delete meanwhile), and returns
// the delivery with the lane.
func (s *Store) lockDelivery(ctx context.Context, tx pgx.Tx, n int64) (store.Delivery, laneRow, error) {
	var lane string
	err := tx.QueryRow(ctx, `SELECT lane FROM deliveries WHERE id = $1`, n).Scan(&lane)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Delivery{}, laneRow{}, store.ErrNotFound
	}
	if err != nil {
		return store.Delivery{}, laneRow{}, err
	}
	// A delivery never changes lane, so the lane read above stays right.
	l, err := s.lockLane(ctx, tx, lane, false)
	if err != nil {
		return store.Delivery{}, laneRow{}, err
	}
	d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+columns+` FROM deliveries WHERE id = $1 FOR UPDATE`, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Delivery{}, laneRow{}, store.ErrNotFound
	}
	return d, l, err
}

// Replay implements store.Admin.
func (s *Store) Replay(ctx context.Context, id string) (store.Delivery, error) {
	n, ok := store.ParseID(id)
	if !ok {
		return store.Delivery{}, fmt.Errorf("replay %s: %w", id, store.ErrNotFound)
	}
	var d store.Delivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, lane, err := s.lockDelivery(ctx, tx, n)
		if err != nil {
			return err
		}
		target := n
		if cur.BatchID != "" {
			// A member is sent only as part of its batch (same lane).
			target, _ = store.ParseID(cur.BatchID)
			cur, err = scanDelivery(tx.QueryRow(ctx, `SELECT `+columns+` FROM deliveries WHERE id = $1 FOR UPDATE`, target))
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		if cur.State != store.StateDead {
			return fmt.Errorf("%s is %s: %w", cur.ID, cur.State, store.ErrConflict)
		}
		// A new Seq, taken under the lane's lock: the back of the group.
		d, err = scanDelivery(tx.QueryRow(ctx, `UPDATE deliveries SET state = 'queued', seq = nextval('delivery_ids'),
			attempts = 0, next_attempt_at = $1, queued_at = $1, done_at = NULL, updated_at = $1 WHERE id = $2
			RETURNING `+columns, lane.now, target))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'batched', done_at = NULL, updated_at = $1
			WHERE batch_id = $2`, lane.now, target)
		return err
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("replay %s: %w", id, err)
	}
	return d, nil
}

// Delete implements store.Admin.
func (s *Store) Delete(ctx context.Context, id string) error {
	n, ok := store.ParseID(id)
	if !ok {
		return fmt.Errorf("delete %s: %w", id, store.ErrNotFound)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, _, err := s.lockDelivery(ctx, tx, n)
		if err != nil {
			return err
		}
		if cur.State == store.StateSending {
			return fmt.Errorf("in flight: %w", store.ErrConflict)
		}
		if cur.BatchID != "" {
			return fmt.Errorf("a member of batch %s: %w", cur.BatchID, store.ErrConflict)
		}
		// ON DELETE CASCADE removes a batch's members.
		_, err = tx.Exec(ctx, `DELETE FROM deliveries WHERE id = $1`, n)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// pruneChunk bounds the rows one Prune transaction deletes, so that no
// transaction holds many row locks or runs long.
const pruneChunk = 1000

// Prune implements store.Admin. It takes no lane lock: it deletes only
// finished deliveries, which no lane writer but Replay and Delete touch, and
// it skips rows they hold (SKIP LOCKED) rather than wait for them; a skipped
// row is left for the next Prune. Each chunk commits on its own, so an error
// may leave earlier chunks deleted; the count returned covers them.
func (s *Store) Prune(ctx context.Context, r store.Retention) (int, error) {
	if r.Done < 0 || r.Dead < 0 || r.Threads < 0 {
		return 0, errors.New("prune: negative retention")
	}
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	r = r.WithDefaults()
	now, err := s.clock(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("prune: %w", s.closedErr(err))
	}
	doneBefore, deadBefore, threadsBefore := now.Add(-r.Done), now.Add(-r.Dead), now.Add(-r.Threads)
	total := 0
	// Plain deliveries and batch members first, then batches (whose members
	// are gone by then), so that every deleted row is counted: rows removed
	// by ON DELETE CASCADE are not.
	for _, isBatch := range []bool{false, true} {
		for {
			tag, err := s.pool.Exec(ctx, `DELETE FROM deliveries WHERE id IN (
				SELECT id FROM deliveries
				WHERE is_batch = $1 AND (
					(state IN ('done', 'dropped') AND done_at < $2) OR
					(state = 'dead' AND done_at < $3))
				LIMIT $4
				FOR UPDATE SKIP LOCKED)`,
				isBatch, doneBefore, deadBefore, pruneChunk)
			if err != nil {
				return total, fmt.Errorf("prune: %w", s.closedErr(err))
			}
			total += int(tag.RowsAffected())
			if tag.RowsAffected() < pruneChunk {
				break
			}
		}
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the stale threads first (in name order, as Enqueue does),
		// then look for deliveries referring to them in a snapshot taken
		// after the locks: an Enqueue that held a thread's row (and may have
		// left its updated_at alone, see store.ThreadTouch) has committed
		// by then, and its deliveries are seen; one that comes later waits
		// for this transaction and then inserts the thread anew. The NOT
		// EXISTS is one hash anti-join over the deliveries (there is no
		// index on relay_thread, see 0001_init.sql).
		rows, err := tx.Query(ctx, `SELECT relay_name FROM threads WHERE updated_at < $1
			ORDER BY relay_name FOR UPDATE`, threadsBefore)
		if err != nil {
			return err
		}
		stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(stale) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM threads WHERE relay_name = ANY($1) AND NOT EXISTS (
				SELECT 1 FROM deliveries WHERE relay_thread = threads.relay_name)`, stale); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM incidents WHERE updated_at < $1`, threadsBefore)
		return err
	})
	if err != nil {
		return total, fmt.Errorf("prune threads: %w", err)
	}
	return total, nil
}

// stateLiterals writes known states as SQL literals, so that the planner
// can use a partial index on one of them (deliveries_dead_list) in a generic
// plan too; ok is false when states is empty or holds another value.
func stateLiterals(states []store.State) (string, bool) {
	var lits []string
	for _, st := range states {
		switch st {
		case store.StateQueued, store.StateSending, store.StateBatched, store.StateDone, store.StateDead, store.StateDropped:
			lits = append(lits, "'"+string(st)+"'")
		default:
			return "", false
		}
	}
	return strings.Join(lits, ", "), len(lits) > 0
}
