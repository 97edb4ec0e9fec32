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
//   - *ThreadError: REPLY_MESSAGE_OR_FAIL to a thread that cannot exist: a
//     thread name of the relay space that this relay never handed out, or
//     no thread at all (Google answers 404);
//   - *ExistsError: a messageId already accepted for the Google space, by
//     any relay space that delivers there (Google answers 409);
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
// lane after deliveries of it were committed. limit bounds each relay
// space's pending deliveries: zero means the space's own QueueLimit, a
// positive limit applies to every space instead, a negative one means no
// bound.
func New(st Store, wake func(lane string), limit int) *Accepter {
	if wake == nil {
		wake = func(string) {}
	}
	return &Accepter{store: st, wake: wake, limit: limit}
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
	// UniqueMessageID refuses a MessageID already accepted for the Google
	// space (the lane, whichever relay space delivers there) with an
	// *ExistsError, for as long as the store holds a delivery that carries
	// it (webhookapi.Rules.MessageIDConflict, store.EnqueueRequest.
	// UniqueMessageID); a repeated CallerRequestID is still answered with
	// its first deliveries.
	UniqueMessageID bool
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

// Result is what Accept stored, or found stored.
type Result struct {
	store.EnqueueResult
	// ThreadUnknown reports a REPLY_MESSAGE_OR_FAIL reply to a thread the
	// relay cannot vouch for: a thread key it never saw, or a Google thread
	// name it never delivered into. Google may know it (a sender's earlier
	// messages, sent to Google directly); if not, Google's 404 makes the
	// delivery a dead letter.
	ThreadUnknown bool
}

// Accept commits req's message as one or more deliveries of one thread and
// wakes its lane. The result's first delivery is the one to answer with;
// for a duplicate (by CallerRequestID or DedupKey) nothing new is stored
// and the result holds the first request's deliveries.
func (a *Accepter) Accept(ctx context.Context, req Request) (Result, error) {
	sp := req.Space
	th, err := a.placeThread(ctx, req)
	if err != nil {
		return Result{}, err
	}
	parts, err := gchat.Fit(th.msg, gchat.Options{Reply: th.reply, MessageID: req.MessageID, RequestID: store.NewRequestID()}, gchat.Limits{})
	if err != nil {
		return Result{}, &MessageError{Op: OpFit, Err: err}
	}
	enq := store.EnqueueRequest{Space: sp.Name, Lane: sp.Webhook.Space(), Route: req.Route,
		CallerRequestID: req.CallerRequestID, DedupKey: req.DedupKey, DedupWindow: req.DedupWindow,
		UniqueMessageID: req.UniqueMessageID, Limit: a.limitOf(sp)}
	for _, p := range parts {
		body, err := gchat.Encode(&p.Message)
		if err != nil {
			return Result{}, &MessageError{Op: OpEncode, Err: err}
		}
		enq.Deliveries = append(enq.Deliveries, store.NewDelivery{
			Group:       th.group,
			Message:     body,
			Reply:       p.Options.Reply.String(),
			MessageID:   p.Options.MessageID,
			RelayThread: th.relayName,
		})
	}
	er, err := a.store.Enqueue(ctx, enq)
	res := Result{EnqueueResult: er, ThreadUnknown: th.unknown}
	switch {
	case errors.Is(err, store.ErrMessageIDExists) && len(er.Deliveries) > 0:
		return res, &ExistsError{Space: sp.Name, MessageID: req.MessageID, Delivery: er.Deliveries[0].ID}
	case errors.Is(err, store.ErrFull):
		return res, &FullError{Space: sp.Name, Limit: enq.Limit, Err: err}
	case err != nil:
		return res, fmt.Errorf("enqueue into space %s: %w", sp.Name, err)
	case len(er.Deliveries) == 0:
		return res, fmt.Errorf("enqueue into space %s: no deliveries returned", sp.Name)
	}
	a.wake(enq.Lane)
	return res, nil
}

// ExistsError is a messageId already accepted for the Google space that
// relay space Space delivers to: Delivery (perhaps of another relay space)
// carries it. Nothing was stored.
type ExistsError struct {
	Space, MessageID, Delivery string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("space %s: messageId %q already accepted as delivery %s", e.Space, e.MessageID, e.Delivery)
}

// ThreadError is REPLY_MESSAGE_OR_FAIL to a thread that cannot exist: Name
// is a thread name of the relay space that the store does not know (never
// handed out, or pruned), or "" when the message names no thread.
type ThreadError struct {
	Name string
}

func (e *ThreadError) Error() string {
	if e.Name == "" {
		return "REPLY_MESSAGE_OR_FAIL without a thread"
	}
	return fmt.Sprintf("REPLY_MESSAGE_OR_FAIL to unknown thread name %q", e.Name)
}

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
	// caller named by key, Google's name of a thread named by it, "" for
	// messages that start a thread of their own (they form the lane's
	// unthreaded group, first in first out).
	group string
	// unknown: see Result.ThreadUnknown.
	unknown bool
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

// placeThread decides the thread of a request and the reply option,
// applying the space's reply_fallback. A message names its thread by:
//
//   - a thread name of its relay space, which this relay handed out: the
//     store translates it to Google's once mapped; one it never handed out
//     does not exist, as for Google (docs/google-chat.md §7): ignored by
//     the fallback, a *ThreadError for REPLY_MESSAGE_OR_FAIL;
//   - Google's thread name of the Google space it delivers to: passed
//     through, its own thread group;
//   - a thread key: one relay name per (relay space, key);
//   - nothing: a new thread.
//
// Thread names of other spaces never get here: webhookapi.Parse refuses
// them (Rules.ForeignThreadStatus).
func (a *Accepter) placeThread(ctx context.Context, req Request) (placement, error) {
	sp := req.Space
	p := placement{msg: req.Message, reply: req.Reply}
	if p.msg.Thread != nil {
		t := *p.msg.Thread
		p.msg.Thread = &t
	}
	hasThread := p.msg.Thread != nil && (p.msg.Thread.Name != "" || p.msg.Thread.ThreadKey != "")
	if hasThread && p.reply == gchat.ReplyUnset {
		// Google ignores a thread sent without a reply option; the library
		// would apply the fallback, so say which explicitly.
		p.reply = gchat.ReplyNewThread
		if sp.ReplyFallback {
			p.reply = gchat.ReplyFallbackToNewThread
		}
	}
	orFail := p.reply == gchat.ReplyOrFail
	if !hasThread || p.reply == gchat.ReplyNewThread {
		if orFail {
			// Google's REPLY_MESSAGE_OR_FAIL with no thread: no thread
			// exists to reply to (the emulator's 404).
			return p, &ThreadError{}
		}
		p.relayName = threadName(sp.Name, newPrefix+randomID())
		if hasThread && p.msg.Thread.Name != "" {
			// Google ignores the thread; a relay name must not reach it.
			p.msg.Thread.Name = ""
			if p.msg.Thread.ThreadKey == "" {
				p.msg.Thread = nil
			}
		}
		return p, nil
	}

	if name := p.msg.Thread.Name; name != "" {
		if googleThread(sp, name) {
			p.relayName, p.group = name, name
			if orFail {
				t, err := a.store.Thread(ctx, name)
				switch {
				case err != nil && !errors.Is(err, store.ErrNotFound):
					return p, fmt.Errorf("look up thread of space %s: %w", sp.Name, err)
				case err != nil || t.GoogleName == "":
					p.unknown = true
				}
			}
			return p, nil
		}
		t, err := a.store.Thread(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if orFail {
				return p, &ThreadError{Name: name}
			}
			// The fallback: a thread that does not exist is started anew,
			// by its key if the message has one (docs/google-chat.md §7).
			p.msg.Thread.Name = ""
			if p.msg.Thread.ThreadKey == "" {
				p.msg.Thread = nil
				p.relayName = threadName(sp.Name, newPrefix+randomID())
				return p, nil
			}
		case err != nil:
			return p, fmt.Errorf("look up thread of space %s: %w", sp.Name, err)
		default:
			p.relayName = t.RelayName
			if id := strings.TrimPrefix(t.RelayName, "spaces/"+sp.Name+"/threads/"); strings.HasPrefix(id, keyedPrefix) {
				p.group = t.RelayName
			}
			if t.GoogleName != "" {
				p.msg.Thread.Name = t.GoogleName
			}
			return p, nil
		}
	}

	p.relayName = threadName(sp.Name, keyedPrefix+keyID(sp.Name, p.msg.Thread.ThreadKey))
	p.group = p.relayName
	if orFail {
		// A key the relay never saw may still name a thread the sender
		// made through Google directly.
		// Once the relay handed the key's thread out, its first message
		// goes first in the key's group.
		_, err := a.store.Thread(ctx, p.relayName)
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.unknown = true
		case err != nil:
			return p, fmt.Errorf("look up thread of space %s: %w", sp.Name, err)
		}
	}
	return p, nil
}

// googleThread reports whether name is a thread of the Google space that sp
// delivers to, rather than a relay thread name of sp.
func googleThread(sp *config.Space, name string) bool {
	lane := sp.Webhook.Space()
	return lane != sp.Name && strings.HasPrefix(name, "spaces/"+lane+"/threads/")
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

// limitOf is the bound on sp's pending deliveries; zero means none.
func (a *Accepter) limitOf(sp *config.Space) int {
	switch {
	case a.limit > 0:
		return a.limit
	case a.limit < 0:
		return 0
	}
	return max(sp.QueueLimit, 0)
}
