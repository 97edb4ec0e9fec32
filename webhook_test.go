package gchat

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestParseWebhook(t *testing.T) {
	for _, tc := range []struct {
		name, url, space string
	}{
		{"google", "https://chat.googleapis.com/v1/spaces/AAAAGCYeSRY/messages?key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI&token=abc_DEF-123", "AAAAGCYeSRY"},
		{"2019 token with %3D", "https://chat.googleapis.com/v1/spaces/7IpBtkAAAAE/messages?key=AIzaSy&token=H0g%3D", "7IpBtkAAAAE"},
		{"token first", "https://chat.googleapis.com/v1/spaces/S/messages?token=t&key=k", "S"},
		{"emulator under a prefix", "http://127.0.0.1:8686/emulator/v1/spaces/demo/messages?key=k&token=t", "demo"},
		{"extra parameters kept", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=t&threadKey=x", "S"},
		{"trailing slash", "https://chat.googleapis.com/v1/spaces/S/messages/?key=k&token=t", "S"},
		{"spaces around", "  https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=t\n", "S"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseWebhook(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if h.Space() != tc.space {
				t.Errorf("Space() = %q, want %q", h.Space(), tc.space)
			}
			if got, want := h.Reveal(), strings.TrimSpace(tc.url); got != want {
				t.Errorf("Reveal() = %q, want the URL unchanged %q", got, want)
			}
		})
	}
}

func TestParseWebhookErrors(t *testing.T) {
	const secret = "SeCrEtToKeN"
	for _, tc := range []struct {
		name, url, want string
	}{
		{"empty", "", "empty"},
		{"no scheme", "chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret, "no scheme"},
		{"ftp", "ftp://chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret, `scheme "ftp"`},
		{"no host", "https:///v1/spaces/S/messages?key=k&token=" + secret, "no host"},
		{"wrong path", "https://chat.googleapis.com/v1/spaces/S?key=k&token=" + secret, "want …/v1/spaces/S/messages"},
		{"no space", "https://chat.googleapis.com/v1/spaces//messages?key=k&token=" + secret, "no space id"},
		{"extra path", "https://chat.googleapis.com/v1/spaces/S/messages/x?key=k&token=" + secret, "want …/v1/spaces/S/messages"},
		{"bad space", "https://chat.googleapis.com/v1/spaces/S%20x/messages?key=k&token=" + secret, "space id"},
		{"no key", "https://chat.googleapis.com/v1/spaces/S/messages?token=" + secret, `"key" is missing`},
		{"no token", "https://chat.googleapis.com/v1/spaces/S/messages?key=k", `"token" is missing`},
		{"html-escaped &", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&amp;token=" + secret, `"&" was HTML-escaped`},
		{"empty token", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=", `"token" is empty`},
		{"two tokens", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret + "&token=" + secret, "appears 2 times"},
		{"user info", "https://u:" + secret + "@chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret, "user information"},
		{"fragment", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret + "#x", "fragment"},
		{"control character", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret + "\x7f", "parse webhook URL"},
		{"bad escape", "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=" + secret + "%zz", "malformed query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWebhook(tc.url)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestWebhookMasksSecrets(t *testing.T) {
	h := mustHook(t, testHookURL)
	const want = "https://chat.googleapis.com/v1/spaces/AAAAtest123/messages?key=REDACTED&token=REDACTED"
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "webhook", h)
	var decoded struct{ W string }
	js, _ := json.Marshal(struct{ W *Webhook }{h})
	_ = json.Unmarshal(js, &decoded)
	outputs := map[string]string{
		"String": h.String(), "%v": fmt.Sprintf("%v", h), "%+v": fmt.Sprintf("%+v", *h), "%#v": fmt.Sprintf("%#v", *h),
		"%d": fmt.Sprintf("%d", *h), "%q": fmt.Sprintf("%q", h), "log": logged.String(), "json": decoded.W,
	}
	for name, out := range outputs {
		assertNoSecret(t, name, out)
		if !strings.Contains(out, want) {
			t.Errorf("%s = %s, want the masked URL %s", name, out, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://h/v1/spaces/S/messages?key=a&token=b&threadKey=c": "https://h/v1/spaces/S/messages?key=REDACTED&token=REDACTED&threadKey=c",
		"https://h/p?access_token=x#frag":                          "https://h/p?access_token=REDACTED#REDACTED",
		"https://h/p":                                              "https://h/p",
		"not a url ?token=abc":                                     "not a url ?token=REDACTED",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// assertNoSecret fails when out holds the canary token or key of testHookURL,
// encoded or decoded.
func assertNoSecret(tb testing.TB, where, out string) {
	tb.Helper()
	for _, s := range []string{"CANARYtoken", "AIzaSyTESTKEY"} {
		if strings.Contains(out, s) {
			tb.Errorf("%s leaks a secret (%s): %s", where, s, out)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{
		testHookURL,
		"https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=t",
		"http://127.0.0.1:8686/emulator/v1/spaces/demo/messages?key=k&token=t%3D",
		"https://chat.googleapis.com/v1/spaces/S/messages?key=k&amp;token=t",
		"https://u:p@h/v1/spaces/S/messages?key=k&token=t#f",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseWebhook(s)
		if err != nil {
			// An error never repeats a token, unless the same text also stands
			// in the part of the URL that errors may quote (the path).
			base, query, _ := strings.Cut(s, "?")
			for _, p := range strings.Split(query, "&") {
				if v, ok := strings.CutPrefix(p, "token="); ok && len(v) >= 8 && !strings.Contains(base, v) &&
					strings.Contains(err.Error(), v) {
					t.Fatalf("ParseWebhook(%q) error %q repeats the token", s, err)
				}
			}
			return
		}
		if h.Space() == "" {
			t.Fatalf("ParseWebhook(%q): empty space", s)
		}
		if h.Reveal() != strings.TrimSpace(s) {
			t.Fatalf("Reveal() = %q, want %q", h.Reveal(), strings.TrimSpace(s))
		}
		// The parsed URL reparses to the same webhook.
		h2, err := ParseWebhook(h.Reveal())
		if err != nil || h2.Space() != h.Space() {
			t.Fatalf("reparse: %v, %v", h2, err)
		}
		// The masked form holds neither key nor token values.
		q, _ := url.ParseQuery(h.Reveal()[strings.Index(h.Reveal(), "?")+1:])
		masked := h.String()
		for _, name := range []string{"key", "token"} {
			for _, v := range q[name] {
				if len(v) >= 4 && strings.Contains(masked, "="+v) {
					t.Fatalf("String() = %q shows %s %q", masked, name, v)
				}
			}
		}
	})
}

func TestValidSpaceID(t *testing.T) {
	for s, want := range map[string]bool{
		"AAAAbcd1234": true, "a-b_c": true, "": false, "AAAA/x": false, "AAAA x": false, "ÄAAA": false, "AAAA.": false,
	} {
		if got := ValidSpaceID(s); got != want {
			t.Errorf("ValidSpaceID(%q) = %t, want %t", s, got, want)
		}
	}
}
