package relay

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/plan"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// MaxSourceBody bounds the body of a source route's request. Alertmanager
// sends every alert of a group in one payload; 4 MiB holds thousands.
const MaxSourceBody = 4 << 20

// handleSource serves POST /v1/{source}/{route}: it checks the route's
// credentials and, with verify:, the sender's signature over the raw body
// (relay/verify), plans the payload (relay/plan) and hands every post to
// the accept path (relay/accept) before answering. A verified sender's
// redelivery is answered with the deliveries stored the first time. A store failure answers 503:
// Alertmanager and Grafana retry it, and the posts already committed are
// deduplicated on the retry.
func (s *Server) handleSource(src config.Source) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.stopping.Load() {
			unavailable(w, nil, "The relay is shutting down.")
			return
		}
		name := r.PathValue("route")
		rt := s.cfg.Route(name)
		if rt == nil || rt.Source != src {
			writeSourceError(w, http.StatusNotFound, fmt.Sprintf("no %s route %q is configured", src, name))
			return
		}
		if !routeAuthorized(rt, r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gchat relay"`)
			writeSourceError(w, http.StatusUnauthorized, "missing or wrong credentials for route "+name)
			return
		}
		log := s.log.With(slog.String("route", name))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSourceBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeSourceError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", MaxSourceBody))
				return
			}
			writeSourceError(w, http.StatusBadRequest, "reading the body: "+err.Error())
			return
		}
		delivery, err := verifySender(rt, r, body)
		if err != nil {
			log.Warn("sender_refused", slog.String("err", err.Error()))
			writeSourceError(w, http.StatusUnauthorized, fmt.Sprintf("route %s: %v", name, err))
			return
		}
		pl, err := plan.Route(r.Context(), rt, body, time.Now(), s.store.Incident)
		var pe *plan.Error
		switch {
		case errors.As(err, &pe):
			log.Warn("payload_refused", slog.String("err", pe.Msg))
			writeSourceError(w, http.StatusBadRequest, pe.Msg)
			return
		case err != nil:
			log.Error("plan_failed", slog.Any("err", err))
			unavailable(w, nil, "")
			return
		}
		if err := s.cancelEscalations(r.Context(), rt, pl); err != nil {
			log.Error("escalation_state_failed", slog.Any("err", err))
			unavailable(w, nil, "")
			return
		}
		answer := sourceAnswer{Route: name, Skipped: pl.Skipped}
		if pl.Echo {
			s.opts.Metrics.Deduplicated(name, DedupStaleEcho)
		}
		for i, p := range pl.Posts {
			caller := callerID(rt, delivery, i)
			res, err := s.acceptPost(r.Context(), rt, p, caller)
			if err != nil {
				writeSourceAcceptError(w, log.With(slog.String("space", p.Space)), p.Space, err)
				return
			}
			first := res.Deliveries[0]
			if res.Duplicate {
				reason := dedupReason(rt, first, time.Now())
				if caller != "" && first.CallerRequestID == caller {
					reason = DedupRedelivery
				}
				s.opts.Metrics.Deduplicated(name, reason)
			}
			answer.Deliveries = append(answer.Deliveries, sourceDelivery{Space: p.Space, ID: first.ID,
				State: string(first.State), Parts: len(res.Deliveries), Duplicate: res.Duplicate})
			log.Debug("queued", slog.String("space", p.Space), slog.String("delivery_id", first.ID), slog.Bool("duplicate", res.Duplicate))
		}
		if err := s.armEscalations(r.Context(), rt, pl); err != nil {
			log.Error("escalation_state_failed", slog.Any("err", err))
			unavailable(w, nil, "")
			return
		}
		if pl.Skipped != "" {
			log.Info("payload_skipped", slog.String("reason", pl.Skipped))
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(answer)
	}
}

// dedupReason names why a post was a duplicate of the stored delivery d:
// a copy when d is within the route's dedup_window, else a repeat
// suppressed by suppress_repeats. The two clocks (the store's and the
// relay's) may differ a little; it only names the reason.
func dedupReason(rt *config.Route, d store.Delivery, now time.Time) string {
	if rt.SuppressRepeats > rt.DedupWindow && now.Sub(d.CreatedAt) > rt.DedupWindow {
		return DedupRepeat
	}
	return DedupCopy
}

type sourceAnswer struct {
	Route      string           `json:"route"`
	Deliveries []sourceDelivery `json:"deliveries"`
	Skipped    string           `json:"skipped,omitempty"`
}

