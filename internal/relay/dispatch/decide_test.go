package dispatch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gchatkit/gchat"
)

// TestDecideAgreesWithRetryTable sends through a real single-attempt
// gchat.Client to a server answering each status of the shared table, and
// checks that the dispatcher's verdict on the client's answer is the table's.
func TestDecideAgreesWithRetryTable(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/retry-table.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Status   int    `json:"status"`
		Decision string `json:"decision"`
	}
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatalf("retry-table.json: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.URL.Query().Get("key"), &code)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if code >= 300 {
			fmt.Fprintf(w, `{"error":{"code":%d,"message":"answer %d","status":"STATUS"}}`, code, code)
		} else if code != http.StatusNoContent {
			fmt.Fprint(w, `{"name":"spaces/AAA/messages/m"}`)
		}
	}))
	defer srv.Close()
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}}
	verdict := map[action]string{actDone: "done", actRetry: "retry", actThrottle: "retry", actStop: "final", actFail: "final"}
	for _, row := range rows {
		// The webhook's key carries the status the server should answer.
		hook, err := gchat.ParseWebhook(fmt.Sprintf("%s/v1/spaces/AAA/messages?key=%d&token=t", srv.URL, row.Status))
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.Send(t.Context(), hook, &gchat.Message{Text: "hi"}, gchat.Options{RequestID: "r"})
		if got := verdict[decide(err, "", false)]; got != row.Decision {
			t.Errorf("status %d: the dispatcher decides %s (err %v), the table says %s", row.Status, got, err, row.Decision)
		}
	}
	// And what the table cannot show: how the dispatcher splits its rows.
	for _, tc := range []struct {
		err   error
		reply string
		want  action
	}{
		{&gchat.APIError{StatusCode: 429}, "", actThrottle},
		{&gchat.APIError{StatusCode: 503}, "", actRetry},
		{&gchat.APIError{StatusCode: 403}, "", actStop},
		{&gchat.APIError{StatusCode: 404}, "", actStop},
		{&gchat.APIError{StatusCode: 404}, "REPLY_MESSAGE_OR_FAIL", actFail},
		{&gchat.APIError{StatusCode: 400}, "", actFail},
		{&gchat.ValidationError{}, "", actFail},
		{fmt.Errorf("send message: %w", os.ErrDeadlineExceeded), "", actRetry}, // network
	} {
		if got := decide(tc.err, tc.reply, false); got != tc.want {
			t.Errorf("decide(%v, %q) = %d, want %d", tc.err, tc.reply, got, tc.want)
		}
	}
}
