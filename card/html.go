package card

import (
	"fmt"
	"strings"

	"github.com/gchatkit/gchat/internal/cardhtml"
)

// Card text (textParagraph.text, decoratedText.text, section headers) is a small
// HTML subset: b i u s font a time br code pre ul ol li (format-messages, "Format
// text that appears in cards"; docs/google-chat.md §3.2).

// Escape returns s with <, > and & replaced by entities, so that user data shows
// literally inside card HTML. Quotes are left alone, so the result is not safe
// inside an attribute value such as an href.
func Escape(s string) string {
	if !strings.ContainsAny(s, "<>&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// allowedAttrs reports whether name is a tag of the card HTML subset and, if so,
// which attributes it takes.
func allowedAttrs(name string) (attrs []string, ok bool) {
	switch strings.ToLower(name) {
	case "b", "i", "u", "s", "time", "br", "code", "pre", "ul", "ol", "li":
		return nil, true
	case "font":
		return []string{"color"}, true
	case "a":
		return []string{"href"}, true
	}
	return nil, false
}

// scanHTML returns what in s Google would not show as written: a '<' or '&' that
// starts no tag or entity, a tag outside the subset, an attribute the subset
// does not use. It reports the first occurrence of each kind with a count, so
// that one careless string gives a few lines rather than hundreds.
func scanHTML(s string) []string {
	var (
		lt, amp         int // unescaped '<' and '&': count
		firstLT, firstA int // and offset of the first
		out             []string
		seen            map[string]bool // tags and attributes already reported
	)
	report := func(key, msg string) {
		if seen == nil {
			seen = make(map[string]bool)
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, msg)
		}
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			t, ok := cardhtml.ParseTag(s, i)
			if !ok {
				if lt == 0 {
					firstLT = i
				}
				lt++
				i++
				continue
			}
			i = t.End
			attrs, ok := allowedAttrs(t.Name)
			if !ok {
				name := t.Name
				report("tag "+name, fmt.Sprintf("tag <%s> is not in the card HTML subset (b i u s font a time br code pre ul ol li)", name))
				continue
			}
			for _, attr := range t.Attrs {
				a := attr.Name
				if !containsFold(attrs, a) {
					key := "attr " + t.Name + " " + a
					report(key, fmt.Sprintf("tag <%s> has attribute %q, which card HTML does not use; if the < is meant literally, write &lt;", t.Name, a))
				}
			}
		case '&':
			if n := entityLen(s[i:]); n > 0 {
				i += n
				continue
			}
			if amp == 0 {
				firstA = i
			}
			amp++
			i++
		default:
			i++
		}
	}
	if lt > 0 {
		out = append(out, fmt.Sprintf("unescaped %q at byte %d%s that starts no tag; write &lt; (or use card.Escape)", "<", firstLT, more(lt)))
	}
	if amp > 0 {
		out = append(out, fmt.Sprintf("unescaped %q at byte %d%s that starts no entity; write &amp; (or use card.Escape)", "&", firstA, more(amp)))
	}
	return out
}

func more(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (and %d more)", n-1)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// entityLen returns the length of the character reference at the start of s
// ("&amp;", "&#39;", "&#x27;"), or 0 if s does not start with one. Any
// alphanumeric name is accepted: the scanner checks syntax, not HTML's list of
// names.
func entityLen(s string) int {
	j := 1
	digit := isLetterOrDigit
	if j < len(s) && s[j] == '#' {
		j++
		digit = isDigit
		if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
			j++
			digit = isHex
		}
	} else if j >= len(s) || !isLetter(s[j]) {
		return 0
	}
	start := j
	for j < len(s) && digit(s[j]) {
		j++
	}
	if j == start || j >= len(s) || s[j] != ';' {
		return 0
	}
	return j + 1
}

func isLetter(c byte) bool        { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool         { return '0' <= c && c <= '9' }
func isLetterOrDigit(c byte) bool { return isLetter(c) || isDigit(c) }
func isHex(c byte) bool           { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
