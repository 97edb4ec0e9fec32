package storetest

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// ActivityRows is how many attempts the store BenchActivity reads holds:
// one per delivery, one delivery started a second, so the last hour holds
// 3,600 of them.
const ActivityRows = 1_000_000

// ActivityBase is the start of the benchmark's first attempt, in Unix
// seconds; attempt x starts ActivityBase + x.
const ActivityBase = 1700000000

// ActivityStateSQL and ActivityStatusSQL are the state and status of the
// attempt of row x: one in 50 throttled (queued, 429), the rest accepted.
func ActivityStateSQL(x string) string {
	return `CASE WHEN ` + x + ` % 50 = 0 THEN 'queued' ELSE 'done' END`
}

func ActivityStatusSQL(x string) string { return `CASE WHEN ` + x + ` % 50 = 0 THEN 429 ELSE 0 END` }

// BenchActivity runs the console's chart query (Admin.Activity) over the
// last hour, in one-minute buckets, on a store filled as described above
// across the ten relay spaces of the list benchmark (space-0…9).
func BenchActivity(b *testing.B, activity func(since time.Time, bucket time.Duration) ([]store.SpaceActivity, error)) {
	since := time.Unix(ActivityBase+ActivityRows-3600+1, 0)
	for b.Loop() {
		got, err := activity(since, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		sent, spaces := 0, map[string]bool{}
		for _, a := range got {
			sent += a.Sent
			spaces[a.Space] = true
		}
		if sent != 3600 || len(spaces) != 10 {
			b.Fatalf("%d sends in %d spaces, want 3600 in 10", sent, len(spaces))
		}
	}
}
