package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gchatkit/gchat/internal/httpserve"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Limits of the test API.
const (
	maxAPIBody     = 1 << 20
	defaultWait    = 10 * time.Second
	maxWait        = 5 * time.Minute
	timedOutHeader = "X-Gchat-Timed-Out"
)

func (s *Server) handleSpaceList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"spaces": s.Spaces()})
}

func (s *Server) handleSpaceCreate(w http.ResponseWriter, r *http.Request) {
	var spec SpaceSpec
	if !decode(w, r, &spec) {
		return
	}
	sp, err := s.CreateSpace(spec)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sp)
}

func (s *Server) handleSpaceGet(w http.ResponseWriter, r *http.Request) {
	sp, err := s.Space(r.PathValue("space"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sp)
}

func (s *Server) handleSpaceDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteSpace(r.PathValue("space")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) {
	var spec WebhookSpec
	if !decode(w, r, &spec) {
		return
	}
	h, err := s.CreateWebhook(r.PathValue("space"), spec)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteWebhook(r.PathValue("space"), r.PathValue("webhook")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleMessageList lists messages: ?thread=T&since=RFC3339&limit=N, and with
// &wait=N&timeout=D it blocks until N match or D passes.
func (s *Server) handleMessageList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := MessageFilter{Thread: q.Get("thread")}
	var err error
	if v := q.Get("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			writeErr(w, badRequest("since %q: want an RFC 3339 time", v))
			return
		}
	}
	if f.Limit, err = intParam(q.Get("limit")); err != nil {
		writeErr(w, badRequest("limit %q: want a number of 0 or more", q.Get("limit")))
		return
	}
	wait, err := intParam(q.Get("wait"))
	if err != nil {
		writeErr(w, badRequest("wait %q: want a number of 0 or more", q.Get("wait")))
		return
	}
	timeout := defaultWait
	if v := q.Get("timeout"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout < 0 || timeout > maxWait {
			writeErr(w, badRequest("timeout %q: want a duration from 0 to %v, like 5s", v, maxWait))
			return
		}
	}
	ctx := r.Context()
	if wait > 0 && timeout > 0 {
		var done func()
		var ok bool
		if ctx, done, ok = httpserve.Stream(w, r); !ok {
			return
		}
		defer done()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ms, err := s.waitMessages(ctx, r.PathValue("space"), f, wait)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed):
		w.Header().Set(timedOutHeader, "true")
	case errors.Is(err, context.Canceled):
		return // the client went away
	case err != nil:
		writeErr(w, err)
		return
	}
	if ms == nil {
		ms = []Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms})
}

func intParam(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err == nil && n < 0 {
		err = errors.New("negative")
	}
	return n, err
}

