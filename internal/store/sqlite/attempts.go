package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// attemptColumns are the attempts table's columns, in the order
// insertAttemptSQL takes them and scanAttempt reads them.
const attemptColumns = `delivery_id, n, try, started_at, ended_at, duration_ns, owner, request_id,
	state, status, error, google_message, rescued`

// insertAttemptSQL appends an attempt to delivery ?1's history as its next n.
const insertAttemptSQL = `INSERT INTO attempts (` + attemptColumns + `)
	VALUES (?1, coalesce((SELECT max(n) FROM attempts WHERE delivery_id = ?1), 0) + 1,
		?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0)`

// insertAttempt records, in Finish's transaction, the attempt of cur (the
// delivery as claimed, before the outcome changed it) that ended with out
// at now. A sending delivery's updated_at is its claim's time: nothing but
// Claim makes a delivery sending, and nothing changes it while it is.
func insertAttempt(ctx context.Context, tx *wtx, n int64, cur store.Delivery, owner string, out store.Outcome, now int64) error {
	_, err := tx.ExecContext(ctx, insertAttemptSQL, n, cur.Attempts, toNanos(cur.UpdatedAt), now,
		out.Duration.Nanoseconds(), owner, cur.RequestID, string(out.State), out.Status, out.Error, out.GoogleMessage)
	return err
}

// rescuedAttemptsSQL records the attempts of sending deliveries that a
// rescue returns to the queue, under their lane's owner (still the previous
// one when it runs), ended at ?1; the caller adds the WHERE clause, which
// names the sending deliveries d. It must run before they are requeued.
const rescuedAttemptsSQL = `INSERT INTO attempts (` + attemptColumns + `)
	SELECT d.id, coalesce((SELECT max(a.n) FROM attempts a WHERE a.delivery_id = d.id), 0) + 1,
		d.attempts, d.updated_at, ?1, 0, l.owner, d.request_id, 'queued', 0, ?2, '', 1
	FROM deliveries d JOIN lanes l ON l.lane = d.lane `

// Attempts implements store.Admin.
func (s *Store) Attempts(ctx context.Context, id string) ([]store.Attempt, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	n, ok := store.ParseID(id)
	if !ok {
		return nil, fmt.Errorf("attempts of %s: %w", id, store.ErrNotFound)
	}
	// One snapshot for both reads: the delivery, then its attempts (a
	// batch member's are its batch's).
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", id, err)
	}
	defer tx.Rollback()
	var of int64
	err = tx.QueryRowContext(ctx, `SELECT coalesce(batch_id, id) FROM deliveries WHERE id = ?`, n).Scan(&of)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attempts of %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE delivery_id = ? ORDER BY n`, of)
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", id, err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var (
			a                        store.Attempt
			delivery, started, ended int64
			duration                 int64
			state                    string
		)
		if err := rows.Scan(&delivery, &a.N, &a.Try, &started, &ended, &duration, &a.Owner, &a.RequestID,
			&state, &a.Status, &a.Error, &a.GoogleMessage, &a.Rescued); err != nil {
			return nil, fmt.Errorf("attempts of %s: %w", id, err)
		}
		a.StartedAt, a.EndedAt, a.Duration, a.State = fromNanos(started), fromNanos(ended), time.Duration(duration), store.State(state)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", id, err)
	}
	return out, nil
}

// deadLettersSQL counts dead letters by relay space from the partial index
// deliveries_dead alone (0006_attempts.sql), in its order. The index is
// named: without statistics the planner would rather walk deliveries_state
// and read every dead row.
const deadLettersSQL = `SELECT space, count(*) FROM deliveries INDEXED BY deliveries_dead
	WHERE state = 'dead' AND is_batch = 0 GROUP BY space`

// DeadLetters implements store.Admin.
func (s *Store) DeadLetters(ctx context.Context) (map[string]int, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, deadLettersSQL)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var space string
		var n int
		if err := rows.Scan(&space, &n); err != nil {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		out[space] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}
