package relay_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
)

// newMetricsEnv is newEnv with metrics: the server serves /metrics, and its
// store (e.store, used by e.finish too) reports to them.
func newMetricsEnv(t *testing.T) (*env, *relay.Metrics) {
	t.Helper()
	e := newEnv(t, nil)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := relay.NewMetrics(e.cfg, e.store, logger)
	e.store = relay.ObserveStore(e.store, m)
	e.srv = relay.NewServer(e.cfg, e.store, e.notify, logger, relay.Options{Listen: e.cfg.Listen, Metrics: m})
	return e, m
}

// scrape gets /metrics from a loopback Host and returns the exposition,
// checking that it holds no secret or Google space id.
func (e *env) scrape() string {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Host = "127.0.0.1:8686"
	a := e.do(r)
	if a.code != http.StatusOK {
		e.t.Fatalf("GET /metrics: got %d:\n%s", a.code, a.body)
	}
	for _, secret := range []string{googleSecret, googleSpace, alertsToken, adminToken, ingestKey} {
		if strings.Contains(a.body, secret) {
			e.t.Errorf("the exposition contains %q:\n%s", secret, a.body)
		}
	}
	return a.body
}

// value returns the sample of the exposition named by series, such as
// `gchat_relay_queue_depth{space="alerts"}`; it fails when there is none.
func value(t *testing.T, exposition, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(exposition)
	if m == nil {
		t.Fatalf("no sample %s in:\n%s", series, exposition)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("sample %s: %v", series, err)
	}
	return v
}

