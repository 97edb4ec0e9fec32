// Package postgres is the store.Store backend on PostgreSQL (11 or later;
// tested with 15), through github.com/jackc/pgx/v5 and its pool. It is the
// backend for several relay replicas sharing one queue: every replica opens
// the same database and schema, and the lanes table coordinates them (leases
// with fencing tokens, the last send time, pauses).
//
// # Durability
//
// A method that returns nil has committed. The store leaves
// synchronous_commit as the server, role or URL sets it; PostgreSQL's default,
// on, flushes the commit to the write-ahead log (and, with synchronous
// replication, to the standbys the server names) before answering, so a 2xx
// the relay gave survives a crash of the server. With synchronous_commit=off a
// server crash may lose the last commits it acknowledged (up to three times
// wal_writer_delay): do not set it for the relay's role or database unless
// losing accepted deliveries is acceptable. One error is ambiguous, as with
// any client of a network database: a connection lost during COMMIT leaves
// unknown whether the call took effect.
//
// # Clock
//
// With Options.Now nil the store reads time from the database only, never
// from the process: clock_timestamp(), read once per call after the locks the
// call waits for (a lane call reads it with its lane's row lock), so a call
// that waited does not work with the time it started, and lease expiry is
// judged by one clock however far apart the replicas' own clocks are.
// Options.Now replaces it in tests, passed to the statements as a parameter.
// Times are stored as timestamptz, with PostgreSQL's microsecond precision:
// an injected time is truncated to the microsecond.
//
// # Schema
//
// The tables live in the first schema of the connection's search_path. Name
// it in the URL, either as pgx's runtime parameter
// (postgres://host/db?search_path=gchat) or as libpq's options
// (?options=-csearch_path%3Dgchat); without one, PostgreSQL's default applies
// ("$user", then public). A named schema that does not exist is created by
// the migrations (which needs the CREATE privilege on the database).
//
// # Migrations
//
// The numbered files in migrations/ are embedded and applied in order, each
// in its own transaction together with its row in the schema_version table;
// a shipped file is never edited. Migrate applies them, and so does Open.
// They run under the session-level advisory lock MigrationLockKey, taken on a
// dedicated connection that is closed afterwards, so replicas starting
// together apply each migration once while the others wait, and a replica
// that dies while migrating releases the lock with its session. The key is
// the same for every schema of a database: migrations of different schemas
// wait for one another, which costs little since they are rare.
//
// # Concurrency
//
// Each call is one transaction at READ COMMITTED, but for Enqueue: the
// Enqueue calls of one Store that arrive together share one transaction, a
// group commit (see group.go), which takes each lock once for the group and
// answers each call after its commit. Its statements are pipelined in two
// round trips, the lanes' row locks taken in the second, with the insert
// and the COMMIT. A lane's row in the lanes
// table is its mutex: Enqueue, Claim, Finish, FreezeBatch, the lease calls,
// Replay and Delete lock it (SELECT ... FOR NO KEY UPDATE) before reading or
// changing the lane's pending deliveries or its lease. Holding it through the
// commit is what makes ids and sequence numbers follow commit order within a
// lane (they come from one sequence, drawn under the lock), the queue bound
// exact, and a claim see every enqueue that committed before it. It also
// fences: Claim, Finish and FreezeBatch compare the caller's owner and token
// with the locked row, so a takeover (AcquireLease by another owner once the
// lease has expired, which raises the token and requeues the lane's sending
// deliveries) happens entirely before or after them. Enqueue with a
// CallerRequestID or DedupKey first takes transaction-scoped advisory locks
// on those keys (see Enqueue), so of concurrent duplicates exactly one is
// stored, even when they name different lanes.
//
// A lane's row lock is held by a session, not by a lease: a replica frozen
// (SIGSTOP, a paused VM) or cut off in the middle of a transaction would keep
// it, and with it every other replica's calls on that lane, ingest included,
// for as long as its connection stays open. So the store's sessions set
// idle_in_transaction_session_timeout (Options.IdleInTransactionTimeout, 5 s
// by default): the server ends a session that holds a transaction open that
// long without sending a statement, and its locks go with it. The store's
// own transactions never pause between statements for longer than a
// scheduling hiccup.
//
// Across lanes, ids follow the order in which the sequence handed them out,
// not commit order: a List cursor (Filter.After) may step past a delivery of
// another lane that commits a moment later with a lower id.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// MigrationLockKey is the key of the session-level advisory lock
// (pg_advisory_lock(bigint)) under which migrations run: the bytes of
// "gchat_mg". In pg_locks it shows as locktype advisory, classid 1734568033
// and objid 1952410983 (the key's high and low 32 bits), objsubid 1.
const MigrationLockKey int64 = 0x67636861745f6d67

