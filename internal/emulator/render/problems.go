package render

import (
	"html/template"
	"strings"

	"github.com/gchatkit/gchat/card"
)

// Problems renders the findings of card.Check (or of the library's message
// check) as a compact list: a ul of class gc-problems with one li per
// problem, classed gc-error or gc-warning, holding the severity, the JSON path
// and the message. No problems render as nothing.
func Problems(ps card.Problems) template.HTML {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<ul class="gc-problems">`)
	for _, p := range ps {
		sev := p.Severity.String()
		b.WriteString(`<li class="gc-problem gc-` + sev + `"><span class="gc-severity">` + sev + `</span>`)
		if p.Path != "" {
			b.WriteString(` <code class="gc-path">` + esc(p.Path) + `</code>`)
		}
		b.WriteString(` <span class="gc-problem-message">` + esc(p.Message) + `</span></li>`)
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}
