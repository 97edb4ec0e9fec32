package alertjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/gchatkit/gchat/internal/source/alert"
)

// Envelope is the part of a notification that Alertmanager (version 4)
// and Grafana (version 1) send alike: a source's payload type embeds it.
// Maps of strings decode as raw values so that an error can name the key,
// and alerts one by one so that an error can say which.
type Envelope struct {
	Version           string                     `json:"version"`
	GroupKey          string                     `json:"groupKey"`
	TruncatedAlerts   int                        `json:"truncatedAlerts"`
	Status            string                     `json:"status"`
	Receiver          string                     `json:"receiver"`
	GroupLabels       map[string]json.RawMessage `json:"groupLabels"`
	CommonLabels      map[string]json.RawMessage `json:"commonLabels"`
	CommonAnnotations map[string]json.RawMessage `json:"commonAnnotations"`
	ExternalURL       string                     `json:"externalURL"`
	Alerts            []json.RawMessage          `json:"alerts"`
}

// Group decodes the envelope into a group of source: it requires a
// groupKey, a status and at least one alert, decodes each alert with
// decodeAlert (given its path, "alerts[3]"), keeps at most max of them and
// counts the rest in TruncatedAlerts (a larger payload is cut, not refused:
// a sender that gets a 4xx drops the notification for good). The version is
// the caller's to check.
//
// The group's Status is Firing when any alert fires, and also when the
// sender says firing and left alerts out; otherwise Resolved, even if the
// sender said firing (Alertmanager computes the two at slightly different
// instants).
func (e *Envelope) Group(source string, max int, decodeAlert func(path string, raw json.RawMessage) (alert.Alert, error)) (alert.Group, error) {
	switch {
	case e.GroupKey == "":
		return alert.Group{}, errors.New("groupKey: missing")
	case e.TruncatedAlerts < 0 || e.TruncatedAlerts > math.MaxInt32:
		return alert.Group{}, fmt.Errorf("truncatedAlerts: %d is out of range", e.TruncatedAlerts)
	case len(e.Alerts) == 0:
		return alert.Group{}, errors.New("alerts: missing or empty")
	}
	status, err := Status("status", e.Status)
	if err != nil {
		return alert.Group{}, err
	}
	g := alert.Group{
		Source:          source,
		Receiver:        e.Receiver,
		GroupKey:        e.GroupKey,
		ExternalURL:     e.ExternalURL,
		TruncatedAlerts: e.TruncatedAlerts,
	}
	if g.GroupLabels, err = Strings("groupLabels", e.GroupLabels); err != nil {
		return alert.Group{}, err
	}
	if g.CommonLabels, err = Strings("commonLabels", e.CommonLabels); err != nil {
		return alert.Group{}, err
	}
	if g.CommonAnnotations, err = Strings("commonAnnotations", e.CommonAnnotations); err != nil {
		return alert.Group{}, err
	}
	raws := e.Alerts
	if len(raws) > max {
		g.TruncatedAlerts += len(raws) - max
		raws = raws[:max]
	}
	g.Alerts = make([]alert.Alert, len(raws))
	for i, raw := range raws {
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

// AlertFields are the fields of an alert both sources send; a source's
// alert type embeds it.
type AlertFields struct {
	Status       string                     `json:"status"`
	Labels       map[string]json.RawMessage `json:"labels"`
	Annotations  map[string]json.RawMessage `json:"annotations"`
	StartsAt     string                     `json:"startsAt"`
	EndsAt       string                     `json:"endsAt"`
	GeneratorURL string                     `json:"generatorURL"`
	Fingerprint  string                     `json:"fingerprint"`
}

// Alert decodes the fields into an alert; path names the alert in errors.
// Times are RFC 3339 or absent; 0001-01-01, which Alertmanager sends for
// "not yet", is the zero time.
func (f *AlertFields) Alert(path string) (alert.Alert, error) {
	var a alert.Alert
	var err error
	if a.Status, err = Status(path+".status", f.Status); err != nil {
		return alert.Alert{}, err
	}
	if a.Labels, err = Strings(path+".labels", f.Labels); err != nil {
		return alert.Alert{}, err
	}
	if a.Annotations, err = Strings(path+".annotations", f.Annotations); err != nil {
		return alert.Alert{}, err
	}
	if a.StartsAt, err = Time(path+".startsAt", f.StartsAt); err != nil {
		return alert.Alert{}, err
	}
	if a.EndsAt, err = Time(path+".endsAt", f.EndsAt); err != nil {
		return alert.Alert{}, err
	}
	a.GeneratorURL = f.GeneratorURL
	a.Fingerprint = f.Fingerprint
	return a, nil
}
