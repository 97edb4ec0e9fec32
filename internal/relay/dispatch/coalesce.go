package dispatch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/store"
)

// coalesceMaxBytes bounds a merged message's encoding. It keeps headroom
// below Google's 32,000 bytes for prepare, which may swap a relay thread
// name for Google's, a name of another length.
const coalesceMaxBytes = gchat.DefaultMaxBytes - 256

// coalesceListLimit bounds the pending deliveries read per step: the oldest
// ones, which hold the group the next claim takes.
const coalesceListLimit = 1000

// coalescePeekLimit bounds the first, short read of a coalescing pass (see
// coalesce): enough to hold the heads of a lane's usual groups and a
// request's worth of alert-sized messages; the pass reads four times as
// many, then coalesceListLimit, only while a merge could use them.
const coalescePeekLimit = 64

// coalesce merges a backlog of one thread into one request. It runs before Claim,
// since only queued deliveries can be frozen, and looks only at the group
// whose head Claim takes next: merging as late as possible lets the batch
// take in every message that arrived while the lane was paced or paused.
// When that group holds at least CoalesceBacklog pending deliveries and its
// relay space has Coalesce on, the longest mergeable run from its head
// (see mergeRun) is frozen into one delivery; the store gives the batch its
// own requestId, which never changes afterwards, so retries of the batch are
// the same request. Any failure leaves the deliveries as they are: they go
// out one by one.
func (l *lane) coalesce(ctx context.Context) {
	if !l.coalescing {
		return
	}
	cfg := &l.d.cfg
	// The group Claim takes next is the one whose queued and due head has
	// the lowest Seq, and a group's head is its oldest pending delivery: if
	// any group of the oldest few pending deliveries has such a head, that
	// group is the one a longer read would choose, since every head beyond
	// them comes later. So the pass reads the oldest 64 first and reads
	// more only while what it may merge could go on past what it read. A
	// head that may not be merged (one already attempted: the common case
	// while Google is out of reach and the backlog grows) ends the pass at
	// once, and a merge of alert-sized messages (a few fill a request)
	// rarely needs more than the first read. (With a relay space halted the
	// lists are per running space, and the argument holds for none of them
	// alone: one long read.)
	windows := []int{coalescePeekLimit, 4 * coalescePeekLimit, coalesceListLimit}
	if l.anyHalted() {
		windows = windows[len(windows)-1:]
	}
	var (
		group, members []store.Delivery
		merged         *gchat.Message
	)
	for i, limit := range windows {
		pending, err := l.pending(ctx, limit)
		if err != nil {
			if ctx.Err() == nil {
				l.log.LogAttrs(ctx, slog.LevelWarn, "coalesce_list_failed", slog.Any("err", err))
			}
			return
		}
		// all: nothing pending lies beyond what was read, or this is the
		// longest read there is.
		all := len(pending) < limit || i == len(windows)-1
		group = nextGroup(pending, cfg.Now())
		switch {
		case len(group) == 0 && all:
			return
		case len(group) == 0:
			continue
		case !mergeable(group[0]):
			return
		case len(group) < cfg.CoalesceBacklog && !all:
			continue // the group may hold more than this read shows
		}
		members, merged = mergeRun(group)
		if all || len(members) < len(group) {
			break // the run ends within what was read
		}
	}
	if len(group) < cfg.CoalesceBacklog {
		return
	}
	if sp := l.spaces[group[0].Space]; sp == nil || !sp.Coalesce {
		return
	}
	if len(members) < 2 {
		return
	}
	// Fit is the authority on limits: one part means the merged message
	// goes out as it is.
	if parts, err := gchat.Fit(*merged, gchat.Options{}, gchat.Limits{MaxBytes: coalesceMaxBytes}); err != nil || len(parts) != 1 {
		l.log.LogAttrs(ctx, slog.LevelWarn, "coalesce_unfit", slog.String("delivery_id", members[0].ID), slog.Int("members", len(members)))
		return
	}
	body, err := gchat.Encode(merged)
	if err != nil {
		l.log.LogAttrs(ctx, slog.LevelError, "coalesce_encode_failed", slog.Any("err", err))
		return
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	batch, err := l.d.store.FreezeBatch(ctx, l.lease, ids, body)
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		// Claim finds it out too and gives the lane up.
		return
	case err != nil:
		// ErrConflict: the group changed since List (a delete, a replay);
		// the next step looks again.
		if ctx.Err() == nil {
			l.log.LogAttrs(ctx, slog.LevelWarn, "coalesce_failed", slog.String("delivery_id", ids[0]), slog.Any("err", err))
		}
		return
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, "batch_frozen", slog.String("delivery_id", batch.ID),
		slog.String("first", ids[0]), slog.Int("members", len(ids)))
}

// anyHalted reports whether a relay space of the lane is halted.
func (l *lane) anyHalted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.halted) > 0
}

