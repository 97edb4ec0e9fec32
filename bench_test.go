package gchat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
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
func BenchmarkHandWrittenPost(b *testing.B) {
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
		resp, err := client.Post(url, "application/json; charset=UTF-8", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var out message
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(resp.Status, err)
		}
	}
}
