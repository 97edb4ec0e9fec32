package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Ping commits a one-row write through the writer, as every write call
// does, and waits for its group's sync: it fails while the disk refuses the
// log's growth and succeeds once writes commit again. The row is the id
// counter, rewritten with its own value.
func (s *Store) Ping(ctx context.Context) error {
	err := s.write(ctx, func(ctx context.Context, tx *wtx, _ int64) error {
		_, err := tx.ExecContext(ctx, `UPDATE counters SET value = value WHERE name = 'delivery'`)
		return err
	})
	if err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// createPrivate creates the database file at path, readable and writable by
// its owner only, unless it exists. SQLite would create it with mode 0644
// less the umask; it gives its log (-wal) and shared-memory (-shm) files the
// database file's mode, so they are private too. The store holds every
// message and webhook name it relays. An existing file keeps its mode: the
// operator may have chosen it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}
