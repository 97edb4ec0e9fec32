package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Group commit. Concurrent Enqueue calls of one Store are gathered into one
// transaction: one WAL flush, one lock of each lane and relay space, one
// insert for every delivery of the group, instead of one of each per call.
// A call joins the store's queue of waiting calls; when no committer runs,
// it starts one. A committer takes up to maxGroup waiting calls, oldest
// first, of lanes no other committer of the store is committing in;
// commits them together, answers each, and goes on while such calls wait.
// So a lone call commits at once, as before; under load each commit
// carries the calls that arrived during the last one.
//
// One committer, not several in lanes of their own: the groups are larger
// (each commit costs the database about as much CPU whatever its size, and
// with ten lanes four committers made groups a quarter the size, for a
// third fewer accepts per second). A spare committer starts, up to
// maxCommitters, only when a call that it could take (of a lane no
// committer is in) has waited stallAfter: a group waiting for a lane that
// another replica or a stalled session holds then delays the store's other
// lanes no longer than that. The committers of one store never queue on
// each other's lane locks.
//
// Each call is answered only after the commit that holds its deliveries (or
// the one that failed). A group whose transaction fails for a reason that
// is not a deadlock is run again call by call, so that one caller's failure
// (a value the database refuses) fails no other caller.

// maxCommitters bounds the group transactions of one Store running at once,
// each in lanes of its own.
const maxCommitters = 4

// stallAfter is how long a call that no committer may take waits before a
// spare committer starts for it: longer than a group's transaction
// normally takes (a few milliseconds), short beside a caller's patience.
const stallAfter = 20 * time.Millisecond

// maxGroup bounds the calls committed in one transaction.
const maxGroup = 256

// A committer that finds fewer than gatherBelow calls waiting waits
// gatherWait before it takes them, so that more join the group. A group
// costs PostgreSQL about the same whatever its size, and with several
// replicas each one's share of the callers made groups of ten where one
// replica had thirty: three replicas on one space went from 6,100 to 7,800
// accepts/s (one replica: 9,300 either way; docs/benchmarks.md). A lone
// call waits gatherWait longer.
const (
	gatherBelow = 16
	gatherWait  = time.Millisecond
)

// enqueueCall is one Enqueue waiting for its group's commit.
type enqueueCall struct {
	ctx        context.Context
	req        store.EnqueueRequest
	requestIDs []string
	queued     time.Time // when it joined the queue
	res        store.EnqueueResult
	err        error
	done       chan struct{}
}

// grouper holds the waiting calls.
type grouper struct {
	mu      sync.Mutex
	waiting []*enqueueCall
	running int
	busy    map[string]bool // lanes being committed
	spare   *time.Timer     // armed while calls wait behind a committer
}

// enqueueGrouped queues c and waits for its answer.
func (s *Store) enqueueGrouped(c *enqueueCall) (store.EnqueueResult, error) {
	g := &s.group
	c.queued = time.Now()
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	start := g.running == 0
	if start {
		g.running++
	} else if g.running < maxCommitters && g.spare == nil {
		g.spare = time.AfterFunc(stallAfter, s.startSpare)
	}
	g.mu.Unlock()
	if start {
		go s.commitLoop()
	}
	select {
	case <-c.done:
		return c.res, c.err
	case <-c.ctx.Done():
		// The call may still commit: a caller that retries with its
		// CallerRequestID finds it.
		return store.EnqueueResult{}, c.ctx.Err()
	}
}

// startSpare starts a spare committer if the oldest call that one could
// take has waited stallAfter, and otherwise looks again when it will have.
func (s *Store) startSpare() {
	g := &s.group
	g.mu.Lock()
	g.spare = nil
	var oldest *enqueueCall
	for _, c := range g.waiting {
		if !g.busy[c.req.Lane] {
			oldest = c
			break
		}
	}
	start := false
	switch {
	case oldest == nil || g.running >= maxCommitters:
	case time.Since(oldest.queued) >= stallAfter:
		start = true
		g.running++
	default:
		g.spare = time.AfterFunc(stallAfter-time.Since(oldest.queued), s.startSpare)
	}
	g.mu.Unlock()
	if start {
		go s.commitLoop()
	}
}

