package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
)

// storeRetention is the store's retention for cfg.
func storeRetention(cfg *config.Config) store.Retention {
	return store.Retention{Done: cfg.Retention.Delivered, Dead: cfg.Retention.Dead}.WithDefaults()
}

// pruneLoop applies retention at once and then every interval until ctx
// ends. retention is read at each pass, so a reload's retention applies
// from the next one.
func pruneLoop(ctx context.Context, st store.Admin, retention func() store.Retention, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := st.Prune(ctx, retention())
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("prune_failed", slog.Any("err", err))
		case err == nil && n > 0:
			logger.Info("pruned", slog.Int("deliveries", n))
		case err == nil:
			logger.Debug("pruned", slog.Int("deliveries", 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
