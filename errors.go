package gchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat/card"
)

// maxErrorBody caps how much of an error answer is read and kept.
const maxErrorBody = 16 << 10

// APIError is an answer from Google (or anything speaking its dialect) other
// than 2xx. It is shaped like googleapi.Error. Its Error method never contains
// the webhook URL.
type APIError struct {
	// StatusCode is the HTTP status, always set.
	StatusCode int
	// Status is Google's canonical status from the error envelope, such as
	// "INVALID_ARGUMENT" or "RESOURCE_EXHAUSTED"; empty when the body was not
	// Google's envelope.
	Status string
	// Message is Google's human-readable message.
	Message string
	// Details are the envelope's details (google.rpc.ErrorInfo, BadRequest, …)
	// as raw JSON.
	Details []json.RawMessage
	// Body is the raw answer, capped at 16 KiB.
	Body []byte
	// RetryAfter is the server's Retry-After, or zero when absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "google chat: HTTP %d", e.StatusCode)
	if e.Status != "" {
		b.WriteString(" " + e.Status)
	}
	switch {
	case e.Message != "":
		b.WriteString(": " + e.Message)
	case e.Status == "" && len(e.Body) > 0:
		body := strings.TrimSpace(string(e.Body))
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		b.WriteString(": " + body)
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: 429 and the
// 5xx statuses of the retry table.
func (e *APIError) Temporary() bool { return classifyStatus(e.StatusCode) == retry }

// Retryable reports whether err is worth retrying: an APIError whose status
// is in the retry table (429, 500, 502, 503, 504) or a transport error.
// Validation errors, other statuses and a cancelled context are final.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Temporary()
	}
	return !errors.Is(err, errCallerContext)
}

// decision is what to do after one attempt.
type decision int

const (
	done decision = iota
	retry
	final
)

// classifyStatus is the one table of status codes: 2xx done; 429 and the
// transient 5xx retried (docs/google-chat.md §6, quickstart "Handle errors"); everything
// else final, since repeating a refused request cannot change the answer.
func classifyStatus(code int) decision {
	switch {
	case code >= 200 && code < 300:
		return done
	case code == http.StatusTooManyRequests,
		code == http.StatusInternalServerError,
		code == http.StatusBadGateway,
		code == http.StatusServiceUnavailable,
		code == http.StatusGatewayTimeout:
		return retry
	}
	return final
}

// errCallerContext marks a send stopped by the caller's context, which must
// not be retried (unlike a per-attempt timeout).
var errCallerContext = errors.New("interrupted")

// newAPIError reads a non-2xx answer.
func newAPIError(resp *http.Response, now time.Time) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{StatusCode: resp.StatusCode, Body: body, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	var env struct {
		Error struct {
			Code    int               `json:"code"`
			Message string            `json:"message"`
			Status  string            `json:"status"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Status, e.Message, e.Details = env.Error.Status, env.Error.Message, env.Error.Details
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; zero when absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ValidationError says why a message was not sent: problems Google would
// refuse, or show as an empty message. Nothing was sent.
type ValidationError struct {
	Problems card.Problems
}

func (e *ValidationError) Error() string {
	errs := e.Problems.Errors()
	if len(errs) == 1 {
		return "invalid message: " + errs[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid message: %d problems:", len(errs))
	for _, p := range errs {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// PartError reports a split message of which only some parts were sent.
type PartError struct {
	// Part is the 1-based index of the part that failed; Parts the total.
	Part, Parts int
	// Sent are the responses of the parts sent before the failure.
	Sent []*Response
	Err  error
}

func (e *PartError) Error() string {
	return fmt.Sprintf("part %d of %d (parts 1-%d were sent): %v", e.Part, e.Parts, e.Part-1, e.Err)
}

func (e *PartError) Unwrap() error { return e.Err }
