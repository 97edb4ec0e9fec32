package relay_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// BenchmarkAlertmanagerRoute posts an Alertmanager group of n alerts
// firing, then resolved, to a route on real SQLite: one op is the pair.
// The stale-echo rule asks the store once per firing alert and twice per
// resolved one, so its cost grows with the group.
func BenchmarkAlertmanagerRoute(b *testing.B) {
	for _, n := range []int{5, 300} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + googleSpace + "/messages?key=k&token=" + googleSecret)
			if err != nil {
				b.Fatal(err)
			}
			cfg := &config.Config{Listen: "127.0.0.1:8686", Spaces: []*config.Space{config.NewSpace("alerts", hook)},
				Routes: []*config.Route{amRoute(nil)}}
			st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "relay.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			srv := relay.NewServer(cfg, st, nil, nil, relay.Options{Listen: cfg.Listen, MaxPending: -1})
			start := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
			payload := func(status string, i int) []byte {
				var alerts []map[string]any
				for k := range n {
					alerts = append(alerts, map[string]any{"status": status, "startsAt": start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
						"endsAt": "0001-01-01T00:00:00Z", "fingerprint": fmt.Sprintf("%016x", k),
						"labels": map[string]string{"alertname": "Bench", "instance": fmt.Sprint("node-", k)}})
				}
				body, _ := json.Marshal(map[string]any{"version": "4", "status": status, "receiver": "r", "groupKey": `{}:{alertname="Bench"}`,
					"groupLabels": map[string]string{"alertname": "Bench"}, "commonLabels": map[string]string{"alertname": "Bench"}, "alerts": alerts})
				return body
			}
			post := func(body []byte) {
				r := httptest.NewRequest(http.MethodPost, "/v1/alertmanager/prom", strings.NewReader(string(body)))
				r.Header.Set("Authorization", "Bearer "+routeToken)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			for i := 0; b.Loop(); i++ {
				post(payload("firing", i))
				post(payload("resolved", i))
			}
		})
	}
}
