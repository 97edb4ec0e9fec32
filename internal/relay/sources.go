package relay

import (
	"bytes"
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
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/alertmanager"
	"github.com/gchatkit/gchat/internal/source/grafana"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// MaxSourceBody bounds the body of a source route's request. Alertmanager
// sends every alert of a group in one payload; 4 MiB holds thousands.
const MaxSourceBody = 4 << 20

// A Post is one message a route makes of a payload, for one space.
type Post struct {
	Space   string
	Message gchat.Message
	// ThreadKey is the Google thread key the message goes to ("" for a new
	// thread); the relay derives it from the route's thread policy.
	ThreadKey string
	// DedupKey and DedupWindow deduplicate the post within its space.
	DedupKey    string
	DedupWindow time.Duration
}

// Plan is what a route makes of one payload.
type Plan struct {
	Posts []Post
	// Skipped says why the payload makes no message, "" when it makes some.
	Skipped string
}

// PlanError is a payload the route cannot use: a 400 for the sender. Err
// is the cause (a decoder's error, jsontmpl.Problems).
type PlanError struct {
	Msg string
	Err error
}

func (e *PlanError) Error() string { return e.Msg }
func (e *PlanError) Unwrap() error { return e.Err }

// Incidents gives incident numbers (store.Queue.Incident).
type Incidents func(ctx context.Context, key string, firing bool) (int64, error)

// PlanRoute turns a payload posted to route r into posts. It is what the
// relay's source handlers run and what `gchat config check` renders with
// the route's sample; incidents may be nil outside the relay (incident 1).
func PlanRoute(ctx context.Context, r *config.Route, body []byte, now time.Time, incidents Incidents) (Plan, error) {
	if r.Source == config.SourceJSON {
		return planJSON(r, body)
	}
	var (
		g   alert.Group
		err error
	)
	switch r.Source {
	case config.SourceAlertmanager:
		g, err = alertmanager.Decode(body)
	case config.SourceGrafana:
		g, err = grafana.Decode(body)
	default:
		return Plan{}, fmt.Errorf("route %s: unknown source %q", r.Name, r.Source)
	}
	if err != nil {
		return Plan{}, &PlanError{Msg: fmt.Sprintf("invalid %s payload: %v", r.Source, err), Err: err}
	}
	return planAlerts(ctx, r, g, body, now, incidents)
}

// planAlerts splits a group by the route's thread policy; each part is one
// message per target space, in a thread of its own key.
//
// Dedup: each part's key is its state (alert.StateHash: its alerts, their
// statuses and starts) within the group's incident, so that a second
// Alertmanager of a pair, a sender's retry or a repeat of an unchanged group
// (within suppress_repeats) makes no second message, while an alert firing
// again does: Prometheus starts it anew, and a group that fires again after
// it fully resolved is a new incident even if a sender kept the start.
//
// A route with a template renders it over the notification's JSON instead
// of the built-in card (Validate allows it only with policies that keep the
// group whole).
func planAlerts(ctx context.Context, r *config.Route, g alert.Group, body []byte, now time.Time, incidents Incidents) (Plan, error) {
	window := max(r.DedupWindow, r.SuppressRepeats)
	var custom *gchat.Message
	if r.Template != nil {
		res, err := r.Template.Execute(body)
		switch {
		case errors.Is(err, jsontmpl.ErrSkip):
			return Plan{Skipped: "the route's when: is false for this notification"}, nil
		case err != nil:
			return Plan{}, &PlanError{Msg: err.Error(), Err: err}
		}
		custom = &res.Message
	}
	// One incident number per notification, for the group as a whole.
	incident := int64(1)
	if incidents != nil {
		n, err := incidents(ctx, r.Name+"\x00"+g.GroupKey, g.Status == alert.Firing)
		if err != nil {
			return Plan{}, fmt.Errorf("incident of %s: %w", r.Name, err)
		}
		incident = n
	}
	var plan Plan
	for _, part := range alert.Split(g, r.Thread, now) {
		// The part's subject: its own key when the policy splits the group
		// (an alert, an alert name), else the group's.
		subject := g.GroupKey
		if r.Thread == alert.PolicyFingerprint || r.Thread == alert.PolicyAlertName {
			subject = part.ThreadKey
		}
		key := part.ThreadKey
		switch r.Thread {
		case alert.PolicyNone:
			key = ""
		case alert.PolicyIncident:
			key = fmt.Sprintf("%s#%d", key, incident)
		}
		mention := ""
		if part.Group.Status == alert.Firing {
			mention = r.Mentions[alert.Severity(part.Group)]
			if mention == "" {
				mention = r.Mentions["*"]
			}
		}
		var msg gchat.Message
		if custom != nil {
			msg = *custom
			if mention != "" {
				msg.Text = strings.TrimSpace(mention + " " + msg.Text)
			}
		} else {
			msg = alert.Build(part.Group, alert.Options{MaxAlerts: r.MaxAlerts, Mention: mention})
		}
		dedup := fmt.Sprintf("%s:%s#%d:%s", r.Name, hashKey(subject), incident, alert.StateHash(part.Group))
		for _, sp := range targets(r, func(k string) (string, bool) { v, ok := part.Group.CommonLabels[k]; return v, ok }) {
			plan.Posts = append(plan.Posts, Post{Space: sp, Message: msg, ThreadKey: threadKey(r.Name, key),
				DedupKey: dedup, DedupWindow: window})
		}
	}
	if len(plan.Posts) == 0 {
		plan.Skipped = "no space matches the notification's labels"
	}
	return plan, nil
}

// planJSON runs a json route's template over the payload.
func planJSON(r *config.Route, body []byte) (Plan, error) {
	res, err := r.Template.Execute(body)
	switch {
	case errors.Is(err, jsontmpl.ErrSkip):
		return Plan{Skipped: "the route's when: is false for this payload"}, nil
	case err != nil:
		return Plan{}, &PlanError{Msg: err.Error(), Err: err}
	}
	var payload any
	if len(r.Match) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&payload); err != nil {
			return Plan{}, &PlanError{Msg: "invalid JSON: " + err.Error()}
		}
	}
	// Without a dedup key of its own, a payload is its own key: a sender's
	// retry of the same bytes within the window makes no second message.
	dedup := res.DedupKey
	if dedup == "" {
		sum := sha256.Sum256(body)
		dedup = "body:" + hex.EncodeToString(sum[:16])
	}
	var plan Plan
	for _, sp := range targets(r, func(path string) (string, bool) { return field(payload, path) }) {
		plan.Posts = append(plan.Posts, Post{Space: sp, Message: res.Message, ThreadKey: threadKey(r.Name, res.ThreadKey),
			DedupKey: r.Name + ":" + hashKey(dedup), DedupWindow: r.DedupWindow})
	}
	if len(plan.Posts) == 0 {
		plan.Skipped = "no space matches the payload's fields"
	}
	return plan, nil
}

