package emulator_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

func TestAPISpacesAndWebhooks(t *testing.T) {
	s := emulator.NewServer(emulator.Config{}, nil)
	defer s.Close()

	a := api(t, s, "POST", "/api/v1/spaces", map[string]any{"displayName": "Alerts", "id": "AAAAalerts1", "threading": "GROUPED_MESSAGES"})
	if a.Status != http.StatusCreated {
		t.Fatalf("create space: %d %s", a.Status, a.Raw)
	}
	var sp emulator.Space
	decodeInto(t, a, &sp)
	if sp.ID != "AAAAalerts1" || sp.Name != "spaces/AAAAalerts1" || sp.Threading != emulator.Grouped || sp.Kind != emulator.KindSpace || !sp.AppsEnabled {
		t.Errorf("space %+v", sp)
	}
	if a := api(t, s, "POST", "/api/v1/spaces", map[string]any{"displayName": "x", "id": "AAAAalerts1"}); a.Status != http.StatusConflict {
		t.Errorf("same id: %d", a.Status)
	}
	for _, body := range []map[string]any{{"displayName": "x", "threading": "NO"}, {"displayName": "x", "id": "a/b"}, {"displayName": "x", "bogus": 1}} {
		if a := api(t, s, "POST", "/api/v1/spaces", body); a.Status != http.StatusBadRequest || a.errStatus() != "INVALID_ARGUMENT" {
			t.Errorf("%v: %d %s", body, a.Status, a.Raw)
		}
	}
	a = api(t, s, "POST", "/api/v1/spaces", map[string]any{"displayName": "Random"})
	decodeInto(t, a, &sp)
	if len(sp.ID) != 11 || !strings.HasPrefix(sp.ID, "AAAA") {
		t.Errorf("drawn id %q: want 11 characters starting AAAA", sp.ID)
	}

	a = api(t, s, "POST", "/api/v1/spaces/AAAAalerts1/webhooks", map[string]any{"name": "Alertmanager", "avatarUrl": "https://example.com/a.png"})
	if a.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", a.Status, a.Raw)
	}
	var h emulator.Webhook
	decodeInto(t, a, &h)
	u, err := url.Parse(h.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "127.0.0.1:8687" || u.Path != "/v1/spaces/AAAAalerts1/messages" || u.Query().Get("key") != emulator.FakeKey || len(u.Query().Get("token")) != 43 {
		t.Errorf("url %s", h.URL)
	}
	if a := serve(t, s, "POST", h.URL, "", text("hi")); a.Status != 200 {
		t.Fatalf("post: %d %s", a.Status, a.Raw)
	}
	if a := api(t, s, "POST", "/api/v1/spaces/AAAAnospace/webhooks", map[string]any{"name": "x"}); a.Status != http.StatusNotFound {
		t.Errorf("webhook in unknown space: %d", a.Status)
	}

	a = api(t, s, "GET", "/api/v1/spaces", nil)
	var list struct{ Spaces []emulator.Space }
	decodeInto(t, a, &list)
	if len(list.Spaces) != 2 || list.Spaces[0].ID != "AAAAalerts1" || list.Spaces[0].MessageCount != 1 || len(list.Spaces[0].Webhooks) != 1 {
		t.Errorf("spaces %+v", list.Spaces)
	}
	if a := api(t, s, "GET", "/api/v1/spaces/AAAAalerts1", nil); a.Status != 200 || a.str("displayName") != "Alerts" {
		t.Errorf("get space: %d %s", a.Status, a.Raw)
	}

	if a := api(t, s, "DELETE", "/api/v1/spaces/AAAAalerts1/webhooks/"+h.ID, nil); a.Status != http.StatusNoContent {
		t.Errorf("delete webhook: %d %s", a.Status, a.Raw)
	}
	if a := api(t, s, "DELETE", "/api/v1/spaces/AAAAalerts1/webhooks/"+h.ID, nil); a.Status != http.StatusNotFound {
		t.Errorf("delete webhook twice: %d", a.Status)
	}
	if a := serve(t, s, "POST", h.URL, "", text("hi")); a.Status != http.StatusForbidden {
		t.Errorf("post to deleted webhook: %d", a.Status)
	}
	if a := api(t, s, "DELETE", "/api/v1/spaces/AAAAalerts1", nil); a.Status != http.StatusNoContent {
		t.Errorf("delete space: %d", a.Status)
	}
	if a := api(t, s, "GET", "/api/v1/spaces/AAAAalerts1", nil); a.Status != http.StatusNotFound || a.errStatus() != "NOT_FOUND" {
		t.Errorf("get deleted space: %d %s", a.Status, a.Raw)
	}
}

