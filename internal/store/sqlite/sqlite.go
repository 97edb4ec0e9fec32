// Package sqlite is the store.Store backend on an SQLite file, through
// modernc.org/sqlite (pure Go, no cgo). It is the relay's embedded default: one
// process owns the file, on a local disk (WAL needs shared memory; network file
// systems are not supported).
//
// That one process holds a lock file beside the database (PATH.lock) for its
// life, so a second relay or gchat migrate on the same file is refused at
// start; and, since whoever held the leases recorded in the file has then
// ended, Open is where this backend rescues what a killed relay left sending
// (see Open and store.Rescued).
//
// All writes go through one goroutine that owns the only writer connection and
// commits them in groups (see Options.MaxBatch): concurrent callers share one
// COMMIT, and so one fsync, and each is answered after it. Reads use a pool of
// read-only connections and see every write whose call has returned.
//
// # Durability
//
// With the default Synchronous "FULL", a write call returns nil only once
// its group's commit is on disk. The store gets there without holding the
// writer for the disk: SQLite commits in its NORMAL mode (the log is written
// but not synced), and a second goroutine then syncs the log file and
// answers the group's callers, while the writer already runs the next group.
// One sync covers every group committed before it started, so the disk sees
// one flush per busy interval rather than one per group, and callers are
// answered strictly in commit order. This gives the guarantee of SQLite's
// own FULL (a commit that was answered survives a power loss or kernel
// crash: its log frames, commit frame included, were flushed) at close to
// the throughput of NORMAL. A read through another connection may see a
// group before it is synced; nothing the store answers depends on such a
// read being durable, since every caller who learns of a write through a
// write call is answered after its sync.
//
// The log is copied into the database file as it grows by a connection of
// its own (see checkpointer in checkpoint.go), which syncs the log before it
// copies and the database after, as SQLite's checkpoints do; SQLite's
// automatic checkpoint, which runs inside the writer's COMMIT, then finds
// little left to copy, and the writer's groups do not wait for the copying.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gchatkit/gchat/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure a Store. The zero value is the durable default.
type Options struct {
	// Synchronous is the durability of a write call that returned nil:
	// "FULL" (the default) or "NORMAL". FULL syncs the log after every group
	// commit before answering its callers (see the package comment), so an
	// answered write survives a power loss or kernel crash; NORMAL syncs
	// only at checkpoints, so a write survives a crash of the process but
	// the last ones before a power loss may be lost: a relay that answered
	// 2xx could lose those deliveries. Keep FULL unless losing them is
	// acceptable.
	Synchronous string
	// BusyTimeout is how long a connection waits on a lock held by another
	// process (a backup, the sqlite3 shell) before failing; default 5 s.
	BusyTimeout time.Duration
	// Readers is the number of read-only connections; default
	// max(4, GOMAXPROCS).
	Readers int
	// MaxBatch is the most write calls committed together; default 256.
	MaxBatch int
	// MaxWait is how long the writer, holding the first write of a group,
	// waits for more before committing; default 200µs. Writes arriving
	// while a commit is in progress join the next group without waiting.
	// Negative means never wait.
	MaxWait time.Duration
	// Now is the store's clock; nil means time.Now. Times are stored with
	// nanosecond precision in UTC.
	Now func() time.Time

	// logLimit replaces logLimit (see checkpoint.go) in tests.
	logLimit int64
}

// Store is a store.Store on an SQLite file.
type Store struct {
	wdb  *sql.DB // the single writer connection, owned by the writer goroutine
	rdb  *sql.DB // read-only pool
	now  func() time.Time
	opts Options

	jobs chan *job
	// synced takes committed groups from the writer to the syncer, which
	// syncs the log (under FULL) and answers them in order.
	synced chan *group
	wal    *os.File
	// sync flushes the log: wal.Sync, or a test's stand-in.
	sync    func() error
	closing chan struct{}
	stopped chan struct{}
	// lock is the held lock file (see Open); nil where there is none.
	lock *os.File
	// log bounds the log's size (see checkpoint.go); the writer's own.
	log *logBound
	// cdb is the background checkpointer's connection, and wrote wakes it
	// after a commit (see checkpoint.go); ckptDone closes when it stops.
	cdb       *sql.DB
	wrote     chan struct{}
	ckptDone  chan struct{}
	closeOnce sync.Once
	closeErr  error

	// members are the relay replicas alive (Heartbeat): in memory, since
	// the processes sharing the store are this one.
	membersMu sync.Mutex
	members   map[string]time.Time // owner → until
}

