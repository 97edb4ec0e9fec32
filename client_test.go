package gchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

const testHookURL = "https://chat.googleapis.com/v1/spaces/AAAAtest123/messages?key=AIzaSyTESTKEY&token=CANARYtoken%3D"

// call is one request seen by fakeTransport.
type call struct {
	at    time.Time
	query url.Values
	body  map[string]any
}

// fakeTransport answers in memory, so that tests run inside a synctest bubble.
// answer gets the 0-based attempt number.
type fakeTransport struct {
	mu     sync.Mutex
	calls  []call
	answer func(n int, req *http.Request) (*http.Response, error)
}

func (f *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	data, _ := io.ReadAll(req.Body)
	var body map[string]any
	_ = json.Unmarshal(data, &body)
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, call{at: time.Now(), query: req.URL.Query(), body: body})
	f.mu.Unlock()
	if f.answer == nil {
		return answer(200, `{"name":"spaces/AAAAtest123/messages/m.t","thread":{"name":"spaces/AAAAtest123/threads/t"}}`, nil), nil
	}
	return f.answer(n, req)
}

func (f *fakeTransport) seen() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func answer(status int, body string, header http.Header) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json; charset=UTF-8")
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body))}
}

// googleError is Google's error envelope (docs/google-chat.md §6).
func googleError(code int, status, msg string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q}}`, code, msg, status)
}

func testClient(ft *fakeTransport, policy RetryPolicy) *Client {
	if policy.jitter == nil {
		policy.jitter = func() float64 { return 1 } // the ceiling of full jitter: deterministic
	}
	return &Client{HTTPClient: &http.Client{Transport: ft}, Retry: policy, Pace: -1}
}

func mustHook(tb testing.TB, s string) *Webhook {
	tb.Helper()
	h, err := ParseWebhook(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestSendRetryTable(t *testing.T) {
	for _, row := range loadRetryTable(t) {
		t.Run(fmt.Sprint(row.Status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := &fakeTransport{answer: func(n int, _ *http.Request) (*http.Response, error) {
					if n == 0 {
						return answer(row.Status, googleError(row.Status, "SOME_STATUS", "first answer"), nil), nil
					}
					return answer(200, `{"name":"spaces/S/messages/M"}`, nil), nil
				}}
				c := testClient(ft, RetryPolicy{MaxAttempts: 3})
				resp, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: "hi"})
				attempts := len(ft.seen())
				switch row.Decision {
				case "done":
					if err != nil || attempts != 1 {
						t.Fatalf("got err %v after %d attempts, want success after 1", err, attempts)
					}
				case "retry":
					if err != nil || attempts != 2 || resp.Name != "spaces/S/messages/M" {
						t.Fatalf("got %+v, %v after %d attempts, want success after 2", resp, err, attempts)
					}
				case "final":
					var ae *APIError
					if !errors.As(err, &ae) || ae.StatusCode != row.Status || attempts != 1 {
						t.Fatalf("got err %v after %d attempts, want APIError %d after 1", err, attempts, row.Status)
					}
					if Retryable(err) {
						t.Errorf("Retryable(%v) = true, want false", err)
					}
				}
			})
		})
	}
}

func TestSendRetriesTransportErrorsAndTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{answer: func(n int, req *http.Request) (*http.Response, error) {
			switch n {
			case 0:
				return nil, errors.New("connection reset by peer")
			case 1: // hang past the per-attempt timeout
				<-req.Context().Done()
				return nil, req.Context().Err()
			}
			return answer(200, `{"name":"spaces/S/messages/M"}`, nil), nil
		}}
		c := testClient(ft, RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second})
		c.Timeout = 10 * time.Second
		start := time.Now()
		if _, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		calls := ft.seen()
		if len(calls) != 3 {
			t.Fatalf("got %d attempts, want 3", len(calls))
		}
		// attempt 2 starts after 1 s of backoff; attempt 3 after its 10 s timeout and 2 s backoff.
		want := []time.Duration{0, time.Second, 13 * time.Second}
		for i, c := range calls {
			if got := c.at.Sub(start); got != want[i] {
				t.Errorf("attempt %d at %v, want %v", i+1, got, want[i])
			}
		}
	})
}

func TestBackoffExponentialFullJitter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jitter float64
		want   []time.Duration // gaps between attempts
	}{
		{"ceiling", 1, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"half", 0.5, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2500 * time.Millisecond, 2500 * time.Millisecond}},
		{"zero", 0, []time.Duration{0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := &fakeTransport{answer: func(int, *http.Request) (*http.Response, error) {
					return answer(503, googleError(503, "UNAVAILABLE", "The service is currently unavailable."), nil), nil
				}}
				c := testClient(ft, RetryPolicy{MaxAttempts: 6, BaseDelay: time.Second, MaxDelay: 5 * time.Second,
					jitter: func() float64 { return tc.jitter }})
				_, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: "hi"})
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != "UNAVAILABLE" || !strings.Contains(err.Error(), "gave up after 6 attempts") {
					t.Fatalf("got %v, want UNAVAILABLE after 6 attempts", err)
				}
				calls := ft.seen()
				var gaps []time.Duration
				for i := 1; i < len(calls); i++ {
					gaps = append(gaps, calls[i].at.Sub(calls[i-1].at))
				}
				if diff := cmp.Diff(tc.want, gaps); diff != "" {
					t.Errorf("gaps between attempts (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		want   time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"capped", "3600", 20 * time.Second},
		{"http date", "", 0}, // filled below: a date 9 s ahead
		{"malformed falls back to backoff", "soon", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				header, want := tc.header, tc.want
				if tc.name == "http date" {
					header, want = time.Now().Add(9*time.Second).UTC().Format(http.TimeFormat), 9*time.Second
				}
				ft := &fakeTransport{answer: func(n int, _ *http.Request) (*http.Response, error) {
					if n == 0 {
						return answer(429, googleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted"), http.Header{"Retry-After": {header}}), nil
					}
					return answer(200, `{}`, nil), nil
				}}
				c := testClient(ft, RetryPolicy{BaseDelay: time.Second, MaxRetryAfter: 20 * time.Second})
				if _, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: "hi"}); err != nil {
					t.Fatal(err)
				}
				calls := ft.seen()
				if got := calls[1].at.Sub(calls[0].at); got != want {
					t.Errorf("retry after %v, want %v", got, want)
				}
			})
		})
	}
}

func TestMaxElapsedStopsRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{answer: func(int, *http.Request) (*http.Response, error) {
			return answer(500, googleError(500, "INTERNAL", "Internal error encountered."), nil), nil
		}}
		// backoff 1, 2, 4, 8 s: the fourth retry would start at 15 s > 10 s.
		c := testClient(ft, RetryPolicy{MaxAttempts: 100, BaseDelay: time.Second, MaxElapsed: 10 * time.Second})
		start := time.Now()
		_, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: "hi"})
		if err == nil || !Retryable(err) {
			t.Fatalf("got %v, want a retryable error", err)
		}
		if n := len(ft.seen()); n != 4 {
			t.Errorf("got %d attempts, want 4", n)
		}
		if d := time.Since(start); d != 7*time.Second {
			t.Errorf("gave up after %v, want 7s", d)
		}
	})
}

func TestCancelStopsRetryingAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{answer: func(int, *http.Request) (*http.Response, error) {
			return answer(503, googleError(503, "UNAVAILABLE", "unavailable"), nil), nil
		}}
		c := testClient(ft, RetryPolicy{MaxAttempts: 10, BaseDelay: time.Minute, MaxDelay: time.Hour, MaxElapsed: -1})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(90*time.Second, cancel) // during the second backoff (60 s, then 120 s)
		start := time.Now()
		_, err := c.Send(ctx, mustHook(t, testHookURL), &Message{Text: "hi"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 90*time.Second {
			t.Errorf("returned after %v, want 90s (at the cancel)", d)
		}
		if Retryable(err) {
			t.Errorf("Retryable(%v) = true after cancel", err)
		}
	})
}

func TestRequestIDStableAcrossRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{answer: func(n int, _ *http.Request) (*http.Response, error) {
			if n%3 < 2 { // two failures, then success, for each send
				return answer(503, "", nil), nil
			}
			return answer(200, `{}`, nil), nil
		}}
		c := testClient(ft, RetryPolicy{BaseDelay: time.Millisecond})
		hook := mustHook(t, testHookURL)
		for range 2 {
			if _, err := c.Send(t.Context(), hook, &Message{Text: "hi"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.Send(t.Context(), hook, &Message{Text: "hi"}, WithRequestID("mine-1")); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range ft.seen() {
			ids = append(ids, c.query.Get("requestId"))
		}
		if ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] {
			t.Errorf("first send: request ids %q, want one id on all attempts", ids[:3])
		}
		if ids[3] != ids[4] || ids[4] != ids[5] || ids[3] == ids[0] {
			t.Errorf("second send: request ids %q, want one new id on all attempts", ids[3:6])
		}
		if diff := cmp.Diff([]string{"mine-1", "mine-1", "mine-1"}, ids[6:]); diff != "" {
			t.Errorf("given request id (-want +got):\n%s", diff)
		}
	})
}

func TestReplyOptionStates(t *testing.T) {
	key := &Thread{ThreadKey: "incident-42"}
	name := &Thread{Name: "spaces/AAAAtest123/threads/abc"}
	for _, tc := range []struct {
		name      string
		thread    *Thread
		opt       ReplyOption
		wantQuery string // messageReplyOption sent, "" for none
	}{
		{"unset without thread sends nothing", nil, ReplyUnset, ""},
		{"unset with key falls back", key, ReplyUnset, "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
		{"unset with name falls back", name, ReplyUnset, "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
		{"unset with empty thread sends nothing", &Thread{}, ReplyUnset, ""},
		{"explicit new thread is sent", key, ReplyNewThread, "MESSAGE_REPLY_OPTION_UNSPECIFIED"},
		{"explicit fallback", key, ReplyFallbackToNewThread, "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"},
		{"explicit or-fail", key, ReplyOrFail, "REPLY_MESSAGE_OR_FAIL"},
		{"or-fail without thread is still sent", nil, ReplyOrFail, "REPLY_MESSAGE_OR_FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTransport{}
			c := testClient(ft, RetryPolicy{MaxAttempts: 1})
			msg := &Message{Text: "hi", Thread: tc.thread}
			if _, err := c.Send(t.Context(), mustHook(t, testHookURL), msg, WithReply(tc.opt)); err != nil {
				t.Fatal(err)
			}
			got := ft.seen()[0]
			if q := got.query.Get("messageReplyOption"); q != tc.wantQuery {
				t.Errorf("messageReplyOption = %q, want %q", q, tc.wantQuery)
			}
			if got.query.Has("threadKey") {
				t.Errorf("deprecated threadKey query parameter sent: %v", got.query)
			}
			if tc.thread != nil && tc.thread.ThreadKey != "" {
				thread, _ := got.body["thread"].(map[string]any)
				if thread["threadKey"] != tc.thread.ThreadKey {
					t.Errorf("body thread = %v, want threadKey %q", got.body["thread"], tc.thread.ThreadKey)
				}
			}
		})
	}
}

func TestSendKeepsURLEncodingAndAddsParameters(t *testing.T) {
	var raw string
	ft := &fakeTransport{answer: func(_ int, req *http.Request) (*http.Response, error) {
		raw = req.URL.RawQuery
		if ct := req.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		return answer(200, `{"name":"spaces/AAAAtest123/messages/m1.t1","thread":{"name":"spaces/AAAAtest123/threads/t1"}}`, nil), nil
	}}
	c := testClient(ft, RetryPolicy{MaxAttempts: 1})
	resp, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: "hi"}, Options{MessageID: "client-abc-1", RequestID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "key=AIzaSyTESTKEY&token=CANARYtoken%3D&messageId=client-abc-1&requestId=r1"; raw != want {
		t.Errorf("query = %q, want %q", raw, want)
	}
	want := &Response{Name: "spaces/AAAAtest123/messages/m1.t1", Thread: Thread{Name: "spaces/AAAAtest123/threads/t1"}}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestSendRefusesInvalidMessagesBeforeSending(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  *Message
		opts Options
		want string
	}{
		{"empty", &Message{}, Options{}, "message is empty"},
		{"bad thread name", &Message{Text: "x", Thread: &Thread{Name: "threads/abc"}}, Options{}, "thread.name"},
		{"bad message id", &Message{Text: "x"}, Options{MessageID: "Client-ABC"}, "messageId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTransport{}
			_, err := testClient(ft, RetryPolicy{}).Send(t.Context(), mustHook(t, testHookURL), tc.msg, tc.opts)
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a ValidationError about %s", err, tc.want)
			}
			if n := len(ft.seen()); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

func TestCheckMessageID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"client-a", true},
		{"client-build-1234-deploy", true},
		{"client-" + strings.Repeat("a", 56), true}, // 63 characters
		{"client-" + strings.Repeat("a", 57), false},
		{"client-", false},
		{"abc", false},
		{"Client-abc", false},
		{"client-ABC", false},
		{"client-a_b", false},
		{"client-ä", false},
		{"", false},
	} {
		if err := CheckMessageID(tc.id); (err == nil) != tc.ok {
			t.Errorf("CheckMessageID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func TestPacingPerSpace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{}
		c := &Client{HTTPClient: &http.Client{Transport: ft}} // zero Pace: the default
		a1 := mustHook(t, testHookURL)
		a2 := mustHook(t, "https://chat.googleapis.com/v1/spaces/AAAAtest123/messages?key=k&token=other-webhook")
		b := mustHook(t, "https://chat.googleapis.com/v1/spaces/BBBBother/messages?key=k&token=t")
		start := time.Now()
		var wg sync.WaitGroup
		for _, h := range []*Webhook{a1, a2, a1, b, b} {
			wg.Go(func() {
				if _, err := c.Send(t.Context(), h, &Message{Text: "hi"}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		// Space AAAA got three requests from two webhooks: they share one pace.
		var aTimes, bTimes []time.Duration
		for _, call := range ft.seen() {
			if call.query.Get("token") == "t" {
				bTimes = append(bTimes, call.at.Sub(start))
			} else {
				aTimes = append(aTimes, call.at.Sub(start))
			}
		}
		if diff := cmp.Diff([]time.Duration{0, DefaultPace, 2 * DefaultPace}, aTimes); diff != "" {
			t.Errorf("space AAAA start times (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]time.Duration{0, DefaultPace}, bTimes); diff != "" {
			t.Errorf("space BBBB start times (-want +got):\n%s", diff)
		}
	})
}

func TestSendSplitsLongTextIntoOneThread(t *testing.T) {
	ft := &fakeTransport{}
	c := testClient(ft, RetryPolicy{MaxAttempts: 1})
	c.Limits = Limits{MaxText: 100}
	text := strings.Repeat("All work and no play makes Jack a dull boy. ", 6) // 264 characters
	resp, err := c.Send(t.Context(), mustHook(t, testHookURL), &Message{Text: text}, WithRequestID("r"), WithMessageID("client-long"))
	if err != nil {
		t.Fatal(err)
	}
	calls := ft.seen()
	if len(calls) != 3 || len(resp.Continuations) != 2 {
		t.Fatalf("got %d requests and %d continuations, want 3 and 2", len(calls), len(resp.Continuations))
	}
	var joined strings.Builder
	for i, call := range calls {
		wantID := "r"
		if i > 0 {
			wantID = fmt.Sprintf("r-%d", i+1)
		}
		if got := call.query.Get("requestId"); got != wantID {
			t.Errorf("part %d: requestId %q, want %q", i+1, got, wantID)
		}
		if got, want := call.query.Get("messageId"), map[bool]string{true: "client-long"}[i == 0]; got != want {
			t.Errorf("part %d: messageId %q, want %q", i+1, got, want)
		}
		if got := call.query.Get("messageReplyOption"); got != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" {
			t.Errorf("part %d: messageReplyOption %q", i+1, got)
		}
		thread, _ := call.body["thread"].(map[string]any)
		if thread["threadKey"] != calls[0].body["thread"].(map[string]any)["threadKey"] || thread["threadKey"] == "" {
			t.Errorf("part %d: thread %v, want the head's derived key", i+1, thread)
		}
		joined.WriteString(call.body["text"].(string))
	}
	if got := strings.Join(strings.Fields(joined.String()), " "); got != strings.TrimSpace(text) {
		t.Errorf("parts joined = %q, want the original text", got)
	}
}

func TestSendTrimsCardTooLargeInsteadOfRefusing(t *testing.T) {
	ft := &fakeTransport{}
	var widgets []*card.Widget
	for i := range 400 {
		widgets = append(widgets, card.Text(fmt.Sprintf("line %d %s", i, strings.Repeat("x", 100))))
	}
	msg := &Message{CardsV2: []card.CardWithID{{CardID: "big", Card: card.New("Big", card.NewSection("", widgets...))}}}
	if errs := msg.Check().Errors(); len(errs) == 0 {
		t.Fatal("the card is not too large: the test proves nothing")
	}
	if _, err := testClient(ft, RetryPolicy{MaxAttempts: 1}).Send(t.Context(), mustHook(t, testHookURL), msg); err != nil {
		t.Fatal(err)
	}
	calls := ft.seen()
	if len(calls) != 1 {
		t.Fatalf("got %d requests, want 1", len(calls))
	}
	data, _ := json.Marshal(calls[0].body)
	if len(data) > DefaultMaxBytes || !strings.Contains(string(data), "not shown") {
		t.Errorf("sent %d bytes, want at most %d with an \"N more\" line: %.300s…", len(data), DefaultMaxBytes, data)
	}
}
