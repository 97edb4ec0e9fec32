package jsontmpl

import (
	"html"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// This file converts Markdown as GitHub and GitLab write it (issue and pull
// request bodies, commit messages, release notes) into Chat's text markup
// (md) or into the card HTML subset (mdcard). It is not a CommonMark
// implementation: it reads what such bodies contain, line by line, and shows
// the rest as text, never as markup. What it knows:
//
//   - blocks: ATX (# …) and setext (=== / ---) headings, shown bold; fenced
//     code blocks (``` and ~~~); bullet, ordered and task lists (- [ ] / - [x]),
//     nested by indentation; block quotes; thematic breaks and table
//     delimiter rows, dropped; HTML comments, dropped (pull request templates
//     are full of them). Everything else is a paragraph line; line breaks are
//     kept, as GitHub keeps them in issues and comments.
//   - inline: **strong** / __strong__, *em* / _em_, ~~strike~~ / ~strike~
//     (CommonMark's delimiter rules, so snake_case_names stay as written);
//     `code`; [text](url) and ![alt](url), shown as links; <https://…>
//     autolinks and bare http(s) URLs; <br> and <img src alt>; other HTML
//     tags dropped, their text kept; backslash escapes; entities.
//
// Not supported: reference links ([text][ref]), indented code blocks (shown
// as text), tables as tables (rows are shown as text), footnotes, math.
// Relative links (GitHub's "../blob/main/x") have no base to resolve against
// and show as their text.
//
// Every character of the input that is not markup ends up as text, escaped
// for the target, so the output never holds markup the input did not ask for:
// no mention from "<users/all>", no tag from "<script>". Only http, https and
// mailto links are made. Work is linear in the input: brackets, parentheses
// and code spans are matched in one pass per line, and scans that cannot be
// matched that way are capped.

// maxMarkdown is the most input md and mdcard convert; longer input is cut
// there and the output ends with "…". A message holds at most 32,000 bytes,
// so more would be cut later anyway.
const maxMarkdown = 64 << 10

// mdTarget is what Markdown converts to.
type mdTarget int

const (
	mdChat mdTarget = iota // Chat's text markup
	mdHTML                 // the card HTML subset
)

// markdown converts src to the target's markup.
func markdown(src string, t mdTarget) string {
	cut := false
	if len(src) > maxMarkdown {
		src, cut = cutBytes(src, maxMarkdown), true
	}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	out := renderBlocks(parseBlocks(src), t)
	if cut {
		out += "…"
	}
	return out
}

// cutBytes returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

type blockKind uint8

const (
	blockBlank blockKind = iota
	blockPara
	blockHeading
	blockItem
	blockCode
)

// block is one line of output to be, or a whole code block.
type block struct {
	kind   blockKind
	quote  bool   // inside a block quote
	text   string // inline Markdown, or the code of a code block
	level  int    // list nesting, 0 for a top-level item
	marker string // list marker as shown: "•", "◦", "3.", "☐", "☑"
}

// fence is an open fenced code block.
type fence struct {
	char   byte
	n      int // length of the opening run
	indent int // indentation of the opening line
	quote  int // quote depth of the opening line
	lines  []string
}

// parseBlocks splits src into blocks.
func parseBlocks(src string) []block {
	var (
		blocks    []block
		inComment bool
		open      *fence
	)
	closeFence := func() {
		blocks = append(blocks, block{kind: blockCode, quote: open.quote > 0, text: strings.Join(open.lines, "\n")})
		open = nil
	}
	for _, raw := range strings.Split(src, "\n") {
		if open != nil {
			line, _ := stripQuotes(raw, open.quote)
			if isFenceClose(line, open) {
				closeFence()
			} else {
				open.lines = append(open.lines, trimIndent(line, open.indent))
			}
			continue
		}
		line, skip := stripComments(raw, &inComment)
		if skip {
			continue
		}
		line, depth := stripQuotes(line, -1)
		quoted := depth > 0
		indent, rest := indentation(line)
		var f *fence
		if indent < 4 {
			f = openFence(rest)
		}
		switch {
		case strings.TrimSpace(rest) == "":
			blocks = append(blocks, block{kind: blockBlank})
		case f != nil:
			open = f
			open.indent, open.quote = indent, depth
		case indent < 4 && atxHeading(rest) != "":
			blocks = append(blocks, block{kind: blockHeading, quote: quoted, text: atxHeading(rest)})
		case indent < 4 && setextUnderline(rest) && len(blocks) > 0 && blocks[len(blocks)-1].kind == blockPara:
			blocks[len(blocks)-1].kind = blockHeading
		case indent < 4 && thematicBreak(rest):
			blocks = append(blocks, block{kind: blockBlank})
		case tableDelimiter(rest):
			// dropped: the rows around it are shown as text
		default:
			if b, ok := listItem(indent, rest); ok {
				b.quote = quoted
				blocks = append(blocks, b)
				continue
			}
			text := strings.TrimSpace(rest)
			text = strings.TrimSuffix(text, "\\") // a hard line break; lines break anyway
			blocks = append(blocks, block{kind: blockPara, quote: quoted, text: text})
		}
	}
	if open != nil {
		closeFence() // an unclosed fence runs to the end, as in CommonMark
	}
	return blocks
}

// stripComments removes HTML comments from line; *in says whether a comment
// is open at its start, and is updated. skip reports a line that held only
// comment.
func stripComments(line string, in *bool) (string, bool) {
	had := *in || strings.TrimSpace(line) != ""
	if !*in && !strings.Contains(line, "<!--") {
		return line, false
	}
	var b strings.Builder
	for {
		if *in {
			end := strings.Index(line, "-->")
			if end < 0 {
				line = ""
				break
			}
			line = line[end+3:]
			*in = false
			continue
		}
		start := strings.Index(line, "<!--")
		if start < 0 {
			b.WriteString(line)
			break
		}
		b.WriteString(line[:start])
		line = line[start+4:]
		*in = true
	}
	out := b.String()
	return out, had && strings.TrimSpace(out) == ""
}

// stripQuotes removes up to max block quote markers ("> ") from the start of
// line (all of them when max < 0) and returns the rest and how many it
// removed.
func stripQuotes(line string, max int) (string, int) {
	n := 0
	for max < 0 || n < max {
		indent, rest := indentation(line)
		if indent > 3 || !strings.HasPrefix(rest, ">") {
			break
		}
		line = strings.TrimPrefix(rest[1:], " ")
		n++
	}
	return line, n
}

// indentation returns the width of line's leading blanks (a tab counts 4)
// and the rest of line.
func indentation(line string) (int, string) {
	w := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w, line[i:]
		}
	}
	return w, ""
}