// commitLoop commits groups of waiting calls until none it may take waits:
// the calls of a lane another committer is in wait for that one, which
// takes them on its next round.
func (s *Store) commitLoop() {
	g := &s.group
	var lanes []string
	for {
		g.mu.Lock()
		if n := len(g.waiting); n > 0 && n < gatherBelow {
			// A small group costs the server about what a large one
			// does: give the calls on their way a moment to join.
			g.mu.Unlock()
			time.Sleep(gatherWait)
			g.mu.Lock()
		}
		for _, l := range lanes {
			delete(g.busy, l)
		}
		lanes = lanes[:0]
		var calls, rest []*enqueueCall
		for _, c := range g.waiting {
			if len(calls) < maxGroup && !g.busy[c.req.Lane] {
				if !slices.Contains(lanes, c.req.Lane) {
					lanes = append(lanes, c.req.Lane)
				}
				calls = append(calls, c)
				continue
			}
			rest = append(rest, c)
		}
		if len(calls) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		g.waiting = rest
		if g.busy == nil {
			g.busy = map[string]bool{}
		}
		for _, l := range lanes {
			g.busy[l] = true
		}
		g.mu.Unlock()
		// A call whose caller gave up before its group began is left out.
		live := calls[:0]
		for _, c := range calls {
			if err := c.ctx.Err(); err != nil {
				c.err = err
				close(c.done)
				continue
			}
			live = append(live, c)
		}
		s.commitGroup(live)
		for _, c := range live {
			close(c.done)
		}
	}
}

// commitGroup commits calls in one transaction, or one by one when that
// transaction fails.
func (s *Store) commitGroup(calls []*enqueueCall) {
	if len(calls) == 0 {
		return
	}
	defer func() {
		for _, c := range calls {
			if c.err != nil {
				c.err = fmt.Errorf("enqueue: %w", c.err)
			}
		}
	}()
	if len(calls) > 1 {
		// The group outlives any one caller's context.
		ctx := context.WithoutCancel(calls[0].ctx)
		err := s.enqueueCalls(ctx, calls)
		if err == nil {
			return
		}
		if s.closed.Load() || errors.Is(err, store.ErrClosed) {
			for _, c := range calls {
				c.res, c.err = store.EnqueueResult{}, err
			}
			return
		}
	}
	for _, c := range calls {
		if err := s.enqueueCalls(c.ctx, []*enqueueCall{c}); err != nil {
			c.res, c.err = store.EnqueueResult{}, err
		}
	}
}

// The group's transaction. Its statements go to the server in two round
// trips (pgx.Batch pipelines them; PostgreSQL runs them in order):
//
//  1. BEGIN, the advisory locks of the calls' keys, the lanes' and relay
//     spaces' rows created if missing, the lookups of duplicates and of
//     taken message ids, and, when a call has a bound, the spaces' pending
//     counts as committed (without a lock): everything that needs no lane.
//  2. The lanes' row locks, all in one statement, sorted; with a bound, the
//     spaces' row locks after them, sorted; the insert, which also upserts
//     the threads; COMMIT.
//
// So a lane's lock is held for about one round trip and the commit, not
// for the group's whole transaction: groups of other replicas (each
// replica has its own Store) that touch the same lanes wait for each other
// that long. The lanes' locks are taken before the ids are drawn (nextval,
// in the insert) and held to the commit, which keeps Seq in commit order
// within a lane.
//
// The bound is exact: the insert checks it under the spaces' locks and
// stores the group only when every call fits, which is what applying it
// call by call would give. When a call does not fit (by the counts read in
// round trip 1, or under the locks), the bound is applied call by call in
// Go: the locks are taken and the counts read in a round trip of their own,
// then the calls that fit are inserted; a group that the insert found past
// the bound committed nothing of its own and runs again that way
// (errPastBound).

// errPastBound: the insert stored nothing because a call of the group is
// past its relay space's bound; the transaction committed nothing else of
// the group's.
var errPastBound = errors.New("a call of the group past its relay space's bound")

