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
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat/internal/source/alert"
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
	Receiver          string                     `json:"receiver"`
	Status            string                     `json:"status"`
	GroupLabels       map[string]json.RawMessage `json:"groupLabels"`
	CommonLabels      map[string]json.RawMessage `json:"commonLabels"`
	CommonAnnotations map[string]json.RawMessage `json:"commonAnnotations"`
	ExternalURL       string                     `json:"externalURL"`
	Version           string                     `json:"version"`
	GroupKey          string                     `json:"groupKey"`
	TruncatedAlerts   int                        `json:"truncatedAlerts"`
	// Title and Message are Grafana's rendered notification templates; the
	// documentation marks them (and state) "will be deprecated soon", but
	// Grafana 11 still sends them.
	Title   string `json:"title"`
	Message string `json:"message"`
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
	SilenceURL   string                     `json:"silenceURL"`
	DashboardURL string                     `json:"dashboardURL"`
	PanelURL     string                     `json:"panelURL"`
	ValueString  string                     `json:"valueString"`
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
		return alert.Group{}, jsonError("", err)
	}
	switch {
	case p.Version == "":
		return alert.Group{}, errors.New("version: missing")
	case p.Version == "4":
		// Alertmanager's version: the wrong route, not a newer Grafana.
		return alert.Group{}, errors.New(`version: "4" is Alertmanager's payload, not Grafana's (want "1"); send it to the alertmanager source`)
	case p.Version != "1":
		return alert.Group{}, fmt.Errorf("version: %s is not supported (want \"1\")", quote(p.Version))
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
		Title:           p.Title,
		Message:         p.Message,
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
		if g.Alerts[i], err = decodeAlert(fmt.Sprintf("alerts[%d]", i), raw); err != nil {
			return alert.Group{}, err
		}
	}
	g.Status = alert.Resolved
	if g.Firing() > 0 || status == alert.Firing && g.TruncatedAlerts > 0 {
		g.Status = alert.Firing
	}
	return g, nil
}

func decodeAlert(path string, raw json.RawMessage) (alert.Alert, error) {
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
	if p.StartsAt == "" {
		return alert.Alert{}, fmt.Errorf("%s.startsAt: missing", path)
	}
	if a.StartsAt, err = parseTime(path+".startsAt", p.StartsAt); err != nil {
		return alert.Alert{}, err
	}
	if a.EndsAt, err = parseTime(path+".endsAt", p.EndsAt); err != nil {
		return alert.Alert{}, err
	}
	a.GeneratorURL = p.GeneratorURL
	a.Fingerprint = p.Fingerprint
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
				return "", jsonError(key(path, id), err)
			}
			raw = []byte(n)
		}
		parts[i] = id + "=" + string(raw)
	}
	return strings.Join(parts, ", "), nil
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
		if t == reflect.TypeFor[json.Number]() {
			return "a number"
		}
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
