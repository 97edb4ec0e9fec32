package card

import (
	"github.com/gchatkit/gchat/internal/cardhtml"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a < b > c & d", "a &lt; b &gt; c &amp; d"},
		{"&amp;", "&amp;amp;"},
		{`"quotes" 'stay'`, `"quotes" 'stay'`},
		{"<b>ünïcödé</b>", "&lt;b&gt;ünïcödé&lt;/b&gt;"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScanHTML(t *testing.T) {
	tests := []struct {
		in   string
		want []string // message prefixes, in order
	}{
		{"", nil},
		{"plain text > with a bare gt", nil},
		{"<b>b</b><i>i</i><u>u</u><s>s</s><code>c</code><pre><code>p</code></pre>", nil},
		{"<ul><li>a</li></ul><ol><li>b</li></ol><br><br/><br />", nil},
		{`<font color="#ff0000">red</font> <a href='https://e.com/?a=1&b=2'>link</a>`, nil},
		{"<FONT COLOR=red>upper</FONT> <time>2023-02-16 15:00</time>", nil},
		{"&amp; &lt; &gt; &quot; &#39; &#x27; &#X27; &nbsp;", nil},
		{"a < b", []string{`unescaped "<" at byte 2 `}},
		{"<", []string{`unescaped "<" at byte 0 `}},
		{"a <3 b", []string{`unescaped "<" at byte 2 `}},
		{"<b", []string{`unescaped "<" at byte 0 `}},
		{`<a href="https://e.com>x`, []string{`unescaped "<" at byte 0 `}},
		{"<!-- comment -->", []string{`unescaped "<" at byte 0 `}},
		{"</>", []string{`unescaped "<" at byte 0 `}},
		{"<b =x>", []string{`unescaped "<" at byte 0 `}},
		{"<a b=x<y>", []string{"tag <y> is not in", `unescaped "<" at byte 0 `}},
		{"x << y <", []string{`unescaped "<" at byte 2 (and 2 more) `}},
		{"&", []string{`unescaped "&" at byte 0 `}},
		{"AT&T", []string{`unescaped "&" at byte 2 `}},
		{"&amp", []string{`unescaped "&" at byte 0 `}},
		{"&#;", []string{`unescaped "&" at byte 0 `}},
		{"&#x;", []string{`unescaped "&" at byte 0 `}},
		{"&#12a;", []string{`unescaped "&" at byte 0 `}},
		{"& &; &1;", []string{`unescaped "&" at byte 0 (and 2 more) `}},
		{"<div>a</div><DIV>b</DIV>", []string{"tag <div> is not in"}},
		{"<p>a</p><img src=x>", []string{"tag <p> is not in", "tag <img> is not in"}},
		{"<h1>", []string{"tag <h1> is not in"}},
		{`<b class="x">`, []string{`tag <b> has attribute "class"`}},
		{`<a href="https://e.com" target=_blank>`, []string{`tag <a> has attribute "target"`}},
		{"<a onclick>&", []string{`tag <a> has attribute "onclick"`, `unescaped "&"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := scanHTML(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d messages starting %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("got message %q, want prefix %q", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEntityLen(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"&amp;x", 5}, {"&#39;", 5}, {"&#x27;", 6}, {"&a1;", 4},
		{"&", 0}, {"&;", 0}, {"&1a;", 0}, {"&#x;", 0}, {"&#xg;", 0}, {"&amp", 0}, {"& amp;", 0},
	}
	for _, tt := range tests {
		if got := entityLen(tt.in); got != tt.want {
			t.Errorf("entityLen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// FuzzCheckHTML checks the card HTML scanner: it never panics or loops, what it
// reports stays inside the input, and escaped text is always clean, also when
// checked as part of a card.
func FuzzCheckHTML(f *testing.F) {
	for _, s := range []string{
		"", "a < b", "AT&T", "<b>x</b>", `<font color="#f00">r</font>`, `<a href='x'>y</a>`,
		"<br/>", "&amp;&#39;&#x27;", "<div", "</", "<a b=", `<a b="`, "<a b='c", "&#x", "< b>", "<b/ >",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, msg := range scanHTML(s) {
			if msg == "" {
				t.Errorf("scanHTML(%q) gave an empty message", s)
			}
		}
		if tg, ok := parseTagAt(s); ok && (tg.End <= strings.IndexByte(s, '<') || tg.End > len(s)) {
			t.Errorf("parseTag(%q) ended at %d, outside the input", s, tg.End)
		}

		esc := Escape(s)
		if got := scanHTML(esc); len(got) != 0 {
			t.Errorf("scanHTML(Escape(%q)) = %q, want nothing", s, got)
		}
		if strings.ContainsAny(esc, "<>") {
			t.Errorf("Escape(%q) = %q still holds < or >", s, esc)
		}
		if utf8.ValidString(s) && !utf8.ValidString(esc) {
			t.Errorf("Escape(%q) = %q broke UTF-8", s, esc)
		}
		c := New("t", NewSection(esc, Text(esc+"x"), Decorated("", esc+"x")))
		if diff := cmp.Diff(Problems(nil), c.Check("").Warnings()); diff != "" {
			t.Errorf("Check of escaped %q gave warnings (-want +got):\n%s", s, diff)
		}
	})
}

// parseTagAt runs cardhtml.ParseTag on the first '<' of s, if any.
func parseTagAt(s string) (cardhtml.Tag, bool) {
	i := strings.IndexByte(s, '<')
	if i < 0 {
		return cardhtml.Tag{}, false
	}
	return cardhtml.ParseTag(s, i)
}
