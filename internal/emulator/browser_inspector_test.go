package emulator_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/browsertest"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/emulator"
)

// inspectorServer serves an emulator with two spaces on loopback and sends
// a few messages through the library; it returns the emulator, its URL, the
// space with the canary webhook and the names of the messages sent there.
func inspectorServer(t *testing.T, ctx context.Context) (*emulator.Server, string, emulator.Space, []string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	settings := emulator.DefaultSettings()
	settings.QuotaPerSecond, settings.QuotaPerMinute = 0, 0
	emu := emulator.NewServer(emulator.Config{BaseURL: "http://" + ts.Listener.Addr().String(), Settings: &settings}, nil)
	ts.Config.Handler = emu
	ts.Start()
	t.Cleanup(func() {
		emu.Close() // ends the page's event stream first
		ts.Close()
	})
	alerts, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Alerts", Webhooks: []emulator.WebhookSpec{{Name: "Alertmanager", Token: canaryToken}}})
	if err != nil {
		t.Fatal(err)
	}
	deploys, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Deploys", Webhooks: []emulator.WebhookSpec{{Name: "CI"}}})
	if err != nil {
		t.Fatal(err)
	}
	client := &gchat.Client{Pace: -1, Timeout: 10 * time.Second}
	send := func(url string, msg *gchat.Message) string {
		t.Helper()
		hook, err := gchat.ParseWebhook(url)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Send(ctx, hook, msg)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		return resp.Name
	}
	var names []string
	names = append(names, send(alerts.Webhooks[0].URL, &gchat.Message{
		CardsV2: []card.CardWithID{{CardID: "alert", Card: card.New("DiskAlmostFull: db-1",
			card.NewSection("",
				card.Decorated("Severity", `<font color="#d93025"><b>critical</b></font>`),
				card.Decorated("Summary", "Disk /var/lib/postgresql is 93% full & growing"),
				card.Buttons(card.LinkButton("Open runbook", "https://runbooks.example.com/disk-full")),
			),
		)}},
		Thread: &gchat.Thread{ThreadKey: "incident-7"},
	}))
	send(deploys.Webhooks[0].URL, &gchat.Message{Text: "Deploy of *checkout* `v1.42.0` finished 🚀"})
	names = append(names, send(alerts.Webhooks[0].URL, &gchat.Message{
		Text:   "Resolved: disk usage back to 61% after log rotation.",
		Thread: &gchat.Thread{ThreadKey: "incident-7"},
	}))
	return emu, "http://" + ts.Listener.Addr().String(), alerts, names
}