// targets returns the spaces of the first match rule whose every condition
// holds, else the route's spaces.
func targets(r *config.Route, lookup func(string) (string, bool)) []string {
	for _, m := range r.Match {
		all := true
		for k, want := range m.When {
			if got, ok := lookup(k); !ok || got != want {
				all = false
				break
			}
		}
		if all {
			return m.Spaces
		}
	}
	return r.Spaces
}

// field looks a dotted path up in a decoded JSON payload; scalars only.
func field(v any, path string) (string, bool) {
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

// threadKey turns a route's thread key into the one sent to Google: short,
// of safe characters, and the route's own ("" stays "": a new thread).
func threadKey(route, key string) string {
	if key == "" {
		return ""
	}
	return route + "-" + hashKey(key)
}

func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// handleSource serves POST /v1/{source}/{route}: it checks the route's
// credentials, plans the payload and commits every post before answering.
// A store failure answers 503: Alertmanager and Grafana retry it, and the
// posts already committed are deduplicated on the retry.
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
		plan, err := PlanRoute(r.Context(), rt, body, time.Now(), s.store.Incident)
		var pe *PlanError
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
		answer := sourceAnswer{Route: name, Skipped: plan.Skipped}
		for _, p := range plan.Posts {
			res, err := s.enqueuePost(r.Context(), rt, p)
			switch {
			case errors.Is(err, store.ErrFull):
				log.Warn("queue_full", slog.String("space", p.Space))
				unavailable(w, nil, fmt.Sprintf("The relay's queue for space %s is full; retry later.", p.Space))
				return
			case err != nil:
				log.Error("enqueue_failed", slog.String("space", p.Space), slog.Any("err", err))
				unavailable(w, nil, "")
				return
			}
			first := res.Deliveries[0]
			answer.Deliveries = append(answer.Deliveries, sourceDelivery{Space: p.Space, ID: first.ID,
				State: string(first.State), Parts: len(res.Deliveries), Duplicate: res.Duplicate})
			log.Debug("queued", slog.String("space", p.Space), slog.String("delivery_id", first.ID), slog.Bool("duplicate", res.Duplicate))
		}
		if plan.Skipped != "" {
			log.Info("payload_skipped", slog.String("reason", plan.Skipped))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(answer)
	}
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

// enqueuePost fits a post and commits it to its space.
func (s *Server) enqueuePost(ctx context.Context, rt *config.Route, p Post) (store.EnqueueResult, error) {
	sp := s.cfg.Space(p.Space)
	if sp == nil { // Validate keeps route targets configured
		return store.EnqueueResult{}, fmt.Errorf("space %q is not configured", p.Space)
	}
	msg := p.Message
	reply := gchat.ReplyUnset
	if p.ThreadKey != "" {
		msg.Thread = &gchat.Thread{ThreadKey: p.ThreadKey}
		reply = gchat.ReplyFallbackToNewThread
	}
	th, e := s.placeThread(ctx, sp, &webhookapi.Request{Message: msg, ReplyOption: reply})
	if e != nil {
		return store.EnqueueResult{}, errors.New(e.Message)
	}
	parts, err := gchat.Fit(th.msg, gchat.Options{Reply: th.reply, RequestID: store.NewRequestID()}, gchat.Limits{})
	if err != nil {
		return store.EnqueueResult{}, fmt.Errorf("fit: %w", err)
	}
	enq := store.EnqueueRequest{Space: sp.Name, Lane: sp.Webhook.Space(), Route: rt.Name,
		DedupKey: p.DedupKey, DedupWindow: p.DedupWindow, Limit: max(s.opts.MaxPending, 0)}
	for _, part := range parts {
		body, err := gchat.Encode(&part.Message)
		if err != nil {
			return store.EnqueueResult{}, fmt.Errorf("encode: %w", err)
		}
		enq.Deliveries = append(enq.Deliveries, store.NewDelivery{Group: th.group, Message: body,
			Reply: part.Options.Reply.String(), RelayThread: th.relayName})
	}
	res, err := s.store.Enqueue(ctx, enq)
	if err != nil {
		return res, err
	}
	if len(res.Deliveries) == 0 {
		return res, errors.New("no deliveries returned")
	}
	s.wake(enq.Lane)
	return res, nil
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

// writeSourceError answers a source route's error as JSON; the senders
// (Alertmanager, Grafana) log the body.
func writeSourceError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
}
