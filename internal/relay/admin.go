package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat/internal/relay/adminapi"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// checkAdmin guards the admin API: an allowed Host header (DNS rebinding),
// an admin token configured, and that token as a bearer token.
func (s *Server) checkAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			webhookapi.WriteError(w, nil, webhookapi.PermissionDenied(fmt.Sprintf("Host %q is not allowed", r.Host)))
			return
		}
		if s.cfg.AdminToken == "" {
			webhookapi.WriteError(w, nil, webhookapi.PermissionDenied("admin API disabled: set admin_token"))
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || !s.cfg.AdminToken.Equal(strings.TrimSpace(token)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gchat relay"`)
			webhookapi.WriteError(w, nil, &webhookapi.Error{Code: http.StatusUnauthorized, Status: "UNAUTHENTICATED",
				Message: "want Authorization: Bearer ADMIN_TOKEN"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handleDeliveryGet: GET /api/v1/deliveries/{id}.
func (s *Server) handleDeliveryGet(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	attempts, err := s.store.Attempts(r.Context(), d.ID)
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	j := adminapi.DeliveryOf(d)
	for _, a := range attempts {
		j.AttemptHistory = append(j.AttemptHistory, adminapi.AttemptOf(a))
	}
	writeJSON(w, http.StatusOK, j)
}

// handleDeliveryList: GET /api/v1/deliveries?space=&state=&after=&limit=;
// state may list several, comma-separated.
func (s *Server) handleDeliveryList(w http.ResponseWriter, r *http.Request) {
	f, e := filterOf(r)
	if e != nil {
		webhookapi.WriteError(w, nil, e)
		return
	}
	if v := r.URL.Query().Get("state"); v != "" {
		for st := range strings.SplitSeq(v, ",") {
			switch st := store.State(strings.TrimSpace(st)); st {
			case store.StateQueued, store.StateSending, store.StateBatched, store.StateDone, store.StateDead, store.StateDropped:
				f.States = append(f.States, st)
			default:
				webhookapi.WriteError(w, nil, webhookapi.InvalidArgument(fmt.Sprintf("state %q: want queued, sending, batched, done, dead or dropped", st)))
				return
			}
		}
	}
	s.list(w, r, f)
}

// handleDeadList: GET /api/v1/dead?space=&after=&limit=.
func (s *Server) handleDeadList(w http.ResponseWriter, r *http.Request) {
	f, e := filterOf(r)
	if e != nil {
		webhookapi.WriteError(w, nil, e)
		return
	}
	f.States = []store.State{store.StateDead}
	s.list(w, r, f)
}

func filterOf(r *http.Request) (store.Filter, *webhookapi.Error) {
	q := r.URL.Query()
	f := store.Filter{Space: q.Get("space"), After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, webhookapi.InvalidArgument(fmt.Sprintf("limit %q: want 1 to 1000", v))
		}
		f.Limit = n
	}
	return f, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, f store.Filter) {
	ds, err := s.store.List(r.Context(), f)
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	out := adminapi.Page[adminapi.Delivery]{Deliveries: make([]adminapi.Delivery, len(ds))}
	for i, d := range ds {
		out.Deliveries[i] = adminapi.DeliveryOf(d)
	}
	if limit := orDefault(f.Limit, 100); len(ds) == limit {
		out.Next = ds[len(ds)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// handleDeadReplay: POST /api/v1/dead/{id}/replay.
func (s *Server) handleDeadReplay(w http.ResponseWriter, r *http.Request) {
	d, err := s.store.Replay(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	s.log.Info("replayed", slog.String("space", d.Space), slog.String("delivery_id", d.ID))
	s.wake(d.Lane)
	writeJSON(w, http.StatusOK, adminapi.DeliveryOf(d))
}

// handleDeadDelete: DELETE /api/v1/dead/{id}; only dead letters.
func (s *Server) handleDeadDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.store.Get(r.Context(), id)
	if err == nil && d.State != store.StateDead {
		err = fmt.Errorf("delivery %s is %s, not dead: %w", id, d.State, store.ErrConflict)
	}
	if err == nil {
		err = s.store.Delete(r.Context(), id)
	}
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	s.log.Info("dead_deleted", slog.String("space", d.Space), slog.String("delivery_id", id))
	w.WriteHeader(http.StatusNoContent)
}

// handleSpaceResume: POST /api/v1/spaces/{space}/resume lifts the pause of
// the relay space's webhook (a 403 or 404 from Google) and that of its lane
// (a long 429).
func (s *Server) handleSpaceResume(w http.ResponseWriter, r *http.Request) {
	sp := s.cfg.Space(r.PathValue("space"))
	if sp == nil {
		webhookapi.WriteError(w, nil, webhookapi.NotFound(fmt.Sprintf("space %q is not configured", r.PathValue("space"))))
		return
	}
	lane := sp.Webhook.Space()
	if err := s.store.PauseSpace(r.Context(), store.SpacePause{Space: sp.Name}); err != nil {
		s.writeStoreErr(w, err)
		return
	}
	if err := s.store.PauseLane(r.Context(), lane, store.Pause{}); err != nil {
		s.writeStoreErr(w, err)
		return
	}
	s.log.Info("resumed", slog.String("space", sp.Name))
	s.wake(lane)
	writeJSON(w, http.StatusOK, map[string]string{"space": sp.Name, "state": "resumed"})
}

// writeStoreErr maps a store error to an answer.
func (s *Server) writeStoreErr(w http.ResponseWriter, err error) {
	var e *webhookapi.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		e = webhookapi.NotFound(err.Error())
	case errors.Is(err, store.ErrConflict):
		e = &webhookapi.Error{Code: http.StatusConflict, Status: "ABORTED", Message: err.Error()}
	default:
		s.log.Error("store_failed", slog.Any("err", err))
		w.Header().Set("Retry-After", retryAfterSeconds)
		e = webhookapi.Unavailable("")
	}
	webhookapi.WriteError(w, nil, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		webhookapi.WriteError(w, nil, webhookapi.Internal(err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// handleSpaceList answers GET /api/v1/spaces: each configured space with its
// queue and pause state.
func (s *Server) handleSpaceList(w http.ResponseWriter, r *http.Request) {
	lanes, err := s.store.LaneStates(r.Context())
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	spaces, err := s.store.SpaceStates(r.Context())
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	byLane := make(map[string]store.LaneState, len(lanes))
	for _, l := range lanes {
		byLane[l.Lane] = l
	}
	byName := make(map[string]store.SpaceState, len(spaces))
	for _, sp := range spaces {
		byName[sp.Space] = sp
	}
	now := time.Now()
	out := adminapi.Spaces{Spaces: []adminapi.Space{}}
	for _, sp := range s.cfg.Spaces {
		l, own := byLane[sp.Webhook.Space()], byName[sp.Name]
		st := adminapi.Space{Space: sp.Name, Pending: l.Pending, SpacePending: own.Pending, LastSend: l.LastSend}
		if l.Owner != "" {
			st.Holder, st.LeaseUntil = l.Owner, l.LeaseUntil
		}
		switch {
		case own.Pause.Active(now):
			st.Paused, st.PauseScope, st.PauseReason, st.PausedUntil = true, "webhook", own.Pause.Reason, own.Pause.Until
		case l.Pause.Active(now):
			st.Paused, st.PauseScope, st.PauseReason, st.PausedUntil = true, "googleSpace", l.Pause.Reason, l.Pause.Until
		}
		out.Spaces = append(out.Spaces, st)
	}
	writeJSON(w, http.StatusOK, out)
}