// TestBrowserInspector opens a message's request in the live page, searches
// across spaces and opens a result, in a real headless Chromium.
func TestBrowserInspector(t *testing.T) {
	execPath := browsertest.Chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, base, alerts, names := inspectorServer(t, ctx)
	cardName := names[0]

	bctx := browsertest.New(t, ctx, execPath)
	pageErrs := watchPageErrors(t, bctx)
	if _, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation',
			(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	browserDo(t, bctx, "open the page",
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(base+"/#space="+alerts.ID),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
		chromedp.WaitVisible(chromedp.CSS(msgSelector(cardName))),
	)

	// The card's request: method, masked credentials, the body as sent, the
	// answer and the checker's warning about the unescaped &.
	browserDo(t, bctx, "open the card's request",
		chromedp.Click(chromedp.CSS(msgSelector(cardName)+` .open-request`)),
		waitJS(`!document.querySelector('#request-view').hidden && document.querySelector('#rv-id').textContent !== ''`),
	)
	type view struct {
		Line, Status, Query, Body, Answer, Problems, Time string
		Selected                                          bool
		Page, Font, MsgFont                               string
	}
	v := browserRun(t, bctx, "read the request view", chromedp.Evaluate[view](`(() => {
		const q = (s) => { const e = document.querySelector(s); return e ? e.textContent : ''; };
		return {
			Line: q('#rv-body .request-line'), Status: q('#rv-status'),
			Query: q('#rv-body table.pairs'), Body: q('#rv-body .request-body'), Answer: q('#rv-body .answer-body'),
			Problems: q('#rv-body .problem-list'), Time: q('#messages .msg time'),
			Selected: document.querySelector('#messages .msg.selected') !== null,
			Font: getComputedStyle(document.body).fontFamily,
			MsgFont: getComputedStyle(document.querySelector('#messages .gc-message')).fontFamily,
			// The webhook list and the curl example show the URL to copy
			// (docs/emulator-api.md); nothing else may.
			Page: (() => {
				const doc = document.documentElement.cloneNode(true);
				for (const e of doc.querySelectorAll('#webhooks, #curl-example')) e.remove();
				return doc.outerHTML;
			})(),
		};
	})()`))
	if !strings.HasPrefix(v.Line, "POST /v1/spaces/"+alerts.ID+"/messages") || !strings.HasPrefix(v.Status, "200") {
		t.Errorf("request line %q, status %q", v.Line, v.Status)
	}
	if !strings.Contains(v.Query, "keyREDACTED") || !strings.Contains(v.Query, "tokenREDACTED") {
		t.Errorf("query not masked: %q", v.Query)
	}
	if !strings.Contains(v.Body, `"DiskAlmostFull: db-1"`) || !strings.Contains(v.Answer, cardName) {
		t.Errorf("body %q, answer %q", v.Body, v.Answer)
	}
	if !strings.Contains(v.Problems, "warning") || !v.Selected {
		t.Errorf("problems %q, selected %v", v.Problems, v.Selected)
	}
	if want := time.Now().Format("3:04 PM"); v.Time != want && v.Time != time.Now().Add(-time.Minute).Format("3:04 PM") {
		t.Errorf("message time %q, want like %q", v.Time, want)
	}
	// Emoji fall back to whichever emoji font the system has; none is fetched.
	for _, f := range []string{v.Font, v.MsgFont} {
		if !strings.Contains(f, "Noto Color Emoji") || !strings.Contains(f, "Apple Color Emoji") || !strings.Contains(f, "Segoe UI Emoji") {
			t.Errorf("font stack %q lacks the emoji fonts", f)
		}
	}
	if strings.Contains(v.Page, "CANARYtoken") || strings.Contains(v.Page, emulator.FakeKey) {
		t.Error("the page shows a webhook credential beyond the webhook list")
	}
	browsertest.Save(t, "emulator-request.png", browserRun(t, bctx, "screenshot", chromedp.FullScreenshot(100)), docsDir, *update)

	// Search across spaces: "disk" finds the card in Alerts and nothing in
	// Deploys; "checkout" finds the deploy; opening it switches space and
	// opens its request.
	browserDo(t, bctx, "search",
		chromedp.Click(chromedp.CSS(`#close-request`)),
		chromedp.SendKeys(chromedp.CSS(`#search input`), "disk"),
		waitJS(`!document.querySelector('#search-results').hidden && document.querySelectorAll('#result-list .result').length === 2`),
	)
	browserDo(t, bctx, "search the other space",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#search input').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`#search input`), "checkout"),
		waitJS(`document.querySelectorAll('#result-list .result').length === 1 && document.querySelector('#result-list .result-space').textContent === 'Deploys'`),
		chromedp.Click(chromedp.CSS(`#result-list .result`)),
		waitJS(`document.querySelector('#space-name').textContent === 'Deploys' && !document.querySelector('#request-view').hidden && document.querySelector('#rv-id').textContent !== ''`),
	)

	// Delete a message from the page: it leaves the stream and the count.
	browserDo(t, bctx, "delete the reply",
		chromedp.Navigate(base+"/#space="+alerts.ID),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
		chromedp.WaitVisible(chromedp.CSS(msgSelector(names[1]))),
		chromedp.Click(chromedp.CSS(msgSelector(names[1])+` .delete-message`)),
		waitJS(fmt.Sprintf(`document.querySelector(%q) === null && document.querySelector('#spaces a[aria-current="page"] .count').textContent === '1'`, msgSelector(names[1]))),
	)
	if v := browserRun(t, bctx, "read CSP violations", chromedp.Evaluate[[]string](`window.__csp`)); len(v) > 0 {
		t.Errorf("the page's Content-Security-Policy blocked: %s", strings.Join(v, "; "))
	}
	if errs := pageErrs(); len(errs) > 0 {
		t.Errorf("the page threw: %s", strings.Join(errs, "; "))
	}
}

// TestBrowserStatic captures the static page with Chromium's plain flags,
// as a user would from a shell, and reads its DOM the same way: no
// DevTools, no script, one run each.
func TestBrowserStatic(t *testing.T) {
	execPath := browsertest.Chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, base, alerts, names := inspectorServer(t, ctx)
	target := base + "/?live=0&space=Alerts&message=" + shortName(names[0])

	plain := func(args ...string) []byte {
		t.Helper()
		// The flags of browsertest.New that keep Chromium off the network, plus
		// its own profile.
		all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir()}, args...)
		cmd := exec.CommandContext(ctx, execPath, append(all, target)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.Bytes()
	}
	dom := string(plain("--dump-dom"))
	for _, want := range []string{msgSelectorAttr(names[0]), msgSelectorAttr(names[1]), `id="request"`, "DiskAlmostFull: db-1", "1 reply", "REDACTED"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the static DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, "CANARYtoken") {
		t.Error("the static DOM shows the webhook token")
	}
	if !strings.Contains(dom, "POST /v1/spaces/"+alerts.ID+"/messages") {
		t.Error("the static DOM lacks the request line")
	}

	shotPath := filepath.Join(t.TempDir(), "static.png")
	plain("--screenshot="+shotPath, "--window-size=1280,900", "--hide-scrollbars")
	data, err := os.ReadFile(shotPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot %v, want 1280×900", b)
	}
	browsertest.Save(t, "emulator-static.png", data, docsDir, false)
}

func msgSelectorAttr(name string) string { return fmt.Sprintf(`data-name="%s"`, name) }
