package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gchatkit/gchat/card"
)

// Limits of what a request record keeps of a request and its answer. Google
// takes at most 32,000 bytes of message (docs/google-chat.md §4.1), so an
// accepted body is kept whole; a refused larger one is cut.
const (
	maxCapturedBody   = 40 << 10
	maxCapturedAnswer = 40 << 10
	// maxCapturedHeader bounds the request's headers and its query string
	// in a record: 10,000 records of a client sending a megabyte of headers
	// would otherwise hold 10 GB.
	maxCapturedHeader = 8 << 10
)

// truncatedHeader names the marker a record's header gets when it was cut.
const truncatedHeader = "X-Gchat-Emulator-Truncated"

// masked replaces a credential wherever a request record shows it.
const masked = "REDACTED"

// RequestDetail is a webhook request as the emulator received it and the
// answer it gave, with every credential masked: the key and token in the
// query, credential headers, and any copy of the key or token elsewhere.
type RequestDetail struct {
	Record RequestRecord `json:"record"`
	Method string        `json:"method"`
	Path   string        `json:"path"`
	// Query is the query string as sent, in order; key and token masked.
	Query []Pair `json:"query"`
	// Header is the request's headers, sorted by name; credentials masked.
	Header []Pair `json:"header"`
	// Body is the body as sent (as far as the emulator read it: a request
	// refused for its credentials is answered before its body is read).
	Body          string `json:"body"`
	BodyBytes     int    `json:"bodyBytes"`
	BodyTruncated bool   `json:"bodyTruncated,omitempty"`
	// Answer is what the emulator answered; Status 0 when it answered
	// nothing (reset, hang, lost).
	Answer Answer `json:"answer"`
	// Problems are what the checker found in the message, for a request
	// that posted one.
	Problems []apiProblem `json:"problems"`
}

// Pair is a query parameter or a header.
type Pair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Answer is the answer to a webhook request.
type Answer struct {
	Status    int    `json:"status"`
	Header    []Pair `json:"header"`
	Body      string `json:"body"`
	Truncated bool   `json:"truncated,omitempty"`
}

// capture records what a webhook request carried and what it was answered,
// for its request record. The handler's goroutine alone writes to it, and
// seal ends its use before the record is shared. Nothing is masked here: the
// hot path only copies, and a request view masks when it is asked for.
type capture struct {
	w       http.ResponseWriter
	r       *http.Request // the request as it arrived; its header is not changed
	body    bytes.Buffer
	bodyN   int
	answer  bytes.Buffer
	answerN int
	status  int
	header  http.Header
}

// captured is a sealed capture: immutable, shared by copies of its record.
type captured struct {
	method, path, rawQuery string
	header, answerHeader   http.Header
	body, answer           []byte
	bodyN, answerN, status int
	problems               card.Problems
	secrets                []string // of a query cut short, else nil
}

// captureRequest wraps the request's body and the response writer so that
// rec's detail holds the request and its answer once rec is recorded.
func (s *Server) captureRequest(w http.ResponseWriter, r *http.Request, rec *RequestRecord) (http.ResponseWriter, *http.Request) {
	c := &capture{w: w, r: r}
	if r.ContentLength > 0 {
		c.body.Grow(int(min(r.ContentLength, maxCapturedBody)))
	}
	if r.Body != nil {
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = &captureBody{ReadCloser: r.Body, c: c}
		r = r2
	}
	rec.capture = c
	return c, r
}

// Header, Write and WriteHeader make capture a ResponseWriter; Unwrap lets
// http.ResponseController reach the connection (abort hijacks it).
func (c *capture) Header() http.Header { return c.w.Header() }

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
		c.header = c.w.Header().Clone()
		if n, err := strconv.Atoi(c.header.Get("Content-Length")); err == nil && n > 0 {
			c.answer.Grow(min(n, maxCapturedAnswer))
		}
	}
	c.w.WriteHeader(code)
}

