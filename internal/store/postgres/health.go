package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Ping commits a transaction that writes only its own commit record: it
// takes a transaction id (txid_current), so its COMMIT is written to the
// server's log and flushed like any other write's, and touches no table.
func (s *Store) Ping(ctx context.Context) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		return tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&id)
	})
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}
