package postgres

import "strings"

// incidentKey is how an incident key is stored: PostgreSQL's text takes no
// NUL byte, and the relay's keys hold one (a route's name, NUL, the alert
// group's key: internal/relay/plan). A backslash becomes two and a NUL a
// backslash and 0: distinct keys stay distinct, and a prefix's form is a
// prefix of its keys' forms, so IncidentCount still reads one range.
func incidentKey(key string) string {
	if !strings.ContainsAny(key, "\\\x00") {
		return key
	}
	return strings.NewReplacer(`\`, `\\`, "\x00", `\0`).Replace(key)
}
