package console

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/plan"
	"github.com/gchatkit/gchat/internal/store"
)

// spaceRow is one relay space on the Spaces page.
type spaceRow struct {
	Name        string
	Google      string // masked
	Pending     int
	Oldest      time.Time // queue time of the oldest pending delivery
	Paused      bool
	PauseReason string
	PausedUntil time.Time
	Holder      string
	LeaseUntil  time.Time
	LastSend    time.Time
	// Activity is the last hour's sends and 429s, with its chart.
	Activity *activity
}

// viewSpaces: GET /console/, each configured space with its queue, pause
// and lease.
func (c *Console) viewSpaces(r *http.Request) (view, error) {
	lanes, err := c.cfg.Store.LaneStates(r.Context())
	if err != nil {
		return view{}, err
	}
	byLane := make(map[string]store.LaneState, len(lanes))
	for _, l := range lanes {
		byLane[l.Lane] = l
	}
	now := c.cfg.Now()
	acts, err := c.activities(r.Context(), now)
	if err != nil {
		return view{}, err
	}
	var rows []spaceRow
	for _, sp := range c.cfg.Spaces {
		lane := sp.Webhook.Space()
		l := byLane[lane]
		row := spaceRow{Name: sp.Name, Google: mask(lane), Pending: l.Pending, LastSend: l.LastSend, Activity: acts[sp.Name]}
		if l.Owner != "" && l.LeaseUntil.After(now) {
			row.Holder, row.LeaseUntil = l.Owner, l.LeaseUntil
		}
		if l.Pause.Active(now) {
			row.Paused, row.PauseReason, row.PausedUntil = true, l.Pause.Reason, l.Pause.Until
		}
		if l.Pending > 0 {
			ds, err := c.cfg.Store.List(r.Context(), store.Filter{Space: sp.Name, States: []store.State{store.StateQueued, store.StateSending}, Limit: 1})
			if err != nil {
				return view{}, err
			}
			if len(ds) > 0 {
				row.Oldest = ds[0].QueuedAt
			}
		}
		rows = append(rows, row)
	}
	return view{Name: "spaces", Title: "Spaces", Nav: "spaces", Data: rows}, nil
}

// listForm is the filter of the Deliveries and Dead letters pages, as the
// form holds it.
type listForm struct {
	Space, Route, State, Thread, Text, Before string
}

func (f listForm) filter() store.Filter {
	sf := store.Filter{Space: f.Space, Route: f.Route, Group: f.Thread, Text: f.Text, Before: f.Before, Newest: true, Limit: pageSize}
	if f.State != "" {
		sf.States = []store.State{store.State(f.State)}
	}
	return sf
}

var states = []store.State{store.StateQueued, store.StateSending, store.StateBatched, store.StateDone, store.StateDead, store.StateDropped}

func formOf(r *http.Request) (listForm, error) {
	v := r.Form
	if r.Method == http.MethodGet {
		v = r.URL.Query()
	}
	f := listForm{Space: v.Get("space"), Route: v.Get("route"), State: v.Get("state"), Thread: v.Get("thread"), Text: v.Get("q"), Before: v.Get("before")}
	if f.State != "" && !slices.Contains(states, store.State(f.State)) {
		return f, errBadRequest(fmt.Sprintf("No such state %q.", f.State))
	}
	if _, ok := store.ParseID(f.Before); f.Before != "" && !ok {
		return f, errBadRequest("Bad page cursor.")
	}
	return f, nil
}

// deliveryRow is one delivery in a list.
type deliveryRow struct {
	ID, Space, Route, Group string
	State                   store.State
	Attempts, LastStatus    int
	LastError, Summary      string
	Created, Updated        time.Time
}

func rowOf(d store.Delivery) deliveryRow {
	return deliveryRow{ID: d.ID, Space: d.Space, Route: d.Route, Group: d.Group, State: d.State, Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: scrub(d.LastError), Summary: summary(d.Message), Created: d.CreatedAt, Updated: d.UpdatedAt}
}

