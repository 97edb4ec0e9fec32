package relay

import (
	"net/http"

	"github.com/gchatkit/gchat/internal/relay/adminapi"
)

// handleEscalationList answers GET /api/v1/escalations: the escalation
// timers not yet fired, soonest first.
func (s *Server) handleEscalationList(w http.ResponseWriter, r *http.Request) {
	es, err := s.store.PendingEscalations(r.Context())
	if err != nil {
		s.writeStoreErr(w, err)
		return
	}
	out := adminapi.Escalations{Escalations: []adminapi.Escalation{}}
	for _, e := range es {
		out.Escalations = append(out.Escalations, adminapi.Escalation{Route: e.Route, Rule: e.Rule, Incident: e.Incident,
			Space: e.Space, Text: e.Text, Due: e.Due, LastFiring: e.Seen, StaleAt: e.Seen.Add(e.StaleAfter)})
	}
	writeJSON(w, http.StatusOK, out)
}