// rollbackTimeout bounds the ROLLBACK of a failed group transaction.
const rollbackTimeout = 5 * time.Second

// enqueueCalls commits the calls' transaction (see enqueueTx), again after
// a deadlock, and once more with the bound applied call by call when the
// insert found a call past it.
func (s *Store) enqueueCalls(ctx context.Context, calls []*enqueueCall) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	var err error
	byCall := false
	for attempt := 0; attempt < maxTxAttempts; {
		err = s.enqueueConn(ctx, calls, byCall)
		if errors.Is(err, errPastBound) && !byCall {
			byCall = true
			continue
		}
		attempt++
		if !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return s.closedErr(err)
}

// enqueueConn runs enqueueTx on a connection of the pool and rolls back
// what it left open.
func (s *Store) enqueueConn(ctx context.Context, calls []*enqueueCall, byCall bool) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	err = s.enqueueTx(ctx, conn.Conn(), calls, byCall)
	if err != nil && conn.Conn().PgConn().TxStatus() != 'I' {
		// A statement failed before the COMMIT ran. Should the ROLLBACK
		// fail too, Release closes the connection, which it finds in a
		// transaction.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_, _ = conn.Exec(rctx, "ROLLBACK")
	}
	return err
}

// enqueueTx stores the calls' deliveries in one transaction on conn and sets
// each call's result, or its own error (ErrFull, ErrMessageIDExists); an
// error returned fails the transaction, which the caller rolls back if it
// is still open. byCall applies the bound call by call from the start.
//
// Locks are taken in one order by every group: the keys' advisory locks
// (every CallerRequestID's, then every DedupKey's, then every message id's
// of a call with UniqueMessageID, each kind sorted), then the missing
// lanes' and relay spaces' rows as they are created, then the lanes' rows,
// sorted, then the relay spaces' rows, sorted (by the bound's statement or
// by the pending trigger, which updates lanes then spaces), then the
// threads' rows, sorted. The single-call path is the group of one, so its
// order is the same.
func (s *Store) enqueueTx(ctx context.Context, conn *pgx.Conn, calls []*enqueueCall, byCall bool) error {
	for _, c := range calls {
		c.res, c.err = store.EnqueueResult{}, nil
	}
	var lanes, spaces []string
	limited := false
	for _, c := range calls {
		lanes, spaces = append(lanes, c.req.Lane), append(spaces, c.req.Space)
		limited = limited || c.req.Limit > 0
	}
	slices.Sort(lanes)
	lanes = slices.Compact(lanes)
	slices.Sort(spaces)
	spaces = slices.Compact(spaces)

	// Round trip 1: what needs no lane.
	var b pgx.Batch
	b.Queue("BEGIN")
	queueKeyLocks(&b, calls)
	// The missing rows are created before any lane is locked, sorted: a
	// new row's index entry makes a concurrent creator of the same row
	// wait for this transaction, as a lock would. Only the missing: the
	// conflict check of an insert waits for the transaction that holds
	// the existing row locked or updated (a group in round trip 2, a
	// claim), where the NOT EXISTS reads the snapshot and waits for none.
	b.Queue(`INSERT INTO lanes (lane) SELECT l FROM unnest($1::text[]) AS u (l)
		WHERE NOT EXISTS (SELECT 1 FROM lanes WHERE lane = u.l) ORDER BY 1 ON CONFLICT (lane) DO NOTHING`, lanes)
	b.Queue(`INSERT INTO spaces (space) SELECT s FROM unnest($1::text[]) AS u (s)
		WHERE NOT EXISTS (SELECT 1 FROM spaces WHERE space = u.s) ORDER BY 1 ON CONFLICT (space) DO NOTHING`, spaces)
	dups := queueDuplicates(&b, calls, s.fixedNow())
	held := queueMessageIDs(&b, calls)
	pending := map[string]int{}
	if limited && !byCall {
		b.Queue(`SELECT space, pending FROM spaces WHERE space = ANY($1::text[])`, spaces).Query(func(rows pgx.Rows) error {
			return collectPending(rows, pending)
		})
	}
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	fresh, dupOf, err := sortOut(calls, dups, held)
	if err != nil {
		return err
	}
	if len(fresh) > 0 {
		if limited && !byCall && !fitsAll(fresh, pending) {
			byCall = true
		}
		if byCall {
			err = s.insertByCall(ctx, conn, fresh, lanes, spaces)
		} else {
			err = s.insertAll(ctx, conn, fresh, lanes, spaces, limited)
		}
	} else {
		err = commit(ctx, conn, nil)
	}
	if err != nil {
		return err
	}
	for _, c := range calls {
		if e := dupOf[c]; e != nil {
			if e.err != nil {
				// The first was refused (ErrFull, ErrMessageIDExists):
				// this one is no duplicate of anything stored, and is
				// refused alike.
				c.res, c.err = e.res, e.err
				continue
			}
			c.res = store.EnqueueResult{Deliveries: e.res.Deliveries, Duplicate: true}
		}
	}
	return nil
}

