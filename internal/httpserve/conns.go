package httpserve

import (
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

const (
	// maxRejecting bounds the connections being answered 503 at once;
	// past it a connection is closed without an answer.
	maxRejecting = 64
	// rejectTimeout bounds the 503 answer to one connection: the TLS
	// handshake, the write and the wait for the client to finish sending.
	rejectTimeout = 2 * time.Second
)

// connLimiter is a listener that holds at most max connections open; past
// it, it answers 503 on its own and closes the connection, so that the
// client is told rather than left waiting in the accept queue.
type connLimiter struct {
	net.Listener
	slots     chan struct{}
	rejecting chan struct{}
	tls       *tls.Config
	rejects   sync.WaitGroup
	overflow  []byte
}

func newConnLimiter(ln net.Listener, max int, tlsCfg *tls.Config) *connLimiter {
	body := []byte(`{"error":{"code":503,"message":"too many connections; try again later","status":"UNAVAILABLE"}}` + "\n")
	resp := "HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-Type: application/json; charset=UTF-8\r\n" +
		"Retry-After: 1\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	return &connLimiter{
		Listener:  ln,
		slots:     make(chan struct{}, max),
		rejecting: make(chan struct{}, maxRejecting),
		tls:       tlsCfg,
		overflow:  []byte(resp),
	}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, l: l}, nil
		default:
		}
		select {
		case l.rejecting <- struct{}{}:
			l.rejects.Go(func() {
				defer func() { <-l.rejecting }()
				l.reject(c)
			})
		default:
			c.Close()
		}
	}
}

// reject answers 503 and closes c. It reads what the client sends for a
// moment first: closing a socket with unread data resets the connection,
// and the client could lose the answer.
func (l *connLimiter) reject(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(rejectTimeout))
	w := c
	if l.tls != nil {
		w = tls.Server(c, l.tls)
	}
	if _, err := w.Write(l.overflow); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok && l.tls == nil {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(w, 64<<10))
}

// wait waits for the 503 answers under way.
func (l *connLimiter) wait() { l.rejects.Wait() }

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		<-c.l.slots
	})
	return err
}
