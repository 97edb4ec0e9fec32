package render

import (
	"github.com/gchatkit/gchat/internal/cardhtml"
	"html"
	"strings"
)

// Card text fields (textParagraph.text, decoratedText.text and labels, section
// headers) use Chat's HTML subset (docs/google-chat.md §3.2). The sanitiser below re-emits
// what it recognises and escapes the rest:
//
//   - tags b i u s code pre time ul ol li are re-emitted bare, whatever
//     attributes they had; br is re-emitted as <br>;
//   - font keeps only color, and only as #rgb, #rrggbb or a name of letters;
//   - a keeps only href, and only an http, https or mailto URL (checked after
//     entities are decoded, so java&#115;cript: is caught); the page adds target
//     and rel. An a without a usable href becomes an inert <a> of class
//     gc-link-blocked, so that its text still shows;
//   - any other tag, comment, doctype or malformed tag is escaped and shows as
//     text [guess: Chat may drop unknown tags instead];
//   - text is entity-decoded and re-escaped; a newline outside pre becomes <br>
//     [INF: Chat shows \n in card text as a line break];
//   - the output is balanced: end tags close what they match and everything
//     above it, stray end tags are dropped, a nested a or li closes the open one
//     as the HTML parser would, and whatever is open at the end is closed, so a
//     field cannot reach outside its container. Nesting deeper than maxDepth
//     drops the deeper tags, keeping their text.

// maxDepth bounds tag nesting in card HTML.
const maxDepth = 32

// maxTag bounds the length of a tag, so that many '<' before one far '>' cost
// linear time; a longer "tag" is text. It leaves room for an href of maxURL.
const maxTag = maxURL + 2<<10

// writeCardHTML writes s, card HTML, sanitised.
func writeCardHTML(b *strings.Builder, s string) {
	s = clean(s)
	var stack []string
	last := 0 // start of pending text
	text := func(raw string) {
		if raw == "" {
			return
		}
		t := html.UnescapeString(raw)
		if !strings.Contains(t, "\n") || contains(stack, "pre") {
			b.WriteString(html.EscapeString(t))
			return
		}
		inList := len(stack) > 0 && (stack[len(stack)-1] == "ul" || stack[len(stack)-1] == "ol")
		for i, line := range strings.Split(t, "\n") {
			if i > 0 && !inList {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(line))
		}
	}
	closeTo := func(n int) { // pop until len(stack) == n
		for len(stack) > n {
			b.WriteString("</" + stack[len(stack)-1] + ">")
			stack = stack[:len(stack)-1]
		}
	}
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		t, ok := cardhtml.ParseTag(s[:min(len(s), i+maxTag)], i)
		if !ok || !allowedTag(t.Name) {
			i++
			continue
		}
		text(s[last:i])
		i, last = t.End, t.End
		name := t.Name
		switch {
		case name == "br":
			b.WriteString("<br>")
		case t.Closing:
			if k := lastIndex(stack, name); k >= 0 {
				closeTo(k)
			}
		case len(stack) >= maxDepth:
			// dropped; its text stays
		default:
			switch name {
			case "a":
				if k := lastIndex(stack, "a"); k >= 0 {
					closeTo(k)
				}
			case "li":
				if k := lastIndex(stack, "li"); k >= 0 && lastIndex(stack, "ul") < k && lastIndex(stack, "ol") < k {
					closeTo(k)
				}
			}
			b.WriteString(openTag(t))
			stack = append(stack, name)
		}
	}
	text(s[last:])
	closeTo(0)
}

func allowedTag(name string) bool {
	switch name {
	case "b", "i", "u", "s", "font", "a", "time", "br", "code", "pre", "ul", "ol", "li":
		return true
	}
	return false
}

// openTag re-emits an allowed start tag with its allowed attributes.
func openTag(t cardhtml.Tag) string {
	switch t.Name {
	case "a":
		if href, ok := linkURL(html.UnescapeString(t.Attr("href"))); ok {
			return `<a class="gc-link" href="` + html.EscapeString(href) + `" ` + linkAttrs + `>`
		}
		return `<a class="gc-link-blocked">`
	case "font":
		if c, ok := fontColor(html.UnescapeString(t.Attr("color"))); ok {
			return `<font color="` + c + `">`
		}
	}
	return "<" + t.Name + ">"
}

// fontColor returns a color attribute that cannot carry anything but a
// colour: #rgb, #rrggbb, or letters only (a colour name such as "red").
func fontColor(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if h, ok := strings.CutPrefix(s, "#"); ok {
		if (len(h) == 3 || len(h) == 6) && strings.Trim(h, "0123456789abcdef") == "" {
			return s, true
		}
		return "", false
	}
	if s != "" && len(s) <= 32 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz") == "" {
		return s, true
	}
	return "", false
}

func contains(stack []string, name string) bool { return lastIndex(stack, name) >= 0 }

func lastIndex(stack []string, name string) int {
	for k := len(stack) - 1; k >= 0; k-- {
		if stack[k] == name {
			return k
		}
	}
	return -1
}
