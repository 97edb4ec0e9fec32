package config

import (
	"fmt"
	"slices"
	"strings"
)

// hint explains an unknown key: the known key it resembles, or the level
// where it belongs.
func hint(key string, known []string) string {
	if s := suggest(key, known); s != "" {
		return s
	}
	for _, level := range []struct {
		keys  []string
		where string
	}{
		{topKeys, "at the top level"},
		{spaceKeys, "under spaces.NAME"},
		{retentionKeys, "under retention"},
	} {
		if slices.Contains(level.keys, key) {
			return fmt.Sprintf(" (%s belongs %s)", key, level.where)
		}
	}
	return ""
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to s, or
// "" when none is close: one edit in four characters, case, '-' for '_', or
// a prefix of four characters or more.
func suggest(s string, candidates []string) string {
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(x), "-", "_") }
	ns := norm(s)
	best, bestDist := "", 0
	for _, c := range candidates {
		nc := norm(c)
		d := distance(ns, nc)
		if len(ns) >= 4 && (strings.HasPrefix(nc, ns) || strings.HasPrefix(ns, nc)) {
			d = min(d, 1)
		}
		if d <= max(1, len(c)/4) && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if best == "" || best == s {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the optimal string alignment distance between a and b, in
// bytes: insertions, deletions, substitutions and transpositions.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b)) // long strings are never a typo of a key
	}
	prevprev := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prevprev[j-2]+1) // a transposition
			}
		}
		prevprev, prev, cur = prev, cur, prevprev
	}
	return prev[len(b)]
}
