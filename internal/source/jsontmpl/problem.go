package jsontmpl

import "strings"

// Problem is one thing wrong with a spec or with what it made of a payload,
// located by the path of the spec field at fault, in the spec's YAML names:
// "text", "card.sections[0].widgets[2].buttons[0].url". Path is "" for the
// spec or message as a whole and "payload" for the payload itself. The
// relay's configuration maps a Path to a line of its file.
type Problem struct {
	Path string
	Msg  string
}

// Error returns "path: msg", or msg alone when Path is "".
func (p Problem) Error() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems is the error of Compile and Execute: every problem found, in
// spec order. It is never empty when returned as an error.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns ps as an error, or nil when there are none.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