// trimIndent removes up to n columns of leading spaces from line.
func trimIndent(line string, n int) string {
	i := 0
	for i < len(line) && i < n && line[i] == ' ' {
		i++
	}
	return line[i:]
}

// openFence returns the fence that rest opens, or nil.
func openFence(rest string) *fence {
	if rest == "" || rest[0] != '`' && rest[0] != '~' {
		return nil
	}
	c := rest[0]
	n := 0
	for n < len(rest) && rest[n] == c {
		n++
	}
	if n < 3 || c == '`' && strings.IndexByte(rest[n:], '`') >= 0 {
		return nil
	}
	return &fence{char: c, n: n}
}

// isFenceClose reports whether line closes f.
func isFenceClose(line string, f *fence) bool {
	indent, rest := indentation(line)
	if indent > 3 {
		return false
	}
	n := 0
	for n < len(rest) && rest[n] == f.char {
		n++
	}
	return n >= f.n && strings.TrimSpace(rest[n:]) == ""
}

// atxHeading returns the text of the ATX heading rest, or "".
func atxHeading(rest string) string {
	n := 0
	for n < len(rest) && rest[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n < len(rest) && rest[n] != ' ' && rest[n] != '\t' {
		return ""
	}
	text := strings.TrimSpace(rest[n:])
	// A closing run of #s preceded by a blank is not part of the text.
	if t := strings.TrimRight(text, "#"); t != text && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
		text = strings.TrimSpace(t)
	}
	return text
}

// setextUnderline reports whether rest is a line of = or - only.
func setextUnderline(rest string) bool {
	t := strings.TrimRight(rest, " \t")
	return t != "" && (strings.Trim(t, "=") == "" || strings.Trim(t, "-") == "")
}

