package render

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// linkURL returns s as the href of a link the page may open, and whether it
// may: an absolute http or https URL with a host, or a mailto URL. The scheme
// is lowercased; nothing else changes. Any control character, space or
// backslash disqualifies s: browsers drop tabs and newlines inside URLs
// ("java\tscript:") and read a backslash as a slash, so what they would
// follow could differ from what was checked here. Leading and trailing spaces
// are trimmed, as browsers do. Invalid UTF-8 is refused.
func linkURL(s string) (string, bool) {
	return checkURL(s, "http", "https", "mailto")
}

// imageURL is linkURL for an image source: Google accepts only absolute https
// URLs (docs/google-chat.md §2.3), and so does the renderer, so that a card that works here
// works in Chat. data:, http: and relative URLs are refused.
func imageURL(s string) (string, bool) {
	return checkURL(s, "https")
}

func checkURL(s string, schemes ...string) (string, bool) {
	s = strings.Trim(s, " ")
	if s == "" || len(s) > maxURL || !utf8.ValidString(s) {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	ok := false
	for _, want := range schemes {
		ok = ok || scheme == want
	}
	switch {
	case !ok:
		return "", false
	case scheme == "mailto":
		if u.Opaque == "" {
			return "", false
		}
	case u.Host == "" || u.Opaque != "":
		return "", false
	}
	return scheme + s[len(u.Scheme):], true
}

// maxURL bounds the URLs the renderer links to. Chat's own limit is unknown;
// 8 KiB is far beyond any real link and keeps a pasted data blob out of an
// attribute.
const maxURL = 8 << 10

// shortURL returns s cut to a length that fits in a placeholder.
func shortURL(s string) string {
	const limit = 80
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
