package config

import (
	"slices"
	"strconv"
	"strings"
)

// A Problem is one thing wrong with a configuration: where it is, which field,
// and what is wrong. Messages never contain a secret: they name a token or a
// webhook URL but never quote it.
type Problem struct {
	File    string // the configuration file as named to Load; empty for a Config built in code
	Line    int    // 1-based; 0 when the value did not come from the file (a flag, code)
	Column  int    // 1-based; 0 when unknown (YAML syntax errors give only a line)
	Field   string // the dotted path of the setting, e.g. "spaces.alerts.pace"; empty for the file as a whole
	Message string
}

// Error formats the problem as "file:line:col: field: message", leaving out
// the parts that are unknown.
func (p Problem) Error() string {
	var b strings.Builder
	loc := p.File
	if p.Line > 0 {
		if loc != "" {
			loc += ":"
		}
		loc += strconv.Itoa(p.Line)
		if p.Column > 0 {
			loc += ":" + strconv.Itoa(p.Column)
		}
	}
	for _, part := range []string{loc, p.Field} {
		if part != "" {
			b.WriteString(part)
			b.WriteString(": ")
		}
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is the error of Load and Validate: every problem found, in file
// order, those without a position (flags, code) first.
type Problems struct {
	List []Problem
}

// Error returns one problem per line.
func (ps *Problems) Error() string {
	lines := make([]string, len(ps.List))
	for i, p := range ps.List {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns ps sorted as an error, or nil when there are no problems.
func (ps *Problems) err() error {
	if len(ps.List) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.List, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
	return ps
}
