package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// testConns caps each test store's pool: the suite runs its subtests in
// parallel, each with its own store, against one server's max_connections.
const testConns = 4

func open(t *testing.T, dbURL string, now func() time.Time) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dbURL, postgres.Options{Now: now, MaxConns: testConns})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connect opens a plain connection for the test's own queries.
func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestConformance(t *testing.T) {
	postgres.ServerURL(t) // skip once rather than in every subtest
	storetest.Run(t, storetest.Backend{Open: func(t *testing.T) func(now func() time.Time) store.Store {
		dbURL, _ := postgres.FreshSchema(t)
		return func(now func() time.Time) store.Store { return open(t, dbURL, now) }
	}})
}

// TestMigrateConcurrent starts replicas together on a fresh schema: each
// migration is applied once (a second run of 0001 would fail on CREATE TABLE)
// and every Open and Migrate succeeds.
func TestMigrateConcurrent(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = postgres.Migrate(t.Context(), dbURL)
				return
			}
			s, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxConns: 1})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, n)
	}
	rows, err := connect(t, dbURL).Query(t.Context(), `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema_version (-want +got):\n%s", diff)
	}
	// And a later Open finds nothing to do.
	open(t, dbURL, nil).Close()
}

// TestMigrateReports checks what Migrate says it did: every migration, in
// order, on a fresh schema; nothing on a current one.
func TestMigrateReports(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	// The schema's version is the last migration's number; numbers may
	// skip, as when migrations of parallel changes are merged.
	last, err := strconv.Atoi(strings.SplitN(names[len(names)-1], "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := postgres.Migrate(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Migrated{From: 0, To: last, Applied: names}, got); diff != "" {
		t.Errorf("first Migrate (-want +got):\n%s", diff)
	}
	got, err = postgres.Migrate(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Migrated{From: last, To: last}, got); diff != "" {
		t.Errorf("second Migrate (-want +got):\n%s", diff)
	}
}

// TestSchemaFromOptions checks libpq's form of naming the schema,
// options=-csearch_path=…: Open creates the schema and its tables land there.
func TestSchemaFromOptions(t *testing.T) {
	withParam, schema := postgres.FreshSchema(t)
	u, err := url.Parse(withParam)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("search_path")
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	s := open(t, u.String(), nil)
	if _, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "s", Lane: "L",
		Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"x"}`)}}}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := connect(t, postgres.ServerURL(t)).QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = $1 AND table_name IN ('deliveries', 'lanes', 'threads', 'incidents', 'schema_version')`,
		schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("tables in schema %s: %d, want 5", schema, n)
	}
}

// TestEnqueueOrderAcrossReplicas enqueues into one thread group through two
// stores (two pools, as two relay replicas) while a third claims and
// finishes the group's head as fast as it can. Seq must follow commit order:
// otherwise a delivery that commits late with a low Seq would become the
// head behind the consumer's back, and be claimed after (or, worse, beside) a
// later one.
func TestEnqueueOrderAcrossReplicas(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	replicas := []*postgres.Store{open(t, dbURL, nil), open(t, dbURL, nil)}
	consumer := open(t, dbURL, nil)
	ctx := t.Context()
	const producers, each = 8, 25

	type call struct {
		id         string
		seq        int64
		start, end time.Time // process monotonic clock
	}
	calls := make([][]call, producers)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			s := replicas[p%len(replicas)]
			for i := range each {
				start := time.Now()
				// One relay space, since a group is a relay space's;
				// no dedup key, whose lock would serialise the requests
				// before the lane's and the space's row locks.
				res, err := s.Enqueue(ctx, store.EnqueueRequest{Space: "space", Lane: "L",
					Deliveries: []store.NewDelivery{{Group: "thread", Message: json.RawMessage(fmt.Sprintf(`{"text":"%d"}`, i))}}})
				if err != nil {
					t.Error(err)
					return
				}
				d := res.Deliveries[0]
				calls[p] = append(calls[p], call{d.ID, d.Seq, start, time.Now()})
			}
		})
	}
	producing := make(chan struct{})
	go func() { wg.Wait(); close(producing) }()

	lease, err := consumer.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "consumer", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var claimed []store.Delivery
	idle := time.NewTimer(0)
	for done := false; ; {
		ds, err := consumer.Claim(ctx, lease, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) > 1 {
			t.Fatalf("claimed %d of one group at once", len(ds))
		}
		for _, d := range ds {
			claimed = append(claimed, d)
			if _, err := consumer.Finish(ctx, lease, d.ID, store.Outcome{State: store.StateDone}); err != nil {
				t.Fatal(err)
			}
		}
		if len(ds) > 0 {
			continue
		}
		if done {
			break // a last empty claim after the producers finished
		}
		idle.Reset(time.Millisecond)
		select {
		case <-producing:
			done = true
		case <-idle.C:
		}
	}

	for i := 1; i < len(claimed); i++ {
		if claimed[i].Seq <= claimed[i-1].Seq {
			t.Errorf("claim %d: seq %d after %d: the group's order broke", i, claimed[i].Seq, claimed[i-1].Seq)
		}
	}
	var all []call
	for _, cs := range calls {
		all = append(all, cs...)
	}
	if len(claimed) != producers*each || len(all) != producers*each {
		t.Fatalf("enqueued %d, claimed %d; want %d each", len(all), len(claimed), producers*each)
	}
	ids := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff(ids(len(all), func(i int) string { return all[i].id }),
		ids(len(claimed), func(i int) string { return claimed[i].ID })); diff != "" {
		t.Errorf("claimed ids differ from enqueued (-enqueued +claimed):\n%s", diff)
	}
	// An Enqueue that returned before another began precedes it.
	for _, a := range all {
		for _, b := range all {
			if a.end.Before(b.start) && a.seq >= b.seq {
				t.Fatalf("enqueue of seq %d returned before the one of seq %d began", a.seq, b.seq)
			}
		}
	}
}

// dbNow reads the database's clock.
func dbNow(t *testing.T, conn *pgx.Conn) time.Time {
	t.Helper()
	var now time.Time
	if err := conn.QueryRow(t.Context(), `SELECT clock_timestamp()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