var _ store.Store = (*Store)(nil)

// errLocked: another process holds the store's lock file.
var errLocked = errors.New("locked")

// lockPath is the lock file beside the database at path.
func lockPath(path string) string { return path + ".lock" }

// lock takes the store's lock file for a relay (what is "open") or gchat
// migrate, with a message that says what to do when another process has it.
func lock(path, what string) (*os.File, error) {
	f, err := lockFile(lockPath(path))
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("%s %s: the store is in use by another process (a relay or gchat migrate holds its lock file %s); stop it first, or give this relay a store of its own",
			what, path, lockPath(path))
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: lock file: %w", what, path, err)
	}
	return f, nil
}

// Open opens, creating if needed, the database at path, applies the
// migrations it lacks and starts the writer. A database it creates, and so
// its log and shared-memory files, is readable by its owner only.
//
// The store holds the database exclusively until Close: it takes an
// advisory lock (flock) on the file PATH.lock beside it for its life, so a
// second relay on the same file, or gchat migrate while a relay runs, is
// refused at once with an error naming the file. Readers (the sqlite3 shell,
// an online backup) take no such lock and are unaffected; SQLite's own
// locking is left in its normal mode. Holding the lock proves that the
// processes that held the leases recorded in the database have ended, so
// Open rescues at once what they left: every lease is released and every
// sending delivery goes back to the queue as an ambiguous attempt
// (store.Rescued), and the relay takes its lanes without waiting out the
// leases of a process that was killed.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	lf, err := lock(path, "open store")
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, path, opts)
	if err != nil {
		if lf != nil {
			lf.Close()
		}
		return nil, err
	}
	s.lock = lf
	if canLock {
		if err := s.rescue(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return s, nil
}

// open is Open once the lock is held.
func open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = "FULL"
	}
	opts.Synchronous = strings.ToUpper(opts.Synchronous)
	if opts.Synchronous != "FULL" && opts.Synchronous != "NORMAL" {
		return nil, fmt.Errorf("open store: synchronous %q: want FULL or NORMAL", opts.Synchronous)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 200 * time.Microsecond
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	// Pragmas, set on every connection by the driver (each _pragma runs as
	// "PRAGMA x" when the connection opens):
	common := url.Values{}
	// Wait for a lock held by another process instead of failing at once.
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	// Enforce REFERENCES (batch members cascade with their batch).
	common.Add("_pragma", "foreign_keys(1)")
	// A page cache of pageCache KiB instead of SQLite's 2 MiB: a growing
	// backlog's indexes soon outgrow 2 MiB, and then every insert and every
	// claim reads its index pages back from the file, a system call each.
	common.Add("_pragma", fmt.Sprintf("cache_size(-%d)", pageCache))

	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	wdb, err := openWriter(path, common)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if _, err := migrate(ctx, wdb, now); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}

	r := cloneValues(common)
	// Read-only connections: a bug cannot write through them.
	r.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+r.Encode())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	rdb.SetMaxOpenConns(opts.Readers)
	rdb.SetMaxIdleConns(opts.Readers)
	rdb.SetConnMaxIdleTime(0)
	rdb.SetConnMaxLifetime(0)
	if err := rdb.PingContext(ctx); err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}

	cdb, err := openCheckpointer(path, common)
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{
		wdb:      wdb,
		rdb:      rdb,
		cdb:      cdb,
		now:      now,
		opts:     opts,
		jobs:     make(chan *job),
		synced:   make(chan *group, 64),
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
		wrote:    make(chan struct{}, 1),
		ckptDone: make(chan struct{}),
	}
	if opts.Synchronous == "FULL" {
		// The log exists once the database has been written in WAL mode,
		// which migrate did at creation; an old database opened without
		// pending migrations may not have one yet, so write something.
		if _, err := wdb.ExecContext(ctx, `UPDATE counters SET value = value WHERE name = 'delivery'`); err != nil {
			wdb.Close()
			rdb.Close()
			cdb.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
		// The same inode SQLite writes; syncing any descriptor of it
		// flushes its pages. SQLite holds no locks on the log file, so
		// closing this descriptor releases none of its locks.
		f, err := os.OpenFile(path+"-wal", os.O_RDWR, 0)
		if err != nil {
			wdb.Close()
			rdb.Close()
			cdb.Close()
			return nil, fmt.Errorf("open store: open the log to sync it: %w", err)
		}
		s.wal = f
		s.sync = func() error { return syncData(f) }
	}
	s.log = newLogBound(path, s.wal, opts.logLimit, opts.BusyTimeout)
	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		rdb.Close()
		cdb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	wt := &wtx{conn: conn, stmts: map[string]*sql.Stmt{}, touched: map[string]int64{}, rows: map[rowKey]struct{}{}}
	if err := conn.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'delivery'`).Scan(&wt.lastID); err != nil {
		conn.Close()
		wdb.Close()
		rdb.Close()
		cdb.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	wt.savedID = wt.lastID
	go s.writer(wt)
	go s.syncer()
	go s.checkpointer()
	return s, nil
}

// pageCache is each connection's page cache in KiB, the most it holds: a
// connection's cache grows only as far as its reads take it.
const pageCache = 64 << 10

// openWriter opens the single writer connection with the pragmas common to
// every connection and the writer's own.
func openWriter(path string, common url.Values) (*sql.DB, error) {
	w := cloneValues(common)
	// WAL: readers never block the writer nor the writer them, and a commit
	// appends to the log instead of rewriting pages. Persistent in the file.
	w.Add("_pragma", "journal_mode(WAL)")
	// NORMAL: SQLite writes the log at each commit and syncs it at
	// checkpoints; under FULL the store syncs it itself after each group
	// (see the package comment).
	w.Add("_pragma", "synchronous(NORMAL)")
	// Give back the log's file beyond logKeep whenever the log starts
	// over; see checkpoint.go for the other bound on its size.
	w.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", logKeep))
	wdb, err := sql.Open("sqlite", "file:"+path+"?"+w.Encode())
	if err != nil {
		return nil, err
	}
	// One writer: SQLite serialises writers anyway; one connection makes the
	// order ours rather than lock retries.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	return wdb, nil
}

// Migrate creates the database at path if needed and applies the embedded
// migrations it lacks, as Open does, then closes it. It reports the schema
// versions before and after and what it applied. It takes the store's lock
// file as Open does, so it is refused while a relay runs on the file.
func Migrate(ctx context.Context, path string) (store.Migrated, error) {
	lf, err := lock(path, "migrate")
	if err != nil {
		return store.Migrated{}, err
	}
	if lf != nil {
		defer lf.Close()
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(5000)")
	common.Add("_pragma", "foreign_keys(1)")
	if err := createPrivate(path); err != nil {
		return store.Migrated{}, fmt.Errorf("migrate: %w", err)
	}
	wdb, err := openWriter(path, common)
	if err != nil {
		return store.Migrated{}, err
	}
	done, err := migrate(ctx, wdb, time.Now)
	// The writer commits with synchronous=NORMAL; closing the last
	// connection checkpoints the log into the file and syncs it.
	if cerr := wdb.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("migrate: %w", cerr)
	}
	return done, err
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Close stops accepting calls, lets the writer finish the group it holds,
// and closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.stopped
		<-s.ckptDone
		s.closeErr = errors.Join(s.rdb.Close(), s.cdb.Close(), s.wdb.Close())
		if s.wal != nil {
			s.closeErr = errors.Join(s.closeErr, s.wal.Close())
		}
		if s.lock != nil {
			// Last: no write of ours can follow the next holder's start.
			s.closeErr = errors.Join(s.closeErr, s.lock.Close())
		}
	})
	return s.closeErr
}

// readable returns ErrClosed once Close has begun; reads check it so that a
// closed store answers ErrClosed rather than database/sql's own error.
func (s *Store) readable() error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
		return nil
	}
}

// migrate applies, each in its own transaction, the embedded migrations
// whose number is above the recorded schema version, and reports what it
// did, also when one failed (the ones before it stay applied).
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) (done store.Migrated, err error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return done, fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return done, fmt.Errorf("migrate: %w", err)
	}
	done.From, done.To = current, current
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return done, fmt.Errorf("migrate: %w", err)
	}
	type migration struct {
		version int
		name    string
	}
	var todo []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return done, fmt.Errorf("migrate: %s: name must be NNNN_description.sql", base)
		}
		if v > current {
			todo = append(todo, migration{v, name})
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].version < todo[j].version })
	for _, m := range todo {
		body, err := migrations.ReadFile(m.name)
		if err != nil {
			return done, fmt.Errorf("migrate: %w", err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return done, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`,
			m.version, now().UnixNano()); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return done, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		done.To = m.version
		done.Applied = append(done.Applied, strings.TrimPrefix(m.name, "migrations/"))
	}
	return done, nil
}

