package postgres

import "strings"

// textKey makes a caller's key storable in a text column: PostgreSQL's text
// cannot hold a NUL byte, which the relay's incident keys use as a
// separator (route NUL group key). Backslashes are doubled and NUL becomes
// backslash-zero, so distinct keys stay distinct.
func textKey(key string) string {
	if !strings.ContainsAny(key, "\x00\\") {
		return key
	}
	return strings.NewReplacer(`\`, `\\`, "\x00", `\0`).Replace(key)
}

// keyFromText is textKey's inverse.
func keyFromText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '0' {
				b.WriteByte(0)
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
