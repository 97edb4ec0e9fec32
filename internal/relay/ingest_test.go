package relay_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/google/go-cmp/cmp"
)

// TestIngestAuth checks credentials in Google's order (webhookapi.Parse):
// key, then token, then the body.
func TestIngestAuth(t *testing.T) {
	e := newEnv(t, nil)
	const body = `{"text":"hi"}`
	tests := []struct {
		name       string
		target     string
		body       string
		wantCode   int
		wantStatus string
	}{
		{"no key", "/v1/spaces/alerts/messages?token=" + alertsToken, body, 403, "PERMISSION_DENIED"},
		{"wrong key", "/v1/spaces/alerts/messages?key=nope&token=" + alertsToken, body, 400, "INVALID_ARGUMENT"},
		{"wrong key before bad body", "/v1/spaces/alerts/messages?key=nope&token=" + alertsToken, `{`, 400, "INVALID_ARGUMENT"},
		{"no token", "/v1/spaces/alerts/messages?key=" + ingestKey, body, 403, "PERMISSION_DENIED"},
		{"wrong token", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=alerts-token-0123456780", body, 403, "PERMISSION_DENIED"},
		{"wrong token before bad body", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=x", `{`, 403, "PERMISSION_DENIED"},
		{"another space's token", "/v1/spaces/open/messages?key=" + ingestKey + "&token=" + alertsToken, body, 200, ""},
		{"unknown space", "/v1/spaces/nope/messages?key=" + ingestKey + "&token=" + alertsToken, body, 403, "PERMISSION_DENIED"},
		{"bad body", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=" + alertsToken, `{"txt":"hi"}`, 400, "INVALID_ARGUMENT"},
		{"empty message", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=" + alertsToken, `{}`, 400, "INVALID_ARGUMENT"},
		{"ok", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=" + alertsToken, body, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.body)))
			if a.code != tt.wantCode {
				t.Fatalf("got %d, want %d:\n%s", a.code, tt.wantCode, a.body)
			}
			if tt.wantStatus != "" {
				if got := a.errorStatus(t); got != tt.wantStatus {
					t.Errorf("got status %q, want %q", got, tt.wantStatus)
				}
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		a := e.do(httptest.NewRequest(http.MethodGet, "/v1/spaces/alerts/messages", nil))
		if a.code != http.StatusMethodNotAllowed {
			t.Errorf("got %d, want 405", a.code)
		}
	})
	t.Run("no ingest key configured", func(t *testing.T) {
		e := newEnv(t, func(c *config.Config, _ *relay.Options) { c.IngestKey = "" })
		if a := e.post("alerts", alertsToken, "", body); a.code != 200 {
			t.Errorf("any key: got %d, want 200:\n%s", a.code, a.body)
		}
	})
}

// TestIngestUnknownSpaceLikeForbidden: an outsider cannot tell a space name
// the relay does not have from one it has by the answers: an unknown space
// is refused exactly like a configured one with a wrong or missing token
// (Google's 403 for a bad token), body and headers alike.
func TestIngestUnknownSpaceLikeForbidden(t *testing.T) {
	e := newEnv(t, nil)
	const body = `{"text":"hi"}`
	for _, tc := range []struct{ name, known, unknown string }{
		{"wrong token", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=alerts-token-0123456780",
			"/v1/spaces/nope/messages?key=" + ingestKey + "&token=alerts-token-0123456780"},
		{"another space's token", "/v1/spaces/alerts/messages?key=" + ingestKey + "&token=x",
			"/v1/spaces/nope/messages?key=" + ingestKey + "&token=x"},
		{"no token", "/v1/spaces/alerts/messages?key=" + ingestKey,
			"/v1/spaces/nope/messages?key=" + ingestKey},
		{"compact", "/v1/spaces/alerts/messages?prettyPrint=false&key=" + ingestKey + "&token=x",
			"/v1/spaces/nope/messages?prettyPrint=false&key=" + ingestKey + "&token=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known := e.do(httptest.NewRequest(http.MethodPost, tc.known, strings.NewReader(body)))
			unknown := e.do(httptest.NewRequest(http.MethodPost, tc.unknown, strings.NewReader(body)))
			if known.code != http.StatusForbidden || known.errorStatus(t) != "PERMISSION_DENIED" {
				t.Fatalf("configured space: got %d %s, want 403 PERMISSION_DENIED", known.code, known.body)
			}
			if unknown.code != known.code || unknown.body != known.body {
				t.Errorf("unknown space: got %d\n%s\nwant what a configured space answers: %d\n%s", unknown.code, unknown.body, known.code, known.body)
			}
			if diff := cmp.Diff(known.header, unknown.header); diff != "" {
				t.Errorf("headers differ (-configured +unknown):\n%s", diff)
			}
		})
	}
}

// TestIngestQueued checks the "queued" answer: a Message-shaped body whose
// name is the delivery and whose thread is a relay thread, the delivery
// headers, the stored delivery and the dispatcher's wake-up.
func TestIngestQueued(t *testing.T) {
	e := newEnv(t, nil)
	a := e.post("alerts", alertsToken, "", `{"text":"Disk *full* on db1"}`)
	if a.code != http.StatusOK {
		t.Fatalf("got %d, want 200:\n%s", a.code, a.body)
	}
	id := a.header.Get(relay.HeaderDeliveryID)
	if id == "" {
		t.Fatal("no delivery id header")
	}
	if got := a.header.Get(relay.HeaderDeliveryState); got != "queued" {
		t.Errorf("state header: got %q, want queued", got)
	}
	m := a.json(t)
	if got, want := m["name"], "spaces/alerts/messages/"+id; got != want {
		t.Errorf("name: got %v, want %v", got, want)
	}
	if got := m["text"]; got != "Disk *full* on db1" {
		t.Errorf("text: got %v", got)
	}
	thread, _ := m["thread"].(map[string]any)
	relayThread, _ := thread["name"].(string)
	if !strings.HasPrefix(relayThread, "spaces/alerts/threads/") {
		t.Errorf("thread.name: got %q, want a relay thread of spaces/alerts", relayThread)
	}

	d := e.get(id)
	if d.State != store.StateQueued || d.Space != "alerts" || d.Lane != googleSpace || d.RelayThread != relayThread || d.Reply != "" {
		t.Errorf("stored delivery: got %+v", d)
	}
	if got := string(d.Message); got != `{"text":"Disk *full* on db1"}` {
		t.Errorf("stored message: got %s", got)
	}
	if e.notify.count() != 1 || e.notify.lanes[0] != googleSpace {
		t.Errorf("notified: got %v, want [%s]", e.notify.lanes, googleSpace)
	}
	if _, err := e.store.Thread(t.Context(), relayThread); err != nil {
		t.Errorf("the relay thread is not known to the store: %v", err)
	}

	t.Run("fields", func(t *testing.T) {
		a := e.post("alerts", alertsToken, "fields=name&prettyPrint=false", `{"text":"x"}`)
		if a.code != 200 || !strings.HasPrefix(a.body, `{"name":"spaces/alerts/messages/`) || strings.Contains(a.body, "text") {
			t.Errorf("got %d %s", a.code, a.body)
		}
	})
}

// TestIngestDedup: a repeated requestId within a space returns the first
// delivery and stores nothing.
func TestIngestDedup(t *testing.T) {
	e := newEnv(t, nil)
	id1, m1 := e.mustPost("alerts", alertsToken, "requestId=r-1", `{"text":"one"}`)
	id2, m2 := e.mustPost("alerts", alertsToken, "requestId=r-1", `{"text":"one"}`)
	if id1 != id2 || m1["name"] != m2["name"] {
		t.Errorf("repeated requestId: got %s then %s, want the same delivery", id1, id2)
	}
	id3, _ := e.mustPost("open", "any", "requestId=r-1", `{"text":"one"}`)
	if id3 == id1 {
		t.Error("a requestId of another space deduplicated")
	}
	ds, err := e.store.List(t.Context(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Errorf("stored %d deliveries, want 2", len(ds))
	}
}

// TestIngestThreads checks relay thread names: one per (space, thread key),
// a reply by relay name joins its group and is translated to Google's thread
// once known; Google's names of the space pass through, names of other
// spaces are a 400, and a relay name never handed out does not exist.
func TestIngestThreads(t *testing.T) {
	e := newEnv(t, nil)
	const fallback = "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	id1, m1 := e.mustPost("alerts", alertsToken, fallback, `{"text":"firing","thread":{"threadKey":"alert-1"}}`)
	name := m1["thread"].(map[string]any)["name"].(string)
	if got := m1["thread"].(map[string]any)["threadKey"]; got != "alert-1" {
		t.Errorf("threadKey not echoed: %v", got)
	}
	id2, m2 := e.mustPost("alerts", alertsToken, fallback+"&threadKey=alert-1", `{"text":"still firing"}`)
	if got := m2["thread"].(map[string]any)["name"]; got != name {
		t.Errorf("same key by query parameter: got thread %v, want %v", got, name)
	}
	_, m3 := e.mustPost("alerts", alertsToken, fallback, `{"text":"other","thread":{"threadKey":"alert-2"}}`)
	if m3["thread"].(map[string]any)["name"] == name {
		t.Error("two keys got one relay thread")
	}
	_, m4 := e.mustPost("open", "any", fallback, `{"text":"firing","thread":{"threadKey":"alert-1"}}`)
	if m4["thread"].(map[string]any)["name"] == name {
		t.Error("one key in two spaces got one relay thread")
	}

	// A reply by relay name before Google's thread is known keeps the relay
	// name (the dispatcher translates it) and joins the key's group.
	id3, _ := e.mustPost("alerts", alertsToken, fallback, `{"text":"reply","thread":{"name":"`+name+`"}}`)
	d1, d2, d3 := e.get(id1), e.get(id2), e.get(id3)
	if d1.Group != name || d2.Group != name || d3.Group != name {
		t.Errorf("groups: got %q %q %q, want %q", d1.Group, d2.Group, d3.Group, name)
	}
	if !strings.Contains(string(d3.Message), `"name":"`+name+`"`) || d3.RelayThread != name {
		t.Errorf("unmapped reply: got %s relay %q", d3.Message, d3.RelayThread)
	}

	// Once the first delivery is done, the name maps to Google's thread.
	const googleThread = "spaces/" + googleSpace + "/threads/T1"
	e.finish(id1, store.Outcome{State: store.StateDone, Status: 200, GoogleMessage: "spaces/" + googleSpace + "/messages/M1", GoogleThread: googleThread})
	a := e.post("alerts", alertsToken, fallback, `{"text":"reply","thread":{"name":"`+name+`"}}`)
	if a.code != 200 {
		t.Fatalf("reply: got %d:\n%s", a.code, a.body)
	}
	if got := a.json(t)["thread"].(map[string]any)["name"]; got != name {
		t.Errorf("answer of a mapped reply: thread %v, want the relay name %v", got, name)
	}
	d4 := e.get(a.header.Get(relay.HeaderDeliveryID))
	if !strings.Contains(string(d4.Message), `"name":"`+googleThread+`"`) || d4.Group != name {
		t.Errorf("mapped reply: got %s in group %q", d4.Message, d4.Group)
	}

	// A thread the first message started without a key: replies join the
	// unthreaded group, where that message was.
	_, m5 := e.mustPost("alerts", alertsToken, "", `{"text":"no thread"}`)
	newName := m5["thread"].(map[string]any)["name"].(string)
	id6, _ := e.mustPost("alerts", alertsToken, fallback, `{"text":"reply","thread":{"name":"`+newName+`"}}`)
	if d6 := e.get(id6); d6.Group != "" || d6.RelayThread != newName {
		t.Errorf("reply to a new thread: group %q relay %q, want \"\" and %q", d6.Group, d6.RelayThread, newName)
	}

	// Google's own thread name of the Google space: passed through as the
	// thread to reply in, in a group of its own.
	const google = "spaces/" + googleSpace + "/threads/6ZCBNeLWNQ3"
	ga := e.post("alerts", alertsToken, fallback, `{"text":"reply","thread":{"name":"`+google+`"}}`)
	if ga.code != http.StatusOK {
		t.Fatalf("Google's thread name: got %d, want 200:\n%s", ga.code, ga.body)
	}
	if got := ga.json(t)["thread"].(map[string]any)["name"]; got != google {
		t.Errorf("Google's thread name: answer thread %v, want %v", got, google)
	}
	if d := e.get(ga.header.Get(relay.HeaderDeliveryID)); !strings.Contains(string(d.Message), `"name":"`+google+`"`) || d.Group != google {
		t.Errorf("Google's thread name: sent %s in group %q", d.Message, d.Group)
	}

	// A thread name of another space, relay or Google: refused at once,
	// as the emulator refuses it by default.
	for _, bad := range []string{
		"spaces/open/threads/" + strings.TrimPrefix(name, "spaces/alerts/threads/"),
		"spaces/BBBBother02/threads/T1",
	} {
		a := e.post("alerts", alertsToken, fallback, `{"text":"reply","thread":{"name":"`+bad+`"}}`)
		if a.code != http.StatusBadRequest || a.errorStatus(t) != "INVALID_ARGUMENT" || !strings.Contains(a.body, "invalid thread resource name") {
			t.Errorf("thread %s: got %d, want 400 INVALID_ARGUMENT:\n%s", bad, a.code, a.body)
		}
	}
	// A relay name never handed out does not exist: the fallback starts a
	// new thread, REPLY_MESSAGE_OR_FAIL is Google's 404.
	for _, unknown := range []string{"spaces/alerts/threads/k0000000000000000000", "spaces/alerts/threads/nope"} {
		body := `{"text":"reply","thread":{"name":"` + unknown + `"}}`
		if _, m := e.mustPost("alerts", alertsToken, fallback, body); m["thread"].(map[string]any)["name"] == unknown {
			t.Errorf("unknown relay thread %s with the fallback: answered as that thread", unknown)
		}
		a := e.post("alerts", alertsToken, "messageReplyOption=REPLY_MESSAGE_OR_FAIL", body)
		if a.code != http.StatusNotFound || a.errorStatus(t) != "NOT_FOUND" {
			t.Errorf("unknown relay thread %s with OR_FAIL: got %d, want 404 NOT_FOUND:\n%s", unknown, a.code, a.body)
		}
	}
}

// TestIngestMessageIDExists: a messageId already accepted for the space is
// Google's 409 at once, as the emulator answers it; a repeated requestId
// still returns its delivery first.
func TestIngestMessageIDExists(t *testing.T) {
	e := newEnv(t, nil)
	id, _ := e.mustPost("alerts", alertsToken, "messageId=client-a&requestId=r-1", `{"text":"one"}`)
	a := e.post("alerts", alertsToken, "messageId=client-a", `{"text":"two"}`)
	if a.code != http.StatusConflict || a.errorStatus(t) != "ALREADY_EXISTS" ||
		a.json(t)["error"].(map[string]any)["message"] != "Message with the given messageId already exists." {
		t.Errorf("reused messageId: got %d:\n%s", a.code, a.body)
	}
	if again, _ := e.mustPost("alerts", alertsToken, "messageId=client-a&requestId=r-1", `{"text":"one"}`); again != id {
		t.Errorf("repeated requestId: delivery %s, want %s", again, id)
	}
	if a := e.post("alerts", alertsToken, "messageId=client-a&requestId=r-2", `{"text":"three"}`); a.code != http.StatusConflict {
		t.Errorf("reused messageId, new requestId: got %d, want 409", a.code)
	}
	e.mustPost("alerts", alertsToken, "messageId=client-b", `{"text":"other id"}`)
	if ds, _ := e.store.List(t.Context(), store.Filter{}); len(ds) != 2 {
		t.Errorf("stored %d deliveries, want 2", len(ds))
	}
}

// TestIngestMessageIDSharedGoogleSpace: two relay spaces delivering into
// one Google space share its messageIds, as Google does: a messageId the
// one accepted is 409 at the other, even with the same requestId (a
// requestId repeats within its relay space only); a relay space of another
// Google space may use it.
func TestIngestMessageIDSharedGoogleSpace(t *testing.T) {
	e := newEnv(t, func(cfg *config.Config, _ *relay.Options) {
		hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/BBBBlane002/messages?key=k&token=" + googleSecret)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Spaces = append(cfg.Spaces, config.NewSpace("elsewhere", hook))
	})
	id, _ := e.mustPost("alerts", alertsToken, "messageId=client-a&requestId=r-1", `{"text":"one"}`)
	for _, q := range []string{"messageId=client-a", "messageId=client-a&requestId=r-1"} {
		a := e.post("open", "any", q, `{"text":"two"}`)
		if a.code != http.StatusConflict || a.errorStatus(t) != "ALREADY_EXISTS" {
			t.Errorf("%s in the other relay space of the Google space: got %d, want 409 ALREADY_EXISTS:\n%s", q, a.code, a.body)
		}
	}
	if again, _ := e.mustPost("alerts", alertsToken, "messageId=client-a&requestId=r-1", `{"text":"one"}`); again != id {
		t.Errorf("repeated requestId: delivery %s, want %s", again, id)
	}
	e.mustPost("elsewhere", "any", "messageId=client-a", `{"text":"another Google space"}`)
	if ds, _ := e.store.List(t.Context(), store.Filter{}); len(ds) != 2 {
		t.Errorf("stored %d deliveries, want 2", len(ds))
	}
}

// TestIngestOrFailUnknownThread: REPLY_MESSAGE_OR_FAIL to a thread the relay
// cannot vouch for is queued and says so in a header; to a thread it knows,
// no header.
func TestIngestOrFailUnknownThread(t *testing.T) {
	e := newEnv(t, nil)
	const orFail = "messageReplyOption=REPLY_MESSAGE_OR_FAIL"
	a := e.post("alerts", alertsToken, orFail, `{"text":"resolved","thread":{"threadKey":"made-at-google"}}`)
	if a.code != http.StatusOK || a.header.Get(relay.HeaderDeliveryThread) != "unknown" {
		t.Errorf("OR_FAIL to a key never seen: got %d, %s %q; want 200, unknown", a.code, relay.HeaderDeliveryThread, a.header.Get(relay.HeaderDeliveryThread))
	}
	if d := e.get(a.header.Get(relay.HeaderDeliveryID)); d.Reply != "REPLY_MESSAGE_OR_FAIL" {
		t.Errorf("stored reply %q, want REPLY_MESSAGE_OR_FAIL", d.Reply)
	}
	e.mustPost("alerts", alertsToken, "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", `{"text":"firing","thread":{"threadKey":"k"}}`)
	a = e.post("alerts", alertsToken, orFail, `{"text":"resolved","thread":{"threadKey":"k"}}`)
	if a.code != http.StatusOK || a.header.Get(relay.HeaderDeliveryThread) != "" {
		t.Errorf("OR_FAIL to a key the relay handed out: got %d, %s %q; want 200 and no header", a.code, relay.HeaderDeliveryThread, a.header.Get(relay.HeaderDeliveryThread))
	}
}

// TestIngestReplyFallback: without a reply option a thread is ignored, as
// by Google, unless the space sets reply_fallback.
func TestIngestReplyFallback(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		space, token, query string
		wantReply           string
		wantKeyed           bool
	}{
		{"alerts", alertsToken, "", "MESSAGE_REPLY_OPTION_UNSPECIFIED", false},
		{"open", "any", "", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", true},
		{"open", "any", "messageReplyOption=MESSAGE_REPLY_OPTION_UNSPECIFIED", "MESSAGE_REPLY_OPTION_UNSPECIFIED", false},
		{"open", "any", "messageReplyOption=REPLY_MESSAGE_OR_FAIL", "REPLY_MESSAGE_OR_FAIL", true},
		{"alerts", alertsToken, "messageReplyOption=REPLY_MESSAGE_OR_FAIL", "REPLY_MESSAGE_OR_FAIL", true},
	}
	for _, tt := range tests {
		t.Run(tt.space+"/"+tt.query, func(t *testing.T) {
			id, m := e.mustPost(tt.space, tt.token, tt.query, `{"text":"x","thread":{"threadKey":"k"}}`)
			d := e.get(id)
			if d.Reply != tt.wantReply {
				t.Errorf("reply: got %q, want %q", d.Reply, tt.wantReply)
			}
			keyed := d.Group != "" && d.Group == m["thread"].(map[string]any)["name"]
			if keyed != tt.wantKeyed {
				t.Errorf("keyed thread: got %v (group %q), want %v", keyed, d.Group, tt.wantKeyed)
			}
		})
	}
	t.Run("no thread", func(t *testing.T) {
		id, _ := e.mustPost("open", "any", "", `{"text":"x"}`)
		if d := e.get(id); d.Reply != "" || d.Group != "" {
			t.Errorf("got reply %q group %q, want none", d.Reply, d.Group)
		}
	})
}

// TestIngestFit: a message larger than Google accepts becomes several
// deliveries of one thread, in order, each within Google's limits.
func TestIngestFit(t *testing.T) {
	e := newEnv(t, nil)
	var b strings.Builder
	for i := range 400 {
		b.WriteString("Line ")
		b.WriteString(strings.Repeat("x", 30+i%20))
		b.WriteString("\n")
	}
	text := b.String()
	body, _ := json.Marshal(map[string]string{"text": text})
	id, m := e.mustPost("alerts", alertsToken, "", string(body))
	relayThread := m["thread"].(map[string]any)["name"].(string)

	ds, err := e.store.List(t.Context(), store.Filter{Space: "alerts"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 3 {
		t.Fatalf("got %d deliveries, want several", len(ds))
	}
	if ds[0].ID != id {
		t.Errorf("answer names %s, want the head %s", id, ds[0].ID)
	}
	var joined strings.Builder
	var key string
	for i, d := range ds {
		var msg gchat.Message
		if err := json.Unmarshal(d.Message, &msg); err != nil {
			t.Fatal(err)
		}
		if len(d.Message) > gchat.DefaultMaxBytes || len(utf16.Encode([]rune(msg.Text))) > gchat.DefaultMaxText {
			t.Errorf("part %d: %d bytes, over Google's limits", i, len(d.Message))
		}
		if d.Group != ds[0].Group || d.RelayThread != relayThread || i > 0 && d.Seq <= ds[i-1].Seq {
			t.Errorf("part %d: group %q relay %q seq %d, want one ordered group", i, d.Group, d.RelayThread, d.Seq)
		}
		if msg.Thread == nil || msg.Thread.ThreadKey == "" || key != "" && msg.Thread.ThreadKey != key {
			t.Errorf("part %d: thread %+v, want one thread key for all parts", i, msg.Thread)
		} else {
			key = msg.Thread.ThreadKey
		}
		joined.WriteString(msg.Text)
	}
	if joined.String() != text {
		t.Error("the parts do not add up to the text")
	}

	t.Run("over the relay's limit", func(t *testing.T) {
		e := newEnv(t, func(_ *config.Config, o *relay.Options) { o.MaxBytes = 1000 })
		a := e.post("alerts", alertsToken, "", `{"text":"`+strings.Repeat("y", 2000)+`"}`)
		if a.code != http.StatusBadRequest {
			t.Errorf("got %d, want 400:\n%s", a.code, a.body)
		}
	})
}

// TestIngestUnavailable: a full lane and a stopping relay answer 503 with
// Retry-After and store nothing.
func TestIngestUnavailable(t *testing.T) {
	e := newEnv(t, func(_ *config.Config, o *relay.Options) { o.MaxPending = 1 })
	e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	a := e.post("alerts", alertsToken, "", `{"text":"two"}`)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.errorStatus(t) != "UNAVAILABLE" {
		t.Errorf("full: got %d Retry-After %q:\n%s", a.code, a.header.Get("Retry-After"), a.body)
	}
	e.srv.StopIngest()
	a = e.post("open", "any", "", `{"text":"three"}`)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("stopping: got %d Retry-After %q:\n%s", a.code, a.header.Get("Retry-After"), a.body)
	}
	if ds, _ := e.store.List(t.Context(), store.Filter{}); len(ds) != 1 {
		t.Errorf("stored %d deliveries, want 1", len(ds))
	}
}

// TestIngestAcceptRefusals: the accept path's errors in Google's words: what
// Google refuses with its status, messages the relay cannot fit a 400, a
// store that fails a 503 with Retry-After.
func TestIngestAcceptRefusals(t *testing.T) {
	e := newEnv(t, nil)
	fallback := "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	a := e.post("alerts", alertsToken, "messageReplyOption=REPLY_MESSAGE_OR_FAIL", `{"text":"x","thread":{"name":"spaces/alerts/threads/knope"}}`)
	if a.code != http.StatusNotFound || a.errorStatus(t) != "NOT_FOUND" {
		t.Errorf("OR_FAIL to an unknown thread name: got %d:\n%s", a.code, a.body)
	}
	a = e.post("alerts", alertsToken, "", `{"cards":[{"header":{"title":"`+strings.Repeat("x", 40000)+`"}}]}`)
	if a.code != http.StatusBadRequest || a.errorStatus(t) != "INVALID_ARGUMENT" || !strings.Contains(a.body, "cannot be fitted") {
		t.Errorf("deprecated cards too large to fit: got %d:\n%s", a.code, a.body)
	}
	e.store.Close()
	a = e.post("alerts", alertsToken, "", `{"text":"x"}`)
	if a.code != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || a.errorStatus(t) != "UNAVAILABLE" {
		t.Errorf("closed store: got %d Retry-After %q:\n%s", a.code, a.header.Get("Retry-After"), a.body)
	}
	a = e.post("alerts", alertsToken, fallback, `{"text":"x","thread":{"name":"spaces/alerts/threads/kabc"}}`)
	if a.code != http.StatusServiceUnavailable || a.errorStatus(t) != "UNAVAILABLE" {
		t.Errorf("closed store, thread lookup: got %d:\n%s", a.code, a.body)
	}
}

func TestHealth(t *testing.T) {
	for _, demo := range []bool{false, true} {
		e := newEnv(t, func(_ *config.Config, o *relay.Options) { o.Demo = demo })
		want := map[bool]string{false: "ok\n", true: "demo\n"}[demo]
		if a := e.do(httptest.NewRequest(http.MethodGet, "/readyz", nil)); a.code != 200 || a.body != want {
			t.Errorf("demo %v: /readyz: got %d %q, want %q", demo, a.code, a.body, want)
		}
		if a := e.do(httptest.NewRequest(http.MethodGet, "/healthz", nil)); a.code != 200 || a.body != "ok\n" {
			t.Errorf("/healthz: got %d %q", a.code, a.body)
		}
	}
}
