package dispatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/store"
)

// TestMergeRunAlertCards: a backlog of built-in alert notifications in one
// thread merges into one message. Google refuses repeated card ids, so
// merging needs each notification's card to have an id of its own
// (alert.Build gives one per notification state).
func TestMergeRunAlertCards(t *testing.T) {
	start := time.Date(2026, 11, 27, 7, 18, 43, 0, time.UTC)
	key := &gchat.Thread{ThreadKey: "prom-group"}
	var run []store.Delivery
	for i, status := range []alert.Status{alert.Firing, alert.Firing, alert.Resolved} {
		g := alert.Group{Source: "alertmanager", Status: status, GroupKey: `{}:{alertname="DiskFull"}`,
			GroupLabels: map[string]string{"alertname": "DiskFull"}}
		for j := range i + 1 {
			g.Alerts = append(g.Alerts, alert.Alert{Status: status, StartsAt: start,
				Labels: map[string]string{"alertname": "DiskFull", "instance": fmt.Sprintf("db-%d", j)}})
		}
		m := alert.Build(g, alert.Options{})
		m.Thread = key
		b, err := gchat.Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		run = append(run, store.Delivery{ID: fmt.Sprint(i), Space: "ops", Group: "g", State: store.StateQueued, Message: b})
	}
	members, merged := mergeRun(run)
	if len(members) != len(run) || merged == nil {
		t.Fatalf("merged %d of %d alert notifications, want all", len(members), len(run))
	}
	if len(merged.CardsV2) != 3 {
		t.Errorf("merged message has %d cards, want 3", len(merged.CardsV2))
	}
}