// thematicBreak reports whether rest is a line of three or more *, - or _,
// blanks allowed between.
func thematicBreak(rest string) bool {
	c := rest[0]
	if c != '*' && c != '-' && c != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// tableDelimiter reports whether rest is a table's delimiter row, such as
// "| --- | :-: |".
func tableDelimiter(rest string) bool {
	return strings.Contains(rest, "|") && strings.Contains(rest, "-") &&
		strings.Trim(rest, "|-: \t") == ""
}

// listItem reads a list item; indent is the width of the blanks before rest.
func listItem(indent int, rest string) (block, bool) {
	var marker string
	var n int // length of the marker in rest
	switch {
	case rest[0] == '-' || rest[0] == '*' || rest[0] == '+':
		marker, n = "•", 1
	default:
		for n < len(rest) && n < 9 && '0' <= rest[n] && rest[n] <= '9' {
			n++
		}
		if n == 0 || n >= len(rest) || rest[n] != '.' && rest[n] != ')' {
			return block{}, false
		}
		num, _ := strconv.Atoi(rest[:n])
		marker, n = strconv.Itoa(num)+".", n+1
	}
	if n < len(rest) && rest[n] != ' ' && rest[n] != '\t' {
		return block{}, false
	}
	level := min(indent/2, 5)
	text := strings.TrimSpace(rest[n:])
	if marker == "•" {
		if level > 0 {
			marker = "◦"
		}
		switch {
		case text == "[ ]" || strings.HasPrefix(text, "[ ] "):
			marker, text = "☐", strings.TrimSpace(text[3:])
		case strings.EqualFold(text, "[x]") || strings.HasPrefix(text, "[x] ") || strings.HasPrefix(text, "[X] "):
			marker, text = "☑", strings.TrimSpace(text[3:])
		}
	}
	return block{kind: blockItem, text: text, level: level, marker: marker}, true
}

// renderBlocks renders blocks, keeping at most one blank line in a row and
// none at either end.
func renderBlocks(blocks []block, t mdTarget) string {
	var lines []string
	blank := true // the previous line is blank, or there is none
	for _, b := range blocks {
		if b.kind == blockBlank {
			if !blank {
				lines = append(lines, "")
				blank = true
			}
			continue
		}
		var line string
		switch b.kind {
		case blockCode:
			line = codeBlock(b.text, t)
		case blockHeading:
			line = renderInline(b.text, t, true)
			if strings.TrimSpace(line) == "" {
				continue
			}
			if t == mdChat {
				line = gchat.Bold(line)
			} else {
				line = "<b>" + line + "</b>"
			}
		default:
			line = renderInline(b.text, t, false)
			if line == "" && (b.kind == blockPara || b.marker == "•" || b.marker == "◦") {
				// Only tags, or an empty bullet: a blank line.
				if !blank {
					lines = append(lines, "")
					blank = true
				}
				continue
			}
			if b.kind == blockItem {
				indent := strings.Repeat("  ", b.level)
				if t == mdHTML {
					indent = strings.Repeat("&nbsp;&nbsp;", b.level)
				}
				line = strings.TrimRight(indent+b.marker+" "+line, " ")
			}
		}
		if b.quote && b.kind != blockCode {
			if t == mdChat {
				line = "> " + line
			} else {
				line = "&gt; " + line
			}
		}
		lines = append(lines, line)
		blank = false
	}
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	if t == mdChat {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines, "<br>")
}

func codeBlock(code string, t mdTarget) string {
	if t == mdChat {
		return gchat.CodeBlock(code)
	}
	return "<pre><code>" + card.Escape(code) + "</code></pre>"
}

type tokenKind uint8

const (
	tokText  tokenKind = iota
	tokCode            // code span: text is its content
	tokLink            // text is the label's Markdown (from, to in the line), url the destination
	tokImage           // like tokLink; the label is the alt text
	tokURL             // an autolink or bare URL: url
	tokBreak           // <br>
	tokDelim           // a run of *, _ or ~
)

// token is a piece of a line.
type token struct {
	kind tokenKind
	text string
	url  string
	// literal marks text from a backslash escape, which is not an entity.
	literal bool
	// label is the label of a link or image, as a range of the line.
	from, to int

	// Delimiter runs (CommonMark "process emphasis").
	ch                byte
	n, orig           int    // characters left unmatched, and at first
	canOpen, canClose bool   // flanking, as CommonMark defines it
	opens             []byte // markers opened here, outermost first: 's' strong, 'e' em, 'x' strike
	closes            []byte // markers closed here, innermost first
}

// line holds one line of inline Markdown and the matches found in one pass
// over it.
type line struct {
	s            string
	closeBracket map[int]int // '[' at i → its ']'
	closeParen   map[int]int // '(' at i → its ')', with no blank between
	codeEnd      map[int]int // a run of backticks at i → start of the run that closes it
	nextGT       []int32     // next '>' at or after i, or -1
	nextStop     []int32     // next blank or '<' at or after i, or len(s)
}

// renderInline renders one line of inline Markdown. inBold suppresses strong
// markers in Chat text, where bold inside a bold heading would end it.
func renderInline(s string, t mdTarget, inBold bool) string {
	l := newLine(s)
	toks := l.parse(0, len(s), false)
	var b strings.Builder
	l.render(&b, toks, t, inBold)
	out := strings.TrimSpace(b.String())
	if t == mdHTML { // breaks at either end, as TrimSpace drops newlines
		for n := -1; n != len(out); {
			n = len(out)
			out = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(out, "<br>"), "<br>"))
		}
	}
	return out
}

