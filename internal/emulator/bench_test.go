package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/emulator"
)

// benchBody is a small text message, as a monitoring tool sends.
var benchBody = []byte(`{"text":"Deploy *succeeded* for ` + "`api`" + ` <https://ci.example.com/42|build 42>"}`)

// benchPosts posts benchBody to url from parallel goroutines over loopback
// with one reused client, and reports posts per second.
func benchPosts(b *testing.B, srv *httptest.Server, url string) {
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256 // no connection churn
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json; charset=UTF-8", bytes.NewReader(benchBody))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkWebhookPost is the emulator's webhook endpoint with quotas off:
// parse, check, render, thread, store (retention at the default 10,000), echo.
func BenchmarkWebhookPost(b *testing.B) {
	set := noQuota()
	s := emulator.NewServer(emulator.Config{Settings: &set}, nil)
	sp, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "bench", Webhooks: []emulator.WebhookSpec{{Name: "bot"}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := newLoopback(b, s)
	benchPosts(b, srv, srv.URL+strings.TrimPrefix(sp.Webhooks[0].URL, emulator.DefaultBaseURL))
}

// BenchmarkFloorHandler is the floor for BenchmarkWebhookPost: a minimal
// net/http handler that decodes the JSON body and answers a small JSON, with
// the same client and body.
func BenchmarkFloorHandler(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		io.WriteString(w, `{"name":"spaces/S/messages/M.M","thread":{"name":"spaces/S/threads/M"}}`)
	}))
	defer srv.Close()
	benchPosts(b, srv, srv.URL+"/v1/spaces/S/messages?key=k&token=t")
}

// BenchmarkRetained100k reports the heap held by 100,000 retained messages
// of a typical size: an alert of about 250 bytes of text in a thread of five.
func BenchmarkRetained100k(b *testing.B) {
	const n = 100_000
	alert := strings.Repeat("x", 120)
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()

		set := noQuota()
		s := emulator.NewServer(emulator.Config{Settings: &set, MaxMessages: n, MaxRequests: 1}, nil)
		sp, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "bench", Webhooks: []emulator.WebhookSpec{{Name: "Alertmanager"}}})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			body := textKey(fmt.Sprintf("*[FIRING:1] HighLatency* api-%d\nlatency p99 above 2s for 5m on `api-%d` in eu-west-1 %s <https://grafana.example.com/d/abc?var=%d|dashboard>", i, i, alert, i),
				fmt.Sprintf("alert-%d", i/5))
			if a := serve(b, s, "POST", sp.Webhooks[0].URL+fallback, "application/json", body); a.Status != 200 {
				b.Fatalf("post %d: %d %s", i, a.Status, a.Raw)
			}
		}

		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := len(s.Messages(sp.ID, emulator.MessageFilter{})); got != n {
			b.Fatalf("%d messages retained", got)
		}
		delta := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(delta/(1<<20), "MiB/100k")
		b.ReportMetric(delta/n, "B/msg")
		runtime.KeepAlive(s)
		b.StartTimer()
	}
}

// alertBody is the body of BenchmarkRetained100k's i-th alert.
func alertBody(i int) string {
	return textKey(fmt.Sprintf("*[FIRING:1] HighLatency* api-%d\nlatency p99 above 2s for 5m on `api-%d` in eu-west-1 %s <https://grafana.example.com/d/abc?var=%d|dashboard>", i, i, strings.Repeat("x", 120), i),
		fmt.Sprintf("alert-%d", i/5))
}

// BenchmarkRequestRecords10k reports the heap held by a space's request
// records at the default retention of 10,000, each with the request and
// answer its request view shows.
func BenchmarkRequestRecords10k(b *testing.B) {
	const n = emulator.DefaultMaxRequests
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()

		set := noQuota()
		s := emulator.NewServer(emulator.Config{Settings: &set, MaxMessages: 1}, nil)
		sp, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "bench", Webhooks: []emulator.WebhookSpec{{Name: "Alertmanager"}}})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if a := serve(b, s, "POST", sp.Webhooks[0].URL+fallback, "application/json", alertBody(i)); a.Status != 200 {
				b.Fatalf("post %d: %d %s", i, a.Status, a.Raw)
			}
		}

		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if rs, _ := s.Requests(sp.ID); len(rs) != n {
			b.Fatalf("%d records", len(rs))
		}
		delta := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(delta/(1<<20), "MiB/10k")
		b.ReportMetric(delta/n, "B/record")
		runtime.KeepAlive(s)
		b.StartTimer()
	}
}

// BenchmarkSearch10k is one search across a space at the default retention
// of 10,000 messages, matching one.
func BenchmarkSearch10k(b *testing.B) {
	const n = emulator.DefaultMaxMessages
	set := noQuota()
	s := emulator.NewServer(emulator.Config{Settings: &set, MaxRequests: 1}, nil)
	sp, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "bench", Webhooks: []emulator.WebhookSpec{{Name: "Alertmanager"}}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		serve(b, s, "POST", sp.Webhooks[0].URL+fallback, "application/json", alertBody(i))
	}
	for b.Loop() {
		ms, err := s.Search(emulator.SearchFilter{Query: "HighLatency* API-4242"})
		if err != nil || len(ms) != 1 {
			b.Fatalf("got %d, %v", len(ms), err)
		}
	}
}
