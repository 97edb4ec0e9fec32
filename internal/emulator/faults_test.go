package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// faultEnv is an env whose fault draws return the values of rand in turn.
func faultEnv(t testing.TB, fc emulator.FaultConfig, rand ...float64) *env {
	t.Helper()
	set := noQuota()
	var mu sync.Mutex
	c := newClock()
	s := emulator.NewServer(emulator.Config{Settings: &set, Now: c.Now, Faults: fc, Rand: func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if len(rand) == 0 {
			t.Error("fault drawn with no value left")
			return 1
		}
		v := rand[0]
		rand = rand[1:]
		return v
	}}, nil)
	t.Cleanup(func() { s.Close() })
	sp, err := s.CreateSpace(emulator.SpaceSpec{ID: "AAAAspace01", DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "a"}, {Name: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, clock: c, space: sp, h1: sp.Webhooks[0], h2: sp.Webhooks[1]}
}

func TestFaultAnswers(t *testing.T) {
	all := emulator.Faults{Reset: 0.1, Hang: 0.1, Rate429: 0.1, Rate500: 0.1, Rate503: 0.1}
	for _, c := range []struct {
		name      string
		faults    emulator.Faults
		draw      float64
		status    int
		errStatus string
		message   string
		fault     string
	}{
		{"429", emulator.Faults{Rate429: 1}, 0.5, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", "429"},
		{"500", emulator.Faults{Rate500: 1}, 0.5, 500, "INTERNAL", "Internal error encountered.", "500"},
		{"503", emulator.Faults{Rate503: 1}, 0.5, 503, "UNAVAILABLE", "The service is currently unavailable.", "503"},
		{"bands: 0.25 is 429", all, 0.25, 429, "RESOURCE_EXHAUSTED", "", "429"},
		{"bands: 0.35 is 500", all, 0.35, 500, "INTERNAL", "", "500"},
		{"bands: 0.45 is 503", all, 0.45, 503, "UNAVAILABLE", "", "503"},
		{"bands: 0.55 is none", all, 0.55, 200, "", "", ""},
		{"share 0.3 of 503: draw 0.3 passes", emulator.Faults{Rate503: 0.3}, 0.3, 200, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := faultEnv(t, emulator.FaultConfig{Global: c.faults}, c.draw)
			a := e.post(e.h1.URL, "", text("x"))
			if a.Status != c.status || a.errStatus() != c.errStatus || c.message != "" && a.str("error.message") != c.message {
				t.Errorf("got %d %s", a.Status, a.Raw)
			}
			rs, _ := e.s.Requests(e.space.ID)
			if len(rs) != 1 || rs[0].Fault != c.fault || rs[0].Status != c.status {
				t.Errorf("records %+v", rs)
			}
			wantMsgs := 0
			if c.status == 200 {
				wantMsgs = 1
			}
			if n := len(e.s.Messages(e.space.ID, emulator.MessageFilter{})); n != wantMsgs {
				t.Errorf("%d messages stored, want %d", n, wantMsgs)
			}
		})
	}
}

func TestFaultOrder(t *testing.T) {
	t.Run("no draw when every rate is zero", func(t *testing.T) {
		e := faultEnv(t, emulator.FaultConfig{Global: emulator.Faults{Latency: 0}})
		if a := e.post(e.h1.URL, "", text("x")); a.Status != 200 {
			t.Errorf("got %d", a.Status)
		}
	})
	t.Run("authentication before faults", func(t *testing.T) {
		e := faultEnv(t, emulator.FaultConfig{Global: emulator.Faults{Rate503: 1}})
		i := strings.Index(e.h1.URL, "&token=")
		if a := e.post(e.h1.URL[:i]+"&token=bad", "", text("x")); a.Status != 403 {
			t.Errorf("got %d, want the 403 of authentication", a.Status)
		}
	})
	t.Run("quota before faults; a faulted request consumes quota", func(t *testing.T) {
		e := faultEnv(t, emulator.FaultConfig{Global: emulator.Faults{Rate503: 1}}, 0.5)
		e.s.SetSettings(emulator.DefaultSettings())
		if a := e.post(e.h1.URL, "", text("x")); a.Status != 503 {
			t.Errorf("first: %d, want 503", a.Status)
		}
		if a := e.post(e.h1.URL, "", text("x")); a.Status != 429 {
			t.Errorf("second: %d, want 429 (no draw)", a.Status)
		}
	})
	t.Run("a space's faults replace the global ones", func(t *testing.T) {
		e := faultEnv(t, emulator.FaultConfig{
			Global: emulator.Faults{Rate503: 1},
			Spaces: map[string]emulator.Faults{"AAAAspace01": {}},
		}, 0.5)
		if a := e.post(e.h1.URL, "", text("x")); a.Status != 200 {
			t.Errorf("space with no faults under global 503s: %d", a.Status)
		}
		other, _ := e.s.CreateSpace(emulator.SpaceSpec{DisplayName: "o", Webhooks: []emulator.WebhookSpec{{Name: "b"}}})
		if a := e.post(other.Webhooks[0].URL, "", text("x")); a.Status != 503 {
			t.Errorf("other space: %d, want the global 503", a.Status)
		}
	})
}

func TestFaultLatencyAndInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := noQuota()
		s := emulator.NewServer(emulator.Config{Settings: &set, Faults: emulator.FaultConfig{Global: emulator.Faults{Latency: 2 * time.Second}}}, nil)
		defer s.Close()
		sp, _ := s.CreateSpace(emulator.SpaceSpec{DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "a"}, {Name: "b"}}})
		start := time.Now()
		var wg sync.WaitGroup
		for _, h := range sp.Webhooks {
			wg.Go(func() {
				if a := serve(t, s, "POST", h.URL, "", text("slow")); a.Status != 200 {
					t.Errorf("got %d", a.Status)
				}
			})
		}
		wg.Wait()
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("took %v, want the 2s latency once (in parallel)", d)
		}
		rs, _ := s.Requests(sp.ID)
		if len(rs) != 2 {
			t.Fatalf("%d records", len(rs))
		}
		for _, r := range rs {
			if !r.Start.Equal(start) || r.Duration != 2*time.Second || r.Fault != "latency" || r.Status != 200 {
				t.Errorf("record %+v", r)
			}
		}
		// Both were in flight at once: each started before the other ended.
		if !rs[0].Start.Before(rs[1].Start.Add(rs[1].Duration)) || !rs[1].Start.Before(rs[0].Start.Add(rs[0].Duration)) {
			t.Errorf("records do not overlap: %+v", rs)
		}
	})
}

func TestFaultHang(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := noQuota()
		s := emulator.NewServer(emulator.Config{Settings: &set, Faults: emulator.FaultConfig{Global: emulator.Faults{Hang: 1}}, Rand: func() float64 { return 0 }}, nil)
		sp, _ := s.CreateSpace(emulator.SpaceSpec{DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "a"}}})

		// Held until the client goes away.
		ctx, cancel := context.WithCancel(t.Context())
		r := httptest.NewRequestWithContext(ctx, "POST", sp.Webhooks[0].URL, strings.NewReader(text("x")))
		done := make(chan struct{})
		go func() {
			s.ServeHTTP(httptest.NewRecorder(), r)
			close(done)
		}()
		time.Sleep(time.Hour)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("hang answered")
		default:
		}
		cancel()
		<-done
		rs, _ := s.Requests(sp.ID)
		if len(rs) != 1 || rs[0].Fault != "hang" || rs[0].Status != 0 || rs[0].Duration != time.Hour {
			t.Errorf("records %+v", rs)
		}

		// Held until the server closes, then the connection is aborted.
		r = httptest.NewRequest("POST", sp.Webhooks[0].URL, strings.NewReader(text("x")))
		aborted := make(chan any)
		go func() {
			defer func() { aborted <- recover() }()
			s.ServeHTTP(httptest.NewRecorder(), r)
		}()
		synctest.Wait()
		s.Close()
		if v := <-aborted; v != http.ErrAbortHandler {
			t.Errorf("after Close: recovered %v, want http.ErrAbortHandler", v)
		}
		if st := s.Stats(); st.ByStatus[0] != 2 {
			t.Errorf("stats %+v: want 2 requests without an answer", st)
		}
	})
}

func TestFaultReset(t *testing.T) {
	e := faultEnv(t, emulator.FaultConfig{Global: emulator.Faults{Reset: 1}}, 0, 0)
	srv := newLoopback(t, e.s)
	url := srv.URL + strings.TrimPrefix(e.h1.URL, emulator.DefaultBaseURL)
	resp, err := srv.Client().Post(url, "application/json", strings.NewReader(text("x")))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d, want a reset connection", resp.StatusCode)
	}
	rs, _ := e.s.Requests(e.space.ID)
	if len(rs) != 1 || rs[0].Fault != "reset" || rs[0].Status != 0 {
		t.Errorf("records %+v", rs)
	}
	// Without a connection to hijack (a recorder, HTTP/2), the handler aborts.
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		e.post(e.h1.URL, "", text("x"))
	}()
}

