package relay_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// discardNotifier is told about every commit and wakes nobody, so that no
// dispatcher competes with ingest for the store or the CPU.
type discardNotifier struct{}

func (discardNotifier) Notify(string) {}

// alertText is an alert-sized message text: about 600 bytes, as a monitoring
// rule with a summary, a description, labels and a link renders it.
var alertText = strings.Join([]string{
	"*[FIRING:1]* HighErrorRate api-gateway (production, eu-west-1)",
	"*Summary:* 5xx responses above 5% for 10 minutes on api-gateway.",
	"*Description:* The ratio of 5xx answers to all answers has been 7.3% over the last 10 minutes " +
		"(threshold 5%). Upstream checkout-service answers slowly; p99 latency is 2.4 s.",
	"*Labels:* alertname=HighErrorRate, cluster=prod-eu-1, namespace=edge, service=api-gateway, severity=critical, team=platform",
	"*Started:* 2026-11-27T10:42:17Z",
	"<https://grafana.example.com/d/api-gateway/overview?orgId=1&var-cluster=prod-eu-1|Dashboard> · " +
		"<https://runbooks.example.com/HighErrorRate|Runbook>",
}, "\n")

// BenchmarkIngest measures durable accepts through the real ingest: HTTP
// over loopback into relay.NewServer, the dialect parsed and checked, the
// message fitted and encoded, and committed to an SQLite file before the
// answer. Every request carries its own requestId (checked for duplicates)
// and a thread key (one of 100 alerts). It reports accepts/s and the p50
// and p99 latency of one request as its caller sees it. The collector runs
// at app.GCPercent, as in `gchat relay`, and once at Go's default for
// comparison.
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		sync string
		conc int
		gc   int
	}{{"FULL", 8, app.GCPercent}, {"FULL", 64, app.GCPercent}, {"NORMAL", 64, app.GCPercent}, {"FULL", 64, 100}} {
		b.Run(fmt.Sprintf("sync=%s/callers=%d/gogc=%d", bc.sync, bc.conc, bc.gc), func(b *testing.B) {
			defer debug.SetGCPercent(debug.SetGCPercent(bc.gc))
			benchIngest(b, bc.sync, bc.conc)
		})
	}
}

func benchIngest(b *testing.B, syncMode string, conc int) {
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/AAAAbench01/messages?key=k&token=bench-google-token")
	if err != nil {
		b.Fatal(err)
	}
	sp := config.NewSpace("alerts", hook)
	sp.IngestToken = "bench-ingest-token"
	cfg := &config.Config{Listen: "127.0.0.1:8686", IngestKey: "bench-key", Spaces: []*config.Space{sp}}
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "relay.db"), sqlite.Options{Synchronous: syncMode})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// No bound on pending deliveries: nothing drains the queue here.
	srv := httptest.NewServer(relay.NewServer(cfg, st, discardNotifier{}, nil, relay.Options{Listen: cfg.Listen, MaxPending: -1}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = conc // no connection churn
	url := srv.URL + "/v1/spaces/alerts/messages?key=bench-key&token=bench-ingest-token&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i], err = json.Marshal(map[string]any{
			"text":   alertText,
			"thread": map[string]string{"threadKey": fmt.Sprintf("alert-%03d", i)},
		})
		if err != nil {
			b.Fatal(err)
		}
	}

	var (
		left = int64(b.N)
		seq  atomic.Int64
		mu   sync.Mutex
		lats = make([]time.Duration, 0, b.N)
		wg   sync.WaitGroup
	)
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	for range conc {
		wg.Go(func() {
			mine := make([]time.Duration, 0, b.N/conc+1)
			defer func() {
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			}()
			for atomic.AddInt64(&left, -1) >= 0 {
				n := seq.Add(1)
				target := fmt.Sprintf("%s&requestId=bench-%d", url, n)
				t0 := time.Now()
				resp, err := client.Post(target, "application/json; charset=UTF-8", bytes.NewReader(bodies[n%int64(len(bodies))]))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lats)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accepts/s")
	if len(lats) > 0 {
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
	}
}
