// Package cardhtml reads the tags of card HTML, the small HTML subset of
// Chat card text, for the library's checker (package card) and the
// emulator's sanitiser (package render) alike.
package cardhtml

import "strings"

// Attr is an attribute of a tag: its name lowercased, its value as written
// (quotes removed, character references left in).
type Attr struct {
	Name, Value string
}

// Tag is a start or end tag read by ParseTag.
type Tag struct {
	// Name is the tag's name, lowercased.
	Name string
	// Closing reports an end tag (</b>).
	Closing bool
	Attrs   []Attr
	// End is the offset just past the tag's '>'.
	End int
}

// Attr returns the value of the first attribute called name (lowercase),
// "" if there is none.
func (t Tag) Attr(name string) string {
	for _, a := range t.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// ParseTag reads a start, end or self-closing tag at s[i] == '<', close to
// the HTML tokenizer: a letter must follow '<' or '</' at once (so "a < b"
// is text), attribute values may be quoted with " or ' or unquoted, and '>'
// must close the tag before the end of s. An unquoted value ends at '<' too,
// unlike in HTML: a '<' there is more likely unescaped text, and stopping
// keeps a scan of a whole text linear.
func ParseTag(s string, i int) (Tag, bool) {
	var t Tag
	j := i + 1
	if j < len(s) && s[j] == '/' {
		t.Closing = true
		j++
	}
	start := j
	for j < len(s) && (isLetter(s[j]) || j > start && isDigit(s[j])) {
		j++
	}
	if j == start {
		return Tag{}, false
	}
	t.Name = strings.ToLower(s[start:j])
	for {
		j = skipSpace(s, j)
		if j >= len(s) {
			return Tag{}, false
		}
		switch s[j] {
		case '>':
			t.End = j + 1
			return t, true
		case '/': // as in <br/>; HTML ignores a stray slash elsewhere too
			j++
			continue
		}
		k := j
		for j < len(s) && !isSpace(s[j]) && !strings.ContainsRune(`>/="'<`, rune(s[j])) {
			j++
		}
		if j == k {
			return Tag{}, false // '=', a quote or '<' where a name belongs
		}
		name := strings.ToLower(s[k:j])
		j = skipSpace(s, j)
		if j >= len(s) || s[j] != '=' {
			t.Attrs = append(t.Attrs, Attr{name, ""})
			continue
		}
		j = skipSpace(s, j+1)
		if j >= len(s) {
			return Tag{}, false
		}
		if q := s[j]; q == '"' || q == '\'' {
			e := strings.IndexByte(s[j+1:], q)
			if e < 0 {
				return Tag{}, false
			}
			t.Attrs = append(t.Attrs, Attr{name, s[j+1 : j+1+e]})
			j += 1 + e + 1
			continue
		}
		k = j
		for j < len(s) && !isSpace(s[j]) && s[j] != '>' && s[j] != '<' {
			j++
		}
		if j == k {
			return Tag{}, false
		}
		t.Attrs = append(t.Attrs, Attr{name, s[k:j]})
	}
}

func skipSpace(s string, j int) int {
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	return j
}

func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
