package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
	"github.com/gchatkit/gchat/internal/store"
)

// ErrNoReload is Reload's error when the relay cannot reload: it has no
// Options.Load, or it is not running. It is relay.ErrNoReload, so that
// POST /-/reload tells it from a refused configuration.
var ErrNoReload = relay.ErrNoReload

// Reload reads the configuration again through Options.Load. An invalid one
// is refused, every problem logged, and the running one kept; the error
// returned then says so (for a caller that answers, such as an HTTP
// endpoint: the log already holds the problems). A valid one replaces
// ingest's space table (tokens, reply_fallback, spaces added or removed) at
// once, resumes the spaces paused until resumed (403, 404) whose webhook
// changed, and restarts
// the dispatcher on the new lanes after the old one drained. The queue is
// left as it is. Listen and store need a restart: their changes are
// ignored. ctx bounds the store calls of the reload; the new dispatcher
// runs as long as Run does.
func (r *Relay) Reload(ctx context.Context) error {
	if r.opts.Load == nil {
		return ErrNoReload
	}
	log := r.logger
	log.Info("reloading")
	next, err := r.opts.Load()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running || r.stopping || r.runCtx.Err() != nil {
		return ErrNoReload
	}
	cur := r.cfg.Load()
	if err == nil {
		if next.Listen != cur.Listen {
			log.Warn("reload_ignored", slog.String("setting", "listen"), slog.String("reason", "a restart applies it"))
			next.Listen = cur.Listen
		}
		if next.Store != cur.Store { // the store may hold a password: not logged
			log.Warn("reload_ignored", slog.String("setting", "store"), slog.String("reason", "a restart applies it"))
			next.Store = cur.Store
		}
		err = next.Validate()
	}
	var dcfg dispatch.Config
	if err == nil {
		dcfg = r.dispatchConfig(next)
		err = dcfg.Validate()
	}
	if err != nil {
		var ps *config.Problems
		if !errors.As(err, &ps) {
			ps = &config.Problems{List: []config.Problem{{Message: err.Error()}}}
		}
		for _, p := range ps.List {
			log.Error("reload_problem", slog.String("problem", p.Error()))
		}
		log.Error("reload_refused", slog.Int("problems", len(ps.List)), slog.String("reason", "the running configuration is kept"))
		return fmt.Errorf("reload refused, the running configuration is kept: %w", ps)
	}

	// Ingest takes the new space table first: a request sees the old
	// configuration or the new one, never a mix.
	r.srv.Store(relayServer(r, next))
	r.cfg.Store(next)
	r.metrics.SetConfig(next)

	if err := r.stopDispatch(); err != nil {
		log.Error("dispatch_failed", slog.Any("err", err))
	}
	r.resumeStopped(ctx, cur, next)
	r.startDispatcher(r.runCtx, next, dcfg)

	added, removed := spaceChanges(cur, next)
	log.Info("reloaded", slog.Int("spaces", len(next.Spaces)), slog.Any("added", added), slog.Any("removed", removed))
	return nil
}

// resumeStopped lifts the pauses that last until resumed (Google answered
// 403 or 404), the relay space's own and its Google space's, of next's
// spaces whose webhook is new or changed since cur: a new webhook is the
// operator saying it was fixed. A space whose webhook is
// the same would only be refused again, and notify the operator again on
// every reload; gchat resume lifts its pause. A 429's timed pause stays.
func (r *Relay) resumeStopped(ctx context.Context, cur, next *config.Config) {
	var changed []*config.Space
	for _, s := range next.Spaces {
		if old := cur.Space(s.Name); old == nil || old.Webhook.Reveal() != s.Webhook.Reveal() {
			changed = append(changed, s)
		}
	}
	if len(changed) == 0 {
		return
	}
	states, err := r.store.LaneStates(ctx)
	if err != nil {
		r.logger.Error("resume_failed", slog.Any("err", err))
		return
	}
	paused := make(map[string]bool)
	for _, ls := range states {
		paused[ls.Lane] = ls.Pause.Reason != "" && ls.Pause.Until.IsZero()
	}
	spaces, err := r.store.SpaceStates(ctx)
	if err != nil {
		r.logger.Error("resume_failed", slog.Any("err", err))
		return
	}
	for _, st := range spaces {
		if st.Pause.Reason == "" || !st.Pause.Until.IsZero() || !slices.ContainsFunc(changed, func(s *config.Space) bool { return s.Name == st.Space }) {
			continue
		}
		if err := r.store.PauseSpace(ctx, store.SpacePause{Space: st.Space}); err != nil {
			r.logger.Error("resume_failed", slog.String("space", st.Space), slog.Any("err", err))
			continue
		}
		r.logger.Info("resumed", slog.String("space", st.Space), slog.String("reason", "webhook changed"))
	}
	for _, s := range changed {
		lane := s.Webhook.Space()
		if !paused[lane] {
			continue
		}
		if err := r.store.PauseLane(ctx, lane, store.Pause{}); err != nil {
			r.logger.Error("resume_failed", slog.String("space", s.Name), slog.Any("err", err))
			continue
		}
		paused[lane] = false
		r.logger.Info("resumed", slog.String("space", s.Name), slog.String("reason", "webhook changed"))
	}
}

// spaceChanges names the spaces next adds to cur and those it removes.
func spaceChanges(cur, next *config.Config) (added, removed []string) {
	for _, s := range next.Spaces {
		if cur.Space(s.Name) == nil {
			added = append(added, s.Name)
		}
	}
	for _, s := range cur.Spaces {
		if next.Space(s.Name) == nil {
			removed = append(removed, s.Name)
		}
	}
	return added, removed
}
