// Package alertmanager decodes the payload of Prometheus Alertmanager's
// webhook receiver (version 4) into an alert.Group. Everything after decoding
// (cards, thread keys, repeat suppression) is package alert's.
package alertmanager

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat/internal/source/alert"
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
// truncatedAlerts). Maps of strings decode as raw values so that an error can
// name the key; unknown fields are ignored, as later versions may add some.
type payload struct {
	Version           string                     `json:"version"`
	GroupKey          string                     `json:"groupKey"`
	TruncatedAlerts   int                        `json:"truncatedAlerts"`
	Status            string                     `json:"status"`
	Receiver          string                     `json:"receiver"`
	GroupLabels       map[string]json.RawMessage `json:"groupLabels"`
	CommonLabels      map[string]json.RawMessage `json:"commonLabels"`
	CommonAnnotations map[string]json.RawMessage `json:"commonAnnotations"`
	ExternalURL       string                     `json:"externalURL"`
	// Alerts decode one by one, so that an error can say which.
	Alerts []json.RawMessage `json:"alerts"`
}

type alertPayload struct {
	Status       string                     `json:"status"`
	Labels       map[string]json.RawMessage `json:"labels"`
	Annotations  map[string]json.RawMessage `json:"annotations"`
	StartsAt     string                     `json:"startsAt"`
	EndsAt       string                     `json:"endsAt"`
	GeneratorURL string                     `json:"generatorURL"`
	Fingerprint  string                     `json:"fingerprint"`
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
		return alert.Group{}, jsonError("", err)
	}
	switch {
	case p.Version == "":
		return alert.Group{}, errors.New("version: missing")
	case p.Version != "4":
		return alert.Group{}, fmt.Errorf("version: %s is not supported (want \"4\")", quote(p.Version))
	case p.GroupKey == "":
		return alert.Group{}, errors.New("groupKey: missing")
	case p.TruncatedAlerts < 0 || p.TruncatedAlerts > math.MaxInt32:
		return alert.Group{}, fmt.Errorf("truncatedAlerts: %d is out of range", p.TruncatedAlerts)
	case len(p.Alerts) == 0:
		return alert.Group{}, errors.New("alerts: missing or empty")
	}
	status, err := parseStatus("status", p.Status)
	if err != nil {
		return alert.Group{}, err
	}
	g := alert.Group{
		Source:          Source,
		Receiver:        p.Receiver,
		GroupKey:        p.GroupKey,
		ExternalURL:     p.ExternalURL,
		TruncatedAlerts: p.TruncatedAlerts,
	}
	if g.GroupLabels, err = stringMap("groupLabels", p.GroupLabels); err != nil {
		return alert.Group{}, err
	}
	if g.CommonLabels, err = stringMap("commonLabels", p.CommonLabels); err != nil {
		return alert.Group{}, err
	}
	if g.CommonAnnotations, err = stringMap("commonAnnotations", p.CommonAnnotations); err != nil {
		return alert.Group{}, err
	}
	if len(p.Alerts) > maxAlerts {
		g.TruncatedAlerts += len(p.Alerts) - maxAlerts
		p.Alerts = p.Alerts[:maxAlerts]
	}
	g.Alerts = make([]alert.Alert, len(p.Alerts))
	for i, raw := range p.Alerts {
		if g.Alerts[i], err = decodeAlert(fmt.Sprintf("alerts[%d]", i), raw, p.ExternalURL); err != nil {
			return alert.Group{}, err
		}
	}
	g.Status = alert.Resolved
	if g.Firing() > 0 || status == alert.Firing && g.TruncatedAlerts > 0 {
		g.Status = alert.Firing
	}
	return g, nil
}

func decodeAlert(path string, raw json.RawMessage, externalURL string) (alert.Alert, error) {
	var p alertPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return alert.Alert{}, jsonError(path, err)
	}
	var a alert.Alert
	var err error
	if a.Status, err = parseStatus(path+".status", p.Status); err != nil {
		return alert.Alert{}, err
	}
	if a.Labels, err = stringMap(path+".labels", p.Labels); err != nil {
		return alert.Alert{}, err
	}
	if a.Annotations, err = stringMap(path+".annotations", p.Annotations); err != nil {
		return alert.Alert{}, err
	}
	if a.StartsAt, err = parseTime(path+".startsAt", p.StartsAt); err != nil {
		return alert.Alert{}, err
	}
	if a.EndsAt, err = parseTime(path+".endsAt", p.EndsAt); err != nil {
		return alert.Alert{}, err
	}
	a.GeneratorURL = p.GeneratorURL
	a.Fingerprint = p.Fingerprint
	a.SilenceURL = silenceURL(externalURL, a.Labels)
	return a, nil
}

func parseStatus(path, s string) (alert.Status, error) {
	switch s {
	case "firing":
		return alert.Firing, nil
	case "resolved":
		return alert.Resolved, nil
	case "":
		return "", fmt.Errorf("%s: missing", path)
	}
	return "", fmt.Errorf("%s: %s is not firing or resolved", path, quote(s))
}

// parseTime parses an RFC 3339 time into UTC; "" and 0001-01-01T00:00:00Z
// give the zero time.
func parseTime(path, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %s is not an RFC 3339 time", path, quote(s))
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// stringMap decodes the values of m as strings; null is "". It returns nil for
// an empty m.
func stringMap(path string, m map[string]json.RawMessage) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, jsonError(key(path, k), err)
		}
		out[k] = s
	}
	return out, nil
}

// key appends a map key to a path: path.name for a name like a label name,
// else path["name"].
func key(path, k string) string {
	if labelName(k) {
		return path + "." + k
	}
	return path + "[" + quote(k) + "]"
}

// jsonError rewrites an error of encoding/json to name the field at path.
func jsonError(path string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		p := path
		if te.Field != "" {
			p = strings.TrimPrefix(path+"."+te.Field, ".")
		}
		if p == "" {
			p = "payload"
		}
		return fmt.Errorf("%s: want %s, got %s", p, kind(te.Type), te.Value)
	}
	if path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// kind names a Go type as the JSON value it decodes.
func kind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

// quote quotes s for an error message, shortened: a payload can be large.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return strconv.Quote(s[:i]) + "…"
	}
	return strconv.Quote(s)
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
		if !labelName(n) {
			n = matcherQuote(n) // UTF-8 names, Alertmanager 0.27 and later
		}
		ms[i] = n + "=" + matcherQuote(labels[names[i]])
	}
	filter := "{" + strings.Join(ms, ", ") + "}"
	// QueryEscape writes spaces as +, which the page's parser keeps as +.
	return base + "/#/silences/new?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
}

// labelName reports whether s is a classic Prometheus label name.
func labelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// matcherQuote quotes a value for an Alertmanager matcher, which knows the
// escapes \\, \" and \n.
func matcherQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
