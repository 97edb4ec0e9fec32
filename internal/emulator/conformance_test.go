package emulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// TestConformance has one case per documented behaviour of the webhook
// endpoint, named by the spec section, and one case per answer of each guess
// (Settings). Quotas are off unless a case turns them on.
func TestConformance(t *testing.T) {
	want := func(t *testing.T, a answer, status int, errStatus string) {
		t.Helper()
		if a.Status != status || a.errStatus() != errStatus {
			t.Fatalf("got %d %q, want %d %q\n%s", a.Status, a.errStatus(), status, errStatus, a.Raw)
		}
	}
	ok := func(t *testing.T, a answer) answer {
		t.Helper()
		want(t, a, http.StatusOK, "")
		return a
	}
	threadOf := func(a answer) string { return a.str("thread.name") }
	msgIDs := func(t *testing.T, a answer) (m, th string) {
		t.Helper()
		name := a.str("name")
		i := strings.LastIndexByte(name, '/')
		m, th, found := strings.Cut(name[i+1:], ".")
		if !found || !strings.HasPrefix(name, "spaces/AAAAspace01/messages/") {
			t.Fatalf("name %q: want spaces/AAAAspace01/messages/M.T", name)
		}
		return m, th
	}
	quota := func(set *emulator.Settings) { set.QuotaPerSecond, set.QuotaPerMinute = 1, 60 }

	cases := []struct {
		name string
		set  func(*emulator.Settings)
		run  func(t *testing.T, e *env)
	}{
		// docs/google-chat.md §11.1, §11.2: routing and authentication.
		{name: "§11.1/GET on the webhook path → 405", run: func(t *testing.T, e *env) {
			a := serve(t, e.s, http.MethodGet, e.h1.URL, "", "")
			want(t, a, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		}},
		{name: "§11.2/no key and no token → 403 unregistered callers", run: func(t *testing.T, e *env) {
			a := e.post("http://127.0.0.1:8687/v1/spaces/AAAAspace01/messages", "", text("hi"))
			want(t, a, http.StatusForbidden, "PERMISSION_DENIED")
			if !strings.Contains(a.str("error.message"), "unregistered callers") {
				t.Errorf("message %q", a.str("error.message"))
			}
		}},
		{name: "§11.2/wrong key → 400 API_KEY_INVALID", run: func(t *testing.T, e *env) {
			url := strings.Replace(e.h1.URL, "key="+emulator.FakeKey, "key=AIzaSyWrong", 1)
			a := e.post(url, "", text("hi"))
			want(t, a, http.StatusBadRequest, "INVALID_ARGUMENT")
			if !strings.Contains(a.Raw, "API_KEY_INVALID") {
				t.Errorf("no API_KEY_INVALID detail: %s", a.Raw)
			}
		}},
		{name: "§11.2/token of another webhook's space → 403", run: func(t *testing.T, e *env) {
			other, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "Other"})
			if err != nil {
				t.Fatal(err)
			}
			url := strings.Replace(e.h1.URL, e.space.ID, other.ID, 1)
			want(t, e.post(url, "", text("hi")), http.StatusForbidden, "PERMISSION_DENIED")
		}},
		{name: "§11.2/wrong token → 403 without a valid token", run: func(t *testing.T, e *env) {
			i := strings.Index(e.h1.URL, "&token=")
			a := e.post(e.h1.URL[:i]+"&token=nope", "", text("hi"))
			want(t, a, http.StatusForbidden, "PERMISSION_DENIED")
			if !strings.Contains(a.str("error.message"), "without a valid token") {
				t.Errorf("message %q", a.str("error.message"))
			}
		}},
		{name: "§6.3/unknown space → 403 (guess: unknownSpaceStatus default)", run: func(t *testing.T, e *env) {
			url := strings.Replace(e.h1.URL, e.space.ID, "AAAAnothere", 1)
			want(t, e.post(url, "", text("hi")), http.StatusForbidden, "PERMISSION_DENIED")
		}},
		{name: "§6.3/unknown space → 404 (guess: unknownSpaceStatus 404)",
			set: func(s *emulator.Settings) { s.UnknownSpaceStatus = 404 },
			run: func(t *testing.T, e *env) {
				url := strings.Replace(e.h1.URL, e.space.ID, "AAAAnothere", 1)
				want(t, e.post(url, "", text("hi")), http.StatusNotFound, "NOT_FOUND")
			}},
		{name: "§6.3/deleted space → 403 (guess: unknownSpaceStatus default)", run: func(t *testing.T, e *env) {
			if err := e.s.DeleteSpace(e.space.ID); err != nil {
				t.Fatal(err)
			}
			want(t, e.post(e.h1.URL, "", text("hi")), http.StatusForbidden, "PERMISSION_DENIED")
		}},
		{name: "§9/deleted webhook → 403 (guess: deletedWebhookStatus default)", run: func(t *testing.T, e *env) {
			if err := e.s.DeleteWebhook(e.space.ID, e.h1.ID); err != nil {
				t.Fatal(err)
			}
			want(t, e.post(e.h1.URL, "", text("hi")), http.StatusForbidden, "PERMISSION_DENIED")
			ok(t, e.post(e.h2.URL, "", text("the other webhook still works")))
		}},
		{name: "§9/deleted webhook → 404 (guess: deletedWebhookStatus 404)",
			set: func(s *emulator.Settings) { s.DeletedWebhookStatus = 404 },
			run: func(t *testing.T, e *env) {
				if err := e.s.DeleteWebhook(e.space.ID, e.h1.ID); err != nil {
					t.Fatal(err)
				}
				want(t, e.post(e.h1.URL, "", text("hi")), http.StatusNotFound, "NOT_FOUND")
			}},
		{name: "§9/direct message without apps → 403 no permission", run: func(t *testing.T, e *env) {
			dm, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "DM", Kind: emulator.KindDirectMessage,
				Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			a := e.post(dm.Webhooks[0].URL, "", text("hi"))
			want(t, a, http.StatusForbidden, "PERMISSION_DENIED")
			if got := a.str("error.message"); got != "The caller does not have permission" {
				t.Errorf("message %q", got)
			}
		}},
		{name: "§9/direct message with apps enabled → 200", run: func(t *testing.T, e *env) {
			on := true
			dm, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "DM", Kind: emulator.KindDirectMessage,
				AppsEnabled: &on, Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			ok(t, e.post(dm.Webhooks[0].URL, "", text("hi")))
		}},
		{name: "§9/space with apps disabled for its OU → 403", run: func(t *testing.T, e *env) {
			off := false
			sp, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "OU", AppsEnabled: &off,
				Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			want(t, e.post(sp.Webhooks[0].URL, "", text("hi")), http.StatusForbidden, "PERMISSION_DENIED")
		}},
		{name: "§11.2/fixed token from WebhookSpec works", run: func(t *testing.T, e *env) {
			h, err := e.s.CreateWebhook(e.space.ID, emulator.WebhookSpec{Name: "fixed", Token: "tok-123"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(h.URL, "&token=tok-123") {
				t.Fatalf("url %s", h.URL)
			}
			ok(t, e.post(h.URL, "", text("hi")))
		}},

		// docs/google-chat.md §2, §6.3: the body (webhookapi's checks, seen through the emulator).
		{name: "§6.3/empty message → 400", run: func(t *testing.T, e *env) {
			want(t, e.post(e.h1.URL, "", `{}`), http.StatusBadRequest, "INVALID_ARGUMENT")
		}},
		{name: "§6.3/unknown field → 400", run: func(t *testing.T, e *env) {
			want(t, e.post(e.h1.URL, "", `{"body":"x"}`), http.StatusBadRequest, "INVALID_ARGUMENT")
		}},
		{name: "§6.3/malformed thread.name → 400", run: func(t *testing.T, e *env) {
			want(t, e.post(e.h1.URL, fallback, textName("x", "threads/x")), http.StatusBadRequest, "INVALID_ARGUMENT")
		}},
		{name: "§11.6/thread.name of another space → 400 (guess: foreignThreadStatus default)", run: func(t *testing.T, e *env) {
			a := e.post(e.h1.URL, fallback, textName("x", "spaces/BBBBspace02/threads/T1"))
			want(t, a, http.StatusBadRequest, "INVALID_ARGUMENT")
			if a.str("error.message") != "The request contains an invalid thread resource name" {
				t.Errorf("message %q", a.str("error.message"))
			}
		}},
		{name: "§11.6/thread.name of another space → 404 (guess: foreignThreadStatus 404)",
			set: func(s *emulator.Settings) { s.ForeignThreadStatus = 404 },
			run: func(t *testing.T, e *env) {
				want(t, e.post(e.h1.URL, fallback, textName("x", "spaces/BBBBspace02/threads/T1")), http.StatusNotFound, "NOT_FOUND")
			}},

		// docs/google-chat.md §5, §11.7, §11.8: the answer and the stored message.
		{name: "§5/200 echoes the body plus name and thread.name", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, "", `{"text":"Deploy *ok*","fallbackText":"f"}`))
			m, th := msgIDs(t, a)
			if a.str("text") != "Deploy *ok*" || a.str("fallbackText") != "f" {
				t.Errorf("echo: %s", a.Raw)
			}
			if threadOf(a) != "spaces/AAAAspace01/threads/"+th {
				t.Errorf("thread.name %q, message %s", threadOf(a), a.str("name"))
			}
			for _, f := range []string{"sender", "space", "createTime"} {
				if _, ok := a.Body[f]; ok {
					t.Errorf("answer has %s; webhooks get only name and thread.name (§5)", f)
				}
			}
			if len(m) != 11 {
				t.Errorf("message id %q: want 11 characters", m)
			}
		}},
		{name: "§11.8/pretty-printed JSON with a final newline", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, "", text("hi")))
			if !strings.HasPrefix(a.Raw, "{\n  \"") || !strings.HasSuffix(a.Raw, "}\n") {
				t.Errorf("not pretty: %q", a.Raw)
			}
			if ct := a.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
				t.Errorf("Content-Type %q", ct)
			}
		}},
		{name: "§11.8/thread.threadKey echoed", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("x", "k1")))
			if a.str("thread.threadKey") != "k1" {
				t.Errorf("echo: %s", a.Raw)
			}
		}},
		{name: "§2.1/snake_case thread_key accepted and echoed in camelCase", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, `{"text":"x","thread":{"thread_key":"k"}}`))
			b := ok(t, e.post(e.h1.URL, fallback, textKey("y", "k")))
			if a.str("thread.threadKey") != "k" || threadOf(a) != threadOf(b) {
				t.Errorf("got %s and %s", a.Raw, b.Raw)
			}
		}},
		{name: "§11.7/first message of a thread is T.T, a reply M.T", run: func(t *testing.T, e *env) {
			m1, t1 := msgIDs(t, ok(t, e.post(e.h1.URL, fallback, textKey("a", "k"))))
			m2, t2 := msgIDs(t, ok(t, e.post(e.h1.URL, fallback, textKey("b", "k"))))
			if m1 != t1 || t2 != t1 || m2 == t2 {
				t.Errorf("got %s.%s then %s.%s", m1, t1, m2, t2)
			}
		}},
		{name: "§11.9/stored message: sender is the webhook, a bot; html and problems", run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("hello *world*")))
			ms := e.s.Messages(e.space.ID, emulator.MessageFilter{})
			if len(ms) != 1 {
				t.Fatalf("%d messages", len(ms))
			}
			m := ms[0]
			if m.Sender != (emulator.Sender{Name: "users/" + e.h1.ID, DisplayName: "Alertmanager", AvatarURL: "https://example.com/a.png", Type: "BOT"}) {
				t.Errorf("sender %+v", m.Sender)
			}
			if !m.CreateTime.Equal(e.clock.Now()) || m.Webhook != e.h1.ID || m.ThreadReply {
				t.Errorf("message %+v", m)
			}
			if !strings.Contains(string(m.HTML), "world") || m.Message.Text != "hello *world*" {
				t.Errorf("html %q, text %q", m.HTML, m.Message.Text)
			}
			if len(m.Problems) != 0 {
				t.Errorf("problems %v", m.Problems)
			}
		}},

		// docs/google-chat.md §7: threads.
		{name: "§7/no messageReplyOption ignores threadKey: new thread", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, "", textKey("a", "k")))
			b := ok(t, e.post(e.h1.URL, "", textKey("b", "k")))
			if threadOf(a) == threadOf(b) {
				t.Errorf("same thread %s", threadOf(a))
			}
		}},
		{name: "§7/explicit MESSAGE_REPLY_OPTION_UNSPECIFIED ignores thread.name", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "k")))
			b := ok(t, e.post(e.h1.URL, "&messageReplyOption=MESSAGE_REPLY_OPTION_UNSPECIFIED", textName("b", threadOf(a))))
			if threadOf(a) == threadOf(b) {
				t.Errorf("replied in %s", threadOf(a))
			}
		}},
		{name: "§7/FALLBACK binds a new key", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "incident-42")))
			b := ok(t, e.post(e.h1.URL, fallback, textKey("b", "incident-42")))
			if threadOf(a) != threadOf(b) {
				t.Fatalf("threads %s and %s", threadOf(a), threadOf(b))
			}
			ms := e.s.Messages(e.space.ID, emulator.MessageFilter{})
			if ms[0].ThreadReply || !ms[1].ThreadReply {
				t.Errorf("threadReply %v, %v", ms[0].ThreadReply, ms[1].ThreadReply)
			}
			ts, _ := e.s.Threads(e.space.ID)
			if len(ts) != 1 || ts[0].ThreadKey != "incident-42" || ts[0].MessageCount != 2 || ts[0].Webhook != e.h1.ID {
				t.Errorf("threads %+v", ts)
			}
		}},
		{name: "§7/FALLBACK replies by thread.name, from another webhook too", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "k")))
			b := ok(t, e.post(e.h2.URL, fallback, textName("b", threadOf(a))))
			if threadOf(a) != threadOf(b) {
				t.Errorf("threads %s and %s", threadOf(a), threadOf(b))
			}
		}},
		{name: "§7/FALLBACK with an unknown thread.name starts a new thread", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textName("a", "spaces/AAAAspace01/threads/nosuchthrea")))
			if threadOf(a) == "spaces/AAAAspace01/threads/nosuchthrea" {
				t.Errorf("thread %s", threadOf(a))
			}
		}},
		{name: "§7/two webhooks same key two threads", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "k")))
			b := ok(t, e.post(e.h2.URL, fallback, textKey("b", "k")))
			if threadOf(a) == threadOf(b) {
				t.Errorf("one thread %s", threadOf(a))
			}
		}},
		{name: "§7/query threadKey is an alias of thread.threadKey", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback+"&threadKey=q", text("a")))
			b := ok(t, e.post(e.h1.URL, fallback, textKey("b", "q")))
			if threadOf(a) != threadOf(b) || a.str("thread.threadKey") != "q" {
				t.Errorf("got %s and %s", a.Raw, b.Raw)
			}
		}},
		{name: "§7/OR_FAIL replies to a known key", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "k")))
			b := ok(t, e.post(e.h1.URL, orFail, textKey("b", "k")))
			if threadOf(a) != threadOf(b) {
				t.Errorf("threads %s and %s", threadOf(a), threadOf(b))
			}
		}},
		{name: "§7/OR_FAIL unknown key → 404 (guess: orFailUnknownThread default)", run: func(t *testing.T, e *env) {
			want(t, e.post(e.h1.URL, orFail, textKey("a", "nope")), http.StatusNotFound, "NOT_FOUND")
			if n := len(e.s.Messages(e.space.ID, emulator.MessageFilter{})); n != 0 {
				t.Errorf("%d messages stored", n)
			}
		}},
		{name: "§7/OR_FAIL unknown key creates a thread (guess: orFailUnknownThread NEW_THREAD)",
			set: func(s *emulator.Settings) { s.OrFailUnknownThread = emulator.OrFailNewThread },
			run: func(t *testing.T, e *env) {
				a := ok(t, e.post(e.h1.URL, orFail, textKey("a", "new")))
				b := ok(t, e.post(e.h1.URL, orFail, textKey("b", "new")))
				if threadOf(a) != threadOf(b) {
					t.Errorf("threads %s and %s", threadOf(a), threadOf(b))
				}
			}},
		{name: "§7/OR_FAIL key of another webhook → 404", run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, fallback, textKey("a", "k")))
			want(t, e.post(e.h2.URL, orFail, textKey("b", "k")), http.StatusNotFound, "NOT_FOUND")
		}},
		{name: "§7/precedence thread.name, body key, query key (guess: threadPrecedence default)", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "A")))
			b := ok(t, e.post(e.h1.URL, fallback, textKey("b", "B")))
			both := `{"text":"c","thread":{"name":"` + threadOf(a) + `","threadKey":"B"}}`
			if c := ok(t, e.post(e.h1.URL, fallback, both)); threadOf(c) != threadOf(a) {
				t.Errorf("name and key: went to %s, want %s (name)", threadOf(c), threadOf(a))
			}
			if d := ok(t, e.post(e.h1.URL, fallback+"&threadKey=A", textKey("d", "B"))); threadOf(d) != threadOf(b) {
				t.Errorf("body and query key: went to %s, want %s (body)", threadOf(d), threadOf(b))
			}
		}},
		{name: "§7/precedence query key first (guess: threadPrecedence queryKey,bodyKey,name)",
			set: func(s *emulator.Settings) {
				s.ThreadPrecedence = []string{emulator.ThreadByQueryKey, emulator.ThreadByBodyKey, emulator.ThreadByName}
			},
			run: func(t *testing.T, e *env) {
				a := ok(t, e.post(e.h1.URL, fallback, textKey("a", "A")))
				ok(t, e.post(e.h1.URL, fallback, textKey("b", "B")))
				if d := ok(t, e.post(e.h1.URL, fallback+"&threadKey=A", textKey("d", "B"))); threadOf(d) != threadOf(a) {
					t.Errorf("went to %s, want %s (query key)", threadOf(d), threadOf(a))
				}
			}},
		{name: "§7/unthreaded space posts flat and still returns thread.name", run: func(t *testing.T, e *env) {
			sp, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "Flat", Threading: emulator.Unthreaded,
				Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			a := ok(t, e.post(sp.Webhooks[0].URL, fallback, textKey("a", "k")))
			b := ok(t, e.post(sp.Webhooks[0].URL, fallback, textKey("b", "k")))
			if threadOf(a) == "" || threadOf(a) == threadOf(b) {
				t.Errorf("threads %q and %q", threadOf(a), threadOf(b))
			}
			for _, m := range e.s.Messages(sp.ID, emulator.MessageFilter{}) {
				if m.ThreadReply {
					t.Errorf("%s: threadReply in an unthreaded space", m.Name)
				}
			}
			want(t, e.post(sp.Webhooks[0].URL, orFail, textKey("c", "unknown")), http.StatusOK, "")
		}},
		{name: "§7/grouped space threads like a threaded one", run: func(t *testing.T, e *env) {
			sp, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "Topics", Threading: emulator.Grouped,
				Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			a := ok(t, e.post(sp.Webhooks[0].URL, fallback, textKey("a", "k")))
			b := ok(t, e.post(sp.Webhooks[0].URL, fallback, textKey("b", "k")))
			if threadOf(a) != threadOf(b) {
				t.Errorf("threads %s and %s", threadOf(a), threadOf(b))
			}
		}},

		// docs/google-chat.md §4: quotas.
		{name: "§4/second request within a second → 429", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			e.clock.Advance(999 * time.Millisecond)
			want(t, e.post(e.h1.URL, "", text("b")), http.StatusTooManyRequests, "RESOURCE_EXHAUSTED")
		}},
		{name: "§4/a second later → 200", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			e.clock.Advance(time.Second)
			ok(t, e.post(e.h1.URL, "", text("b")))
		}},
		{name: "§4/quota shared by all webhooks of a space", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			want(t, e.post(e.h2.URL, "", text("b")), http.StatusTooManyRequests, "RESOURCE_EXHAUSTED")
		}},
		{name: "§4/quota is per space", set: quota, run: func(t *testing.T, e *env) {
			other, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "Other", Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			ok(t, e.post(e.h1.URL, "", text("a")))
			ok(t, e.post(other.Webhooks[0].URL, "", text("b")))
		}},
		{name: "§4/61st request in a rolling minute → 429",
			set: func(s *emulator.Settings) { s.QuotaPerSecond, s.QuotaPerMinute = 2, 60 },
			run: func(t *testing.T, e *env) {
				for i := range 60 {
					if a := e.post(e.h1.URL, "", text("m")); a.Status != 200 {
						t.Fatalf("request %d: %d", i+1, a.Status)
					}
					e.clock.Advance(500 * time.Millisecond)
				}
				// 30 s have passed since the first: all 60 are in the window.
				want(t, e.post(e.h1.URL, "", text("61")), http.StatusTooManyRequests, "RESOURCE_EXHAUSTED")
				e.clock.Advance(30 * time.Second) // the first leaves the window
				ok(t, e.post(e.h1.URL, "", text("62")))
			}},
		{name: "§4/refused requests consume no quota", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			for range 5 {
				e.clock.Advance(100 * time.Millisecond)
				want(t, e.post(e.h1.URL, "", text("b")), http.StatusTooManyRequests, "RESOURCE_EXHAUSTED")
			}
			e.clock.Advance(500 * time.Millisecond) // one second after the first
			ok(t, e.post(e.h1.URL, "", text("c")))
		}},
		{name: "§4/429 message is Google's generic text", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			if got := e.post(e.h1.URL, "", text("b")).str("error.message"); got != "Resource has been exhausted (e.g. check quota)." {
				t.Errorf("message %q", got)
			}
		}},
		{name: "§4/quota checked after authentication", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			i := strings.Index(e.h1.URL, "&token=")
			want(t, e.post(e.h1.URL[:i]+"&token=nope", "", text("b")), http.StatusForbidden, "PERMISSION_DENIED")
		}},
		{name: "§4/quota off → a burst passes", run: func(t *testing.T, e *env) {
			for range 100 {
				ok(t, e.post(e.h1.URL, "", text("a")))
			}
		}},
		{name: "§4/429 without Retry-After (guess: retryAfterSeconds default)", set: quota, run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text("a")))
			if a := e.post(e.h1.URL, "", text("b")); a.Header.Get("Retry-After") != "" {
				t.Errorf("Retry-After %q", a.Header.Get("Retry-After"))
			}
		}},
		{name: "§4/429 with Retry-After (guess: retryAfterSeconds 7)",
			set: func(s *emulator.Settings) { quota(s); s.RetryAfterSeconds = 7 },
			run: func(t *testing.T, e *env) {
				ok(t, e.post(e.h1.URL, "", text("a")))
				if a := e.post(e.h1.URL, "", text("b")); a.Header.Get("Retry-After") != "7" {
					t.Errorf("Retry-After %q", a.Header.Get("Retry-After"))
				}
			}},

		// docs/google-chat.md §1.3: requestId and messageId.
		{name: "§1.3/repeated requestId returns the first message (guess: honourRequestId default)", run: func(t *testing.T, e *env) {
			a := ok(t, e.post(e.h1.URL, "&requestId=r1", text("a")))
			b := ok(t, e.post(e.h1.URL, "&requestId=r1", text("a")))
			if a.str("name") != b.str("name") {
				t.Errorf("names %s and %s", a.str("name"), b.str("name"))
			}
			if n := len(e.s.Messages(e.space.ID, emulator.MessageFilter{})); n != 1 {
				t.Errorf("%d messages, want 1", n)
			}
		}},
		{name: "§1.3/requestId is per space", run: func(t *testing.T, e *env) {
			other, err := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "Other", Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
			if err != nil {
				t.Fatal(err)
			}
			a := ok(t, e.post(e.h1.URL, "&requestId=r1", text("a")))
			b := ok(t, e.post(other.Webhooks[0].URL, "&requestId=r1", text("a")))
			if a.str("name") == b.str("name") {
				t.Errorf("one message for two spaces")
			}
		}},
		{name: "§1.3/repeated requestId posts again (guess: honourRequestId off)",
			set: func(s *emulator.Settings) { s.HonourRequestID = false },
			run: func(t *testing.T, e *env) {
				a := ok(t, e.post(e.h1.URL, "&requestId=r1", text("a")))
				b := ok(t, e.post(e.h1.URL, "&requestId=r1", text("a")))
				if a.str("name") == b.str("name") {
					t.Errorf("same name %s", a.str("name"))
				}
			}},
		{name: "§6.3/reused messageId → 409 (guess: messageIdConflict default)", run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "&messageId=client-one", text("a")))
			want(t, e.post(e.h1.URL, "&messageId=client-one", text("b")), http.StatusConflict, "ALREADY_EXISTS")
			if got := e.s.Messages(e.space.ID, emulator.MessageFilter{})[0].MessageID; got != "client-one" {
				t.Errorf("messageId %q", got)
			}
		}},
		{name: "§6.3/reused messageId posts (guess: messageIdConflict off)",
			set: func(s *emulator.Settings) { s.MessageIDConflict = false },
			run: func(t *testing.T, e *env) {
				ok(t, e.post(e.h1.URL, "&messageId=client-one", text("a")))
				ok(t, e.post(e.h1.URL, "&messageId=client-one", text("b")))
			}},
		{name: "§1.3/malformed messageId → 400", run: func(t *testing.T, e *env) {
			want(t, e.post(e.h1.URL, "&messageId=Bad", text("a")), http.StatusBadRequest, "INVALID_ARGUMENT")
		}},

		// docs/google-chat.md §4.1: the legacy text limit.
		{name: "§4.1/5,000 characters of text pass (guess: legacyTextLimit default off)", run: func(t *testing.T, e *env) {
			ok(t, e.post(e.h1.URL, "", text(strings.Repeat("x", 5000))))
		}},
		{name: "§4.1/over 4,096 characters → 400 (guess: legacyTextLimit on)",
			set: func(s *emulator.Settings) { s.LegacyTextLimit = true },
			run: func(t *testing.T, e *env) {
				ok(t, e.post(e.h1.URL, "", text(strings.Repeat("x", 4096))))
				a := e.post(e.h1.URL, "", text(strings.Repeat("x", 4097)))
				want(t, a, http.StatusBadRequest, "INVALID_ARGUMENT")
				if got := a.str("error.message"); got != "Message is longer than 4096 characters" {
					t.Errorf("message %q", got)
				}
			}},
		// Observed leniency (docs/senders.md): previewText.
		{name: "previewText accepted and echoed (observed: acceptPreviewText default on)", run: func(t *testing.T, e *env) {
			a := e.post(e.h1.URL, "", `{"text":"hi","previewText":"p"}`)
			ok(t, a)
			if got := a.str("previewText"); got != "p" {
				t.Errorf("echoed previewText %q, want p", got)
			}
			if got := e.s.Messages(e.space.ID, emulator.MessageFilter{})[0].HTML; !strings.Contains(string(got), `previewText</span> p`) {
				t.Errorf("page HTML does not show previewText:\n%s", got)
			}
		}},
		{name: "previewText → 400 unknown name (acceptPreviewText off)",
			set: func(s *emulator.Settings) { s.AcceptPreviewText = false },
			run: func(t *testing.T, e *env) {
				a := e.post(e.h1.URL, "", `{"text":"hi","previewText":"p"}`)
				want(t, a, http.StatusBadRequest, "INVALID_ARGUMENT")
				if got := a.str("error.message"); got != `Invalid JSON payload received. Unknown name "preview_text" at 'message': Cannot find field.` {
					t.Errorf("message %q", got)
				}
			}},
		{name: "§4.1/over 32,000 bytes → 400", run: func(t *testing.T, e *env) {
			want(t, e.post(e.h1.URL, "", text(strings.Repeat("x", 32001))), http.StatusBadRequest, "INVALID_ARGUMENT")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := noQuota()
			if c.set != nil {
				c.set(&set)
			}
			c.run(t, newEnv(t, set))
		})
	}
}
