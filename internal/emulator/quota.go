package emulator

import "time"

// quota is the per-space rate limit of docs/google-chat.md §4.2: a token bucket (GCRA form:
// one theoretical arrival time instead of a token count) and a rolling
// 60-second window. It is guarded by Server.mu.
type quota struct {
	tat    time.Time   // theoretical arrival time of the next request
	minute []time.Time // accepted requests of the last 60 s, oldest first
}

// allow reports whether a request at now fits both limits, and consumes
// quota only when it does: a refused request costs nothing, so a client that
// waits out the interval gets through however often it was refused.
func (q *quota) allow(now time.Time, set *Settings) bool {
	interval := set.quotaInterval()
	tat := q.tat
	if interval > 0 {
		if tat.Before(now) {
			tat = now
		}
		if tat.Sub(now) > time.Duration(max(set.QuotaBurst, 1)-1)*interval {
			return false
		}
	}
	if set.QuotaPerMinute > 0 {
		cut := now.Add(-time.Minute)
		i := 0
		for i < len(q.minute) && !q.minute[i].After(cut) {
			i++
		}
		q.minute = q.minute[i:]
		if len(q.minute) >= set.QuotaPerMinute {
			return false
		}
		q.minute = append(q.minute, now)
	}
	if interval > 0 {
		q.tat = tat.Add(interval)
	}
	return true
}
