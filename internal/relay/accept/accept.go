// Package accept is the relay's one accept path: a message for a relay space
// goes from here into the store, whichever face it came through.
//
// Accept places the message's thread, fits it into Google's limits (one
// delivery, or several in one thread), encodes each part, enqueues them in
// one commit and wakes the dispatcher of their lane. The dialect handler
// (relay/ingest.go) and every source handler (relay/sources.go: Alertmanager,
// Grafana, templated JSON) call it with plain values and turn its errors
// into their own answers: it knows no HTTP, no request format and no answer
// format.
//
// Its errors are the caller's to translate:
//
//   - *ThreadError: a thread name this relay never handed out (the caller's
//     mistake);
//   - *MessageError: the message cannot be fitted or encoded (the caller's
//     message);
//   - *FullError: the lane's bound on pending deliveries is reached (retry
//     later); it matches store.ErrFull;
//   - anything else: the store failed (retry later).
package accept

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
)

// Store is the part of the store the accept path uses.
type Store interface {
	Thread(ctx context.Context, relayName string) (store.Thread, error)
	Enqueue(ctx context.Context, req store.EnqueueRequest) (store.EnqueueResult, error)
}

// Accepter commits messages. It is safe for concurrent use.
type Accepter struct {
	store Store
	wake  func(lane string)
	limit int
}

// New returns the accept path into st. wake (nil: nobody) is called with a
// lane after deliveries of it were committed; limit bounds each relay space's
// pending deliveries (zero or less: no bound).
func New(st Store, wake func(lane string), limit int) *Accepter {
	if wake == nil {
		wake = func(string) {}
	}
	return &Accepter{store: st, wake: wake, limit: max(limit, 0)}
}

// Request is one message for one relay space, with its delivery options.
type Request struct {
	// Space is the relay space the message is for.
	Space *config.Space
	// Message is the message. Its Thread names where it goes: a threadKey,
	// a thread name this relay handed out (translated to Google's once
	// known), or nothing for a new thread.
	Message gchat.Message
	// Reply is the messageReplyOption. Unset with a thread means Google's
	// default, a new thread, unless the space applies the fallback
	// (config.Space.ReplyFallback).
	Reply gchat.ReplyOption
	// MessageID is the caller's messageId, given to the first part.
	MessageID string
	// CallerRequestID is the caller's requestId: a repeat within the space
	// stores nothing and returns the first request's deliveries.
	CallerRequestID string
	// Route names the source route that made the message, "" for none.
	Route string
	// DedupKey, when set, deduplicates within the space for DedupWindow
	// (zero: as long as the store holds the first).
	DedupKey    string
	DedupWindow time.Duration
}

// Accept commits req's message as one or more deliveries of one thread and
// wakes its lane. The result's first delivery is the one to answer with;
// for a duplicate (by CallerRequestID or DedupKey) nothing new is stored
// and the result holds the first request's deliveries.
func (a *Accepter) Accept(ctx context.Context, req Request) (store.EnqueueResult, error) {
	sp := req.Space
	th, err := a.placeThread(ctx, req)
	if err != nil {
		return store.EnqueueResult{}, err
	}
	parts, err := gchat.Fit(th.msg, gchat.Options{Reply: th.reply, MessageID: req.MessageID, RequestID: store.NewRequestID()}, gchat.Limits{})
	if err != nil {
		return store.EnqueueResult{}, &MessageError{Op: OpFit, Err: err}
	}
	enq := store.EnqueueRequest{Space: sp.Name, Lane: sp.Webhook.Space(), Route: req.Route,
		CallerRequestID: req.CallerRequestID, DedupKey: req.DedupKey, DedupWindow: req.DedupWindow, Limit: a.limit}
	for _, p := range parts {
		body, err := gchat.Encode(&p.Message)
		if err != nil {
			return store.EnqueueResult{}, &MessageError{Op: OpEncode, Err: err}
		}
		enq.Deliveries = append(enq.Deliveries, store.NewDelivery{
			Group:       th.group,
			Message:     body,
			Reply:       p.Options.Reply.String(),
			MessageID:   p.Options.MessageID,
			RelayThread: th.relayName,
		})
	}
	res, err := a.store.Enqueue(ctx, enq)
	switch {
	case errors.Is(err, store.ErrFull):
		return res, &FullError{Space: sp.Name, Limit: enq.Limit, Err: err}
	case err != nil:
		return res, fmt.Errorf("enqueue into space %s: %w", sp.Name, err)
	case len(res.Deliveries) == 0:
		return res, fmt.Errorf("enqueue into space %s: no deliveries returned", sp.Name)
	}
	a.wake(enq.Lane)
	return res, nil
}