// Options configure a Store. The zero value is the production default.
type Options struct {
	// Now is the store's clock, for tests; nil means the database's clock
	// (see the package documentation), never the process's.
	Now func() time.Time
	// MaxConns caps the connection pool. Zero means the URL's
	// pool_max_conns if set, else pgxpool's default, max(4, NumCPU). Each
	// call holds one connection for the length of its transaction.
	MaxConns int32
	// IdleInTransactionTimeout is the sessions'
	// idle_in_transaction_session_timeout (see Concurrency in the package
	// documentation). Zero means DefaultIdleInTransactionTimeout, unless the
	// URL sets idle_in_transaction_session_timeout itself; negative leaves
	// the server's setting (by default none).
	IdleInTransactionTimeout time.Duration
}

// DefaultIdleInTransactionTimeout bounds how long a stalled client can keep
// a lane locked.
const DefaultIdleInTransactionTimeout = 5 * time.Second

// idleParam is the run-time parameter IdleInTransactionTimeout sets.
const idleParam = "idle_in_transaction_session_timeout"

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time // nil: the database's clock

	group grouper // Enqueue calls waiting to commit

	closed    atomic.Bool
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a PostgreSQL URL or key=value
// string, as pgx parses it), applies the migrations it lacks (see Migrate)
// and returns a store on a connection pool.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if _, set := cfg.ConnConfig.RuntimeParams[idleParam]; (!set || opts.IdleInTransactionTimeout != 0) && opts.IdleInTransactionTimeout >= 0 {
		d := opts.IdleInTransactionTimeout
		if d == 0 {
			d = DefaultIdleInTransactionTimeout
		}
		cfg.ConnConfig.RuntimeParams[idleParam] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
	}
	if _, err := migrateConfig(ctx, cfg.ConnConfig.Copy()); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{pool: pool, now: opts.Now}, nil
}

// Close stops accepting calls, waits for the calls in progress to finish,
// and closes the pool's connections. Later calls return store.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.pool.Close() // blocks until every acquired connection is back
	})
	return nil
}

// Migrate applies the embedded migrations the database at url lacks, under
// the advisory lock MigrationLockKey, creating the URL's schema if it is
// named and missing. It is safe to run from several processes at once: one
// applies each migration, the others wait and find nothing to do. Open calls
// it; running it first (as a deploy step) lets replicas open without waiting.
// It reports the schema versions before and after and what it applied.
func Migrate(ctx context.Context, url string) (store.Migrated, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return store.Migrated{}, fmt.Errorf("migrate: %w", err)
	}
	return migrateConfig(ctx, cfg)
}

// migrateConfig runs the migrations on a connection of its own, closed at
// the end: the session-level lock goes with it even if unlocking fails, so a
// pooled connection never keeps it.
func migrateConfig(ctx context.Context, cfg *pgx.ConnConfig) (store.Migrated, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return store.Migrated{}, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	done, err := migrate(ctx, conn)
	if err != nil {
		return done, fmt.Errorf("migrate: %w", err)
	}
	return done, nil
}

