// Package alertmanager decodes the payload of Prometheus Alertmanager's
// webhook receiver (version 4) into an alert.Group. Everything after decoding
// (cards, thread keys, repeat suppression) is package alert's.
package alertmanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/gchatkit/gchat/internal/source/alertjson"
)

// Source is the Source of the groups Decode returns.
const Source = "alertmanager"

// maxAlerts is the most alerts Decode keeps; the others are counted in
// TruncatedAlerts. Rejecting a larger payload would lose it for good, since
// Alertmanager does not retry a 4xx; a group that large shows only its first
// few alerts anyway.
const maxAlerts = 1000

// payload is Alertmanager's webhook body, version 4
// (notify/webhook.Message: template.Data plus version, groupKey and
// truncatedAlerts). Unknown fields are ignored, as later versions may add
// some.
type payload struct {
	alertjson.Envelope
}

type alertPayload struct {
	alertjson.AlertFields
}

// Decode decodes an Alertmanager webhook payload. It requires version "4", a
// groupKey, a status and at least one alert, each with a status; times, when
// present, must be RFC 3339. It accepts fields it does not know: only what
// changes the meaning of a notification is required, since Alertmanager drops
// a notification that gets a 4xx. An error names the field at fault, as in
// `alerts[1].status: "fring" is not firing or resolved`, or the byte offset of
// invalid JSON.
//
// The group's Status is Firing when any alert fires, and also when
// Alertmanager says firing and left alerts out; otherwise Resolved, even if
// Alertmanager said firing (it computes the two at slightly different
// instants). An endsAt of 0001-01-01, which Alertmanager sends while an alert
// fires, becomes the zero time; times are in UTC. Each alert's SilenceURL is a
// link to Alertmanager's new-silence page for its labels, when externalURL is
// an http or https URL. Only the first 1,000 alerts are kept; the others are
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
	case p.Version != "4":
		return alert.Group{}, fmt.Errorf("version: %s is not supported (want \"4\")", alertjson.Quote(p.Version))
	}
	return p.Group(Source, maxAlerts, func(path string, raw json.RawMessage) (alert.Alert, error) {
		return decodeAlert(path, raw, p.ExternalURL)
	})
}

func decodeAlert(path string, raw json.RawMessage, externalURL string) (alert.Alert, error) {
	var p alertPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return alert.Alert{}, alertjson.JSONError(path, err)
	}
	a, err := p.Alert(path)
	if err != nil {
		return alert.Alert{}, err
	}
	a.SilenceURL = silenceURL(externalURL, a.Labels)
	return a, nil
}

// silenceURL returns the link to Alertmanager's page for a new silence of
// the given labels, as Alertmanager's own templates make it:
// <externalURL>/#/silences/new?filter={name="value", …}, the filter
// percent-encoded. It returns "" when externalURL is not an absolute http or
// https URL or there are no labels.
func silenceURL(externalURL string, labels map[string]string) string {
	base := strings.TrimRight(externalURL, "/")
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || len(labels) == 0 {
		return ""
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	ms := make([]string, len(names))
	for i, n := range names {
		if !alertjson.LabelName(n) {
			n = matcherQuote(n) // UTF-8 names, Alertmanager 0.27 and later
		}
		ms[i] = n + "=" + matcherQuote(labels[names[i]])
	}
	filter := "{" + strings.Join(ms, ", ") + "}"
	// QueryEscape writes spaces as +, which the page's parser keeps as +.
	return base + "/#/silences/new?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
}

// matcherQuote quotes a value for an Alertmanager matcher, which knows the
// escapes \\, \" and \n.
func matcherQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
