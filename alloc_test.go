//go:build !race

// Allocation counts are asserted only without the race detector, which
// allocates on its own behalf and made these counts flaky under -race.

package gchat

import "testing"

func TestFitWithinLimitsAllocatesLittle(t *testing.T) {
	msg := Message{Text: "Disk *full* on db-1", Thread: &Thread{ThreadKey: "incident-42"}}
	// AllocsPerRun counts every allocation of the process, so goroutines
	// left by earlier tests (servers winding down) can add a few: the least
	// of several measures is the function's own.
	least := func(f func()) float64 {
		m := testing.AllocsPerRun(100, f)
		for range 4 {
			m = min(m, testing.AllocsPerRun(100, f))
		}
		return m
	}
	enc := least(func() { _, _ = Encode(&msg) })
	got := least(func() { _, _ = Fit(msg, Options{}, Limits{}) })
	// One measure, the result slice and the message copy the measure escapes.
	if got > enc+2 {
		t.Errorf("Fit of a small message: got %v allocations, want at most %v", got, enc+2)
	}
}

func TestEscapeUnchangedDoesNotAllocate(t *testing.T) {
	s := "disk full on db-1 at 93% & rising"
	if n := testing.AllocsPerRun(100, func() { _ = Escape(s) }); n != 0 {
		t.Errorf("Escape of plain text: got %v allocations, want 0", n)
	}
}
