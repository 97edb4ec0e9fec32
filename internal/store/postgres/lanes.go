package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// laneRow is a lanes row as read under its row lock, with the store's time
// read after the lock was granted.
type laneRow struct {
	owner      string
	token      int64
	leaseUntil time.Time
	lastSend   time.Time
	pause      store.Pause
	pending    int
	now        time.Time
}

// errNoLane: the lane has no row, and lockLane was not asked to create one.
var errNoLane = errors.New("no such lane")

// lockLaneSQL locks a lane's row until the transaction ends and reads the
// store's time. The lock is in a subquery so that clock_timestamp(), in the
// outer select list, is evaluated on the row the subquery returns, that is
// after the lock was granted (a select list beside FOR UPDATE may be
// evaluated before the wait). FOR NO KEY UPDATE excludes the other lane
// writers but not the foreign-key checks of deliveries' inserts.
const lockLaneSQL = `SELECT l.owner, l.token, l.lease_until, l.last_send, l.paused_until, l.pause_reason, l.pending,
		coalesce($2::timestamptz, clock_timestamp())
	FROM (SELECT owner, token, lease_until, last_send, paused_until, pause_reason, pending
		FROM lanes WHERE lane = $1 FOR NO KEY UPDATE) l`

// lockLane locks the lane's row (see lockLaneSQL), creating it first if
// create is set and it is missing; else a missing lane is errNoLane.
func (s *Store) lockLane(ctx context.Context, tx pgx.Tx, lane string, create bool) (laneRow, error) {
	for {
		var (
			r                            laneRow
			until, lastSend, pausedUntil *time.Time
		)
		err := tx.QueryRow(ctx, lockLaneSQL, lane, s.fixedNow()).Scan(&r.owner, &r.token, &until, &lastSend,
			&pausedUntil, &r.pause.Reason, &r.pending, &r.now)
		if err == nil {
			r.leaseUntil, r.lastSend, r.pause.Until, r.now = fromNull(until), fromNull(lastSend), fromNull(pausedUntil), r.now.UTC()
			return r, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return laneRow{}, err
		}
		if !create {
			return laneRow{}, errNoLane
		}
		// A concurrent creator may win; then the insert does nothing and the
		// next round locks its row.
		if _, err := tx.Exec(ctx, `INSERT INTO lanes (lane) VALUES ($1) ON CONFLICT (lane) DO NOTHING`, lane); err != nil {
			return laneRow{}, err
		}
		create = false
	}
}

// lockLease locks the lease's lane and returns ErrLeaseLost unless the lease
// is the lane's current one and, when live is set, unexpired.
func (s *Store) lockLease(ctx context.Context, tx pgx.Tx, lease store.Lease, live bool) (laneRow, error) {
	r, err := s.lockLane(ctx, tx, lease.Lane, false)
	if errors.Is(err, errNoLane) {
		return r, fmt.Errorf("lane %s: %w", lease.Lane, store.ErrLeaseLost)
	}
	if err != nil {
		return r, err
	}
	if r.owner == "" || r.owner != lease.Owner || r.token != lease.Token {
		return r, fmt.Errorf("lane %s, token %d: %w", lease.Lane, lease.Token, store.ErrLeaseLost)
	}
	if live && !r.leaseUntil.After(r.now) {
		return r, fmt.Errorf("lane %s, token %d: expired: %w", lease.Lane, lease.Token, store.ErrLeaseLost)
	}
	return r, nil
}

// AcquireLease implements store.Lanes.
func (s *Store) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if req.Lane == "" || req.Owner == "" || req.TTL <= 0 {
		return store.Lease{}, errors.New("acquire lease: lane, owner and a positive TTL are required")
	}
	if err := s.leaseHeld(ctx, req); err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	var lease store.Lease
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		r, err := s.lockLane(ctx, tx, req.Lane, true)
		if err != nil {
			return err
		}
		if err := refusal(req, r.owner, r.leaseUntil, r.now); err != nil {
			return err
		}
		// A renewal, even after expiry, keeps the token: no one else took
		// the lane, so no one else can have sent on it.
		if r.owner != req.Owner {
			r.token++
			if err := recordRescued(ctx, tx, req.Lane, r.owner, r.now); err != nil {
				return err
			}
			if err := requeueSending(ctx, tx, req.Lane, r.now); err != nil {
				return err
			}
		}
		lastSend := nullTime(r.lastSend)
		if req.Send {
			lastSend = r.now
		}
		var until, sent *time.Time
		if err := tx.QueryRow(ctx, `UPDATE lanes SET owner = $1, token = $2, lease_until = $3, last_send = $4
			WHERE lane = $5 RETURNING lease_until, last_send`,
			req.Owner, r.token, r.now.Add(req.TTL), lastSend, req.Lane).Scan(&until, &sent); err != nil {
			return err
		}
		lease = store.Lease{
			Lane: req.Lane, Owner: req.Owner, Token: r.token,
			Granted: r.now, Until: fromNull(until), LastSend: fromNull(sent), Pause: r.pause,
		}
		lease.Spaces, err = spacePauses(ctx, tx, req.Lane)
		return err
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease: %w", err)
	}
	return lease, nil
}