// listData is the Deliveries and Dead letters pages' data.
type listData struct {
	Form   listForm
	Rows   []deliveryRow
	Next   string // the before= of the next page, "" on the last
	Spaces []string
	Routes []string
	States []store.State
	Dead   bool
}

func (c *Console) list(r *http.Request, f listForm, dead bool) (listData, error) {
	ds, err := c.cfg.Store.List(r.Context(), f.filter())
	if err != nil {
		return listData{}, err
	}
	out := listData{Form: f, States: states, Dead: dead}
	for _, d := range ds {
		out.Rows = append(out.Rows, rowOf(d))
	}
	if len(ds) == pageSize {
		out.Next = ds[len(ds)-1].ID
	}
	for _, sp := range c.cfg.Spaces {
		out.Spaces = append(out.Spaces, sp.Name)
	}
	for _, rt := range c.cfg.Routes {
		out.Routes = append(out.Routes, rt.Name)
	}
	return out, nil
}

// viewDeliveries: GET /console/deliveries?space=&route=&state=&thread=&q=&before=,
// newest first.
func (c *Console) viewDeliveries(r *http.Request) (view, error) {
	f, err := formOf(r)
	if err != nil {
		return view{}, err
	}
	d, err := c.list(r, f, false)
	return view{Name: "deliveries", Title: "Deliveries", Nav: "deliveries", Data: d}, err
}

// viewDead: GET /console/dead, the dead letters with their last error.
func (c *Console) viewDead(r *http.Request) (view, error) {
	f, err := formOf(r)
	if err != nil {
		return view{}, err
	}
	f.State = string(store.StateDead)
	d, err := c.list(r, f, true)
	return view{Name: "dead", Title: "Dead letters", Nav: "dead", Data: d}, err
}

// deliveryData is the page of one delivery.
type deliveryData struct {
	D       store.Delivery
	Google  string // masked lane
	Error   string
	Summary string
	HTML    template.HTML
	JSON    string
	Members []deliveryRow // what coalescing merged into a batch
	// Attempts is the delivery's attempt history, kept across replays.
	Attempts []attemptRow
	Dead     bool
}

// attemptRow is one attempt as the delivery page shows it, its error
// scrubbed.
type attemptRow struct {
	store.Attempt
	Error string
}

// viewDelivery: GET /console/deliveries/{id}.
func (c *Console) viewDelivery(r *http.Request) (view, error) {
	d, err := c.cfg.Store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	data := deliveryData{D: d, Google: mask(d.Lane), Error: scrub(d.LastError), Summary: summary(d.Message),
		HTML: messageHTML(d.Message), JSON: deliveryJSON(d), Dead: d.State == store.StateDead}
	as, err := c.cfg.Store.Attempts(r.Context(), d.ID)
	if err != nil {
		return view{}, err
	}
	for _, a := range as {
		data.Attempts = append(data.Attempts, attemptRow{Attempt: a, Error: scrub(a.Error)})
	}
	if d.Batch {
		ms, err := c.cfg.Store.List(r.Context(), store.Filter{BatchID: d.ID, Limit: 1000})
		if err != nil {
			return view{}, err
		}
		for _, m := range ms {
			data.Members = append(data.Members, rowOf(m))
		}
	}
	return view{Name: "delivery", Title: "Delivery " + d.ID, Nav: "deliveries", Data: data}, nil
}

// confirmData is the page that confirms an action on every dead letter
// matching a filter.
type confirmData struct {
	Action string
	Form   listForm
	Count  int
	More   bool // more than bulkMax match
}

