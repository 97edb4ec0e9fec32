package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// ArmEscalations implements store.Escalations.
func (s *Store) ArmEscalations(ctx context.Context, timers []store.NewEscalation) error {
	if len(timers) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range timers {
			if _, err := tx.Exec(ctx, `DELETE FROM escalations WHERE key = $1 AND incident < $2`, textKey(t.Key), t.Incident); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO escalations
				(id, key, incident, route, rule, space, thread_key, text, stale_after, due, seen, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
				ON CONFLICT (id) DO UPDATE SET seen = excluded.seen`,
				t.ID, textKey(t.Key), t.Incident, t.Route, t.Rule, t.Space, t.ThreadKey, t.Text, int64(t.StaleAfter),
				now.Add(t.After), now); err != nil {
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
	key = textKey(key)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		// Locks the key's timers first, so that EscalationSent of one of
		// them runs before or after, never between.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM escalations WHERE key = $1 ORDER BY id FOR UPDATE`, key); err != nil {
			return err
		}
		if err := dropEscalationReplies(ctx, tx, now, `SELECT delivery FROM escalations WHERE key = $1 AND delivery <> 0`, key); err != nil {
			return err
		}
		// A fired timer whose reply is not recorded yet is marked, so that
		// EscalationSent drops the reply; the rest go.
		if _, err := tx.Exec(ctx, `UPDATE escalations SET cancelled = true WHERE key = $1 AND fired AND delivery = 0`, key); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM escalations WHERE key = $1 AND NOT (fired AND delivery = 0)`, key)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cancel escalations: %w", err)
	}
	return int(n), nil
}

// dropEscalationReplies drops the queued deliveries that query selects.
func dropEscalationReplies(ctx context.Context, tx pgx.Tx, now time.Time, query string, args ...any) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'dropped', last_error = $1, done_at = $2, updated_at = $2
		WHERE id = ANY($3) AND state = 'queued'`, store.EscalationCancelled, now, ids)
	return err
}

// ClaimEscalations implements store.Escalations. The claim is one UPDATE …
// RETURNING over rows locked with SKIP LOCKED, so replicas claiming at the
// same time take different timers and none takes one twice.
func (s *Store) ClaimEscalations(ctx context.Context, max int) ([]store.Escalation, error) {
	var out []store.Escalation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE escalations SET cancelled = true
			WHERE NOT fired AND NOT cancelled AND seen + stale_after * interval '1 microsecond' / 1000 < $1`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM escalations WHERE seen + stale_after * interval '1 microsecond' / 500 < $1`, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE escalations SET fired = true
			WHERE id IN (SELECT id FROM escalations WHERE NOT fired AND NOT cancelled AND due <= $1
				ORDER BY due, id LIMIT $2 FOR UPDATE SKIP LOCKED)
			AND NOT fired AND NOT cancelled
			RETURNING `+escalationColumns, now, max)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scanEscalation)
		return err
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		var cancelled bool
		err = tx.QueryRow(ctx, `UPDATE escalations SET delivery = $1 WHERE id = $2 RETURNING cancelled`, d, id).Scan(&cancelled)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			cancelled = true
		case err != nil:
			return err
		}
		if !cancelled {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM escalations WHERE id = $1`, id); err != nil {
			return err
		}
		return dropEscalationReplies(ctx, tx, now, `SELECT $1::bigint`, d)
	})
	if err != nil {
		return fmt.Errorf("escalation %s sent: %w", id, err)
	}
	return nil
}

// PendingEscalations implements store.Escalations.
func (s *Store) PendingEscalations(ctx context.Context) ([]store.Escalation, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	now, err := s.clock(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("pending escalations: %w", s.closedErr(err))
	}
	rows, err := s.pool.Query(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE NOT fired AND NOT cancelled AND seen + stale_after * interval '1 microsecond' / 1000 >= $1
		ORDER BY due, id`, now)
	if err != nil {
		return nil, fmt.Errorf("pending escalations: %w", s.closedErr(err))
	}
	out, err := pgx.CollectRows(rows, scanEscalation)
	if err != nil {
		return nil, fmt.Errorf("pending escalations: %w", s.closedErr(err))
	}
	return out, nil
}

const escalationColumns = `id, key, incident, route, rule, space, thread_key, text, stale_after, due, seen, created_at, fired, delivery`

func scanEscalation(r pgx.CollectableRow) (store.Escalation, error) {
	var (
		e        store.Escalation
		stale    int64
		delivery int64
	)
	err := r.Scan(&e.ID, &e.Key, &e.Incident, &e.Route, &e.Rule, &e.Space, &e.ThreadKey, &e.Text, &stale,
		&e.Due, &e.Seen, &e.CreatedAt, &e.Fired, &delivery)
	e.StaleAfter = time.Duration(stale)
	e.Key = keyFromText(e.Key)
	e.Due, e.Seen, e.CreatedAt = e.Due.UTC(), e.Seen.UTC(), e.CreatedAt.UTC()
	if delivery != 0 {
		e.Delivery = store.FormatID(delivery)
	}
	return e, err
}