func (s *Server) handleMessageDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.DeleteMessage(r.PathValue("space"), r.PathValue("message")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSpaceClear(w http.ResponseWriter, r *http.Request) {
	if err := s.ClearSpace(r.PathValue("space")); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMessageRequest(w http.ResponseWriter, r *http.Request) {
	d, err := s.MessageRequest(r.PathValue("space"), r.PathValue("message"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleRequestGet(w http.ResponseWriter, r *http.Request) {
	d, err := s.Request(r.PathValue("space"), r.PathValue("request"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// maxSearch bounds the results of one search.
const maxSearch = 1000

// handleMessageSearch searches every space: ?q=TEXT&space=S&limit=N, newest
// first.
func (s *Server) handleMessageSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"))
	if err != nil || limit > maxSearch {
		writeErr(w, badRequest("limit %q: want a number from 0 to %d", q.Get("limit"), maxSearch))
		return
	}
	ms, err := s.Search(SearchFilter{Query: q.Get("q"), Space: q.Get("space"), Limit: limit})
	if err != nil {
		writeErr(w, err)
		return
	}
	if ms == nil {
		ms = []Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms})
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Info())
}

func (s *Server) handleMessageLatest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("space")
	s.mu.RLock()
	ms, ok := s.matchLocked(id, MessageFilter{Limit: 1})
	s.mu.RUnlock()
	switch {
	case !ok:
		writeErr(w, spaceNotFound(id))
	case len(ms) == 0:
		writeErr(w, fmt.Errorf("space %q has no messages: %w", id, ErrNotFound))
	default:
		writeJSON(w, http.StatusOK, ms[0])
	}
}

func (s *Server) handleThreadList(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Threads(r.PathValue("space"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"threads": ts})
}

func (s *Server) handleRequestList(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Requests(r.PathValue("space"))
	if err != nil {
		writeErr(w, err)
		return
	}
	if rs == nil {
		rs = []RequestRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": rs})
}

func (s *Server) handleMessagesClear(w http.ResponseWriter, r *http.Request) {
	s.ClearMessages()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) handleFaultsGet(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

// handleFaultsPut merges: "global", when present, replaces the global faults;
// each space present replaces that space's faults, and null removes them.
func (s *Server) handleFaultsPut(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Global *Faults            `json:"global"`
		Spaces map[string]*Faults `json:"spaces"`
	}
	if !decode(w, r, &in) {
		return
	}
	// Read, merge and write under one lock, so that two PUTs do not lose
	// each other's spaces.
	s.mu.Lock()
	fc := s.faults.clone()
	if in.Global != nil {
		fc.Global = *in.Global
	}
	for id, f := range in.Spaces {
		if f == nil {
			delete(fc.Spaces, id)
		} else {
			fc.Spaces[id] = *f
		}
	}
	err := fc.Validate()
	if err == nil {
		s.faults = fc
	}
	s.mu.Unlock()
	if err != nil {
		writeErr(w, fmt.Errorf("%w: %w", ErrInvalid, err))
		return
	}
	writeJSON(w, http.StatusOK, fc)
}

func (s *Server) handleFaultsDelete(w http.ResponseWriter, r *http.Request) {
	s.SetFaults(FaultConfig{})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSettingsGet(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Settings())
}

// handleSettingsPut merges: fields present replace the current values.
func (s *Server) handleSettingsPut(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	s.mu.Lock()
	set := *s.settings
	prec := set.ThreadPrecedence
	set.ThreadPrecedence = nil // decoding into it would write the shared array
	err := strictUnmarshal(raw, &set)
	if set.ThreadPrecedence == nil {
		set.ThreadPrecedence = prec
	}
	if err == nil {
		err = set.Validate()
	}
	if err == nil {
		s.settings = &set
	}
	s.mu.Unlock()
	if err != nil {
		writeErr(w, badRequest("%v", err))
		return
	}
	writeJSON(w, http.StatusOK, set)
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

func handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// handleAPINotFound answers API paths that match no route.
func handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	writeErr(w, fmt.Errorf("no API route %s %s: %w", r.Method, r.URL.Path, ErrNotFound))
}

// handleMethodNotAllowed answers other methods on the webhook path.
// docs/google-chat.md §11.1 [UNK]: Google maps them to other API methods that need OAuth.
func handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	webhookapi.WriteError(w, nil, webhookapi.MethodNotAllowed()) // with Allow: POST
}

// decode reads a JSON request body into v, or answers 400 and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeErr(w, badRequest("request body: %v", err))
		return false
	}
	return true
}

// requireJSON refuses state-changing requests that are not
// Content-Type: application/json, which a cross-site HTML form cannot send.
func requireJSON(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				webhookapi.WriteError(w, nil, &webhookapi.Error{
					Code:    http.StatusUnsupportedMediaType,
					Status:  "INVALID_ARGUMENT",
					Message: "Content-Type must be application/json",
				})
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// checkHost refuses requests whose Host header is not this emulator's (DNS
// rebinding: another web page must not drive the page or the API).
func (s *Server) checkHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			webhookapi.WriteError(w, nil, webhookapi.PermissionDenied(fmt.Sprintf("Host %q is not allowed", r.Host)))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// badRequest is an API error naming the bad input.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// writeErr maps an error of the in-process methods to Google's envelope.
func writeErr(w http.ResponseWriter, err error) {
	var e *webhookapi.Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, ErrNotFound):
		e = webhookapi.NotFound(err.Error())
	case errors.Is(err, ErrExists):
		e = webhookapi.AlreadyExists(err.Error())
	case errors.Is(err, ErrInvalid):
		e = webhookapi.InvalidArgument(err.Error())
	default:
		e = webhookapi.Internal(err.Error())
	}
	webhookapi.WriteError(w, nil, e)
}

// writeJSON writes an API answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