type sourceDelivery struct {
	Space     string `json:"space"`
	ID        string `json:"id"`
	State     string `json:"state"`
	Parts     int    `json:"parts"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// acceptPost hands a planned post to the accept path: its thread key is a
// thread of the route's own, replied to with the fallback so that the first
// message of the key starts it.
//
// caller, when not "", is the post's caller request id: a sender's
// redelivery makes the same one, and the store answers it with the
// deliveries of the first.
func (s *Server) acceptPost(ctx context.Context, rt *config.Route, p plan.Post, caller string) (accept.Result, error) {
	sp := s.cfg.Space(p.Space)
	if sp == nil { // Validate keeps route targets configured
		return accept.Result{}, fmt.Errorf("space %q is not configured", p.Space)
	}
	req := accept.Request{Space: sp, Message: p.Message, Route: rt.Name, DedupKey: p.DedupKey, DedupWindow: p.DedupWindow,
		CallerRequestID: caller}
	if p.ThreadKey != "" {
		req.Message.Thread = &gchat.Thread{ThreadKey: p.ThreadKey}
		req.Reply = gchat.ReplyFallbackToNewThread
	}
	return s.accept.Accept(ctx, req)
}

// verifySender checks the request's signature (or GitLab's token) against
// the route's verify: settings over the raw body, and returns the sender's
// delivery id ("" when the route verifies nothing or the sender names
// none). Its error (a *verify.Error, answered 401) says what is missing or
// wrong, never the secret or the signature expected.
func verifySender(rt *config.Route, r *http.Request, body []byte) (string, error) {
	if rt.Verify == nil {
		return "", nil
	}
	return rt.Verify.Verify(r.Header, body, time.Now())
}

// callerID is the caller request id of a verified sender's delivery's
// i-th post: the same for the sender's retries and redeliveries (they
// carry the same delivery id), so the store answers them with the first
// one's deliveries and queues nothing twice. "" without a delivery id.
func callerID(rt *config.Route, delivery string, i int) string {
	if delivery == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(delivery))
	return fmt.Sprintf("route:%s:%s:%s:%d", rt.Name, rt.Verify.Scheme(), hex.EncodeToString(sum[:16]), i)
}

// writeSourceAcceptError answers an error of the accept path with a 503:
// whatever failed (the store, a full queue, or a message the route made
// that cannot be fitted), the senders retry a 5xx, and the posts committed
// before are deduplicated on the retry.
func writeSourceAcceptError(w http.ResponseWriter, log *slog.Logger, space string, err error) {
	var full *accept.FullError
	if errors.As(err, &full) {
		log.Warn("queue_full")
		unavailable(w, nil, fmt.Sprintf("The relay's queue for space %s is full; retry later.", space))
		return
	}
	log.Error("enqueue_failed", slog.Any("err", err))
	unavailable(w, nil, "")
}

// routeAuthorized checks the request's credentials against the route's, in
// constant time; a route without credentials admits every request
// (Validate allows that on loopback listeners only).
func routeAuthorized(rt *config.Route, r *http.Request) bool {
	switch {
	case rt.BearerToken != "":
		// The scheme is case-insensitive (RFC 7235 §2.1).
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		return ok && strings.EqualFold(scheme, "Bearer") && rt.BearerToken.Equal(strings.TrimSpace(got))
	case rt.BasicUser != "":
		user, pass, ok := r.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(rt.BasicUser)) == 1
		return ok && rt.BasicPassword.Equal(pass) && userOK
	}
	return true
}

// writeSourceError answers a source route's refusal in the envelope of
// every other route, {"error":{"code","message","status"}}; the senders
// (Alertmanager, Grafana) log the body.
func writeSourceError(w http.ResponseWriter, code int, msg string) {
	webhookapi.WriteError(w, nil, &webhookapi.Error{Code: code, Status: sourceStatus(code), Message: msg})
}

// sourceStatus names the google.rpc.Code of a source route's refusal, as
// Google maps HTTP statuses to codes; a status with no code is named after
// its HTTP text, like webhookapi's METHOD_NOT_ALLOWED. A body over
// MaxSourceBody keeps its 413 and is INVALID_ARGUMENT, the code Google's
// front end gives an oversized payload.
func sourceStatus(code int) string {
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusInternalServerError:
		return "INTERNAL"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(code), " ", "_"))
}