func TestAPIMessagesThreadsRequestsStats(t *testing.T) {
	e := newEnv(t, noQuota())
	base := "/api/v1/spaces/" + e.space.ID

	if a := api(t, e.s, "GET", base+"/messages/latest", nil); a.Status != http.StatusNotFound {
		t.Errorf("latest of none: %d", a.Status)
	}
	first := e.post(e.h1.URL, fallback, textKey("one", "k"))
	e.clock.Advance(time.Second)
	e.post(e.h1.URL, fallback, textKey("two", "k"))
	e.clock.Advance(time.Second)
	e.post(e.h2.URL, "", `{"text":"three","cardsV2":[{"cardId":"c","card":{"sections":[{"widgets":[]}]}}]}`)
	e.post(e.h2.URL, "&token=x", text("bad")) // a second token parameter: the first wins, still 200
	e.post(strings.Replace(e.h2.URL, "token=", "token=no", 1), "", text("403"))

	var got struct{ Messages []emulator.Message }
	decodeInto(t, api(t, e.s, "GET", base+"/messages", nil), &got)
	if len(got.Messages) != 4 {
		t.Fatalf("%d messages", len(got.Messages))
	}
	threadName := first.str("thread.name")
	decodeInto(t, api(t, e.s, "GET", base+"/messages?thread="+url.QueryEscape(threadName), nil), &got)
	if len(got.Messages) != 2 || !strings.Contains(string(got.Messages[1].Body), `"two"`) {
		t.Errorf("thread filter: %+v", got.Messages)
	}
	since := e.clock.Now().Add(-1500 * time.Millisecond).Format(time.RFC3339Nano)
	decodeInto(t, api(t, e.s, "GET", base+"/messages?since="+url.QueryEscape(since), nil), &got)
	if len(got.Messages) != 3 {
		t.Errorf("since: %d messages, want 3", len(got.Messages))
	}
	decodeInto(t, api(t, e.s, "GET", base+"/messages?limit=1", nil), &got)
	if len(got.Messages) != 1 || !strings.Contains(string(got.Messages[0].Body), `"bad"`) {
		t.Errorf("limit=1 keeps the newest: %+v", got.Messages)
	}
	for _, q := range []string{"?limit=-1", "?since=yesterday", "?wait=x", "?timeout=forever"} {
		if a := api(t, e.s, "GET", base+"/messages"+q, nil); a.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", q, a.Status)
		}
	}

	a := api(t, e.s, "GET", base+"/messages/latest", nil)
	if a.Status != 200 || a.str("sender.displayName") != "Grafana" || a.str("sender.type") != "BOT" {
		t.Errorf("latest: %s", a.Raw)
	}
	// The card with an empty section has a problem, with its severity spelt out.
	a = api(t, e.s, "GET", base+"/messages?limit=2", nil)
	if !strings.Contains(a.Raw, `"severity": "error"`) || !strings.Contains(a.Raw, `"html": "`) {
		t.Errorf("problems or html missing: %s", a.Raw)
	}

	var threads struct{ Threads []emulator.Thread }
	decodeInto(t, api(t, e.s, "GET", base+"/threads", nil), &threads)
	if len(threads.Threads) != 3 || threads.Threads[0].Name != threadName || threads.Threads[0].MessageCount != 2 || threads.Threads[0].ThreadKey != "k" {
		t.Errorf("threads %+v", threads.Threads)
	}

	a = api(t, e.s, "GET", base+"/requests", nil)
	var reqs struct {
		Requests []struct {
			Space, Webhook, Fault string
			Status                int
			Start                 time.Time
			DurationMs            *float64
		}
	}
	decodeInto(t, a, &reqs)
	if len(reqs.Requests) != 5 || reqs.Requests[4].Status != 403 || reqs.Requests[4].Webhook != "" || reqs.Requests[0].Webhook != e.h1.ID || reqs.Requests[0].DurationMs == nil {
		t.Errorf("requests %s", a.Raw)
	}

	var st emulator.Stats
	decodeInto(t, api(t, e.s, "GET", "/api/v1/stats", nil), &st)
	if st.ByStatus[200] != 4 || st.ByStatus[403] != 1 || st.Spaces[e.space.ID].ByStatus[200] != 4 {
		t.Errorf("stats %+v", st)
	}

	if a := api(t, e.s, "DELETE", "/api/v1/messages", nil); a.Status != http.StatusNoContent {
		t.Errorf("clear: %d", a.Status)
	}
	decodeInto(t, api(t, e.s, "GET", base+"/messages", nil), &got)
	decodeInto(t, api(t, e.s, "GET", base+"/threads", nil), &threads)
	if len(got.Messages) != 0 || len(threads.Threads) != 0 {
		t.Errorf("after clear: %d messages, %d threads", len(got.Messages), len(threads.Threads))
	}
	if sp, _ := e.s.Space(e.space.ID); len(sp.Webhooks) != 2 {
		t.Errorf("clear dropped webhooks")
	}
	for _, p := range []string{"/messages", "/threads", "/requests", "/messages/latest"} {
		if a := api(t, e.s, "GET", "/api/v1/spaces/AAAAnospace"+p, nil); a.Status != http.StatusNotFound {
			t.Errorf("%s of unknown space: %d", p, a.Status)
		}
	}
}

func TestAPIWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, noQuota())
		path := "/api/v1/spaces/" + e.space.ID + "/messages?wait=2&timeout=5s"
		done := make(chan answer)
		go func() { done <- api(t, e.s, "GET", path, nil) }()
		synctest.Wait()
		e.post(e.h1.URL, "", text("one"))
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("wait=2 answered after one message")
		default:
		}
		e.post(e.h1.URL, "", text("two"))
		a := <-done
		var got struct{ Messages []emulator.Message }
		decodeInto(t, a, &got)
		if len(got.Messages) != 2 || a.Header.Get("X-Gchat-Timed-Out") != "" {
			t.Errorf("got %d messages, timed out %q", len(got.Messages), a.Header.Get("X-Gchat-Timed-Out"))
		}

		start := time.Now()
		a = api(t, e.s, "GET", "/api/v1/spaces/"+e.space.ID+"/messages?wait=5&timeout=3s", nil)
		decodeInto(t, a, &got)
		if a.Status != 200 || a.Header.Get("X-Gchat-Timed-Out") != "true" || len(got.Messages) != 2 || time.Since(start) != 3*time.Second {
			t.Errorf("timeout: %d, header %q, %d messages after %v", a.Status, a.Header.Get("X-Gchat-Timed-Out"), len(got.Messages), time.Since(start))
		}
	})
}

func TestWaitMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, noQuota())
		go func() {
			time.Sleep(time.Second)
			e.post(e.h1.URL, "", text("one"))
		}()
		ms, err := e.s.WaitMessages(t.Context(), e.space.ID, 1)
		if err != nil || len(ms) != 1 {
			t.Fatalf("got %d, %v", len(ms), err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if ms, err := e.s.WaitMessages(ctx, e.space.ID, 2); !errors.Is(err, context.DeadlineExceeded) || len(ms) != 1 {
			t.Errorf("timeout: %d, %v", len(ms), err)
		}
		if _, err := e.s.WaitMessages(ctx, "AAAAnospace", 1); !errors.Is(err, emulator.ErrNotFound) {
			t.Errorf("unknown space: %v", err)
		}
		go func() {
			time.Sleep(time.Second)
			e.s.Close()
		}()
		if _, err := e.s.WaitMessages(t.Context(), e.space.ID, 2); !errors.Is(err, emulator.ErrClosed) {
			t.Errorf("close: %v", err)
		}
	})
}

