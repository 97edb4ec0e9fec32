package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Policy says how a route's notifications map to Chat threads.
type Policy string

const (
	// PolicyGroup threads each alert group: firing and resolved notifications
	// of one Alertmanager group land in one thread. It is the default.
	PolicyGroup Policy = "group"
	// PolicyFingerprint threads each alert: a notification is split into one
	// message per alert.
	PolicyFingerprint Policy = "fingerprint"
	// PolicyAlertName threads each alert rule: a notification is split into
	// one message per alertname.
	PolicyAlertName Policy = "alertname"
	// PolicyDay puts the day's notifications (UTC) in one thread.
	PolicyDay Policy = "day"
	// PolicyNone starts a new thread for every notification.
	PolicyNone Policy = "none"
	// PolicyIncident threads each incident of a group: like PolicyGroup, but
	// the relay appends the group's incident number (from its store) to the
	// key, so that a group that fires again after resolving opens a new
	// thread.
	PolicyIncident Policy = "incident"
)

var policies = []Policy{PolicyGroup, PolicyFingerprint, PolicyAlertName, PolicyDay, PolicyNone, PolicyIncident}

// ParsePolicy parses a policy name; "" is PolicyGroup.
func ParsePolicy(s string) (Policy, error) {
	if s == "" {
		return PolicyGroup, nil
	}
	if p := Policy(s); slices.Contains(policies, p) {
		return p, nil
	}
	return "", fmt.Errorf("thread policy %q: want one of group, fingerprint, alertname, day, none, incident", s)
}

// Part is one message's worth of a notification and the thread key it goes to.
type Part struct {
	Group Group
	// ThreadKey is the raw key, "" for no thread. Keys can be long and hold
	// any characters (Alertmanager's group keys do): the relay hashes them.
	ThreadKey string
}

// Split divides a notification into the messages policy p sends, each with its
// thread key; day is the time of the notification, used by PolicyDay. It
// returns at least one part. An unknown policy splits as PolicyGroup.
//
// PolicyFingerprint gives one part per alert, keyed by its ID; PolicyAlertName
// one part per distinct alertname, in order of first appearance, keyed by the
// name ("" for alerts without one). Each such part is a Group of its alerts
// with Status, CommonLabels and CommonAnnotations recomputed for them and
// TruncatedAlerts zero, since which part the left-out alerts belong to is
// unknown; except that when all alerts share one alertname, the one part is g
// unchanged. A group without alerts is one part under every policy, keyed as
// for PolicyGroup.
//
// Parts share the maps and slices of g: treat them as read-only.
func Split(g Group, p Policy, day time.Time) []Part {
	switch p {
	case PolicyNone:
		return []Part{{Group: g}}
	case PolicyDay:
		return []Part{{Group: g, ThreadKey: day.UTC().Format(time.DateOnly)}}
	case PolicyFingerprint:
		if len(g.Alerts) == 0 {
			return []Part{{Group: g, ThreadKey: g.GroupKey}}
		}
		parts := make([]Part, len(g.Alerts))
		for i, a := range g.Alerts {
			parts[i] = Part{Group: subgroup(g, g.Alerts[i:i+1]), ThreadKey: a.ID()}
		}
		return parts
	case PolicyAlertName:
		var names []string
		byName := make(map[string][]Alert)
		for _, a := range g.Alerts {
			n := a.Name()
			if _, seen := byName[n]; !seen {
				names = append(names, n)
			}
			byName[n] = append(byName[n], a)
		}
		switch len(names) {
		case 0:
			return []Part{{Group: g, ThreadKey: g.GroupKey}}
		case 1:
			return []Part{{Group: g, ThreadKey: names[0]}}
		}
		parts := make([]Part, len(names))
		for i, n := range names {
			parts[i] = Part{Group: subgroup(g, byName[n]), ThreadKey: n}
		}
		return parts
	}
	return []Part{{Group: g, ThreadKey: g.GroupKey}} // group, incident
}

// subgroup returns g restricted to alerts.
func subgroup(g Group, alerts []Alert) Group {
	g.Alerts = alerts
	g.Status = groupStatus(alerts)
	g.CommonLabels = commonLabels(alerts)
	g.CommonAnnotations = commonAnnotations(alerts)
	g.TruncatedAlerts = 0
	return g
}

// StateHash returns a hash of what makes a notification news: its source,
// group key, status, number of left-out alerts, and each alert's ID, status
// and start, in any order. Two notifications with the same hash differ at
// most in annotations, end times and links, as Alertmanager's
// repeat_interval resends and the copies of an HA pair do; the relay can
// suppress them. The start counts because an alert that resolved and fired
// again while its group kept firing is news with the same IDs and statuses:
// Prometheus gives the new firing a new start.
func StateHash(g Group) string {
	alerts := make([]string, len(g.Alerts))
	for i, a := range g.Alerts {
		alerts[i] = a.ID() + " " + string(a.Status) + " " + strconv.FormatInt(a.StartsAt.UnixNano(), 10)
	}
	slices.Sort(alerts)
	h := sha256.New()
	// Each field is length-prefixed so that no two field lists write the same bytes.
	write := func(s string) {
		h.Write(strconv.AppendInt(nil, int64(len(s)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	write("alert-state-v2")
	write(g.Source)
	write(g.GroupKey)
	write(string(g.Status))
	write(strconv.Itoa(g.TruncatedAlerts))
	for _, a := range alerts {
		write(a)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
