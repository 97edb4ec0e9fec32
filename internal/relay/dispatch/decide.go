package dispatch

import (
	"errors"
	"net/http"

	"github.com/gchatkit/gchat"
)

// action is what one attempt's result leads to.
type action int

const (
	// actDone: Google accepted the message.
	actDone action = iota
	// actRetry: a transient failure (5xx, timeout, network); the message
	// goes again after a backoff, holding only its thread group.
	actRetry
	// actThrottle: 429; the whole lane waits, the message is not at fault.
	actThrottle
	// actStop: 403 or 404 for the space (token revoked, webhook deleted);
	// the lane waits until resumed, the message stays queued.
	actStop
	// actFail: refused for good; a dead letter, or dropped.
	actFail
)

// decide is the one place that classifies an attempt: err is the Sender's
// answer, reply the delivery's stored reply option, timedOut whether the
// attempt's own deadline (not the caller's) cut it. The statuses agree with
// gchat's retry table (testdata/retry-table.json): done is done, retry is
// actRetry or actThrottle, final is actFail or actStop.
func decide(err error, reply string, timedOut bool) action {
	if err == nil {
		return actDone
	}
	if timedOut {
		// gchat reports a cancelled context as final, since it cannot tell
		// our per-attempt deadline from its caller's; we can.
		return actRetry
	}
	var ae *gchat.APIError
	if errors.As(err, &ae) {
		switch {
		case ae.StatusCode == http.StatusTooManyRequests:
			return actThrottle
		case ae.StatusCode == http.StatusNotFound && reply == gchat.ReplyOrFail.String():
			// REPLY_MESSAGE_OR_FAIL on an unknown thread: the message is
			// refused, not the space.
			return actFail
		case ae.StatusCode == http.StatusForbidden, ae.StatusCode == http.StatusNotFound:
			return actStop
		case ae.Temporary():
			return actRetry
		}
		return actFail
	}
	if gchat.Retryable(err) {
		return actRetry
	}
	return actFail
}

// statusOf returns the HTTP status carried by err, 0 when there was no
// answer.
func statusOf(err error) int {
	var ae *gchat.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}