func TestAPIFaultsAndSettings(t *testing.T) {
	e := newEnv(t, noQuota())
	a := api(t, e.s, "PUT", "/api/v1/faults", map[string]any{"global": map[string]any{"rate503": 0.5, "latency": "200ms"}})
	if a.Status != 200 {
		t.Fatalf("put faults: %d %s", a.Status, a.Raw)
	}
	api(t, e.s, "PUT", "/api/v1/faults", map[string]any{"spaces": map[string]any{e.space.ID: map[string]any{"rate429": 1}}})
	var fc emulator.FaultConfig
	decodeInto(t, api(t, e.s, "GET", "/api/v1/faults", nil), &fc)
	if fc.Global.Rate503 != 0.5 || fc.Global.Latency != 200*time.Millisecond || fc.Spaces[e.space.ID].Rate429 != 1 {
		t.Errorf("faults %+v", fc)
	}
	api(t, e.s, "PUT", "/api/v1/faults", map[string]any{"spaces": map[string]any{e.space.ID: nil}})
	if got := e.s.Faults(); len(got.Spaces) != 0 || got.Global.Rate503 != 0.5 {
		t.Errorf("after removing the space: %+v", got)
	}
	for _, body := range []map[string]any{
		{"global": map[string]any{"rate500": 2}},
		{"global": map[string]any{"rate500": 0.6, "rate503": 0.6}},
		{"global": map[string]any{"latency": "soon"}},
	} {
		if a := api(t, e.s, "PUT", "/api/v1/faults", body); a.Status != http.StatusBadRequest {
			t.Errorf("%v: %d", body, a.Status)
		}
	}
	if a := api(t, e.s, "DELETE", "/api/v1/faults", nil); a.Status != http.StatusNoContent {
		t.Errorf("delete faults: %d", a.Status)
	}
	if got := e.s.Faults(); got.Global != (emulator.Faults{}) {
		t.Errorf("after delete: %+v", got)
	}

	a = api(t, e.s, "PUT", "/api/v1/settings", map[string]any{"honourRequestId": false, "deletedWebhookStatus": 404})
	if a.Status != 200 {
		t.Fatalf("put settings: %d %s", a.Status, a.Raw)
	}
	set := e.s.Settings()
	if set.HonourRequestID || set.DeletedWebhookStatus != 404 || !set.MessageIDConflict || len(set.ThreadPrecedence) != 3 {
		t.Errorf("settings merged wrong: %+v", set)
	}
	for _, body := range []map[string]any{
		{"deletedWebhookStatus": 500},
		{"orFailUnknownThread": "MAYBE"},
		{"threadPrecedence": []string{"name"}},
		{"unknownSetting": true},
	} {
		if a := api(t, e.s, "PUT", "/api/v1/settings", body); a.Status != http.StatusBadRequest {
			t.Errorf("%v: %d", body, a.Status)
		}
	}
	var got emulator.Settings
	decodeInto(t, api(t, e.s, "GET", "/api/v1/settings", nil), &got)
	if got.DeletedWebhookStatus != 404 {
		t.Errorf("a refused PUT changed settings: %+v", got)
	}
}

func TestReset(t *testing.T) {
	set := noQuota()
	s := emulator.NewServer(emulator.Config{
		Settings: &set,
		Spaces:   []emulator.SpaceSpec{{DisplayName: "Start", Webhooks: []emulator.WebhookSpec{{Name: "bot"}}}},
		Faults:   emulator.FaultConfig{Global: emulator.Faults{Latency: time.Millisecond}},
	}, nil)
	defer s.Close()
	before := s.Spaces()
	if len(before) != 1 || len(before[0].Webhooks) != 1 {
		t.Fatalf("start-up spaces %+v", before)
	}
	hook := before[0].Webhooks[0].URL
	if _, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "Extra"}); err != nil {
		t.Fatal(err)
	}
	s.SetSettings(emulator.DefaultSettings())
	s.SetFaults(emulator.FaultConfig{})
	serve(t, s, "POST", hook, "", text("hi"))

	if a := api(t, s, "POST", "/api/v1/reset", nil); a.Status != http.StatusNoContent {
		t.Fatalf("reset: %d", a.Status)
	}
	after := s.Spaces()
	if len(after) != 1 || after[0].ID != before[0].ID || after[0].Webhooks[0].URL != hook || after[0].MessageCount != 0 {
		t.Errorf("after reset %+v, want %+v", after, before)
	}
	if s.Settings().QuotaPerSecond != 0 || s.Faults().Global.Latency != time.Millisecond || len(s.Stats().ByStatus) != 0 {
		t.Errorf("reset kept run-time settings, faults or stats")
	}
	if a := serve(t, s, "POST", hook, "", text("hi")); a.Status != 200 {
		t.Errorf("start-up webhook after reset: %d", a.Status)
	}
}

