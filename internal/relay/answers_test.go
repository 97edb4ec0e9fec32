package relay_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay"
)

// face is one server of the dialect under test, with how to reach it.
type face struct {
	name    string
	handler http.Handler
	space   string // the {space} of the URL
	query   string // key and token
	threads map[string]string
}

// TestOneAnswer sends the same requests, in the same order, to the relay's
// dialect endpoint and to the emulator (whose space has the id of the
// relay's Google space) and compares the answers: status, headers and body,
// with the values of name and thread.name masked. Those must differ: the
// relay names its delivery and its relay thread, since Google's names are
// not known until the message is delivered. The relay's own headers
// (X-Gchat-Delivery-*) are left out of the comparison and checked apart.
//
// {space} in a step is each face's space, {google} the Google space id, and
// {thread:K} the thread.name that face answered to the step that set K.
func TestOneAnswer(t *testing.T) {
	set := emulator.DefaultSettings()
	set.QuotaPerSecond, set.QuotaPerMinute = 0, 0
	emu := emulator.NewServer(emulator.Config{Settings: &set}, nil)
	t.Cleanup(func() { emu.Close() })
	sp, err := emu.CreateSpace(emulator.SpaceSpec{ID: googleSpace, DisplayName: "Alerts"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = emu.CreateWebhook(sp.ID, emulator.WebhookSpec{Name: "relay", Token: "emulator-token"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	faces := []*face{
		{name: "relay", handler: e.srv, space: "alerts", query: "key=" + ingestKey + "&token=" + alertsToken, threads: map[string]string{}},
		{name: "emulator", handler: emu, space: sp.ID, query: "key=" + emulator.FakeKey + "&token=emulator-token", threads: map[string]string{}},
	}

	const (
		fallback = "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
		orFail   = "messageReplyOption=REPLY_MESSAGE_OR_FAIL"
	)
	steps := []struct {
		name   string
		method string // default POST
		query  string // after key and token; "-" for none at all
		body   string
		save   string // remember the answer's thread.name under this name
		// differ, when set, says why the relay answers otherwise, and
		// relayStatus and relayThread what it answers.
		differ      string
		relayStatus int
		relayThread string
	}{
		{name: "text", body: `{"text":"Disk *full* on db1"}`},
		{name: "card", body: `{"cardsV2":[{"cardId":"c","card":{"header":{"title":"Disk full"},"sections":[{"widgets":[{"textParagraph":{"text":"<b>db1</b>"}}]}]}}]}`},
		{name: "snake_case in, lowerCamelCase out", query: fallback, body: `{"text":"x","thread":{"thread_key":"snake"}}`},
		{name: "compact", query: "prettyPrint=false", body: `{"text":"compact"}`},
		{name: "partial answer", query: "fields=name,thread(name)", body: `{"text":"fields"}`},
		{name: "key in the body", query: fallback, body: `{"text":"firing","thread":{"threadKey":"k1"}}`, save: "k1"},
		{name: "key in the query, echoed", query: fallback + "&threadKey=k1", body: `{"text":"still firing"}`},
		{name: "reply by thread name", query: fallback, body: `{"text":"reply","thread":{"name":"{thread:k1}"}}`},
		{name: "OR_FAIL to a known key", query: orFail, body: `{"text":"resolved","thread":{"threadKey":"k1"}}`},
		{name: "no reply option: the thread is ignored", body: `{"text":"flat","thread":{"threadKey":"k1"}}`},
		{name: "Google thread name of the space", query: fallback, body: `{"text":"x","thread":{"name":"spaces/{google}/threads/6ZCBNeLWNQ3"}}`},
		{name: "thread name never handed out, fallback", query: fallback, body: `{"text":"x","thread":{"name":"spaces/{space}/threads/nosuchthrea"}}`},
		{name: "thread name never handed out, OR_FAIL", query: orFail, body: `{"text":"x","thread":{"name":"spaces/{space}/threads/nosuchthrea"}}`},
		{name: "OR_FAIL without a thread", query: orFail, body: `{"text":"x"}`},
		{name: "OR_FAIL to a key never seen", query: orFail, body: `{"text":"x","thread":{"threadKey":"never-seen"}}`,
			differ:      "the relay cannot know the threads its sender made through Google directly: it queues, and says so in X-Gchat-Delivery-Thread",
			relayStatus: http.StatusOK, relayThread: "unknown"},
		{name: "thread of another space", query: fallback, body: `{"text":"x","thread":{"name":"spaces/BBBBother02/threads/T1"}}`},
		{name: "malformed thread name", query: fallback, body: `{"text":"x","thread":{"name":"threads/T1"}}`},
		{name: "messageId", query: "messageId=client-a", body: `{"text":"a"}`},
		{name: "messageId again", query: "messageId=client-a", body: `{"text":"a again"}`},
		{name: "messageId again, compact", query: "messageId=client-a&prettyPrint=false", body: `{"text":"a again"}`},
		{name: "requestId and messageId", query: "requestId=r-1&messageId=client-b", body: `{"text":"b"}`},
		{name: "requestId repeated", query: "requestId=r-1&messageId=client-b", body: `{"text":"b"}`},
		{name: "empty", body: `{}`},
		{name: "unknown field", body: `{"text":"x","body":"y"}`},
		{name: "not JSON", body: `text=x`},
		{name: "GET", method: http.MethodGet},
		{name: "no key, no token", query: "-", body: `{"text":"x"}`},
	}

	masks := []struct {
		re   *regexp.Regexp
		repl string
	}{
		{regexp.MustCompile(`"spaces/[A-Za-z0-9_-]+/messages/[^"]+"`), `"MESSAGE"`},
		{regexp.MustCompile(`"spaces/[A-Za-z0-9_-]+/threads/[^"]+"`), `"THREAD"`},
	}
	for _, st := range steps {
		var answers []answer
		for _, f := range faces {
			body := strings.NewReplacer("{space}", f.space, "{google}", googleSpace).Replace(st.body)
			for k, v := range f.threads {
				body = strings.ReplaceAll(body, "{thread:"+k+"}", v)
			}
			target := "/v1/spaces/" + f.space + "/messages"
			switch {
			case st.query == "-":
			case st.query == "":
				target += "?" + f.query
			default:
				target += "?" + f.query + "&" + st.query
			}
			method := st.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, r)
			a := answer{code: w.Code, header: w.Header(), body: w.Body.String()}
			if st.save != "" && a.code == http.StatusOK {
				th, _ := a.json(t)["thread"].(map[string]any)
				f.threads[st.save], _ = th["name"].(string)
			}
			answers = append(answers, a)
		}
		rel, emu := answers[0], answers[1]
		if st.differ != "" {
			if rel.code != st.relayStatus || rel.header.Get(relay.HeaderDeliveryThread) != st.relayThread {
				t.Errorf("%s: relay got %d, %s %q; want %d, %q (%s)", st.name, rel.code, relay.HeaderDeliveryThread,
					rel.header.Get(relay.HeaderDeliveryThread), st.relayStatus, st.relayThread, st.differ)
			}
			if emu.code == rel.code {
				t.Errorf("%s: both answer %d; the step says they differ: %s", st.name, emu.code, st.differ)
			}
			continue
		}
		if rel.code != emu.code {
			t.Errorf("%s: relay %d, emulator %d\nrelay:\n%s\nemulator:\n%s", st.name, rel.code, emu.code, rel.body, emu.body)
			continue
		}
		if rel.code == http.StatusOK && rel.header.Get(relay.HeaderDeliveryID) == "" {
			t.Errorf("%s: the relay's 200 has no %s", st.name, relay.HeaderDeliveryID)
		}
		if got := rel.header.Get(relay.HeaderDeliveryThread); got != "" {
			t.Errorf("%s: relay says %s %q", st.name, relay.HeaderDeliveryThread, got)
		}
		if rh, eh := comparable(rel.header), comparable(emu.header); !slices.Equal(rh, eh) {
			t.Errorf("%s: headers differ:\nrelay:    %q\nemulator: %q", st.name, rh, eh)
		}
		rb, eb := rel.body, emu.body
		for _, m := range masks {
			rb, eb = m.re.ReplaceAllString(rb, m.repl), m.re.ReplaceAllString(eb, m.repl)
		}
		if rb != eb {
			t.Errorf("%s: %d bodies differ:\nrelay:\n%s\nemulator:\n%s", st.name, rel.code, rb, eb)
		}
	}
}

// comparable lists the headers both faces must send alike: all but the
// relay's own, and the length, which the masked names change.
func comparable(h http.Header) []string {
	var out []string
	for k, vs := range h {
		if strings.HasPrefix(k, "X-Gchat-") || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	slices.Sort(out)
	return out
}

// TestOneContentType: every JSON answer of the relay spells its media type
// as the dialect's answers do (Google's spelling, charset=UTF-8).
func TestOneContentType(t *testing.T) {
	e := newEnv(t, nil)
	const want = "application/json; charset=UTF-8"
	for name, a := range map[string]answer{
		"queued":  e.post("alerts", alertsToken, "", `{"text":"x"}`),
		"refused": e.post("alerts", "wrong", "", `{"text":"x"}`),
		"admin":   e.admin(http.MethodGet, "/api/v1/spaces"),
	} {
		if got := a.header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
	}
}
