package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/jackc/pgx/v5"
)

// columns is the select list that scanDelivery reads.
const columns = `id, seq, space, lane, grp, message, reply, message_id, request_id,
	caller_request_id, dedup_key, relay_thread, route, state, attempts, next_attempt_at,
	last_status, last_error, created_at, updated_at, queued_at, done_at,
	google_message, google_thread, is_batch, batch_id`

func scanDelivery(row pgx.Row) (store.Delivery, error) {
	var (
		d                              store.Delivery
		id                             int64
		batch                          *int64
		next, created, updated, queued time.Time
		doneAt                         *time.Time
		state                          string
		message                        []byte
	)
	err := row.Scan(&id, &d.Seq, &d.Space, &d.Lane, &d.Group, &message, &d.Reply, &d.MessageID, &d.RequestID,
		&d.CallerRequestID, &d.DedupKey, &d.RelayThread, &d.Route, &state, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &updated, &queued, &doneAt,
		&d.GoogleMessage, &d.GoogleThread, &d.Batch, &batch)
	if err != nil {
		return store.Delivery{}, err
	}
	d.ID = store.FormatID(id)
	d.Message = json.RawMessage(message)
	d.State = store.State(state)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.QueuedAt = next.UTC(), created.UTC(), updated.UTC(), queued.UTC()
	d.DoneAt = fromNull(doneAt)
	if batch != nil {
		d.BatchID = store.FormatID(*batch)
	}
	return d, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func queryDeliveries(ctx context.Context, q querier, sql string, args ...any) ([]store.Delivery, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Delivery, error) { return scanDelivery(row) })
}