func TestHostCheck(t *testing.T) {
	s := emulator.NewServer(emulator.Config{BaseURL: "http://emu.test:9000/emulator", AllowedHosts: []string{"Box.Local"}}, nil)
	defer s.Close()
	sp, _ := s.CreateSpace(emulator.SpaceSpec{DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
	for _, c := range []struct {
		host string
		want int
	}{
		{"localhost:8687", 200}, {"127.0.0.1", 200}, {"[::1]:8687", 200}, {"emu.test:9000", 200},
		{"box.local", 200}, {"evil.example", 403}, {"evil.example:8687", 403}, {"127.0.0.1.evil.example", 403},
	} {
		for _, path := range []string{"/api/v1/spaces", "/", "/ui/app.js", "/api/v1/events?probe"} {
			if path == "/api/v1/events?probe" && c.want == 200 {
				continue // a stream: checked in TestEvents
			}
			r, _ := http.NewRequest("GET", "http://x"+path, nil)
			r.Host = c.host
			w := newRecorder()
			s.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Errorf("Host %s, GET %s: %d, want %d", c.host, path, w.Code, c.want)
			}
		}
	}
	// The webhook endpoint is Google's: any Host.
	if !strings.HasPrefix(sp.Webhooks[0].URL, "http://emu.test:9000/emulator/v1/spaces/") {
		t.Errorf("webhook URL %s: not under BaseURL", sp.Webhooks[0].URL)
	}
	path := strings.TrimPrefix(sp.Webhooks[0].URL, "http://emu.test:9000/emulator")
	r, _ := http.NewRequest("POST", "http://x"+path, strings.NewReader(text("hi")))
	r.Host = "evil.example"
	w := newRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("webhook with another Host: %d", w.Code)
	}
}

func TestContentTypeCheck(t *testing.T) {
	s := emulator.NewServer(emulator.Config{}, nil)
	defer s.Close()
	for _, c := range []struct {
		method, path, ct string
		want             int
	}{
		{"POST", "/api/v1/spaces", "", http.StatusUnsupportedMediaType},
		{"POST", "/api/v1/spaces", "text/plain", http.StatusUnsupportedMediaType},
		{"POST", "/api/v1/spaces", "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"POST", "/api/v1/reset", "multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"DELETE", "/api/v1/messages", "", http.StatusUnsupportedMediaType},
		{"POST", "/api/v1/spaces", "application/json; charset=utf-8", http.StatusCreated},
		{"GET", "/api/v1/spaces", "", http.StatusOK},
	} {
		a := serve(t, s, c.method, "http://127.0.0.1:8687"+c.path, c.ct, `{"displayName":"x"}`)
		if a.Status != c.want {
			t.Errorf("%s %s with %q: %d, want %d", c.method, c.path, c.ct, a.Status, c.want)
		}
		if a.Status == http.StatusUnsupportedMediaType && a.errStatus() != "INVALID_ARGUMENT" {
			t.Errorf("415 not in Google's envelope: %s", a.Raw)
		}
	}
}

func TestPageAndHealth(t *testing.T) {
	s := emulator.NewServer(emulator.Config{}, nil)
	defer s.Close()
	for _, c := range []struct {
		path, ct string
		status   int
	}{
		{"/", "text/html", 200},
		{"/ui/app.js", "text/javascript", 200},
		{"/ui/style.css", "text/css", 200},
		{"/ui/render.css", "text/css", 200},
		{"/ui/nope.js", "", 404},
		{"/healthz", "text/plain", 200},
		{"/readyz", "text/plain", 200},
		{"/api/v2/nothing", "application/json", 404},
	} {
		a := serve(t, s, "GET", "http://127.0.0.1:8687"+c.path, "", "")
		if a.Status != c.status || !strings.HasPrefix(a.Header.Get("Content-Type"), c.ct) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, a.Status, a.Header.Get("Content-Type"), c.status, c.ct)
		}
	}
	if a := serve(t, s, "GET", "http://127.0.0.1:8687/ui/render.css", "", ""); !strings.Contains(a.Raw, ".gc-") {
		t.Errorf("render.css holds no gc- rules")
	}
	// Mounted under a prefix, as the relay demo does.
	mux := http.NewServeMux()
	mux.Handle("/emulator/", http.StripPrefix("/emulator", s))
	if a := serve(t, mux, "GET", "http://127.0.0.1:8686/emulator/", "", ""); a.Status != 200 || !strings.Contains(a.Raw, "ui/app.js") {
		t.Errorf("page under /emulator/: %d", a.Status)
	}
	if a := serve(t, mux, "GET", "http://127.0.0.1:8686/emulator/api/v1/spaces", "", ""); a.Status != 200 {
		t.Errorf("api under /emulator/: %d", a.Status)
	}
	mux2 := http.NewServeMux()
	mux2.Handle("/emulator/", http.StripPrefix("/emulator/", s))
	if a := serve(t, mux2, "GET", "http://127.0.0.1:8686/emulator/api/v1/spaces", "", ""); a.Status != 200 {
		t.Errorf("api under StripPrefix(\"/emulator/\"): %d", a.Status)
	}
}

