package webhookapi

import (
	"bytes"
	"io"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// shortBody sends its bytes and then fails, as a client that declared more
// than it sent and went away.
type shortBody struct{ r io.Reader }

func (b shortBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (shortBody) Close() error { return nil }

// TestReadBodyMemoryFollowsArrival: a body that declares a megabyte and
// sends a hundred bytes costs kilobytes, not the megabyte (200 such
// connections once took the heap from 8 MB to 387 MB).
func TestReadBodyMemoryFollowsArrival(t *testing.T) {
	const declared = 1<<20 - 1
	r := httptest.NewRequest("POST", "/v1/spaces/s/messages", nil)
	r.Body = shortBody{strings.NewReader(`{"text":"` + strings.Repeat("a", 90) + `"}`)}
	r.ContentLength = declared
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, e := readBody(r, DefaultMaxBodyBytes)
	runtime.ReadMemStats(&after)
	if e == nil {
		t.Fatal("readBody of a short body: got no error")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
		t.Errorf("readBody of 100 bytes declared as %d: allocated %d bytes, want under 64 KiB", declared, got)
	}
}

// TestReadBodyGrows: bodies of every size around the buffer steps read back
// whole, with and without a Content-Length.
func TestReadBodyGrows(t *testing.T) {
	for _, n := range []int{0, 1, firstBodyBuffer - 1, firstBodyBuffer, firstBodyBuffer + 1, 3 * firstBodyBuffer, 100_000, DefaultMaxBodyBytes} {
		for _, declare := range []bool{true, false} {
			data := bytes.Repeat([]byte{'x'}, n)
			r := httptest.NewRequest("POST", "/", nil)
			r.Body = io.NopCloser(bytes.NewReader(data))
			r.ContentLength = -1
			if declare {
				r.ContentLength = int64(n)
			}
			got, e := readBody(r, DefaultMaxBodyBytes)
			if e != nil {
				t.Fatalf("%d bytes, declared %v: %v", n, declare, e)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes, declared %v: got %d bytes back", n, declare, len(got))
			}
		}
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.Body = io.NopCloser(bytes.NewReader(make([]byte, DefaultMaxBodyBytes+1)))
	if _, e := readBody(r, DefaultMaxBodyBytes); e == nil {
		t.Fatal("a body over the cap: got no error")
	}
}
