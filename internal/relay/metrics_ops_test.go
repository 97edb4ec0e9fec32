package relay_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/store"
)

// newOpsEnv is newMetricsEnv with an Alertmanager route "team" into
// alerts, and the handler a relay serves: the server instrumented for
// ingest.
func newOpsEnv(t *testing.T) (*env, *relay.Metrics, http.Handler) {
	t.Helper()
	e := newEnv(t, func(cfg *config.Config, _ *relay.Options) {
		cfg.Routes = append(cfg.Routes, &config.Route{Name: "team", Source: config.SourceAlertmanager, Spaces: []string{"alerts"},
			Thread: alert.PolicyGroup, DedupWindow: config.DefaultDedupWindow, MaxAlerts: config.DefaultMaxAlerts})
	})
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := relay.NewMetrics(e.cfg, e.store, logger)
	e.store = relay.ObserveStore(e.store, m)
	e.srv = relay.NewServer(e.cfg, e.store, e.notify, logger, relay.Options{Listen: e.cfg.Listen, Metrics: m})
	return e, m, m.InstrumentIngest(e.srv)
}

func serve(h http.Handler, method, target, body string) int {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = "127.0.0.1:8686"
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestMetricsIngestRequests(t *testing.T) {
	e, _, h := newOpsEnv(t)
	ingest := "/v1/spaces/alerts/messages?key=" + ingestKey + "&token="
	for _, c := range []struct {
		method, target, body string
		want                 int
	}{
		{"POST", ingest + alertsToken, `{"text":"one"}`, 200},
		{"POST", ingest + alertsToken, `{"text":"two"}`, 200},
		{"POST", ingest + "wrong-token", `{"text":"three"}`, 403},
		{"POST", "/v1/spaces/nope/messages?key=" + ingestKey, `{"text":"four"}`, 403},
		{"POST", "/v1/alertmanager/team", `not json`, 400},
		{"POST", "/v1/alertmanager/nope", `{}`, 404},
		{"GET", "/healthz", "", 200}, // not ingest
		{"GET", ingest + alertsToken, "", 405},
	} {
		if got := serve(h, c.method, c.target, c.body); got != c.want {
			t.Fatalf("%s %s: got %d, want %d", c.method, c.target, got, c.want)
		}
	}
	got := e.scrape()
	for series, want := range map[string]float64{
		`gchat_relay_ingest_requests_total{code="200",kind="message",name="alerts"}`:    2,
		`gchat_relay_ingest_requests_total{code="403",kind="message",name="alerts"}`:    1,
		`gchat_relay_ingest_requests_total{code="403",kind="message",name=""}`:          1,
		`gchat_relay_ingest_requests_total{code="200",kind="message",name="open"}`:      0,
		`gchat_relay_ingest_requests_total{code="400",kind="alertmanager",name="team"}`: 1,
		`gchat_relay_ingest_requests_total{code="200",kind="alertmanager",name="team"}`: 0,
		`gchat_relay_ingest_requests_total{code="404",kind="alertmanager",name=""}`:     1,
	} {
		if v := value(t, got, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	// Only ingest routes count; a name no configuration has is never a label.
	if n := strings.Count(got, "\ngchat_relay_ingest_requests_total{"); n != 7 {
		t.Errorf("%d ingest series, want 7:\n%s", n, got)
	}
	if strings.Contains(got, `name="nope"`) {
		t.Errorf("an unconfigured name became a label:\n%s", got)
	}
}

func TestMetricsLeasesAcquired(t *testing.T) {
	e, _, _ := newOpsEnv(t)
	ctx := t.Context()
	acquire := func(owner string) store.Lease {
		t.Helper()
		l, err := e.store.AcquireLease(ctx, store.LeaseRequest{Lane: googleSpace, Owner: owner, TTL: time.Minute})
		if err != nil {
			t.Fatalf("acquire as %s: %v", owner, err)
		}
		return l
	}
	series := `gchat_relay_leases_acquired_total{space="alerts"}` // the first space delivering to the lane
	if v := value(t, e.scrape(), series); v != 0 {
		t.Fatalf("%s = %v before any lease, want 0", series, v)
	}
	l := acquire("a")
	acquire("a") // a renewal
	acquire("a")
	if v := value(t, e.scrape(), series); v != 1 {
		t.Errorf("after a grant and two renewals %s = %v, want 1", series, v)
	}
	if _, err := e.store.AcquireLease(ctx, store.LeaseRequest{Lane: googleSpace, Owner: "b", TTL: time.Minute}); err == nil {
		t.Fatal("b took a live lease")
	}
	if err := e.store.ReleaseLease(ctx, l); err != nil {
		t.Fatal(err)
	}
	l = acquire("b")
	if err := e.store.ReleaseLease(ctx, l); err != nil {
		t.Fatal(err)
	}
	acquire("a")
	got := e.scrape()
	if v := value(t, got, series); v != 3 {
		t.Errorf("after passing a → b → a %s = %v, want 3", series, v)
	}
	if strings.Contains(got, googleSpace) {
		t.Errorf("the exposition names the Google space:\n%s", got)
	}
}

func TestMetricsBuildInfo(t *testing.T) {
	e, _, _ := newOpsEnv(t)
	got := e.scrape()
	m := regexp.MustCompile(`(?m)^gchat_build_info\{goversion="([^"]*)",revision="[^"]*",version="[^"]*"\} 1$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no gchat_build_info in:\n%s", got)
	}
	if m[1] != runtime.Version() {
		t.Errorf("goversion %q, want %q", m[1], runtime.Version())
	}
}

// pendingMetrics are names deploy/ uses that the relay does not export yet,
// each with what it waits for. The test fails once one is exported, so that
// it leaves this list.
var pendingMetrics = map[string]string{}

// prometheusMetrics are Prometheus' own series that the rules and dashboard
// use beside the relay's.
var prometheusMetrics = []string{"up"}

// TestDeployMetricNames checks that every metric the alerting rules and the
// Grafana dashboard under deploy/ query is one a relay's /metrics exports.
func TestDeployMetricNames(t *testing.T) {
	_, _, h := newOpsEnv(t)
	serve(h, "POST", "/v1/spaces/alerts/messages?key="+ingestKey+"&token="+alertsToken, `{"text":"one"}`)
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.Host = "127.0.0.1:8686"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	exported := exportedNames(w.Body.String())
	for _, n := range []string{"gchat_build_info", "gchat_relay_queue_depth", "process_resident_memory_bytes"} {
		if !exported[n] {
			t.Fatalf("/metrics does not export %s: %v", n, exported)
		}
	}

	used := map[string][]string{} // metric → where
	for _, q := range dashboardQueries(t, "../../deploy/grafana/gchat-relay.json") {
		for _, n := range promqlMetrics(q) {
			used[n] = append(used[n], "dashboard: "+q)
		}
	}
	for _, q := range ruleQueries(t, "../../deploy/prometheus/gchat-relay.rules.yml") {
		for _, n := range promqlMetrics(q) {
			used[n] = append(used[n], "rules: "+q)
		}
	}
	if len(used) < 10 {
		t.Fatalf("found only %d metric names in the dashboard and the rules: %v", len(used), used)
	}
	for n, where := range used {
		switch {
		case slices.Contains(prometheusMetrics, n):
		case pendingMetrics[n] != "":
			t.Logf("%s is pending (%s); used in %q", n, pendingMetrics[n], where)
		case !exported[n]:
			t.Errorf("%s is not exported by the relay; used in %q", n, where)
		}
	}
	for n := range pendingMetrics {
		if exported[n] {
			t.Errorf("%s is exported now: remove it from pendingMetrics", n)
		}
	}
}

// exportedNames are the series names of a text exposition: each metric
// family, and a histogram's or summary's _bucket, _sum and _count.
func exportedNames(exposition string) map[string]bool {
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(exposition, -1) {
		names[m[1]] = true
		if m[2] == "histogram" || m[2] == "summary" {
			names[m[1]+"_bucket"], names[m[1]+"_sum"], names[m[1]+"_count"] = true, true, true
		}
	}
	return names
}

var (
	promqlStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*\s*\(?`)
	promqlWords    = []string{"and", "or", "unless", "bool", "offset", "inf", "nan"}
	labelValues    = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
)

// promqlMetrics returns the metric names a PromQL expression selects: its
// identifiers, once strings, label matchers, ranges and grouping labels are
// gone, that are neither functions nor keywords.
func promqlMetrics(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	expr = promqlStrings.ReplaceAllString(expr, " ")
	expr = promqlMatchers.ReplaceAllString(expr, " ")
	expr = promqlGrouping.ReplaceAllString(expr, " ")
	var names []string
	for _, id := range promqlIdent.FindAllString(expr, -1) {
		id = strings.TrimSpace(id)
		if strings.HasSuffix(id, "(") || slices.Contains(promqlWords, strings.ToLower(id)) {
			continue
		}
		names = append(names, id)
	}
	return names
}

func TestPromQLMetrics(t *testing.T) {
	for expr, want := range map[string][]string{
		`max by (space) (gchat_relay_queue_depth{space=~"$space"}) > 20 and max by (space) (delta(gchat_relay_queue_depth[15m])) > 10`: {"gchat_relay_queue_depth", "gchat_relay_queue_depth"},
		`histogram_quantile(0.95, sum by (le) (rate(gchat_relay_delivery_latency_seconds_bucket[$__rate_interval])))`:                  {"gchat_relay_delivery_latency_seconds_bucket"},
		`absent(up{job="gchat-relay"} == 1)`:                        {"up"},
		`sum(rate(a_total[5m])) / ignoring (code) sum(rate(b[5m]))`: {"a_total", "b"},
		`label_values(gchat_relay_queue_depth, space)`:              {"gchat_relay_queue_depth"},
	} {
		if got := promqlMetrics(expr); !slices.Equal(got, want) {
			t.Errorf("promqlMetrics(%q) = %q, want %q", expr, got, want)
		}
	}
}

// dashboardQueries are the PromQL queries of a Grafana dashboard: every
// panel target's and every query variable's.
func dashboardQueries(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var qs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("%s: a panel target without expr", path)
			}
			qs = append(qs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("%s: variable query: %v", path, err)
		}
		qs = append(qs, q.Query)
	}
	return qs
}

// ruleQueries are the expressions of a Prometheus rules file.
func ruleQueries(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct{ Expr string }
		}
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var qs []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			qs = append(qs, r.Expr)
		}
	}
	return qs
}
