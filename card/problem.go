package card

import "strings"

// Severity says whether Google would refuse a problem or tolerate it.
type Severity int

const (
	// Error: Google rejects the message, or accepts it and shows it empty.
	Error Severity = iota
	// Warning: Google accepts the message but the result is not what was written.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Problem is one finding of a check, located by its JSON path
// (for example "cardsV2[0].card.sections[1].widgets[3].buttonList.buttons[0].onClick.openLink.url").
type Problem struct {
	Path     string
	Severity Severity
	Message  string
}

// String formats p as "path: message", or "path: warning: message" for a
// warning, in the manner of compiler diagnostics.
func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is the result of a check. It implements error, like
// go/scanner.ErrorList; use Err to get a nil error when there are no errors.
type Problems []Problem

// Errors returns the problems with severity Error.
func (ps Problems) Errors() Problems { return ps.only(Error) }

// Warnings returns the problems with severity Warning.
func (ps Problems) Warnings() Problems { return ps.only(Warning) }

func (ps Problems) only(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// Err returns nil when ps holds no errors, and otherwise the errors alone as a
// Problems value; warnings never make an error.
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
