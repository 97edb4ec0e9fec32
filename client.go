package gchat

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gchatkit/gchat/card"
)

// Defaults of the Client's zero value.
const (
	// DefaultTimeout bounds one attempt.
	DefaultTimeout = 30 * time.Second
	// DefaultPace is the interval between two requests to one space: just
	// over Google's 1 request per second per space (docs/google-chat.md §4), so that clock
	// skew and network jitter do not turn into 429s.
	DefaultPace = 1050 * time.Millisecond
)

// Client sends messages to webhooks. Its zero value is ready to use: Google's
// limits, retries with backoff, pacing per space. A Client is safe for
// concurrent use and should be reused, since pacing is per Client.
type Client struct {
	// HTTPClient sends the requests. Nil means a client on
	// http.DefaultTransport, which honours HTTPS_PROXY and NO_PROXY.
	HTTPClient *http.Client
	// Timeout bounds each attempt. Zero means DefaultTimeout; negative, none
	// beyond the context's.
	Timeout time.Duration
	// Retry says when to try again. The zero value is the default policy;
	// RetryPolicy{MaxAttempts: 1} switches retries off.
	Retry RetryPolicy
	// Pace is the least interval between two requests to one Google space,
	// across every send of this Client: a token bucket of burst 1 keyed by
	// the space id, since Google's quota is per space and shared by all
	// webhooks of it. Zero means DefaultPace; negative switches pacing off.
	Pace time.Duration
	// Limits are the sizes a request must fit; a larger message is split by
	// Fit and sent as parts. The zero value is Google's limits.
	Limits Limits
	// Logger receives a record for each failed attempt. Nil discards.
	Logger *slog.Logger

	mu   sync.Mutex
	next map[string]time.Time // per space: the earliest start of the next request
}

// Response is Google's answer to a sent message. Webhook answers carry only
// the message name and thread name reliably (docs/google-chat.md §5), so nothing else is read.
type Response struct {
	// Name is the message, "spaces/S/messages/M".
	Name string `json:"name"`
	// Thread holds the thread name, "spaces/S/threads/T".
	Thread Thread `json:"thread"`
	// Continuations are the answers to the further parts, when the message
	// was too large and Send split it.
	Continuations []*Response `json:"continuations,omitempty"`
}

// Send sends msg to hook with a zero Client: Client.Send for a one-off
// message. Programs that send more than once should keep a Client, which
// paces per space across its sends.
//
// The webhook is a *Webhook, as for Client.Send, so that the URL is parsed
// (and its mistakes reported) once, and held in a form that never prints
// the token.
func Send(ctx context.Context, hook *Webhook, msg *Message, opts ...Option) (*Response, error) {
	var c Client
	return c.Send(ctx, hook, msg, opts...)
}

// Send checks msg, fits it to the limits and sends it, retrying per the
// policy. A message with errors (see Message.Check; for a message too large to
// go in one request, the errors of its parts) is refused before anything is
// sent, with a *ValidationError. A message over the limits goes
// out as a head message and continuations in its thread; when a later part
// fails, the error is a *PartError saying which parts were sent. Google's
// refusals are *APIError.
//
// The request id (Options.RequestID, else a random one) is the same on every
// retry, so that Google can recognise a repeated request.
func (c *Client) Send(ctx context.Context, hook *Webhook, msg *Message, opts ...Option) (*Response, error) {
	if hook == nil {
		return nil, errors.New("send message: nil webhook")
	}
	if msg == nil {
		return nil, errors.New("send message: nil message")
	}
	o := collect(opts)
	if o.MessageID != "" {
		if err := CheckMessageID(o.MessageID); err != nil {
			return nil, &ValidationError{Problems: problemOf("messageId", err)}
		}
	}
	if o.RequestID == "" {
		o.RequestID = newRequestID()
	}
	body, err := Encode(msg)
	if err != nil {
		return nil, fmt.Errorf("send message: encode: %w", err)
	}
	lim := c.Limits.withDefaults()
	if len(body) <= lim.MaxBytes && utf16Len(msg.Text) <= lim.MaxText && utf16Len(msg.FallbackText) <= lim.MaxText {
		if problems := msg.Check(); len(problems.Errors()) > 0 {
			return nil, &ValidationError{Problems: problems}
		}
		return c.send(ctx, hook, body, o.Reply.effective(msg), o)
	}
	// Too large: what goes on the wire are the parts, so they are what is
	// checked (a card over the size limit is an error on its own, and Fit
	// trims it).
	parts, err := Fit(*msg, o, c.Limits)
	if err != nil {
		return nil, fmt.Errorf("send message: %w", err)
	}
	var problems card.Problems
	for i, p := range parts {
		for _, pr := range p.Message.Check().Errors() {
			pr.Path = fmt.Sprintf("part %d: %s", i+1, pr.Path)
			problems = append(problems, pr)
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	var head *Response
	var sent []*Response
	for i, p := range parts {
		body, err := Encode(&p.Message)
		if err != nil {
			return nil, fmt.Errorf("send message: encode part %d: %w", i+1, err)
		}
		resp, err := c.send(ctx, hook, body, p.Options.Reply.effective(&p.Message), p.Options)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			return head, &PartError{Part: i + 1, Parts: len(parts), Sent: sent, Err: err}
		}
		sent = append(sent, resp)
		if i == 0 {
			head = resp
		} else {
			head.Continuations = append(head.Continuations, resp)
		}
	}
	return head, nil
}

// send delivers one encoded request, with retries.
func (c *Client) send(ctx context.Context, hook *Webhook, body []byte, reply ReplyOption, o Options) (*Response, error) {
	target := hook.requestURL(reply, o.MessageID, o.RequestID)
	policy := c.Retry.withDefaults()
	start := time.Now()
	for attempt := 1; ; attempt++ {
		if c.wait(ctx, hook.Space()) != nil {
			return nil, fmt.Errorf("send message: %w", interrupted(ctx))
		}
		resp, err := c.attempt(ctx, hook, target, body)
		if err == nil {
			return resp, nil
		}
		if !Retryable(err) {
			return nil, fmt.Errorf("send message: %w", err)
		}
		var retryAfter time.Duration
		if ae := (*APIError)(nil); errors.As(err, &ae) {
			retryAfter = ae.RetryAfter
		}
		delay, ok := policy.next(attempt, retryAfter, time.Since(start))
		c.logger().LogAttrs(ctx, slog.LevelWarn, "send attempt failed",
			slog.String("space", hook.Space()), slog.Int("attempt", attempt),
			slog.Any("err", err), slog.Duration("retry_in", delay), slog.Bool("giving_up", !ok))
		if !ok {
			return nil, fmt.Errorf("send message: gave up after %d attempts: %w", attempt, err)
		}
		if sleep(ctx, delay) != nil {
			return nil, fmt.Errorf("send message: %w after %d attempts (last error: %v)", interrupted(ctx), attempt, err)
		}
	}
}

// attempt makes one request. Errors are scrubbed of the URL.
func (c *Client) attempt(ctx context.Context, hook *Webhook, target string, body []byte) (*Response, error) {
	actx := ctx
	if t := c.timeout(); t > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request for %v: %s", hook, scrubToken(err.Error(), hook.raw))
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, interrupted(ctx)
		}
		return nil, scrubURLError(err, hook)
	}
	defer resp.Body.Close()
	if classifyStatus(resp.StatusCode) != done {
		e := newAPIError(resp, time.Now())
		e.Message = scrubToken(e.Message, hook.raw)
		e.Body = []byte(scrubToken(string(e.Body), hook.raw))
		return nil, e
	}
	var out Response
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		// The message was accepted; the answer was cut. Retrying could post twice.
		return &out, nil
	}
	_ = json.Unmarshal(data, &out) // an answer that is not a Message still means "sent"
	return &out, nil
}