func TestMetricsCounters(t *testing.T) {
	e, _ := newMetricsEnv(t)
	got := e.scrape()
	for _, series := range []string{
		`gchat_relay_deliveries_enqueued_total{space="alerts"}`,
		`gchat_relay_deliveries_finished_total{outcome="done",space="open"}`,
		`gchat_relay_attempts_total{result="429",space="alerts"}`,
		`gchat_relay_delivery_latency_seconds_count{space="alerts"}`,
	} {
		if v := value(t, got, series); v != 0 {
			t.Errorf("%s = %v before anything happened, want 0", series, v)
		}
	}

	done, _ := e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	dead, _ := e.mustPost("alerts", alertsToken, "", `{"text":"two"}`)
	dup := "requestId=r1"
	e.mustPost("open", "any", dup, `{"text":"three"}`)
	e.mustPost("open", "any", dup, `{"text":"three"}`) // a duplicate stores nothing
	e.finish(done, store.Outcome{State: store.StateDone, GoogleMessage: "spaces/x/messages/y"})
	e.finish(dead, store.Outcome{State: store.StateDead, Status: 400, Error: "refused"})

	got = e.scrape()
	for series, want := range map[string]float64{
		`gchat_relay_deliveries_enqueued_total{space="alerts"}`:                   2,
		`gchat_relay_deliveries_enqueued_total{space="open"}`:                     1,
		`gchat_relay_deliveries_finished_total{outcome="done",space="alerts"}`:    1,
		`gchat_relay_deliveries_finished_total{outcome="dead",space="alerts"}`:    1,
		`gchat_relay_deliveries_finished_total{outcome="dropped",space="alerts"}`: 0,
		`gchat_relay_delivery_latency_seconds_count{space="alerts"}`:              1,
		`gchat_relay_queue_depth{space="alerts"}`:                                 1,
		`gchat_relay_queue_depth{space="open"}`:                                   1, // they share a Google space
		`gchat_relay_space_paused{space="alerts"}`:                                0,
		`gchat_relay_deliveries_finished_total{outcome="done",space="open"}`:      0,
		`gchat_relay_attempts_total{result="ok",space="alerts"}`:                  0,
		`gchat_relay_delivery_latency_seconds_bucket{space="alerts",le="+Inf"}`:   1,
		`gchat_relay_delivery_latency_seconds_bucket{space="open",le="+Inf"}`:     0,
		`gchat_relay_deliveries_finished_total{outcome="dropped",space="open"}`:   0,
	} {
		if v := value(t, got, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	if age := value(t, got, `gchat_relay_queue_oldest_seconds{space="alerts"}`); age <= 0 || age > 60 {
		t.Errorf("oldest pending age %v s, want a few milliseconds", age)
	}
}

func TestMetricsAttempts(t *testing.T) {
	e, m := newMetricsEnv(t)
	hook := e.cfg.Space("alerts").Webhook
	same := *hook // open posts into the same Google space with a webhook of its own
	e.cfg.Space("open").Webhook = &same
	other, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/BBBB/messages?key=k&token=t")
	if err != nil {
		t.Fatal(err)
	}
	answers := []error{
		nil,
		&gchat.APIError{StatusCode: 429},
		&gchat.APIError{StatusCode: 503},
		&gchat.APIError{StatusCode: 500},
		&gchat.APIError{StatusCode: 400},
		&gchat.APIError{StatusCode: 404},
		errors.New("dial tcp: connection refused"),
		context.DeadlineExceeded,
	}
	for _, answer := range answers {
		s := relay.ObserveSender(fakeSender{answer}, e.cfg, m)
		if _, err := s.Send(t.Context(), hook, &gchat.Message{Text: "hi"}); err != answer {
			t.Errorf("Send returned %v, want the sender's %v", err, answer)
		}
	}
	relay.ObserveSender(fakeSender{nil}, e.cfg, m).Send(t.Context(), other, &gchat.Message{Text: "hi"})

	got := e.scrape()
	for result, want := range map[string]float64{"ok": 1, "429": 1, "5xx": 2, "4xx": 2, "network": 2} {
		if v := value(t, got, `gchat_relay_attempts_total{result="`+result+`",space="alerts"}`); v != want {
			t.Errorf("attempts %s = %v, want %v", result, v, want)
		}
		if v := value(t, got, `gchat_relay_attempts_total{result="`+result+`",space="open"}`); v != 0 {
			t.Errorf("attempts %s of open = %v, want 0: open has its own webhook", result, v)
		}
	}
	if v := value(t, got, `gchat_relay_attempts_total{result="ok",space=""}`); v != 1 {
		t.Errorf("attempts to an unknown webhook = %v, want 1", v)
	}
}

// fakeSender answers every request with err.
type fakeSender struct{ err error }

func (s fakeSender) Send(context.Context, *gchat.Webhook, *gchat.Message, ...gchat.Option) (*gchat.Response, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &gchat.Response{}, nil
}

func TestMetricsQueueGauges(t *testing.T) {
	e, m := newMetricsEnv(t)
	ctx := t.Context()
	e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	e.mustPost("open", "any", "", `{"text":"two"}`)
	if err := e.store.PauseLane(ctx, googleSpace, store.Pause{Reason: "404 webhook deleted"}); err != nil {
		t.Fatal(err)
	}
	got := e.scrape()
	for _, space := range []string{"alerts", "open"} {
		if v := value(t, got, `gchat_relay_queue_depth{space="`+space+`"}`); v != 2 {
			t.Errorf("%s: depth %v, want 2 (the Google space's queue)", space, v)
		}
		if v := value(t, got, `gchat_relay_space_paused{space="`+space+`"}`); v != 1 {
			t.Errorf("%s: paused %v, want 1", space, v)
		}
	}

	// A reload sends alerts to another Google space: the old one's queue
	// is reported under alerts still, added to the new one's.
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/CCCClane002/messages?key=k&token=" + googleSecret)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Listen: e.cfg.Listen, Spaces: []*config.Space{config.NewSpace("alerts", hook), config.NewSpace("new", hook)}}
	m.SetConfig(cfg)
	if err := e.store.PauseLane(ctx, googleSpace, store.Pause{Until: time.Now().Add(time.Hour), Reason: "429"}); err != nil {
		t.Fatal(err)
	}
	got = e.scrape()
	for series, want := range map[string]float64{
		`gchat_relay_queue_depth{space="alerts"}`:       2, // the oldest pending delivery of the old lane is alerts'
		`gchat_relay_queue_depth{space="new"}`:          0,
		`gchat_relay_space_paused{space="alerts"}`:      0, // the old lane's pause is not the space's
		`gchat_relay_space_paused{space="new"}`:         0,
		`gchat_relay_queue_oldest_seconds{space="new"}`: 0,
	} {
		if v := value(t, got, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	if strings.Contains(got, `gchat_relay_queue_depth{space="open"}`) {
		t.Errorf("open left the configuration, yet has a queue gauge:\n%s", got)
	}
	if strings.Contains(got, "CCCClane002") {
		t.Errorf("the exposition names a Google space:\n%s", got)
	}
}

func TestMetricsBatchCountsMembers(t *testing.T) {
	e, _ := newMetricsEnv(t)
	ctx := t.Context()
	a, _ := e.mustPost("alerts", alertsToken, "", `{"text":"one","thread":{"threadKey":"k"}}`)
	b, _ := e.mustPost("alerts", alertsToken, "", `{"text":"two","thread":{"threadKey":"k"}}`)
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
	e.finish(batch.ID, store.Outcome{State: store.StateDone})
	got := e.scrape()
	if v := value(t, got, `gchat_relay_deliveries_finished_total{outcome="done",space="alerts"}`); v != 2 {
		t.Errorf("done = %v, want 2: a batch counts its members", v)
	}
	if v := value(t, got, `gchat_relay_delivery_latency_seconds_count{space="alerts"}`); v != 2 {
		t.Errorf("latency count = %v, want 2", v)
	}
	if v := value(t, got, `gchat_relay_queue_depth{space="alerts"}`); v != 0 {
		t.Errorf("depth = %v, want 0", v)
	}
}

func TestMetricsHost(t *testing.T) {
	e, _ := newMetricsEnv(t)
	for host, want := range map[string]int{
		"127.0.0.1:8686":   http.StatusOK,
		"localhost":        http.StatusOK,
		"evil.example:80":  http.StatusForbidden,
		"rebind.localhost": http.StatusForbidden,
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.Host = host
		if a := e.do(r); a.code != want {
			t.Errorf("Host %s: got %d, want %d", host, a.code, want)
		}
	}
	// No token is needed, and the admin token is not asked for.
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Host = "localhost"
	if a := e.do(r); a.header.Get("WWW-Authenticate") != "" {
		t.Errorf("/metrics asks for credentials: %v", a.header)
	}

	// Without Metrics there is no route.
	plain := newEnv(t, nil)
	r = httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Host = "localhost"
	if a := plain.do(r); a.code != http.StatusNotFound {
		t.Errorf("without Options.Metrics: got %d, want 404", a.code)
	}
}

// TestMetricsStoreFailure: a store that cannot be read still yields the
// counters, and the failure is logged.
func TestMetricsStoreFailure(t *testing.T) {
	e, _ := newMetricsEnv(t)
	e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Host = "localhost"
	a := e.do(r)
	if a.code != http.StatusOK {
		t.Fatalf("got %d, want 200 with what could be gathered:\n%s", a.code, a.body)
	}
	if v := value(t, a.body, `gchat_relay_deliveries_enqueued_total{space="alerts"}`); v != 1 {
		t.Errorf("enqueued = %v, want 1", v)
	}
	if strings.Contains(a.body, "gchat_relay_queue_depth{") {
		t.Errorf("queue gauges without a store:\n%s", a.body)
	}
	if !strings.Contains(e.logs.String(), "metrics_failed") {
		t.Errorf("the failed read is not logged:\n%s", e.logs.String())
	}
}
