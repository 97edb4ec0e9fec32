package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// ArmEscalations implements store.Escalations.
func (s *Store) ArmEscalations(ctx context.Context, timers []store.NewEscalation) error {
	if len(timers) == 0 {
		return nil
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		for _, t := range timers {
			if _, err := tx.ExecContext(ctx, `DELETE FROM escalations WHERE key = ? AND incident < ?`, t.Key, t.Incident); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO escalations
				(id, key, incident, route, rule, space, thread_key, text, stale_after, due, seen, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET seen = excluded.seen`,
				t.ID, t.Key, t.Incident, t.Route, t.Rule, t.Space, t.ThreadKey, t.Text, int64(t.StaleAfter),
				now+int64(t.After), now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("arm escalations: %w", err)
	}
	return nil
}

// CancelEscalations implements store.Escalations.
func (s *Store) CancelEscalations(ctx context.Context, key string) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if err := dropEscalationReplies(ctx, tx, now, `SELECT delivery FROM escalations WHERE key = ? AND delivery <> 0`, key); err != nil {
			return err
		}
		// A fired timer whose reply is not recorded yet is marked, so that
		// EscalationSent drops the reply; the rest go.
		if _, err := tx.ExecContext(ctx, `UPDATE escalations SET cancelled = 1 WHERE key = ? AND fired AND delivery = 0`, key); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM escalations WHERE key = ? AND NOT (fired AND delivery = 0)`, key)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cancel escalations: %w", err)
	}
	return int(n), nil
}

// dropEscalationReplies drops the queued deliveries that query selects.
func dropEscalationReplies(ctx context.Context, tx *wtx, now int64, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'dropped', last_error = ?, done_at = ?, updated_at = ?
			WHERE id = ? AND state = 'queued'`, store.EscalationCancelled, now, now, id); err != nil {
			return err
		}
	}
	return nil
}

// ClaimEscalations implements store.Escalations.
func (s *Store) ClaimEscalations(ctx context.Context, max int) ([]store.Escalation, error) {
	var out []store.Escalation
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		out = out[:0]
		if _, err := tx.ExecContext(ctx, `UPDATE escalations SET cancelled = 1
			WHERE NOT fired AND NOT cancelled AND seen + stale_after < ?`, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM escalations WHERE seen + 2 * stale_after < ?`, now); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE escalations SET fired = 1
			WHERE id IN (SELECT id FROM escalations WHERE NOT fired AND NOT cancelled AND due <= ? ORDER BY due, id LIMIT ?)
			RETURNING `+escalationColumns, now, max)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEscalation(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim escalations: %w", err)
	}
	return out, nil
}

// EscalationSent implements store.Escalations.
func (s *Store) EscalationSent(ctx context.Context, id, delivery string) error {
	d, ok := store.ParseID(delivery)
	if !ok {
		return fmt.Errorf("escalation %s sent: delivery %q: %w", id, delivery, store.ErrNotFound)
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		var cancelled bool
		err := tx.QueryRowContext(ctx, `UPDATE escalations SET delivery = ? WHERE id = ? RETURNING cancelled`, d, id).Scan(&cancelled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			cancelled = true
		case err != nil:
			return err
		}
		if !cancelled {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM escalations WHERE id = ?`, id); err != nil {
			return err
		}
		return dropEscalationReplies(ctx, tx, now, `SELECT ?`, d)
	})
	if err != nil {
		return fmt.Errorf("escalation %s sent: %w", id, err)
	}
	return nil
}

// PendingEscalations implements store.Escalations.
func (s *Store) PendingEscalations(ctx context.Context) ([]store.Escalation, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	now := s.now().UnixNano()
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE NOT fired AND NOT cancelled AND seen + stale_after >= ? ORDER BY due, id`, now)
	if err != nil {
		return nil, fmt.Errorf("pending escalations: %w", err)
	}
	defer rows.Close()
	var out []store.Escalation
	for rows.Next() {
		e, err := scanEscalation(rows)
		if err != nil {
			return nil, fmt.Errorf("pending escalations: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending escalations: %w", err)
	}
	return out, nil
}

const escalationColumns = `id, key, incident, route, rule, space, thread_key, text, stale_after, due, seen, created_at, fired, delivery`

func scanEscalation(r interface{ Scan(...any) error }) (store.Escalation, error) {
	var (
		e                  store.Escalation
		stale              int64
		due, seen, created int64
		delivery           int64
	)
	err := r.Scan(&e.ID, &e.Key, &e.Incident, &e.Route, &e.Rule, &e.Space, &e.ThreadKey, &e.Text, &stale,
		&due, &seen, &created, &e.Fired, &delivery)
	e.StaleAfter = time.Duration(stale)
	e.Due, e.Seen, e.CreatedAt = fromNanos(due), fromNanos(seen), fromNanos(created)
	if delivery != 0 {
		e.Delivery = store.FormatID(delivery)
	}
	return e, err
}
