package emulator

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator/render"
	"github.com/gchatkit/gchat/internal/httpserve"
	"github.com/gchatkit/gchat/internal/webhookapi"
)

// Google's texts for the answers the emulator makes itself (docs/google-chat.md §6.3).
const (
	// Guess: docs/google-chat.md §4.2 [UNK] for webhooks: the generic Google text for
	// RESOURCE_EXHAUSTED, seen on other Google APIs.
	msgQuota        = "Resource has been exhausted (e.g. check quota)."
	msgUnavailable  = "The service is currently unavailable." // docs/google-chat.md §6.3, quickstart
	msgInternal     = "Internal error encountered."           // Google's generic INTERNAL text [INF]
	msgNoPermission = "The caller does not have permission"   // docs/google-chat.md §9, apps disabled
	msgNotFound     = "Requested entity was not found."       // Google's generic NOT_FOUND text [INF]
	// msgNoToken is webhookapi's answer to a bad token (docs/google-chat.md §6.3); an
	// unknown space answers the same by default.
	msgNoToken = "The API is called without a valid token. Instructions on how to use incoming webhooks can be found at https://developers.google.com/chat/how-tos/webhooks"
)

// Names of injected faults in request records.
const (
	faultLatency = "latency"
	fault429     = "429"
	fault500     = "500"
	fault503     = "503"
	faultReset   = "reset"
	faultHang    = "hang"
	faultLost    = "lost"
)

// handleMessageCreate is the webhook endpoint, POST /v1/spaces/{space}/messages,
// in the order documented on the package.
func (s *Server) handleMessageCreate(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	rec := RequestRecord{Space: r.PathValue("space"), Start: start}
	w, r = s.captureRequest(w, r, &rec) // for the record's request view
	recorded := false
	defer func() { // also when a reset fault panics
		if !recorded {
			s.finish(&rec)
		}
	}()
	// reset records the request, then closes the connection without an
	// answer: recorded first, so a client that sees the reset finds it.
	reset := func() {
		recorded = true
		s.finish(&rec)
		abort(w)
	}

	s.mu.RLock()
	set := s.settings // a snapshot: settings are replaced, never changed
	s.mu.RUnlock()

	// 1. Credentials and body.
	var hook webhook
	cfg := webhookapi.Config{
		KeyValid: func(key string) bool { return key == s.key },
		TokenValid: func(space, token string) (bool, *webhookapi.Error) {
			return s.tokenValid(space, token, set, &hook)
		},
		ForeignThreadStatus: set.ForeignThreadStatus,
	}
	if set.LegacyTextLimit {
		cfg.MaxText = legacyTextLimit
	}
	cfg.StrictSchema = !set.AcceptPreviewText
	req, perr := webhookapi.Parse(r, cfg)
	rec.Webhook = hook.id
	if perr != nil {
		rec.Status = s.writeError(w, nil, perr, set)
		return
	}

	// 2. Quota, and the fault draw under the same lock.
	s.mu.Lock()
	sp := s.spaces[rec.Space]
	var (
		allowed bool
		faults  Faults
		fault   string
	)
	if sp != nil {
		allowed = sp.quota.allow(s.now(), set)
		faults = s.faults.forSpace(sp.id)
		if allowed {
			fault = s.drawFaultLocked(&faults)
		}
	}
	s.mu.Unlock()
	switch {
	case sp == nil: // deleted since authentication
		rec.Status = s.writeError(w, req, unknownSpace(set), set)
		return
	case !allowed:
		rec.Status = s.writeError(w, req, webhookapi.ResourceExhausted(msgQuota), set)
		return
	}

	// 3. Faults.
	if faults.Latency > 0 {
		rec.Fault = faultLatency
		httpserve.ExtendWrite(w, r, faults.Latency)
		if !s.sleep(r.Context(), faults.Latency) {
			return // the client went away, or the server is closing: no answer
		}
	}
	if fault != "" && fault != faultLost {
		rec.Fault = fault
		switch fault {
		case faultReset:
			reset()
		case faultHang:
			select {
			case <-r.Context().Done():
			case <-s.done:
				reset()
			}
		case fault429:
			rec.Status = s.writeError(w, req, webhookapi.ResourceExhausted(msgQuota), set)
		case fault500:
			rec.Status = s.writeError(w, req, webhookapi.Internal(msgInternal), set)
		case fault503:
			rec.Status = s.writeError(w, req, webhookapi.Unavailable(msgUnavailable), set)
		}
		return
	}

	// 4. What does not depend on the space's state is done outside the lock,
	// once, at arrival.
	m := &Message{
		Sender:    Sender{Name: hook.user, DisplayName: hook.name, AvatarURL: hook.avatarURL, Type: "BOT"},
		Webhook:   hook.id,
		RequestID: req.RequestID,
		MessageID: req.MessageID,
		Message:   req.Message,
		HTML:      render.Message(req.Message),
		Problems:  req.Message.Check(),
	}
	msgID := newID(11)

	s.mu.Lock()
	m, replay, aerr := s.postLocked(rec.Space, req, m, set, msgID)
	s.mu.Unlock()
	if aerr != nil {
		rec.Status = s.writeError(w, req, aerr, set)
		return
	}
	rec.Status = http.StatusOK
	rec.Message, rec.problems = m.Name, m.Problems
	if !replay {
		s.events.publish("message", *m)
	}
	if fault == faultLost {
		// Posted, but the client never hears so.
		rec.Fault, rec.Status = faultLost, 0
		reset()
		return
	}
	if replay {
		s.writeMessage(w, req, m.Body)
		return
	}
	// The map itself, not m.Body read back: numbers keep their form.
	webhookapi.WriteMessage(w, req, webhookapi.Answer(req, m.Name, m.Thread.Name))
}