// TestFaultLost: the message is posted, then the connection is reset before
// the answer, so the client cannot tell; its retry with the same requestId
// finds the first message when the emulator honours requestId.
func TestFaultLost(t *testing.T) {
	e := faultEnv(t, emulator.FaultConfig{Global: emulator.Faults{Lost: 0.5}}, 0.2, 0.7)
	srv := newLoopback(t, e.s)
	url := srv.URL + strings.TrimPrefix(e.h1.URL, emulator.DefaultBaseURL) + "&requestId=r-1"
	resp, err := srv.Client().Post(url, "application/json", strings.NewReader(text("x")))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d, want a reset connection", resp.StatusCode)
	}
	msgs := e.s.Messages(e.space.ID, emulator.MessageFilter{})
	if len(msgs) != 1 {
		t.Fatalf("%d messages after a lost answer, want the one posted", len(msgs))
	}
	// The retry (the draw 0.7 is past the lost band): the same message.
	resp, err = srv.Client().Post(url, "application/json", strings.NewReader(text("x")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	again := e.s.Messages(e.space.ID, emulator.MessageFilter{})
	if resp.StatusCode != http.StatusOK || len(again) != 1 {
		t.Errorf("retry: status %d, %d messages; want 200 and still one", resp.StatusCode, len(again))
	}
	rs, _ := e.s.Requests(e.space.ID)
	if len(rs) != 2 || rs[0].Fault != "lost" || rs[0].Status != 0 || rs[1].Fault != "" || rs[1].Status != http.StatusOK {
		t.Errorf("records %+v, want a lost request then an answered one", rs)
	}
}

func TestQuotaSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := emulator.NewServer(emulator.Config{}, nil) // Google's quotas, real (bubble) clock
		defer s.Close()
		sp, _ := s.CreateSpace(emulator.SpaceSpec{DisplayName: "x", Webhooks: []emulator.WebhookSpec{{Name: "a"}, {Name: "b"}}})
		post := func(h emulator.Webhook) int { return serve(t, s, "POST", h.URL, "", text("x")).Status }
		if got := post(sp.Webhooks[0]); got != 200 {
			t.Fatalf("first: %d", got)
		}
		if got := post(sp.Webhooks[1]); got != 429 {
			t.Errorf("second webhook at once: %d, want 429", got)
		}
		time.Sleep(999 * time.Millisecond)
		if got := post(sp.Webhooks[0]); got != 429 {
			t.Errorf("after 999ms: %d, want 429", got)
		}
		time.Sleep(time.Millisecond)
		if got := post(sp.Webhooks[1]); got != 200 {
			t.Errorf("after 1s: %d, want 200", got)
		}
		// A client paced at 1 per second never meets the minute quota.
		for i := range 120 {
			time.Sleep(time.Second)
			if got := post(sp.Webhooks[i%2]); got != 200 {
				t.Fatalf("paced request %d: %d", i, got)
			}
		}

		// Scaled: 10 per second, 60 per minute: the 61st within the minute is refused.
		set := emulator.DefaultSettings()
		set.QuotaPerSecond = 10
		s.SetSettings(set)
		time.Sleep(time.Minute)
		start := time.Now()
		for i := range 60 {
			if got := post(sp.Webhooks[0]); got != 200 {
				t.Fatalf("request %d: %d", i, got)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got := post(sp.Webhooks[0]); got != 429 {
			t.Errorf("61st after %v: %d, want 429", time.Since(start), got)
		}
		time.Sleep(start.Add(time.Minute).Sub(time.Now()) + time.Millisecond)
		if got := post(sp.Webhooks[0]); got != 200 {
			t.Errorf("after the first left the window: %d", got)
		}
	})
}

// TestConcurrentPosts runs posts from several goroutines into shared
// threads while the API reads, for the race detector, and checks that every
// thread starts with its first message.
func TestConcurrentPosts(t *testing.T) {
	e := newEnv(t, noQuota())
	sub := e.s // a subscriber makes every post publish an event
	srv := newLoopback(t, sub)
	resp, err := srv.Client().Get(srv.URL + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		hook := e.h1.URL
		if w%2 == 1 {
			hook = e.h2.URL
		}
		wg.Go(func() {
			for i := range each {
				body := textKey(fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("k%d", i%4))
				if a := e.post(hook, fallback, body); a.Status != 200 {
					t.Errorf("post: %d %s", a.Status, a.Raw)
					return
				}
			}
		})
		wg.Go(func() {
			for range each {
				e.s.Messages(e.space.ID, emulator.MessageFilter{Limit: 10})
				e.s.Threads(e.space.ID)
				e.s.Stats()
				e.s.Spaces()
			}
		})
	}
	wg.Wait()
	ms := e.s.Messages(e.space.ID, emulator.MessageFilter{})
	if len(ms) != workers*each {
		t.Fatalf("%d messages, want %d", len(ms), workers*each)
	}
	ts, _ := e.s.Threads(e.space.ID)
	if len(ts) != 8 { // 4 keys × 2 webhooks
		t.Errorf("%d threads, want 8", len(ts))
	}
	seen := map[string]bool{}
	for _, m := range ms {
		id, th, _ := strings.Cut(m.Name[strings.LastIndexByte(m.Name, '/')+1:], ".")
		first := !seen[th]
		seen[th] = true
		if first != (id == th) || first == m.ThreadReply {
			t.Errorf("%s: first in its thread %v, threadReply %v", m.Name, first, m.ThreadReply)
		}
	}
}