// viewDeadConfirm: GET /console/dead/confirm?action=replay|drop&<filter>:
// counts what the action would touch, and asks.
func (c *Console) viewDeadConfirm(r *http.Request) (view, error) {
	f, err := formOf(r)
	if err != nil {
		return view{}, err
	}
	action := r.URL.Query().Get("action")
	if action != "replay" && action != "drop" {
		return view{}, errBadRequest("Action must be replay or drop.")
	}
	ids, more, err := c.deadMatching(r, f, bulkMax)
	if err != nil {
		return view{}, err
	}
	f.State, f.Before = string(store.StateDead), ""
	return view{Name: "confirm", Title: "Confirm", Nav: "dead", Data: confirmData{Action: action, Form: f, Count: len(ids), More: more}}, nil
}

// deadMatching lists the ids of the dead letters matching f (oldest
// first), at most max; more reports that there were more.
func (c *Console) deadMatching(r *http.Request, f listForm, max int) (ids []string, more bool, err error) {
	sf := store.Filter{Space: f.Space, Route: f.Route, Group: f.Thread, Text: f.Text, States: []store.State{store.StateDead}, Limit: 1000}
	for {
		ds, err := c.cfg.Store.List(r.Context(), sf)
		if err != nil {
			return nil, false, err
		}
		for _, d := range ds {
			if len(ids) == max {
				return ids, true, nil
			}
			ids = append(ids, d.ID)
		}
		if len(ds) < sf.Limit {
			return ids, false, nil
		}
		sf.After = ds[len(ds)-1].ID
	}
}

// routeRow is one route on the Routes page.
type routeRow struct {
	Name, Source string
	Spaces       []string
	Last         []deliveryRow
	Counts       routeCounts
}

// routesData is the Routes page's data.
type routesData struct {
	Routes []routeRow
	// Counted reports that this replica counts its duplicates (the
	// relay's metrics are on).
	Counted bool
	Reasons []dedupReason
}

// dedupReason is a reason the relay did not queue a post of a source
// route, as gchat_relay_deduplicated_total names it, and its column.
type dedupReason struct{ Key, Label, Help string }

var dedupReasons = []dedupReason{
	{"copy", "Copies", "the same state within dedup_window: a sender's retry, the other Alertmanager of a pair"},
	{"repeat", "Repeats suppressed", "an unchanged state within suppress_repeats of its last post"},
	{"stale_echo", "Stale echoes", "a firing whose alerts were already seen resolved"},
	{"redelivery", "Redeliveries", "a verified sender's delivery id seen before"},
}

// viewRoutes: GET /console/routes, each route's last deliveries, the
// posts this replica did not queue as duplicates, and the incidents its
// alert groups opened (from the store's incident counter).
func (c *Console) viewRoutes(r *http.Request) (view, error) {
	var dedup map[string]map[string]int
	if c.cfg.Deduplicated != nil {
		dedup = c.cfg.Deduplicated()
	}
	data := routesData{Counted: c.cfg.Deduplicated != nil, Reasons: dedupReasons}
	for _, rt := range c.cfg.Routes {
		ds, err := c.cfg.Store.List(r.Context(), store.Filter{Route: rt.Name, Newest: true, Limit: 5})
		if err != nil {
			return view{}, err
		}
		row := routeRow{Name: rt.Name, Source: string(rt.Source), Spaces: rt.Spaces}
		for _, d := range ds {
			row.Last = append(row.Last, rowOf(d))
		}
		if data.Counted {
			row.Counts.Dedup = dedup[rt.Name]
			if row.Counts.Dedup == nil {
				row.Counts.Dedup = map[string]int{}
			}
		}
		if rt.Source == config.SourceAlertmanager || rt.Source == config.SourceGrafana {
			row.Counts.Alerts = true
			if row.Counts.Incidents, err = c.cfg.Store.IncidentCount(r.Context(), plan.IncidentPrefix(rt.Name)); err != nil {
				return view{}, err
			}
		}
		data.Routes = append(data.Routes, row)
	}
	return view{Name: "routes", Title: "Routes", Nav: "routes", Data: data}, nil
}