// tokenValid is webhookapi's token check: the webhook is registered, not
// deleted, in a space that lets apps post. It copies the webhook to *hook.
func (s *Server) tokenValid(spaceID, token string, set *Settings, hook *webhook) (bool, *webhookapi.Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp := s.spaces[spaceID]
	if sp == nil {
		return false, unknownSpace(set)
	}
	h := sp.byToken[token]
	if h == nil {
		return false, nil // webhookapi's 403 "called without a valid token"
	}
	*hook = *h // the request record names the webhook even when refused
	switch {
	case h.deleted:
		if set.DeletedWebhookStatus == http.StatusNotFound {
			return false, webhookapi.NotFound(msgNotFound)
		}
		return false, nil
	case !sp.appsEnabled:
		// docs/google-chat.md §9: a space (a DM, or an OU) where Chat apps are off.
		return false, webhookapi.PermissionDenied(msgNoPermission)
	}
	return true, nil
}

// unknownSpace is the answer for a space that does not exist, per the setting.
func unknownSpace(set *Settings) *webhookapi.Error {
	if set.UnknownSpaceStatus == http.StatusNotFound {
		return webhookapi.NotFound(msgNotFound)
	}
	return webhookapi.PermissionDenied(msgNoToken)
}

// drawFaultLocked picks at most one failure for a request from one draw, in
// the bands reset, hang, 429, 500, 503, lost. No draw is made when every
// rate is zero, so a deterministic Rand is consumed only by requests that
// can fail.
func (s *Server) drawFaultLocked(f *Faults) string {
	if f.Reset+f.Hang+f.Rate429+f.Rate500+f.Rate503+f.Lost <= 0 {
		return ""
	}
	x := s.rand()
	for _, b := range []struct {
		share float64
		name  string
	}{{f.Reset, faultReset}, {f.Hang, faultHang}, {f.Rate429, fault429}, {f.Rate500, fault500}, {f.Rate503, fault503}, {f.Lost, faultLost}} {
		if x < b.share {
			return b.name
		}
		x -= b.share
	}
	return ""
}

// abort closes the connection without an answer: the client sees a reset.
func abort(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: net/http resets the stream
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST instead of FIN: "connection reset by peer"
	}
	conn.Close()
}

// postLocked completes m (name, thread, time, body) and stores it, or
// returns the first message of a repeated requestId (replay true), or the
// error answer.
func (s *Server) postLocked(spaceID string, req *webhookapi.Request, m *Message, set *Settings, msgID string) (_ *Message, replay bool, _ *webhookapi.Error) {
	sp := s.spaces[spaceID]
	if sp == nil {
		return nil, false, unknownSpace(set)
	}
	// Guess: docs/google-chat.md §1.3/§10 [UNK], Settings.HonourRequestID.
	if set.HonourRequestID && req.RequestID != "" {
		if first := sp.requestIDs[req.RequestID]; first != nil {
			return first, true, nil
		}
	}
	// Guess: docs/google-chat.md §6.3 [INF], Settings.MessageIDConflict.
	if set.MessageIDConflict && req.MessageID != "" && sp.messageIDs[req.MessageID] != nil {
		return nil, false, webhookapi.MessageIDExists()
	}
	t, reply, aerr := sp.place(req, m.Webhook, set, msgID)
	if aerr != nil {
		return nil, false, aerr
	}
	threadID := msgID // unthreaded: the message is its own thread
	if t != nil {
		threadID = t.id
		m.Thread = MessageThread{Name: t.name, ThreadKey: t.key} // shared by its messages
	} else {
		m.Thread.Name = threadName(sp.id, threadID)
	}
	m.Name = "spaces/" + sp.id + "/messages/" + msgID + "." + threadID
	m.Space = sp.id
	m.ThreadReply = reply
	m.CreateTime = s.now()
	body, err := json.Marshal(webhookapi.Answer(req, m.Name, m.Thread.Name))
	if err != nil { // values decoded from JSON: cannot happen
		return nil, false, webhookapi.Internal(msgInternal)
	}
	m.Body = body
	s.storeLocked(sp, m, t)
	return m, false, nil
}

