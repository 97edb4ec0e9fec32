package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gchatkit/gchat/internal/store"
)

// Get implements store.Admin.
func (s *Store) Get(ctx context.Context, id string) (store.Delivery, error) {
	if err := s.readable(); err != nil {
		return store.Delivery{}, err
	}
	n, ok := store.ParseID(id)
	if !ok {
		return store.Delivery{}, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	d, err := scanDelivery(s.rdb.QueryRowContext(ctx, `SELECT `+columns+` FROM deliveries WHERE id = ?`, n))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delivery{}, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get %s: %w", id, err)
	}
	return d, nil
}

// List implements store.Admin.
func (s *Store) List(ctx context.Context, f store.Filter) ([]store.Delivery, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
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
	if lit, ok := stateLiterals(f.States); ok && len(f.States) == 1 {
		where = append(where, "state = "+lit) // the form a partial index's WHERE matches
	} else if ok {
		where = append(where, "state IN ("+lit+")")
	} else if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, st := range f.States {
			marks[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	if len(f.States) > 0 && !slices.ContainsFunc(f.States, func(st store.State) bool {
		return st != store.StateQueued && st != store.StateSending
	}) {
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
		// The message is a BLOB: instr compares bytes.
		add("instr(message, CAST(? AS BLOB)) > 0", f.Text)
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
	q += ` ORDER BY ` + order + ` LIMIT ?`
	args = append(args, limit)
	ds, err := queryDeliveries(ctx, s.rdb, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	return ds, nil
}

// Replay implements store.Admin.
func (s *Store) Replay(ctx context.Context, id string) (store.Delivery, error) {
	n, ok := store.ParseID(id)
	if !ok {
		return store.Delivery{}, fmt.Errorf("replay %s: %w", id, store.ErrNotFound)
	}
	var d store.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		cur, err := getDelivery(ctx, tx, n)
		if err != nil {
			return err
		}
		target := n
		if cur.BatchID != "" {
			// A member is sent only as part of its batch.
			target, _ = store.ParseID(cur.BatchID)
			if cur, err = getDelivery(ctx, tx, target); err != nil {
				return err
			}
		}
		if cur.State != store.StateDead {
			return fmt.Errorf("%s is %s: %w", cur.ID, cur.State, store.ErrConflict)
		}
		seq := tx.nextIDs(1)
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', seq = ?1, attempts = 0,
			next_attempt_at = ?2, queued_at = ?2, done_at = 0, updated_at = ?2 WHERE id = ?3`, seq, now, target); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'batched', done_at = 0, updated_at = ?
			WHERE batch_id = ?`, now, target); err != nil {
			return err
		}
		d, err = getDelivery(ctx, tx, target)
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
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		cur, err := getDelivery(ctx, tx, n)
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
		_, err = tx.ExecContext(ctx, `DELETE FROM deliveries WHERE id = ?`, n)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// pruneChunk bounds the rows one Prune transaction deletes, so that the
// writer is never held long.
const pruneChunk = 1000

// Prune implements store.Admin.
func (s *Store) Prune(ctx context.Context, r store.Retention) (int, error) {
	if r.Done < 0 || r.Dead < 0 || r.Threads < 0 {
		return 0, errors.New("prune: negative retention")
	}
	r = r.WithDefaults()
	total := 0
	// Plain deliveries and batch members first, then batches (whose members
	// are gone by then), so that every deleted row is counted.
	for _, isBatch := range []int{0, 1} {
		for {
			var n int64
			err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
				res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE id IN (
					SELECT id FROM deliveries
					WHERE is_batch = ?1 AND (
						(state IN ('done', 'dropped') AND done_at < ?2) OR
						(state = 'dead' AND done_at < ?3))
					LIMIT ?4)`,
					isBatch, now-r.Done.Nanoseconds(), now-r.Dead.Nanoseconds(), pruneChunk)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return total, fmt.Errorf("prune: %w", err)
			}
			total += int(n)
			if n < pruneChunk {
				break
			}
		}
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		// One pass over the deliveries (NOT IN builds a transient index)
		// instead of an index on relay_thread that every Enqueue would pay.
		// Forget what the writer remembers of touched threads: a pruned
		// thread must be written again by the next Enqueue that uses it.
		clear(tx.touched)
		_, err := tx.ExecContext(ctx, `DELETE FROM threads WHERE updated_at < ? AND relay_name NOT IN (
			SELECT relay_thread FROM deliveries WHERE relay_thread <> '')`, now-r.Threads.Nanoseconds())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM incidents WHERE updated_at < ?`, now-r.Threads.Nanoseconds())
		return err
	})
	if err != nil {
		return total, fmt.Errorf("prune threads: %w", err)
	}
	return total, nil
}

// stateLiterals writes known states as SQL literals, so that the planner
// can use a partial index on one of them (deliveries_dead_list: a bound
// parameter would not match its WHERE); ok is false when states is empty
// or holds another value.
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
