package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"time"
)

// The log's size is bounded in two ways. SQLite checkpoints it
// automatically (PASSIVE) once it holds 1,000 pages, about 4 MiB, and
// starts writing it again from the beginning when the next write finds it
// wholly copied into the database and no reader still using it; with
// journal_size_limit it then also gives back what the log grew past
// logKeep. But a PASSIVE checkpoint never waits for readers: under a steady
// stream of reads the log may never be found unused, and it grows until the
// disk is full. So the writer looks at the log's size every logEvery group
// commits and, past logLimit, checkpoints it itself in TRUNCATE mode, which
// waits (up to logWait) for the readers of older snapshots to finish,
// copies everything and truncates the log to nothing.
const (
	// logKeep is the journal_size_limit: the most a log that SQLite has
	// started over keeps of its file. Twice the automatic checkpoint's
	// size, so that a log of usual size keeps its file: a log file that
	// shrinks and grows again costs each sync a metadata flush.
	logKeep = 8 << 20
	// logLimit is the log size past which the writer checkpoints it with
	// TRUNCATE, four times the automatic checkpoint's.
	logLimit = 16 << 20
	// logEvery is how many groups the writer commits between two looks at
	// the log's size: a look is a system call (fstat), and the log grows
	// by little per group next to logLimit.
	logEvery = 16
	// logWait is how long the writer's checkpoint waits for readers (its
	// busy timeout): every write waits meanwhile. A checkpoint that gives
	// up is tried again later (see logBound.next).
	logWait = 200 * time.Millisecond
)

// logBound is the writer's watch on the log's size. Only the writer
// goroutine uses it.
type logBound struct {
	// size returns the log file's size.
	size func() (int64, error)
	// limit is logLimit, or a test's.
	limit int64
	// next is the size at which to checkpoint next: limit, or, after a
	// checkpoint that could not finish (a reader held on, the disk was
	// full), a quarter of limit further, so that a failing checkpoint is
	// not retried after every commit.
	next int64
	// groups counts the groups committed since the last look.
	groups int
	// busy is the writer connection's usual busy timeout, restored after
	// the checkpoint's shorter one.
	busy time.Duration
}

func newLogBound(path string, wal *os.File, limit int64, busy time.Duration) *logBound {
	if limit <= 0 {
		limit = logLimit
	}
	size := func() (int64, error) {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	if wal != nil {
		size = func() (int64, error) {
			fi, err := wal.Stat()
			if err != nil {
				return 0, err
			}
			return fi.Size(), nil
		}
	}
	return &logBound{size: size, limit: limit, next: limit, busy: busy}
}

// check runs, between two groups, every logEvery groups, a TRUNCATE checkpoint on the writer
// connection if the log has grown past b.next. Its failure changes nothing
// for the callers: their writes committed, and the next write that needs
// the disk reports a full one itself.
func (b *logBound) check(ctx context.Context, conn *sql.Conn) {
	if b.groups++; b.groups < logEvery {
		return
	}
	b.groups = 0
	n, err := b.size()
	if err != nil || n < b.next {
		return
	}
	var busy, logged, copied int
	_, err = conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, logWait.Milliseconds()))
	if err == nil {
		err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &copied)
		// Restoring it cannot fail short of a broken connection, which
		// the next write reports.
		conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, b.busy.Milliseconds()))
	}
	if n, serr := b.size(); err == nil && busy == 0 && serr == nil && n < b.limit {
		b.next = b.limit
		return
	}
	b.next = max(n, b.next) + b.limit/4
}

// ckptEvery is the least interval between two background checkpoints.
const ckptEvery = 100 * time.Millisecond

// openCheckpointer opens the background checkpointer's connection (see
// checkpointer). Its synchronous=NORMAL makes each checkpoint sync the log
// before it copies frames into the database, and the database after: a
// frame reaches the database file only once the log holding it is on disk.
func openCheckpointer(path string, common url.Values) (*sql.DB, error) {
	c := cloneValues(common)
	c.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+c.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// checkpointer copies the log into the database in the background, PASSIVE
// (it never waits for the writer nor for readers), at most every
// ckptEvery while the writer commits. SQLite's own automatic checkpoint
// runs in the writer's COMMIT once the log holds 1,000 pages, and every
// caller of that group and of the next waits while it copies them and syncs
// the database; with the log copied here as it grows, that checkpoint finds
// only the last few frames to copy, and the copying is done on another
// core. (The automatic one stays: only a checkpoint run between the
// writer's commits can find the whole log copied, which lets the next
// commit start the log over.)
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-s.stopped:
			return
		case <-s.wrote:
		}
		var busy, logged, copied int
		// A failure changes nothing: the automatic checkpoint and the
		// writer's bound (logBound) still hold the log.
		_ = s.cdb.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied)
		t.Reset(ckptEvery)
		select {
		case <-s.stopped:
			return
		case <-t.C:
		}
	}
}
