package httpserve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener is an in-memory listener: the tests run in a synctest bubble,
// where real sockets would not let time stand still.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// dial opens a connection to the server; the test closes it.
func (l *pipeListener) dial(t *testing.T) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	select {
	case l.conns <- server:
	case <-l.done:
		t.Fatal("dial: listener closed")
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// start serves h on a pipe listener until the test ends.
func start(t *testing.T, h http.Handler, lim Limits) *pipeListener {
	t.Helper()
	ln := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, h, Options{Limits: lim, ShutdownTimeout: time.Second}) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln
}

// readAnswer reads one HTTP answer from c.
func readAnswer(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestBodyDeadline: a client that sends its body one byte every 5 seconds
// is cut off BodyTimeout after its headers, however long it keeps sending.
func TestBodyDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type result struct {
			took time.Duration
			err  error
		}
		got := make(chan result, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			_, err := io.ReadAll(r.Body)
			got <- result{time.Since(t0), err}
		})
		ln := start(t, h, Limits{BodyTimeout: 30 * time.Second})
		c := ln.dial(t)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
				return
			}
			for range 999 {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Second):
				}
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}()
		r := <-got
		var ne net.Error
		if !errors.As(r.err, &ne) || !ne.Timeout() {
			t.Errorf("reading the trickled body: got %v, want a timeout", r.err)
		}
		if r.took != 30*time.Second {
			t.Errorf("the body was read for %v, want the body timeout, 30s", r.took)
		}
		c.Close()
	})
}

// TestIdleTimeout: a keep-alive connection that sends nothing more is
// closed after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), Limits{IdleTimeout: 20 * time.Second})
		c := ln.dial(t)
		go io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		t0 := time.Now()
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("idle connection: got %v, want EOF", err)
		}
		if took := time.Since(t0); took != 20*time.Second {
			t.Errorf("idle connection closed after %v, want 20s", took)
		}
	})
}

// TestWriteTimeout: an answer that takes longer than WriteTimeout is not
// delivered; the connection closes.
func TestWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Minute)
			io.WriteString(w, "late")
		})
		ln := start(t, h, Limits{WriteTimeout: 30 * time.Second})
		c := ln.dial(t)
		go io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			t.Errorf("an answer past the write timeout: got %d, want the connection closed", resp.StatusCode)
		}
	})
}

// TestConnectionCap: past MaxConns a connection gets a 503 in Google's
// error shape with Retry-After and is closed; a closed connection frees its
// slot.
func TestConnectionCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		ln := start(t, ok, Limits{MaxConns: 2})
		a, b := ln.dial(t), ln.dial(t)
		synctest.Wait()
		c := ln.dial(t)
		go io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := readAnswer(t, c)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("past the cap: got %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		var e struct {
			Error struct {
				Code   int
				Status string
			}
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != 503 || e.Error.Status != "UNAVAILABLE" {
			t.Errorf("past the cap: body %q, want Google's error shape with 503 UNAVAILABLE", body)
		}
		c.Close()
		a.Close()
		b.Close()
		synctest.Wait()
		d := ln.dial(t)
		go io.WriteString(d, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := readAnswer(t, d); resp.StatusCode != http.StatusOK || body != "ok" {
			t.Errorf("after connections closed: got %d %q, want 200 ok", resp.StatusCode, body)
		}
	})
}

// TestStreams: a stream outlives WriteTimeout, ends at MaxStreamDuration,
// and past MaxStreams the next is answered 503.
func TestStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, done, ok := Stream(w, r)
			if !ok {
				return
			}
			defer done()
			<-ctx.Done()
			io.WriteString(w, "ended")
		})
		ln := start(t, h, Limits{WriteTimeout: 10 * time.Second, MaxStreams: 1, MaxStreamDuration: time.Minute})
		a := ln.dial(t)
		go io.WriteString(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		synctest.Wait()
		b := ln.dial(t)
		go io.WriteString(b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := readAnswer(t, b); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a second stream past MaxStreams 1: got %d, want 503", resp.StatusCode)
		}
		t0 := time.Now()
		resp, body := readAnswer(t, a)
		if resp.StatusCode != http.StatusOK || body != "ended" {
			t.Errorf("the stream: got %d %q, want 200 \"ended\" (written past the write timeout)", resp.StatusCode, body)
		}
		if took := time.Since(t0); took != time.Minute {
			t.Errorf("the stream ended after %v, want MaxStreamDuration, 1m", took)
		}
	})
}

// TestNoRedirect: neither a path that is not clean nor a subtree's root
// without its slash gets ServeMux's redirect, whose Location would repeat
// the query and its credentials.
func TestNoRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/spaces/{space}/messages", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(Handler(mux, Limits{}))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct{ method, path string }{
		{"POST", "/v1/spaces/a/../b/messages"},
		{"POST", "/v1/spaces//b/messages"},
		{"POST", "/v1/spaces/./b/messages"},
		{"POST", "/v1/spaces/%2e%2e/messages"},
		{"GET", "/api"},
		{"GET", "/../api/"},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path+"?key=KEY-SECRET&token=TOKEN-SECRET", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("%s %s: got %d Location %q, want 404 without Location", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(string(body), `"status":"NOT_FOUND"`) || strings.Contains(string(body), "SECRET") {
			t.Errorf("%s %s: body %s, want Google's NOT_FOUND without the query", tc.method, tc.path, body)
		}
	}
}

// TestServeLoopback: Serve answers on a real loopback listener and returns
// nil once its context ends.
func TestServeLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), Options{})
	}()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("got %d, want 200", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}
