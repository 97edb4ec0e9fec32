package render

import (
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chat text markup (docs/google-chat.md §3.1), as rendered here:
//
//   - ``` … ``` is a code block anywhere in the text, across lines; its content is
//     literal. One newline right after the opening and right before the closing
//     fence is dropped [guess]. An unpaired ``` is literal.
//   - A line whose first non-blank characters are "* " or "- " is a bullet; runs of
//     bullets make one list. A line starting with ">" (after blanks) is a quote,
//     one optional space after ">" dropped; runs of quotes make one quote.
//   - Inline, within one line [guess]: *bold*, _italic_, ~strike~ and `code`. A
//     mark opens when the character before it is a word boundary (start of line,
//     white space, punctuation or symbol) and the character after it is text (not
//     white space); it closes when the character before it is text and the one
//     after it a boundary. So node_filesystem_avail_bytes and 2*3*4 stay literal
//     [INF: text.go, Escape]. An opening mark pairs with the first closing mark of
//     its kind after it, and the content may hold the other marks; code content
//     is literal. Applying the boundary rule to backticks too is a [guess].
//   - U+200B (inserted by gchat.Escape) is neither boundary nor text: a mark right
//     after it neither opens nor closes, and a mark right before it neither opens
//     nor closes. It is kept in the output (it is invisible).
//   - <url|label> and <url> are links when url is an absolute http or https URL or
//     a mailto URL; the label is plain text [guess]. <users/123> and <users/all>
//     are mentions. Any other <…> is literal text.
//   - A bare http:// or https:// URL at a word boundary is a link up to the next
//     white space, <, >, " or U+200B, without trailing . , ; : ! ? ' and an
//     unbalanced ). Marks after it stay in the URL, as Chat does with
//     "**https://x**" [OBS, docs/google-chat.md §3.1].

// Text renders s, a message's text in Chat markup, as HTML: a div of class
// gc-text, or nothing for an empty s.
func Text(s string) template.HTML {
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/4 + 32)
	b.WriteString(`<div class="gc-text">`)
	writeText(&b, s)
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

const zwsp = '\u200b'

// clean makes s valid UTF-8 without NULs and with \n line ends.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\ufffd")
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

func writeText(b *strings.Builder, s string) {
	s = clean(s)
	for s != "" {
		i := strings.Index(s, "```")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+3:], "```")
		if j < 0 {
			break
		}
		writeLines(b, strings.TrimSuffix(s[:i], "\n"))
		code := s[i+3 : i+3+j]
		code = strings.TrimPrefix(code, "\n")
		code = strings.TrimSuffix(code, "\n")
		b.WriteString(`<pre class="gc-pre">`)
		// A newline right after <pre> is dropped by the HTML parser; a
		// second one keeps a leading blank line of the block.
		if strings.HasPrefix(code, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(html.EscapeString(code))
		b.WriteString(`</pre>`)
		s = strings.TrimPrefix(s[i+3+j+3:], "\n")
	}
	writeLines(b, s)
}

type lineKind int

const (
	plainLine lineKind = iota
	bulletLine
	quoteLine
)

// classify returns the kind of a line and its content without the bullet or
// quote mark.
func classify(line string) (lineKind, string) {
	t := strings.TrimLeft(line, " \t")
	switch {
	case strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "- "):
		return bulletLine, strings.TrimLeft(t[2:], " \t")
	case strings.HasPrefix(t, ">"):
		return quoteLine, strings.TrimPrefix(t[1:], " ")
	}
	return plainLine, line
}

// writeLines renders text without code blocks: lists, quotes and lines.
func writeLines(b *strings.Builder, s string) {
	if s == "" {
		return
	}
	prev := lineKind(-1)
	for line := range strings.SplitSeq(s, "\n") {
		kind, content := classify(line)
		if kind != prev {
			switch prev {
			case bulletLine:
				b.WriteString(`</ul>`)
			case quoteLine:
				b.WriteString(`</blockquote>`)
			}
			switch kind {
			case bulletLine:
				b.WriteString(`<ul class="gc-list">`)
			case quoteLine:
				b.WriteString(`<blockquote class="gc-quote">`)
			}
		} else if kind != bulletLine {
			b.WriteString(`<br>`)
		}
		if kind == bulletLine {
			b.WriteString(`<li>`)
			writeInline(b, content)
			b.WriteString(`</li>`)
		} else {
			writeInline(b, content)
		}
		prev = kind
	}
	switch prev {
	case bulletLine:
		b.WriteString(`</ul>`)
	case quoteLine:
		b.WriteString(`</blockquote>`)
	}
}

type tokenKind int