func TestRetention(t *testing.T) {
	set := noQuota()
	s := emulator.NewServer(emulator.Config{Settings: &set, MaxMessages: 5, MaxRequests: 3}, nil)
	defer s.Close()
	sp, _ := s.CreateSpace(emulator.SpaceSpec{DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
	hook := sp.Webhooks[0].URL
	first := serve(t, s, "POST", hook+fallback+"&requestId=r0", "", textKey("m0", "old"))
	for i := 1; i < 8; i++ {
		serve(t, s, "POST", hook, "", text("m"+string(rune('0'+i))))
	}
	ms := s.Messages(sp.ID, emulator.MessageFilter{})
	if len(ms) != 5 || ms[0].Message.Text != "m3" || ms[4].Message.Text != "m7" {
		t.Fatalf("kept %d messages, first %q", len(ms), ms[0].Message.Text)
	}
	if got, _ := s.Space(sp.ID); got.MessageCount != 5 {
		t.Errorf("messageCount %d", got.MessageCount)
	}
	if rs, _ := s.Requests(sp.ID); len(rs) != 3 {
		t.Errorf("kept %d request records, want 3", len(rs))
	}
	// The dropped message's thread, key and requestId are forgotten with it.
	ts, _ := s.Threads(sp.ID)
	for _, th := range ts {
		if th.Name == first.str("thread.name") {
			t.Errorf("thread of a dropped message kept: %+v", th)
		}
	}
	again := serve(t, s, "POST", hook+"&requestId=r0", "", text("m0 again"))
	if again.str("name") == first.str("name") {
		t.Errorf("requestId of a dropped message still answered")
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, noQuota())
	srv := newLoopback(t, e.s)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			for {
				line, rest, ok := strings.Cut(b.String(), "\n")
				if !ok {
					break
				}
				lines <- line
				b.Reset()
				b.WriteString(rest)
			}
			if err != nil {
				return
			}
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		for line := range lines {
			if strings.HasPrefix(line, prefix) {
				return line
			}
		}
		t.Fatalf("stream ended before %q", prefix)
		return ""
	}
	next(": connected")
	if a := e.post(srv.URL+strings.TrimPrefix(e.h1.URL, emulator.DefaultBaseURL), "", text("live")); a.Status != 200 {
		t.Fatalf("post %d", a.Status)
	}
	if got := next("event: "); got != "event: message" {
		t.Errorf("event %q", got)
	}
	if data := next("data: "); !strings.Contains(data, `"live"`) || !strings.Contains(data, `"html"`) {
		t.Errorf("data %s", data)
	}
	e.s.ClearMessages()
	if got := next("event: "); got != "event: reset" {
		t.Errorf("event %q", got)
	}
	e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "New"})
	if got := next("event: "); got != "event: space" {
		t.Errorf("event %q", got)
	}
	e.s.Close()
	for range lines { // Close ends the stream
	}
}

func TestLogsNoToken(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	set := noQuota()
	s := emulator.NewServer(emulator.Config{Settings: &set}, log)
	sp, _ := s.CreateSpace(emulator.SpaceSpec{DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "bot", Token: "sekret-token-value"}}})
	serve(t, s, "POST", sp.Webhooks[0].URL, "", text("hi"))
	serve(t, s, "POST", strings.Replace(sp.Webhooks[0].URL, "sekret", "wrong", 1), "", text("hi"))
	s.DeleteWebhook(sp.ID, sp.Webhooks[0].ID)
	if strings.Contains(buf.String(), "sekret") || strings.Contains(buf.String(), emulator.FakeKey) {
		t.Errorf("a log holds a credential:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "msg=webhook_request") || !strings.Contains(buf.String(), "webhook="+sp.Webhooks[0].ID) {
		t.Errorf("no webhook_request record with the webhook id:\n%s", buf.String())
	}
}

func TestEventsHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := emulator.NewServer(emulator.Config{}, nil)
		defer s.Close()
		ctx, cancel := context.WithCancel(t.Context())
		r := httptest.NewRequestWithContext(ctx, "GET", emulator.DefaultBaseURL+"/api/v1/events", nil)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			s.ServeHTTP(w, r)
			close(done)
		}()
		time.Sleep(31 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		if n := strings.Count(w.Body.String(), ": heartbeat\n\n"); n != 2 {
			t.Errorf("%d heartbeats in 31s, want 2:\n%s", n, w.Body)
		}
	})
}
