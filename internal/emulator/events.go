package emulator

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gchatkit/gchat/internal/httpserve"
)

// subscriberBuffer is how many events a subscriber may lag behind before it
// is dropped.
const subscriberBuffer = 256

// writeTimeout bounds one write to an SSE subscriber.
const writeTimeout = 10 * time.Second

// broker fans events out to SSE subscribers. Each subscriber is a buffered
// channel; one that is full is dropped (its channel closed, so its stream
// ends and the browser's EventSource reconnects), never waited on.
type broker struct {
	mu   sync.Mutex
	subs map[chan []byte]struct{}
	n    atomic.Int32 // len(subs), read without the lock on the hot path
}

func newBroker() *broker { return &broker{subs: map[chan []byte]struct{}{}} }

func (b *broker) subscribe() chan []byte {
	ch := make(chan []byte, subscriberBuffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.n.Store(int32(len(b.subs)))
	b.mu.Unlock()
	return ch
}

func (b *broker) unsubscribe(ch chan []byte) {
	b.mu.Lock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
	b.n.Store(int32(len(b.subs)))
	b.mu.Unlock()
}

// publish sends an event to every subscriber. With none it costs an atomic
// load: the JSON is encoded only when someone listens.
func (b *broker) publish(event string, v any) {
	if b.n.Load() == 0 {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return // our own types: cannot happen
	}
	frame := make([]byte, 0, len(data)+len(event)+16)
	frame = append(frame, "event: "...)
	frame = append(frame, event...)
	frame = append(frame, "\ndata: "...)
	frame = append(frame, data...) // compact JSON holds no newline
	frame = append(frame, "\n\n"...)
	b.mu.Lock()
	for ch := range b.subs {
		select {
		case ch <- frame:
		default:
			delete(b.subs, ch)
			close(ch)
		}
	}
	b.n.Store(int32(len(b.subs)))
	b.mu.Unlock()
}

// handleEvents streams server-sent events: message, space and reset, and a
// comment every heartbeat. It ends when the client goes, when it falls too
// far behind, or when the server closes.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	ctx, done, ok := httpserve.Stream(w, r)
	if !ok {
		return
	}
	defer done()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	ch := s.events.subscribe()
	defer s.events.unsubscribe(ch)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": connected\n\n")); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	for {
		var frame []byte
		select {
		case f, ok := <-ch:
			if !ok {
				s.log.Info("event_subscriber_dropped")
				return
			}
			frame = f
		case <-tick.C:
			frame = []byte(": heartbeat\n\n")
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
		// A stalled client must not hold this goroutine for ever; the
		// broker has already stopped waiting on it.
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(frame); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