const (
	textToken tokenKind = iota // s is raw text
	atomToken                  // s is finished HTML
	markToken                  // mark is * _ or ~
)

type token struct {
	kind        tokenKind
	s           string
	mark        byte
	open, close bool
}

// marks are the inline marks that pair, in the order of markTags.
const marks = "*_~"

var markTags = [...][2]string{{"<b>", "</b>"}, {"<i>", "</i>"}, {"<s>", "</s>"}}

// writeInline renders one line of text: inline marks, code, links, mentions.
func writeInline(b *strings.Builder, line string) {
	toks := tokenize(line)
	// next[m][t] is the index of the first token at or after t that can close
	// mark m, or len(toks): an opener pairs with next[m][t+1] in O(1), which
	// keeps rendering linear whatever the input.
	var next [len(marks)][]int
	for m := range next {
		next[m] = make([]int, len(toks)+1)
		next[m][len(toks)] = len(toks)
		for t := len(toks) - 1; t >= 0; t-- {
			if tk := toks[t]; tk.kind == markToken && tk.close && tk.mark == marks[m] {
				next[m][t] = t
			} else {
				next[m][t] = next[m][t+1]
			}
		}
	}
	writeTokens(b, toks, 0, len(toks), &next)
}

// writeTokens renders toks[lo:hi]. The same mark cannot nest (its inner opener
// would pair with the outer closer, which lies at hi), so recursion is at most
// len(marks) deep.
func writeTokens(b *strings.Builder, toks []token, lo, hi int, next *[len(marks)][]int) {
	for t := lo; t < hi; t++ {
		tk := toks[t]
		switch tk.kind {
		case textToken:
			b.WriteString(html.EscapeString(tk.s))
		case atomToken:
			b.WriteString(tk.s)
		case markToken:
			m := strings.IndexByte(marks, tk.mark)
			if tk.open {
				if j := next[m][t+1]; j < hi {
					b.WriteString(markTags[m][0])
					writeTokens(b, toks, t+1, j, next)
					b.WriteString(markTags[m][1])
					t = j
					continue
				}
			}
			b.WriteByte(tk.mark)
		}
	}
}

// tokenize splits a line into text, finished atoms (code, links, mentions) and
// candidate marks.
func tokenize(line string) []token {
	var toks []token
	// Closing backticks in order; an opener takes the first one past it.
	// Openers come in increasing order, so one cursor keeps this linear.
	var closers []int
	if strings.IndexByte(line, '`') >= 0 {
		closers = codeClosers(line)
	}
	// urlStop is where a bare URL starting at or before it must end; reusing
	// it keeps a line such as "(https://x(https://x…" linear.
	urlStop := -1
	start := 0 // of the pending text
	flush := func(end int) {
		if end > start {
			toks = append(toks, token{kind: textToken, s: line[start:end]})
		}
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch c {
		case '*', '_', '~':
			prev, next := around(line, i, i+1)
			flush(i)
			toks = append(toks, token{kind: markToken, mark: c, open: canOpen(prev, next), close: canClose(prev, next)})
			i++
			start = i
			continue
		case '`':
			if n := backticks(line, i); n > 1 {
				i += n // a run of backticks (an unpaired fence) is literal
				continue
			}
			for len(closers) > 0 && closers[0] < i+2 {
				closers = closers[1:]
			}
			if len(closers) > 0 && canOpen(around(line, i, i+1)) {
				end := closers[0]
				flush(i)
				toks = append(toks, token{kind: atomToken, s: `<code class="gc-code">` + html.EscapeString(line[i+1:end]) + `</code>`})
				i = end + 1
				start = i
				continue
			}
		case '<':
			if h, end, ok := angle(line, i); ok {
				flush(i)
				toks = append(toks, token{kind: atomToken, s: h})
				i = end
				start = i
				continue
			}
		case 'h', 'H':
			if urlStop < i {
				urlStop = i + urlEnd(line[i:])
			}
			if h, end, ok := bareURL(line, i, urlStop); ok {
				flush(i)
				toks = append(toks, token{kind: atomToken, s: h})
				i = end
				start = i
				continue
			}
		}
		i++
	}
	flush(len(line))
	return toks
}

// around returns the runes before line[i] and at line[j], or -1 at either end.
func around(line string, i, j int) (prev, next rune) {
	prev, next = -1, -1
	if i > 0 {
		prev, _ = utf8.DecodeLastRuneInString(line[:i])
	}
	if j < len(line) {
		next, _ = utf8.DecodeRuneInString(line[j:])
	}
	return prev, next
}