func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	c.answerN += len(p)
	if room := maxCapturedAnswer - c.answer.Len(); room > 0 {
		c.answer.Write(p[:min(room, len(p))])
	}
	return c.w.Write(p)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.w }

type captureBody struct {
	io.ReadCloser
	c *capture
}

func (b *captureBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.bodyN += n
	if room := maxCapturedBody - b.c.body.Len(); room > 0 {
		b.c.body.Write(p[:min(room, n)])
	}
	return n, err
}

// seal ends the capture. A request answered with nothing (reset, hang,
// lost) keeps no answer, whatever was written before the fault.
func (c *capture) seal(rec RequestRecord, problems card.Problems) *captured {
	query := c.r.URL.RawQuery
	var secrets []string
	if len(query) > maxCapturedHeader {
		// The credentials may lie beyond the cut: keep them to mask.
		secrets = querySecrets(query, "")
		query = query[:maxCapturedHeader]
	}
	d := &captured{
		secrets: secrets,
		method:  c.r.Method, path: c.r.URL.Path, rawQuery: query, header: capHeader(c.r.Header),
		body: c.body.Bytes(), bodyN: c.bodyN, problems: problems,
	}
	if rec.Status != 0 {
		d.status, d.answerHeader, d.answer, d.answerN = c.status, c.header, c.answer.Bytes(), c.answerN
	}
	return d
}