func newLine(s string) *line {
	l := &line{s: s, closeBracket: map[int]int{}, closeParen: map[int]int{}, codeEnd: map[int]int{}}
	var brackets, parens []int
	type run struct{ start, n int }
	var runs []run
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++ // an escaped character matches nothing
		case '[':
			brackets = append(brackets, i)
		case ']':
			if n := len(brackets); n > 0 {
				l.closeBracket[brackets[n-1]] = i
				brackets = brackets[:n-1]
			}
		case '(':
			parens = append(parens, i)
		case ')':
			if n := len(parens); n > 0 {
				l.closeParen[parens[n-1]] = i
				parens = parens[:n-1]
			}
		case ' ', '\t':
			parens = parens[:0] // a link destination has no blank
		case '`':
			j := i
			for j < len(s) && s[j] == '`' {
				j++
			}
			runs = append(runs, run{i, j - i})
			i = j - 1
		}
	}
	// Each run of backticks closes at the next run of the same length.
	next := map[int]int{} // length → start of the nearest run after
	for k := len(runs) - 1; k >= 0; k-- {
		r := runs[k]
		if e, ok := next[r.n]; ok {
			l.codeEnd[r.start] = e
		}
		next[r.n] = r.start
	}
	if strings.IndexByte(s, '<') >= 0 || strings.Contains(s, "http") {
		l.nextGT = make([]int32, len(s)+1)
		l.nextStop = make([]int32, len(s)+1)
		gt, stop := int32(-1), int32(len(s))
		l.nextGT[len(s)], l.nextStop[len(s)] = gt, stop
		for i := len(s) - 1; i >= 0; i-- {
			switch s[i] {
			case '>':
				gt = int32(i)
			case ' ', '\t', '<':
				stop = int32(i)
			}
			l.nextGT[i], l.nextStop[i] = gt, stop
		}
	}
	return l
}

// maxTag is the longest HTML tag recognised, so that a line of unclosed "<a"
// is not scanned again from every "<".
const maxTag = 1024

// maxLinkTitle bounds the scan for the title of [text](url "title").
const maxLinkTitle = 256