// interrupted is the error of a send stopped by its caller's context.
func interrupted(ctx context.Context) error {
	return fmt.Errorf("%w: %w", errCallerContext, context.Cause(ctx))
}

// scrubURLError replaces the URL inside a transport error with its masked form.
func scrubURLError(err error, hook *Webhook) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: hook.String(), Err: scrubbedError{ue.Err, hook.raw}}
	}
	return scrubbedError{err, hook.raw}
}

// scrubbedError hides secrets in an error's text but keeps its chain for
// errors.Is and errors.As.
type scrubbedError struct {
	err error
	raw string
}

func (e scrubbedError) Error() string { return scrubToken(e.err.Error(), e.raw) }
func (e scrubbedError) Unwrap() error { return e.err }

// wait takes the space's next pacing slot and waits for it.
func (c *Client) wait(ctx context.Context, space string) error {
	pace := c.Pace
	if pace == 0 {
		pace = DefaultPace
	}
	if pace < 0 {
		return ctx.Err()
	}
	now := time.Now()
	c.mu.Lock()
	if c.next == nil {
		c.next = make(map[string]time.Time)
	}
	at := c.next[space]
	if at.Before(now) {
		at = now
	}
	c.next[space] = at.Add(pace)
	if len(c.next) > 1024 {
		for s, t := range c.next { // forget spaces whose slot has passed
			if t.Before(now) {
				delete(c.next, s)
			}
		}
	}
	c.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}

func (c *Client) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// RetryPolicy says how often and how long to retry a send. Zero fields take
// the stated defaults.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included. Zero means 5;
	// 1 means no retries.
	MaxAttempts int
	// BaseDelay is the backoff unit: the wait before retry n is random in
	// [0, min(MaxDelay, BaseDelay·2ⁿ⁻¹)] (exponential backoff, full jitter).
	// Zero means 1 second.
	BaseDelay time.Duration
	// MaxDelay caps the computed backoff. Zero means 30 seconds.
	MaxDelay time.Duration
	// MaxElapsed bounds the whole send, waits included: a retry that would
	// start later is not made. Zero means 2 minutes; negative, no bound.
	MaxElapsed time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured. Zero
	// means 60 seconds.
	MaxRetryAfter time.Duration

	// jitter returns a number in [0, 1); nil is math/rand/v2. Tests set it.
	jitter func() float64
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = 2 * time.Minute
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = time.Minute
	}
	if p.jitter == nil {
		p.jitter = rand.Float64
	}
	return p
}

// next returns the wait before the retry that follows attempt, and false when
// the policy gives up. A Retry-After (capped) replaces the computed backoff.
func (p RetryPolicy) next(attempt int, retryAfter, elapsed time.Duration) (time.Duration, bool) {
	if attempt >= p.MaxAttempts {
		return 0, false
	}
	var d time.Duration
	if retryAfter > 0 {
		d = min(retryAfter, p.MaxRetryAfter)
	} else {
		ceiling := p.MaxDelay
		if shift := attempt - 1; shift < 32 && p.BaseDelay<<shift < p.MaxDelay && p.BaseDelay<<shift > 0 {
			ceiling = p.BaseDelay << shift
		}
		d = time.Duration(p.jitter() * float64(ceiling))
	}
	if p.MaxElapsed > 0 && elapsed+d > p.MaxElapsed {
		return 0, false
	}
	return d, true
}

// newRequestID returns a random UUID (version 4) for one logical send.
func newRequestID() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
