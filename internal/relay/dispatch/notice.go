package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
)

// noticeKind is what an operator notice is about.
type noticeKind string

const (
	noticeDead   noticeKind = "dead"
	noticePaused noticeKind = "paused"
)

// maxNoticeReason bounds the reason quoted in a notice, in bytes.
const maxNoticeReason = 300

// NoticeLimiter allows one operator notice per (kind, relay space) per
// interval and counts the ones it suppressed. Its zero value is ready. The
// runtime keeps one across reloads (Config.Notices), so that a new
// dispatcher does not forget the notices its predecessor sent.
type NoticeLimiter struct {
	mu   sync.Mutex
	last map[noticeKey]noticeState
}

type noticeKey struct {
	kind  noticeKind
	space string
}

type noticeState struct {
	at         time.Time // when the last notice went out
	suppressed int       // notices suppressed since
}

// allow reports whether a notice may go out at now, and how many were
// suppressed since the last one that did.
func (n *NoticeLimiter) allow(k noticeKey, now time.Time, interval time.Duration) (ok bool, suppressed int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.last == nil {
		n.last = make(map[noticeKey]noticeState)
	}
	st, seen := n.last[k]
	if seen && now.Sub(st.at) < interval {
		st.suppressed++
		n.last[k] = st
		return false, 0
	}
	n.last[k] = noticeState{at: now}
	return true, st.suppressed
}

// noticeDeadLetter tells the operator that delivery d of relay space sp is
// a dead letter, with reason (an error text; webhook URLs never reach it,
// see gchat.APIError).
func (d *Dispatcher) noticeDeadLetter(ctx context.Context, dl store.Delivery, reason string, log *slog.Logger) {
	what := "delivery " + dl.ID
	if dl.Batch {
		what = "batch " + dl.ID + " (merged messages)"
	}
	what += orFailThread(dl)
	text := fmt.Sprintf("gchat relay: %s to space %s is dead: %s; replay: POST /api/v1/dead/%s/replay",
		what, dl.Space, shorten(reason), dl.ID)
	d.notice(ctx, noticeKey{noticeDead, dl.Space}, dl.Lane, text, log)
}

// noticePause tells the operator that relay space space is paused until
// resumed: its webhook answered 403 or 404. The other relay spaces of its
// lane go on.
func (d *Dispatcher) noticePause(ctx context.Context, space, lane, reason string, log *slog.Logger) {
	text := fmt.Sprintf("gchat relay: space %s paused, its webhook refused: %s. Its messages wait until resumed: POST /api/v1/spaces/%s/resume"+
		" (other spaces posting into the same Google space go on)",
		space, shorten(reason), space)
	d.notice(ctx, noticeKey{noticePaused, space}, lane, text, log)
}

// notice enqueues text into the operator space, at most once per k per
// NoticeInterval. Events of the operator's own lane are only logged: a
// notice would wait behind the pause it reports, or feed a loop of notices
// that die.
func (d *Dispatcher) notice(ctx context.Context, k noticeKey, lane, text string, log *slog.Logger) {
	op := d.operator
	if op == nil {
		return
	}
	opLane := op.Webhook.Space()
	if lane == opLane {
		log.LogAttrs(ctx, slog.LevelWarn, "notice_skipped", slog.String("kind", string(k.kind)),
			slog.String("relay_space", k.space), slog.String("reason", "operator space"))
		return
	}
	ok, suppressed := d.notices.allow(k, d.cfg.Now(), d.cfg.NoticeInterval)
	if !ok {
		log.LogAttrs(ctx, slog.LevelDebug, "notice_suppressed", slog.String("kind", string(k.kind)), slog.String("relay_space", k.space))
		return
	}
	if suppressed > 0 {
		text += fmt.Sprintf(" (%d similar notices suppressed since the last one)", suppressed)
	}
	body, err := gchat.Encode(&gchat.Message{Text: text})
	if err == nil {
		_, err = d.store.Enqueue(ctx, store.EnqueueRequest{Space: op.Name, Lane: opLane,
			Deliveries: []store.NewDelivery{{Message: body}}})
	}
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "notice_failed", slog.String("kind", string(k.kind)), slog.Any("err", err))
		return
	}
	log.LogAttrs(ctx, slog.LevelInfo, "notice_queued", slog.String("kind", string(k.kind)), slog.String("relay_space", k.space),
		slog.Int("suppressed", suppressed))
	d.Notify(opLane)
}

// shorten cuts s to maxNoticeReason bytes on a rune boundary.
func shorten(s string) string {
	if len(s) <= maxNoticeReason {
		return s
	}
	cut := maxNoticeReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
