package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/browsertest"

	"github.com/chromedp/chromedp"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the console's screenshots in docs/ from the browser test")

// TestBrowserConsole drives the console in a real headless Chromium
// against a running relay (package app, as `gchat relay` runs it) that
// delivers into the emulator: sign in, find a dead letter, replay it and
// watch it delivered; resume a paused space; a cross-site POST refused; a
// page without a session refused.
func TestBrowserConsole(t *testing.T) {
	execPath := browsertest.Chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	// Google: the emulator, with two spaces.
	ets := httptest.NewUnstartedServer(nil)
	emu := emulator.NewServer(emulator.Config{BaseURL: "http://" + ets.Listener.Addr().String()}, nil)
	ets.Config.Handler = emu
	ets.Start()
	defer ets.Close()
	defer emu.Close()
	hooks := map[string]string{}
	for _, name := range []string{"Alerts", "Deploys"} {
		sp, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: name})
		if err != nil {
			t.Fatal(err)
		}
		h, err := emu.CreateWebhook(sp.ID, emulator.WebhookSpec{Name: "relay"})
		if err != nil {
			t.Fatal(err)
		}
		hooks[name] = h.URL
	}
	alertsHook, _ := gchat.ParseWebhook(hooks["Alerts"])
	deploysHook, _ := gchat.ParseWebhook(hooks["Deploys"])

	// The relay, its store opened here so that the test can leave a dead
	// letter and a paused space in it before the relay starts.
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("listen: %s\nstore: sqlite:%s\nadmin_token: %s\nallowed_hosts: [%s]\nspaces:\n"+
		"  alerts:\n    webhook_url: %s\n    pace: 10ms\n  deploys:\n    webhook_url: %s\n    pace: 10ms\n",
		ln.Addr(), filepath.Join(dir, "relay.db"), adminToken, ets.Listener.Addr(), hooks["Alerts"], hooks["Deploys"])
	cfg, err := config.Load([]byte(yaml), "relay.yaml", func(string) string { return "" }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	leaveHistory(t, filepath.Join(dir, "relay.db"), alertsHook.Space())
	st, err := sqlite.Open(ctx, filepath.Join(dir, "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadID := leaveDeadLetter(t, st, alertsHook.Space(), "checkout-api", 42)
	leaveDeadLetter(t, st, alertsHook.Space(), "search-indexer", 43)
	leaveDeadLetter(t, st, alertsHook.Space(), "payments-gateway", 44)
	// Deploys is paused, as after Google's 403, with two messages waiting.
	for _, text := range []string{"Deploy api v2.14.0 to production", "Deploy web v5.2.1 to production"} {
		msg, _ := json.Marshal(gchat.Message{Text: text})
		if _, err := st.Enqueue(ctx, store.EnqueueRequest{Space: "deploys", Lane: deploysHook.Space(),
			Deliveries: []store.NewDelivery{{Group: "", Message: msg}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PauseLane(ctx, deploysHook.Space(), store.Pause{Reason: "403 PERMISSION_DENIED: the app was removed from the space"}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	rl, err := app.New(cfg, ln, st, slog.New(slog.NewJSONHandler(logs, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rl.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("relay Run: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	// Some traffic, so the pages look lived in.
	relayHook, _ := gchat.ParseWebhook(base + "/v1/spaces/alerts/messages?key=k&token=t")
	client := &gchat.Client{}
	for _, text := range []string{"Disk usage on db-1 is back under 80%", "Backup of orders-db finished in 4m12s"} {
		if _, err := client.Send(ctx, relayHook, &gchat.Message{Text: text}); err != nil {
			t.Fatal(err)
		}
	}

	bctx := browsertest.New(t, ctx, execPath)
	browserDo(t, bctx, "a page without a session shows the sign-in form only",
		chromedp.EmulateViewport(1280, 760),
		chromedp.Navigate(base+"/console/dead"),
		chromedp.WaitVisible(`#signin input[name="token"]`),
	)
	if n := browserEval[int](t, bctx, `document.querySelectorAll('tr[data-id]').length`); n != 0 {
		t.Errorf("the sign-in page shows %d deliveries", n)
	}

	browserDo(t, bctx, "sign in",
		chromedp.SendKeys(`#signin input[name="token"]`, adminToken),
		chromedp.SendKeys(`#signin input[name="name"]`, "ana"),
		chromedp.Submit(`#signin`),
		chromedp.WaitVisible(`#next`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#spaces tr[data-space="deploys"].paused`),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
	)
	if n := browserEval[int](t, bctx, `document.querySelectorAll('#spaces tr[data-space="alerts"] svg.chart rect.throttled').length`); n == 0 {
		t.Error("the alerts space's chart shows no 429")
	}
	screenshot(t, bctx, "console-spaces.png")

	// Find the dead letter, open it, replay it and watch it delivered.
	browserDo(t, bctx, "find the dead letter",
		chromedp.Navigate(base+"/console/dead"),
		chromedp.WaitVisible(fmt.Sprintf(`#dead tr[data-id=%q]`, deadID)),
	)
	screenshot(t, bctx, "console-dead.png")
	browserDo(t, bctx, "open the dead letter",
		chromedp.Click(fmt.Sprintf(`#dead tr[data-id=%q] a`, deadID)),
		chromedp.WaitVisible(`#replay`),
		chromedp.WaitVisible(`.gc-message .gc-card, .gc-message .gc-text`),
	)
	screenshot(t, bctx, "console-delivery.png")
	if got := browserEval[string](t, bctx, `document.querySelector('#state').textContent`); got != "dead" {
		t.Errorf("state on the page: %q, want dead", got)
	}
	browserDo(t, bctx, "replay it",
		chromedp.Click(`#replay`),
		chromedp.WaitVisible(`#result`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#state`),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
		// The page updates itself (server-sent events) as the relay delivers.
		waitJS(`document.querySelector('#state').textContent === 'done'`),
	)
	alerts, _ := emu.Space(alertsHook.Space())
	if msgs := emu.Messages(alerts.ID, emulator.MessageFilter{}); !hasText(msgs, "checkout-api") {
		t.Errorf("the emulator did not get the replayed message: %d messages", len(msgs))
	}

	// Resume the paused space: its waiting messages go out.
	browserDo(t, bctx, "resume deploys",
		chromedp.Navigate(base+"/console/"),
		chromedp.Click(`#spaces tr[data-space="deploys"] button.resume`),
		chromedp.WaitVisible(`#result`),
		chromedp.Click(`#next`),
		chromedp.WaitVisible(`#spaces tr[data-space="deploys"]`),
		waitJS(`!document.querySelector('#spaces tr[data-space="deploys"]').classList.contains('paused')`),
		waitJS(`document.querySelector('#spaces tr[data-space="deploys"] td.num').textContent === '0'`),
	)
	if _, err := emu.WaitMessages(ctx, deploysHook.Space(), 2); err != nil {
		t.Errorf("deploys' messages after resume: %v", err)
	}

	// A cross-site POST: a page on another site (localhost is another site
	// than 127.0.0.1) posts a replay form to the console. It is refused, and
	// the delivery is left alone.
	otherDead := leaveDeadLetterLive(t, base, st, alertsHook.Space())
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s/console/deliveries/%s/replay"><input name="csrf" value="x"><button>go</button></form>`, base, otherDead)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	browserDo(t, bctx, "a cross-site POST",
		chromedp.Navigate(evilURL),
		chromedp.WaitVisible(`#f button`),
		chromedp.Click(`#f button`),
		waitJS(`location.href.indexOf('/console/deliveries/') >= 0 && document.readyState === 'complete'`),
	)
	if body := browserEval[string](t, bctx, `document.body.innerText`); !strings.Contains(body, "cross-site request refused") {
		t.Errorf("cross-site POST answer: %q", body)
	}
	if d, err := st.Get(ctx, otherDead); err != nil || d.State != store.StateDead {
		t.Errorf("after a cross-site replay the delivery is %s (%v), want dead", d.State, err)
	}
	if !strings.Contains(logs.String(), `"msg":"console_replayed","part":"console","who":"ana"`) {
		t.Errorf("the replay is not logged with who did it")
	}
}

// leaveDeadLetter stores a dead letter in lane as a replica that has since
// gone would have left it: a card message Google refused.
func leaveDeadLetter(t *testing.T, st store.Store, lane, service string, incident int) string {
	t.Helper()
	ctx := t.Context()
	c := card.CardWithID{CardID: "alert", Card: card.Card{
		Header: &card.Header{Title: service + ": 5xx rate above 2%", Subtitle: "production · firing"},
		Sections: []*card.Section{{Widgets: []*card.Widget{
			card.Text("Error rate <b>4.7%</b> over the last 10 minutes."),
		}}},
	}}
	msg, _ := json.Marshal(gchat.Message{Text: service + " is failing", CardsV2: []card.CardWithID{c}})
	res, err := st.Enqueue(ctx, store.EnqueueRequest{Space: "alerts", Lane: lane, DedupKey: service + "/HighErrorRate",
		Deliveries: []store.NewDelivery{{Group: fmt.Sprint("incident-", incident), Message: msg}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.AcquireLease(ctx, store.LeaseRequest{Lane: lane, Owner: "gone-replica", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, l, 10); err != nil {
		t.Fatal(err)
	}
	id := res.Deliveries[0].ID
	if _, err := st.Finish(ctx, l, id, store.Outcome{State: store.StateDead, Status: 503,
		Error: "503 UNAVAILABLE: The service is currently unavailable (gave up after max_age)"}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseLease(ctx, l); err != nil {
		t.Fatal(err)
	}
	return id
}

// leaveHistory leaves the last hour's sends of the alerts space in the
// store at path, by a store whose clock walks through that hour: about one
// a minute, and a burst throttled with 429s half an hour ago.
func leaveHistory(t *testing.T, path, lane string) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().Add(-time.Hour)
	st, err := sqlite.Open(ctx, path, sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 55 {
		now = now.Add(time.Minute)
		n := 1 + i%3
		if i >= 28 && i < 32 {
			n = 6
		}
		for j := range n {
			msg, _ := json.Marshal(gchat.Message{Text: fmt.Sprintf("CPU on web-%d back under 70%%", j)})
			res, err := st.Enqueue(ctx, store.EnqueueRequest{Space: "alerts", Lane: lane,
				Deliveries: []store.NewDelivery{{Group: fmt.Sprint("h", i, "-", j), Message: msg}}})
			if err != nil {
				t.Fatal(err)
			}
			l, err := st.AcquireLease(ctx, store.LeaseRequest{Lane: lane, Owner: "replica-1", TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Claim(ctx, l, 1); err != nil {
				t.Fatal(err)
			}
			out := store.Outcome{State: store.StateDone, Duration: 120 * time.Millisecond}
			if i >= 28 && i < 32 && j >= 3 {
				out = store.Outcome{State: store.StateDropped, Status: 429, Error: "429 RESOURCE_EXHAUSTED: quota exceeded",
					Duration: 80 * time.Millisecond}
			}
			if _, err := st.Finish(ctx, l, res.Deliveries[0].ID, out); err != nil {
				t.Fatal(err)
			}
			if err := st.ReleaseLease(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// leaveDeadLetterLive makes a dead letter while the relay runs: a message
// in a space whose lane the test pauses first, so that the relay does not
// hold its lease, then dead by a lease of the test's.
func leaveDeadLetterLive(t *testing.T, base string, st store.Store, lane string) string {
	t.Helper()
	ctx := t.Context()
	const other = "AAAAnotConfigured"
	msg, _ := json.Marshal(gchat.Message{Text: "left dead"})
	res, err := st.Enqueue(ctx, store.EnqueueRequest{Space: "alerts", Lane: other, Deliveries: []store.NewDelivery{{Message: msg}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.AcquireLease(ctx, store.LeaseRequest{Lane: other, Owner: "test", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, l, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Finish(ctx, l, res.Deliveries[0].ID, store.Outcome{State: store.StateDead, Error: "test"}); err != nil {
		t.Fatal(err)
	}
	return res.Deliveries[0].ID
}

func hasText(msgs []emulator.Message, s string) bool {
	for _, m := range msgs {
		if strings.Contains(m.Message.Text, s) {
			return true
		}
	}
	return false
}

// screenshot keeps the page as docs/NAME (with -update) and as an artifact.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	browsertest.Save(t, name, png, filepath.Join("..", "..", "..", "docs"), *update)
}

// waitJS waits until a JavaScript expression is true, evaluated from Go
// (the console's CSP forbids the eval that chromedp.Poll needs).
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err != nil || ok {
				return chromedp.Void{}, err
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("wait for %s: %w", expr, ctx.Err())
			case <-tick.C:
			}
		}
	}
}

func browserDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerHTML`))
		t.Fatalf("%s: %v; the page:\n%s", what, err, page)
	}
}

func browserEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// TestEventStreamEndsAtShutdown: an open live page does not hold up the
// relay's shutdown (which would otherwise wait out its timeout and fail).
func TestEventStreamEndsAtShutdown(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("listen: %s\nstore: sqlite:%s\nadmin_token: %s\nallowed_hosts: [127.0.0.1:1]\nspaces:\n"+
		"  alerts:\n    webhook_url: http://127.0.0.1:1/v1/spaces/AAAAstream1/messages?key=k&token=t\n",
		ln.Addr(), filepath.Join(dir, "relay.db"), adminToken)
	cfg, err := config.Load([]byte(yaml), "relay.yaml", func(string) string { return "" }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rl, err := app.New(cfg, ln, st, nil, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()

	e := &env{t: t, ts: &httptest.Server{URL: "http://" + ln.Addr().String()}}
	c := e.client()
	c.signIn()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/console/events?page=/console/", nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("events: status %d", resp.StatusCode)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run with a live page open: %v", err)
	}
}