// sortOut answers the calls that repeat a stored request (dups) or carry a
// message id a stored delivery holds (held), and returns the others that
// repeat no earlier call of the group (fresh) and, for those that do, the
// earlier call (dupOf); errMessageIDInGroup when two of the fresh carry one
// message id into one lane and one of them asks it to be unique.
func sortOut(calls []*enqueueCall, dups *duplicates, held map[*enqueueCall]store.Delivery) (fresh []*enqueueCall, dupOf map[*enqueueCall]*enqueueCall, err error) {
	type key struct{ class, space, val string }
	first := map[key]*enqueueCall{}
	dupOf = map[*enqueueCall]*enqueueCall{}
	for _, c := range calls {
		if dup := dups.of(c); dup != nil {
			c.res = store.EnqueueResult{Deliveries: dup, Duplicate: true}
			continue
		}
		ks := []key{}
		if c.req.CallerRequestID != "" {
			ks = append(ks, key{"caller", c.req.Space, c.req.CallerRequestID})
		}
		if c.req.DedupKey != "" {
			ks = append(ks, key{"dedup", c.req.Space, c.req.DedupKey})
		}
		var earlier *enqueueCall
		for _, k := range ks {
			if e := first[k]; e != nil && earlier == nil {
				earlier = e
			}
		}
		if earlier != nil {
			dupOf[c] = earlier
			continue
		}
		for _, k := range ks {
			first[k] = c
		}
		fresh = append(fresh, c)
	}
	type laneID struct{ lane, id string }
	carrier := map[laneID]*enqueueCall{}
	rest := fresh[:0:0]
	for _, c := range fresh {
		if d, ok := held[c]; ok {
			c.res = store.EnqueueResult{Deliveries: []store.Delivery{d}}
			c.err = fmt.Errorf("enqueue in lane %s: messageId %q held by delivery %s: %w",
				c.req.Lane, d.MessageID, d.ID, store.ErrMessageIDExists)
			continue
		}
		rest = append(rest, c)
		for _, nd := range c.req.Deliveries {
			if nd.MessageID == "" {
				continue
			}
			k := laneID{c.req.Lane, nd.MessageID}
			if o := carrier[k]; o != nil && o != c && (o.req.UniqueMessageID || c.req.UniqueMessageID) {
				return nil, nil, errMessageIDInGroup
			}
			carrier[k] = c
		}
	}
	return rest, dupOf, nil
}

// errMessageIDInGroup fails a group transaction in which a call with
// UniqueMessageID carries a message id of another call of the group, in
// the same lane: the group is run again call by call, so that the later
// call finds the earlier one's delivery stored. Such repeats arriving
// together at one replica are rare.
var errMessageIDInGroup = errors.New("a message id repeated within one group")

