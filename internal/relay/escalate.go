package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/plan"
	"github.com/gchatkit/gchat/internal/store"
)

// Escalation while open: a route's escalate: rules post a short reply in an
// incident's thread while it is still firing, once per rule and incident.
//
//   - A firing notification arms the timers of the rules that apply
//     (store.Escalations.ArmEscalations): due After the first firing
//     notification of the incident, by the store's clock; a repeat keeps the
//     due time and marks the incident seen.
//   - A resolved notification cancels the incident's timers, and drops a
//     reply already queued but not yet sent.
//   - A timer whose incident sent no firing notification for the route's
//     escalate_stale is cancelled: a silenced alert never sends resolved.
//   - FireEscalations, run by the relay's escalation loop (relay/app), claims
//     the due timers (each once, across replicas) and hands each reply to
//     the accept path as an ordinary delivery into the incident's thread,
//     paced, ordered and retried with everything else.
//
// A replica that ends between claiming a timer and committing its reply
// loses that reply: a timer fires at most once.

// escalationBatch bounds the timers one FireEscalations pass claims.
const escalationBatch = 100

// cancelEscalations ends the escalations of a resolved notification's
// incident, and drops a reply queued but not yet sent. It runs before the
// resolved card is queued, so that no batch can merge the two.
func (s *Server) cancelEscalations(ctx context.Context, rt *config.Route, pl plan.Plan) error {
	if pl.Incident == "" || pl.Firing || len(rt.Escalate) == 0 {
		return nil
	}
	if _, err := s.store.CancelEscalations(ctx, pl.Incident); err != nil {
		return fmt.Errorf("cancel escalations of route %s: %w", rt.Name, err)
	}
	return nil
}

// armEscalations arms the timers of a firing notification's incident for
// the rules that apply, once its posts are queued.
func (s *Server) armEscalations(ctx context.Context, rt *config.Route, pl plan.Plan) error {
	if len(pl.Escalations) == 0 {
		return nil
	}
	timers := make([]store.NewEscalation, len(pl.Escalations))
	for i, e := range pl.Escalations {
		timers[i] = store.NewEscalation{ID: e.ID, Key: pl.Incident, Incident: e.Incident, Route: rt.Name, Rule: e.Rule,
			Space: e.Space, ThreadKey: e.ThreadKey, Text: e.Text, After: e.After, StaleAfter: rt.EscalateStale}
	}
	if err := s.store.ArmEscalations(ctx, timers); err != nil {
		return fmt.Errorf("arm escalations of route %s: %w", rt.Name, err)
	}
	return nil
}

// FireEscalations claims the escalation timers that are due and queues
// each one's reply into its incident's thread. It returns how many replies
// it queued. A timer whose route or rule a reload removed fires nothing; a
// reply whose space is no longer configured, or that the accept path
// refuses (a full queue, a store failure), is logged and lost: the timer
// fired.
func (s *Server) FireEscalations(ctx context.Context) (int, error) {
	n := 0
	for {
		es, err := s.store.ClaimEscalations(ctx, escalationBatch)
		if err != nil {
			return n, fmt.Errorf("fire escalations: %w", err)
		}
		for _, e := range es {
			queued, err := s.fireEscalation(ctx, e)
			if err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				s.log.Error("escalation_failed", slog.String("route", e.Route), slog.String("space", e.Space), slog.Any("err", err))
				continue
			}
			if queued {
				n++
			}
		}
		if len(es) < escalationBatch {
			return n, nil
		}
	}
}

// fireEscalation queues a fired timer's reply; false when its rule is
// gone.
func (s *Server) fireEscalation(ctx context.Context, e store.Escalation) (bool, error) {
	if rt := s.cfg.Route(e.Route); rt == nil || e.Rule >= len(rt.Escalate) {
		// A reload took the rule away: its armed timers fire nothing.
		s.log.Info("escalation_skipped", slog.String("route", e.Route), slog.Int("rule", e.Rule))
		return false, nil
	}
	sp := s.cfg.Space(e.Space)
	if sp == nil {
		return false, fmt.Errorf("space %q is no longer configured", e.Space)
	}
	req := accept.Request{Space: sp, Message: gchat.Message{Text: e.Text}, Route: e.Route,
		CallerRequestID: "escalation:" + e.ID}
	if e.ThreadKey != "" {
		req.Message.Thread = &gchat.Thread{ThreadKey: e.ThreadKey}
		req.Reply = gchat.ReplyFallbackToNewThread
	}
	res, err := s.accept.Accept(ctx, req)
	if err != nil {
		return false, err
	}
	if len(res.Deliveries) == 0 {
		return false, errors.New("no delivery queued")
	}
	if err := s.store.EscalationSent(ctx, e.ID, res.Deliveries[0].ID); err != nil {
		return false, err
	}
	s.log.Info("escalated", slog.String("route", e.Route), slog.String("space", e.Space),
		slog.String("delivery_id", res.Deliveries[0].ID), slog.Int("rule", e.Rule))
	return true, nil
}
