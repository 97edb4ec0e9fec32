package adminapi

import "time"

// Escalation is one pending escalation in GET /api/v1/escalations: a
// reply a route's escalate: rule will post in an incident's thread if the
// incident is still firing at Due.
type Escalation struct {
	Route string `json:"route"`
	// Rule is the rule's index in the route's escalate: list.
	Rule     int    `json:"rule"`
	Incident int64  `json:"incident"`
	Space    string `json:"space"`
	// Text is the reply, with its mention.
	Text string    `json:"text"`
	Due  time.Time `json:"due"`
	// LastFiring is when the incident's last firing notification came;
	// StaleAt when the escalation is given up without another one.
	LastFiring time.Time `json:"lastFiring"`
	StaleAt    time.Time `json:"staleAt"`
}

// Escalations is the answer of GET /api/v1/escalations: the pending
// escalations, soonest first.
type Escalations struct {
	Escalations []Escalation `json:"escalations"`
}
