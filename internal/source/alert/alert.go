// Package alert is the alert model shared by the relay's alerting sources
// (Alertmanager, Grafana): a notification about a group of alerts, decoded
// from a source's payload, and what the relay builds from it (cards, text,
// thread keys).
//
// Decoders live in their own packages (source/alertmanager,
// source/grafana) and return a Group; everything after decoding is common, so
// both sources speak the same card language and thread policies.
package alert

import "time"

// Status is an alert's or a group's state.
type Status string

const (
	Firing   Status = "firing"
	Resolved Status = "resolved"
)

// Group is one notification: a group of alerts the source sent together.
type Group struct {
	// Source names the system that sent it: "alertmanager" or "grafana".
	Source string
	// Receiver is the receiver or contact point name the source used.
	Receiver string
	// Status is Firing when at least one alert fires, else Resolved.
	Status Status
	// GroupKey identifies the group across notifications (Alertmanager's
	// groupKey); it is stable between firing and resolved.
	GroupKey string
	// GroupLabels are the labels the source grouped by; CommonLabels and
	// CommonAnnotations are shared by every alert of the group.
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	// ExternalURL is the source's own address (Alertmanager's externalURL,
	// Grafana's externalURL), "" if unknown.
	ExternalURL string
	// Title and Message are a source's own rendered title and message
	// (Grafana sends them), "" when absent.
	Title   string
	Message string
	// Alerts are the group's alerts, in the source's order.
	Alerts []Alert
	// TruncatedAlerts counts alerts the source left out of the payload.
	TruncatedAlerts int
}

// Alert is one alert of a group.
type Alert struct {
	Status      Status
	Labels      map[string]string
	Annotations map[string]string
	// StartsAt is when it started firing; EndsAt when it resolved (zero
	// while firing: Alertmanager sends 0001-01-01 for "not yet").
	StartsAt time.Time
	EndsAt   time.Time
	// GeneratorURL links to the rule or query that fired it.
	GeneratorURL string
	// Fingerprint identifies the alert (its label set) across
	// notifications.
	Fingerprint string
	// SilenceURL, DashboardURL and PanelURL are links a source provides
	// itself (Grafana); "" when absent. The Alertmanager decoder fills
	// SilenceURL from the group's ExternalURL and the alert's labels.
	SilenceURL   string
	DashboardURL string
	PanelURL     string
	// ValueString is a source's rendering of the values that fired the
	// alert (Grafana), "" when absent.
	ValueString string
}

// Name returns the alert's alertname label ("" when absent).
func (a Alert) Name() string { return a.Labels["alertname"] }

// Firing counts the group's alerts that fire.
func (g Group) Firing() int {
	n := 0
	for _, a := range g.Alerts {
		if a.Status == Firing {
			n++
		}
	}
	return n
}
