package gchat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// benchServer answers every POST as Google does for a webhook.
func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		fmt.Fprint(w, `{"name":"spaces/S/messages/M.T","thread":{"name":"spaces/S/threads/T"}}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

const benchQuery = "/v1/spaces/S/messages?key=AIzaSyKEY&token=TOKEN"

// BenchmarkSend measures Client.Send (check, encode, one request, answer
// decoded) against the same server as BenchmarkHandWrittenPost.
func BenchmarkSend(b *testing.B) {
	srv := benchServer(b)
	hook := mustHook(b, srv.URL+benchQuery)
	c := &Client{Pace: -1, HTTPClient: srv.Client()}
	msg := &Message{Text: "Disk *full* on db-1", Thread: &Thread{ThreadKey: "incident-42"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(b.Context(), hook, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandWrittenPost is the baseline: the minimal net/http and
// encoding/json code a program would write to post the same message.
func BenchmarkHandWrittenPost(b *testing.B) { handWrittenPost(b, false) }

// BenchmarkHandWrittenPostWithTimeout is the baseline with a per-request
// timeout, as Client.Send has: the cost of a context with a deadline.
func BenchmarkHandWrittenPostWithTimeout(b *testing.B) { handWrittenPost(b, true) }

func handWrittenPost(b *testing.B, timeout bool) {
	srv := benchServer(b)
	url := srv.URL + benchQuery + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
	client := srv.Client()
	type thread struct {
		Name      string `json:"name,omitempty"`
		ThreadKey string `json:"threadKey,omitempty"`
	}
	type message struct {
		Text   string  `json:"text"`
		Thread *thread `json:"thread,omitempty"`
	}
	msg := &message{Text: "Disk *full* on db-1", Thread: &thread{ThreadKey: "incident-42"}}
	b.ReportAllocs()
	for b.Loop() {
		body, err := json.Marshal(msg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := b.Context(), context.CancelFunc(func() {})
		if timeout {
			ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out message
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		cancel()
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(resp.Status, err)
		}
	}
}

// cannedAnswer is an in-memory transport answering as Google does: with it,
// the Overhead benchmarks measure the client's own work without the noise of
// a loopback server sharing the machine's two cores.
type cannedAnswer struct{}

func (cannedAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"name":"spaces/S/messages/M.T","thread":{"name":"spaces/S/threads/T"}}`))}, nil
}

// BenchmarkOverheadSend is BenchmarkSend over an in-memory transport.
func BenchmarkOverheadSend(b *testing.B) {
	hook := mustHook(b, "http://x.test"+benchQuery)
	c := &Client{Pace: -1, HTTPClient: &http.Client{Transport: cannedAnswer{}}}
	msg := &Message{Text: "Disk *full* on db-1", Thread: &Thread{ThreadKey: "incident-42"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Send(b.Context(), hook, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOverheadHandWritten is BenchmarkHandWrittenPost over an in-memory transport.
func BenchmarkOverheadHandWritten(b *testing.B) {
	client := &http.Client{Transport: cannedAnswer{}}
	type thread struct {
		Name      string `json:"name,omitempty"`
		ThreadKey string `json:"threadKey,omitempty"`
	}
	type message struct {
		Text   string  `json:"text"`
		Thread *thread `json:"thread,omitempty"`
	}
	msg := &message{Text: "Disk *full* on db-1", Thread: &thread{ThreadKey: "incident-42"}}
	b.ReportAllocs()
	for b.Loop() {
		body, _ := json.Marshal(msg)
		resp, err := client.Post("http://x.test"+benchQuery+"&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", "application/json; charset=UTF-8", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var out message
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