// place decides the thread of a new message in sp (docs/google-chat.md §7): it returns the
// thread (nil in an unthreaded space), whether the message is a reply, or the
// 404 of REPLY_MESSAGE_OR_FAIL. A new thread takes msgID as its id, so its
// first message is named T.T (docs/google-chat.md §11.7).
func (sp *space) place(req *webhookapi.Request, hookID string, set *Settings, msgID string) (*thread, bool, *webhookapi.Error) {
	if sp.threading == Unthreaded {
		// Guess: docs/google-chat.md §7 [INF]: messageReplyOption is ignored, the message
		// posts flat, and a thread name (its own id) is still returned.
		return nil, false, nil
	}
	switch req.ReplyOption {
	case gchat.ReplyUnset, gchat.ReplyNewThread:
		// docs/google-chat.md §7 [DOC]: unspecified, absent or explicit, starts a new
		// thread and ignores thread.name and threadKey.
		return sp.newThread(msgID, "", hookID), false, nil
	}
	var name, bodyKey string
	if th := req.Message.Thread; th != nil {
		name, bodyKey = th.Name, th.ThreadKey
	}
	// Guess: docs/google-chat.md §7/§13 [UNK], Settings.ThreadPrecedence: the first present
	// identifier decides; the first present key is bound to a new thread.
	var found *thread
	decided := false
	bind := ""
	for _, p := range set.ThreadPrecedence {
		var key string
		switch p {
		case ThreadByName:
			if name != "" && !decided {
				decided = true
				found = sp.threadByName(name)
			}
			continue
		case ThreadByBodyKey:
			key = bodyKey
		case ThreadByQueryKey:
			key = req.ThreadKeyParam
		}
		if key == "" {
			continue
		}
		if bind == "" {
			bind = key
		}
		if !decided {
			decided = true
			found = sp.keys[threadKeyRef{hookID, key}]
		}
	}
	if found != nil {
		return found, true, nil
	}
	if req.ReplyOption == gchat.ReplyOrFail && set.OrFailUnknownThread == OrFailNotFound {
		// Guess: docs/google-chat.md §7 [UNK], Settings.OrFailUnknownThread. No thread
		// given at all counts as unknown.
		return nil, false, webhookapi.UnknownThread() // the relay answers the same
	}
	// REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD (or OR_FAIL creating): a new
	// thread, which becomes the one for the key (docs/google-chat.md §7 [DOC]).
	t := sp.newThread(msgID, bind, hookID)
	if bind != "" {
		sp.keys[threadKeyRef{hookID, bind}] = t
	}
	return t, false, nil
}

// threadByName finds a thread of this space by "spaces/S/threads/T"; a
// thread of another space never gets here (webhookapi.Parse refuses it with
// Settings.ForeignThreadStatus).
func (sp *space) threadByName(name string) *thread {
	rest, ok := strings.CutPrefix(name, "spaces/"+sp.id+"/threads/")
	if !ok {
		return nil
	}
	return sp.threads[rest]
}

func (sp *space) newThread(id, key, hookID string) *thread {
	sp.threadSeq++
	t := &thread{id: id, name: threadName(sp.id, id), key: key, webhook: hookID, seq: sp.threadSeq}
	sp.threads[id] = t
	return t
}

// finish records a webhook request and logs it.
func (s *Server) finish(rec *RequestRecord) {
	rec.Duration = s.now().Sub(rec.Start)
	s.mu.Lock()
	s.recordLocked(s.spaces[rec.Space], *rec)
	s.mu.Unlock()
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.LogAttrs(context.Background(), slog.LevelDebug, "webhook_request",
			slog.String("space", rec.Space), slog.String("webhook", rec.Webhook),
			slog.Int("status", rec.Status), slog.String("fault", rec.Fault))
	}
}

// writeError writes a Google error answer, with Retry-After on a 429 when
// the setting asks for it, and returns the status.
func (s *Server) writeError(w http.ResponseWriter, req *webhookapi.Request, e *webhookapi.Error, set *Settings) int {
	if e.Code == http.StatusTooManyRequests && set.RetryAfterSeconds > 0 {
		// Guess: docs/google-chat.md §4.2 [UNK], Settings.RetryAfterSeconds.
		w.Header().Set("Retry-After", strconv.Itoa(set.RetryAfterSeconds))
	}
	webhookapi.WriteError(w, req, e)
	return e.Code
}

// writeMessage writes the 200 answer from a stored body.
func (s *Server) writeMessage(w http.ResponseWriter, req *webhookapi.Request, body json.RawMessage) {
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil { // our own JSON: cannot happen
		webhookapi.WriteError(w, req, webhookapi.Internal(msgInternal))
		return
	}
	webhookapi.WriteMessage(w, req, msg)
}
