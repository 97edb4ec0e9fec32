package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Headers of the "queued" answer.
const (
	HeaderDeliveryID    = "X-Gchat-Delivery-Id"
	HeaderDeliveryState = "X-Gchat-Delivery-State"
)

// handleMessageCreate accepts a message in Google's dialect, fits it into
// one or more deliveries, commits them and answers 200 "queued" with the
// first delivery: POST /v1/spaces/{space}/messages.
func (s *Server) handleMessageCreate(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		unavailable(w, nil, "The relay is shutting down.")
		return
	}
	req, e := webhookapi.Parse(r, s.parseConfig())
	if e != nil {
		webhookapi.WriteError(w, nil, e)
		return
	}
	sp := s.cfg.Space(req.Space) // TokenValid refused unknown spaces
	lane := sp.Webhook.Space()
	log := s.log.With(slog.String("space", sp.Name))

	th, e := s.placeThread(r.Context(), sp, req)
	if e != nil {
		if e.Code >= 500 {
			unavailable(w, req, "")
			return
		}
		webhookapi.WriteError(w, req, e)
		return
	}
	parts, err := gchat.Fit(th.msg, gchat.Options{Reply: th.reply, MessageID: req.MessageID, RequestID: store.NewRequestID()}, gchat.Limits{})
	if err != nil {
		webhookapi.WriteError(w, req, webhookapi.InvalidArgument("The message cannot be fitted into Google's limits: "+err.Error()))
		return
	}
	enq := store.EnqueueRequest{Space: sp.Name, Lane: lane, CallerRequestID: req.RequestID, Limit: max(s.opts.MaxPending, 0)}
	for _, p := range parts {
		body, err := gchat.Encode(&p.Message)
		if err != nil {
			webhookapi.WriteError(w, req, webhookapi.InvalidArgument("The message cannot be encoded: "+err.Error()))
			return
		}
		enq.Deliveries = append(enq.Deliveries, store.NewDelivery{
			Group:       th.group,
			Message:     body,
			Reply:       p.Options.Reply.String(),
			MessageID:   p.Options.MessageID,
			RelayThread: th.relayName,
		})
	}
	res, err := s.store.Enqueue(r.Context(), enq)
	switch {
	case errors.Is(err, store.ErrFull):
		log.Warn("queue_full", slog.Int("limit", enq.Limit))
		unavailable(w, req, fmt.Sprintf("The relay's queue for space %s is full; retry later.", sp.Name))
		return
	case err != nil:
		log.Error("enqueue_failed", slog.Any("err", err))
		unavailable(w, req, "")
		return
	case len(res.Deliveries) == 0:
		log.Error("enqueue_failed", slog.String("err", "no deliveries returned"))
		unavailable(w, req, "")
		return
	}
	s.wake(lane)

	first := res.Deliveries[0]
	log.Debug("queued", slog.String("delivery_id", first.ID), slog.Int("parts", len(res.Deliveries)), slog.Bool("duplicate", res.Duplicate))
	w.Header().Set(HeaderDeliveryID, first.ID)
	w.Header().Set(HeaderDeliveryState, string(first.State))
	webhookapi.WriteMessage(w, req, queuedBody(req, first))
}

// parseConfig is the dialect as the relay accepts it: the relay's size
// limits, its ingest key and each space's ingest token.
func (s *Server) parseConfig() webhookapi.Config {
	return webhookapi.Config{
		MaxBytes:     s.opts.MaxBytes,
		MaxBodyBytes: max(2*int64(s.opts.MaxBytes), webhookapi.DefaultMaxBodyBytes), // room for white space
		KeyValid: func(key string) bool {
			return s.cfg.IngestKey == "" || s.cfg.IngestKey.Equal(key)
		},
		TokenValid: func(space, token string) (bool, *webhookapi.Error) {
			sp := s.cfg.Space(space)
			if sp == nil {
				return false, webhookapi.NotFound(fmt.Sprintf("Space %q is not configured in this relay.", space))
			}
			return sp.IngestToken == "" || sp.IngestToken.Equal(token), nil
		},
	}
}

// A thread placement says where a message goes.
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

// placeThread decides the thread of a request: the thread key from the
// body or the deprecated query parameter, a relay thread name (which must be
// known to the store, and is translated to Google's once mapped), or a new
// thread; and the reply option, applying the space's reply_fallback.
func (s *Server) placeThread(ctx context.Context, sp *config.Space, req *webhookapi.Request) (placement, *webhookapi.Error) {
	p := placement{msg: req.Message, reply: req.ReplyOption}
	if p.msg.Thread != nil {
		t := *p.msg.Thread
		p.msg.Thread = &t
	}
	if req.ThreadKeyParam != "" && (p.msg.Thread == nil || p.msg.Thread.Name == "" && p.msg.Thread.ThreadKey == "") {
		// The body's thread wins over the deprecated parameter.
		p.msg.Thread = &gchat.Thread{ThreadKey: req.ThreadKeyParam}
	}
	hasThread := p.msg.Thread != nil && (p.msg.Thread.Name != "" || p.msg.Thread.ThreadKey != "")

	var known store.Thread
	if hasThread && p.msg.Thread.Name != "" {
		t, err := s.store.Thread(ctx, p.msg.Thread.Name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return p, webhookapi.InvalidArgument(fmt.Sprintf("Unknown thread name %q: send a thread name this relay handed out, or a threadKey.", p.msg.Thread.Name))
		case err != nil:
			s.log.Error("thread_lookup_failed", slog.String("space", sp.Name), slog.Any("err", err))
			return p, webhookapi.Unavailable("")
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

// queuedBody is the answer to an accepted message, shaped like Google's:
// the message as received, with the relay's names. name is the first
// delivery, thread.name the relay thread name.
func queuedBody(req *webhookapi.Request, d store.Delivery) map[string]any {
	body := maps.Clone(req.Body)
	body["name"] = "spaces/" + req.Space + "/messages/" + d.ID
	thread := map[string]any{"name": d.RelayThread}
	if th, ok := req.Body["thread"].(map[string]any); ok {
		if key, ok := th["threadKey"]; ok {
			thread["threadKey"] = key
		}
	}
	body["thread"] = thread
	body["space"] = map[string]any{"name": "spaces/" + req.Space}
	body["createTime"] = d.CreatedAt.UTC().Format(time.RFC3339Nano)
	return body
}

// unavailable answers 503 with Retry-After; req may be nil.
func unavailable(w http.ResponseWriter, req *webhookapi.Request, msg string) {
	w.Header().Set("Retry-After", retryAfterSeconds)
	webhookapi.WriteError(w, req, webhookapi.Unavailable(msg))
}
