package postgres_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// BenchmarkEnqueue measures durable accepts, as the SQLite backend's
// benchmark does: one Enqueue of one delivery (a ~300-byte message, a caller
// requestId to check) per operation, each caller in its own thread group, at a
// given number of concurrent callers, with the server's synchronous_commit
// (on by default). It reports accepts/s and the p50 and p99 latency of one
// call.
//
// Concurrent Enqueues of one store commit in groups (see group.go): one
// transaction, one lock of each lane and one WAL flush for every accept
// that arrived during the previous commit.
func BenchmarkEnqueue(b *testing.B) {
	msg, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("%0300d", 0)})
	for _, bc := range []struct{ conc, lanes int }{{8, 1}, {64, 1}, {64, 16}} {
		conc, lanes := bc.conc, bc.lanes
		b.Run(fmt.Sprintf("callers=%d/lanes=%d", conc, lanes), func(b *testing.B) {
			dbURL, _ := postgres.FreshSchema(b)
			s, err := postgres.Open(b.Context(), dbURL, postgres.Options{MaxConns: int32(min(conc, 16))})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// SetParallelism multiplies by GOMAXPROCS.
			procs := runtime.GOMAXPROCS(0)
			if conc%procs != 0 {
				b.Skipf("%d callers cannot be made with GOMAXPROCS=%d", conc, procs)
			}
			b.SetParallelism(conc / procs)
			var (
				next int64
				mu   sync.Mutex
				lats []time.Duration
			)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				caller := atomic.AddInt64(&next, 1)
				g := fmt.Sprint("g", caller)
				lane := fmt.Sprint("lane-", caller%int64(lanes))
				for pb.Next() {
					n := atomic.AddInt64(&next, 1)
					t0 := time.Now()
					_, err := s.Enqueue(b.Context(), store.EnqueueRequest{
						Space: "ops-" + lane, Lane: lane, CallerRequestID: fmt.Sprint("req-", n),
						Deliveries: []store.NewDelivery{{Group: g, Message: msg}},
					})
					mine = append(mine, time.Since(t0))
					if err != nil {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lats)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "accepts/s")
			if len(lats) > 0 {
				b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// BenchmarkClaimBacklog: see storetest.ClaimBacklog.
func BenchmarkClaimBacklog(b *testing.B) {
	storetest.ClaimBacklog(b, func(b *testing.B) store.Store {
		dbURL, _ := postgres.FreshSchema(b)
		s, err := postgres.Open(b.Context(), dbURL, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkFinish: see storetest.Finish (on the store's default pool). A
// claim turns queued rows into sending ones, which leaves the pending
// counts as they are; a finish as done lowers them.
func BenchmarkFinish(b *testing.B) {
	dbURL, _ := postgres.FreshSchema(b)
	s, err := postgres.Open(b.Context(), dbURL, postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Finish(b, s, nil)
}