// pending reads the lane's pending deliveries, the oldest first, but those
// of its halted relay spaces, which Claim passes over: a halted webhook's
// backlog must not crowd its neighbours' out of the list. The limit applies
// to the lane, or with a relay space halted to each running one.
func (l *lane) pending(ctx context.Context, limit int) ([]store.Delivery, error) {
	states := []store.State{store.StateQueued, store.StateSending}
	l.mu.Lock()
	var running []string
	if len(l.halted) > 0 {
		for name := range l.spaces {
			if _, ok := l.halted[name]; !ok {
				running = append(running, name)
			}
		}
	}
	halted := len(l.halted) > 0
	l.mu.Unlock()
	if !halted {
		return l.d.store.List(ctx, store.Filter{Lane: l.id, States: states, Limit: limit})
	}
	var out []store.Delivery
	for _, name := range running {
		ds, err := l.d.store.List(ctx, store.Filter{Lane: l.id, Space: name, States: states, Limit: limit})
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// groupKey names a thread group: groups are the relay space's.
type groupKey struct{ space, group string }

// nextGroup returns, in Seq order, the pending deliveries of the thread group
// whose head Claim takes next: the group with the lowest-Seq head that is
// queued and due. It returns nil when no group has such a head.
func nextGroup(pending []store.Delivery, now time.Time) []store.Delivery {
	groups := make(map[groupKey][]store.Delivery)
	for _, d := range pending {
		k := groupKey{d.Space, d.Group}
		groups[k] = append(groups[k], d)
	}
	var next []store.Delivery
	for _, g := range groups {
		slices.SortFunc(g, func(a, b store.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
		head := g[0]
		if head.State != store.StateQueued || head.NextAttemptAt.After(now) {
			continue
		}
		if next == nil || head.Seq < next[0].Seq {
			next = g
		}
	}
	return next
}

// mergeRun returns the longest run of group (pending deliveries of one
// thread group in Seq order) that may go out as one request, from its head,
// and the merged message. The rules are strict, since the members stop
// being separate requests for good:
//
//   - every member is queued and was never attempted nor refused before (a
//     replayed dead letter would take its companions down with it), is not
//     itself a batch, and has no caller messageId (Google would dedupe or
//     update by it);
//   - all share relay space (so webhook), reply option, relay thread and the
//     message's thread;
//   - no member carries deprecated v1 cards, or an unbalanced ``` fence that
//     would swallow the next member's text;
//   - the merged message (texts joined by a blank line, fallback texts by a
//     line break, cardsV2 concatenated with empty card ids filled as
//     "card-N") has no card errors, text and fallback text within 4,096
//     UTF-16 code units, and an encoding within coalesceMaxBytes.
//
// A run shorter than two is nothing to merge.
func mergeRun(group []store.Delivery) ([]store.Delivery, *gchat.Message) {
	var run []store.Delivery
	var merged *gchat.Message
	for _, d := range group {
		if !mergeable(d) {
			break
		}
		var m gchat.Message
		if err := json.Unmarshal(d.Message, &m); err != nil || len(m.Cards) > 0 || strings.Count(m.Text, "```")%2 != 0 {
			break
		}
		if merged == nil {
			run, merged = append(run, d), &m
			continue
		}
		first := run[0]
		if d.Space != first.Space || d.Route != first.Route || d.Reply != first.Reply || d.RelayThread != first.RelayThread || !sameThread(merged.Thread, m.Thread) {
			break
		}
		next := appendMessage(merged, &m)
		if !within(next) {
			break
		}
		run, merged = append(run, d), next
	}
	return run, merged
}

// mergeable reports whether d may join a batch on its own account.
func mergeable(d store.Delivery) bool {
	return d.State == store.StateQueued && d.Attempts == 0 && !d.Batch && d.BatchID == "" &&
		d.MessageID == "" && d.LastStatus == 0 && d.LastError == ""
}

func sameThread(a, b *gchat.Thread) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// appendMessage returns a new message: m appended to merged. merged is not
// changed.
func appendMessage(merged, m *gchat.Message) *gchat.Message {
	out := *merged
	out.Text = join(merged.Text, m.Text, "\n\n")
	out.FallbackText = join(merged.FallbackText, m.FallbackText, "\n")
	out.CardsV2 = append(slices.Clip(merged.CardsV2), m.CardsV2...)
	if len(out.CardsV2) > 1 {
		out.CardsV2 = slices.Clone(out.CardsV2)
		for i := range out.CardsV2 {
			// Google needs ids to tell several cards apart.
			if out.CardsV2[i].CardID == "" {
				out.CardsV2[i].CardID = fmt.Sprintf("card-%d", i+1)
			}
		}
	}
	return &out
}

func join(a, b, sep string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + sep + b
}

// within reports whether m fits in one request and has no card errors.
func within(m *gchat.Message) bool {
	if utf16Len(m.Text) > gchat.DefaultMaxText || utf16Len(m.FallbackText) > gchat.DefaultMaxText {
		return false
	}
	if len(m.CardsV2) > 0 && len(card.Check(m.CardsV2, "cardsV2").Errors()) > 0 {
		return false
	}
	b, err := gchat.Encode(m)
	return err == nil && len(b) <= coalesceMaxBytes
}

// utf16Len counts s in UTF-16 code units, as Google's text limit does.
// The library's own counter (fit.go) is unexported, and the library may
// export nothing for the relay's sake nor import an internal package, so
// the dispatcher keeps these few lines.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
