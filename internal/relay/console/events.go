package console

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gchatkit/gchat/internal/httpserve"
)

// viewOf finds the view a page address shows, for the event stream.
func (c *Console) viewOf(u *url.URL) (viewFunc, *http.Request, bool) {
	r := &http.Request{Method: http.MethodGet, URL: u}
	switch p := u.Path; {
	case p == "/console/":
		return c.viewSpaces, r, true
	case p == "/console/deliveries":
		return c.viewDeliveries, r, true
	case p == "/console/dead":
		return c.viewDead, r, true
	case p == "/console/routes":
		return c.viewRoutes, r, true
	case strings.HasPrefix(p, "/console/deliveries/") && !strings.Contains(p[len("/console/deliveries/"):], "/"):
		r.SetPathValue("id", p[len("/console/deliveries/"):])
		return c.viewDelivery, r, true
	}
	return nil, nil, false
}

// handleEvents: GET /console/events?page=PATH, a server-sent event stream
// that says "change" whenever what the page at PATH shows changed in the
// store. It polls the store (so any replica's work shows, whichever
// replica serves the stream) and ends with the session.
func (c *Console) handleEvents(w http.ResponseWriter, r *http.Request, s session) {
	u, err := url.Parse(r.URL.Query().Get("page"))
	if err != nil || u.Host != "" || u.Scheme != "" {
		c.writePlain(w, http.StatusBadRequest, "bad page")
		return
	}
	v, vr, ok := c.viewOf(u)
	if !ok {
		c.writePlain(w, http.StatusNotFound, "no live updates for that page")
		return
	}
	ctx, done, ok := httpserve.Stream(w, r)
	if !ok {
		return
	}
	defer done()
	digest := func() string {
		vw, err := v(vr.WithContext(ctx))
		if err != nil {
			return "error: " + err.Error()
		}
		main, err := c.renderMain(vw, s)
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("%x", sha256.Sum256([]byte(main)))
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	last := digest()
	fmt.Fprint(w, "retry: 3000\n\n")
	rc.Flush()
	end := time.NewTimer(time.Unix(s.Expires, 0).Sub(c.cfg.Now()))
	defer end.Stop()
	tick := time.NewTicker(c.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.cfg.Stop: // a nil channel never fires
			return
		case <-end.C:
			fmt.Fprint(w, "event: signedout\ndata: {}\n\n")
			rc.Flush()
			return
		case <-tick.C:
		}
		if d := digest(); d != last {
			last = d
			if _, err := fmt.Fprint(w, "event: change\ndata: {}\n\n"); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}
