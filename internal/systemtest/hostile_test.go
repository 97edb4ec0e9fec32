package systemtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/bench/benchkit"
)

// hostileServer is the relay's server section for the hostile-client test:
// timeouts of seconds, so that the test waits them out in seconds, and a
// connection cap that the test can reach.
const hostileServer = `server:
  read_header_timeout: 2s
  body_timeout: 2s
  write_timeout: 5s
  idle_timeout: 2s
  max_connections: 200
routes:
  - name: am
    source: alertmanager
    spaces: [a]
`

// hostileConns is how many connections each kind of attack opens at once;
// three kinds run together, below the cap of 200.
const hostileConns = 50

// TestHostileClients attacks the built relay with slow and hostile clients
// on loopback: bodies that declare a megabyte, send a hundred bytes and then
// trickle; headers that trickle; idle keep-alive connections; more
// connections than the cap. Each attack connection must be closed within its
// timeout plus a margin, the heap must not grow with declared lengths, the
// process must hold no more connections afterwards than before, and a
// normal ingest must succeed while the attacks run. It takes about 10 s.
func TestHostileClients(t *testing.T) {
	emu := startEmulator(t, "--space", "a", "--quota-per-second", "0", "--quota-per-minute", "0")
	r := startRelayExtra(t, emu.host, "", hostileServer,
		&relaySpace{Name: "a", Webhook: emu.spaces(t)["a"].Webhooks[0].URL, Pace: testPace})
	ingestPath := "/v1/spaces/a/messages?key=systemtest&token=" + r.space("a").Token

	before := scrape(t, r.addr)
	t.Logf("before: heap in use %.1f MB, open fds %d", before.heapMB(), before.fds)

	// 1. Large declared bodies that trickle (ingest and a source route),
	// trickled headers and idle keep-alive connections, all at once.
	var wg sync.WaitGroup
	closed := make(chan string, 4*hostileConns)
	attack := func(kind string, limit time.Duration, open func(c net.Conn) error) {
		for range hostileConns {
			c, err := net.Dial("tcp", r.addr)
			if err != nil {
				t.Fatalf("%s: dial: %v", kind, err)
			}
			t.Cleanup(func() { c.Close() })
			if err := open(c); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			wg.Go(func() {
				start := time.Now()
				if waitClosed(c, limit+5*time.Second) {
					closed <- ""
					return
				}
				closed <- fmt.Sprintf("%s: connection still open after %v (limit %v)", kind, time.Since(start).Round(time.Millisecond), limit)
			})
		}
	}
	stop := make(chan struct{})
	trickle := func(c net.Conn) {
		go func() {
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte{' '}); err != nil {
						return
					}
				}
			}
		}()
	}
	declared := func(path string) func(c net.Conn) error {
		return func(c net.Conn) error {
			_, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"text\":%q", path, r.addr, strings.Repeat("x", 88))
			trickle(c)
			return err
		}
	}
	attack("declared 1 MB body, ingest", 2*time.Second, declared(ingestPath))
	attack("declared 1 MB body, alertmanager route", 2*time.Second, declared("/v1/alertmanager/am"))
	attack("trickled headers", 2*time.Second, func(c net.Conn) error {
		_, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nX-Slow: ", ingestPath, r.addr)
		trickle(c)
		return err
	})
	// The heap at its peak: once the relay holds every attack connection
	// (and so has read their headers), and once more after.
	var during relayStats
	peak := func() relayStats {
		s := scrape(t, r.addr)
		during.heapInuse, during.fds = max(during.heapInuse, s.heapInuse), max(during.fds, s.fds)
		return s
	}
	waitFor(t, 5*time.Second, "the relay to hold the attack connections", func() bool {
		return peak().fds >= before.fds+3*hostileConns
	})
	peak()
	t.Logf("during: heap in use %.1f MB, open fds %d (%d connections declaring 1 MB each)", during.heapMB(), during.fds, 2*hostileConns)
	// Before the fix, each declared body allocated its megabyte: 100 of
	// them took 100 MB. Now each costs a few kilobytes.
	if grew := during.heapMB() - before.heapMB(); grew > 25 {
		t.Errorf("heap grew by %.1f MB while %d connections declared 1 MB bodies, want under 25 MB", grew, 2*hostileConns)
	}
	// The relay keeps serving others.
	if status, _, err := r.post(t.Context(), "a", nil, map[string]string{"text": "during the attack"}); err != nil || status != http.StatusOK {
		t.Errorf("ingest during the attack: got %d, %v; want 200", status, err)
	}
	// Idle keep-alive connections, after one request each.
	attack("idle keep-alive", 2*time.Second, func(c net.Conn) error {
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", r.addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
	wg.Wait()
	close(stop)
	close(closed)
	for msg := range closed {
		if msg != "" {
			t.Error(msg)
		}
	}

	// 2. Past the cap: a clear 503 in Google's error shape, then the
	// connection is closed; a normal client gets through again once the
	// crowd has gone.
	var crowd []net.Conn
	for range 200 {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		crowd = append(crowd, c)
		t.Cleanup(func() { c.Close() })
	}
	// Connections over the cap are answered at once, so that the crowd
	// (closed by the header timeout in 2 s) is still there.
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", r.addr)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("past the cap: %v, want a 503 answer", err)
	}
	body, _ := io.ReadAll(resp.Body)
	c.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"status":"UNAVAILABLE"`) {
		t.Errorf("past the cap: got %d Retry-After %q %s, want 503 with Retry-After and Google's UNAVAILABLE", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for _, c := range crowd {
		c.Close()
	}

	// 3. Afterwards: the relay serves, and holds no more than it did.
	waitFor(t, 10*time.Second, "the relay's open connections back to where they were", func() bool {
		return scrape(t, r.addr).fds <= before.fds+3
	})
	if status, _, err := r.post(t.Context(), "a", nil, map[string]string{"text": "after the attack"}); err != nil || status != http.StatusOK {
		t.Errorf("ingest after the attack: got %d, %v; want 200", status, err)
	}
	after := scrape(t, r.addr)
	t.Logf("after: heap in use %.1f MB, open fds %d", after.heapMB(), after.fds)
	emu.messages(t, emu.spaces(t)["a"].ID, 2, 10*time.Second)
}

// TestNoRedirectEchoesQuery: a path with ".." or "//" gets a 404 in Google's
// error shape, not ServeMux's redirect whose Location repeats key= and
// token=, from the relay and from the emulator.
func TestNoRedirectEchoesQuery(t *testing.T) {
	emu := startEmulator(t, "--space", "a")
	r := startRelay(t, emu.host, &relaySpace{Name: "a", Webhook: emu.spaces(t)["a"].Webhooks[0].URL, Pace: testPace})
	emuID := emu.spaces(t)["a"].ID
	for _, tc := range []struct{ name, base, path string }{
		{"relay ..", "http://" + r.addr, "/v1/spaces/x/../a/messages"},
		{"relay //", "http://" + r.addr, "/v1//spaces/a/messages"},
		{"relay /api", "http://" + r.addr, "/api"},
		{"emulator ..", emu.base, "/v1/spaces/x/../" + emuID + "/messages"},
		{"emulator //", emu.base, "/v1/spaces//" + emuID + "/messages"},
		{"emulator /api", emu.base, "/api"},
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(tc.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		// Written by hand: an HTTP client might clean the path itself.
		fmt.Fprintf(c, "POST %s?key=KEYSECRET&token=TOKENSECRET HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
			tc.path, strings.TrimPrefix(tc.base, "http://"))
		c.SetDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" ||
			!strings.Contains(string(body), `"status":"NOT_FOUND"`) || strings.Contains(string(body), "SECRET") {
			t.Errorf("%s: got %d Location %q %s, want 404 NOT_FOUND without Location or the query", tc.name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
}

// TestEmulatorSlowClients: the emulator closes trickled bodies and idle
// connections after its --body-timeout and --idle-timeout.
func TestEmulatorSlowClients(t *testing.T) {
	emu := startEmulator(t, "--space", "a", "--body-timeout", "1s", "--idle-timeout", "1s")
	hook := emu.spaces(t)["a"].Webhooks[0].URL
	path := hook[strings.Index(hook[len("http://"):], "/")+len("http://"):]
	for _, tc := range []struct {
		name string
		open func(c net.Conn)
	}{
		{"declared 1 MB body", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000\r\n\r\n{\"text\":", path, emu.host)
		}},
		{"idle keep-alive", func(c net.Conn) {
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", emu.host)
		}},
	} {
		c, err := net.Dial("tcp", emu.host)
		if err != nil {
			t.Fatal(err)
		}
		tc.open(c)
		if !waitClosed(c, 6*time.Second) {
			t.Errorf("%s: still open after 6 s, want closed after 1 s", tc.name)
		}
		c.Close()
	}
}

// waitClosed reads and discards what the server sends until it closes c,
// and reports whether it did within d.
func waitClosed(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// relayStats are figures from the relay's /metrics.
type relayStats struct {
	heapInuse float64
	fds       int
}

func (s relayStats) heapMB() float64 { return s.heapInuse / 1e6 }

// scrape reads the heap in use and the open file descriptors (listener,
// store, connections) from the relay's /metrics.
func scrape(t *testing.T, addr string) relayStats {
	t.Helper()
	m, err := benchkit.Scrape("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	s := relayStats{heapInuse: m["go_memstats_heap_inuse_bytes"], fds: int(m["process_open_fds"])}
	if s.heapInuse == 0 || s.fds == 0 {
		t.Fatalf("scrape: no go_memstats_heap_inuse_bytes or process_open_fds in /metrics")
	}
	return s
}