func getDelivery(ctx context.Context, q querier, id int64) (store.Delivery, error) {
	d, err := scanDelivery(q.QueryRow(ctx, `SELECT `+columns+` FROM deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, store.ErrNotFound
	}
	return d, err
}

// Enqueue implements store.Queue.
//
// Of concurrent requests with the same CallerRequestID or DedupKey in one
// relay space exactly one is stored: a keyed request first takes
// transaction-scoped advisory locks on its keys (see lockGroupKeys), so a
// repeat in another transaction checks for duplicates only once the first
// has committed or rolled back, even when the two name different lanes; a
// repeat in the same group is answered with the first's deliveries. (A unique index cannot say it: a
// request stores several deliveries under one key, and a DedupKey may repeat
// once its window has passed.) A request with UniqueMessageID locks each of
// its message ids in its lane the same way, so of concurrent requests that
// carry one id into one lane, from any relay space and any replica, one is
// stored and the others find it. Then, for a request that is no duplicate, the
// lane's row lock, taken before the ids are drawn and held to the commit,
// orders Seq by commit within the lane, and, for a request with a Limit, the
// relay space's row lock, taken after it, makes the space's queue bound
// exact. Concurrent calls commit together (see group.go), in two round
// trips: the locks are taken once per group, in one order, the lanes' for
// about one round trip and the commit, and the bound is kept across the
// group, call by call.
func (s *Store) Enqueue(ctx context.Context, req store.EnqueueRequest) (store.EnqueueResult, error) {
	if req.Space == "" || req.Lane == "" {
		return store.EnqueueResult{}, errors.New("enqueue: space and lane are required")
	}
	if len(req.Deliveries) == 0 {
		return store.EnqueueResult{}, errors.New("enqueue: no deliveries")
	}
	requestIDs := make([]string, len(req.Deliveries))
	for i := range requestIDs {
		requestIDs[i] = store.NewRequestID()
	}
	return s.enqueueGrouped(&enqueueCall{ctx: ctx, req: req, requestIDs: requestIDs, done: make(chan struct{})})
}

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int))
// of Enqueue's dedup keys, taken by lockGroupKeys: the bytes of "gcrq" and "gcdk". The second key is
// a hash of the schema, the relay space and the key; two keys that share a
// hash only wait for each other. The two-key form never meets
// MigrationLockKey, which uses the one-key form.
const (
	callerLockClass int32 = 0x67637271
	dedupLockClass  int32 = 0x6763646b
	// messageIDLockClass ("gcmi") locks a message id of a lane
	// (EnqueueRequest.UniqueMessageID); its second key hashes the lane in
	// the relay space's place.
	messageIDLockClass int32 = 0x67636d69
)

// Claim implements store.Queue.
//
// A lane has one consumer, its lease holder, and the lane's row lock keeps
// the other writers of its pending rows out; still, the heads are locked FOR
// UPDATE SKIP LOCKED, so that a head some other transaction holds (an
// operator's call in flight) is left for the next claim instead of making
// this one wait. The heads are chosen before they are locked, so a skipped
// head's group yields nothing this time: its next delivery never overtakes
// it.
func (s *Store) Claim(ctx context.Context, lease store.Lease, max int) ([]store.Delivery, error) {
	if max <= 0 {
		return nil, nil
	}
	var out []store.Delivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		lane, err := s.lockLease(ctx, tx, lease, true)
		if err != nil {
			return err
		}
		if lane.pause.Active(lane.now) {
			return nil
		}
		// The head of a group (relay space and group key) is its pending
		// row of lowest seq; it is claimable when queued and due, and its
		// relay space is not paused. heads walks the partial index
		// deliveries_pending from group to group, one index lookup per
		// group: the first row past a group is the next group's head. So a
		// claim costs the lane's groups, not its backlog, which only grows
		// while Google is out of reach. It is planned at each run, with
		// its values (pgx.QueryExecModeExec: an unnamed statement), never
		// from a cached generic plan: a relay's first claims meet a small
		// table, whose generic plan read every pending row of the lane
		// through deliveries_lane_pending and sorted them, and was kept
		// while the backlog grew (a claim took 26 ms at 2,000 pending in
		// one lane, holding the lane's lock against its accepts).
		out, err = queryDeliveries(ctx, tx, `WITH RECURSIVE heads AS (
				(SELECT id, space, grp FROM deliveries
					WHERE lane = $2 AND state IN ('queued', 'sending')
					ORDER BY space, grp, seq LIMIT 1)
				UNION ALL
				SELECT n.id, n.space, n.grp FROM heads h CROSS JOIN LATERAL (
					SELECT id, space, grp FROM deliveries
					WHERE lane = $2 AND state IN ('queued', 'sending') AND (space, grp) > (h.space, h.grp)
					ORDER BY space, grp, seq LIMIT 1) n
			)
			UPDATE deliveries
			SET state = 'sending', attempts = attempts + 1, updated_at = $1
			WHERE id IN (
				SELECT d.id FROM deliveries d
				WHERE d.id IN (
					SELECT h.id FROM heads JOIN deliveries h ON h.id = heads.id
					WHERE h.state = 'queued' AND h.next_attempt_at <= $1
						AND NOT EXISTS (SELECT 1 FROM spaces p WHERE p.space = h.space AND p.pause_reason <> ''
							AND (p.paused_until IS NULL OR p.paused_until > $1))
					ORDER BY h.seq
					LIMIT $3
				)
				FOR UPDATE SKIP LOCKED
			)
			RETURNING `+columns, pgx.QueryExecModeExec, lane.now, lease.Lane, max)
		if err != nil {
			return err
		}
		// RETURNING gives no order; claims are handed out oldest first.
		slices.SortFunc(out, func(a, b store.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return out, nil
}

// Finish implements store.Queue.
func (s *Store) Finish(ctx context.Context, lease store.Lease, id string, out store.Outcome) (store.Delivery, error) {
	switch out.State {
	case store.StateDone, store.StateQueued, store.StateDead, store.StateDropped:
	default:
		return store.Delivery{}, fmt.Errorf("finish %s: outcome state %q: want done, queued, dead or dropped", id, out.State)
	}
	n, ok := store.ParseID(id)
	if !ok {
		return store.Delivery{}, fmt.Errorf("finish %s: %w", id, store.ErrNotFound)
	}
	var d store.Delivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		lane, err := s.lockLease(ctx, tx, lease, false)
		if err != nil {
			return err
		}
		cur, err := getDelivery(ctx, tx, n)
		if err != nil {
			return err
		}
		if cur.State != store.StateSending || cur.Lane != lease.Lane {
			return fmt.Errorf("delivery is %s in lane %s: %w", cur.State, cur.Lane, store.ErrConflict)
		}
		now := lane.now
		switch out.State {
		case store.StateQueued:
			retry := out.RetryAt
			if retry.IsZero() {
				retry = now
			}
			_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'queued', next_attempt_at = $1, last_status = $2,
				last_error = $3, updated_at = $4 WHERE id = $5`, retry, out.Status, cleanText(out.Error), now, n)
		default:
			// Final: the row and, for a batch, its members.
			_, err = tx.Exec(ctx, `UPDATE deliveries SET state = $1, last_status = $2, last_error = $3,
				google_message = $4, google_thread = $5, done_at = $6, updated_at = $6
				WHERE id = $7 OR batch_id = $7`,
				string(out.State), out.Status, cleanText(out.Error), out.GoogleMessage, out.GoogleThread, now, n)
			if err == nil && out.State == store.StateDone && cur.RelayThread != "" && out.GoogleThread != "" {
				// The first Google thread name is the one: later
				// deliveries reply in it.
				_, err = tx.Exec(ctx, `UPDATE threads SET google_name = CASE WHEN google_name = '' THEN $1 ELSE google_name END,
					updated_at = $2 WHERE relay_name = $3`, out.GoogleThread, now, cur.RelayThread)
			}
		}
		if err != nil {
			return err
		}
		if err := insertAttempt(ctx, tx, n, cur, lease.Owner, out, now); err != nil {
			return err
		}
		d, err = getDelivery(ctx, tx, n)
		return err
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("finish %s: %w", id, err)
	}
	return d, nil
}

