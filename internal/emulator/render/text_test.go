package render

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/gchatkit/gchat"
)

// textCases are Chat markup inputs. Their renderings are in testdata/text.golden.
var textCases = []struct{ name, in string }{
	{"plain", "hello world"},
	{"html-escaped", `a < b && c > "d" 'e'`},
	{"bold", "*bold* text"},
	{"italic", "_italic_ text"},
	{"strike", "~strike~ text"},
	{"code", "run `ls *.go` now"},
	{"nested", "*bold _and italic_ and ~struck~*"},
	{"punctuation-boundary", "(*bold*), _it_."},
	{"snake-case", "node_filesystem_avail_bytes and file_name.txt"},
	{"arithmetic", "2*3*4 and a * b * c"},
	{"unclosed", "*not bold and _not italic"},
	{"space-inside", "x * not bold * and _ not _"},
	{"star-bullet", "* not bold * and _ not _"},
	{"backtick-runs", "``not code`` and `code` and ```"},
	{"double-star", "**bold?**"},
	{"first-closer", "*a* b* c"},
	{"crossed", "*a _b* c_"},
	{"multiline-no-span", "*open\nclose*"},
	{"code-block", "before\n```\nline 1\n  *line* 2 <b>\n```\nafter"},
	{"code-block-inline", "x ```code``` y"},
	{"code-block-unclosed", "```\nno end"},
	{"bullets", "list:\n* one\n- two\n  * three\nend"},
	{"bullet-needs-space", "*bold* line\n-not a bullet"},
	{"quote", "> quoted *text*\n>second\nafter"},
	{"link-label", "see <https://example.com/a?b=1&c=2|the docs> now"},
	{"link-bare-angle", "<https://example.com>"},
	{"link-mailto", "<mailto:ops@example.com|mail us>"},
	{"link-empty-label", "<https://example.com|>"},
	{"bare-url", "go to https://example.com/path?q=1. Thanks"},
	{"bare-url-paren", "(see https://example.com/a_(b)) and https://example.com/x)"},
	{"bare-url-marks", "**https://example.com/x**"},
	{"bare-url-inside-word", "xhttps://example.com"},
	{"mention", "hi <users/123456789> and <users/all>"},
	{"mention-bad", "<users/someone@example.com> <users/> <users/12a>"},
	{"not-a-link", "<foo> <ftp://example.com|ftp> <https://exa mple.com|x>"},
	{"zwsp-kept", "a\u200bb"},
	{"escaped", gchat.Escape("*bold* _it_ ~s~ `c` <users/all> <https://x.com|x>\n> q\n- b\n* b\n```\nblock\n```")},
	{"crlf", "one\r\ntwo\rthree"},
	{"blank-lines", "a\n\n\nb"},
	{"invalid-utf8", "a\xffb\x00c"},
	{"emoji", "👋🌎 *héllo* _wörld_"},
	// Hostile input: all of it must come out as text.
	{"script", "<script>alert(1)</script>"},
	{"img-onerror", `<img src=x onerror=alert(1)>`},
	{"js-link", "<javascript:alert(1)|x>"},
	{"js-link-case", "<JaVaScRiPt:alert(1)|x> < javascript:alert(1)|x>"},
	{"js-link-tab", "<java\tscript:alert(1)|x> <java&#115;cript:alert(1)|x>"},
	{"data-link", "<data:text/html,<script>alert(1)</script>|x>"},
	{"vbscript-link", "<vbscript:msgbox(1)|x>"},
	{"relative-link", "</etc/passwd|x> <//evil.example|x>"},
	{"quote-break", `<https://example.com/" onmouseover="alert(1)|x> <https://example.com/'x|y>`},
	{"bare-url-quote", `https://example.com/"onmouseover=alert(1)`},
	{"backslash", `<https:\\evil.example|x>`},
	{"svg", `<svg onload=alert(1)><math><style>*{}</style>`},
}

func TestTextGolden(t *testing.T) {
	var b strings.Builder
	for _, tc := range textCases {
		out := string(Text(tc.in))
		mustSafe(t, tc.in, out)
		fmt.Fprintf(&b, "### %s\nin:  %q\nout: %s\n\n", tc.name, tc.in, out)
	}
	golden(t, "text.golden", b.String())
}

