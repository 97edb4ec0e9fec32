package relay_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/relay/adminapi"
	"github.com/gchatkit/gchat/internal/store"
)

// TestAdminAttemptHistory: GET /api/v1/deliveries/{id} shows every attempt,
// those before a replay included.
func TestAdminAttemptHistory(t *testing.T) {
	e := newEnv(t, nil)
	id, _ := e.mustPost("alerts", alertsToken, "", `{"text":"one"}`)
	e.finish(id, store.Outcome{State: store.StateQueued, Status: 503, Error: "503 UNAVAILABLE: try later", Duration: 150 * time.Millisecond})
	e.finish(id, store.Outcome{State: store.StateDead, Status: 400, Error: "400 INVALID_ARGUMENT: bad card", Duration: 2 * time.Second})
	if a := e.admin(http.MethodPost, "/api/v1/dead/"+id+"/replay"); a.code != http.StatusOK {
		t.Fatalf("replay: %d %s", a.code, a.body)
	}
	e.finish(id, store.Outcome{State: store.StateDone, GoogleMessage: "spaces/x/messages/y"})

	a := e.admin(http.MethodGet, "/api/v1/deliveries/"+id)
	if a.code != http.StatusOK {
		t.Fatalf("get: %d %s", a.code, a.body)
	}
	var d adminapi.Delivery
	if err := json.Unmarshal([]byte(a.body), &d); err != nil {
		t.Fatal(err)
	}
	type row struct {
		N, Try   int
		Duration string
		Outcome  store.State
		Status   int
		Error    string
		Replica  string
	}
	var got []row
	for _, at := range d.AttemptHistory {
		if at.RequestID != d.RequestID || at.StartTime.IsZero() || at.EndTime.Before(at.StartTime) {
			t.Errorf("attempt %d: requestId %q, start %v, end %v; want %q and an end after the start",
				at.N, at.RequestID, at.StartTime, at.EndTime, d.RequestID)
		}
		got = append(got, row{at.N, at.Try, at.Duration, at.Outcome, at.Status, at.Error, at.Replica})
	}
	want := []row{
		{1, 1, "0.15s", store.StateQueued, 503, "503 UNAVAILABLE: try later", "test"},
		{2, 2, "2s", store.StateDead, 400, "400 INVALID_ARGUMENT: bad card", "test"},
		{3, 1, "", store.StateDone, 0, "", "test"},
	}
	if len(got) != len(want) {
		t.Fatalf("history %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("attempt %d: got %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if d.Attempts != 1 {
		t.Errorf("attempts = %d, want 1 (the count since the replay)", d.Attempts)
	}

	// Lists leave the history out.
	var page adminapi.Page[adminapi.Delivery]
	if err := json.Unmarshal([]byte(e.admin(http.MethodGet, "/api/v1/deliveries").body), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Deliveries) != 1 || page.Deliveries[0].AttemptHistory != nil {
		t.Errorf("list: %+v, want the delivery without its history", page.Deliveries)
	}
}
