package console_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestSpacesChart: the Spaces page charts each relay space's sends and
// 429s of the last hour from the store's attempt history, as an inline SVG
// without script, and sums them in words.
func TestSpacesChart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSpacesChart(t, newEnv(t, adminToken)) })
	t.Run("postgres", func(t *testing.T) { testSpacesChart(t, newEnvPostgres(t, adminToken)) })
}

func testSpacesChart(t *testing.T, e *env) {
	c := e.client()
	c.signIn()
	if a := c.get("/console/"); !strings.Contains(a.body, `<svg class="chart"`) || !strings.Contains(a.body, "0 sent") {
		t.Fatalf("Spaces page before any send: no empty chart:\n%s", a.body)
	}
	e.dead("one") // answered 400
	e.attempt(store.Outcome{State: store.StateQueued, Status: 429, Error: "429 RESOURCE_EXHAUSTED",
		Duration: time.Millisecond, RetryAt: time.Now().Add(time.Hour)})
	e.attempt(store.Outcome{State: store.StateDone, Duration: time.Millisecond})
	e.attempt(store.Outcome{State: store.StateQueued, Error: "not sent: paused or lease too short"}) // no request
	a := c.get("/console/")
	row := regexp.MustCompile(`(?s)<tr data-space="alerts".*?</tr>`).FindString(a.body)
	for _, want := range []string{`<svg class="chart"`, `<rect class="sent"`, `<rect class="throttled"`,
		`<span class="sent">3 sent</span>`, `<span class="throttled">1 × 429</span>`} {
		if !strings.Contains(row, want) {
			t.Errorf("the space's row lacks %s:\n%s", want, row)
		}
	}
	if strings.Contains(row, "<script") || strings.Contains(row, "style=") || strings.Contains(row, " on") {
		t.Errorf("the chart carries script or style:\n%s", row)
	}
	if !regexp.MustCompile(`<title>\d\d:\d\d–\d\d:\d\dZ: 3 sent, 1 accepted, 1 × 429</title>|<title>[^<]*: [12] sent`).MatchString(row) {
		t.Errorf("no bar titled with the sends:\n%s", row)
	}
}

// attempt enqueues a message to the space, claims it and records out as
// its attempt.
func (e *env) attempt(out store.Outcome) {
	e.t.Helper()
	ctx := e.t.Context()
	res, err := e.store.Enqueue(ctx, store.EnqueueRequest{Space: "alerts", Lane: googleSpace,
		Deliveries: []store.NewDelivery{{Group: fmt.Sprint("g", time.Now().UnixNano()), Message: []byte(`{"text":"x"}`)}}})
	if err != nil {
		e.t.Fatal(err)
	}
	l, err := e.store.AcquireLease(ctx, store.LeaseRequest{Lane: googleSpace, Owner: "test", TTL: time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Claim(ctx, l, 10); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Finish(ctx, l, res.Deliveries[0].ID, out); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.ReleaseLease(ctx, l); err != nil {
		e.t.Fatal(err)
	}
}

const routeToken = "route-bearer-console-0123456789"

// routesEnv is a relay with an Alertmanager route "prom" to the space,
// and its metrics unless noMetrics.
func routesEnv(t *testing.T, st store.Store, noMetrics bool) *env {
	return newEnvStore(t, adminToken, st, func(c *config.Config, o *relay.Options) {
		c.Routes = []*config.Route{{Name: "prom", Source: config.SourceAlertmanager, BearerToken: routeToken,
			Spaces: []string{"alerts"}, Thread: alert.PolicyGroup, DedupWindow: config.DefaultDedupWindow, MaxAlerts: config.DefaultMaxAlerts}}
		if !noMetrics {
			o.Metrics = relay.NewMetrics(c, st, nil)
		}
	})
}

func (e *env) notify(file string) {
	e.t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "source", "alertmanager", "testdata", file))
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(e.t.Context(), "POST", e.ts.URL+"/v1/alertmanager/prom", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+routeToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("POST %s: status %d", file, resp.StatusCode)
	}
}

// TestRoutesCounts: the Routes page shows this replica's counts of the
// route's posts not queued, by reason, and the incidents its alert groups
// opened, from the store's incident counter.
func TestRoutesCounts(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		testRoutesCounts(t, routesEnv(t, st, false))
	})
	t.Run("postgres", func(t *testing.T) {
		dbURL, _ := pgtest.FreshSchema(t, "gchat_console_")
		st, err := postgres.Open(t.Context(), dbURL, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		testRoutesCounts(t, routesEnv(t, st, false))
	})
}

func testRoutesCounts(t *testing.T, e *env) {
	c := e.client()
	c.signIn()
	e.notify("diskfull-firing.json")
	e.notify("diskfull-firing.json") // a copy: not queued
	section := func() string {
		a := c.get("/console/routes")
		if a.status != 200 {
			t.Fatalf("GET /console/routes: status %d", a.status)
		}
		if !strings.Contains(a.body, "this replica's counts since it started") {
			t.Errorf("the page does not say whose counts they are:\n%s", a.body)
		}
		return regexp.MustCompile(`(?s)<section class="route" data-route="prom">.*?</section>`).FindString(a.body)
	}
	s := section()
	for _, want := range []string{`data-reason="copy"><dt`, `Copies</dt><dd>1</dd>`, `Repeats suppressed</dt><dd>0</dd>`,
		`<dd class="opened">1</dd>`, `<dd class="open">1</dd>`, `<dd class="groups">1</dd>`} {
		if !strings.Contains(s, want) {
			t.Errorf("after a firing and its copy, the route lacks %s:\n%s", want, s)
		}
	}
	for _, secret := range []string{hookKey, hookToken, googleSpace, adminToken, routeToken} {
		if a := c.get("/console/routes"); strings.Contains(a.body, secret) {
			t.Errorf("routes page holds %q", secret)
		}
	}
	e.notify("diskfull-resolved.json")
	s = section()
	for _, want := range []string{`<dd class="opened">1</dd>`, `<dd class="open">0</dd>`} {
		if !strings.Contains(s, want) {
			t.Errorf("after the resolved, the route lacks %s:\n%s", want, s)
		}
	}
}

// TestRoutesWithoutMetrics: a relay without metrics counts no duplicates,
// and the page says so; the incidents are still the store's.
func TestRoutesWithoutMetrics(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := routesEnv(t, st, true)
	c := e.client()
	c.signIn()
	e.notify("diskfull-firing.json")
	a := c.get("/console/routes")
	if !strings.Contains(a.body, "counts no duplicates") || strings.Contains(a.body, `data-reason="copy"`) ||
		!strings.Contains(a.body, `<dd class="opened">1</dd>`) {
		t.Errorf("routes page without metrics:\n%s", a.body)
	}
}
