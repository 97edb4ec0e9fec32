package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/gchatkit/gchat/internal/store"
)

// AcquireLease implements store.Lanes.
func (s *Store) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if req.Lane == "" || req.Owner == "" || req.TTL <= 0 {
		return store.Lease{}, errors.New("acquire lease: lane, owner and a positive TTL are required")
	}
	var lease store.Lease
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if err := ensureLane(ctx, tx, req.Lane); err != nil {
			return err
		}
		var (
			owner, reason                       string
			token, until, lastSend, pausedUntil int64
		)
		if err := tx.QueryRowContext(ctx, `SELECT owner, token, lease_until, last_send, paused_until, pause_reason
			FROM lanes WHERE lane = ?`, req.Lane).Scan(&owner, &token, &until, &lastSend, &pausedUntil, &reason); err != nil {
			return err
		}
		switch {
		case owner == req.Owner:
			// Renewal, even after expiry: no one else took the lane, so
			// no one else can have sent on it.
		case owner == "" || until <= now:
			token++
			if err := requeueSending(ctx, tx, req.Lane, now); err != nil {
				return err
			}
		default:
			return fmt.Errorf("lane %s: %w", req.Lane, store.ErrLeaseHeld)
		}
		until = now + req.TTL.Nanoseconds()
		if req.Send {
			lastSend = now
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lanes SET owner = ?, token = ?, lease_until = ?, last_send = ?
			WHERE lane = ?`, req.Owner, token, until, lastSend, req.Lane); err != nil {
			return err
		}
		lease = store.Lease{
			Lane: req.Lane, Owner: req.Owner, Token: token,
			Granted: fromNanos(now), Until: fromNanos(until), LastSend: fromNanos(lastSend),
			Pause: store.Pause{Until: fromNanos(pausedUntil), Reason: reason},
		}
		return nil
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	return lease, nil
}

// requeueSending returns the lane's sending deliveries to queued: their owner
// lost or gave up the lane. They keep their attempt count and RequestID; the
// attempt is recorded as ambiguous (store.Rescued).
func requeueSending(ctx context.Context, tx *wtx, lane string, now int64) error {
	if _, err := tx.ExecContext(ctx, rescuedAttemptsSQL+`WHERE d.lane = ?3 AND d.state IN ('queued', 'sending') AND d.state = 'sending'`,
		now, store.Rescued, lane); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', updated_at = ?, last_status = 0, last_error = ?
		WHERE lane = ? AND state IN ('queued', 'sending') AND state = 'sending'`, now, store.Rescued, lane)
	return err
}

// rescue returns what the processes before this one left claimed: Open
// calls it holding the lock file, so those processes have ended and their
// leases are dead. Every lease is released (the next holder's token goes
// up) and every sending delivery goes back to the queue as an ambiguous
// attempt, as a takeover would do after the leases expired.
func (s *Store) rescue(ctx context.Context) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if _, err := tx.execOnce(ctx, rescuedAttemptsSQL+`WHERE d.state IN ('queued', 'sending') AND d.state = 'sending'`,
			now, store.Rescued); err != nil {
			return err
		}
		if _, err := tx.execOnce(ctx, `UPDATE deliveries SET state = 'queued', updated_at = ?, last_status = 0, last_error = ?
			WHERE state IN ('queued', 'sending') AND state = 'sending'`, now, store.Rescued); err != nil {
			return err
		}
		_, err := tx.execOnce(ctx, `UPDATE lanes SET owner = '', lease_until = ? WHERE owner != ''`, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("rescue: %w", err)
	}
	return nil
}

// ReleaseLease implements store.Lanes.
func (s *Store) ReleaseLease(ctx context.Context, lease store.Lease) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if err := checkLease(ctx, tx, lease, now, false); err != nil {
			return err
		}
		if err := requeueSending(ctx, tx, lease.Lane, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE lanes SET owner = '', lease_until = ? WHERE lane = ?`, now, lease.Lane)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	return nil
}

// PauseLane implements store.Lanes.
func (s *Store) PauseLane(ctx context.Context, lane string, p store.Pause) error {
	if lane == "" {
		return errors.New("pause lane: lane is required")
	}
	if p.Reason == "" && !p.Until.IsZero() {
		return errors.New("pause lane: a pause needs a reason")
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if err := ensureLane(ctx, tx, lane); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE lanes SET paused_until = ?, pause_reason = ? WHERE lane = ?`,
			toNanos(p.Until), p.Reason, lane)
		return err
	})
	if err != nil {
		return fmt.Errorf("pause lane %s: %w", lane, err)
	}
	return nil
}

// LaneStates implements store.Lanes.
func (s *Store) LaneStates(ctx context.Context) ([]store.LaneState, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT lane, owner, token, lease_until, last_send, paused_until, pause_reason, pending
		FROM lanes ORDER BY lane`)
	if err != nil {
		return nil, fmt.Errorf("lane states: %w", err)
	}
	defer rows.Close()
	var out []store.LaneState
	for rows.Next() {
		var l store.LaneState
		var until, lastSend, pausedUntil int64
		if err := rows.Scan(&l.Lane, &l.Owner, &l.Token, &until, &lastSend, &pausedUntil, &l.Pause.Reason, &l.Pending); err != nil {
			return nil, fmt.Errorf("lane states: %w", err)
		}
		l.LeaseUntil, l.LastSend, l.Pause.Until = fromNanos(until), fromNanos(lastSend), fromNanos(pausedUntil)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lane states: %w", err)
	}
	return out, nil
}
