package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// Group commit. Concurrent Enqueue calls of one Store are gathered into one
// transaction: one WAL flush, one lock of each lane and relay space, one
// insert for every delivery of the group, instead of one of each per call.
// A call joins the store's queue of waiting calls; while fewer than
// maxCommitters committers run, it starts one. A committer takes up to
// maxGroup waiting calls, oldest first, of lanes no other committer of the
// store is committing in; commits them together, answers each, and goes on
// while such calls wait. So a lone call commits at once, as before; under
// load each commit carries the calls that arrived during the last one, and
// the committers of one store never queue on each other's lane locks.
//
// Each call is answered only after the commit that holds its deliveries (or
// the one that failed). A group whose transaction fails for a reason that
// is not a deadlock is run again call by call, so that one caller's failure
// (a value the database refuses) fails no other caller.

// maxCommitters bounds the group transactions of one Store running at once,
// each in lanes of its own.
const maxCommitters = 4

// maxGroup bounds the calls committed in one transaction.
const maxGroup = 256

// enqueueCall is one Enqueue waiting for its group's commit.
type enqueueCall struct {
	ctx        context.Context
	req        store.EnqueueRequest
	requestIDs []string
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
}

// enqueueGrouped queues c and waits for its answer.
func (s *Store) enqueueGrouped(c *enqueueCall) (store.EnqueueResult, error) {
	g := &s.group
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	start := g.running < maxCommitters
	if start {
		g.running++
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

// commitLoop commits groups of waiting calls until none it may take waits:
// the calls of a lane another committer is in wait for that one, which
// takes them on its next round.
func (s *Store) commitLoop() {
	g := &s.group
	var lanes []string
	for {
		g.mu.Lock()
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
		err := s.inTx(ctx, func(tx pgx.Tx) error { return s.enqueueTx(ctx, tx, calls) })
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
		err := s.inTx(c.ctx, func(tx pgx.Tx) error { return s.enqueueTx(c.ctx, tx, []*enqueueCall{c}) })
		if err != nil {
			c.res, c.err = store.EnqueueResult{}, err
		}
	}
}

// enqueueTx stores the calls' deliveries in tx and sets each call's result,
// or its own error (ErrFull); an error returned fails the transaction.
//
// Locks are taken in one order by every group: the keys' advisory locks
// (every CallerRequestID's, then every DedupKey's, then every message id's
// of a call with UniqueMessageID, each kind sorted), then
// the lanes' rows, sorted, then the relay spaces' rows, sorted. The
// single-call path is the group of one, so its order is the same.
func (s *Store) enqueueTx(ctx context.Context, tx pgx.Tx, calls []*enqueueCall) error {
	for _, c := range calls {
		c.res, c.err = store.EnqueueResult{}, nil
	}
	now, err := s.lockGroupKeys(ctx, tx, calls)
	if err != nil {
		return err
	}
	// Duplicates of what is stored, then of an earlier call of the group.
	type key struct{ class, space, val string }
	first := map[key]*enqueueCall{}
	dupOf := map[*enqueueCall]*enqueueCall{}
	var fresh []*enqueueCall
	stored, err := groupDuplicates(ctx, tx, calls, now)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if dup := stored[c]; dup != nil {
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
	fresh, err = refuseTakenMessageIDs(ctx, tx, fresh)
	if err != nil {
		return err
	}
	if len(fresh) > 0 {
		if err := s.insertGroup(ctx, tx, fresh); err != nil {
			return err
		}
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

// errMessageIDInGroup fails a group transaction in which a call with
// UniqueMessageID carries a message id of another call of the group, in
// the same lane: the group is run again call by call, so that the later
// call finds the earlier one's delivery stored. Such repeats arriving
// together at one replica are rare.
var errMessageIDInGroup = errors.New("a message id repeated within one group")

// refuseTakenMessageIDs answers ErrMessageIDExists to each call with
// UniqueMessageID of which a message id is carried by a stored delivery of
// its lane, and returns the other calls; errMessageIDInGroup when one of
// those carries an id of another. One statement for the group.
func refuseTakenMessageIDs(ctx context.Context, tx pgx.Tx, calls []*enqueueCall) ([]*enqueueCall, error) {
	type laneID struct{ lane, id string }
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
		return calls, nil
	}
	holder := map[*enqueueCall]store.Delivery{}
	err := collectByOrd(ctx, tx, `SELECT u.ord, x.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (l, m, ord)
		CROSS JOIN LATERAL (SELECT `+columns+` FROM deliveries
			WHERE lane = u.l AND message_id = u.m AND message_id <> '' ORDER BY id LIMIT 1) x
		ORDER BY u.ord`, func(ord int, d store.Delivery) {
		c := calls[idx[ord-1]]
		if _, ok := holder[c]; !ok {
			holder[c] = d
		}
	}, lanes, ms)
	if err != nil {
		return nil, err
	}
	rest := calls[:0:0]
	carrier := map[laneID]*enqueueCall{}
	for _, c := range calls {
		if d, ok := holder[c]; ok {
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
				return nil, errMessageIDInGroup
			}
			carrier[k] = c
		}
	}
	return rest, nil
}

// groupDuplicates returns, for each call that repeats an earlier request,
// that request's deliveries: by CallerRequestID first, then by DedupKey
// within DedupWindow of now, as duplicates does for one call. Two
// statements for the whole group, not two per call.
func groupDuplicates(ctx context.Context, tx pgx.Tx, calls []*enqueueCall, now time.Time) (map[*enqueueCall][]store.Delivery, error) {
	found := map[*enqueueCall][]store.Delivery{}
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
		err := collectByOrd(ctx, tx, `SELECT u.ord, x.* FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (s, k, ord)
			CROSS JOIN LATERAL (SELECT `+columns+` FROM deliveries
				WHERE space = u.s AND caller_request_id = u.k AND caller_request_id <> '' ORDER BY id) x
			ORDER BY u.ord, x.id`, func(ord int, d store.Delivery) {
			c := calls[idx[ord-1]]
			found[c] = append(found[c], d)
		}, spaces, keys)
		if err != nil {
			return nil, err
		}
	}
	idx, spaces, keys = idx[:0], spaces[:0], keys[:0]
	var since []time.Time
	for i, c := range calls {
		if c.req.DedupKey != "" && found[c] == nil {
			var t time.Time // the zero time (year 1) precedes every delivery
			if c.req.DedupWindow > 0 {
				t = now.Add(-c.req.DedupWindow)
			}
			idx, spaces, keys, since = append(idx, i), append(spaces, c.req.Space), append(keys, c.req.DedupKey), append(since, t)
		}
	}
	if len(idx) > 0 {
		err := collectByOrd(ctx, tx, `SELECT u.ord, x.* FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS u (s, k, t, ord)
			CROSS JOIN LATERAL (SELECT `+columns+` FROM deliveries
				WHERE space = u.s AND dedup_key = u.k AND dedup_key <> '' AND created_at > u.t ORDER BY id) x
			ORDER BY u.ord, x.id`, func(ord int, d store.Delivery) {
			c := calls[idx[ord-1]]
			found[c] = append(found[c], d)
		}, spaces, keys, since)
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// collectByOrd runs sql, whose rows are an ordinal and then the columns
// scanDelivery reads, and gives each row to fn.
func collectByOrd(ctx context.Context, tx pgx.Tx, sql string, fn func(ord int, d store.Delivery), args ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var ord int64
		d, err := scanDelivery(ordRow{rows, &ord})
		if err != nil {
			return err
		}
		fn(int(ord), d)
	}
	return rows.Err()
}

// ordRow scans a leading ordinal into ord before the row's other columns.
type ordRow struct {
	pgx.Row
	ord *int64
}

func (r ordRow) Scan(dest ...any) error { return r.Row.Scan(append([]any{r.ord}, dest...)...) }

// lockGroupKeys takes the advisory locks of the calls' keys in a fixed order
// (see enqueueTx) and returns the store's time read after them.
func (s *Store) lockGroupKeys(ctx context.Context, tx pgx.Tx, calls []*enqueueCall) (time.Time, error) {
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
		return time.Time{}, nil
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
	// the select list of an ordinality scan runs row by row, in order), and
	// the clock read after the last.
	var now time.Time
	if err := tx.QueryRow(ctx, `WITH l AS MATERIALIZED (
			SELECT pg_advisory_xact_lock(c, hashtext(current_schema() || '/' || s || '/' || k))
			FROM unnest($1::int[], $2::text[], $3::text[]) WITH ORDINALITY AS u (c, s, k, ord)
		)
		SELECT coalesce($4::timestamptz, clock_timestamp()) FROM (SELECT count(*) FROM l) n`,
		classes, spaces, keys, s.fixedNow()).Scan(&now); err != nil {
		return time.Time{}, err
	}
	return now.UTC(), nil
}

// insertGroupSQL stores the deliveries of a group, given as parallel arrays
// in call order; ids (and Seq) increase in that order.
const insertGroupSQL = `WITH ids AS (
		SELECT id, row_number() OVER (ORDER BY id) AS ord
		FROM (SELECT nextval('delivery_ids') AS id FROM generate_series(1, cardinality($1::text[]))) n
	)
	INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id,
		caller_request_id, dedup_key, relay_thread, route, state, next_attempt_at, created_at, updated_at, queued_at)
	SELECT ids.id, ids.id, u.space, u.lane, u.grp, u.message, u.reply, u.message_id, u.request_id,
		u.caller, u.dedup, u.relay_thread, u.route, 'queued', $12, $12, $12, $12
	FROM ids JOIN unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
		WITH ORDINALITY AS u (grp, message, reply, message_id, relay_thread, request_id,
			space, lane, caller, dedup, route, ord) USING (ord)
	RETURNING ` + columns

// insertGroup locks the calls' lanes and relay spaces, refuses the calls
// past their space's bound (ErrFull, in call order) and inserts the rest.
func (s *Store) insertGroup(ctx context.Context, tx pgx.Tx, calls []*enqueueCall) error {
	var lanes, spaces []string
	for _, c := range calls {
		lanes = append(lanes, c.req.Lane)
		spaces = append(spaces, c.req.Space)
	}
	slices.Sort(lanes)
	lanes = slices.Compact(lanes)
	slices.Sort(spaces)
	spaces = slices.Compact(spaces)
	var now time.Time
	for _, l := range lanes {
		row, err := s.lockLane(ctx, tx, l, true)
		if err != nil {
			return err
		}
		now = row.now
	}
	// The relay spaces' rows, locked after the lanes' (as the pending
	// triggers take them) to the commit: they make the bound exact.
	rows, err := tx.Query(ctx, `INSERT INTO spaces (space) SELECT unnest($1::text[]) ORDER BY 1
		ON CONFLICT (space) DO UPDATE SET pending = spaces.pending RETURNING space, pending`, spaces)
	if err != nil {
		return err
	}
	pending := map[string]int{}
	var name string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&name, &n}, func() error { pending[name] = n; return nil }); err != nil {
		return err
	}

	var (
		grp, reply, messageID, relayThread, requestID, space, lane, caller, dedup, route []string
		message                                                                          [][]byte
		stored                                                                           []*enqueueCall
		threads                                                                          = map[string]string{}
	)
	for _, c := range calls {
		k := len(c.req.Deliveries)
		if p := pending[c.req.Space]; c.req.Limit > 0 && p+k > c.req.Limit {
			c.err = fmt.Errorf("enqueue in space %s: %d pending, limit %d: %w", c.req.Space, p, c.req.Limit, store.ErrFull)
			continue
		}
		pending[c.req.Space] += k
		stored = append(stored, c)
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
	if len(stored) == 0 {
		return nil
	}
	ds, err := queryDeliveries(ctx, tx, insertGroupSQL, grp, message, reply, messageID, relayThread, requestID,
		space, lane, caller, dedup, route, now)
	if err != nil {
		return err
	}
	slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range stored {
		k := len(c.req.Deliveries)
		c.res = store.EnqueueResult{Deliveries: ds[:k:k]}
		ds = ds[k:]
	}
	if len(threads) > 0 {
		names := make([]string, 0, len(threads))
		for t := range threads {
			names = append(names, t)
		}
		// Sorted: an upsert may not touch a row twice, and a fixed order
		// keeps concurrent groups from locking threads crosswise.
		slices.Sort(names)
		tlanes := make([]string, len(names))
		for i, t := range names {
			tlanes[i] = threads[t]
		}
		// A busy thread's row is rewritten at most once per
		// store.ThreadTouch: each rewrite is a new row version and a new
		// entry in threads_updated. The row is locked either way, so a
		// concurrent Prune waits and then sees it in use.
		if _, err := tx.Exec(ctx, `INSERT INTO threads (relay_name, lane, created_at, updated_at)
			SELECT t, l, $3, $3 FROM unnest($1::text[], $2::text[]) AS u (t, l) ORDER BY t
			ON CONFLICT (relay_name) DO UPDATE SET updated_at = excluded.updated_at
			WHERE threads.updated_at <= $4`,
			names, tlanes, now, now.Add(-store.ThreadTouch)); err != nil {
			return err
		}
	}
	return nil
}
