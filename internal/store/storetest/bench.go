package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// ClaimBacklog is a benchmark of a Claim that finds nothing due in a lane
// whose 100 thread groups hold a backlog of the given size, each group's
// head waiting for its retry, as while Google is out of reach: the cost
// should not grow with the backlog.
func ClaimBacklog(b *testing.B, open func(b *testing.B) store.Store) {
	msg, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("%0600d", 0)})
	for _, backlog := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			s := open(b)
			for i := 0; i < backlog; i += 100 {
				ds := make([]store.NewDelivery, 100)
				for g := range ds {
					ds[g] = store.NewDelivery{Group: fmt.Sprintf("t%03d", g), Message: msg}
				}
				if _, err := s.Enqueue(b.Context(), store.EnqueueRequest{Space: "s", Lane: "L", Deliveries: ds}); err != nil {
					b.Fatal(err)
				}
			}
			lease, err := s.AcquireLease(b.Context(), store.LeaseRequest{Lane: "L", Owner: "bench", TTL: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			retry := time.Now().Add(time.Hour)
			for {
				ds, err := s.Claim(b.Context(), lease, 100)
				if err != nil {
					b.Fatal(err)
				}
				if len(ds) == 0 {
					break
				}
				for _, d := range ds {
					if _, err := s.Finish(b.Context(), lease, d.ID, store.Outcome{State: store.StateQueued, RetryAt: retry}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if ds, err := s.Claim(b.Context(), lease, 1); err != nil || len(ds) > 0 {
					b.Fatal(ds, err)
				}
			}
		})
	}
}

// Finish is a benchmark of recording outcomes: each operation claims up to
// 64 due deliveries of one lane (one per thread group) and finishes each as
// done, from 64 concurrent goroutines. The deliveries are enqueued before
// the timer starts. It reports finishes/s and, when cpu (the process's CPU
// time so far) is given, the CPU time per finish.
func Finish(b *testing.B, s store.Store, cpu func() time.Duration) {
	msg, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("%0300d", 0)})
	const groups = 64
	for i := 0; i < b.N; i += groups {
		ds := make([]store.NewDelivery, groups)
		for g := range ds {
			ds[g] = store.NewDelivery{Group: fmt.Sprint("g", g), Message: msg}
		}
		if _, err := s.Enqueue(b.Context(), store.EnqueueRequest{Space: "ops", Lane: "AAAA", Deliveries: ds}); err != nil {
			b.Fatal(err)
		}
	}
	lease, err := s.AcquireLease(b.Context(), store.LeaseRequest{Lane: "AAAA", Owner: "bench", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	var used time.Duration
	if cpu != nil {
		used = cpu()
	}
	finished := 0
	for finished < b.N {
		claimed, err := s.Claim(b.Context(), lease, groups)
		if err != nil || len(claimed) == 0 {
			b.Fatalf("claim: %d, %v", len(claimed), err)
		}
		var wg sync.WaitGroup
		for _, d := range claimed {
			wg.Go(func() {
				if _, err := s.Finish(b.Context(), lease, d.ID, store.Outcome{State: store.StateDone,
					GoogleMessage: "spaces/AAAA/messages/m"}); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		finished += len(claimed)
	}
	b.ReportMetric(float64(finished)/time.Since(start).Seconds(), "finishes/s")
	if cpu != nil {
		b.ReportMetric(float64((cpu()-used).Microseconds())/float64(finished), "cpu-µs/finish")
	}
}
