package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/browsertest"

	"github.com/chromedp/chromedp"

	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/interop"
)

// TestBrowserGrafanaCard posts Grafana's contact-point request from the
// corpus of real senders (cards v1 with previewText) and checks that the
// page shows it as a card with its title and its OPEN IN GRAFANA link; with
// -update the screenshot becomes docs/grafana-card.png. It also checks that
// a sender name and a link label holding a direction override (U+202E) are
// bidi-isolated, so that "invoice\u202etxt.exe" cannot reorder what follows.
func TestBrowserGrafanaCard(t *testing.T) {
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
	const spoof = "invoice\u202etxt.exe"
	sp, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Alerts", Webhooks: []emulator.WebhookSpec{{Name: "Grafana"}, {Name: spoof}}})
	if err != nil {
		t.Fatal(err)
	}

	cases, err := interop.LoadCorpus(filepath.Join("..", "interop", interop.SendersDir))
	if err != nil {
		t.Fatal(err)
	}
	var grafana *interop.Case
	for i := range cases {
		if cases[i].Name == "grafana-firing" {
			grafana = &cases[i]
		}
	}
	if grafana == nil {
		t.Fatal("the corpus has no grafana-firing case")
	}
	u, err := url.Parse(sp.Webhooks[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := grafana.NewRequest(ts.URL, sp.ID, u.Query().Get("key"), u.Query().Get("token"))
	if err != nil {
		t.Fatal(err)
	}
	cardName := postAnswer(t, req.WithContext(ctx))
	textName := postRaw(t, ctx, sp.Webhooks[1].URL, []byte(`{"text":"see <https://example.com/f|`+spoof+`> attached"}`))

	bctx := browsertest.New(t, ctx, execPath)
	pageErrs := watchPageErrors(t, bctx)
	browserDo(t, bctx, "open the space",
		chromedp.EmulateViewport(1000, 700),
		chromedp.Navigate(ts.URL+"/#space="+sp.ID),
		waitJS(`document.querySelector('#conn').dataset.state === 'live'`),
		chromedp.WaitVisible(chromedp.CSS(msgSelector(cardName))),
		chromedp.WaitVisible(chromedp.CSS(msgSelector(textName))),
	)
	type view struct {
		Title, Button, Href  string
		SenderBidi, LinkBidi string
	}
	got := browserRun(t, bctx, "read the card", chromedp.Evaluate[view](fmt.Sprintf(`(() => {
		const q = (n) => document.querySelector('#messages .msg[data-name="' + CSS.escape(n) + '"]');
		const card = q(%q), text = q(%q);
		const btn = Array.from(card.querySelectorAll('.gc-card a')).find((a) => a.textContent.includes('OPEN IN GRAFANA'));
		const label = text.querySelector('.gc-link bdi');
		return {
			Title: card.querySelector('.gc-card .gc-card-title').textContent,
			Button: btn ? btn.textContent : '',
			Href: btn ? btn.href : '',
			SenderBidi: getComputedStyle(text.querySelector('.sender')).unicodeBidi,
			LinkBidi: label ? getComputedStyle(label).unicodeBidi : 'no bdi',
		};
	})()`, cardName, textName)))
	want := view{Title: "[FIRING:1] HighCPU Infra (db-1:9100)", Button: "OPEN IN GRAFANA", Href: "https://grafana.example.com/alerting/list",
		SenderBidi: "isolate", LinkBidi: "isolate"}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if errs := pageErrs(); len(errs) > 0 {
		t.Errorf("page errors: %s", strings.Join(errs, "; "))
	}
	browsertest.Save(t, "grafana-card.png", browserRun(t, bctx, "screenshot", chromedp.FullScreenshot(100)), docsDir, *update)
}

// postAnswer sends a prepared request and returns the message name of a 200.
func postAnswer(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var got struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != http.StatusOK || got.Name == "" {
		t.Fatalf("post: status %d, name %q, err %v\n%s", resp.StatusCode, got.Name, err, raw)
	}
	return got.Name
}
