package accept_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestAcceptMessageIDOnce: of concurrent requests with one messageId, of
// two relay spaces delivering into one Google space, through two replicas'
// accept paths, exactly one is stored and the others get an ExistsError; a repeat of the stored request's requestId still gets its
// deliveries. SQLite is one process (two accept paths on one store);
// PostgreSQL runs two stores, as two replicas do.
func TestAcceptMessageIDOnce(t *testing.T) {
	backends := map[string]func(t *testing.T) [2]accept.Store{
		"sqlite": func(t *testing.T) [2]accept.Store {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return [2]accept.Store{st, st}
		},
		"postgres": func(t *testing.T) [2]accept.Store {
			dbURL, _ := pgtest.FreshSchema(t, "accept_")
			var out [2]accept.Store
			for i := range out {
				st, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxConns: 4})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				out[i] = st
			}
			return out
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			stores := open(t)
			e := newEnv(t, 0) // for its spaces
			replicas := [2]*accept.Accepter{accept.New(stores[0], nil, 0), accept.New(stores[1], nil, 0)}

			const n = 8
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				stored  []accept.Result
				exists  int
				callers []string
				spaces  []*config.Space
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					caller := fmt.Sprintf("req-%d", i)
					sp := []*config.Space{e.alerts, e.open}[i/2%2]
					res, err := replicas[i%2].Accept(t.Context(), accept.Request{Space: sp,
						Message: gchat.Message{Text: caller}, MessageID: "client-once", UniqueMessageID: true, CallerRequestID: caller})
					mu.Lock()
					defer mu.Unlock()
					var ee *accept.ExistsError
					switch {
					case err == nil:
						stored = append(stored, res)
						callers = append(callers, caller)
						spaces = append(spaces, sp)
					case errors.As(err, &ee):
						exists++
					default:
						t.Errorf("accept %s: %v", caller, err)
					}
				}()
			}
			wg.Wait()
			if len(stored) != 1 || exists != n-1 {
				t.Fatalf("%d stored, %d refused as existing; want 1 and %d", len(stored), exists, n-1)
			}
			first := stored[0].Deliveries[0]

			// The winner's requestId again, even through the other replica:
			// its delivery, not a 409.
			for _, acc := range replicas {
				again, err := acc.Accept(t.Context(), accept.Request{Space: spaces[0], Message: gchat.Message{Text: "again"},
					MessageID: "client-once", UniqueMessageID: true, CallerRequestID: callers[0]})
				if err != nil || !again.Duplicate || again.Deliveries[0].ID != first.ID {
					t.Errorf("repeated requestId: %v, duplicate %v; want delivery %s", err, again.Duplicate, first.ID)
				}
			}
			// Without UniqueMessageID (the rule off), the id is not checked.
			if _, err := replicas[0].Accept(t.Context(), accept.Request{Space: e.alerts, Message: gchat.Message{Text: "off"},
				MessageID: "client-once"}); err != nil {
				t.Errorf("UniqueMessageID off: %v, want it stored", err)
			}
		})
	}
}