// FreezeBatch implements store.Queue.
func (s *Store) FreezeBatch(ctx context.Context, lease store.Lease, ids []string, msg json.RawMessage) (store.Delivery, error) {
	if len(ids) == 0 {
		return store.Delivery{}, fmt.Errorf("freeze batch: no deliveries: %w", store.ErrConflict)
	}
	nums := make([]int64, len(ids))
	for i, id := range ids {
		n, ok := store.ParseID(id)
		if !ok {
			return store.Delivery{}, fmt.Errorf("freeze batch: %s: %w", id, store.ErrNotFound)
		}
		nums[i] = n
	}
	requestID := store.NewRequestID()
	var batch store.Delivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		lane, err := s.lockLease(ctx, tx, lease, true)
		if err != nil {
			return err
		}
		// The lane's lock keeps its queued rows as they are read here.
		found, err := queryDeliveries(ctx, tx, `SELECT `+columns+` FROM deliveries WHERE id = ANY($1)`, nums)
		if err != nil {
			return err
		}
		byID := make(map[string]store.Delivery, len(found))
		for _, d := range found {
			byID[d.ID] = d
		}
		members := make([]store.Delivery, len(nums))
		for i, n := range nums {
			d, ok := byID[store.FormatID(n)]
			if !ok {
				return fmt.Errorf("%s: %w", ids[i], store.ErrNotFound)
			}
			first := members[0]
			if i == 0 {
				first = d
			}
			switch {
			case d.State != store.StateQueued || d.Attempts != 0 || d.Batch:
				return fmt.Errorf("%s is %s, attempts %d, batch %t: %w", d.ID, d.State, d.Attempts, d.Batch, store.ErrConflict)
			case d.Lane != lease.Lane:
				return fmt.Errorf("%s is in lane %s, not %s: %w", d.ID, d.Lane, lease.Lane, store.ErrConflict)
			case d.MessageID != "":
				return fmt.Errorf("%s has a messageId: %w", d.ID, store.ErrConflict)
			case d.Group != first.Group || d.Space != first.Space || d.Route != first.Route || d.Reply != first.Reply:
				return fmt.Errorf("%s differs from %s in group, space, route or reply option: %w", d.ID, first.ID, store.ErrConflict)
			case i > 0 && d.Seq <= members[i-1].Seq:
				return fmt.Errorf("%s is out of order: %w", d.ID, store.ErrConflict)
			}
			members[i] = d
		}
		first, last := members[0], members[len(members)-1]
		// No other pending delivery of the group may sit between the
		// members, or the batch would overtake it.
		var between int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM deliveries
			WHERE lane = $1 AND space = $5 AND grp = $2 AND state IN ('queued', 'sending') AND seq > $3 AND seq < $4`,
			first.Lane, first.Group, first.Seq, last.Seq, first.Space).Scan(&between); err != nil {
			return err
		}
		if len(members) > 1 && between != len(members)-2 {
			return fmt.Errorf("other deliveries of group %q lie between %s and %s: %w", first.Group, first.ID, last.ID, store.ErrConflict)
		}
		relayThread := ""
		for _, m := range members {
			if m.RelayThread != "" {
				relayThread = m.RelayThread
				break
			}
		}
		batch, err = scanDelivery(tx.QueryRow(ctx, `INSERT INTO deliveries (id, seq, space, lane, grp, message, reply,
			message_id, request_id, caller_request_id, dedup_key, relay_thread, route, state,
			next_attempt_at, created_at, updated_at, queued_at, is_batch)
			VALUES (nextval('delivery_ids'), $1, $2, $3, $4, $5, $6, '', $7, '', '', $8, $11, 'queued', $9, $9, $9, $10, true)
			RETURNING `+columns,
			first.Seq, first.Space, first.Lane, first.Group, []byte(msg), first.Reply,
			requestID, relayThread, lane.now, first.QueuedAt, first.Route))
		if err != nil {
			return err
		}
		batchID, _ := store.ParseID(batch.ID)
		_, err = tx.Exec(ctx, `UPDATE deliveries SET state = 'batched', batch_id = $1, updated_at = $2
			WHERE id = ANY($3)`, batchID, lane.now, nums)
		return err
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("freeze batch: %w", err)
	}
	return batch, nil
}

// Thread implements store.Queue.
func (s *Store) Thread(ctx context.Context, relayName string) (store.Thread, error) {
	if s.closed.Load() {
		return store.Thread{}, store.ErrClosed
	}
	var t store.Thread
	err := s.pool.QueryRow(ctx, `SELECT relay_name, lane, google_name, created_at, updated_at
		FROM threads WHERE relay_name = $1`, relayName).Scan(&t.RelayName, &t.Lane, &t.GoogleName, &t.CreatedAt, &t.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Thread{}, fmt.Errorf("thread %s: %w", relayName, store.ErrNotFound)
	}
	if err != nil {
		return store.Thread{}, fmt.Errorf("thread %s: %w", relayName, s.closedErr(err))
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// Incident implements store.Incidents. One upsert: PostgreSQL locks the key's
// row (or, for a new key, arbitrates the concurrent inserts) and evaluates
// the update on its latest version, so concurrent notifications from several
// replicas see one another.
func (s *Store) Incident(ctx context.Context, key string, firing bool) (int64, error) {
	if key == "" {
		return 0, errors.New("incident: empty key")
	}
	var number int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO incidents (key, number, firing, updated_at)
			VALUES ($1, 1, $2, coalesce($3::timestamptz, clock_timestamp()))
			ON CONFLICT (key) DO UPDATE SET
				number = incidents.number + CASE WHEN excluded.firing AND NOT incidents.firing THEN 1 ELSE 0 END,
				firing = excluded.firing,
				updated_at = excluded.updated_at
			RETURNING number`, textKey(key), firing, s.fixedNow()).Scan(&number)
	})
	if err != nil {
		return 0, fmt.Errorf("incident %q: %w", key, err)
	}
	return number, nil
}
