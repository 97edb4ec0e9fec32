package emulator

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
)

// space is the state of one space. Every field is guarded by Server.mu.
type space struct {
	id, displayName string
	threading, kind string
	appsEnabled     bool
	created         time.Time
	seq             int // creation order

	hooks   []*webhook          // registered and deleted, in creation order
	byToken map[string]*webhook // deleted ones too: their URL answers per the setting

	msgs       []*Message // oldest first, at most Server.maxMessages
	threads    map[string]*thread
	threadSeq  int
	keys       map[threadKeyRef]*thread
	requestIDs map[string]*Message
	messageIDs map[string]*Message

	requests []RequestRecord // oldest first, at most Server.maxRequests
	stats    map[int]int
	quota    quota
}

type webhook struct {
	id, name, avatarURL, token string
	user                       string // "users/" + id, the sender name
	created                    time.Time
	deleted                    bool
}

// threadKeyRef is a thread key in the namespace of the webhook that set it:
// two webhooks using one key get two threads (docs/google-chat.md §7).
type threadKeyRef struct{ webhook, key string }

type thread struct {
	id, name, key, webhook string
	seq                    int
	count                  int // retained messages
	last                   time.Time
}

func (sp SpaceSpec) validate() error {
	if sp.ID != "" && !validID(sp.ID) {
		return fmt.Errorf("id %q: want [A-Za-z0-9_-]+", sp.ID)
	}
	switch sp.Threading {
	case "", Threaded, Grouped, Unthreaded:
	default:
		return fmt.Errorf("threading %q: want %s, %s or %s", sp.Threading, Threaded, Grouped, Unthreaded)
	}
	switch sp.Kind {
	case "", KindSpace, KindDirectMessage:
	default:
		return fmt.Errorf("kind %q: want %s or %s", sp.Kind, KindSpace, KindDirectMessage)
	}
	ids, tokens := map[string]bool{}, map[string]bool{}
	for i, h := range sp.Webhooks {
		if err := h.validate(); err != nil {
			return fmt.Errorf("webhooks[%d]: %w", i, err)
		}
		if h.ID != "" && ids[h.ID] || h.Token != "" && tokens[h.Token] {
			return fmt.Errorf("webhooks[%d]: id or token used twice", i)
		}
		ids[h.ID], tokens[h.Token] = true, true
	}
	return nil
}

func (h WebhookSpec) validate() error {
	switch {
	case h.ID != "" && !validID(h.ID):
		return fmt.Errorf("id %q: want [A-Za-z0-9_-]+", h.ID)
	case strings.ContainsAny(h.Token, "&#? \t\r\n"):
		return fmt.Errorf("token: must not hold spaces, '&', '#' or '?'")
	}
	return nil
}

// validID reports whether s matches [A-Za-z0-9_-]+ (docs/google-chat.md §11.1), at most
// 128 characters.
func validID(s string) bool { return len(s) <= 128 && gchat.ValidSpaceID(s) }

// CreateSpace creates a space and its webhooks.
func (s *Server) CreateSpace(spec SpaceSpec) (Space, error) {
	if err := spec.validate(); err != nil {
		return Space{}, fmt.Errorf("create space: %w: %w", ErrInvalid, err)
	}
	s.mu.Lock()
	sp, err := s.createSpaceLocked(spec)
	var out Space
	if err == nil {
		out = s.spaceViewLocked(sp)
	}
	s.mu.Unlock()
	if err != nil {
		return Space{}, fmt.Errorf("create space: %w", err)
	}
	s.log.Info("space_created", "space", out.ID)
	s.events.publish("space", out)
	return out, nil
}

