package dispatch

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// Sharing the lanes among replicas.
//
// Every dispatcher heartbeats its Owner in the store each PollInterval
// (store.Lanes Heartbeat); the members alive are the replicas, and each
// replica's share is ⌈its lanes / members⌉. A replica short of its share
// asks for free lanes as soon as it sees them; one that holds its share
// asks only for lanes free for longer than a grace period (MinFree), so a
// lane no replica short of its share took is never left alone; one that
// holds more than its share gives the excess back (ReleaseLease), one lane
// at a time, at a point where that lane has nothing in flight, and the
// replicas short of theirs take those lanes at their next poll. Only counts
// are compared, never which lane belongs to whom: replicas that disagree on
// the lanes (a reload under way on some of them) or on the members for a
// moment still leave no lane unserved, and a join moves no more lanes than
// the newcomer's share.
//
// Against flapping: releases wait until the members seen have not changed
// for a PollInterval (every replica has heartbeated since, so all see the
// same members before anyone gives lanes away), idle lanes go first, and a
// replica that took a lane past its grace period and is over its share
// gives nothing back for a lease period. A member counts for half a lease
// after its last heartbeat, so a dead replica leaves the members before
// most of its leases expire, and its lanes go to the replicas short of
// their share rather than past the grace period to whoever asks first.

// balancer is a Dispatcher's view of the members and its count of lanes.
type balancer struct {
	d *Dispatcher

	mu sync.Mutex
	// members are the owners alive at the last heartbeat that succeeded,
	// sorted; nil before the first.
	members []string
	// changed is when members last changed, on our clock; settled is
	// whether the lanes were woken once it was a PollInterval old.
	changed time.Time
	settled bool
	// share is ⌈lanes/members⌉; 0 before the first heartbeat, when the
	// lanes take only lanes free past the grace period.
	share int
	// held counts the lanes holding a lease, releasing those giving theirs
	// back for the share.
	held, releasing int
	// keepUntil: no lane is given back for the share before it (we took a
	// lane past its grace period while over our share).
	keepUntil time.Time
	failing   bool // the last heartbeat failed: logged once
}

// grace is how long a lane must have been free before a replica that holds
// its share takes it: longer than a replica short of its share takes to
// notice a lane released (one PollInterval).
func (b *balancer) grace() time.Duration { return 2 * b.d.cfg.PollInterval }

// memberTTL is how long a replica counts as a member after its heartbeat.
func (b *balancer) memberTTL() time.Duration { return b.d.cfg.LeaseTTL / 2 }

// run heartbeats every PollInterval until ctx ends.
func (b *balancer) run(ctx context.Context) {
	t := time.NewTicker(b.d.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b.heartbeat(ctx)
	}
}

// heartbeat records this replica as a member and takes in the members
// alive; the lanes are woken when the members change and once the change
// is a PollInterval old, so that they take or give back lanes at once.
func (b *balancer) heartbeat(ctx context.Context) {
	cfg := &b.d.cfg
	ms, err := b.d.store.Heartbeat(ctx, store.MemberRequest{Owner: cfg.Owner, TTL: b.memberTTL()})
	now := cfg.Now()
	b.mu.Lock()
	if err != nil {
		first := !b.failing
		b.failing = true
		b.mu.Unlock()
		if first && ctx.Err() == nil {
			b.d.logger.LogAttrs(ctx, slog.LevelError, "heartbeat_failed", slog.Any("err", err))
		}
		return
	}
	b.failing = false
	owners := make([]string, 0, len(ms))
	for _, m := range ms {
		owners = append(owners, m.Owner)
	}
	if !slices.Contains(owners, cfg.Owner) { // a store's clock that jumped
		owners = append(owners, cfg.Owner)
		slices.Sort(owners)
	}
	wake := false
	if !slices.Equal(owners, b.members) {
		b.members, b.changed, b.settled = owners, now, false
		b.share = (len(b.d.lanes) + len(owners) - 1) / len(owners)
		wake = true
		b.d.logger.LogAttrs(ctx, slog.LevelInfo, "members_changed", slog.Int("members", len(owners)),
			slog.Int("share", b.share), slog.Int("lanes_held", b.held))
	} else if !b.settled && now.Sub(b.changed) >= cfg.PollInterval {
		b.settled, wake = true, true
	}
	b.mu.Unlock()
	if wake {
		for _, l := range b.d.lanes {
			l.poke()
		}
	}
}

// minFree is the MinFree a lane asks for a lease it does not hold with:
// none while the replica is short of its share, else the grace period.
//
// Lanes asking at the same moment may take the replica past its share (a
// replica that starts alone takes every lane): the excess goes back as any
// other. Reserving a place for each ask instead would let the first lanes
// to ask take the places, and a lane just released, asking with MinFree,
// would wait out the grace period with the replica still short.
func (b *balancer) minFree() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.share > 0 && b.held < b.share {
		return 0
	}
	return b.grace()
}

// asked records the answer to a lane's ask for a lease it did not hold.
func (b *balancer) asked(granted bool, minFree time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !granted {
		return
	}
	b.held++
	if minFree > 0 && b.share > 0 && b.held > b.share {
		b.keepUntil = b.d.cfg.Now().Add(b.d.cfg.LeaseTTL)
	}
}

// dropped records that a lane no longer holds its lease (lost, or released
// at shutdown).
func (b *balancer) dropped() {
	b.mu.Lock()
	b.held--
	b.mu.Unlock()
}

// shouldRelease reports whether a lane holding its lease gives it back for
// the share, and if so counts it as releasing (then released must follow).
// An idle lane may go once the members have been the same for a
// PollInterval; a busy one a PollInterval later, so idle lanes go first.
func (b *balancer) shouldRelease(idle bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.share == 0 || b.held-b.releasing <= b.share {
		return false
	}
	now, poll := b.d.cfg.Now(), b.d.cfg.PollInterval
	age := now.Sub(b.changed)
	if age < poll || (!idle && age < 2*poll) || now.Before(b.keepUntil) {
		return false
	}
	b.releasing++
	return true
}

// released records the end of a release for the share: gone tells whether
// the lane no longer holds the lease.
func (b *balancer) released(gone bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releasing--
	if gone {
		b.held--
	}
}

// leave removes this replica from the members, after its lanes released
// their leases, so the others count it out at their next heartbeat rather
// than half a lease later.
func (b *balancer) leave(ctx context.Context) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := b.d.store.Leave(lctx, b.d.cfg.Owner); err != nil {
		b.d.logger.LogAttrs(lctx, slog.LevelError, "leave_failed", slog.Any("err", err))
	}
}

// Held returns the number of lanes whose lease the dispatcher holds.
func (d *Dispatcher) Held() int {
	d.bal.mu.Lock()
	defer d.bal.mu.Unlock()
	return d.bal.held
}