// parse tokenizes s[from:to]. In a label, links are not recognised (a link
// cannot hold a link) and URLs are text.
func (l *line) parse(from, to int, inLabel bool) []token {
	s := l.s
	var toks []token
	start := from // of the pending text
	flush := func(i int) {
		if i > start {
			toks = append(toks, token{kind: tokText, text: s[start:i]})
		}
	}
	emit := func(i, next int, tok token) int {
		flush(i)
		toks = append(toks, tok)
		start = next
		return next
	}
	for i := from; i < to; {
		c := s[i]
		switch {
		case c == '\\' && i+1 < to && isASCIIPunct(s[i+1]):
			i = emit(i, i+2, token{kind: tokText, text: s[i+1 : i+2], literal: true})
		case c == '`':
			n := 1
			for i+n < to && s[i+n] == '`' {
				n++
			}
			if e, ok := l.codeEnd[i]; ok && e+n <= to {
				i = emit(i, e+n, token{kind: tokCode, text: codeContent(s[i+n : e])})
			} else {
				i += n // literal backticks
			}
		case c == '!' && i+1 < to && s[i+1] == '[':
			if tok, next, ok := l.link(i+1, to); ok {
				tok.kind = tokImage
				i = emit(i, next, tok)
			} else {
				i++
			}
		case c == '[' && !inLabel:
			if tok, next, ok := l.link(i, to); ok {
				i = emit(i, next, tok)
			} else {
				i++
			}
		case c == '<' && l.nextGT != nil:
			if tok, next, ok := l.angle(i, to, inLabel); ok {
				i = emit(i, next, tok)
			} else {
				i++
			}
		case c == 'h' && !inLabel && l.nextStop != nil && urlStart(s, i, from):
			end := urlEnd(s[i:min(int(l.nextStop[i]), to)]) + i
			i = emit(i, end, token{kind: tokURL, url: s[i:end]})
		case c == '*' || c == '_' || c == '~':
			n := 1
			for i+n < to && s[i+n] == c {
				n++
			}
			if c == '~' && n > 2 {
				i += n // GFM: only ~ and ~~ strike through
				continue
			}
			tok := token{kind: tokDelim, ch: c, n: n, orig: n}
			tok.canOpen, tok.canClose = flanking(s, i, i+n, from, to)
			i = emit(i, i+n, tok)
		default:
			i++
		}
	}
	flush(to)
	processEmphasis(toks)
	return toks
}

// link reads [label](destination) with the '[' at b.
func (l *line) link(b, to int) (token, int, bool) {
	s := l.s
	e, ok := l.closeBracket[b]
	if !ok || e+1 >= to || s[e+1] != '(' {
		return token{}, 0, false
	}
	p := e + 1
	tok := token{kind: tokLink, from: b + 1, to: e}
	if m, ok := l.closeParen[p]; ok && m < to {
		tok.url = strings.TrimSpace(s[p+1 : m])
		return tok, m + 1, true
	}
	// [text](url "title"): the blank stopped the parenthesis match.
	j := p + 1
	for j < to && s[j] != ' ' && s[j] != '\t' && s[j] != ')' {
		if j-p > maxTag {
			return token{}, 0, false
		}
		j++
	}
	tok.url = s[p+1 : j]
	for j < to && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j < to && (s[j] == '"' || s[j] == '\'') {
		q := strings.IndexByte(s[j+1:min(to, j+1+maxLinkTitle)], s[j])
		if q < 0 {
			return token{}, 0, false
		}
		j += q + 2
		for j < to && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
	}
	if j >= to || s[j] != ')' {
		return token{}, 0, false
	}
	return tok, j + 1, true
}

// angle reads what starts with '<' at i: an autolink, <br>, <img>, or another
// HTML tag (dropped).
func (l *line) angle(i, to int, inLabel bool) (token, int, bool) {
	s := l.s
	gt := int(l.nextGT[i])
	if gt < 0 || gt >= to || gt-i > maxTag {
		return token{}, 0, false
	}
	inner := s[i+1 : gt]
	if int(l.nextStop[i+1]) >= gt && hasLinkScheme(inner) { // no blank or '<' inside
		if inLabel {
			return token{kind: tokText, text: inner}, gt + 1, true
		}
		return token{kind: tokURL, url: inner}, gt + 1, true
	}
	name, ok := htmlTag(inner)
	if !ok {
		return token{}, 0, false
	}
	switch strings.ToLower(name) {
	case "br":
		return token{kind: tokBreak}, gt + 1, true
	case "img":
		src := attr(inner, "src")
		if src == "" {
			break
		}
		// The alt text is the label; as a range it would be inside the tag,
		// so it is kept as literal text instead.
		return token{kind: tokImage, url: src, text: attr(inner, "alt"), from: -1}, gt + 1, true
	}
	return token{kind: tokText, literal: true}, gt + 1, true // a tag GitHub would not show as text
}

