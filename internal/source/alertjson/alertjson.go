// Package alertjson holds what the alerting sources' decoders share: decoding
// the common fields of an alert (status, times, label maps) with errors that
// name the field at fault by its path in the payload, and quoting values in
// those errors.
package alertjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat/internal/source/alert"
)

// Status decodes an alert's or a group's status, "firing" or "resolved", at
// path.
func Status(path, s string) (alert.Status, error) {
	switch s {
	case "firing":
		return alert.Firing, nil
	case "resolved":
		return alert.Resolved, nil
	case "":
		return "", fmt.Errorf("%s: missing", path)
	}
	return "", fmt.Errorf("%s: %s is not firing or resolved", path, Quote(s))
}

// Time parses an RFC 3339 time into UTC; "" and 0001-01-01T00:00:00Z
// give the zero time.
func Time(path, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %s is not an RFC 3339 time", path, Quote(s))
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// Strings decodes the values of m as strings; null is "". It returns nil for
// an empty m.
func Strings(path string, m map[string]json.RawMessage) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, JSONError(Key(path, k), err)
		}
		out[k] = s
	}
	return out, nil
}

// Key appends a map key to a path: path.name for a name like a label name,
// else path["name"].
func Key(path, k string) string {
	if LabelName(k) {
		return path + "." + k
	}
	return path + "[" + Quote(k) + "]"
}

// LabelName reports whether s is a classic Prometheus label name.
func LabelName(s string) bool {
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

// JSONError rewrites an error of encoding/json to name the field at path.
func JSONError(path string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		p := path
		if te.Field != "" {
			// encoding/json names the embedded structs on the way; the
			// payload has no such level.
			field := strings.NewReplacer("Envelope.", "", "AlertFields.", "").Replace(te.Field)
			p = strings.TrimPrefix(path+"."+field, ".")
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

// Quote quotes s for an error message, shortened: a payload can be large.
func Quote(s string) string {
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
