package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestReplicasShareLanes: replicas on one store hold the lanes evenly (each
// ⌈lanes/replicas⌉ or ⌊lanes/replicas⌋) after a start, after a fourth
// joins, after one leaves gracefully, and after one is cut off from the
// store without releasing anything (its leases and its membership expire);
// meanwhile messages keep coming, no lane ever has two replicas' requests
// in flight at once, every lane keeps its pace across handoffs and every
// thread its order, and every message is delivered. On PostgreSQL the
// replicas are separate stores on one schema, in real time; on SQLite,
// whose one process holds the file, they share one store in a synctest
// bubble.
func TestReplicasShareLanes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{Synchronous: "NORMAL", MaxWait: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			shareScenario(t, func() store.Store { return st }, st, 0)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL, _ := pgtest.FreshSchema(t, "dispatch_share_")
		open := func() store.Store {
			st, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		// Real time: starts are measured where the sender sees them, a
		// little after the dispatcher decided them.
		shareScenario(t, open, open(), 50*time.Millisecond)
	})
}

// shareScenario runs the scenario of TestReplicasShareLanes: open gives
// each replica its store, obs is the test's own; paceSlack is the
// tolerance of the pacing check.
func shareScenario(t *testing.T, open func() store.Store, obs store.Store, paceSlack time.Duration) {
	const (
		lanes = 60
		pace  = 250 * time.Millisecond
	)
	cfg := Config{
		RequestTimeout: time.Second,
		LeaseTTL:       3 * time.Second,
		PollInterval:   300 * time.Millisecond,
		DrainTimeout:   time.Second,
		BackoffBase:    100 * time.Millisecond,
	}
	for i := range lanes {
		cfg.Spaces = append(cfg.Spaces, space(t, fmt.Sprintf("s%02d", i), fmt.Sprintf("L%02d", i), pace))
	}
	rec := &sendLog{}
	var (
		mu       sync.Mutex
		replicas []*replica
	)
	live := func() []*replica {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(replicas)
	}
	start := func(owner string) *replica {
		c := cfg
		c.Owner = owner
		r := &replica{st: &cutStore{Store: open()}, done: make(chan error, 1)}
		r.d = New(c, r.st, &recSender{owner: owner, log: rec, delay: 20 * time.Millisecond}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		go func() { r.done <- r.d.Run(ctx) }()
		mu.Lock()
		replicas = append(replicas, r)
		mu.Unlock()
		t.Cleanup(func() { r.stop(t) })
		return r
	}
	remove := func(r *replica) {
		mu.Lock()
		defer mu.Unlock()
		replicas = slices.DeleteFunc(replicas, func(x *replica) bool { return x == r })
	}

	// Traffic all along: a message every 20 ms into a random lane, in
	// two threads per lane, numbered per thread.
	stopTraffic := make(chan struct{})
	trafficDone := make(chan struct{})
	var stopOnce sync.Once
	endTraffic := func() {
		stopOnce.Do(func() { close(stopTraffic) })
		<-trafficDone
	}
	t.Cleanup(endTraffic)
	go func() {
		defer close(trafficDone)
		seq := make(map[string]int)
		rnd := rand.New(rand.NewPCG(1, 2))
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopTraffic:
				return
			case <-tick.C:
			}
			i, g := rnd.IntN(lanes), fmt.Sprintf("g%d", rnd.IntN(2))
			lane := fmt.Sprintf("L%02d", i)
			key := lane + "/" + g
			seq[key]++
			body, _ := json.Marshal(gchat.Message{Text: fmt.Sprintf("%s/%d", key, seq[key]), Thread: &gchat.Thread{ThreadKey: g}})
			if _, err := obs.Enqueue(context.Background(), store.EnqueueRequest{Space: fmt.Sprintf("s%02d", i), Lane: lane,
				Deliveries: []store.NewDelivery{{Group: g, Message: body}}}); err != nil {
				t.Errorf("enqueue: %v", err)
				return
			}
			for _, r := range live() {
				r.d.Notify(lane)
			}
		}
	}()

	balanced := func(what string, limit time.Duration) {
		t.Helper()
		var last string
		began := time.Now()
		deadline := began.Add(limit)
		for {
			ok, desc := spreadEven(t, obs, live(), lanes)
			if ok {
				t.Logf("%s: even after %s", what, time.Since(began).Round(10*time.Millisecond))
				return
			}
			last = desc
			if time.Now().After(deadline) {
				for _, r := range live() {
					b := r.d.bal
					b.mu.Lock()
					t.Logf("%s: members %v share %d held %d releasing %d changed %s ago keep %s", r.d.cfg.Owner, b.members, b.share, b.held, b.releasing, time.Since(b.changed), time.Until(b.keepUntil))
					b.mu.Unlock()
				}
				t.Fatalf("%s: lanes not shared evenly after %s: %s", what, limit, last)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// stays checks that the spread, once even, holds for a lease period:
	// nobody flaps.
	stays := func(what string) {
		t.Helper()
		time.Sleep(cfg.LeaseTTL)
		if ok, desc := spreadEven(t, obs, live(), lanes); !ok {
			t.Errorf("%s: spread no longer even a lease later: %s", what, desc)
		}
	}

	for i := range 3 {
		start(fmt.Sprintf("replica-%d", i+1))
	}
	balanced("three replicas started", 2*cfg.LeaseTTL)
	stays("three replicas")

	start("replica-4")
	balanced("a fourth joined", 2*cfg.LeaseTTL)
	stays("four replicas")

	leaving := live()[0]
	remove(leaving)
	leaving.stop(t)
	balanced("one left", 2*cfg.LeaseTTL)
	stays("after a leave")

	// Cut off: every store call fails from now on, so it releases nothing
	// and does not leave; its leases and its membership expire.
	dead := live()[0]
	remove(dead)
	dead.st.cut.Store(true)
	dead.stop(t)
	balanced("one cut off", 3*cfg.LeaseTTL)
	stays("after a cut")

	endTraffic()
	waitPending(t, obs, 2*cfg.LeaseTTL)
	checkSends(t, rec.all(), pace, paceSlack)
}

// replica is one dispatcher of the scenario.
type replica struct {
	d      *Dispatcher
	st     *cutStore
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func (r *replica) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// spreadEven reports whether every lane is held, on a live lease, by one of
// the replicas, each holding ⌊lanes/n⌋ or ⌈lanes/n⌉; else it describes the
// spread.
func spreadEven(t *testing.T, obs store.Store, rs []*replica, lanes int) (bool, string) {
	t.Helper()
	states, err := obs.LaneStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	count := make(map[string]int)
	for _, r := range rs {
		count[r.d.cfg.Owner] = 0
	}
	now := time.Now()
	held := 0
	for _, ls := range states {
		if ls.Owner == "" || !ls.LeaseUntil.After(now) {
			continue
		}
		if _, ok := count[ls.Owner]; !ok {
			count["(gone) "+ls.Owner]++
			continue
		}
		count[ls.Owner]++
		held++
	}
	n := len(rs)
	ok := held == lanes && len(count) == n
	for _, c := range count {
		ok = ok && c >= lanes/n && c <= (lanes+n-1)/n
	}
	return ok, fmt.Sprintf("%d of %d lanes held by live replicas, by owner %v", held, lanes, count)
}

// waitPending waits until no lane has pending deliveries.
func waitPending(t *testing.T, obs store.Store, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		states, err := obs.LaneStates(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, ls := range states {
			pending += ls.Pending
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending after %s", pending, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSends checks the fencing (no two replicas' requests in flight at
// once in one lane), the pace of each lane (within slack) and the order of
// each thread (the first sends of its messages in the order they were
// queued; a message sent again after its replica was cut off may repeat).
func checkSends(t *testing.T, sends []sendRec, pace, slack time.Duration) {
	t.Helper()
	byLane := make(map[string][]sendRec)
	for _, s := range sends {
		byLane[s.lane] = append(byLane[s.lane], s)
	}
	if len(byLane) == 0 {
		t.Fatal("nothing was sent")
	}
	owners := make(map[string]bool)
	for lane, ss := range byLane {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].start.Before(ss[j].start) })
		for i := 1; i < len(ss); i++ {
			prev, cur := ss[i-1], ss[i]
			if gap := cur.start.Sub(prev.start); gap < pace-slack {
				t.Errorf("lane %s: %s (%s) started %s after %s (%s), want at least %s", lane, cur.text, cur.owner, gap, prev.text, prev.owner, pace-slack)
			}
		}
		for i, a := range ss {
			owners[a.owner] = true
			for _, b := range ss[i+1:] {
				if b.owner != a.owner && b.start.Before(a.end) {
					t.Errorf("lane %s: %s's request %s and %s's request %s were in flight at once", lane, a.owner, a.text, b.owner, b.text)
				}
			}
		}
		last := make(map[string]int) // thread → highest message number sent
		seen := make(map[string]bool)
		for _, s := range ss {
			if seen[s.text] {
				continue
			}
			seen[s.text] = true
			i := strings.LastIndexByte(s.text, '/')
			thread := s.text[:i]
			var n int
			fmt.Sscan(s.text[i+1:], &n)
			if n != last[thread]+1 {
				t.Errorf("thread %s: message %d sent after %d", thread, n, last[thread])
			}
			last[thread] = max(last[thread], n)
		}
	}
	if len(owners) < 4 {
		t.Errorf("sends by %d replicas, want all 4", len(owners))
	}
}

// sendRec is one request a replica's sender received.
type sendRec struct {
	owner, lane, text string
	start, end        time.Time
}

type sendLog struct {
	mu    sync.Mutex
	sends []sendRec
}

func (l *sendLog) all() []sendRec {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sends)
}

// recSender succeeds after delay and records each request.
type recSender struct {
	owner string
	log   *sendLog
	delay time.Duration
}

func (r *recSender) Send(ctx context.Context, hook *gchat.Webhook, msg *gchat.Message, opts ...gchat.Option) (*gchat.Response, error) {
	start := time.Now()
	t := time.NewTimer(r.delay)
	defer t.Stop()
	var err error
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
	}
	// Recorded even when cut short: it was in flight.
	r.log.mu.Lock()
	r.log.sends = append(r.log.sends, sendRec{owner: r.owner, lane: hook.Space(), text: msg.Text, start: start, end: time.Now()})
	r.log.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &gchat.Response{Name: "spaces/" + hook.Space() + "/messages/m", Thread: gchat.Thread{Name: "spaces/" + hook.Space() + "/threads/t"}}, nil
}

// cutStore is a replica's store that can be cut off: every call the
// dispatcher writes with fails from then on, as for a replica whose
// process froze or lost the network, so it releases nothing and does not
// leave.
type cutStore struct {
	store.Store
	cut atomic.Bool
}

var errCut = errors.New("cut off from the store")

func (s *cutStore) err() error {
	if s.cut.Load() {
		return errCut
	}
	return nil
}

func (s *cutStore) AcquireLease(ctx context.Context, req store.LeaseRequest) (store.Lease, error) {
	if err := s.err(); err != nil {
		return store.Lease{}, err
	}
	return s.Store.AcquireLease(ctx, req)
}

func (s *cutStore) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.ReleaseLease(ctx, l)
}

func (s *cutStore) Claim(ctx context.Context, l store.Lease, n int) ([]store.Delivery, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Claim(ctx, l, n)
}

func (s *cutStore) Finish(ctx context.Context, l store.Lease, id string, out store.Outcome) (store.Delivery, error) {
	if err := s.err(); err != nil {
		return store.Delivery{}, err
	}
	return s.Store.Finish(ctx, l, id, out)
}

func (s *cutStore) FreezeBatch(ctx context.Context, l store.Lease, ids []string, msg json.RawMessage) (store.Delivery, error) {
	if err := s.err(); err != nil {
		return store.Delivery{}, err
	}
	return s.Store.FreezeBatch(ctx, l, ids, msg)
}

func (s *cutStore) Heartbeat(ctx context.Context, req store.MemberRequest) ([]store.Member, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Heartbeat(ctx, req)
}

func (s *cutStore) Leave(ctx context.Context, owner string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.Leave(ctx, owner)
}

// Close: the test closes the stores it opened.
func (s *cutStore) Close() error { return nil }
