package render

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// checkSafe is a strict checker of the renderer's output, independent of the
// renderer's own code: it accepts only the tags and attributes the renderer
// emits, every attribute double-quoted, every tag balanced, and only inert
// values in attributes that a browser acts on (href, src, style, class,
// color). Text may say anything ("javascript:", "<script>") as long as it is
// escaped: text is never markup.
func checkSafe(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid UTF-8")
	}
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '>', '"', '\'':
			return fmt.Errorf("raw %q in text at %d: %s", s[i], i, excerpt(s, i))
		case '&':
			n, err := entity(s[i:])
			if err != nil {
				return fmt.Errorf("at %d: %v: %s", i, err, excerpt(s, i))
			}
			i += n
			continue
		case '<':
		default:
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			return fmt.Errorf("unterminated tag at %d: %s", i, excerpt(s, i))
		}
		name, attrs, closing, err := parseCheckedTag(s[i+1 : i+end])
		if err != nil {
			return fmt.Errorf("tag at %d: %v: %s", i, err, excerpt(s, i))
		}
		i += end + 1
		void := name == "br" || name == "img"
		switch {
		case closing && void:
			return fmt.Errorf("end tag of void element %s", name)
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return fmt.Errorf("</%s> does not close the open element (open: %v)", name, stack)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if name == "a" && slicesContains(stack, "a") {
			return fmt.Errorf("nested <a>")
		}
		for _, a := range attrs {
			if err := checkAttr(name, a[0], a[1]); err != nil {
				return fmt.Errorf("<%s %s=%q>: %v", name, a[0], a[1], err)
			}
		}
		if !void {
			stack = append(stack, name)
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed elements %v", stack)
	}
	return nil
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func excerpt(s string, i int) string {
	lo, hi := max(0, i-40), min(len(s), i+40)
	return fmt.Sprintf("%q", s[lo:hi])
}

// entity accepts exactly the references html.EscapeString writes.
func entity(s string) (int, error) {
	for _, e := range []string{"&lt;", "&gt;", "&amp;", "&#39;", "&#34;", "&quot;"} {
		if strings.HasPrefix(s, e) {
			return len(e), nil
		}
	}
	return 0, fmt.Errorf("unexpected character reference")
}

var checkedTags = map[string]bool{
	"a": true, "b": true, "blockquote": true, "br": true, "code": true, "details": true,
	"div": true, "font": true, "i": true, "img": true, "li": true, "ol": true, "pre": true,
	"s": true, "span": true, "summary": true, "bdi": true, "time": true, "u": true, "ul": true,
}

// attrTags lists, per attribute, the tags that may carry it ("" for any).
var attrTags = map[string]string{
	"class": "", "title": "", "style": "",
	"href": "a", "target": "a", "rel": "a",
	"src": "img", "alt": "img", "loading": "img", "referrerpolicy": "img",
	"color": "font",
}

var tagRE = regexp.MustCompile(`^(/?)([a-z]+)((?: [a-z-]+="[^"<>]*")*)$`)
var attrRE = regexp.MustCompile(` ([a-z-]+)="([^"<>]*)"`)

func parseCheckedTag(inner string) (name string, attrs [][2]string, closing bool, err error) {
	m := tagRE.FindStringSubmatch(inner)
	if m == nil {
		return "", nil, false, fmt.Errorf("malformed tag")
	}
	closing, name = m[1] == "/", m[2]
	if !checkedTags[name] {
		return "", nil, false, fmt.Errorf("tag %s not allowed", name)
	}
	if closing && m[3] != "" {
		return "", nil, false, fmt.Errorf("attributes on an end tag")
	}
	for _, a := range attrRE.FindAllStringSubmatch(m[3], -1) {
		attrs = append(attrs, [2]string{a[1], a[2]})
	}
	return name, attrs, closing, nil
}

var (
	classRE = regexp.MustCompile(`^gc-[a-z0-9-]+( gc-[a-z0-9-]+)*$`)
	styleRE = regexp.MustCompile(`^(background-color:rgb\(\d{1,3},\d{1,3},\d{1,3}\)|-webkit-line-clamp:\d+|grid-template-columns:repeat\(\d+,minmax\(0,1fr\)\))$`)
	colorRE = regexp.MustCompile(`^(#[0-9a-f]{3}|#[0-9a-f]{6}|[a-z]+)$`)
)

func checkAttr(tag, name, raw string) error {
	on, ok := attrTags[name]
	if !ok || strings.HasPrefix(name, "on") {
		return fmt.Errorf("attribute not allowed")
	}
	if on != "" && on != tag {
		return fmt.Errorf("attribute not allowed on this tag")
	}
	// Every reference must be one that EscapeString writes.
	for j := 0; j < len(raw); j++ {
		if raw[j] == '&' {
			if _, err := entity(raw[j:]); err != nil {
				return err
			}
		}
	}
	v := html.UnescapeString(raw)
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("control character in value")
		}
	}
	lower := strings.ToLower(v)
	switch name {
	case "href":
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "mailto:") {
			return fmt.Errorf("href scheme not http, https or mailto")
		}
		if strings.ContainsAny(v, " \\") {
			return fmt.Errorf("space or backslash in href")
		}
	case "src":
		if !strings.HasPrefix(lower, "https://") || strings.ContainsAny(v, " \\") {
			return fmt.Errorf("src not https")
		}
	case "class", "style", "color":
		for _, bad := range []string{"javascript:", "vbscript:", "data:", "url(", "expression("} {
			if strings.Contains(lower, bad) {
				return fmt.Errorf("%s in %s", bad, name)
			}
		}
		re := map[string]*regexp.Regexp{"class": classRE, "style": styleRE, "color": colorRE}[name]
		if !re.MatchString(v) {
			return fmt.Errorf("value does not match %s", re)
		}
	case "target":
		if v != "_blank" {
			return fmt.Errorf("target")
		}
	case "rel":
		if v != "noopener noreferrer nofollow" {
			return fmt.Errorf("rel")
		}
	case "loading":
		if v != "lazy" {
			return fmt.Errorf("loading")
		}
	case "referrerpolicy":
		if v != "no-referrer" {
			return fmt.Errorf("referrerpolicy")
		}
	}
	return nil
}

// visibleText returns the text a reader sees in out: tags removed, references
// decoded. checkSafe guarantees that no '>' occurs outside tags.
func visibleText(out string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(out, '<')
		if i < 0 {
			b.WriteString(out)
			break
		}
		b.WriteString(out[:i])
		j := strings.IndexByte(out[i:], '>')
		if j < 0 {
			break
		}
		out = out[i+j+1:]
	}
	return html.UnescapeString(b.String())
}
