package interop

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/emulator"
)

// TestSendersAgainstEmulator replays every request of the corpus of real
// senders (testdata/senders) against the emulator, over loopback HTTP: what
// Google accepts is accepted, stored once and shown on the page with the
// texts the case names and no error Google would not give (warnings are
// logged); what Google refuses gets Google's status, code and message.
func TestSendersAgainstEmulator(t *testing.T) {
	cases, err := LoadCorpus(SendersDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			set := emulator.DefaultSettings()
			set.QuotaPerSecond, set.QuotaPerMinute = 0, 0
			emu := emulator.NewServer(emulator.Config{Settings: &set}, nil)
			t.Cleanup(func() { emu.Close() })
			srv := httptest.NewServer(emu)
			t.Cleanup(srv.Close)
			sp, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Senders"})
			if err != nil {
				t.Fatal(err)
			}
			hook, err := emu.CreateWebhook(sp.ID, emulator.WebhookSpec{Name: c.Sender})
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(hook.URL)
			if err != nil {
				t.Fatal(err)
			}
			req, err := c.NewRequest(srv.URL, sp.ID, u.Query().Get("key"), u.Query().Get("token"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req.WithContext(t.Context()))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.Google.Status {
				t.Fatalf("got %d, want Google's %d (%s: %s)\n%s", resp.StatusCode, c.Google.Status, c.Google.Evidence, c.Google.Why, raw)
			}
			msgs := emu.Messages(sp.ID, emulator.MessageFilter{})
			if c.Google.Status != http.StatusOK {
				var env struct {
					Error struct {
						Status, Message string
					}
				}
				if err := json.Unmarshal(raw, &env); err != nil {
					t.Fatalf("not Google's error envelope: %v\n%s", err, raw)
				}
				if env.Error.Status != c.Google.Code || env.Error.Message != c.Google.Message {
					t.Errorf("got %s %q, want Google's %s %q", env.Error.Status, env.Error.Message, c.Google.Code, c.Google.Message)
				}
				if len(msgs) != 0 {
					t.Errorf("a refused request posted %d messages", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			for _, p := range m.Problems {
				if p.Severity == card.Error {
					t.Errorf("error Google would not give: %s", p)
				} else {
					t.Logf("warning: %s", p)
				}
			}
			for _, s := range c.Shows {
				if !strings.Contains(string(m.HTML), s) {
					t.Errorf("the page does not show %q:\n%s", s, m.HTML)
				}
			}
			if len(c.Shows) == 0 {
				t.Error("an accepted case names no text the page must show")
			}
		})
	}
}

// TestSendersReadme: the README's table names every case of the corpus.
func TestSendersReadme(t *testing.T) {
	cases, err := LoadCorpus(SendersDir)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(SendersDir + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !strings.Contains(string(readme), "`"+c.Name+"`") {
			t.Errorf("README.md does not list `%s`", c.Name)
		}
	}
}

// TestLoadCorpusRefusesLoneFiles: a request without its expectation, or an
// expectation without its request, fails the load.
func TestLoadCorpusRefusesLoneFiles(t *testing.T) {
	const req = "POST /v1/spaces/SPACE_ID/messages?key=KEY&token=TOKEN HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"text\":\"hi\"}\n"
	for name, files := range map[string][]string{
		"request alone":     {"a.http"},
		"expectation alone": {"a.http", "a.json", "b.json"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range files {
				data := req
				if strings.HasSuffix(f, ".json") {
					data = `{"sender":"s","version":"v","source":"x","sends":"text","google":{"status":200,"evidence":"documented"},"shows":["hi"]}`
				}
				if err := os.WriteFile(dir+"/"+f, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := LoadCorpus(dir); err == nil {
				t.Errorf("LoadCorpus accepted %v", files)
			} else {
				t.Log(err)
			}
		})
	}
}
