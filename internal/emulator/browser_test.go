package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/browsertest"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/alertmanager"
)

var update = flag.Bool("update", false, "rewrite docs/emulator.png from the browser test")

// TestBrowserPage drives the emulator's page in a real headless Chromium: a
// space and a webhook made through the page's forms, messages sent through
// the library arriving live in the right threads, and a hostile message that
// must render inert.
func TestBrowserPage(t *testing.T) {
	execPath := browsertest.Chromium(t)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	ts := httptest.NewUnstartedServer(nil)
	settings := emulator.DefaultSettings()
	settings.QuotaPerSecond, settings.QuotaPerMinute = 0, 0 // the test sends in bursts
	emu := emulator.NewServer(emulator.Config{
		BaseURL:  "http://" + ts.Listener.Addr().String(),
		Settings: &settings,
	}, nil)
	ts.Config.Handler = emu
	ts.Start()
	defer ts.Close()
	defer emu.Close() // ends the page's event stream, so ts.Close need not wait for it
	// Two more spaces, so that the list looks lived in on the screenshot.
	for _, name := range []string{"Deploys", "On-call"} {
		if _, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: name}); err != nil {
			t.Fatal(err)
		}
	}

	bctx := browsertest.New(t, ctx, execPath)
	pageErrs := watchPageErrors(t, bctx)
	// Record what the page's Content-Security-Policy blocks: the normal page
	// must need nothing it forbids.
	if _, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation',
			(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}

	// Under the page's CSP chromedp.Poll (new Function) cannot run: waitJS polls from Go.
	browserDo(t, bctx, "open the page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#new-space input[name="displayName"]`)),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
	)

	// A space and a webhook, through the page's forms.
	browserDo(t, bctx, "create a space",
		chromedp.SendKeys(chromedp.CSS(`#new-space input[name="displayName"]`), "Alerts"),
		chromedp.SetValue(chromedp.CSS(`#new-space select[name="threading"]`), emulator.Threaded),
		chromedp.Click(chromedp.CSS(`#new-space button[type="submit"]`)),
		waitJS(`document.querySelector('#space-name').textContent === 'Alerts' && location.hash.startsWith('#space=')`),
	)
	browserDo(t, bctx, "register a webhook",
		chromedp.SendKeys(chromedp.CSS(`#new-webhook input[name="name"]`), "Alertmanager"),
		chromedp.Click(chromedp.CSS(`#new-webhook button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#webhooks .webhook-url`)),
	)
	hookURL := browserRun(t, bctx, "read the webhook URL", chromedp.Value(chromedp.CSS(`#webhooks .webhook-url`)))
	hook, err := gchat.ParseWebhook(hookURL)
	if err != nil {
		t.Fatalf("the page's webhook URL: %v", err)
	}

	// A text message, a card and a reply to the card's thread, through the library.
	client := &gchat.Client{Pace: -1, Timeout: 10 * time.Second}
	send := func(msg *gchat.Message) *gchat.Response {
		t.Helper()
		resp, err := client.Send(ctx, hook, msg)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		return resp
	}
	textMsg := send(&gchat.Message{
		Text:   "Deploy of *checkout* `v1.42.0` finished in 3m12s: <https://ci.example.com/runs/981|run #981>",
		Thread: &gchat.Thread{ThreadKey: "deploy-981"},
	})
	cardMsg := send(&gchat.Message{
		CardsV2: []card.CardWithID{{CardID: "alert", Card: card.New("DiskAlmostFull: db-1",
			card.NewSection("",
				card.Decorated("Severity", `<font color="#d93025"><b>critical</b></font>`),
				// The unescaped & is a warning: the page shows it beside the card.
				card.Decorated("Summary", "Disk /var/lib/postgresql is 93% full & growing"),
				card.Buttons(
					card.LinkButton("Open runbook", "https://runbooks.example.com/disk-full"),
					card.LinkButton("Silence", "https://alertmanager.example.com/#/silences/new"),
				),
			),
		)}},
		Thread: &gchat.Thread{ThreadKey: "incident-7"},
	})
	reply := send(&gchat.Message{
		Text:   "Resolved: disk usage back to 61% after log rotation.",
		Thread: &gchat.Thread{ThreadKey: "incident-7"},
	})

	// All three arrive live, without a reload; the reply sits in the card's thread.
	for _, r := range []*gchat.Response{textMsg, cardMsg, reply} {
		browserDo(t, bctx, "wait for "+r.Name, chromedp.WaitVisible(chromedp.CSS(msgSelector(r.Name))))
	}
	type threadLayout struct {
		ReplyInCardThread bool   `json:"replyInCardThread"`
		CardIsHead        bool   `json:"cardIsHead"`
		TextThreadOther   bool   `json:"textThreadOther"`
		Summary           string `json:"summary"`
		Count             string `json:"count"`
	}
	layout := browserRun(t, bctx, "read the thread layout", chromedp.Evaluate[threadLayout](fmt.Sprintf(`(() => {
		const q = (n) => document.querySelector('#messages .msg[data-name="' + CSS.escape(n) + '"]');
		const text = q(%q), head = q(%q), reply = q(%q);
		const block = head.closest('.thread');
		return {
			replyInCardThread: block !== null && reply.closest('.thread') === block && reply.closest('.replies') !== null,
			cardIsHead: block.firstElementChild === head,
			textThreadOther: text.closest('.thread') !== block,
			summary: block.querySelector('.replies summary').textContent,
			count: document.querySelector('#spaces a[aria-current="page"] .count').textContent,
		};
	})()`, textMsg.Name, cardMsg.Name, reply.Name)))
	if !layout.ReplyInCardThread || !layout.CardIsHead || !layout.TextThreadOther {
		t.Errorf("thread layout: got %+v, want the reply inside the card's thread block, the card first, the text in another thread", layout)
	}
	if layout.Summary != "1 reply" || layout.Count != "3" {
		t.Errorf("got summary %q and space count %q, want \"1 reply\" and \"3\"", layout.Summary, layout.Count)
	}
	if v := browserRun(t, bctx, "read CSP violations", chromedp.Evaluate[[]string](`window.__csp`)); len(v) > 0 {
		t.Errorf("the page's Content-Security-Policy blocked: %s", strings.Join(v, "; "))
	}

	browsertest.Save(t, "emulator.png", browserRun(t, bctx, "screenshot", chromedp.FullScreenshot(100)), docsDir, *update)

	// Load the page again with the CSP bypassed, so that what follows proves
	// the server's sanitiser alone makes hostile messages inert. The deep link
	// brings back the space and its messages, in their threads, from the API.
	if _, err := chromedp.Call(bctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	hash := browserRun(t, bctx, "read the deep link", chromedp.Evaluate[string](`location.hash`))
	browserDo(t, bctx, "open the deep link",
		chromedp.Navigate(ts.URL+"/?again"+hash),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#messages .thread .replies .msg[data-name=%q]`, reply.Name))),
	)

	// Hostile messages: every payload tries to set window.__pwned.
	browserDo(t, bctx, "arm the canary", chromedp.Evaluate[chromedp.Void](`window.__pwned = false`))
	const pwn = `window.__pwned=true`
	hostileText := send(&gchat.Message{Text: `<script>` + pwn + `</script> <img src=x onerror="` + pwn + `"> ` +
		`<javascript:` + pwn + `|click> <a href="javascript:` + pwn + `" onmouseover="` + pwn + `">hover</a>`})
	hostileCard := postRaw(t, ctx, hookURL, hostileCardJSON(pwn))
	for _, name := range []string{hostileText.Name, hostileCard} {
		browserDo(t, bctx, "wait for "+name, chromedp.WaitVisible(chromedp.CSS(msgSelector(name))))
	}
	// Click and hover over everything the hostile messages rendered. Links to
	// http(s) and mailto are left unclicked: they would navigate away and are
	// inert by scheme; everything else, javascript: included, gets a real click.
	browserDo(t, bctx, "poke the hostile messages",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			for (const name of [%q, %q]) {
				const msg = document.querySelector('#messages .msg[data-name="' + CSS.escape(name) + '"]');
				for (const el of msg.querySelectorAll('*')) {
					if (el.closest('.msg-actions')) continue; // the page's own Request and Delete buttons
					for (const type of ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'focus', 'focusin']) {
						el.dispatchEvent(new Event(type, {bubbles: true}));
					}
					const href = el.getAttribute('href');
					if (href !== null && /^(https?|mailto):/i.test(href.trim())) continue;
					el.click();
				}
			}
		})()`, hostileText.Name, hostileCard)),
		chromedp.Click(chromedp.CSS(msgSelector(hostileCard)+` .gc-btn`)),
		// Let image errors and any timers fire before the verdict.
		waitJS(`Array.from(document.querySelectorAll('#messages img')).every((i) => i.complete)`),
		chromedp.Evaluate[chromedp.Void](`new Promise((r) => setTimeout(r, 200))`, chromedp.EvalAwaitPromise),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`),
	)
	browsertest.Save(t, "emulator-hostile.png", browserRun(t, bctx, "screenshot", chromedp.FullScreenshot(100)), docsDir, false)
	verdict := browserRun(t, bctx, "check the DOM", chromedp.Evaluate[struct {
		Pwned    bool     `json:"pwned"`
		Bad      []string `json:"bad"`
		URL      string   `json:"url"`
		Problems string   `json:"problems"`
	}](fmt.Sprintf(`(() => {
		const bad = [];
		const root = document.querySelector('#messages');
		for (const el of root.querySelectorAll('script, iframe, object, embed, base, meta, link, form')) {
			bad.push('<' + el.localName + '>');
		}
		for (const el of root.querySelectorAll('*')) {
			for (const a of el.attributes) {
				if (/^on/i.test(a.name)) bad.push('<' + el.localName + ' ' + a.name + '>');
				if (/^(href|src|action|formaction|xlink:href|srcdoc)$/i.test(a.name)) {
					let proto = '';
					try { proto = new URL(a.value, location.href).protocol; } catch (_) {}
					if (/^\s*javascript:/i.test(a.value) || proto === 'javascript:' || proto === 'data:' && a.name !== 'src') {
						bad.push('<' + el.localName + ' ' + a.name + '="' + a.value + '">');
					}
				}
			}
		}
		const title = document.querySelector('#messages .msg[data-name="' + CSS.escape(%q) + '"] .problems-title.error');
		return {pwned: window.__pwned !== false, bad, url: location.href, problems: title ? title.textContent : ''};
	})()`, hostileCard)))
	if verdict.Pwned {
		t.Error("a hostile payload ran: window.__pwned is no longer false")
	}
	if len(verdict.Bad) > 0 {
		t.Errorf("the rendered messages hold active content: %s", strings.Join(verdict.Bad, ", "))
	}
	if !strings.HasPrefix(verdict.URL, ts.URL+"/") {
		t.Errorf("the page navigated away to %s", verdict.URL)
	}
	if want := "Google would refuse or show this empty"; verdict.Problems != want {
		t.Errorf("the hostile card's errors are titled %q, want %q", verdict.Problems, want)
	}

	// The request view shows the hostile bodies as text: still nothing runs,
	// and the view holds no element from them.
	for _, name := range []string{hostileText.Name, hostileCard} {
		browserDo(t, bctx, "open the request of "+name,
			// A DOM click: what is under test here is how the view renders, not where the pointer lands.
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, msgSelector(name)+` .open-request`)),
			waitJS(fmt.Sprintf(`document.querySelector('#request-view').dataset.message === %q && document.querySelector('#rv-id').textContent !== ''`, name)),
			chromedp.Evaluate[chromedp.Void](`new Promise((r) => setTimeout(r, 100))`, chromedp.EvalAwaitPromise),
		)
		rv := browserRun(t, bctx, "check the request view", chromedp.Evaluate[struct {
			Pwned bool     `json:"pwned"`
			Tags  []string `json:"tags"`
			Body  string   `json:"body"`
		}](`(() => ({
			pwned: window.__pwned !== false,
			tags: Array.from(document.querySelectorAll('#rv-body *')).map((e) => e.localName)
				.filter((n) => !['p', 'code', 'span', 'time', 'h4', 'table', 'tbody', 'tr', 'th', 'td', 'pre', 'ul', 'li'].includes(n)),
			body: document.querySelector('#rv-body .request-body').textContent,
		}))()`))
		if rv.Pwned || len(rv.Tags) > 0 || !strings.Contains(rv.Body, "__pwned") {
			t.Errorf("request view of %s: pwned %v, foreign elements %v, body shown %q", name, rv.Pwned, rv.Tags, rv.Body)
		}
	}
	if errs := pageErrs(); len(errs) > 0 {
		t.Errorf("the page threw: %s", strings.Join(errs, "; "))
	}
}