// isBoundary reports whether r, the character outside a mark, is a word
// boundary: the line's end (-1), white space, punctuation or a symbol. U+200B is
// not one.
func isBoundary(r rune) bool {
	return r < 0 || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

// isText reports whether r, the character inside a mark, is text the mark
// touches: anything but the line's end, white space and U+200B.
func isText(r rune) bool {
	return r >= 0 && r != zwsp && !unicode.IsSpace(r)
}

func canOpen(prev, next rune) bool  { return isBoundary(prev) && isText(next) }
func canClose(prev, next rune) bool { return isText(prev) && isBoundary(next) }

// codeClosers returns the offsets in line of the backticks that can close
// inline code: single backticks, not part of a run, with text before them and a
// boundary after.
func codeClosers(line string) []int {
	var out []int
	for j := 0; j < len(line); j++ {
		if line[j] != '`' {
			continue
		}
		if n := backticks(line, j); n > 1 {
			j += n - 1
			continue
		}
		if canClose(around(line, j, j+1)) {
			out = append(out, j)
		}
	}
	return out
}

// backticks returns the length of the run of backticks at line[i].
func backticks(line string, i int) int {
	n := 0
	for i+n < len(line) && line[i+n] == '`' {
		n++
	}
	return n
}

// angle renders a link or mention opening at line[i] == '<' and returns its HTML
// and end.
func angle(line string, i int) (string, int, bool) {
	k := strings.IndexAny(line[i+1:], "<>")
	if k <= 0 || line[i+1+k] != '>' {
		return "", 0, false
	}
	inner := line[i+1 : i+1+k]
	end := i + 1 + k + 1
	if id, ok := strings.CutPrefix(inner, "users/"); ok {
		switch {
		case id == "all":
			return `<span class="gc-mention gc-mention-all">@all</span>`, end, true
		case id != "" && strings.Trim(id, "0123456789") == "":
			return `<span class="gc-mention">@user ` + id + `</span>`, end, true
		}
		return "", 0, false
	}
	u, label, _ := strings.Cut(inner, "|")
	href, ok := linkURL(u)
	if !ok || u != strings.TrimSpace(u) {
		return "", 0, false
	}
	if strings.TrimSpace(label) == "" {
		label = u
	}
	return link(href, html.EscapeString(label)), end, true
}

// link returns an anchor to href, a URL accepted by linkURL, around inner HTML.
// The label is bidi-isolated (bdi): a direction override in it, such as the
// U+202E of "invoice\u202etxt.exe", stays inside the label instead of
// reordering the text that follows it on the line.
//
// Isolation keeps the label from spilling, but the label itself still reads
// reordered, as it would in Chat; so a label holding an override gets a
// marker after it whose title says so [guess: Chat shows no such marker;
// the page is a developer's tool].
func link(href, inner string) string {
	mark := ""
	if hasBidiControl(inner) {
		mark = `<span class="gc-bidi-mark" title="this label holds a bidi control character (U+202A–U+202E, U+2066–U+2069): it reads differently from the order of its characters">⚠</span>`
	}
	return `<a class="gc-link" href="` + html.EscapeString(href) + `" ` + linkAttrs + `><bdi>` + inner + `</bdi></a>` + mark
}

// hasBidiControl reports whether s holds an explicit embedding, override or
// isolate character.
func hasBidiControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
	})
}

// linkAttrs open links outside the emulator's page, without giving the target
// a handle on it, a referrer or the emulator's endorsement.
const linkAttrs = `target="_blank" rel="noopener noreferrer nofollow"`

// bareURL renders a bare http or https URL starting at line[i] and ending
// at most at stop, the first character from i on that ends URLs.
func bareURL(line string, i, stop int) (string, int, bool) {
	rest := line[i:stop]
	if !hasPrefixFold(rest, "http://") && !hasPrefixFold(rest, "https://") || len(rest) > maxURL {
		return "", 0, false
	}
	if prev, _ := around(line, i, i); prev >= 0 && (unicode.IsLetter(prev) || unicode.IsDigit(prev) || prev == zwsp) {
		return "", 0, false
	}
	u := rest
	open, closed := strings.Count(u, "("), strings.Count(u, ")")
	for u != "" {
		last := u[len(u)-1]
		if last == ')' && open < closed {
			closed--
		} else if strings.IndexByte(".,;:!?'", last) < 0 {
			break
		}
		u = u[:len(u)-1]
	}
	href, ok := linkURL(u)
	if !ok {
		return "", 0, false
	}
	return link(href, html.EscapeString(u)), i + len(u), true
}

// urlEnd returns the length of the longest prefix of s that a bare URL may
// span: up to white space, <, >, " or U+200B.
func urlEnd(s string) int {
	end := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == zwsp
	})
	if end < 0 {
		return len(s)
	}
	return end
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