// A job is one write call: fn runs inside the group's transaction, under its
// own savepoint. err is sent on done after the group commits (or fails).
type job struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *wtx, now int64) error
	done chan error
}

// write runs fn in a write transaction shared with concurrent writes and
// returns once that transaction has committed. now is the store's clock, read
// once per call. fn's results are valid only when write returns nil. fn must
// use the context it is given, which is never cancelled: an interrupted
// statement can roll back the whole transaction, the other callers' writes
// with it.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *wtx, now int64) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.jobs <- j:
	case <-s.closing:
		return store.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, a job is always answered, within one commit: waiting for
	// it keeps the answer exact (a caller never sees a context error for a
	// write that committed).
	return <-j.done
}

// wtx is the writer's transaction: the writer connection, its cache of
// prepared statements, and the id counter. Only the writer goroutine uses it.
type wtx struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
	// lastID is the last id handed out; savedID the last one committed to
	// the counters table. Ids lost to a rollback are skipped, never reused.
	lastID, savedID int64
	// touched holds, for threads whose row a committed transaction wrote,
	// the updated_at it wrote; jobTouched and groupTouched are the
	// touches of the running job and of its group's jobs that succeeded,
	// merged into touched once the group commits.
	touched                  map[string]int64
	jobTouched, groupTouched []threadTouch
	// rows holds the lanes and relay spaces whose rows a committed
	// transaction made sure of (ensureRow); such rows are never deleted, so
	// Enqueue need not ask again. jobRows and groupRows are kept as
	// jobTouched and groupTouched are.
	rows               map[rowKey]struct{}
	jobRows, groupRows []rowKey
}