// queueMessageIDs queues the lookup, for each call with UniqueMessageID, of
// a stored delivery of its lane that carries one of its message ids; the
// map it returns holds the first found of each call once the batch has
// run. One statement for the group.
func queueMessageIDs(b *pgx.Batch, calls []*enqueueCall) map[*enqueueCall]store.Delivery {
	holder := map[*enqueueCall]store.Delivery{}
	var (
		idx       []int
		lanes, ms []string
	)
	for i, c := range calls {
		if !c.req.UniqueMessageID {
			continue
		}
		for _, nd := range c.req.Deliveries {
			if nd.MessageID != "" {
				idx, lanes, ms = append(idx, i), append(lanes, c.req.Lane), append(ms, nd.MessageID)
			}
		}
	}
	if len(idx) == 0 {
		return holder
	}
	queueByOrd(b, `SELECT u.ord, x.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (l, m, ord)
		CROSS JOIN LATERAL (SELECT `+columns+` FROM deliveries
			WHERE lane = u.l AND message_id = u.m AND message_id <> '' ORDER BY id LIMIT 1) x
		ORDER BY u.ord`, func(ord int, d store.Delivery) {
		c := calls[idx[ord-1]]
		if _, ok := holder[c]; !ok {
			holder[c] = d
		}
	}, lanes, ms)
	return holder
}

// duplicates are the stored deliveries of the requests the calls repeat,
// by CallerRequestID and by DedupKey.
type duplicates struct {
	byCaller, byDedup map[*enqueueCall][]store.Delivery
}

// of returns the deliveries of the request c repeats, if any: by
// CallerRequestID first, then by DedupKey.
func (d *duplicates) of(c *enqueueCall) []store.Delivery {
	if ds := d.byCaller[c]; ds != nil {
		return ds
	}
	return d.byDedup[c]
}

// queueDuplicates queues the lookups of the requests the calls repeat: by
// CallerRequestID, and by DedupKey within DedupWindow of the store's time
// (read after the keys' locks), as duplicates does for one call. Two
// statements for the whole group, not two per call; a call with both keys
// is looked up by both, and its CallerRequestID wins.
func queueDuplicates(b *pgx.Batch, calls []*enqueueCall, fixedNow any) *duplicates {
	d := &duplicates{byCaller: map[*enqueueCall][]store.Delivery{}, byDedup: map[*enqueueCall][]store.Delivery{}}
	var (
		idx          []int
		spaces, keys []string
	)
	for i, c := range calls {
		if c.req.CallerRequestID != "" {
			idx, spaces, keys = append(idx, i), append(spaces, c.req.Space), append(keys, c.req.CallerRequestID)
		}
	}
	if len(idx) > 0 {
		queueByOrd(b, `SELECT u.ord, x.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (s, k, ord)
			CROSS JOIN LATERAL (SELECT `+columns+` FROM deliveries
				WHERE space = u.s AND caller_request_id = u.k AND caller_request_id <> '' ORDER BY id) x
			ORDER BY u.ord, x.id`, func(ord int, dl store.Delivery) {
			c := calls[idx[ord-1]]
			d.byCaller[c] = append(d.byCaller[c], dl)
		}, spaces, keys)
	}
	var (
		didx       []int
		dspaces    []string
		dkeys      []string
		windowsMic []int64
	)
	for i, c := range calls {
		if c.req.DedupKey != "" {
			// Zero: no window, every earlier delivery counts.
			didx, dspaces, dkeys = append(didx, i), append(dspaces, c.req.Space), append(dkeys, c.req.DedupKey)
			windowsMic = append(windowsMic, max(c.req.DedupWindow.Microseconds(), 0))
		}
	}
	if len(didx) > 0 {
		queueByOrd(b, `WITH now AS MATERIALIZED (SELECT coalesce($4::timestamptz, clock_timestamp()) AS t)
			SELECT u.ord, x.* FROM now, unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u (s, k, w, ord)
			CROSS JOIN LATERAL (SELECT `+columns+` FROM deliveries
				WHERE space = u.s AND dedup_key = u.k AND dedup_key <> ''
					AND created_at > CASE WHEN u.w > 0 THEN now.t - u.w * interval '1 microsecond' ELSE '-infinity' END
				ORDER BY id) x
			ORDER BY u.ord, x.id`, func(ord int, dl store.Delivery) {
			c := calls[didx[ord-1]]
			d.byDedup[c] = append(d.byDedup[c], dl)
		}, dspaces, dkeys, windowsMic, fixedNow)
	}
	return d
}