// watchPageErrors collects the page's uncaught exceptions and console errors.
func watchPageErrors(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var errs []string
	err := chromedp.Listen(ctx, func(ev any) {
		var s string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			s = ev.ExceptionDetails.Text
			if e := ev.ExceptionDetails.Exception; e != nil && e.Description != "" {
				s += " " + e.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			s = "console.error"
			for _, a := range ev.Args {
				s += " " + string(a.Value) + a.Description
			}
		default:
			return
		}
		mu.Lock()
		errs = append(errs, s)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), errs...)
	}
}

// waitJS waits until a JavaScript expression is true. Unlike chromedp.Poll
// it evaluates from Go, which a Content-Security-Policy does not restrict.
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

// msgSelector selects the rendered message of a message name.
func msgSelector(name string) string {
	return fmt.Sprintf(`#messages .msg[data-name=%q]`, name)
}

func browserDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func browserRun[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// docsDir is the repository's docs folder, where -update writes the
// screenshots the README shows.
var docsDir = filepath.Join("..", "..", "docs")

// postRaw posts a body to a webhook URL as any client would, for a message
// the library refuses to send, and returns the message name.
func postRaw(t *testing.T, ctx context.Context, url string, body []byte) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", strings.ReplaceAll(err.Error(), url, "<webhook URL>"))
	}
	defer resp.Body.Close()
	var got struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got.Name == "" {
		t.Fatalf("post: status %d, name %q, err %v", resp.StatusCode, got.Name, err)
	}
	return got.Name
}

