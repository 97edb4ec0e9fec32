package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gchatkit/gchat/internal/store"
)

// logAction records an operator's action with who did it.
func (c *Console) logAction(s session, action string, attrs ...any) {
	c.log.Info("console_"+action, append([]any{slog.String("who", s.Who), slog.String("session", s.ID)}, attrs...)...)
}

func (c *Console) wake(lane string) {
	if c.cfg.Wake != nil {
		c.cfg.Wake(lane)
	}
}

// handleSpaceResume: POST /console/spaces/{space}/resume lifts the pause
// of the space's Google space.
func (c *Console) handleSpaceResume(w http.ResponseWriter, r *http.Request, s session) {
	sp := c.spaces[r.PathValue("space")]
	if sp == nil {
		c.writeMessage(w, r, s, http.StatusNotFound, fmt.Sprintf("Space %q is not configured.", r.PathValue("space")), "/console/")
		return
	}
	lane := sp.Webhook.Space()
	if err := c.cfg.Store.PauseLane(r.Context(), lane, store.Pause{}); err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	c.logAction(s, "resumed", slog.String("space", sp.Name))
	c.wake(lane)
	c.renderResult(w, r, s, "Resumed space "+sp.Name+".", "/console/")
}

// replay replays one dead letter and wakes its lane.
func (c *Console) replay(r *http.Request, s session, id string) error {
	d, err := c.cfg.Store.Replay(r.Context(), id)
	if err != nil {
		return err
	}
	c.logAction(s, "replayed", slog.String("space", d.Space), slog.String("delivery_id", id))
	c.wake(d.Lane)
	return nil
}

// drop deletes one delivery that is not sending.
func (c *Console) drop(r *http.Request, s session, id string) error {
	d, err := c.cfg.Store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if err := c.cfg.Store.Delete(r.Context(), id); err != nil {
		return err
	}
	c.logAction(s, "dropped", slog.String("space", d.Space), slog.String("delivery_id", id), slog.String("state", string(d.State)))
	return nil
}

// handleDeliveryReplay: POST /console/deliveries/{id}/replay.
func (c *Console) handleDeliveryReplay(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if err := c.replay(r, s, id); err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	c.renderResult(w, r, s, "Replayed "+id+": it is queued again.", "/console/deliveries/"+id)
}

// handleDeliveryDrop: POST /console/deliveries/{id}/drop.
func (c *Console) handleDeliveryDrop(w http.ResponseWriter, r *http.Request, s session) {
	id := r.PathValue("id")
	if err := c.drop(r, s, id); err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	c.renderResult(w, r, s, "Dropped "+id+".", "/console/dead")
}

// apply runs action on each id and says how it went.
func (c *Console) apply(r *http.Request, s session, action string, ids []string) (string, error) {
	do := c.replay
	verb := "Replayed"
	if action == "drop" {
		do, verb = c.drop, "Dropped"
	} else if action != "replay" {
		return "", errBadRequest("Action must be replay or drop.")
	}
	done, skipped := 0, 0
	for _, id := range ids {
		err := do(r, s, id)
		switch {
		case err == nil:
			done++
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			skipped++ // replayed or dropped meanwhile
		default:
			return "", fmt.Errorf("%s %s after %d: %w", action, id, done, err)
		}
	}
	msg := fmt.Sprintf("%s %d dead letter(s).", verb, done)
	if skipped > 0 {
		msg += fmt.Sprintf(" %d had changed meanwhile and were left alone.", skipped)
	}
	return msg, nil
}

// handleDeadSelected: POST /console/dead/selected with action= and the
// checked id= values.
func (c *Console) handleDeadSelected(w http.ResponseWriter, r *http.Request, s session) {
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		c.writeMessage(w, r, s, http.StatusBadRequest, "Nothing selected.", "/console/dead")
		return
	}
	if len(ids) > bulkMax {
		c.writeMessage(w, r, s, http.StatusBadRequest, "Too many selected.", "/console/dead")
		return
	}
	msg, err := c.apply(r, s, r.PostFormValue("action"), ids)
	if err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	c.renderResult(w, r, s, msg, "/console/dead")
}

// handleDeadAll: POST /console/dead/all with action=, the filter and
// count=, the number the confirmation page showed: at most that many of
// the dead letters matching the filter are touched, oldest first.
func (c *Console) handleDeadAll(w http.ResponseWriter, r *http.Request, s session) {
	f, err := formOf(r)
	if err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	n, err := strconv.Atoi(r.PostFormValue("count"))
	if err != nil || n < 1 || n > bulkMax {
		c.writeMessage(w, r, s, http.StatusBadRequest, "Confirm the count first.", "/console/dead")
		return
	}
	ids, _, err := c.deadMatching(r, f, n)
	if err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	c.logAction(s, "bulk", slog.String("action", r.PostFormValue("action")), slog.Int("confirmed", n), slog.Int("matching", len(ids)),
		slog.String("space", f.Space), slog.String("route", f.Route))
	msg, err := c.apply(r, s, r.PostFormValue("action"), ids)
	if err != nil {
		c.writeViewErr(w, r, s, err)
		return
	}
	c.renderResult(w, r, s, msg, "/console/dead")
}
