// Package jsontmpl turns arbitrary JSON payloads (GitHub or GitLab webhooks,
// an uptime monitor, anything that can POST JSON) into Chat messages, as a
// route's Spec says: text/template templates for the message text, the
// thread key, the dedup key, and a card built from typed fields. A card is
// never JSON text glued together by a template: each card field is its own
// template, and the package builds the card, so that a quote or a brace in
// the payload cannot break it.
//
// # Data
//
// The payload is decoded with numbers as json.Number (so 12345678901234567890
// and 1.50 print as written) and is the template's dot: {{ .issue.title }}.
// A missing field, a JSON null, and anything reached through them print as
// nothing, never "<no value>": {{ .pull_request.milestone.title }} is empty
// when the milestone is null. An empty list or object prints as nothing too;
// any other list or object prints as compact JSON. Keys that are not Go
// identifiers are reached with index or get: {{ index .labels "x-y" }},
// {{ get "commits.0.author.name" . }}.
//
// A JSON number is a string to text/template's if: {{ if .count }} is true
// for 0. Compare instead: {{ if gt .count 0 }}; eq, ne, lt, le, gt and ge
// compare JSON numbers with the template's numbers by value.
//
// # Escaping
//
// Each field has a syntax, and every value an action prints is escaped for
// it. Compile rewrites each template's parse tree (as html/template does) so
// that every printing action ends in an escaper:
//
//   - text (Chat text markup): payload values go through gchat.Escape, so a
//     title like "<users/all> *urgent*" shows as written instead of
//     mentioning everyone in bold. An http(s) URL without blanks, <, >, | or
//     " is left alone, so that it stays a link. The template's own text is
//     markup: write *{{ .name }}* for a bold name.
//   - card HTML (section header, text widget, decorated text): payload values
//     are HTML-escaped (< > & and "), so a "<" in an issue title shows as
//     written and a value is safe inside a double-quoted attribute, as in
//     <a href="{{ .url }}">{{ .title }}</a>. The template's own text is card
//     HTML: <b>, <i>, <font color>, <a href> and the rest of the subset.
//   - plain (when, thread_key, dedup_key, card title and subtitle, labels,
//     button text, URLs): as is.
//
// Functions that make markup return it marked as such, and the escaper
// leaves it alone in the field it is made for: md, link and escape in text;
// mdcard in card HTML; raw anywhere. Compile rejects md, link and escape
// outside text, and mdcard outside card HTML, where their markup would show
// as escaped text. The mark survives only when the function's result is
// printed directly: printf "%s" (md .x) prints escaped markup. Functions that
// change text (trunc, upper, replace, …) refuse markup, whose tags they could
// cut: truncate first, as in {{ .body | trunc 500 | md }}.
//
// # Functions
//
// Markup:
//
//	md V          Markdown as GitHub and GitLab write it, converted to Chat
//	              text markup (text only): **b** → *b*, *i*/_i_ → _i_,
//	              ~~s~~ → ~s~, `code`, fenced code blocks, [t](u) → <u|t>,
//	              headings → bold lines, lists → • bullets, task lists → ☐/☑,
//	              images → links, HTML comments dropped; everything else
//	              escaped. At most 64 KiB of input (then "…").
//	mdcard V      the same into card HTML (card HTML only): <b> <i> <s>
//	              <code> <pre> <a href> <br>.
//	link URL TEXT a Chat link <URL|TEXT> (text only); TEXT is shown as it
//	              is, with | < > replaced; a URL that is not absolute http,
//	              https or mailto gives TEXT alone.
//	escape V      gchat.Escape(V) (text only; printing V does the same, bare
//	              URLs aside).
//	raw V         V printed as is in any field: for markup you trust.
//
// Text (markup refused):
//
//	trunc N V     V cut to at most N characters, ending in … when cut
//	upper V, lower V, title V (first letter of each word), trim V
//	replace OLD NEW V, split SEP V (a list), join SEP LIST
//	contains SUB V, hasPrefix PREFIX V
//
// Values:
//
//	default DEF V V, or DEF when V is missing, "" or an empty list or
//	              object (0 and false are values)
//	first LIST, last LIST   an element, or nothing for an empty list
//	get PATH V    V's dotted path, "a.0.b" (object keys, list indexes)
//	json V        compact JSON
//	time LAYOUT V the time V (RFC 3339, GitLab's "2016-08-12 15:23:28 UTC",
//	              "2006-01-02 15:04:05[.000]" as UTC, or Unix seconds)
//	              formatted with a Go layout or one of RFC3339, RFC1123,
//	              RFC822, DateTime, DateOnly, TimeOnly, Kitchen; a time keeps
//	              its zone; a value it cannot read is printed as it is
//	duration V    seconds (or a Go duration) as "1h 2m 3s"
//
// The builtins stay (and, or, not, index, slice, len, print, printf, html,
// js, urlquery, call), with eq, ne, lt, le, gt and ge comparing JSON numbers
// by value and text otherwise (a missing value is "" or 0), and printf
// printing JSON numbers for %d and %f, refusing * widths and widths over
// 1000. {{define}}, {{block}} and {{template}} are refused: each field is one
// template, and none can call itself.
//
// # Omission
//
// A section, widget or button whose when renders blank or "false" is left
// out; so is a widget whose required part renders blank (a text widget's
// text, a decorated text's text, an image's URL, a button's text or URL), a
// section with no widget left, and a card with neither title nor section
// left. So a pull request without a body needs no when on its description.
// The spec's own when, if false, skips the payload: Execute returns ErrSkip.
//
// # Limits
//
// A payload is at most MaxPayload (1 MiB). One Execute runs at most 100,000
// range iterations over all fields, each field renders at most 64 KiB, and
// the functions and printed values handle at most 16 MiB of text together
// (md and mdcard count 4 bytes per input byte). text/template has no step
// limit and no context; these bound what a payload can make a template do.
// Rendered values are trimmed of surrounding blanks.
//
// # Errors
//
// Compile and Execute return Problems: every problem found, each with the
// path of the spec field at fault in the spec's YAML names, as in
// "card.sections[0].widgets[2].buttons[0].url", and a message that says what
// is wrong with this template or payload. Execute also reports, at the spec
// field that made it, what gchat.Message.Check says Google would refuse,
// such as a button URL that renders "not a url"; its messages pass Check.
package jsontmpl
