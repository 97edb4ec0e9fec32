package gchat

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Chat's text markup (docs/google-chat.md §3.1) has no documented escape rule: no backslash
// escapes, no entities. Escape therefore neutralises markup by inserting
// U+200B ZERO WIDTH SPACE (ZWSP), which Chat shows as nothing:
//
//   - before each of * _ ~ ` and >, and before a - that begins a line (after
//     optional blanks). Inline markup pairs only form when the opening mark sits
//     at a word boundary and touches the text it formats, and the closing mark
//     touches it too [INF]. A ZWSP right before every mark defeats that whichever
//     way Chat classifies U+200B: as a letter, no mark sits at a word boundary
//     and none opens; as a space, no mark touches text on its left and none
//     closes. Line syntax (bullets "* ", "- ", quotes ">", fences "```") needs
//     the mark first on the line, and a ZWSP now comes first; and no two
//     backticks stay adjacent, so no fence survives.
//   - after each <. Links <url|label> and mentions <users/ID> need the URL or
//     "users/" right after the <; a ZWSP there keeps "<users/all>" from user
//     data from notifying a whole space.
//   - a ZWSP already in s is doubled, so that Unescape can tell it from the
//     inserted ones.
//
// Look-alike characters (∗ ＿ ˋ ‹) would also work, and against any parser, but
// they change what the reader sees and copies, and the underscore look-alikes
// render visibly different; wrapping in inline code changes the typeface and
// cannot hold a backtick. A ZWSP keeps every visible character exactly as it
// was. Like look-alikes it does break copy and paste of the exact bytes (for
// example of a metric name into a query), and it breaks bare URLs that contain
// a mark: put URLs in with Link, outside the escaped text.
//
// The emulator's renderer must apply the same rule (marks need a word boundary
// on their outer side and text on their inner side) for escaped text to look
// as it does in Chat.

// zwsp is U+200B ZERO WIDTH SPACE, the escape character of Escape.
const zwsp = "\u200b"

// Escape returns s with Chat's text markup neutralised, so that user data such
// as "node_filesystem_avail_bytes", "*.log", "~/bin", backticks or "<users/all>"
// shows literally in a message's Text instead of turning into bold, italics,
// strikethrough, code, quotes, bullets, links or mentions. It never
// HTML-escapes: & and " stay as they are (Text is not HTML).
//
// Escape inserts U+200B ZERO WIDTH SPACE beside markup characters (see the
// comment at the top of text.go for why). Each markup character grows by 3
// bytes and 1 UTF-16 code unit, and so does each U+200B already in s: the
// result is at most 4 times as long as s in bytes and 2 times in UTF-16 code
// units, and usually only a little longer. Unescape reverses it. Invalid UTF-8
// is passed through byte for byte.
//
// Escape only what is data: a bare URL with _ or ~ in it would no longer link
// where it should; put links in with Link.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 3*8)
	lineStart := true // only blanks since the start of the line
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			_, size := utf8.DecodeRuneInString(s[i:])
			if s[i:i+size] == zwsp {
				b.WriteString(zwsp)
			}
			b.WriteString(s[i : i+size])
			i += size
			lineStart = false
			continue
		}
		switch {
		case c == '*' || c == '_' || c == '~' || c == '`' || c == '>' || c == '-' && lineStart:
			b.WriteString(zwsp)
			b.WriteByte(c)
		case c == '<':
			b.WriteByte(c)
			b.WriteString(zwsp)
		default:
			b.WriteByte(c)
		}
		switch c {
		case '\n':
			lineStart = true
		case ' ', '\t', '\r':
		default:
			lineStart = false
		}
		i++
	}
	return b.String()
}

// needsEscape reports whether Escape would change s.
func needsEscape(s string) bool {
	if strings.ContainsAny(s, "*_~`<>"+zwsp) {
		return true
	}
	lineStart := true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			if lineStart {
				return true
			}
		case '\n':
			lineStart = true
		case ' ', '\t', '\r':
		default:
			lineStart = false
		}
	}
	return false
}