// hostileCardJSON is a card with HTML in every text field, javascript: links,
// event handler attributes and tags outside Chat's subset.
func hostileCardJSON(pwn string) []byte {
	h := func(tag string) string {
		return fmt.Sprintf(`<%s onmouseover="%s" onclick="%s">x</%s><script>%s</script><img src=x onerror="%s">`, tag, pwn, pwn, tag, pwn, pwn)
	}
	js := "javascript:" + pwn
	link := func(text string) map[string]any {
		return map[string]any{"text": text, "onClick": map[string]any{"openLink": map[string]any{"url": js}}}
	}
	c := map[string]any{
		"header": map[string]any{"title": h("b"), "subtitle": h("i"), "imageUrl": js, "imageAltText": `" onerror="` + pwn},
		"sections": []any{map[string]any{
			"header": `<a href="` + js + `" onmouseover="` + pwn + `">section</a>`,
			"widgets": []any{
				map[string]any{"textParagraph": map[string]any{"text": `<font color="red" onclick="` + pwn + `">red</font> ` +
					`<a href="` + js + `">js link</a> <a href=" JaVaScRiPt:` + pwn + `">spaced</a> ` +
					`<a href="https://example.com" onclick="` + pwn + `" onmouseover="` + pwn + `">ok</a> ` +
					`<svg onload="` + pwn + `"></svg><iframe src="` + js + `"></iframe><style>*{}</style>` + h("u")}},
				map[string]any{"decoratedText": map[string]any{
					"topLabel": h("i"), "text": h("b"), "bottomLabel": h("u"),
					"button":  link(h("b")),
					"onClick": map[string]any{"openLink": map[string]any{"url": js}},
				}},
				map[string]any{"buttonList": map[string]any{"buttons": []any{
					link("Click " + h("b")),
					map[string]any{"text": "data", "onClick": map[string]any{"openLink": map[string]any{"url": "data:text/html,<script>" + pwn + "</script>"}}},
				}}},
				map[string]any{"image": map[string]any{"imageUrl": js, "altText": `" onerror="` + pwn}},
			},
		}},
	}
	body, err := json.Marshal(map[string]any{"cardsV2": []any{map[string]any{"cardId": "evil", "card": c}}})
	if err != nil {
		panic(err)
	}
	return body
}