// leaseHeld answers ErrLeaseHeld, without a lock or a transaction, when the
// lane's row says another owner's lease is live, or (with MinFree) that the
// lane has been free for less than MinFree. Replicas ask for the lanes they
// do not hold at every poll, and each ask that locked the lane's row would
// queue behind that lane's accepts (their groups hold it to the commit) and
// hold them up in turn. A read that is a moment stale only answers as an
// ask a moment earlier would have; every other case, and every grant, is
// decided under the lock.
func (s *Store) leaseHeld(ctx context.Context, req store.LeaseRequest) error {
	var (
		owner string
		until *time.Time
		now   time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT owner, lease_until, coalesce($2::timestamptz, clock_timestamp())
		FROM lanes WHERE lane = $1`, req.Lane, s.fixedNow()).Scan(&owner, &until, &now)
	if err != nil {
		return nil // no row yet, or a failure the locked path reports
	}
	return refusal(req, owner, fromNull(until), now)
}

// refusal is ErrLeaseHeld when the lane's row (its owner and lease end,
// zero if it was never leased) at now refuses req: another owner's lease
// is live, or the lane has been free for less than req.MinFree. Nil means
// req may take the lane, or renew its own lease.
func refusal(req store.LeaseRequest, owner string, until, now time.Time) error {
	switch {
	case owner == req.Owner:
		return nil
	case owner != "" && until.After(now):
		return fmt.Errorf("lane %s: %w", req.Lane, store.ErrLeaseHeld)
	}
	if free := now.Sub(until); req.MinFree > 0 && !until.IsZero() && free < req.MinFree {
		return fmt.Errorf("lane %s: free for %s, under %s: %w", req.Lane, free, req.MinFree, store.ErrLeaseHeld)
	}
	return nil
}

// requeueSending returns the lane's sending deliveries to queued: their owner
// lost or gave up the lane. They keep their attempt count and RequestID; the
// attempt is recorded as ambiguous (store.Rescued).
func requeueSending(ctx context.Context, tx pgx.Tx, lane string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'queued', updated_at = $1, last_status = 0, last_error = $3
		WHERE lane = $2 AND state = 'sending'`, now, lane, store.Rescued)
	return err
}

// ReleaseLease implements store.Lanes.
func (s *Store) ReleaseLease(ctx context.Context, lease store.Lease) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		r, err := s.lockLease(ctx, tx, lease, false)
		if err != nil {
			return err
		}
		if err := recordRescued(ctx, tx, lease.Lane, lease.Owner, r.now); err != nil {
			return err
		}
		if err := requeueSending(ctx, tx, lease.Lane, r.now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE lanes SET owner = '', lease_until = $1 WHERE lane = $2`, r.now, lease.Lane)
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
	// One statement: the upsert locks the row like the other lane writers.
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO lanes (lane, paused_until, pause_reason) VALUES ($1, $2, $3)
			ON CONFLICT (lane) DO UPDATE SET paused_until = excluded.paused_until, pause_reason = excluded.pause_reason`,
			lane, nullTime(p.Until), cleanText(p.Reason))
		return err
	})
	if err != nil {
		return fmt.Errorf("pause lane %s: %w", lane, err)
	}
	return nil
}

// spacePauses reads the pauses recorded for relay spaces of the lane.
func spacePauses(ctx context.Context, tx pgx.Tx, lane string) ([]store.SpacePause, error) {
	rows, err := tx.Query(ctx, `SELECT space, paused_until, pause_reason FROM spaces
		WHERE lane = $1 AND pause_reason <> '' ORDER BY space`, lane)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SpacePause, error) {
		p := store.SpacePause{Lane: lane}
		var until *time.Time
		err := row.Scan(&p.Space, &until, &p.Pause.Reason)
		p.Pause.Until = fromNull(until)
		return p, err
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if p.Pause.Reason == "" {
			_, err := tx.Exec(ctx, `UPDATE spaces SET paused_until = NULL, pause_reason = '' WHERE space = $1`, p.Space)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO spaces (space, lane, paused_until, pause_reason) VALUES ($1, $2, $3, $4)
			ON CONFLICT (space) DO UPDATE SET lane = excluded.lane, paused_until = excluded.paused_until,
				pause_reason = excluded.pause_reason`,
			p.Space, p.Lane, nullTime(p.Pause.Until), cleanText(p.Pause.Reason))
		return err
	})
	if err != nil {
		return fmt.Errorf("pause space %s: %w", p.Space, err)
	}
	return nil
}

// SpaceStates implements store.Lanes.
func (s *Store) SpaceStates(ctx context.Context) ([]store.SpaceState, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT space, lane, paused_until, pause_reason, pending FROM spaces ORDER BY space`)
	if err != nil {
		return nil, fmt.Errorf("space states: %w", s.closedErr(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SpaceState, error) {
		var st store.SpaceState
		var until *time.Time
		err := row.Scan(&st.Space, &st.Lane, &until, &st.Pause.Reason, &st.Pending)
		st.Pause.Until = fromNull(until)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("space states: %w", s.closedErr(err))
	}
	return out, nil
}

// LaneStates implements store.Lanes.
func (s *Store) LaneStates(ctx context.Context) ([]store.LaneState, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT lane, owner, token, lease_until, last_send, paused_until, pause_reason, pending
		FROM lanes ORDER BY lane`)
	if err != nil {
		return nil, fmt.Errorf("lane states: %w", s.closedErr(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.LaneState, error) {
		var l store.LaneState
		var until, lastSend, pausedUntil *time.Time
		err := row.Scan(&l.Lane, &l.Owner, &l.Token, &until, &lastSend, &pausedUntil, &l.Pause.Reason, &l.Pending)
		l.LeaseUntil, l.LastSend, l.Pause.Until = fromNull(until), fromNull(lastSend), fromNull(pausedUntil)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("lane states: %w", s.closedErr(err))
	}
	return out, nil
}