// Unescape reverses Escape: Unescape(Escape(s)) == s for every string s. It
// drops a U+200B that comes before any character other than U+200B or that
// follows a <, and turns a doubled U+200B into one. Text that Escape did not
// produce may lose zero width spaces.
func Unescape(s string) string {
	if !strings.Contains(s, zwsp) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch {
		case s[i] == '<':
			b.WriteByte('<')
			i++
			if strings.HasPrefix(s[i:], zwsp) {
				i += len(zwsp)
			}
		case strings.HasPrefix(s[i:], zwsp+zwsp):
			b.WriteString(zwsp)
			i += 2 * len(zwsp)
		case strings.HasPrefix(s[i:], zwsp) && i+len(zwsp) < len(s):
			i += len(zwsp) // inserted before a markup character, which comes next
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// wrap puts mark around s, moving leading and trailing white space outside the
// marks: Chat formats only marks that touch the text [INF]. A blank s is
// returned unchanged.
func wrap(s, mark string) string {
	core := strings.TrimSpace(s)
	if core == "" {
		return s
	}
	lead := strings.Index(s, core)
	return s[:lead] + mark + core + mark + s[lead+len(core):]
}

// Bold returns s marked bold: *s*. s is used as is, so markup in it stays
// markup; pass user data through Escape first. White space at either end is
// moved outside the marks, which Chat would not recognise otherwise.
func Bold(s string) string { return wrap(s, "*") }

// Italic returns s marked italic: _s_. As with Bold, s is used as is and white
// space at either end is moved outside the marks.
func Italic(s string) string { return wrap(s, "_") }

// Strike returns s struck through: ~s~. As with Bold, s is used as is and white
// space at either end is moved outside the marks.
func Strike(s string) string { return wrap(s, "~") }

// Code returns s as inline code: `s`. Markup inside code is shown literally, so
// s needs no Escape. Chat has no way to write a backtick inside inline code,
// so each backtick in s becomes U+02CB MODIFIER LETTER GRAVE ACCENT (ˋ), which
// looks alike. White space at either end is moved outside the marks.
func Code(s string) string {
	return wrap(strings.ReplaceAll(s, "`", "\u02cb"), "`")
}

// CodeBlock returns s as a monospace block: s between lines of three
// backticks. A run of three or more backticks in s would end the block early,
// so a U+200B ZERO WIDTH SPACE is put after every second backtick of a run;
// one trailing newline of s is dropped.
func CodeBlock(s string) string {
	s = strings.TrimSuffix(s, "\n")
	if strings.Contains(s, "```") {
		s = strings.ReplaceAll(s, "``", "``"+zwsp)
	}
	return "```\n" + s + "\n```"
}

// Bullet returns items as a bulleted list, one "* item" line each. Items are
// used as is; pass user data through Escape first.
func Bullet(items ...string) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("* ")
		b.WriteString(it)
	}
	return b.String()
}

// Quote returns s as a block quote: every line of s prefixed with "> ".
func Quote(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// Link returns a link to url shown as label: <url|label>, or <url> for an
// empty label. Characters that would end the link early are replaced: in url,
// white space, <, >, | and " are percent-encoded (the link still leads to the
// same place); in label, | becomes ∣ (U+2223), < and > become ‹ and ›
// (U+2039, U+203A), and line breaks become spaces.
func Link(url, label string) string {
	var b strings.Builder
	b.Grow(len(url) + len(label) + 3)
	b.WriteByte('<')
	for i := 0; i < len(url); i++ {
		switch c := url[i]; c {
		case ' ', '\t', '\n', '\r', '<', '>', '|', '"':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	label = strings.TrimSpace(label)
	if label != "" {
		b.WriteByte('|')
		for _, r := range label {
			switch r {
			case '|':
				r = '\u2223'
			case '<':
				r = '\u2039'
			case '>':
				r = '\u203a'
			case '\n', '\r':
				r = ' '
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('>')
	return b.String()
}

// Mention returns the markup that mentions a user, <users/ID>. user is
// "users/ID" or just "ID", where ID is the numeric user id (the People API id,
// as in users/123456789012345678901), or "all" or "users/all" for everyone in
// the space. Anything else is an error; in particular an e-mail address, which
// only works with user authentication, never from a webhook.
func Mention(user string) (string, error) {
	u := strings.TrimSpace(user)
	if strings.Contains(u, "@") {
		return "", fmt.Errorf("mention %q: webhooks cannot mention by e-mail address; use the numeric user id, as in users/123456789012345678901", user)
	}
	id := strings.TrimPrefix(u, "users/")
	if id == "all" {
		return MentionAll(), nil
	}
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return "", fmt.Errorf("mention %q: want users/ID with a numeric ID (as in users/123456789012345678901), or all", user)
	}
	return "<users/" + id + ">", nil
}

// MentionAll returns the markup that mentions everyone in the space:
// <users/all>.
func MentionAll() string { return "<users/all>" }
