package app

import (
	"context"
	"log/slog"
	"time"
)

// DefaultEscalateEvery is how often the relay looks for escalations that
// are due: escalate: rules count in minutes, so a reply is at most this
// late.
const DefaultEscalateEvery = 10 * time.Second

// escalateLoop fires the due escalations (fire: relay.Server.FireEscalations
// of the current server) every interval until ctx ends. Every replica runs
// it; the store hands each timer to one of them.
func escalateLoop(ctx context.Context, fire func(context.Context) (int, error), every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := fire(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("escalations_failed", slog.Any("err", err))
		case n > 0:
			logger.Debug("escalations_fired", slog.Int("replies", n))
		}
	}
}
