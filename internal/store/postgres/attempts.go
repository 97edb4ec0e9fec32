package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// attemptColumns are the attempts table's columns, in the order
// insertAttemptSQL takes them and Attempts reads them.
const attemptColumns = `delivery_id, n, try, started_at, ended_at, duration, owner, request_id,
	state, status, error, google_message, rescued`

// insertAttemptSQL appends an attempt to delivery $1's history as its next n.
const insertAttemptSQL = `INSERT INTO attempts (` + attemptColumns + `)
	VALUES ($1, coalesce((SELECT max(n) FROM attempts WHERE delivery_id = $1), 0) + 1,
		$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, false)`

// insertAttempt records, in Finish's transaction (which holds the lane's
// lock), the attempt of cur (the delivery as claimed, before the outcome
// changed it) that ended with out at now. A sending delivery's updated_at is
// its claim's time: nothing but Claim makes a delivery sending, and nothing
// changes it while it is.
func insertAttempt(ctx context.Context, tx pgx.Tx, n int64, cur store.Delivery, owner string, out store.Outcome, now time.Time) error {
	_, err := tx.Exec(ctx, insertAttemptSQL, n, cur.Attempts, cur.UpdatedAt, now,
		pgtype.Interval{Microseconds: out.Duration.Microseconds(), Valid: true}, owner,
		cur.RequestID, string(out.State), out.Status, cleanText(out.Error), out.GoogleMessage)
	return err
}

// recordRescued records the attempts of the lane's sending deliveries, which
// a rescue is about to return to the queue, under owner (the lease's
// previous owner), ended at now. It must run before they are requeued, in
// the transaction that holds the lane's lock.
func recordRescued(ctx context.Context, tx pgx.Tx, lane, owner string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO attempts (`+attemptColumns+`)
		SELECT d.id, coalesce((SELECT max(a.n) FROM attempts a WHERE a.delivery_id = d.id), 0) + 1,
			d.attempts, d.updated_at, $1, interval '0', $2, d.request_id, 'queued', 0, $3, '', true
		FROM deliveries d WHERE d.lane = $4 AND d.state = 'sending'`, now, owner, store.Rescued, lane)
	return err
}

// Attempts implements store.Admin.
func (s *Store) Attempts(ctx context.Context, id string) ([]store.Attempt, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	n, ok := store.ParseID(id)
	if !ok {
		return nil, fmt.Errorf("attempts of %s: %w", id, store.ErrNotFound)
	}
	var out []store.Attempt
	// One snapshot for both reads: the delivery, then its attempts (a
	// batch member's are its batch's).
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var of int64
		err := tx.QueryRow(ctx, `SELECT coalesce(batch_id, id) FROM deliveries WHERE id = $1`, n).Scan(&of)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE delivery_id = $1 ORDER BY n`, of)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Attempt, error) {
			var (
				a        store.Attempt
				delivery int64
				duration pgtype.Interval
				state    string
			)
			err := row.Scan(&delivery, &a.N, &a.Try, &a.StartedAt, &a.EndedAt, &duration, &a.Owner, &a.RequestID,
				&state, &a.Status, &a.Error, &a.GoogleMessage, &a.Rescued)
			a.StartedAt, a.EndedAt, a.State = a.StartedAt.UTC(), a.EndedAt.UTC(), store.State(state)
			// Written from a time.Duration: microseconds only, no days or months.
			a.Duration = time.Duration(duration.Microseconds) * time.Microsecond
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", id, s.closedErr(err))
	}
	return out, nil
}

// deadLettersSQL counts dead letters by relay space from the partial index
// deliveries_dead (0005_attempts.sql): an index-only scan once the table is
// vacuumed, whose cost grows with the dead letters, not the deliveries.
const deadLettersSQL = `SELECT space, count(*) FROM deliveries
	WHERE state = 'dead' AND NOT is_batch GROUP BY space`

// DeadLetters implements store.Admin.
func (s *Store) DeadLetters(ctx context.Context) (map[string]int, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.pool.Query(ctx, deadLettersSQL)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", s.closedErr(err))
	}
	out := map[string]int{}
	var space string
	var count int
	_, err = pgx.ForEachRow(rows, []any{&space, &count}, func() error {
		out[space] = count
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", s.closedErr(err))
	}
	return out, nil
}