// rowKey names a row of lanes or of spaces.
type rowKey struct{ table, name string }

type threadTouch struct {
	name string
	at   int64
}

// maxTouched bounds the touched map; it starts over when full.
const maxTouched = 100_000

// touch reports whether Enqueue must write thread name's row at now: not
// when a committed write of this writer set it less than store.ThreadTouch
// ago. It records the write it allows, for the commit to remember.
func (w *wtx) touch(name string, now int64) bool {
	if at, ok := w.touched[name]; ok && now-at < store.ThreadTouch.Nanoseconds() {
		return false
	}
	w.jobTouched = append(w.jobTouched, threadTouch{name, now})
	return true
}

// stmt returns q prepared on the writer connection, preparing it once.
// Queries are constants, so the cache stays small; queries built at run time
// use execOnce.
func (w *wtx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

func (w *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (w *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// row is a *sql.Row that may carry the error of preparing its statement.
type row struct {
	r   *sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.r.Scan(dest...)
}

func (w *wtx) QueryRowContext(ctx context.Context, q string, args ...any) row {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return row{err: err}
	}
	return row{r: st.QueryRowContext(ctx, args...)}
}

// execOnce runs a query built at run time, without caching it.
func (w *wtx) execOnce(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return w.conn.ExecContext(ctx, q, args...)
}

// nextIDs reserves n consecutive ids and returns the first.
func (w *wtx) nextIDs(n int) int64 {
	first := w.lastID + 1
	w.lastID += int64(n)
	return first
}

// A group is one transaction's jobs and their results, on its way from the
// writer to the syncer.
type group struct {
	jobs []*job
	errs []error
	// wrote reports that the group committed something to make durable.
	wrote bool
}

// syncer answers the groups the writer committed, in order: it takes every
// group waiting, syncs the log once if any of them wrote, then answers them
// all. It stops when the writer closes s.synced, then closes s.stopped.
func (s *Store) syncer() {
	defer close(s.stopped)
	var pending []*group
	for g := range s.synced {
		pending = append(pending[:0], g)
	gather:
		for {
			select {
			case g, ok := <-s.synced:
				if !ok {
					break gather
				}
				pending = append(pending, g)
			default:
				break gather
			}
		}
		var err error
		if s.sync != nil && slices.ContainsFunc(pending, func(g *group) bool { return g.wrote }) {
			if err = s.sync(); err != nil {
				err = fmt.Errorf("sync the log: %w", err)
			}
		}
		for _, g := range pending {
			for i, j := range g.jobs {
				if g.errs[i] == nil && g.wrote {
					g.errs[i] = err
				}
				j.done <- g.errs[i]
			}
		}
		clear(pending)
	}
}

// writer owns the writer connection: it takes a job, gathers more for up to
// MaxWait or MaxBatch jobs, runs them in one transaction and commits once.
func (s *Store) writer(w *wtx) {
	defer close(s.synced)
	defer w.conn.Close()
	defer func() {
		for _, st := range w.stmts {
			st.Close()
		}
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	batch := make([]*job, 0, s.opts.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case j := <-s.jobs:
			batch = append(batch, j)
		case <-s.closing:
			return
		}
		waiting := false
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
				continue
			default:
			}
			if s.opts.MaxWait < 0 {
				break
			}
			if !waiting {
				timer.Reset(s.opts.MaxWait)
				waiting = true
			}
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
			case <-timer.C:
				waiting = false
				break gather
			case <-s.closing:
				break gather
			}
		}
		if waiting {
			timer.Stop()
		}
		s.commit(w, batch)
		select {
		case s.wrote <- struct{}{}:
		default:
		}
		s.log.check(context.Background(), w.conn)
	}
}

