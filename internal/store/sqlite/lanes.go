package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// AcquireLease implements store.Lanes.
func (s *Store) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if req.Lane == "" || req.Owner == "" || req.TTL <= 0 {
		return store.Lease{}, errors.New("acquire lease: lane, owner and a positive TTL are required")
	}
	var lease store.Lease
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) (err error) {
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
			if free := time.Duration(now - until); req.MinFree > 0 && until != 0 && free < req.MinFree {
				return fmt.Errorf("lane %s: free for %s, under %s: %w", req.Lane, free, req.MinFree, store.ErrLeaseHeld)
			}
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
		lease.Spaces, err = spacePauses(ctx, tx, req.Lane)
		return err
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

// spacePauses reads the pauses recorded for relay spaces of the lane.
func spacePauses(ctx context.Context, tx *wtx, lane string) ([]store.SpacePause, error) {
	rows, err := tx.QueryContext(ctx, `SELECT space, paused_until, pause_reason FROM spaces
		WHERE lane = ? AND pause_reason <> '' ORDER BY space`, lane)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.SpacePause
	for rows.Next() {
		p := store.SpacePause{Lane: lane}
		var until int64
		if err := rows.Scan(&p.Space, &until, &p.Pause.Reason); err != nil {
			return nil, err
		}
		p.Pause.Until = fromNanos(until)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PauseSpace implements store.Lanes.
func (s *Store) PauseSpace(ctx context.Context, p store.SpacePause) error {
	if p.Space == "" {
		return errors.New("pause space: space is required")
	}
	if p.Pause.Reason == "" && !p.Pause.Until.IsZero() {
		return errors.New("pause space: a pause needs a reason")
	}
	if p.Pause.Reason != "" && p.Lane == "" {
		return errors.New("pause space: lane is required")
	}
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if p.Pause.Reason == "" {
			_, err := tx.ExecContext(ctx, `UPDATE spaces SET paused_until = 0, pause_reason = '' WHERE space = ?`, p.Space)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO spaces (space, lane, paused_until, pause_reason) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (space) DO UPDATE SET lane = ?2, paused_until = ?3, pause_reason = ?4`,
			p.Space, p.Lane, toNanos(p.Pause.Until), p.Pause.Reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("pause space %s: %w", p.Space, err)
	}
	return nil
}

// SpaceStates implements store.Lanes.
func (s *Store) SpaceStates(ctx context.Context) ([]store.SpaceState, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT space, lane, paused_until, pause_reason, pending FROM spaces ORDER BY space`)
	if err != nil {
		return nil, fmt.Errorf("space states: %w", err)
	}
	defer rows.Close()
	var out []store.SpaceState
	for rows.Next() {
		var st store.SpaceState
		var until int64
		if err := rows.Scan(&st.Space, &st.Lane, &until, &st.Pause.Reason, &st.Pending); err != nil {
			return nil, fmt.Errorf("space states: %w", err)
		}
		st.Pause.Until = fromNanos(until)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("space states: %w", err)
	}
	return out, nil
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