// TestLeaseTakeoverDatabaseClock moves a lane between two replicas that read
// time from the database (Now nil). The lease is expired by moving its
// expiry into the past, as an hour of the database's clock would.
func TestLeaseTakeoverDatabaseClock(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	r1, r2 := open(t, dbURL, nil), open(t, dbURL, nil)
	conn := connect(t, dbURL)
	ctx := t.Context()
	res, err := r1.Enqueue(ctx, store.EnqueueRequest{Space: "ops", Lane: "L",
		Deliveries: []store.NewDelivery{{Group: "a", Message: json.RawMessage(`{"text":"x"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Deliveries[0]

	before := dbNow(t, conn)
	l1, err := r1.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r1", TTL: time.Hour, Send: true})
	if err != nil {
		t.Fatal(err)
	}
	after := dbNow(t, conn)
	if l1.Granted.Before(before) || l1.Granted.After(after) || !l1.Until.Equal(l1.Granted.Add(time.Hour)) || !l1.LastSend.Equal(l1.Granted) {
		t.Errorf("lease %+v: want granted by the database's clock within [%v, %v], for an hour, sending now", l1, before, after)
	}
	if c, err := r1.Claim(ctx, l1, 1); err != nil || len(c) != 1 {
		t.Fatalf("claim: %v, %v", c, err)
	}
	_, err = r2.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r2", TTL: time.Hour})
	if !errors.Is(err, store.ErrLeaseHeld) {
		t.Fatalf("r2 while r1 holds the lane: %v, want ErrLeaseHeld", err)
	}

	if _, err := conn.Exec(ctx, `UPDATE lanes SET lease_until = clock_timestamp() - interval '1 second' WHERE lane = 'L'`); err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Claim(ctx, l1, 1); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("r1 claims with an expired lease: %v, want ErrLeaseLost", err)
	}
	l2, err := r2.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r2", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if l2.Token <= l1.Token || !l2.LastSend.Equal(l1.LastSend) || l2.Granted.Before(after) {
		t.Errorf("takeover: %+v; want a token above %d, r1's last send %v, granted after %v", l2, l1.Token, l1.LastSend, after)
	}
	got, err := r2.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.StateQueued || got.RequestID != d.RequestID || got.Attempts != 1 {
		t.Errorf("r1's in-flight delivery after the takeover: %s, %q, %d attempts; want queued, %q, 1", got.State, got.RequestID, got.Attempts, d.RequestID)
	}
	if _, err := r1.Finish(ctx, l1, d.ID, store.Outcome{State: store.StateDone}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("r1 finishes after the takeover: %v, want ErrLeaseLost", err)
	}
	if c, err := r2.Claim(ctx, l2, 1); err != nil || len(c) != 1 || c[0].ID != d.ID {
		t.Fatalf("r2's claim: %v, %v; want %s", c, err, d.ID)
	}
	if _, err := r2.Finish(ctx, l2, d.ID, store.Outcome{State: store.StateDone}); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseExpiresByDatabaseClock lets a short lease run out in real time,
// bounded: r2 polls until it gets the lane, and the grants, both by the
// database's clock, must lie at least the TTL apart.
func TestLeaseExpiresByDatabaseClock(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	r1, r2 := open(t, dbURL, nil), open(t, dbURL, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	const ttl = 300 * time.Millisecond
	l1, err := r1.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r1", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		l2, err := r2.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r2", TTL: ttl})
		if err == nil {
			if l2.Granted.Sub(l1.Granted) < ttl || l2.Token <= l1.Token {
				t.Errorf("r2 got the lane at %v, %v after r1's grant, token %d after %d; want at least %v later, a higher token",
					l2.Granted, l2.Granted.Sub(l1.Granted), l2.Token, l1.Token, ttl)
			}
			return
		}
		if !errors.Is(err, store.ErrLeaseHeld) {
			t.Fatal(err)
		}
		select {
		case <-poll.C:
		case <-ctx.Done():
			t.Fatal("r2 never got the lane after r1's lease expired")
		}
	}
}

// TestConcurrentDuplicatesAcrossReplicas sends one request many times at
// once through two stores, half of the copies naming another lane (a space
// moved to another webhook while callers retried): exactly one is stored, and
// every copy is answered with its deliveries.
func TestConcurrentDuplicatesAcrossReplicas(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	replicas := []*postgres.Store{open(t, dbURL, nil), open(t, dbURL, nil)}
	ctx := t.Context()
	for _, key := range []string{"caller", "dedup"} {
		const copies = 16
		results := make([]store.EnqueueResult, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Go(func() {
				req := store.EnqueueRequest{Space: "ops-" + key, Lane: fmt.Sprint("lane-", i%2),
					Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"1"}`)}, {Message: json.RawMessage(`{"text":"2"}`)}}}
				if key == "caller" {
					req.CallerRequestID = "request-1"
				} else {
					req.DedupKey, req.DedupWindow = "alert-1", time.Hour
				}
				res, err := replicas[i%2].Enqueue(ctx, req)
				if err != nil {
					t.Error(err)
				}
				results[i] = res
			})
		}
		wg.Wait()
		stored := 0
		var first []string
		for _, res := range results {
			if !res.Duplicate {
				stored++
			}
			var ids []string
			for _, d := range res.Deliveries {
				ids = append(ids, d.ID)
			}
			if first == nil {
				first = ids
			} else if diff := cmp.Diff(first, ids); diff != "" {
				t.Errorf("%s: answers differ (-first +this):\n%s", key, diff)
			}
		}
		if stored != 1 || len(first) != 2 {
			t.Errorf("%s: %d of %d copies stored, answers of %d deliveries; want 1 stored, 2 deliveries", key, stored, copies, len(first))
		}
		all, err := replicas[0].List(ctx, store.Filter{Space: "ops-" + key})
		if err != nil || len(all) != 2 {
			t.Errorf("%s: %d deliveries stored (%v), want 2", key, len(all), err)
		}
	}
}

