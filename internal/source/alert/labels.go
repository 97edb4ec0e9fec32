package alert

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// ID returns what identifies the alert across notifications: its Fingerprint,
// or when the source sent none, the fingerprint Alertmanager would compute from
// its labels (see LabelsFingerprint).
func (a Alert) ID() string {
	if a.Fingerprint != "" {
		return a.Fingerprint
	}
	return LabelsFingerprint(a.Labels)
}

// LabelsFingerprint returns the fingerprint of a label set as Prometheus and
// Alertmanager compute it (model.LabelSet.Fingerprint): FNV-1a 64 over the
// names in order, each name and value followed by the byte 0xff, written as 16
// hex digits. An alert without a fingerprint thus gets the one Alertmanager
// would have sent.
func LabelsFingerprint(labels map[string]string) string {
	h := fnv.New64a()
	sep := []byte{0xff}
	for _, name := range sortedKeys(labels) {
		h.Write([]byte(name))
		h.Write(sep)
		h.Write([]byte(labels[name]))
		h.Write(sep)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// Severity returns the group's "severity" label, for routing mentions by
// severity: the common label when the source gives one, else the most severe
// value among the firing alerts (among all alerts when none fires), ranked
// critical > error, high > warning, medium > info, low > any other value;
// the first alert wins a tie. It returns "" when no alert has the label.
func Severity(g Group) string {
	if s := g.CommonLabels["severity"]; s != "" {
		return s
	}
	pick := func(firingOnly bool) string {
		best, rank := "", -1
		for _, a := range g.Alerts {
			s := a.Labels["severity"]
			if s == "" || firingOnly && a.Status != Firing {
				continue
			}
			if r := severityRank(s); r > rank {
				best, rank = s, r
			}
		}
		return best
	}
	if s := pick(true); s != "" {
		return s
	}
	return pick(false)
}

func severityRank(s string) int {
	switch strings.ToLower(s) {
	case "critical":
		return 4
	case "error", "high":
		return 3
	case "warning", "medium":
		return 2
	case "info", "low":
		return 1
	}
	return 0
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// commonLabels returns the labels that every alert has with the same value,
// nil for no alerts.
func commonLabels(alerts []Alert) map[string]string {
	return common(alerts, func(a Alert) map[string]string { return a.Labels })
}

// commonAnnotations is commonLabels for annotations.
func commonAnnotations(alerts []Alert) map[string]string {
	return common(alerts, func(a Alert) map[string]string { return a.Annotations })
}

func common(alerts []Alert, of func(Alert) map[string]string) map[string]string {
	if len(alerts) == 0 {
		return nil
	}
	out := make(map[string]string)
	for k, v := range of(alerts[0]) {
		same := true
		for _, a := range alerts[1:] {
			if w, ok := of(a)[k]; !ok || w != v {
				same = false
				break
			}
		}
		if same {
			out[k] = v
		}
	}
	return out
}

// groupStatus is Firing when any alert fires, else Resolved.
func groupStatus(alerts []Alert) Status {
	for _, a := range alerts {
		if a.Status == Firing {
			return Firing
		}
	}
	return Resolved
}