// TestTextRules pins the rules that matter most, independently of the golden
// file.
func TestTextRules(t *testing.T) {
	tests := []struct {
		in        string
		want      []string // substrings of the output
		forbidden []string
	}{
		{"*b*", []string{"<b>b</b>"}, nil},
		{"_i_", []string{"<i>i</i>"}, nil},
		{"~s~", []string{"<s>s</s>"}, nil},
		{"`c`", []string{`<code class="gc-code">c</code>`}, nil},
		{"node_filesystem_avail_bytes", nil, []string{"<i>"}},
		{"2*3*4", nil, []string{"<b>"}},
		{"a*b* c", nil, []string{"<b>"}},
		{"*b*c", nil, []string{"<b>"}},
		{"\u200b*b\u200b*", nil, []string{"<b>"}},
		{"*\u200bb*", nil, []string{"<b>"}},
		{"<javascript:alert(1)|x>", []string{"&lt;javascript:alert(1)|x&gt;"}, []string{"<a"}},
		{"<https://x.example|y>", []string{`href="https://x.example"`, `rel="noopener noreferrer nofollow"`, `target="_blank"`}, nil},
		{"<users/all>", []string{"@all"}, nil},
		{"<users/42>", []string{"@user 42"}, nil},
		{"<script>", []string{"&lt;script&gt;"}, []string{"<script"}},
	}
	for _, tc := range tests {
		out := string(Text(tc.in))
		mustSafe(t, tc.in, out)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("Text(%q) = %s, want it to contain %s", tc.in, out, w)
			}
		}
		for _, f := range tc.forbidden {
			if strings.Contains(out, f) {
				t.Errorf("Text(%q) = %s, want no %s", tc.in, out, f)
			}
		}
	}
}

// TestTextEscaped checks that text passed through gchat.Escape renders with no
// formatting at all, and shows every character it had.
func TestTextEscaped(t *testing.T) {
	for _, tc := range textCases {
		checkEscaped(t, tc.in)
	}
}

// formatting lists what markup can make, except links: Escape leaves bare URLs
// without marks alone, and Chat links them.
var formatting = []string{"<b>", "<i>", "<s>", "<code", "<pre", "<ul", "<li", "<blockquote", "gc-mention"}

func checkEscaped(t testing.TB, s string) {
	t.Helper()
	out := string(Text(gchat.Escape(s)))
	mustSafe(t, s, out)
	for _, f := range formatting {
		if strings.Contains(out, f) {
			t.Fatalf("Text(Escape(%q)) = %s: has %s", s, out, f)
		}
	}
}

var (
	mentionRE = regexp.MustCompile(`<users/(all|[0-9]+)>`)
	linkURLRE = regexp.MustCompile(`<[^<>|]*\|`)
)

// checkNothingDropped checks that every letter and digit of in shows, in
// order, in the visible text of out. Mentions show as "@user ID" and "@all" and
// labelled links show their label; in is normalised to that first (each step
// only removes letters, so the check stays sound).
func checkNothingDropped(t testing.TB, in, out string) {
	t.Helper()
	norm := mentionRE.ReplaceAllStringFunc(in, func(m string) string {
		if m == "<users/all>" {
			return "all"
		}
		return "user " + m[len("<users/"):]
	})
	norm = linkURLRE.ReplaceAllString(norm, "<")
	vis := []rune(visibleText(out))
	k := 0
	for _, r := range norm {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		for k < len(vis) && vis[k] != r {
			k++
		}
		if k == len(vis) {
			t.Fatalf("%q is missing from the visible text\ninput:   %q\nvisible: %q\noutput:  %s", r, in, string(vis), out)
		}
		k++
	}
}

func TestTextNothingDropped(t *testing.T) {
	for _, tc := range textCases {
		checkNothingDropped(t, tc.in, string(Text(tc.in)))
	}
}

// TestLinkLabelIsolated: a link label with a direction override (U+202E)
// is bidi-isolated, so that "invoice\u202etxt.exe" cannot reorder the text
// after the link; the stylesheet isolates links and card titles as well.
func TestLinkLabelIsolated(t *testing.T) {
	got := string(Text("see <https://example.com/f|invoice\u202etxt.exe> now"))
	if want := "><bdi>invoice\u202etxt.exe</bdi></a><span class=\"gc-bidi-mark\""; !strings.Contains(got, want) {
		t.Errorf("got %q, want the label isolated and marked: %q", got, want)
	}
	if got := string(Text("<https://example.com/f|invoice.txt>")); strings.Contains(got, "gc-bidi-mark") {
		t.Errorf("got %q, want no mark on a plain label", got)
	}
	if css := Stylesheet(); !strings.Contains(css, ".gc-message a, .gc-message bdi, .gc-card-title, .gc-card-subtitle { unicode-bidi: isolate; }") {
		t.Error("stylesheet does not isolate links and titles")
	}
}