// TestDiagnosticTextCleaned: an error or pause reason with bytes PostgreSQL's
// text refuses (NUL, invalid UTF-8) is stored cleaned rather than failing
// the Finish, which would leave the delivery sending.
func TestDiagnosticTextCleaned(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	s := open(t, dbURL, nil)
	ctx := t.Context()
	res, err := s.Enqueue(ctx, store.EnqueueRequest{Space: "ops", Lane: "L",
		Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"x"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r1", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, l, 1); err != nil {
		t.Fatal(err)
	}
	d, err := s.Finish(ctx, l, res.Deliveries[0].ID, store.Outcome{State: store.StateDead, Status: 400, Error: "bad\x00 body \xff"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "bad body \uFFFD"; d.LastError != want {
		t.Errorf("LastError %q, want %q", d.LastError, want)
	}
	if err := s.PauseLane(ctx, "L", store.Pause{Reason: "403\x00\xfe"}); err != nil {
		t.Fatal(err)
	}
}

// TestClaimSkipsLockedHead: a head that another transaction holds is
// skipped, not waited for, and its group's next delivery does not overtake
// it; the next claim takes it once it is free.
func TestClaimSkipsLockedHead(t *testing.T) {
	dbURL, _ := postgres.FreshSchema(t)
	s := open(t, dbURL, nil)
	conn := connect(t, dbURL)
	ctx := t.Context()
	var ids []string
	for _, g := range []string{"a", "a", "b"} {
		res, err := s.Enqueue(ctx, store.EnqueueRequest{Space: "ops", Lane: "L",
			Deliveries: []store.NewDelivery{{Group: g, Message: json.RawMessage(`{"text":"x"}`)}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Deliveries[0].ID)
	}
	lease, err := s.AcquireLease(ctx, store.LeaseRequest{Lane: "L", Owner: "r1", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	n, _ := strconv.ParseInt(strings.TrimPrefix(ids[0], "d"), 10, 64)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE`, n); err != nil {
		t.Fatal(err)
	}
	claimCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := s.Claim(claimCtx, lease, 10)
	if err != nil {
		t.Fatalf("Claim with a head locked elsewhere: %v (it must not wait for the lock)", err)
	}
	if len(got) != 1 || got[0].ID != ids[2] {
		t.Fatalf("claimed %v, want only group b's head %s: group a's head %s is locked and %s must not overtake it", claimIDs(got), ids[2], ids[0], ids[1])
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = s.Claim(ctx, lease, 10)
	if err != nil || len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("claim after the lock: %v, err %v; want %s", claimIDs(got), err, ids[0])
	}
}

func claimIDs(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
