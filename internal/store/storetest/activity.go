package storetest

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// activityTests are the cases of the console's summaries (Admin.Activity,
// Admin.IncidentCount); Run runs them with the others.
var activityTests = []struct {
	name string
	fn   func(t *testing.T, h *harness)
}{
	{"ActivityBuckets", testActivityBuckets},
	{"IncidentCountByPrefix", testIncidentCountByPrefix},
}

func (h *harness) activity(since time.Time, bucket time.Duration) []store.SpaceActivity {
	h.t.Helper()
	got, err := h.s.Activity(h.t.Context(), since, bucket)
	if err != nil {
		h.t.Fatalf("Activity: %v", err)
	}
	return got
}

// testActivityBuckets: the sends of each relay space are summed by bucket
// of their start, counted from since: accepted, throttled, answered
// otherwise, without an answer, and ambiguous (rescued) attempts are
// sends; an attempt settled without a request is not; attempts started
// before since are left out.
func testActivityBuckets(t *testing.T, h *harness) {
	t0 := h.clock.Now()
	if got := h.activity(t0.Add(-time.Hour), time.Minute); len(got) != 0 {
		t.Fatalf("no attempts: %+v, want none", got)
	}
	one := h.enqueue("L1", "g1", "g2", "g3", "g4", "g5")
	two := h.enqueue("L2", "g1")

	a := h.lease("L1", "A")
	h.claim(a, 2)                                                                                   // g1, g2 at t0
	h.finish(a, one[0].ID, store.Outcome{State: store.StateDone, Duration: 300 * time.Millisecond}) // as the dispatcher records a send
	h.finish(a, one[1].ID, store.Outcome{State: store.StateQueued, RetryAt: t0.Add(time.Hour), Status: 429,
		Error: "429 RESOURCE_EXHAUSTED", Duration: 100 * time.Millisecond})
	h.clock.Advance(30 * time.Second)
	a = h.lease("L1", "A")
	h.claim(a, 1) // g3 at t0+30s: settled without a request
	h.finish(a, one[2].ID, store.Outcome{State: store.StateDead, Error: "too old"})
	h.clock.Advance(time.Minute)
	a = h.lease("L1", "A")
	h.claim(a, 1) // g4 at t0+90s: no answer
	h.finish(a, one[3].ID, store.Outcome{State: store.StateDead, Error: "connection reset", Duration: 2 * time.Second})
	b := h.lease("L2", "A")
	h.claim(b, 1) // L2's g1 at t0+90s
	h.finish(b, two[0].ID, done)
	h.clock.Advance(time.Minute)
	a = h.lease("L1", "A")
	h.claim(a, 1) // g5 at t0+150s, then A's lease dies
	h.clock.Advance(2 * time.Minute)
	h.lease("L1", "B") // the takeover records A's ambiguous attempt

	for _, tt := range []struct {
		since time.Time
		want  []store.SpaceActivity
	}{
		{t0, []store.SpaceActivity{
			{Space: "relay-L1", Start: t0, Sent: 2, OK: 1, Throttled: 1},
			{Space: "relay-L1", Start: t0.Add(time.Minute), Sent: 1},
			{Space: "relay-L1", Start: t0.Add(2 * time.Minute), Sent: 1},
			{Space: "relay-L2", Start: t0.Add(time.Minute), Sent: 1, OK: 1},
		}},
		{t0.Add(30 * time.Second), []store.SpaceActivity{ // buckets count from since
			{Space: "relay-L1", Start: t0.Add(90 * time.Second), Sent: 1},
			{Space: "relay-L1", Start: t0.Add(150 * time.Second), Sent: 1},
			{Space: "relay-L2", Start: t0.Add(90 * time.Second), Sent: 1, OK: 1},
		}},
		{t0.Add(2 * time.Minute), []store.SpaceActivity{
			{Space: "relay-L1", Start: t0.Add(2 * time.Minute), Sent: 1},
		}},
	} {
		if diff := cmp.Diff(tt.want, h.activity(tt.since, time.Minute)); diff != "" {
			t.Errorf("Activity since t0+%s (-want +got):\n%s", tt.since.Sub(t0), diff)
		}
	}
	if _, err := h.s.Activity(t.Context(), t0, 0); err == nil {
		t.Error("Activity with a zero bucket: no error")
	}
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := h.s.Activity(t.Context(), t0, time.Minute)
	h.wantErr("Activity after Close", err, store.ErrClosed)
}

// testIncidentCountByPrefix: the keys of one prefix are counted, open
// (last notification firing) and by incidents opened; keys of another
// prefix, even one that extends it, are not. The keys are formed as the
// relay forms them (internal/relay/plan): route, NUL, group key; echo keys
// route, SOH.
func testIncidentCountByPrefix(t *testing.T, h *harness) {
	for _, st := range []struct {
		key    string
		firing bool
	}{
		{"r1\x00g1", true}, {"r1\x00g1", false}, {"r1\x00g1", true}, // incident 2, open
		{"r1\x00g2", true}, {"r1\x00g2", false}, // incident 1, closed
		{"r1\x00{}:{a=\"\\x\"}", true}, // incident 1, open
		{"r10\x00g1", true},            // another route
		{"r1\x01echo\x00x", false},     // an echo key
		{"r2\x00g1", true},
		{"r1\\x00g", true}, // a backslash, not a NUL
	} {
		if _, err := h.s.Incident(t.Context(), st.key, st.firing); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, want := range map[string]store.IncidentCount{
		"r1\x00":  {Keys: 3, Open: 2, Opened: 4},
		"r10\x00": {Keys: 1, Open: 1, Opened: 1},
		"r1\\":    {Keys: 1, Open: 1, Opened: 1},
		"r3\x00":  {},
	} {
		got, err := h.s.IncidentCount(t.Context(), prefix)
		if err != nil {
			t.Fatalf("IncidentCount(%q): %v", prefix, err)
		}
		if got != want {
			t.Errorf("IncidentCount(%q) = %+v, want %+v", prefix, got, want)
		}
	}
}
