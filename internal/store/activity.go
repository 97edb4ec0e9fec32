package store

import "time"

// SpaceActivity is what one relay space's attempts came to in one time
// bucket of Admin.Activity: the console's chart of sends and 429s.
type SpaceActivity struct {
	Space string
	// Start is the bucket's start: Activity's since plus a whole number of
	// buckets. The bucket holds the attempts started (claimed) in
	// [Start, Start+bucket).
	Start time.Time
	// Sent counts the attempts that made a request to Google: those it
	// accepted (State done), answered (Status), whose request was measured
	// (Duration), or ambiguous (Rescued: Google may have had it). An
	// attempt settled without a request (too old, paused meanwhile) is not
	// a send.
	Sent int
	// OK counts the sends Google accepted (State done), Throttled those it
	// answered 429.
	OK        int
	Throttled int
}

// IncidentCount is what the incident counter (Incidents) holds for the
// keys that start with one prefix.
type IncidentCount struct {
	// Keys counts the keys (alert groups) the store still holds: Prune
	// forgets those unused for Retention.Threads.
	Keys int
	// Open counts the keys whose last notification was firing.
	Open int
	// Opened sums the keys' incident numbers: the incidents they opened,
	// give or take one for each key first seen resolved (which stands at
	// 1 without having opened one).
	Opened int64
}

// PrefixEnd returns the least string above every string that starts with
// prefix, byte-wise, for a range scan [prefix, end); "" when there is none
// (prefix is empty or all 0xff bytes).
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return ""
	}
	b[len(b)-1]++
	return string(b)
}