// ThreadError is a thread name the store does not know: not one this relay
// handed out.
type ThreadError struct {
	Name string
}

func (e *ThreadError) Error() string { return fmt.Sprintf("unknown thread name %q", e.Name) }

// MessageError is a message that cannot become deliveries: Op is OpFit
// (it does not fit Google's limits even split) or OpEncode.
type MessageError struct {
	Op  string
	Err error
}

// Ops of a MessageError.
const (
	OpFit    = "fit"
	OpEncode = "encode"
)

func (e *MessageError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *MessageError) Unwrap() error { return e.Err }

// FullError is a lane at its bound of pending deliveries (store.ErrFull):
// nothing was stored.
type FullError struct {
	Space string
	Limit int
	Err   error
}

func (e *FullError) Error() string {
	return fmt.Sprintf("space %s: %v (limit %d)", e.Space, e.Err, e.Limit)
}
func (e *FullError) Unwrap() error { return e.Err }

// A placement says where a message goes.
type placement struct {
	msg   gchat.Message
	reply gchat.ReplyOption
	// relayName is the thread name handed to the caller.
	relayName string
	// group is the store's thread group: the relay name of a thread the
	// caller named by key, "" for messages that start a thread of their own
	// (they form the lane's unthreaded group, first in first out).
	group string
}

// Relay thread names are spaces/{space}/threads/{id}. The id's first letter
// says how the thread began, since a reply must join the group of the
// thread's first message, which sets the mapping to Google's thread:
//
//	k… a thread key: derived from (space, key), so every message of the key
//	   gets the same name; its group is the name.
//	n… a message that started a new thread; its group is "", the lane's
//	   unthreaded group.
const (
	keyedPrefix = "k"
	newPrefix   = "n"
)

// placeThread decides the thread of a request: its thread key, a relay
// thread name (which must be known to the store, and is translated to
// Google's once mapped), or a new thread; and the reply option, applying
// the space's reply_fallback.
func (a *Accepter) placeThread(ctx context.Context, req Request) (placement, error) {
	sp := req.Space
	p := placement{msg: req.Message, reply: req.Reply}
	if p.msg.Thread != nil {
		t := *p.msg.Thread
		p.msg.Thread = &t
	}
	hasThread := p.msg.Thread != nil && (p.msg.Thread.Name != "" || p.msg.Thread.ThreadKey != "")

	var known store.Thread
	if hasThread && p.msg.Thread.Name != "" {
		t, err := a.store.Thread(ctx, p.msg.Thread.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return p, &ThreadError{Name: p.msg.Thread.Name}
		case err != nil:
			return p, fmt.Errorf("look up thread of space %s: %w", sp.Name, err)
		}
		known = t
	}

	if hasThread && p.reply == gchat.ReplyUnset {
		// Google ignores a thread sent without a reply option; the library
		// would apply the fallback, so say which explicitly.
		p.reply = gchat.ReplyNewThread
		if sp.ReplyFallback {
			p.reply = gchat.ReplyFallbackToNewThread
		}
	}
	switch {
	case !hasThread || p.reply == gchat.ReplyNewThread:
		p.relayName = threadName(sp.Name, newPrefix+randomID())
		if hasThread && p.msg.Thread.Name != "" {
			// Google ignores the thread; a relay name must not reach it.
			p.msg.Thread.Name = ""
			if p.msg.Thread.ThreadKey == "" {
				p.msg.Thread = nil
			}
		}
	case known.RelayName != "":
		p.relayName = known.RelayName
		if id := strings.TrimPrefix(known.RelayName, "spaces/"+sp.Name+"/threads/"); strings.HasPrefix(id, keyedPrefix) {
			p.group = known.RelayName
		}
		if known.GoogleName != "" {
			p.msg.Thread.Name = known.GoogleName
		}
	default:
		p.relayName = threadName(sp.Name, keyedPrefix+keyID(sp.Name, p.msg.Thread.ThreadKey))
		p.group = p.relayName
	}
	return p, nil
}

func threadName(space, id string) string { return "spaces/" + space + "/threads/" + id }

// keyID derives a thread id from a relay space and a thread key.
func keyID(space, key string) string {
	sum := sha256.Sum256([]byte(space + "\x00" + key))
	return hex.EncodeToString(sum[:10])
}

func randomID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return hex.EncodeToString(b[:])
}