// migrate applies the pending migrations and reports what it did, also
// when one failed (the ones before it stay applied).
func migrate(ctx context.Context, conn *pgx.Conn) (done store.Migrated, err error) {
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, MigrationLockKey); err != nil {
		return done, fmt.Errorf("lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, MigrationLockKey)

	if err := ensureSchema(ctx, conn); err != nil {
		return done, err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
	)`); err != nil {
		return done, err
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return done, err
	}
	done.From, done.To = current, current
	todo, err := pending(current)
	if err != nil {
		return done, err
	}
	for _, m := range todo {
		body, err := migrations.ReadFile(m.name)
		if err != nil {
			return done, err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: the simple protocol, which runs a file of
			// several statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.version)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("%s: %w", m.name, err)
		}
		done.To = m.version
		done.Applied = append(done.Applied, strings.TrimPrefix(m.name, "migrations/"))
	}
	return done, nil
}

type migration struct {
	version int
	name    string
}

// pending returns the embedded migrations above version current, in order.
func pending(current int) ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var todo []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s: name must be NNNN_description.sql", base)
		}
		if v > current {
			todo = append(todo, migration{v, name})
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].version < todo[j].version })
	return todo, nil
}

// ensureSchema creates the first schema of the search_path when no schema of
// the path exists (current_schema() is NULL), unless that first entry is
// "$user". It runs under the migration lock.
func ensureSchema(ctx context.Context, conn *pgx.Conn) error {
	var current *string
	var path string
	if err := conn.QueryRow(ctx, `SELECT current_schema(), current_setting('search_path')`).Scan(&current, &path); err != nil {
		return err
	}
	if current != nil {
		return nil
	}
	name, ok := firstSchema(path)
	if !ok {
		return fmt.Errorf("no schema of search_path %q exists; name one in the URL (search_path=…)", path)
	}
	_, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{name}.Sanitize())
	return err
}

// firstSchema returns the first entry of a search_path setting as
// PostgreSQL reads it: double-quoted names taken literally ("" is a quote),
// others folded to lower case. It reports false for an empty path and for
// "$user".
func firstSchema(path string) (string, bool) {
	path = strings.TrimLeft(path, " \t")
	var name string
	if rest, ok := strings.CutPrefix(path, `"`); ok {
		var b strings.Builder
		for {
			i := strings.IndexByte(rest, '"')
			if i < 0 {
				return "", false // unterminated
			}
			b.WriteString(rest[:i])
			rest = rest[i+1:]
			if !strings.HasPrefix(rest, `"`) {
				break
			}
			b.WriteByte('"')
			rest = rest[1:]
		}
		name = b.String()
	} else {
		name, _, _ = strings.Cut(path, ",")
		name = strings.ToLower(strings.TrimSpace(name))
	}
	if name == "" || name == "$user" {
		return "", false
	}
	return name, true
}

// fixedNow is the injected clock's reading as a statement parameter, or nil
// for the database's clock: statements read coalesce($n::timestamptz,
// clock_timestamp()).
func (s *Store) fixedNow() any {
	if s.now == nil {
		return nil
	}
	return s.now().Truncate(time.Microsecond)
}

// clock returns the store's time, for calls that lock no lane.
func (s *Store) clock(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (time.Time, error) {
	if s.now != nil {
		return s.now().Truncate(time.Microsecond), nil
	}
	var now time.Time
	err := q.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now)
	return now.UTC(), err
}

// maxTxAttempts bounds the runs of one transaction that PostgreSQL aborted
// as a deadlock victim or a serialisation failure.
const maxTxAttempts = 3

// inTx runs fn in a transaction and commits it. fn may run more than once (a
// deadlock, which the lock order of this package leaves to rare races with
// Prune, is retried), so it must set its results afresh on each run.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	var err error
	for range maxTxAttempts {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return s.closedErr(err)
}

// closedErr reports ErrClosed for a call that failed because the store was
// closed while it ran (the pool refuses new acquisitions).
func (s *Store) closedErr(err error) error {
	if err != nil && s.closed.Load() && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("%w: %w", store.ErrClosed, err)
	}
	return err
}

// retryable reports a deadlock or serialisation failure: the transaction was
// rolled back and may simply run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// IDs are bigint in the database and store.FormatID's form outside.

// nullTime is t as a statement parameter: NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromNull is a scanned nullable timestamptz: the zero time for NULL, UTC
// otherwise.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// cleanText makes diagnostic text (an attempt's error, a pause's reason)
// storable: PostgreSQL's text takes neither NUL bytes nor invalid UTF-8, and
// a Finish must not fail because an error message quoted a binary body.
// Keys (spaces, groups, ids) are not cleaned: changing them would change
// what they name, so such a key is an error.
func cleanText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}
