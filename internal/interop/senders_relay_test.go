package interop

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestSendersThroughRelay replays every request of the corpus of real
// senders against the relay, which delivers to the emulator, as a sender
// moved from Google to the relay would: what Google accepts is accepted
// (the relay's 200 "queued"), delivered once and shown on the page with the
// texts the case names and no error Google would not give; what Google
// refuses is refused by the relay at once with Google's status, code and
// message, and nothing reaches the emulator.
func TestSendersThroughRelay(t *testing.T) {
	cases, err := LoadCorpus(SendersDir)
	if err != nil {
		t.Fatal(err)
	}

	set := emulator.DefaultSettings()
	set.QuotaPerSecond, set.QuotaPerMinute = 0, 0
	emu := emulator.NewServer(emulator.Config{Settings: &set}, nil)
	t.Cleanup(func() { emu.Close() })
	emuSrv := httptest.NewServer(emu)
	t.Cleanup(emuSrv.Close)
	sp, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Senders"})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := emu.CreateWebhook(sp.ID, emulator.WebhookSpec{Name: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	hookURL, err := url.Parse(hook.URL)
	if err != nil {
		t.Fatal(err)
	}
	emuURL, _ := url.Parse(emuSrv.URL)
	hookURL.Scheme, hookURL.Host = emuURL.Scheme, emuURL.Host

	const ingestToken = "senders-ingest-token-0123"
	dir := t.TempDir()
	yaml := "listen: 127.0.0.1:0\n" +
		"store: " + filepath.Join(dir, "relay.db") + "\n" +
		"allowed_hosts: [" + emuURL.Host + "]\n" +
		"spaces:\n" +
		"  senders:\n" +
		"    webhook_url: " + hookURL.String() + "\n" +
		"    ingest_token: " + ingestToken + "\n" +
		"    pace: 10ms\n" +
		"    coalesce: false\n"
	cfg, err := config.Load([]byte(yaml), filepath.Join(dir, "relay.yaml"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "relay.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl, err := app.New(cfg, ln, st, nil, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("relay: %v", err)
		}
	})
	relayURL := "http://" + ln.Addr().String()

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			before := len(emu.Messages(sp.ID, emulator.MessageFilter{}))
			req, err := c.NewRequest(relayURL, "senders", "any-key", ingestToken)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req.WithContext(t.Context()))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.Google.Status {
				t.Fatalf("relay answered %d, want Google's %d (%s: %s)\n%s", resp.StatusCode, c.Google.Status, c.Google.Evidence, c.Google.Why, raw)
			}
			if c.Google.Status != http.StatusOK {
				var env struct {
					Error struct{ Status, Message string }
				}
				if err := json.Unmarshal(raw, &env); err != nil {
					t.Fatalf("not Google's error envelope: %v\n%s", err, raw)
				}
				if env.Error.Status != c.Google.Code || env.Error.Message != c.Google.Message {
					t.Errorf("got %s %q, want Google's %s %q", env.Error.Status, env.Error.Message, c.Google.Code, c.Google.Message)
				}
				return
			}
			if got := resp.Header.Get("X-Gchat-Delivery-State"); got == "" {
				t.Errorf("a 200 without X-Gchat-Delivery-State: %v", resp.Header)
			}
			msgs := waitMessages(t, emu, sp.ID, before+1)
			if len(msgs) != before+1 {
				t.Fatalf("the emulator holds %d new messages, want 1", len(msgs)-before)
			}
			m := msgs[len(msgs)-1]
			for _, p := range m.Problems {
				if p.Severity == card.Error {
					t.Errorf("error Google would not give: %s", p)
				}
			}
			for _, s := range c.Shows {
				if !strings.Contains(string(m.HTML), s) {
					t.Errorf("the page does not show %q:\n%s", s, m.HTML)
				}
			}
		})
	}
	// Refused cases posted nothing, and nothing arrived twice.
	if got, want := len(emu.Messages(sp.ID, emulator.MessageFilter{})), accepted(cases); got != want {
		t.Errorf("the emulator holds %d messages, want one per accepted case, %d", got, want)
	}
}

// accepted counts the cases Google accepts.
func accepted(cases []Case) int {
	n := 0
	for _, c := range cases {
		if c.Google.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// waitMessages waits, a bounded time, until space holds n messages, and
// returns them.
func waitMessages(t *testing.T, emu *emulator.Server, space string, n int) []emulator.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := emu.Messages(space, emulator.MessageFilter{})
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(5 * time.Millisecond)
	}
}
