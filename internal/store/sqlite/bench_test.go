package sqlite_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
	"github.com/gchatkit/gchat/internal/store/storetest"
)

// BenchmarkEnqueue measures durable accepts: one Enqueue of one delivery
// (a ~300-byte message, a caller requestId to check) per operation, with
// synchronous=FULL (and NORMAL for comparison), at a given number of
// concurrent callers. It reports
// accepts/s, the p50 and p99 latency of one call, and the CPU time the
// process spent per accept (steadier than the rate on shared cores).
func BenchmarkEnqueue(b *testing.B) {
	msg, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("%0300d", 0)})
	for _, bc := range []struct {
		sync string
		conc int
	}{{"FULL", 8}, {"FULL", 64}, {"NORMAL", 64}} {
		conc := bc.conc
		b.Run(fmt.Sprintf("sync=%s/callers=%d", bc.sync, conc), func(b *testing.B) {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Synchronous: bc.sync})
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
			start, cpu := time.Now(), cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				g := fmt.Sprint("g", atomic.AddInt64(&next, 1))
				for pb.Next() {
					n := atomic.AddInt64(&next, 1)
					t0 := time.Now()
					_, err := s.Enqueue(b.Context(), store.EnqueueRequest{
						Space: "ops", Lane: "AAAA", CallerRequestID: fmt.Sprint("req-", n),
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
			elapsed, used := time.Since(start), cpuTime()-cpu
			b.StopTimer()
			slices.Sort(lats)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "accepts/s")
			b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/accept")
			if len(lats) > 0 {
				b.ReportMetric(float64(lats[len(lats)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds()), "p99-µs")
			}
		})
	}
}

// BenchmarkFinish measures what recording outcomes costs: each operation
// claims up to 64 due deliveries of one lane (one per thread group) and
// finishes each as done, from 64 concurrent goroutines, with
// synchronous=FULL (bound by the log's syncs) and NORMAL (by the writer's
// CPU). The deliveries are enqueued before the timer starts.
func BenchmarkFinish(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+mode, func(b *testing.B) { benchFinish(b, mode) })
	}
}

func benchFinish(b *testing.B, syncMode string) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Synchronous: syncMode})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Finish(b, s, cpuTime)
}

// BenchmarkClaimBacklog: see storetest.ClaimBacklog.
func BenchmarkClaimBacklog(b *testing.B) {
	storetest.ClaimBacklog(b, func(b *testing.B) store.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