// htmlTag returns the name of the HTML open or close tag whose inside (between
// < and >) is inner, following CommonMark's syntax of raw HTML, so that text
// such as "<users/all>" or "a <b c=>" is not taken for a tag.
func htmlTag(inner string) (string, bool) {
	s := strings.TrimPrefix(inner, "/")
	closing := len(s) < len(inner)
	n := 0
	for n < len(s) && (isLetter(s[n]) || n > 0 && (isDigit(s[n]) || s[n] == '-')) {
		n++
	}
	if n == 0 {
		return "", false
	}
	name, rest := s[:n], s[n:]
	if closing {
		return name, strings.TrimLeft(rest, " \t") == ""
	}
	for {
		t := strings.TrimLeft(rest, " \t")
		if t == "" || t == "/" {
			return name, true
		}
		if len(t) == len(rest) {
			return "", false // an attribute needs a blank before it
		}
		k := 0
		for k < len(t) && (isLetter(t[k]) || t[k] == '_' || t[k] == ':' || k > 0 && (isDigit(t[k]) || t[k] == '.' || t[k] == '-')) {
			k++
		}
		if k == 0 {
			return "", false
		}
		t = t[k:]
		if u := strings.TrimLeft(t, " \t"); strings.HasPrefix(u, "=") {
			u = strings.TrimLeft(u[1:], " \t")
			if u == "" {
				return "", false
			}
			if q := u[0]; q == '"' || q == '\'' {
				e := strings.IndexByte(u[1:], q)
				if e < 0 {
					return "", false
				}
				t = u[e+2:]
			} else {
				e := 0
				for e < len(u) && !strings.ContainsRune(" \t\"'=<>`", rune(u[e])) {
					e++
				}
				if e == 0 {
					return "", false
				}
				t = u[e:]
			}
		}
		rest = t
	}
}

// attr returns the value of the attribute name (lower case ASCII) in the
// inside of a tag, or "".
func attr(tag, name string) string {
	for k := 1; k+len(name) <= len(tag); k++ {
		if !isBlank(tag[k-1]) || !strings.EqualFold(tag[k:k+len(name)], name) {
			continue
		}
		j := k + len(name)
		for j < len(tag) && isBlank(tag[j]) {
			j++
		}
		if j >= len(tag) || tag[j] != '=' {
			continue
		}
		j++
		for j < len(tag) && isBlank(tag[j]) {
			j++
		}
		if j < len(tag) && (tag[j] == '"' || tag[j] == '\'') {
			if e := strings.IndexByte(tag[j+1:], tag[j]); e >= 0 {
				return html.UnescapeString(tag[j+1 : j+1+e])
			}
			return ""
		}
		e := j
		for e < len(tag) && !isBlank(tag[e]) && tag[e] != '/' {
			e++
		}
		return html.UnescapeString(tag[j:e])
	}
	return ""
}

// urlStart reports whether a bare URL starts at s[i]: "http://" or
// "https://" at the start of the text or after a blank or an opening
// punctuation mark (GFM's autolink extension).
func urlStart(s string, i, from int) bool {
	if !strings.HasPrefix(s[i:], "http://") && !strings.HasPrefix(s[i:], "https://") {
		return false
	}
	if i == from {
		return true
	}
	switch s[i-1] {
	case ' ', '\t', '(', '*', '_', '~', '"', '\'':
		return true
	}
	return false
}

// urlEnd returns the length of the bare URL at the start of u, which holds no
// blank: trailing punctuation and an unbalanced ')' are not part of it.
func urlEnd(u string) int {
	unbalanced := strings.Count(u, ")") - strings.Count(u, "(")
	for len(u) > 0 {
		switch u[len(u)-1] {
		case '?', '!', '.', ',', ':', '*', '_', '~', '\'', '"', ';':
			u = u[:len(u)-1]
			continue
		case ')':
			if unbalanced > 0 {
				u = u[:len(u)-1]
				unbalanced--
				continue
			}
		}
		break
	}
	return len(u)
}