// queueByOrd queues sql, whose rows are an ordinal and then the columns
// scanDelivery reads, and gives each row to fn when the batch runs.
func queueByOrd(b *pgx.Batch, sql string, fn func(ord int, d store.Delivery), args ...any) {
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var ord int64
			d, err := scanDelivery(ordRow{rows, &ord})
			if err != nil {
				return err
			}
			fn(int(ord), d)
		}
		return rows.Err()
	})
}

// ordRow scans a leading ordinal into ord before the row's other columns.
type ordRow struct {
	pgx.Row
	ord *int64
}

func (r ordRow) Scan(dest ...any) error { return r.Row.Scan(append([]any{r.ord}, dest...)...) }

// queueKeyLocks queues the advisory locks of the calls' keys, taken in a
// fixed order (see enqueueTx), if they have any.
func queueKeyLocks(b *pgx.Batch, calls []*enqueueCall) {
	type lock struct {
		class      int32
		space, key string
	}
	var locks []lock
	for _, c := range calls {
		if c.req.CallerRequestID != "" {
			locks = append(locks, lock{callerLockClass, c.req.Space, c.req.CallerRequestID})
		}
		if c.req.DedupKey != "" {
			locks = append(locks, lock{dedupLockClass, c.req.Space, c.req.DedupKey})
		}
		if c.req.UniqueMessageID {
			for _, nd := range c.req.Deliveries {
				if nd.MessageID != "" {
					locks = append(locks, lock{messageIDLockClass, c.req.Lane, nd.MessageID})
				}
			}
		}
	}
	if len(locks) == 0 {
		return
	}
	// Callers' locks, then dedup keys', then message ids' (callerLockClass
	// sorts after dedupLockClass as a number, hence the explicit rank).
	rank := func(c int32) int {
		switch c {
		case callerLockClass:
			return 0
		case dedupLockClass:
			return 1
		}
		return 2
	}
	slices.SortFunc(locks, func(a, b lock) int {
		return cmp.Or(cmp.Compare(rank(a.class), rank(b.class)), cmp.Compare(a.space, b.space), cmp.Compare(a.key, b.key))
	})
	locks = slices.Compact(locks)
	classes, spaces, keys := make([]int32, len(locks)), make([]string, len(locks)), make([]string, len(locks))
	for i, l := range locks {
		classes[i], spaces[i], keys[i] = l.class, l.space, l.key
	}
	// One statement, the locks taken in the array's order (a function in
	// the select list of an ordinality scan runs row by row, in order).
	b.Queue(`WITH l AS MATERIALIZED (
			SELECT pg_advisory_xact_lock(c, hashtext(current_schema() || '/' || s || '/' || k))
			FROM unnest($1::int[], $2::text[], $3::text[]) WITH ORDINALITY AS u (c, s, k, ord)
		)
		SELECT count(*) FROM l`, classes, spaces, keys)
}

// lockLanesSQL locks the lanes' rows, in the order of their names: ORDER
// BY is applied before the rows are locked. FOR NO KEY UPDATE excludes the
// other lane writers but not the foreign-key checks of deliveries' inserts.
const lockLanesSQL = `SELECT lane FROM lanes WHERE lane = ANY($1::text[]) ORDER BY lane FOR NO KEY UPDATE`

// lockSpacesSQL locks the relay spaces' rows, in order, and reads their
// pending counts.
const lockSpacesSQL = `SELECT space, pending FROM spaces WHERE space = ANY($1::text[]) ORDER BY space FOR NO KEY UPDATE`