// commit runs batch in one transaction and hands the results to the
// syncer. A job that fails is rolled back to its savepoint alone; if the
// commit fails, every job fails.
func (s *Store) commit(w *wtx, batch []*job) {
	g := &group{jobs: slices.Clone(batch), errs: make([]error, len(batch))}
	w.groupTouched, w.groupRows = w.groupTouched[:0], w.groupRows[:0]
	defer func() { s.synced <- g }()
	errs := g.errs
	ctx := context.Background() // one caller's cancellation must not abort the others'
	fail := func(err error) {
		w.conn.ExecContext(ctx, `ROLLBACK`) // may fail if SQLite already rolled back; nothing to add then
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// BEGIN IMMEDIATE: take the write lock now rather than upgrade a read
	// transaction later, which could fail with SQLITE_BUSY midway.
	if _, err := w.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("begin: %w", err)
		}
		return
	}
	ran := 0
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := w.ExecContext(ctx, `SAVEPOINT job`); err != nil {
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		w.jobTouched, w.jobRows = w.jobTouched[:0], w.jobRows[:0]
		err := j.fn(ctx, w, s.now().UnixNano())
		errs[i] = err
		if err == nil {
			w.groupTouched = append(w.groupTouched, w.jobTouched...)
			w.groupRows = append(w.groupRows, w.jobRows...)
		}
		if err != nil {
			if _, rerr := w.ExecContext(ctx, `ROLLBACK TO job`); rerr != nil {
				fail(fmt.Errorf("rollback to savepoint: %w", rerr))
				return
			}
		} else {
			ran++
		}
		if _, err := w.ExecContext(ctx, `RELEASE job`); err != nil {
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if w.lastID != w.savedID {
		if _, err := w.ExecContext(ctx, `UPDATE counters SET value = ? WHERE name = 'delivery'`, w.lastID); err != nil {
			fail(fmt.Errorf("save id counter: %w", err))
			return
		}
	}
	if ran == 0 {
		// Nothing to make durable: skip the fsync.
		if _, err := w.ExecContext(ctx, `ROLLBACK`); err != nil {
			fail(fmt.Errorf("rollback: %w", err))
			return
		}
		w.lastID = w.savedID
	} else if _, err := w.ExecContext(ctx, `COMMIT`); err != nil {
		fail(fmt.Errorf("commit: %w", err))
		return
	} else {
		w.savedID = w.lastID
		g.wrote = true
		if len(w.touched)+len(w.groupTouched) > maxTouched {
			clear(w.touched)
		}
		for _, t := range w.groupTouched {
			w.touched[t.name] = t.at
		}
		if len(w.rows)+len(w.groupRows) > maxTouched {
			clear(w.rows)
		}
		for _, k := range w.groupRows {
			w.rows[k] = struct{}{}
		}
	}
}

// Times are stored as Unix nanoseconds, 0 for the zero time.

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