// hasLinkScheme reports whether s starts with a scheme md links to.
func hasLinkScheme(s string) bool {
	lower := strings.ToLower(s[:min(len(s), 8)])
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "mailto:")
}

// linkable reports whether md makes a link to u: an absolute http or https
// URL with a host, or a mailto URL.
func linkable(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		return p.Host != ""
	case "mailto":
		return p.Opaque != ""
	}
	return false
}

// codeContent strips one blank from each end of a code span's content when
// both have one, as CommonMark does (so that “ `x` “ can hold a backtick).
func codeContent(s string) string {
	if len(s) >= 2 && s[0] == ' ' && s[len(s)-1] == ' ' && strings.Trim(s, " ") != "" {
		return s[1 : len(s)-1]
	}
	return s
}

// flanking says whether the delimiter run s[i:j] can open and close emphasis,
// by CommonMark's rules; the text outside s[from:to] counts as blank.
func flanking(s string, i, j, from, to int) (canOpen, canClose bool) {
	before, after := ' ', ' '
	if i > from {
		before, _ = utf8.DecodeLastRuneInString(s[from:i])
	}
	if j < to {
		after, _ = utf8.DecodeRuneInString(s[j:to])
	}
	spaceBefore, spaceAfter := unicode.IsSpace(before), unicode.IsSpace(after)
	punctBefore, punctAfter := isPunct(before), isPunct(after)
	left := !spaceAfter && (!punctAfter || spaceBefore || punctBefore)
	right := !spaceBefore && (!punctBefore || spaceAfter || punctAfter)
	if s[i] == '_' {
		return left && (!right || punctBefore), right && (!left || punctAfter)
	}
	return left, right
}

func isPunct(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }

// processEmphasis matches delimiter runs into strong, em and strike markers,
// following CommonMark's "process emphasis" algorithm over a linked list of
// the runs, with its openers_bottom bound so that the work stays linear.
func processEmphasis(toks []token) {
	var ds []int // indices of delimiter tokens
	for i := range toks {
		if toks[i].kind == tokDelim {
			ds = append(ds, i)
		}
	}
	if len(ds) < 2 {
		return
	}
	prev := make([]int, len(ds))
	next := make([]int, len(ds))
	for k := range ds {
		prev[k], next[k] = k-1, k+1
	}
	next[len(ds)-1] = -1
	remove := func(k int) {
		if prev[k] >= 0 {
			next[prev[k]] = next[k]
		}
		if next[k] >= 0 {
			prev[next[k]] = prev[k]
		}
	}
	type key struct {
		ch      byte
		canOpen bool
		mod     int
	}
	bottom := map[key]int{} // lowest list position to search down to, exclusive; -1 the whole list
	for cur := 0; cur >= 0; {
		c := &toks[ds[cur]]
		if !c.canClose || c.n == 0 {
			cur = next[cur]
			continue
		}
		k := key{c.ch, c.canOpen, c.orig % 3}
		floor, ok := bottom[k]
		if !ok {
			floor = -1
		}
		opener := -1
		for o := prev[cur]; o >= 0 && o > floor; o = prev[o] {
			t := &toks[ds[o]]
			if t.ch != c.ch || !t.canOpen || t.n == 0 {
				continue
			}
			if c.ch == '~' {
				if t.n != c.n {
					continue
				}
			} else if (t.canClose || c.canOpen) && (t.orig+c.orig)%3 == 0 && (t.orig%3 != 0 || c.orig%3 != 0) {
				continue
			}
			opener = o
			break
		}
		if opener < 0 {
			bottom[k] = prev[cur]
			nxt := next[cur]
			if !c.canOpen {
				remove(cur)
			}
			cur = nxt
			continue
		}
		o := &toks[ds[opener]]
		use, marker := 1, byte('e')
		switch {
		case c.ch == '~':
			use, marker = c.n, 'x'
		case o.n >= 2 && c.n >= 2:
			use, marker = 2, 's'
		}
		o.n -= use
		c.n -= use
		o.opens = append([]byte{marker}, o.opens...)
		c.closes = append(c.closes, marker)
		for m := next[opener]; m >= 0 && m != cur; m = next[m] {
			remove(m)
		}
		next[opener], prev[cur] = cur, opener
		if o.n == 0 {
			remove(opener)
		}
		if c.n == 0 {
			nxt := next[cur]
			remove(cur)
			cur = nxt
		}
	}
}

