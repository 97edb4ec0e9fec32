package gchat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestNoSecretInErrorsOrLogs sends through every failure path with a canary
// token in the URL and checks that no error text and no log record holds it.
func TestNoSecretInErrorsOrLogs(t *testing.T) {
	// A server that echoes the request URL in its error, as some proxies do.
	stop := make(chan struct{})
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Query().Get("requestId") {
		case "bad":
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"code":400,"message":"bad request to %s","status":"INVALID_ARGUMENT"}}`, r.URL)
		case "busy":
			w.WriteHeader(503)
			fmt.Fprintf(w, "<html>upstream %s unavailable</html>", r.URL.RawQuery)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}
	}))
	defer echo.Close()
	defer close(stop)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close() // nothing listens there now: connection refused

	const query = "?key=AIzaSyTESTKEY&token=CANARYtoken%3D"
	for _, tc := range []struct {
		name, base, requestID string
		msg                   *Message
	}{
		{"api error echoing the URL", echo.URL, "bad", &Message{Text: "x"}},
		{"5xx body echoing the query", echo.URL, "busy", &Message{Text: "x"}},
		{"timeout", echo.URL, "hang", &Message{Text: "x"}},
		{"connection refused", "http://" + deadAddr, "r", &Message{Text: "x"}},
		{"invalid message", echo.URL, "r", &Message{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := &Client{
				Timeout: 200 * time.Millisecond,
				Retry:   RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond},
				Pace:    -1,
				Logger:  slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			hook := mustHook(t, tc.base+"/v1/spaces/AAAAtest123/messages"+query)
			_, err := c.Send(t.Context(), hook, tc.msg, WithRequestID(tc.requestID))
			if err == nil {
				t.Fatal("no error")
			}
			assertNoSecret(t, "error", err.Error())
			assertNoSecret(t, "error %+v", fmt.Sprintf("%+v", err))
			assertNoSecret(t, "log", logs.String())
			var ae *APIError
			if errors.As(err, &ae) {
				assertNoSecret(t, "APIError.Body", string(ae.Body))
				assertNoSecret(t, "APIError.Message", ae.Message)
			}
			func() { // a program that panics with the error shows only its text
				defer func() { assertNoSecret(t, "panic", fmt.Sprint(recover())) }()
				panic(err)
			}()
			if tc.name == "connection refused" && !strings.Contains(err.Error(), "REDACTED") {
				t.Errorf("transport error %q does not show the masked URL", err)
			}
		})
	}
}
