package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// Heartbeat implements store.Lanes: the upsert, the cleanup of expired
// rows and the read in one transaction, by one reading of the store's
// clock.
func (s *Store) Heartbeat(ctx context.Context, req store.MemberRequest) ([]store.Member, error) {
	if req.Owner == "" || req.TTL <= 0 {
		return nil, errors.New("heartbeat: owner and a positive TTL are required")
	}
	var out []store.Member
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now, err := s.clock(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO members (owner, until) VALUES ($1, $2)
			ON CONFLICT (owner) DO UPDATE SET until = excluded.until`, req.Owner, now.Add(req.TTL)); err != nil {
			return err
		}
		// SKIP LOCKED: a row another heartbeat holds is not waited on (that
		// replica is back), so two heartbeats never wait on each other.
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE owner IN
			(SELECT owner FROM members WHERE until <= $1 FOR UPDATE SKIP LOCKED)`, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT owner, until FROM members ORDER BY owner`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Member, error) {
			var m store.Member
			err := row.Scan(&m.Owner, &m.Until)
			m.Until = m.Until.UTC()
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("heartbeat: %w", s.closedErr(err))
	}
	return out, nil
}

// Leave implements store.Lanes.
func (s *Store) Leave(ctx context.Context, owner string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM members WHERE owner = $1`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("leave: %w", s.closedErr(err))
	}
	return nil
}