func (s *Server) createSpaceLocked(spec SpaceSpec) (*space, error) {
	id := spec.ID
	if id == "" {
		for id == "" || s.spaces[id] != nil {
			id = "AAAA" + newID(7)
		}
	} else if s.spaces[id] != nil {
		return nil, fmt.Errorf("space %q: %w", id, ErrExists)
	}
	sp := &space{
		id:          id,
		displayName: spec.DisplayName,
		threading:   cmpOr(spec.Threading, Threaded),
		kind:        cmpOr(spec.Kind, KindSpace),
		created:     s.now(),
		byToken:     map[string]*webhook{},
		stats:       map[int]int{},
	}
	sp.resetMessages()
	if spec.AppsEnabled != nil {
		sp.appsEnabled = *spec.AppsEnabled
	} else {
		sp.appsEnabled = sp.kind == KindSpace
	}
	if sp.displayName == "" {
		sp.displayName = id
	}
	for _, h := range spec.Webhooks {
		if _, err := s.addWebhookLocked(sp, h); err != nil {
			return nil, err
		}
	}
	s.spaceSeq++
	sp.seq = s.spaceSeq
	s.spaces[id] = sp
	return sp, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// resetMessages drops the messages and threads of a space.
func (sp *space) resetMessages() {
	sp.msgs = nil
	sp.threads = map[string]*thread{}
	sp.keys = map[threadKeyRef]*thread{}
	sp.requestIDs = map[string]*Message{}
	sp.messageIDs = map[string]*Message{}
}

// DeleteSpace deletes a space with its webhooks and messages. Its webhook
// URLs then answer per Settings.UnknownSpaceStatus.
func (s *Server) DeleteSpace(ref string) error {
	s.mu.Lock()
	sp := s.spaceLocked(ref)
	if sp != nil {
		delete(s.spaces, sp.id)
		delete(s.faults.Spaces, sp.id)
		s.notifyLocked()
	}
	s.mu.Unlock()
	if sp == nil {
		return fmt.Errorf("delete space: %w", spaceNotFound(ref))
	}
	id := sp.id
	s.log.Info("space_deleted", "space", id)
	s.events.publish("space", Space{ID: id, Name: "spaces/" + id, Deleted: true})
	return nil
}

// Spaces returns the spaces in creation order.
func (s *Server) Spaces() []Space {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sps := make([]*space, 0, len(s.spaces))
	for _, sp := range s.spaces {
		sps = append(sps, sp)
	}
	slices.SortFunc(sps, func(a, b *space) int { return a.seq - b.seq })
	out := make([]Space, len(sps))
	for i, sp := range sps {
		out[i] = s.spaceViewLocked(sp)
	}
	return out
}

// Space returns one space, by its id or display name.
func (s *Server) Space(ref string) (Space, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaceLocked(ref)
	if sp == nil {
		return Space{}, spaceNotFound(ref)
	}
	return s.spaceViewLocked(sp), nil
}

func (s *Server) spaceViewLocked(sp *space) Space {
	out := Space{
		ID:           sp.id,
		Name:         "spaces/" + sp.id,
		DisplayName:  sp.displayName,
		Threading:    sp.threading,
		Kind:         sp.kind,
		AppsEnabled:  sp.appsEnabled,
		Webhooks:     []Webhook{},
		MessageCount: len(sp.msgs),
		CreateTime:   sp.created,
	}
	for _, h := range sp.hooks {
		if !h.deleted {
			out.Webhooks = append(out.Webhooks, s.webhookView(sp, h))
		}
	}
	return out
}

func (s *Server) webhookView(sp *space, h *webhook) Webhook {
	return Webhook{ID: h.id, Name: h.name, AvatarURL: h.avatarURL, CreateTime: h.created, URL: s.webhookURL(sp.id, h.token)}
}

// webhookURL is the URL Google's "Copy link" would give (docs/google-chat.md §1.1).
func (s *Server) webhookURL(spaceID, token string) string {
	return s.baseURL + "/v1/spaces/" + spaceID + "/messages?key=" + url.QueryEscape(s.key) + "&token=" + url.QueryEscape(token)
}

// CreateWebhook registers a webhook in a space and returns it with its URL.
func (s *Server) CreateWebhook(spaceID string, spec WebhookSpec) (Webhook, error) {
	if err := spec.validate(); err != nil {
		return Webhook{}, fmt.Errorf("create webhook: %w: %w", ErrInvalid, err)
	}
	s.mu.Lock()
	sp := s.spaceLocked(spaceID)
	if sp == nil {
		s.mu.Unlock()
		return Webhook{}, fmt.Errorf("create webhook: %w", spaceNotFound(spaceID))
	}
	spaceID = sp.id
	h, err := s.addWebhookLocked(sp, spec)
	if err != nil {
		s.mu.Unlock()
		return Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	out, view := s.webhookView(sp, h), s.spaceViewLocked(sp)
	s.mu.Unlock()
	s.log.Info("webhook_created", "space", spaceID, "webhook", out.ID)
	s.events.publish("space", view)
	return out, nil
}

func (s *Server) addWebhookLocked(sp *space, spec WebhookSpec) (*webhook, error) {
	h := &webhook{id: spec.ID, name: spec.Name, avatarURL: spec.AvatarURL, token: spec.Token, created: s.now()}
	if h.id == "" {
		for h.id == "" || sp.hook(h.id) != nil {
			s.hookSeq++
			h.id = "w" + strconv.Itoa(s.hookSeq)
		}
	} else if sp.hook(h.id) != nil {
		return nil, fmt.Errorf("webhook %q: %w", h.id, ErrExists)
	}
	if h.token == "" {
		h.token = newToken()
	} else if sp.byToken[h.token] != nil {
		return nil, fmt.Errorf("webhook token: %w in space %s", ErrExists, sp.id)
	}
	if h.name == "" {
		h.name = h.id
	}
	h.user = "users/" + h.id
	sp.hooks = append(sp.hooks, h)
	sp.byToken[h.token] = h
	return h, nil
}

func (sp *space) hook(id string) *webhook {
	for _, h := range sp.hooks {
		if h.id == id {
			return h
		}
	}
	return nil
}

// DeleteWebhook deletes a webhook. Its URL then answers per
// Settings.DeletedWebhookStatus; its messages stay.
func (s *Server) DeleteWebhook(spaceID, id string) error {
	s.mu.Lock()
	sp := s.spaceLocked(spaceID)
	if sp == nil {
		s.mu.Unlock()
		return fmt.Errorf("delete webhook: %w", spaceNotFound(spaceID))
	}
	spaceID = sp.id
	h := sp.hook(id)
	if h == nil || h.deleted {
		s.mu.Unlock()
		return fmt.Errorf("delete webhook: webhook %q: %w", id, ErrNotFound)
	}
	h.deleted = true
	view := s.spaceViewLocked(sp)
	s.mu.Unlock()
	s.log.Info("webhook_deleted", "space", spaceID, "webhook", id)
	s.events.publish("space", view)
	return nil
}

// Messages returns the messages of a space that match f, oldest first. An
// unknown space has none.
func (s *Server) Messages(spaceID string, f MessageFilter) []Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, _ := s.matchLocked(spaceID, f)
	return out
}

// matchLocked returns the matching messages and whether the space exists.
func (s *Server) matchLocked(spaceID string, f MessageFilter) ([]Message, bool) {
	sp := s.spaceLocked(spaceID)
	if sp == nil {
		return nil, false
	}
	threadID := f.Thread
	if i := strings.LastIndex(threadID, "/threads/"); i >= 0 {
		threadID = threadID[i+len("/threads/"):]
	}
	var out []Message
	for _, m := range sp.msgs {
		if threadID != "" && threadOf(m) != threadID || !f.Since.IsZero() && !m.CreateTime.After(f.Since) {
			continue
		}
		out = append(out, *m)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, true
}

// threadOf returns the thread id of a message from its thread name.
func threadOf(m *Message) string {
	n := m.Thread.Name
	return n[strings.LastIndexByte(n, '/')+1:]
}

// WaitMessages waits until the space holds at least n messages and returns
// them all. It returns what there is with ctx's error when ctx ends first,
// ErrClosed when the server closes, ErrNotFound when the space does not exist.
// With n above Config.MaxMessages it can only time out.
func (s *Server) WaitMessages(ctx context.Context, spaceID string, n int) ([]Message, error) {
	return s.waitMessages(ctx, spaceID, MessageFilter{}, n)
}

func (s *Server) waitMessages(ctx context.Context, spaceID string, f MessageFilter, n int) ([]Message, error) {
	limit := f.Limit
	f.Limit = 0
	trim := func(ms []Message) []Message {
		if limit > 0 && len(ms) > limit {
			return ms[len(ms)-limit:]
		}
		return ms
	}
	for {
		s.mu.Lock()
		ms, ok := s.matchLocked(spaceID, f)
		var ch <-chan struct{}
		if ok && len(ms) < n {
			ch = s.waitChanLocked()
		}
		s.mu.Unlock()
		switch {
		case !ok:
			return nil, spaceNotFound(spaceID)
		case ch == nil:
			return trim(ms), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return trim(ms), ctx.Err()
		case <-s.done:
			return trim(ms), ErrClosed
		}
	}
}

// Threads returns the threads of a space, oldest first.
func (s *Server) Threads(spaceID string) ([]Thread, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaceLocked(spaceID)
	if sp == nil {
		return nil, fmt.Errorf("threads: %w", spaceNotFound(spaceID))
	}
	ts := make([]*thread, 0, len(sp.threads))
	for _, t := range sp.threads {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *thread) int { return a.seq - b.seq })
	out := make([]Thread, len(ts))
	for i, t := range ts {
		out[i] = Thread{Name: t.name, ThreadKey: t.key, Webhook: t.webhook, MessageCount: t.count, LastTime: t.last}
	}
	return out, nil
}

func threadName(spaceID, threadID string) string { return "spaces/" + spaceID + "/threads/" + threadID }

// ClearMessages drops every message and thread, and the requestId and
// messageId memory with them; spaces, webhooks, records and counts stay.
// Subscribers get a "reset" event.
func (s *Server) ClearMessages() {
	s.mu.Lock()
	for _, sp := range s.spaces {
		sp.resetMessages()
	}
	s.notifyLocked()
	s.mu.Unlock()
	s.events.publish("reset", struct{}{})
}

// storeLocked appends m to the space, drops the oldest beyond retention and
// wakes waiters.
func (s *Server) storeLocked(sp *space, m *Message, t *thread) {
	sp.msgs = append(sp.msgs, m)
	if t != nil {
		t.count++
		t.last = m.CreateTime
	}
	if m.RequestID != "" {
		sp.requestIDs[m.RequestID] = m
	}
	if m.MessageID != "" {
		sp.messageIDs[m.MessageID] = m
	}
	for len(sp.msgs) > s.maxMessages {
		old := sp.msgs[0]
		sp.msgs[0] = nil // let the collector have it before the array is reallocated
		sp.msgs = sp.msgs[1:]
		sp.forget(old)
	}
	s.notifyLocked()
}

// forget drops what refers to a message that left retention. A thread whose
// last retained message goes is forgotten too: a later reply to its key
// starts a new thread.
func (sp *space) forget(m *Message) {
	if sp.requestIDs[m.RequestID] == m {
		delete(sp.requestIDs, m.RequestID)
	}
	if sp.messageIDs[m.MessageID] == m {
		delete(sp.messageIDs, m.MessageID)
	}
	t := sp.threads[threadOf(m)]
	if t == nil {
		return
	}
	if t.count--; t.count <= 0 {
		delete(sp.threads, t.id)
		if t.key != "" && sp.keys[threadKeyRef{t.webhook, t.key}] == t {
			delete(sp.keys, threadKeyRef{t.webhook, t.key})
		}
	}
}

// record appends a request record and counts its status.
func (s *Server) recordLocked(sp *space, rec RequestRecord) {
	s.stats[rec.Status]++
	rec.ID = s.nextRequestIDLocked()
	if rec.capture != nil {
		rec.detail = rec.capture.seal(rec, rec.problems)
		rec.capture = nil
	}
	rec.problems = nil
	s.metrics.observe(rec)
	if sp == nil {
		return
	}
	sp.stats[rec.Status]++
	sp.requests = append(sp.requests, rec)
	if len(sp.requests) > s.maxRequests {
		// Slicing off the front is amortised O(1): append reallocates to
		// twice the live length once the capacity runs out.
		sp.requests = sp.requests[len(sp.requests)-s.maxRequests:]
	}
}