// insertGroupSQL stores the deliveries of a group, given as parallel arrays
// in call order ($1 to $11); ids (and Seq) increase in that order. The
// store's time is read once, after the locks of the statements before it
// ($12 when injected). It stores nothing when a call of the group is past
// its relay space's bound, counting the calls before it in the space
// ($13 to $15, one element per call: space, deliveries, limit; empty for
// no check); the spaces' rows must be locked by then for the check to be
// exact. It upserts the threads ($16 names, $17 lanes, sorted by name, a
// busy thread's row rewritten at most once per $18 microseconds) and
// returns the deliveries.
const insertGroupSQL = `WITH now AS MATERIALIZED (SELECT coalesce($12::timestamptz, clock_timestamp()) AS t),
	fits AS MATERIALIZED (
		SELECT NOT EXISTS (
			SELECT 1 FROM (
				SELECT c.space, c.lim, sum(c.k) OVER (PARTITION BY c.space ORDER BY c.ord) AS upto
				FROM unnest($13::text[], $14::int[], $15::int[]) WITH ORDINALITY AS c (space, k, lim, ord)
			) c JOIN spaces p ON p.space = c.space
			WHERE c.lim > 0 AND p.pending + c.upto > c.lim
		) AS ok
	),
	ids AS (
		SELECT id, row_number() OVER (ORDER BY id) AS ord
		FROM (SELECT nextval('delivery_ids') AS id FROM fits, generate_series(1, cardinality($1::text[])) WHERE fits.ok) n
	),
	ins AS (
		INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id,
			caller_request_id, dedup_key, relay_thread, route, state, next_attempt_at, created_at, updated_at, queued_at)
		SELECT ids.id, ids.id, u.space, u.lane, u.grp, u.message, u.reply, u.message_id, u.request_id,
			u.caller, u.dedup, u.relay_thread, u.route, 'queued', now.t, now.t, now.t, now.t
		FROM now, ids JOIN unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
			WITH ORDINALITY AS u (grp, message, reply, message_id, relay_thread, request_id,
				space, lane, caller, dedup, route, ord) USING (ord)
		RETURNING ` + columns + `
	),
	threads_touched AS (
		INSERT INTO threads (relay_name, lane, created_at, updated_at)
		SELECT u.t, u.l, now.t, now.t FROM now, fits, unnest($16::text[], $17::text[]) AS u (t, l)
		WHERE fits.ok ORDER BY u.t
		ON CONFLICT (relay_name) DO UPDATE SET updated_at = excluded.updated_at
		WHERE threads.updated_at <= excluded.updated_at - $18::bigint * interval '1 microsecond'
	)
	SELECT * FROM ins`

// fitsAll reports whether every call fits its relay space's bound, the
// calls before it in the space counted, by the pending counts given.
func fitsAll(calls []*enqueueCall, pending map[string]int) bool {
	p := maps.Clone(pending)
	for _, c := range calls {
		p[c.req.Space] += len(c.req.Deliveries)
		if c.req.Limit > 0 && p[c.req.Space] > c.req.Limit {
			return false
		}
	}
	return true
}

// insertAll inserts every call's deliveries in one round trip with the
// lanes' locks and the commit, or returns errPastBound (committed, having
// stored nothing) when a call is past its space's bound.
func (s *Store) insertAll(ctx context.Context, conn *pgx.Conn, calls []*enqueueCall, lanes, spaces []string, limited bool) error {
	var b pgx.Batch
	b.Queue(lockLanesSQL, lanes)
	var cSpaces []string
	var cK, cLimit []int32
	if limited {
		b.Queue(lockSpacesSQL, spaces)
		for _, c := range calls {
			cSpaces = append(cSpaces, c.req.Space)
			cK, cLimit = append(cK, int32(len(c.req.Deliveries))), append(cLimit, int32(min(c.req.Limit, math.MaxInt32)))
		}
	}
	var stored []store.Delivery
	queueInsert(&b, calls, cSpaces, cK, cLimit, s.fixedNow(), &stored)
	if err := commit(ctx, conn, &b); err != nil {
		return err
	}
	if len(stored) == 0 {
		return errPastBound
	}
	answer(calls, stored)
	return nil
}

