package httpserve

import (
	"context"
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Handler wraps h with the per-request limits that Serve applies: the body
// deadline, the stream accounting of Stream, and no redirects. Serve calls
// it; tests that serve with httptest may too. lim's zero fields take the
// defaults.
func Handler(h http.Handler, lim Limits) http.Handler {
	st := &state{lim: lim.WithDefaults()}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A path with "..", "." or "//" would get ServeMux's redirect to the
		// cleaned path, whose Location repeats the query: key= and token=.
		if r.Method != http.MethodConnect {
			if p := r.URL.EscapedPath(); cleanPath(p) != p || cleanPath(r.URL.Path) != r.URL.Path {
				writeError(w, http.StatusNotFound, "NOT_FOUND", "no such path: "+cleanPath(r.URL.Path)+" (the path is not in its canonical form)")
				return
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), limitsKey{}, st))
		if r.Body != nil && r.Body != http.NoBody {
			// The deadline is absolute: bytes that trickle in do not move
			// it. net/http lifts it once the body has been read to its end,
			// for its read that notices a departed client.
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(st.lim.BodyTimeout))
		}
		h.ServeHTTP(&noRedirect{ResponseWriter: w}, r)
	})
}

// noRedirect turns any redirect a handler writes (ServeMux's /tree to
// /tree/, which keeps the query) into a 404: no gchat route redirects.
type noRedirect struct {
	http.ResponseWriter
	swallow bool
}

func (w *noRedirect) WriteHeader(code int) {
	if code >= 300 && code < 400 && w.Header().Get("Location") != "" {
		w.Header().Del("Location")
		w.swallow = true
		writeError(w.ResponseWriter, http.StatusNotFound, "NOT_FOUND", "no such path")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noRedirect) Write(p []byte) (int, error) {
	if w.swallow {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// Flush).
func (w *noRedirect) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Stream marks the request as long-lived, an event stream or a long poll:
// it lifts the write deadline, counts the request against MaxStreams and
// bounds it by MaxStreamDuration. The returned context ends at that bound;
// the caller calls done when it returns. When MaxStreams streams are open
// Stream answers 503 itself and returns ok false. Outside Handler (a test's
// httptest server) nothing is counted or bounded.
func Stream(w http.ResponseWriter, r *http.Request) (ctx context.Context, done func(), ok bool) {
	st := fromContext(r.Context())
	if st == nil {
		return r.Context(), func() {}, true
	}
	if st.streams.Add(1) > int64(st.lim.MaxStreams) {
		st.streams.Add(-1)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "too many open event streams and long polls; try again later")
		return nil, nil, false
	}
	// The answer after the stream's end still gets WriteTimeout to be
	// written; an event stream sets a deadline for each write itself.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(st.lim.MaxStreamDuration + st.lim.WriteTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), st.lim.MaxStreamDuration)
	return ctx, func() { cancel(); st.streams.Add(-1) }, true
}

// ExtendWrite gives the answer d more time than WriteTimeout allows, counted
// from now, for a handler that waits on purpose (the emulator's latency
// fault).
func ExtendWrite(w http.ResponseWriter, r *http.Request, d time.Duration) {
	wt := DefaultWriteTimeout
	if st := fromContext(r.Context()); st != nil {
		wt = st.lim.WriteTimeout
	}
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + wt))
}

// writeError answers in Google's error shape, which every gchat listener
// speaks: {"error":{"code":…,"message":…,"status":…}}.
func writeError(w http.ResponseWriter, code int, status, msg string) {
	body, _ := json.Marshal(errorBody(code, status, msg))
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(code)
	w.Write(append(body, '\n'))
}

func errorBody(code int, status, msg string) any {
	type e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	return struct {
		Error e `json:"error"`
	}{e{code, msg, status}}
}

// cleanPath is ServeMux's canonical form of a path: path.Clean keeping a
// trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}
