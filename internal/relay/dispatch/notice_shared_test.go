package dispatch

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// TestNoticeLimitAcrossDispatchers: a runtime replaces its dispatcher on
// reload. With one NoticeLimiter passed to both (Config.Notices), the space
// that pauses again under the new dispatcher notifies no one: one notice.
// Each with its own limiter, the new one forgets and notifies again.
func TestNoticeLimitAcrossDispatchers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shared bool
		want   int
	}{
		{"shared limiter", true, 1},
		{"a limiter each", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := noticeConfig(t)
				cfg.NoticeInterval = time.Hour
				if tc.shared {
					cfg.Notices = &NoticeLimiter{}
				}
				h := newHarness(t, cfg, func(c call, n int) (time.Duration, error) {
					if c.Space == "AAA" {
						return 0, apiError(403, "PERMISSION_DENIED", "The caller does not have permission")
					}
					return 0, nil
				})
				h.start()
				h.enqueue("alerts", msg{text: "a1", group: "a"})
				time.Sleep(30 * time.Second)
				if err := h.stop(); err != nil {
					t.Fatal(err)
				}

				// The reload: the relay space is resumed and a new
				// dispatcher, on the same configuration, finds its webhook
				// refused again.
				if err := h.st.PauseSpace(context.Background(), store.SpacePause{Space: "alerts"}); err != nil {
					t.Fatal(err)
				}
				d2 := New(cfg, h.st, h.send, slog.New(slog.DiscardHandler))
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- d2.Run(ctx) }()
				time.Sleep(30 * time.Second)
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if got := h.spaceState("alerts"); got.Pause.Reason == "" {
					t.Fatalf("the new dispatcher did not pause the space again: %+v", got.Pause)
				}
				if ns := h.notices(); len(ns) != tc.want {
					t.Errorf("%d notices, want %d: %q", len(ns), tc.want, ns)
				}
			})
		})
	}
}