// capHeader returns h, or a copy cut to maxCapturedHeader bytes of names
// and values (names in order) with a truncatedHeader marker.
func capHeader(h http.Header) http.Header {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	if n <= maxCapturedHeader {
		return h
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := http.Header{truncatedHeader: {strconv.Itoa(n) + " bytes of headers, cut"}}
	n = 0
	for _, k := range names {
		for _, v := range h[k] {
			if n += len(k) + len(v); n > maxCapturedHeader {
				return out
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

// view is the request detail, every credential masked.
func (d *captured) view(key string) RequestDetail {
	m := masker{secrets: querySecrets(d.rawQuery, key)}
	if d.secrets != nil {
		m.secrets = append(d.secrets, m.secrets...) // the longest first is best effort here
	}
	out := RequestDetail{
		Method: d.method, Path: d.path, Query: maskQuery(d.rawQuery), Header: m.header(d.header),
		Body: m.scrub(string(d.body)), BodyBytes: d.bodyN, BodyTruncated: d.bodyN > len(d.body),
		Problems: apiProblems(d.problems),
	}
	out.Answer.Header = []Pair{}
	if d.status != 0 {
		out.Answer = Answer{Status: d.status, Header: m.header(d.answerHeader), Body: m.scrub(string(d.answer)), Truncated: d.answerN > len(d.answer)}
	}
	return out
}

// masker masks the credentials of one request.
type masker struct{ secrets []string }

// querySecrets returns the key and token of a raw query, raw and decoded,
// and the emulator's key: the values to mask wherever they appear.
func querySecrets(raw, key string) []string {
	out := []string{key}
	for _, p := range strings.Split(raw, "&") {
		name, v, _ := strings.Cut(p, "=")
		if !secretName(name) || v == "" {
			continue
		}
		out = append(out, v)
		if d, err := url.QueryUnescape(v); err == nil && d != v {
			out = append(out, d)
		}
		if e := url.QueryEscape(v); e != v {
			out = append(out, e)
		}
	}
	// Longest first, so that a value containing another is masked whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return slices.DeleteFunc(out, func(s string) bool { return len(s) < 4 })
}

// secretName reports whether a query parameter carries a credential.
func secretName(name string) bool {
	if d, err := url.QueryUnescape(name); err == nil {
		name = d
	}
	n := strings.ToLower(name)
	return n == "key" || strings.HasSuffix(n, "token")
}

// maskQuery splits a raw query in order, its credentials masked.
func maskQuery(raw string) []Pair {
	out := []Pair{}
	if raw == "" {
		return out
	}
	for _, p := range strings.Split(raw, "&") {
		name, v, _ := strings.Cut(p, "=")
		dn, err := url.QueryUnescape(name)
		if err != nil {
			dn = name
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		if secretName(name) {
			dv = masked
		}
		out = append(out, Pair{dn, dv})
	}
	return out
}

// credentialHeader reports whether a header carries a credential.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-goog-api-key":
		return true
	}
	return strings.Contains(n, "token") || strings.Contains(n, "secret") || strings.HasSuffix(n, "-key")
}

// header lists a header sorted by name, credentials masked.
func (c masker) header(h http.Header) []Pair {
	out := []Pair{}
	for name, vs := range h {
		for _, v := range vs {
			if credentialHeader(name) {
				v = masked
			}
			out = append(out, Pair{name, c.scrub(v)})
		}
	}
	slices.SortStableFunc(out, func(a, b Pair) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// scrub masks every copy of the request's credentials in s.
func (c masker) scrub(s string) string {
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, masked)
	}
	return s
}

func apiProblems(ps card.Problems) []apiProblem {
	out := make([]apiProblem, len(ps))
	for i, p := range ps {
		out[i] = apiProblem{p.Path, p.Severity.String(), p.Message}
	}
	return out
}

// spaceLocked finds a space by its id, its name ("spaces/ID") or its
// display name (case-insensitive; the oldest space when several share it).
// s.mu must be held.
func (s *Server) spaceLocked(ref string) *space {
	if sp := s.spaces[ref]; sp != nil {
		return sp
	}
	if id, ok := strings.CutPrefix(ref, "spaces/"); ok {
		if sp := s.spaces[id]; sp != nil {
			return sp
		}
	}
	var found *space
	for _, sp := range s.spaces {
		if strings.EqualFold(sp.displayName, ref) && (found == nil || sp.seq < found.seq) {
			found = sp
		}
	}
	return found
}

// notFound is the error for a space reference that names no space.
func spaceNotFound(ref string) error {
	return fmt.Errorf("space %q (no space has this id or display name): %w", ref, ErrNotFound)
}

// Request returns the detail of one request record of a space, by the
// record's id.
func (s *Server) Request(spaceRef, id string) (RequestDetail, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaceLocked(spaceRef)
	if sp == nil {
		return RequestDetail{}, spaceNotFound(spaceRef)
	}
	for i := len(sp.requests) - 1; i >= 0; i-- {
		if r := &sp.requests[i]; r.ID == id {
			return r.detailView(s.key), nil
		}
	}
	return RequestDetail{}, fmt.Errorf("request %q of space %s (records keep the last %d requests): %w", id, sp.id, s.maxRequests, ErrNotFound)
}

// MessageRequest returns the request that posted a message: msg is the
// message's name, or its last part ("M.T").
func (s *Server) MessageRequest(spaceRef, msg string) (RequestDetail, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaceLocked(spaceRef)
	if sp == nil {
		return RequestDetail{}, spaceNotFound(spaceRef)
	}
	name := messageName(sp.id, msg)
	for i := range sp.requests { // the first request to answer with it made it
		if r := &sp.requests[i]; r.Message == name {
			return r.detailView(s.key), nil
		}
	}
	return RequestDetail{}, fmt.Errorf("request of message %q (records keep the last %d requests): %w", name, s.maxRequests, ErrNotFound)
}

func (r *RequestRecord) detailView(key string) RequestDetail {
	d := RequestDetail{Query: []Pair{}, Header: []Pair{}, Problems: []apiProblem{}, Answer: Answer{Header: []Pair{}}}
	if r.detail != nil {
		d = r.detail.view(key)
	}
	d.Record = *r
	d.Record.detail = nil
	return d
}

// messageName completes "M.T" or "M" to a message name of the space.
func messageName(spaceID, msg string) string {
	if strings.HasPrefix(msg, "spaces/") {
		return msg
	}
	return "spaces/" + spaceID + "/messages/" + msg
}

// DeleteMessage deletes one message of a space; msg is its name or its last
// part ("M.T"). Its requestId and messageId are forgotten with it, and its
// thread with its last message. Subscribers get a "delete" event.
func (s *Server) DeleteMessage(spaceRef, msg string) error {
	s.mu.Lock()
	sp := s.spaceLocked(spaceRef)
	if sp == nil {
		s.mu.Unlock()
		return fmt.Errorf("delete message: %w", spaceNotFound(spaceRef))
	}
	name := messageName(sp.id, msg)
	i := slices.IndexFunc(sp.msgs, func(m *Message) bool {
		return m.Name == name || !strings.Contains(msg, ".") && strings.HasPrefix(m.Name, name+".")
	})
	var m *Message
	if i >= 0 {
		m = sp.msgs[i]
		sp.msgs = slices.Delete(sp.msgs, i, i+1)
		sp.forget(m)
		s.notifyLocked()
	}
	s.mu.Unlock()
	if m == nil {
		return fmt.Errorf("delete message %q: %w", name, ErrNotFound)
	}
	s.events.publish("delete", struct {
		Space string `json:"space"`
		Name  string `json:"name"`
	}{m.Space, m.Name})
	return nil
}

// ClearSpace drops the messages and threads of one space, and its
// requestId and messageId memory; its webhooks, records and counts stay.
// Subscribers get a "reset" event.
func (s *Server) ClearSpace(spaceRef string) error {
	s.mu.Lock()
	sp := s.spaceLocked(spaceRef)
	if sp != nil {
		sp.resetMessages()
		s.notifyLocked()
	}
	s.mu.Unlock()
	if sp == nil {
		return fmt.Errorf("clear space: %w", spaceNotFound(spaceRef))
	}
	s.events.publish("reset", struct{}{})
	return nil
}

// SearchFilter selects messages across spaces.
type SearchFilter struct {
	// Query is matched, case-insensitively, against the message's text,
	// card texts, thread key and sender name; empty matches every message.
	Query string
	// Space is a space id or display name; empty means every space.
	Space string
	// Limit is the most results; zero means 100.
	Limit int
}

// Search returns the messages that match f, newest first. It matches
// outside the lock: stored messages are immutable.
func (s *Server) Search(f SearchFilter) ([]Message, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	var lists [][]*Message
	s.mu.RLock()
	if f.Space != "" {
		sp := s.spaceLocked(f.Space)
		if sp == nil {
			s.mu.RUnlock()
			return nil, spaceNotFound(f.Space)
		}
		lists = append(lists, slices.Clone(sp.msgs))
	} else {
		for _, sp := range s.spaces {
			lists = append(lists, slices.Clone(sp.msgs))
		}
	}
	s.mu.RUnlock()
	var out []Message
	unescape := bodyUnescaper()
	for _, ms := range lists {
		n := 0
		for i := len(ms) - 1; i >= 0 && n < f.Limit; i-- {
			if q == "" || matches(ms[i], q, unescape) {
				out = append(out, *ms[i])
				n++
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Message) int { return b.CreateTime.Compare(a.CreateTime) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// bodyUnescaper undoes what encoding/json escapes in the strings of a body,
// so that a search for "a & b" or a quote finds it.
func bodyUnescaper() *strings.Replacer {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\"`, `"`, `\\`, `\`, `\n`, "\n")
}

// matches reports whether a message holds q (lower-case) in any string of
// its body as sent or in its sender's name. The text is built per search,
// not kept: a search is rare, and a copy per message would cost a quarter
// more memory per retained message.
func matches(m *Message, q string, unescape *strings.Replacer) bool {
	return strings.Contains(strings.ToLower(m.Sender.DisplayName), q) ||
		strings.Contains(strings.ToLower(unescape.Replace(string(m.Body))), q)
}

// requestSeq names request records: "r1", "r2", …
func (s *Server) nextRequestIDLocked() string {
	s.requestSeq++
	return "r" + strconv.Itoa(s.requestSeq)
}

// prettyJSON indents a JSON text, keeping its order of names; anything
// else is returned as it is.
func prettyJSON(s string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(s), "", "  ") != nil {
		return s
	}
	return b.String()
}