// insertByCall locks the lanes and relay spaces, refuses the calls past
// their space's bound (ErrFull, in call order) and inserts the rest.
func (s *Store) insertByCall(ctx context.Context, conn *pgx.Conn, calls []*enqueueCall, lanes, spaces []string) error {
	var b pgx.Batch
	b.Queue(lockLanesSQL, lanes)
	pending := map[string]int{}
	b.Queue(lockSpacesSQL, spaces).Query(func(rows pgx.Rows) error { return collectPending(rows, pending) })
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	var fit []*enqueueCall
	for _, c := range calls {
		k := len(c.req.Deliveries)
		if p := pending[c.req.Space]; c.req.Limit > 0 && p+k > c.req.Limit {
			c.err = fmt.Errorf("enqueue in space %s: %d pending, limit %d: %w", c.req.Space, p, c.req.Limit, store.ErrFull)
			continue
		}
		pending[c.req.Space] += k
		fit = append(fit, c)
	}
	b = pgx.Batch{}
	var stored []store.Delivery
	if len(fit) > 0 {
		queueInsert(&b, fit, nil, nil, nil, s.fixedNow(), &stored)
	}
	if err := commit(ctx, conn, &b); err != nil {
		return err
	}
	answer(fit, stored)
	return nil
}

// queueInsert queues insertGroupSQL for the calls' deliveries, the bound
// checked by cSpaces, cK and cLimit (see insertGroupSQL); the deliveries
// stored go to out, in id order, when the batch runs.
func queueInsert(b *pgx.Batch, calls []*enqueueCall, cSpaces []string, cK, cLimit []int32, now any, out *[]store.Delivery) {
	var (
		grp, reply, messageID, relayThread, requestID, space, lane, caller, dedup, route []string
		message                                                                          [][]byte
		threads                                                                          = map[string]string{}
	)
	for _, c := range calls {
		for i, nd := range c.req.Deliveries {
			grp, message, reply, messageID = append(grp, nd.Group), append(message, nd.Message), append(reply, nd.Reply), append(messageID, nd.MessageID)
			relayThread, requestID = append(relayThread, nd.RelayThread), append(requestID, c.requestIDs[i])
			space, lane, caller, dedup, route = append(space, c.req.Space), append(lane, c.req.Lane),
				append(caller, c.req.CallerRequestID), append(dedup, c.req.DedupKey), append(route, c.req.Route)
			if nd.RelayThread != "" {
				if _, ok := threads[nd.RelayThread]; !ok {
					threads[nd.RelayThread] = c.req.Lane
				}
			}
		}
	}
	// Sorted: an upsert may not touch a row twice, and a fixed order keeps
	// concurrent groups from locking threads crosswise. A busy thread's row
	// is rewritten at most once per store.ThreadTouch: each rewrite is a
	// new row version and a new entry in threads_updated. The row is
	// locked either way, so a concurrent Prune waits and then sees it in
	// use.
	names := slices.Sorted(maps.Keys(threads))
	tlanes := make([]string, len(names))
	for i, t := range names {
		tlanes[i] = threads[t]
	}
	b.Queue(insertGroupSQL, grp, message, reply, messageID, relayThread, requestID, space, lane, caller, dedup, route,
		now, cSpaces, cK, cLimit, names, tlanes, store.ThreadTouch.Microseconds()).Query(func(rows pgx.Rows) error {
		ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Delivery, error) { return scanDelivery(row) })
		if err != nil {
			return err
		}
		// RETURNING gives no order.
		slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
		*out = ds
		return nil
	})
}

// answer gives each call its deliveries of stored, which holds theirs in
// call order.
func answer(calls []*enqueueCall, stored []store.Delivery) {
	for _, c := range calls {
		k := len(c.req.Deliveries)
		c.res = store.EnqueueResult{Deliveries: stored[:k:k]}
		stored = stored[k:]
	}
}

// commit sends b, if any, with a COMMIT after it, in one round trip.
func commit(ctx context.Context, conn *pgx.Conn, b *pgx.Batch) error {
	if b == nil {
		b = &pgx.Batch{}
	}
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			// A transaction that failed ends with ROLLBACK; the error
			// that failed it comes first.
			return errors.New("commit: rolled back")
		}
		return nil
	})
	return conn.SendBatch(ctx, b).Close()
}

// collectPending reads rows of a relay space and its pending count into
// pending.
func collectPending(rows pgx.Rows, pending map[string]int) error {
	var name string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&name, &n}, func() error { pending[name] = n; return nil })
	return err
}
