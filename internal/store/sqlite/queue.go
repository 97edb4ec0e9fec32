package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// columns is the select list that scanDelivery reads.
const columns = `id, seq, space, lane, grp, message, reply, message_id, request_id,
	caller_request_id, dedup_key, relay_thread, route, state, attempts, next_attempt_at,
	last_status, last_error, created_at, updated_at, queued_at, done_at,
	google_message, google_thread, is_batch, coalesce(batch_id, 0)`

type scanner interface{ Scan(dest ...any) error }

func scanDelivery(row scanner) (store.Delivery, error) {
	var (
		d                                                 store.Delivery
		id, batch, next, created, updated, queued, doneAt int64
		state                                             string
		message                                           []byte
		isBatch                                           bool
	)
	err := row.Scan(&id, &d.Seq, &d.Space, &d.Lane, &d.Group, &message, &d.Reply, &d.MessageID, &d.RequestID,
		&d.CallerRequestID, &d.DedupKey, &d.RelayThread, &d.Route, &state, &d.Attempts, &next,
		&d.LastStatus, &d.LastError, &created, &updated, &queued, &doneAt,
		&d.GoogleMessage, &d.GoogleThread, &isBatch, &batch)
	if err != nil {
		return store.Delivery{}, err
	}
	d.ID = store.FormatID(id)
	d.Message = json.RawMessage(message)
	d.State = store.State(state)
	d.NextAttemptAt = fromNanos(next)
	d.CreatedAt = fromNanos(created)
	d.UpdatedAt = fromNanos(updated)
	d.QueuedAt = fromNanos(queued)
	d.DoneAt = fromNanos(doneAt)
	d.Batch = isBatch
	if batch != 0 {
		d.BatchID = store.FormatID(batch)
	}
	return d, nil
}

func queryDeliveries(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]store.Delivery, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

func getDelivery(ctx context.Context, tx *wtx, id int64) (store.Delivery, error) {
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, store.ErrNotFound
	}
	return d, err
}

// ensureLane creates the lane's row if missing: deliveries refer to it and
// the pending triggers update it.
func ensureLane(ctx context.Context, tx *wtx, lane string) error {
	return tx.ensureRow(ctx, rowKey{"lanes", lane}, `INSERT INTO lanes (lane) VALUES (?) ON CONFLICT (lane) DO NOTHING`)
}

// ensureSpace makes sure the relay space has its row, which holds its
// pending count (kept by triggers) and its pause.
func ensureSpace(ctx context.Context, tx *wtx, space string) error {
	return tx.ensureRow(ctx, rowKey{"spaces", space}, `INSERT INTO spaces (space) VALUES (?) ON CONFLICT (space) DO NOTHING`)
}

// ensureRow runs insert, which creates row k if it is missing, unless a
// committed transaction of this writer already made sure of it: rows of
// lanes and spaces are never deleted, and every write goes through the
// writer, so the row is still there. Busy relay spaces thus cost Enqueue
// two statements fewer.
func (w *wtx) ensureRow(ctx context.Context, k rowKey, insert string) error {
	if _, ok := w.rows[k]; ok {
		return nil
	}
	if _, err := w.ExecContext(ctx, insert, k.name); err != nil {
		return err
	}
	w.jobRows = append(w.jobRows, k)
	return nil
}

// dedupQuery is a deduplication key's pair of queries: whether a delivery
// matches, and the matching deliveries. The test that the key is not empty lets SQLite use the
// key's partial index.
type dedupQuery struct{ exists, list string }

// The match of each key column.
const (
	dedupCallerWhere = ` FROM deliveries WHERE space = ? AND caller_request_id = ? AND caller_request_id <> '' AND created_at > ?`
	dedupKeyWhere    = ` FROM deliveries WHERE space = ? AND dedup_key = ? AND dedup_key <> '' AND created_at > ?`
)

var (
	dedupCaller = dedupQuery{
		exists: `SELECT EXISTS (SELECT 1` + dedupCallerWhere + `)`,
		list:   `SELECT ` + columns + dedupCallerWhere + ` ORDER BY id`,
	}
	dedupKey = dedupQuery{
		exists: `SELECT EXISTS (SELECT 1` + dedupKeyWhere + `)`,
		list:   `SELECT ` + columns + dedupKeyWhere + ` ORDER BY id`,
	}
)

// messageIDHolder is the delivery of a lane that carries a message id, the
// first stored; the test that the id is not empty lets SQLite use the
// partial index deliveries_message_id.
const messageIDHolder = `SELECT ` + columns + ` FROM deliveries
	WHERE lane = ? AND message_id = ? AND message_id <> '' ORDER BY id LIMIT 1`

