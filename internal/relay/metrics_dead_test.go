package relay_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// TestMetricsDeadLettersAndReplays: the dead-letter gauge follows what the
// store holds, replays are counted, and the delivery counters add up:
// enqueued plus replayed is finished plus pending.
func TestMetricsDeadLettersAndReplays(t *testing.T) {
	e, _ := newMetricsEnv(t)
	ctx := t.Context()
	a, _ := e.mustPost("alerts", alertsToken, "", `{"text":"one","thread":{"threadKey":"k"}}`)
	b, _ := e.mustPost("alerts", alertsToken, "", `{"text":"two","thread":{"threadKey":"k"}}`)
	c, _ := e.mustPost("alerts", alertsToken, "", `{"text":"three"}`)
	got := e.scrape()
	for _, space := range []string{"alerts", "open"} {
		if v := value(t, got, `gchat_relay_dead_letters{space="`+space+`"}`); v != 0 {
			t.Errorf("dead letters of %s before any = %v, want 0", space, v)
		}
	}
	lease, err := e.store.AcquireLease(ctx, store.LeaseRequest{Lane: googleSpace, Owner: "test", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := e.store.FreezeBatch(ctx, lease, []string{a, b}, []byte(`{"text":"one\ntwo"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.ReleaseLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
	refused := store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT"}
	e.finish(batch.ID, refused)
	e.finish(c, refused)
	if v := value(t, e.scrape(), `gchat_relay_dead_letters{space="alerts"}`); v != 3 {
		t.Errorf("dead letters = %v, want 3 (a batch counts its messages)", v)
	}

	for _, id := range []string{a, c} { // a replays its batch
		if r := e.admin(http.MethodPost, "/api/v1/dead/"+id+"/replay"); r.code != http.StatusOK {
			t.Fatalf("replay %s: %d %s", id, r.code, r.body)
		}
	}
	got = e.scrape()
	for series, want := range map[string]float64{
		`gchat_relay_dead_letters{space="alerts"}`:                             0,
		`gchat_relay_deliveries_replayed_total{space="alerts"}`:                3,
		`gchat_relay_deliveries_replayed_total{space="open"}`:                  0,
		`gchat_relay_deliveries_finished_total{outcome="dead",space="alerts"}`: 3,
	} {
		if v := value(t, got, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}

	e.finish(batch.ID, store.Outcome{State: store.StateDone})
	e.finish(c, store.Outcome{State: store.StateDone})
	got = e.scrape()
	in := value(t, got, `gchat_relay_deliveries_enqueued_total{space="alerts"}`) +
		value(t, got, `gchat_relay_deliveries_replayed_total{space="alerts"}`)
	out := value(t, got, `gchat_relay_deliveries_finished_total{outcome="done",space="alerts"}`) +
		value(t, got, `gchat_relay_deliveries_finished_total{outcome="dead",space="alerts"}`) +
		value(t, got, `gchat_relay_deliveries_finished_total{outcome="dropped",space="alerts"}`) +
		value(t, got, `gchat_relay_queue_depth{space="alerts"}`)
	if in != 6 || out != in {
		t.Errorf("enqueued + replayed = %v, finished + pending = %v; want both 6", in, out)
	}
}