// TestAcceptMessageIDRetained: a messageId stays taken while the store holds
// a delivery that carries it, whatever its state, and is free once retention
// prunes it.
func TestAcceptMessageIDRetained(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnv(t, 0)
	acc := accept.New(st, nil, 0)
	req := accept.Request{Space: e.alerts, Message: gchat.Message{Text: "x"}, MessageID: "client-kept", UniqueMessageID: true}
	res, err := acc.Accept(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}

	lease, err := st.AcquireLease(t.Context(), store.LeaseRequest{Lane: lane, Owner: "test", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(t.Context(), lease, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Finish(t.Context(), lease, res.Deliveries[0].ID, store.Outcome{State: store.StateDone, Status: 200,
		GoogleMessage: "spaces/" + lane + "/messages/M.M", GoogleThread: "spaces/" + lane + "/threads/M"}); err != nil {
		t.Fatal(err)
	}
	var ee *accept.ExistsError
	if _, err := acc.Accept(t.Context(), req); !errors.As(err, &ee) {
		t.Errorf("done, retained: %v, want an ExistsError", err)
	}

	mu.Lock()
	now = now.Add(8 * 24 * time.Hour)
	mu.Unlock()
	if n, err := st.Prune(t.Context(), store.Retention{}); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want the done delivery pruned", n, err)
	}
	if _, err := acc.Accept(t.Context(), req); err != nil {
		t.Errorf("pruned: %v, want the messageId free again", err)
	}
}

// TestAcceptGoogleThreads: Google's thread names of the lane pass through
// as the thread to reply in, in a group of their own; REPLY_MESSAGE_OR_FAIL
// says when the relay cannot vouch for a thread; a relay name the relay
// never handed out is a thread that does not exist.
func TestAcceptGoogleThreads(t *testing.T) {
	e := newEnv(t, 0)
	const google = "spaces/" + lane + "/threads/6ZCBNeLWNQ3"
	named := func(name, key string) gchat.Message {
		return gchat.Message{Text: "hi", Thread: &gchat.Thread{Name: name, ThreadKey: key}}
	}

	res := e.mustAccept(accept.Request{Space: e.alerts, Message: named(google, ""), Reply: gchat.ReplyFallbackToNewThread})
	d := res.Deliveries[0]
	if m := sent(t, d); m.Thread == nil || m.Thread.Name != google || d.RelayThread != google || d.Group != google {
		t.Errorf("Google's thread name: sent %+v, relay thread %q, group %q; want it passed through as its own group", m.Thread, d.RelayThread, d.Group)
	}
	if res.ThreadUnknown {
		t.Error("FALLBACK to a Google thread flagged unknown")
	}
	orFail := e.mustAccept(accept.Request{Space: e.alerts, Message: named(google, ""), Reply: gchat.ReplyOrFail})
	if !orFail.ThreadUnknown || orFail.Deliveries[0].Reply != gchat.ReplyOrFail.String() {
		t.Errorf("OR_FAIL to a Google thread never delivered into: unknown %v, reply %q; want queued and flagged", orFail.ThreadUnknown, orFail.Deliveries[0].Reply)
	}

	// OR_FAIL by a key the relay never saw: queued, flagged; once the
	// relay handed the key's thread out, not flagged.
	k := e.mustAccept(accept.Request{Space: e.alerts, Message: named("", "never-seen"), Reply: gchat.ReplyOrFail})
	if !k.ThreadUnknown {
		t.Error("OR_FAIL by a new key: not flagged unknown")
	}
	e.mustAccept(accept.Request{Space: e.alerts, Message: named("", "seen"), Reply: gchat.ReplyFallbackToNewThread})
	if k := e.mustAccept(accept.Request{Space: e.alerts, Message: named("", "seen"), Reply: gchat.ReplyOrFail}); k.ThreadUnknown {
		t.Error("OR_FAIL by a key the relay handed out: flagged unknown")
	}

	// A relay name never handed out, with the fallback: a new thread, by
	// the key when there is one (Google's fallback), never the name.
	const bogus = "spaces/alerts/threads/knope"
	n := e.mustAccept(accept.Request{Space: e.alerts, Message: named(bogus, ""), Reply: gchat.ReplyFallbackToNewThread}).Deliveries[0]
	if m := sent(t, n); m.Thread != nil || !strings.HasPrefix(n.RelayThread, "spaces/alerts/threads/n") {
		t.Errorf("unknown relay name, fallback: sent %+v, relay thread %q; want a new thread", m.Thread, n.RelayThread)
	}
	kd := e.mustAccept(accept.Request{Space: e.alerts, Message: named(bogus, "seen"), Reply: gchat.ReplyFallbackToNewThread}).Deliveries[0]
	if m := sent(t, kd); m.Thread == nil || m.Thread.Name != "" || m.Thread.ThreadKey != "seen" || !strings.HasPrefix(kd.Group, "spaces/alerts/threads/k") {
		t.Errorf("unknown relay name with a key, fallback: sent %+v, group %q; want the key's thread", m.Thread, kd.Group)
	}
	// Without a reply option Google ignores the thread: no error either.
	e.mustAccept(accept.Request{Space: e.alerts, Message: named(bogus, "")})
}