// Enqueue implements store.Queue.
func (s *Store) Enqueue(ctx context.Context, req store.EnqueueRequest) (store.EnqueueResult, error) {
	if req.Space == "" || req.Lane == "" {
		return store.EnqueueResult{}, errors.New("enqueue: space and lane are required")
	}
	if len(req.Deliveries) == 0 {
		return store.EnqueueResult{}, errors.New("enqueue: no deliveries")
	}
	// Request ids are random: make them outside the writer's critical path.
	requestIDs := make([]string, len(req.Deliveries))
	for i := range requestIDs {
		requestIDs[i] = store.NewRequestID()
	}
	var res store.EnqueueResult
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		res = store.EnqueueResult{}
		// Dedup first: a duplicate stores nothing, whatever the bound.
		for _, k := range []struct {
			q      dedupQuery
			val    string
			window time.Duration // DedupWindow applies to the dedup key only
		}{
			{dedupCaller, req.CallerRequestID, 0},
			{dedupKey, req.DedupKey, req.DedupWindow},
		} {
			if k.val == "" {
				continue
			}
			since := int64(math.MinInt64)
			if k.window > 0 {
				since = now - k.window.Nanoseconds()
			}
			// Most requests are new: ask whether there is a match before
			// reading one.
			var found bool
			if err := tx.QueryRowContext(ctx, k.q.exists, req.Space, k.val, since).Scan(&found); err != nil {
				return err
			}
			if !found {
				continue
			}
			ds, err := queryDeliveries(ctx, tx, k.q.list, req.Space, k.val, since)
			if err != nil {
				return err
			}
			if len(ds) > 0 {
				res = store.EnqueueResult{Deliveries: ds, Duplicate: true}
				return nil
			}
		}
		if req.UniqueMessageID {
			for _, nd := range req.Deliveries {
				if nd.MessageID == "" {
					continue
				}
				ds, err := queryDeliveries(ctx, tx, messageIDHolder, req.Lane, nd.MessageID)
				if err != nil {
					return err
				}
				if len(ds) > 0 {
					res = store.EnqueueResult{Deliveries: ds}
					return fmt.Errorf("enqueue in lane %s: messageId %q held by delivery %s: %w",
						req.Lane, nd.MessageID, ds[0].ID, store.ErrMessageIDExists)
				}
			}
		}
		if err := ensureLane(ctx, tx, req.Lane); err != nil {
			return err
		}
		if err := ensureSpace(ctx, tx, req.Space); err != nil {
			return err
		}
		if req.Limit > 0 {
			var pending int
			if err := tx.QueryRowContext(ctx, `SELECT pending FROM spaces WHERE space = ?`, req.Space).Scan(&pending); err != nil {
				return err
			}
			if pending+len(req.Deliveries) > req.Limit {
				return fmt.Errorf("enqueue in space %s: %d pending, limit %d: %w", req.Space, pending, req.Limit, store.ErrFull)
			}
		}
		first := tx.nextIDs(len(req.Deliveries))
		res.Deliveries = make([]store.Delivery, len(req.Deliveries))
		for i, nd := range req.Deliveries {
			id := first + int64(i)
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, seq, space, lane, grp, message, reply,
				message_id, request_id, caller_request_id, dedup_key, relay_thread, route, state,
				next_attempt_at, created_at, updated_at, queued_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
				id, id, req.Space, req.Lane, nd.Group, []byte(nd.Message), nd.Reply,
				nd.MessageID, requestIDs[i], req.CallerRequestID, req.DedupKey, nd.RelayThread, req.Route,
				now, now, now, now); err != nil {
				return err
			}
			// A busy thread's row is rewritten at most once a minute
			// (store.ThreadTouch): each rewrite moves an entry of the
			// threads_updated index, a page write per message otherwise;
			// the writer remembers the threads it touched, so that it does
			// not even ask within that minute.
			if nd.RelayThread != "" && tx.touch(nd.RelayThread, now) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO threads (relay_name, lane, created_at, updated_at)
					VALUES (?1, ?2, ?3, ?3) ON CONFLICT (relay_name) DO UPDATE SET updated_at = excluded.updated_at
					WHERE threads.updated_at <= ?4`,
					nd.RelayThread, req.Lane, now, now-store.ThreadTouch.Nanoseconds()); err != nil {
					return err
				}
			}
			t := fromNanos(now)
			res.Deliveries[i] = store.Delivery{
				ID: store.FormatID(id), Space: req.Space, Lane: req.Lane, Group: nd.Group, Seq: id,
				Message: nd.Message, Reply: nd.Reply, MessageID: nd.MessageID, RequestID: requestIDs[i],
				CallerRequestID: req.CallerRequestID, DedupKey: req.DedupKey, RelayThread: nd.RelayThread, Route: req.Route,
				State: store.StateQueued, NextAttemptAt: t, CreatedAt: t, UpdatedAt: t, QueuedAt: t,
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrMessageIDExists) {
		return res, err
	}
	if err != nil {
		return store.EnqueueResult{}, err
	}
	return res, nil
}

// checkLease returns ErrLeaseLost unless lease is the lane's current one and,
// when live is set, unexpired at now.
func checkLease(ctx context.Context, tx *wtx, lease store.Lease, now int64, live bool) error {
	var owner string
	var token, until int64
	err := tx.QueryRowContext(ctx, `SELECT owner, token, lease_until FROM lanes WHERE lane = ?`, lease.Lane).Scan(&owner, &token, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lane %s: %w", lease.Lane, store.ErrLeaseLost)
	}
	if err != nil {
		return err
	}
	if owner == "" || owner != lease.Owner || token != lease.Token {
		return fmt.Errorf("lane %s, token %d: %w", lease.Lane, lease.Token, store.ErrLeaseLost)
	}
	if live && until <= now {
		return fmt.Errorf("lane %s, token %d: expired: %w", lease.Lane, lease.Token, store.ErrLeaseLost)
	}
	return nil
}

// claimSQL claims up to ?3 heads of lane ?2 due at ?1; see Claim.
const claimSQL = `WITH RECURSIVE heads (id, space, grp) AS (
			SELECT * FROM (SELECT id, space, grp FROM deliveries
				WHERE lane = ?2 AND state IN ('queued', 'sending')
				ORDER BY lane, space, grp, seq LIMIT 1)
			UNION ALL
			SELECT d.id, d.space, d.grp FROM heads JOIN deliveries d ON d.id = coalesce(
				(SELECT n.id FROM deliveries n
					WHERE n.lane = ?2 AND n.state IN ('queued', 'sending') AND n.space = heads.space AND n.grp > heads.grp
					ORDER BY n.lane, n.space, n.grp, n.seq LIMIT 1),
				(SELECT n.id FROM deliveries n
					WHERE n.lane = ?2 AND n.state IN ('queued', 'sending') AND n.space > heads.space
					ORDER BY n.lane, n.space, n.grp, n.seq LIMIT 1))
		)
		UPDATE deliveries
		SET state = 'sending', attempts = attempts + 1, updated_at = ?1
		WHERE id IN (
			SELECT d.id FROM heads CROSS JOIN deliveries d ON d.id = heads.id
			WHERE d.state = 'queued' AND d.next_attempt_at <= ?1
				AND d.space NOT IN (SELECT space FROM spaces
					WHERE pause_reason <> '' AND (paused_until = 0 OR paused_until > ?1))
			ORDER BY d.seq
			LIMIT ?3
		)
		RETURNING ` + columns

// Claim implements store.Queue.
func (s *Store) Claim(ctx context.Context, lease store.Lease, max int) ([]store.Delivery, error) {
	if max <= 0 {
		return nil, nil
	}
	var out []store.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		out = nil
		if err := checkLease(ctx, tx, lease, now, true); err != nil {
			return err
		}
		var until int64
		var reason string
		if err := tx.QueryRowContext(ctx, `SELECT paused_until, pause_reason FROM lanes WHERE lane = ?`, lease.Lane).Scan(&until, &reason); err != nil {
			return err
		}
		if (store.Pause{Until: fromNanos(until), Reason: reason}).Active(fromNanos(now)) {
			return nil
		}
		// The head of a group (relay space and group key) is its pending
		// row of lowest seq; it is claimable when queued and due, and its
		// relay space is not paused. heads walks the partial index
		// deliveries_pending (its WHERE repeats the index's) from group to
		// group, one lookup per group: the first row past a group, in its
		// relay space or else in the next, is the next group's head. So a
		// claim costs the lane's groups, not its backlog, which only grows
		// while Google is out of reach. (CROSS JOIN keeps that order: else
		// SQLite may walk every queued row and look each up in heads.)
		var err error
		out, err = queryDeliveries(ctx, tx, claimSQL, now, lease.Lane, max)
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
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if err := checkLease(ctx, tx, lease, now, false); err != nil {
			return err
		}
		cur, err := getDelivery(ctx, tx, n)
		if err != nil {
			return err
		}
		if cur.State != store.StateSending || cur.Lane != lease.Lane {
			return fmt.Errorf("delivery is %s in lane %s: %w", cur.State, cur.Lane, store.ErrConflict)
		}
		switch out.State {
		case store.StateQueued:
			retry := toNanos(out.RetryAt)
			if retry == 0 {
				retry = now
			}
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', next_attempt_at = ?, last_status = ?,
				last_error = ?, updated_at = ? WHERE id = ?`, retry, out.Status, out.Error, now, n)
		default:
			// Final: the row and, for a batch, its members.
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = ?1, last_status = ?2, last_error = ?3,
				google_message = ?4, google_thread = ?5, done_at = ?6, updated_at = ?6
				WHERE id = ?7 OR batch_id = ?7`,
				string(out.State), out.Status, out.Error, out.GoogleMessage, out.GoogleThread, now, n)
			if err == nil && out.State == store.StateDone && cur.RelayThread != "" && out.GoogleThread != "" {
				// The first Google thread name is the one: later
				// deliveries reply in it.
				_, err = tx.ExecContext(ctx, `UPDATE threads SET google_name = CASE WHEN google_name = '' THEN ?1 ELSE google_name END,
					updated_at = ?2 WHERE relay_name = ?3`, out.GoogleThread, now, cur.RelayThread)
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
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		if err := checkLease(ctx, tx, lease, now, true); err != nil {
			return err
		}
		members := make([]store.Delivery, len(nums))
		for i, n := range nums {
			d, err := getDelivery(ctx, tx, n)
			if err != nil {
				return fmt.Errorf("%s: %w", ids[i], err)
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
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries
			WHERE lane = ? AND space = ? AND grp = ? AND state IN ('queued', 'sending') AND seq > ? AND seq < ?`,
			first.Lane, first.Space, first.Group, first.Seq, last.Seq).Scan(&between); err != nil {
			return err
		}
		if between != len(members)-2 && len(members) > 1 {
			return fmt.Errorf("other deliveries of group %q lie between %s and %s: %w", first.Group, first.ID, last.ID, store.ErrConflict)
		}
		relayThread := ""
		for _, m := range members {
			if m.RelayThread != "" {
				relayThread = m.RelayThread
				break
			}
		}
		id := tx.nextIDs(1)
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, seq, space, lane, grp, message, reply,
			message_id, request_id, caller_request_id, dedup_key, relay_thread, route, state,
			next_attempt_at, created_at, updated_at, queued_at, is_batch)
			VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, '', '', ?, ?, 'queued', ?, ?, ?, ?, 1)`,
			id, first.Seq, first.Space, first.Lane, first.Group, []byte(msg), first.Reply,
			requestID, relayThread, first.Route, now, now, now, toNanos(first.QueuedAt)); err != nil {
			return err
		}
		args := make([]any, 0, len(nums)+2)
		args = append(args, id, now)
		for _, n := range nums {
			args = append(args, n)
		}
		if _, err := tx.execOnce(ctx, `UPDATE deliveries SET state = 'batched', batch_id = ?, updated_at = ?
			WHERE id IN (?`+strings.Repeat(", ?", len(nums)-1)+`)`, args...); err != nil {
			return err
		}
		var err error
		batch, err = getDelivery(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Delivery{}, fmt.Errorf("freeze batch: %w", err)
	}
	return batch, nil
}

// Thread implements store.Queue.
func (s *Store) Thread(ctx context.Context, relayName string) (store.Thread, error) {
	if err := s.readable(); err != nil {
		return store.Thread{}, err
	}
	var t store.Thread
	var created, updated int64
	err := s.rdb.QueryRowContext(ctx, `SELECT relay_name, lane, google_name, created_at, updated_at
		FROM threads WHERE relay_name = ?`, relayName).Scan(&t.RelayName, &t.Lane, &t.GoogleName, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Thread{}, fmt.Errorf("thread %s: %w", relayName, store.ErrNotFound)
	}
	if err != nil {
		return store.Thread{}, fmt.Errorf("thread %s: %w", relayName, err)
	}
	t.CreatedAt, t.UpdatedAt = fromNanos(created), fromNanos(updated)
	return t, nil
}

// Incident implements store.Incidents.
func (s *Store) Incident(ctx context.Context, key string, firing bool) (int64, error) {
	if key == "" {
		return 0, errors.New("incident: empty key")
	}
	var number int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx, now int64) error {
		var wasFiring bool
		err := tx.QueryRowContext(ctx, `SELECT number, firing FROM incidents WHERE key = ?`, key).Scan(&number, &wasFiring)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			number = 1
		case err != nil:
			return err
		case firing && !wasFiring:
			number++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO incidents (key, number, firing, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET number = excluded.number, firing = excluded.firing, updated_at = excluded.updated_at`,
			key, number, firing, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("incident %q: %w", key, err)
	}
	return number, nil
}
