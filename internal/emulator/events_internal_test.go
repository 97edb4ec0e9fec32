package emulator

import "testing"

// TestBrokerDropsSlowSubscriber: a subscriber that does not read is dropped
// once its buffer is full; publish never waits for it.
func TestBrokerDropsSlowSubscriber(t *testing.T) {
	b := newBroker()
	slow := b.subscribe()
	fast := b.subscribe()
	got := 0
	for i := range subscriberBuffer + 10 {
		b.publish("message", i)
		select {
		case <-fast:
			got++
		default:
			t.Fatalf("event %d not delivered to the reading subscriber", i)
		}
	}
	if got != subscriberBuffer+10 {
		t.Errorf("fast subscriber got %d", got)
	}
	n := 0
	for range slow { // closed after its buffered events
		n++
	}
	if n != subscriberBuffer {
		t.Errorf("slow subscriber got %d events before being dropped, want %d", n, subscriberBuffer)
	}
	if b.n.Load() != 1 {
		t.Errorf("%d subscribers left, want 1", b.n.Load())
	}
	b.unsubscribe(slow) // the handler's deferred unsubscribe after a drop
	b.unsubscribe(fast)
	if b.n.Load() != 0 {
		t.Errorf("%d subscribers left", b.n.Load())
	}
}
