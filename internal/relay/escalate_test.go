package relay_test

import (
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

func escalatingRoute(r *config.Route) {
	r.Thread = alert.PolicyIncident
	r.Escalate = []config.Escalation{
		{After: 15 * time.Minute, Mention: "<users/123>"},
		{After: time.Hour, Mention: "<users/all>", When: map[string]string{"severity": "critical"}},
		{After: time.Minute, Mention: "<users/456>", When: map[string]string{"severity": "warning"}},
	}
	r.EscalateStale = 2 * time.Hour
}

func (e *env) fire(want int) []store.Delivery {
	e.t.Helper()
	n, err := e.srv.FireEscalations(e.t.Context())
	if err != nil || n != want {
		e.t.Fatalf("FireEscalations: got %d, %v; want %d", n, err, want)
	}
	ds, err := e.store.List(e.t.Context(), store.Filter{Newest: true, Limit: want})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds[:want]
}

// TestEscalation: a firing incident gets one reply per rule that applies,
// in its thread, each once, as ordinary deliveries; the rule of another
// severity never fires.
func TestEscalation(t *testing.T) {
	clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := sourceEnvClock(t, clock.Now, amRoute(escalatingRoute))
	firing := fixture(t, "alertmanager/testdata/diskfull-firing.json")
	post := e.get(e.mustSource("/v1/alertmanager/prom", firing).Deliveries[0].ID)

	e.fire(0)
	clock.Advance(14 * time.Minute)
	e.mustSource("/v1/alertmanager/prom", firing) // Alertmanager's repeat
	e.fire(0)
	clock.Advance(time.Minute)
	reply := e.fire(1)[0]
	if got := e.message(reply.ID).Text; got != "<users/123> still firing after 15m: DiskFull" {
		t.Errorf("reply text %q", got)
	}
	if reply.RelayThread != post.RelayThread || reply.Group != post.Group || reply.State != store.StateQueued {
		t.Errorf("reply in thread %q group %q (%s), want the incident's %q, queued", reply.RelayThread, reply.Group, reply.State, post.RelayThread)
	}
	e.fire(0)
	clock.Advance(45 * time.Minute)
	e.fire(1)
	clock.Advance(5 * time.Hour)
	e.fire(0)
}

// TestEscalationCancelledByResolve: a resolved ends the incident's
// escalations, and drops a reply queued but not yet sent.
func TestEscalationCancelledByResolve(t *testing.T) {
	clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := sourceEnvClock(t, clock.Now, amRoute(escalatingRoute))
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-firing.json"))
	clock.Advance(15 * time.Minute)
	queued := e.fire(1)[0]
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-resolved.json"))
	if d := e.get(queued.ID); d.State != store.StateDropped {
		t.Errorf("queued reply after the resolve: %s, want dropped", d.State)
	}
	clock.Advance(time.Hour)
	e.fire(0)
	if p, err := e.store.PendingEscalations(t.Context()); err != nil || len(p) != 0 {
		t.Errorf("pending after resolve: %v, %v", p, err)
	}
}

// TestEscalationStale: an incident that sends no firing notification for
// escalate_stale (a silenced alert never resolves) escalates no more.
func TestEscalationStale(t *testing.T) {
	clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := sourceEnvClock(t, clock.Now, amRoute(func(r *config.Route) {
		escalatingRoute(r)
		r.Escalate[1].After = 3 * time.Hour
	}))
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-firing.json"))
	clock.Advance(15 * time.Minute)
	e.fire(1)
	clock.Advance(3 * time.Hour)
	e.fire(0)
}

// TestEscalationOneReplicaOfThree: three relays on one PostgreSQL store
// fire due escalations at the same time; each timer's reply is queued
// once, by one of them.
func TestEscalationOneReplicaOfThree(t *testing.T) {
	dbURL, _ := pgtest.FreshSchema(t, "escalate_")
	clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := sourceEnvClock(t, clock.Now, amRoute(escalatingRoute)) // for its configuration
	var servers [3]*relay.Server
	var first store.Store
	for i := range servers {
		st, err := postgres.Open(t.Context(), dbURL, postgres.Options{Now: clock.Now, MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if i == 0 {
			first = st
		}
		servers[i] = relay.NewServer(e.cfg, st, nil, slog.New(slog.NewTextHandler(os.Stderr, nil)), relay.Options{Listen: e.cfg.Listen})
	}
	e.srv, e.store = servers[0], first
	// Two incidents: DiskFull's 15-minute rule is due, and HighLatency's
	// 15-minute and (warning) 1-minute rules.
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-firing.json"))
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/highlatency-firing.json"))
	clock.Advance(15 * time.Minute)

	var (
		wg    sync.WaitGroup
		fired atomic.Int32
	)
	for _, s := range servers {
		wg.Go(func() {
			n, err := s.FireEscalations(t.Context())
			if err != nil {
				t.Error(err)
			}
			fired.Add(int32(n))
		})
	}
	wg.Wait()
	replies, err := first.List(t.Context(), store.Filter{Text: "still firing"})
	if err != nil {
		t.Fatal(err)
	}
	if fired.Load() != 3 || len(replies) != 3 {
		t.Fatalf("three replicas fired %d replies and stored %d, want 3 and 3", fired.Load(), len(replies))
	}
}

// TestEscalationRuleRemoved: a timer armed before a reload took its rule
// away fires nothing.
func TestEscalationRuleRemoved(t *testing.T) {
	clock := storetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	e := sourceEnvClock(t, clock.Now, amRoute(escalatingRoute))
	e.mustSource("/v1/alertmanager/prom", fixture(t, "alertmanager/testdata/diskfull-firing.json"))
	e.cfg.Route("prom").Escalate = nil
	clock.Advance(2 * time.Hour)
	e.fire(0)
}