// render writes toks to b for target t.
func (l *line) render(b *strings.Builder, toks []token, t mdTarget, inBold bool) {
	for _, tok := range toks {
		switch tok.kind {
		case tokText:
			s := tok.text
			if !tok.literal {
				s = html.UnescapeString(s)
			}
			b.WriteString(escapeFor(s, t))
		case tokCode:
			if t == mdChat {
				b.WriteString(gchat.Code(tok.text))
			} else {
				b.WriteString("<code>" + card.Escape(tok.text) + "</code>")
			}
		case tokLink, tokImage:
			label := tok.text // an <img>'s alt
			if tok.from >= 0 {
				label = l.plain(tok.from, tok.to)
			}
			if label == "" && tok.kind == tokImage {
				label = "image"
			}
			writeLink(b, tok.url, label, t)
		case tokURL:
			writeLink(b, tok.url, "", t)
		case tokBreak:
			if t == mdChat {
				b.WriteString("\n")
			} else {
				b.WriteString("<br>")
			}
		case tokDelim:
			for _, m := range tok.closes {
				b.WriteString(marker(m, t, inBold, true))
			}
			b.WriteString(escapeFor(strings.Repeat(string(tok.ch), tok.n), t))
			for _, m := range tok.opens {
				b.WriteString(marker(m, t, inBold, false))
			}
		}
	}
}

// plain returns the label s[from:to] as plain text: markup dropped, code and
// image alt texts kept, blanks collapsed.
func (l *line) plain(from, to int) string {
	var b strings.Builder
	for _, tok := range l.parse(from, to, true) {
		switch tok.kind {
		case tokText:
			if tok.literal {
				b.WriteString(tok.text)
			} else {
				b.WriteString(html.UnescapeString(tok.text))
			}
		case tokCode:
			b.WriteString(tok.text)
		case tokImage:
			// The alt text as written: parsing it too would let nested
			// images cost quadratic time.
			if tok.from >= 0 {
				b.WriteString(l.s[tok.from:tok.to])
			} else {
				b.WriteString(tok.text)
			}
		case tokURL:
			b.WriteString(tok.url)
		case tokBreak:
			b.WriteString(" ")
		case tokDelim:
			b.WriteString(strings.Repeat(string(tok.ch), tok.n))
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// writeLink writes a link to u shown as label (u itself when label is ""),
// or label alone as text when md does not link to u.
func writeLink(b *strings.Builder, u, label string, t mdTarget) {
	if !linkable(u) {
		if label == "" {
			label = u
		}
		b.WriteString(escapeFor(label, t))
		return
	}
	if t == mdChat {
		b.WriteString(gchat.Link(u, label))
		return
	}
	if label == "" {
		label = u
	}
	b.WriteString(`<a href="` + escapeAttr(u) + `">` + card.Escape(label) + "</a>")
}

// marker returns the markup that opens or closes an emphasis marker.
func marker(m byte, t mdTarget, inBold, closing bool) string {
	if t == mdChat {
		switch m {
		case 's':
			if inBold {
				return ""
			}
			return "*"
		case 'e':
			return "_"
		}
		return "~"
	}
	tag := "s"
	switch m {
	case 's':
		tag = "b"
	case 'e':
		tag = "i"
	}
	if closing {
		return "</" + tag + ">"
	}
	return "<" + tag + ">"
}

// escapeFor escapes text for target t.
func escapeFor(s string, t mdTarget) string {
	if t == mdChat {
		return gchat.Escape(s)
	}
	return card.Escape(s)
}

// escapeAttr escapes s for card HTML, inside a double-quoted attribute as
// well as in text.
func escapeAttr(s string) string {
	return strings.ReplaceAll(card.Escape(s), `"`, "&quot;")
}

func isASCIIPunct(c byte) bool {
	return '!' <= c && c <= '/' || ':' <= c && c <= '@' || '[' <= c && c <= '`' || '{' <= c && c <= '~'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isBlank(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' }
