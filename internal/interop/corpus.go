package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SendersDir is the corpus of real senders, relative to this package.
const SendersDir = "testdata/senders"

// Evidence tags, as in docs/senders.md.
var evidenceTags = []string{"documented", "observed", "inferred", "unknown"}

// Case is one request of a real sender: the exact HTTP request it makes
// (NAME.http) and what is known of Google's answer (NAME.json).
type Case struct {
	// Name is the file name without extension, e.g. "grafana-firing".
	Name string
	// Method, Target (path and query, with the placeholders SPACE_ID, KEY
	// and TOKEN), Header and Body are the request as the sender makes it.
	Method, Target string
	Header         http.Header
	Body           []byte
	Expect
}

// Expect is a case's NAME.json.
type Expect struct {
	// Sender, Version and Source name the sender and where its request
	// was read (its published source or documentation).
	Sender  string `json:"sender"`
	Version string `json:"version"`
	Source  string `json:"source"`
	// Sends says in a few words what the request holds.
	Sends string `json:"sends"`
	// Google is Google's answer, with its evidence.
	Google Answer `json:"google"`
	// Shows are texts the emulator's page must show for an accepted
	// message.
	Shows []string `json:"shows"`
}

// Answer is Google's answer to a case.
type Answer struct {
	Status int `json:"status"`
	// Code and Message are the error envelope's status and message, for a
	// refusal.
	Code    string `json:"code"`
	Message string `json:"message"`
	// Evidence is documented, observed, inferred or unknown; Why names it.
	Evidence string `json:"evidence"`
	Why      string `json:"why"`
}

// LoadCorpus reads every NAME.http of dir with its NAME.json. A request
// without its expectation, an expectation without its request or without an
// evidence tag is an error, so that no sender's file goes untested.
func LoadCorpus(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("load corpus: no .http files in %s", dir)
	}
	metas, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	for _, m := range metas {
		if !slices.Contains(files, strings.TrimSuffix(m, ".json")+".http") {
			return nil, fmt.Errorf("load corpus: %s has no request (.http)", m)
		}
	}
	var cases []Case
	for _, f := range files {
		c, err := loadCase(f)
		if err != nil {
			return nil, fmt.Errorf("load corpus: %w", err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

func loadCase(file string) (Case, error) {
	c := Case{Name: strings.TrimSuffix(filepath.Base(file), ".http")}
	raw, err := os.ReadFile(file)
	if err != nil {
		return c, err
	}
	if err := c.parseRequest(raw); err != nil {
		return c, fmt.Errorf("%s: %w", file, err)
	}
	meta := strings.TrimSuffix(file, ".http") + ".json"
	data, err := os.ReadFile(meta)
	if err != nil {
		return c, fmt.Errorf("%s has no expectation: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.Expect); err != nil {
		return c, fmt.Errorf("%s: %w", meta, err)
	}
	switch {
	case c.Sender == "" || c.Version == "" || c.Source == "" || c.Sends == "":
		return c, fmt.Errorf("%s: sender, version, source and sends are required", meta)
	case c.Google.Status == 0:
		return c, fmt.Errorf("%s: google.status is required", meta)
	case !slices.Contains(evidenceTags, c.Google.Evidence):
		return c, fmt.Errorf("%s: google.evidence %q: want one of %q", meta, c.Google.Evidence, evidenceTags)
	case c.Google.Status != http.StatusOK && (c.Google.Code == "" || c.Google.Message == ""):
		return c, fmt.Errorf("%s: a refusal needs google.code and google.message", meta)
	}
	return c, nil
}

// parseRequest reads an HTTP/1.1 request as written on the wire: request
// line, headers, an empty line, the body. Lines may end in CRLF or LF; one
// final newline after the body belongs to the file, not the body. A
// Content-Length header must match the body.
func (c *Case) parseRequest(raw []byte) error {
	sep := []byte("\r\n\r\n")
	i := bytes.Index(raw, sep)
	if j := bytes.Index(raw, []byte("\n\n")); j >= 0 && (i < 0 || j < i) {
		i, sep = j, []byte("\n\n")
	}
	if i < 0 {
		return errors.New("no empty line after the headers")
	}
	head, body := raw[:i+len(sep)/2], raw[i+len(sep):]
	body = bytes.TrimSuffix(body, []byte("\n"))
	body = bytes.TrimSuffix(body, []byte("\r"))
	tp := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(head), strings.NewReader("\r\n"))))
	line, err := tp.ReadLine()
	if err != nil {
		return fmt.Errorf("request line: %w", err)
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || proto != "HTTP/1.1" || !strings.HasPrefix(target, "/") {
		return fmt.Errorf("request line %q: want METHOD /path?query HTTP/1.1", line)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	if cl := h.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
		return fmt.Errorf("Content-Length %s, but the body has %d bytes", cl, len(body))
	}
	c.Method, c.Target, c.Header, c.Body = method, target, http.Header(h), body
	return nil
}

// NewRequest returns the case's request aimed at base (scheme and host, e.g.
// an httptest server's URL) with the placeholders SPACE_ID, KEY and TOKEN of
// the target replaced. The headers are the sender's, but for Host (base's)
// and Content-Length (the body's).
func (c *Case) NewRequest(base, space, key, token string) (*http.Request, error) {
	target := strings.NewReplacer("SPACE_ID", space, "KEY", key, "TOKEN", token).Replace(c.Target)
	r, err := http.NewRequest(c.Method, strings.TrimSuffix(base, "/")+target, bytes.NewReader(c.Body))
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", c.Name, err)
	}
	for k, vs := range c.Header {
		switch k {
		case "Host", "Content-Length", "Connection", "Upgrade", "Http2-Settings":
			continue // hop-by-hop or the transport's own
		}
		r.Header[k] = slices.Clone(vs)
	}
	if _, ok := c.Header["User-Agent"]; !ok {
		r.Header.Set("User-Agent", "") // Go's client would add its own
	}
	return r, nil
}
