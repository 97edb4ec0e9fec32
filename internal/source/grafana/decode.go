// Package grafana decodes the payload of Grafana Alerting's webhook contact
// point (payload version "1") into an alert.Group. Everything after decoding
// (cards, thread keys, repeat suppression) is package alert's.
//
// The payload is documented at
// https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
// (read for Grafana 11.x; testdata/README.md says what the fixtures follow).
// Grafana cannot run where these tests run, so the fixtures are written from
// that page.
package grafana

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/alertjson"
)

// Source is the Source of the groups Decode returns.
const Source = "grafana"

// maxAlerts is the most alerts Decode keeps; the others are counted in
// TruncatedAlerts, as Grafana itself counts the alerts its "Max alerts"
// setting leaves out. Rejecting a larger payload would lose it for good, and a
// group that large shows only its first few alerts anyway. It matches the
// Alertmanager source.
const maxAlerts = 1000

// payload is Grafana's webhook body: Alertmanager's template data extended
// with orgId, title, state and message, and per alert the links and values
// Grafana adds. Maps of strings decode as raw values so that an error can name
// the key; unknown fields are ignored, as later versions may add some.
type payload struct {
	alertjson.Envelope
	// Title and Message are Grafana's own rendering of the notification.
	Title   string `json:"title"`
	Message string `json:"message"`
}

type alertPayload struct {
	alertjson.AlertFields
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
	ValueString  string `json:"valueString"`
	// Values maps each query or expression of the rule (refId) to the number
	// it gave; read only to make a ValueString when Grafana sent none.
	Values map[string]json.RawMessage `json:"values"`
}

// Decode decodes a Grafana webhook payload. It requires version "1", a
// groupKey, a status and at least one alert, each with a status and startsAt;
// it accepts fields it does not know. An error names the field at fault, as in
// `alerts[0].status: "x" is not firing or resolved`, or the byte offset of
// invalid JSON.
//
// The group's Status is Firing when any alert fires, and also when Grafana
// says firing and left alerts out; otherwise Resolved. Times are in UTC, and
// an endsAt of 0001-01-01, which Grafana sends while an alert fires, becomes
// the zero time. Each alert's SilenceURL, DashboardURL and PanelURL are
// Grafana's own (empty when Grafana sends ""); ValueString is Grafana's, or,
// when it sent none, the alert's values as "B=44.2, C=1" in refId order.
// orgId, state and each alert's imageURL are read by nothing: the alert model
// has no place for them. Only the first 1,000 alerts are kept; the others are
// added to TruncatedAlerts.
//
// Decode does not limit the size of data: the caller bounds the request body.
func Decode(data []byte) (alert.Group, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return alert.Group{}, errors.New("payload is empty")
	}
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		return alert.Group{}, alertjson.JSONError("", err)
	}
	switch {
	case p.Version == "":
		return alert.Group{}, errors.New("version: missing")
	case p.Version == "4":
		// Alertmanager's version: the wrong route, not a newer Grafana.
		return alert.Group{}, errors.New(`version: "4" is Alertmanager's payload, not Grafana's (want "1"); send it to the alertmanager source`)
	case p.Version != "1":
		return alert.Group{}, fmt.Errorf("version: %s is not supported (want \"1\")", alertjson.Quote(p.Version))
	}
	g, err := p.Group(Source, maxAlerts, decodeAlert)
	if err != nil {
		return alert.Group{}, err
	}
	g.Title, g.Message = p.Title, p.Message
	return g, nil
}

func decodeAlert(path string, raw json.RawMessage) (alert.Alert, error) {
	var p alertPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return alert.Alert{}, alertjson.JSONError(path, err)
	}
	if p.StartsAt == "" {
		return alert.Alert{}, fmt.Errorf("%s.startsAt: missing", path)
	}
	a, err := p.Alert(path)
	if err != nil {
		return alert.Alert{}, err
	}
	a.SilenceURL = p.SilenceURL
	a.DashboardURL = p.DashboardURL
	a.PanelURL = p.PanelURL
	a.ValueString = p.ValueString
	if a.ValueString == "" {
		if a.ValueString, err = valueString(path+".values", p.Values); err != nil {
			return alert.Alert{}, err
		}
	}
	return a, nil
}

// valueString renders values as "B=44.2, C=1", refIds sorted, numbers as
// Grafana wrote them. null (Grafana's NaN) is shown as null. It returns "" for
// no values.
func valueString(path string, values map[string]json.RawMessage) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	ids := make([]string, 0, len(values))
	for id := range values {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		raw := bytes.TrimSpace(values[id])
		if string(raw) != "null" {
			var n json.Number
			if err := json.Unmarshal(raw, &n); err != nil {
				return "", alertjson.JSONError(alertjson.Key(path, id), err)
			}
			raw = []byte(n)
		}
		parts[i] = id + "=" + string(raw)
	}
	return strings.Join(parts, ", "), nil
}