// TestBrowserAlertThread renders what the relay makes of a real
// Alertmanager group, firing and then resolved, in the group's thread, as
// the page shows it; with -update the screenshot becomes
// docs/alert-thread.png.
func TestBrowserAlertThread(t *testing.T) {
	execPath := browsertest.Chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	ts := httptest.NewUnstartedServer(nil)
	settings := emulator.DefaultSettings()
	settings.QuotaPerSecond, settings.QuotaPerMinute = 0, 0
	emu := emulator.NewServer(emulator.Config{BaseURL: "http://" + ts.Listener.Addr().String(), Settings: &settings}, nil)
	ts.Config.Handler = emu
	ts.Start()
	defer ts.Close()
	defer emu.Close()
	sp, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Alerts", Webhooks: []emulator.WebhookSpec{{Name: "gchat relay"}}})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := gchat.ParseWebhook(sp.Webhooks[0].URL)
	if err != nil {
		t.Fatal(err)
	}

	// The relay's message for each notification: alert.Build of the
	// decoded capture, in the group's thread (as a route with the group
	// policy sends it).
	client := &gchat.Client{Pace: -1, Timeout: 10 * time.Second}
	var names []string
	shown := map[string]time.Time{ // when each card is built: 4 minutes into the incident, then a little after
		"diskfull-firing.json":   time.Date(2026, 11, 27, 7, 22, 43, 0, time.UTC),
		"diskfull-resolved.json": time.Date(2026, 11, 27, 7, 23, 10, 0, time.UTC),
	}
	for _, file := range []string{"diskfull-firing.json", "diskfull-resolved.json"} {
		data, err := os.ReadFile(filepath.Join("..", "source", "alertmanager", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		g, err := alertmanager.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		msg := alert.Build(g, alert.Options{Now: shown[file], Mention: map[bool]string{true: "<users/all>"}[g.Status == alert.Firing]})
		msg.Thread = &gchat.Thread{ThreadKey: "prom-diskfull-prod-eu"}
		resp, err := client.Send(ctx, hook, &msg, gchat.WithReply(gchat.ReplyFallbackToNewThread))
		if err != nil {
			t.Fatalf("send %s: %v", file, err)
		}
		names = append(names, resp.Name)
	}

	bctx := browsertest.New(t, ctx, execPath)
	pageErrs := watchPageErrors(t, bctx)
	browserDo(t, bctx, "open the space",
		chromedp.EmulateViewport(1280, 1000),
		chromedp.Navigate(ts.URL+"/#space="+sp.ID),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
		chromedp.WaitVisible(chromedp.CSS(msgSelector(names[0]))),
		chromedp.WaitVisible(chromedp.CSS(msgSelector(names[1]))),
	)
	type layout struct {
		ResolvedInThread bool   `json:"resolvedInThread"`
		FiringIsHead     bool   `json:"firingIsHead"`
		Headers          string `json:"headers"`
	}
	got := browserRun(t, bctx, "read the thread", chromedp.Evaluate[layout](fmt.Sprintf(`(() => {
		const q = (n) => document.querySelector('#messages .msg[data-name="' + CSS.escape(n) + '"]');
		const firing = q(%q), resolved = q(%q);
		const block = firing.closest('.thread');
		return {
			resolvedInThread: block !== null && resolved.closest('.thread') === block && resolved.closest('.replies') !== null,
			firingIsHead: block.firstElementChild === firing,
			headers: Array.from(block.querySelectorAll('.msg')).map((m) => m.textContent.includes('FIRING') ? 'FIRING' : m.textContent.includes('RESOLVED') ? 'RESOLVED' : '?').join(','),
		};
	})()`, names[0], names[1])))
	if !got.ResolvedInThread || !got.FiringIsHead || got.Headers != "FIRING,RESOLVED" {
		t.Errorf("thread layout %+v: want the firing card first and the resolved one as its reply", got)
	}
	// Open the replies, so that the screenshot shows both.
	browserRun(t, bctx, "open the replies", chromedp.Evaluate[bool](`(() => {
		document.querySelectorAll('#messages details.replies').forEach((d) => d.open = true);
		return true;
	})()`))
	if errs := pageErrs(); len(errs) > 0 {
		t.Errorf("page errors: %s", strings.Join(errs, "; "))
	}
	browsertest.Save(t, "alert-thread.png", browserRun(t, bctx, "screenshot", chromedp.FullScreenshot(100)), docsDir, *update)
}
