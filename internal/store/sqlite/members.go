package sqlite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gchatkit/gchat/internal/store"
)

// Heartbeat implements store.Lanes. The members are kept in memory: the
// store holds its database exclusively (the lock file), so every replica
// sharing it is a dispatcher of this process, on this Store, and a restart
// begins with none, as the leases it rescues at Open.
func (s *Store) Heartbeat(ctx context.Context, req store.MemberRequest) ([]store.Member, error) {
	if req.Owner == "" || req.TTL <= 0 {
		return nil, errors.New("heartbeat: owner and a positive TTL are required")
	}
	if err := s.readable(); err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	now := s.now()
	s.membersMu.Lock()
	defer s.membersMu.Unlock()
	if s.members == nil {
		s.members = make(map[string]time.Time)
	}
	s.members[req.Owner] = now.Add(req.TTL)
	var out []store.Member
	for _, owner := range slices.Sorted(maps.Keys(s.members)) {
		until := s.members[owner]
		if !until.After(now) {
			delete(s.members, owner)
			continue
		}
		out = append(out, store.Member{Owner: owner, Until: until})
	}
	return out, nil
}

// Leave implements store.Lanes.
func (s *Store) Leave(ctx context.Context, owner string) error {
	if err := s.readable(); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	s.membersMu.Lock()
	defer s.membersMu.Unlock()
	delete(s.members, owner)
	return nil
}
