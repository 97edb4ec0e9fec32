package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay/accept"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Headers of the "queued" answer: what the relay says beyond Google's body.
const (
	HeaderDeliveryID    = "X-Gchat-Delivery-Id"
	HeaderDeliveryState = "X-Gchat-Delivery-State"
	// HeaderDeliveryThread is "unknown" on a REPLY_MESSAGE_OR_FAIL reply
	// to a thread the relay cannot vouch for (accept.Result.ThreadUnknown):
	// if Google does not know it either, the delivery becomes a dead letter.
	HeaderDeliveryThread = "X-Gchat-Delivery-Thread"
)

// handleMessageCreate serves POST /v1/spaces/{space}/messages, Google's
// dialect: it parses and authenticates the request (webhookapi.Parse),
// hands the message to the accept path (relay/accept) and answers 200
// "queued" with the first delivery, or turns the accept path's error into
// Google's error envelope.
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
	log := s.log.With(slog.String("space", sp.Name))

	msg := req.Message
	if req.ThreadKeyParam != "" && (msg.Thread == nil || msg.Thread.Name == "" && msg.Thread.ThreadKey == "") {
		// The body's thread wins over the deprecated parameter.
		msg.Thread = &gchat.Thread{ThreadKey: req.ThreadKeyParam}
	}
	res, err := s.accept.Accept(r.Context(), accept.Request{Space: sp, Message: msg, Reply: req.ReplyOption,
		MessageID: req.MessageID, UniqueMessageID: s.rules.MessageIDConflict, CallerRequestID: req.RequestID})
	if err != nil {
		writeAcceptError(w, req, log, err)
		return
	}

	first := res.Deliveries[0]
	log.Debug("queued", slog.String("delivery_id", first.ID), slog.Int("parts", len(res.Deliveries)), slog.Bool("duplicate", res.Duplicate))
	w.Header().Set(HeaderDeliveryID, first.ID)
	w.Header().Set(HeaderDeliveryState, string(first.State))
	if res.ThreadUnknown {
		w.Header().Set(HeaderDeliveryThread, "unknown")
	}
	webhookapi.WriteMessage(w, req, webhookapi.Answer(req, "spaces/"+req.Space+"/messages/"+first.ID, first.RelayThread))
}

// writeAcceptError turns an error of the accept path into Google's answer:
// what Google refuses gets Google's status and text (as the emulator gives
// them), a message the relay cannot fit a 400, a full queue or a failed
// store a 503 with Retry-After.
func writeAcceptError(w http.ResponseWriter, req *webhookapi.Request, log *slog.Logger, err error) {
	var (
		thErr     *accept.ThreadError
		existsErr *accept.ExistsError
		msgErr    *accept.MessageError
		fullErr   *accept.FullError
	)
	switch {
	case errors.As(err, &thErr):
		webhookapi.WriteError(w, req, webhookapi.UnknownThread())
	case errors.As(err, &existsErr):
		log.Debug("message_id_exists", slog.String("delivery_id", existsErr.Delivery))
		webhookapi.WriteError(w, req, webhookapi.MessageIDExists())
	case errors.As(err, &msgErr) && msgErr.Op == accept.OpFit:
		webhookapi.WriteError(w, req, webhookapi.InvalidArgument("The message cannot be fitted into Google's limits: "+msgErr.Err.Error()))
	case errors.As(err, &msgErr):
		webhookapi.WriteError(w, req, webhookapi.InvalidArgument("The message cannot be encoded: "+msgErr.Err.Error()))
	case errors.As(err, &fullErr):
		log.Warn("queue_full", slog.Int("limit", fullErr.Limit))
		unavailable(w, req, fmt.Sprintf("The relay's queue for space %s is full; retry later.", fullErr.Space))
	default:
		log.Error("enqueue_failed", slog.Any("err", err))
		unavailable(w, req, "")
	}
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
		// An unknown space is refused like a wrong token, with webhookapi's
		// 403 PERMISSION_DENIED (the emulator's default for an unknown
		// space too, docs/emulator-api.md): a different answer would tell
		// an outsider which space names exist.
		TokenValid: func(space, token string) (bool, *webhookapi.Error) {
			sp := s.cfg.Space(space)
			return sp != nil && (sp.IngestToken == "" || sp.IngestToken.Equal(token)), nil
		},
		// Google's own thread names of the space the relay space delivers
		// to pass through; those of any other space are refused at once,
		// as the emulator's default refuses them.
		ThreadSpaceValid: func(space, threadSpace string) bool {
			sp := s.cfg.Space(space)
			return sp != nil && sp.Webhook.Space() == threadSpace
		},
		ForeignThreadStatus: s.rules.ForeignThreadStatus,
	}
}

// unavailable answers 503 with Retry-After; req may be nil.
func unavailable(w http.ResponseWriter, req *webhookapi.Request, msg string) {
	w.Header().Set("Retry-After", retryAfterSeconds)
	webhookapi.WriteError(w, req, webhookapi.Unavailable(msg))
}
