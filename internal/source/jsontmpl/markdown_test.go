package jsontmpl

import (
	"strings"
	"testing"
)

const zw = "\u200b" // what gchat.Escape inserts

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		chat, html string
	}{
		{"plain", "Hello, world", "Hello, world", "Hello, world"},
		{"snake_case stays", "node_filesystem_avail_bytes is low", "node" + zw + "_filesystem" + zw + "_avail" + zw + "_bytes is low", "node_filesystem_avail_bytes is low"},
		{"strong", "a **bold** and __also__ b", "a *bold* and *also* b", "a <b>bold</b> and <b>also</b> b"},
		{"em", "an *it* and _it_", "an _it_ and _it_", "an <i>it</i> and <i>it</i>"},
		{"strike", "~~gone~~ and ~one~", "~gone~ and ~one~", "<s>gone</s> and <s>one</s>"},
		{"three tildes are text", "a ~~~x~~~", "a " + zw + "~" + zw + "~" + zw + "~x" + zw + "~" + zw + "~" + zw + "~", "a ~~~x~~~"},
		{"strong em", "***both***", "_*both*_", "<i><b>both</b></i>"},
		{"unmatched", "**a* and 2 * 3", zw + "*_a_ and 2 " + zw + "* 3", "*<i>a</i> and 2 * 3"},
		{"intraword underscore", "foo_bar_", "foo" + zw + "_bar" + zw + "_", "foo_bar_"},
		{"code", "run `a*b <c>`", "run `a*b <c>`", "run <code>a*b &lt;c&gt;</code>"},
		{"code with backtick", "`` a`b ``", "`a\u02cbb`", "<code>a`b</code>"},
		{"unclosed code", "a ` b", "a " + zw + "` b", "a ` b"},
		{"link", "see [the docs](https://example.com/a_b?x=1&y=2)", "see <https://example.com/a_b?x=1&y=2|the docs>", `see <a href="https://example.com/a_b?x=1&amp;y=2">the docs</a>`},
		{"link with title", `[docs](https://example.com "The docs")`, "<https://example.com|docs>", `<a href="https://example.com">docs</a>`},
		{"link label markup", "[**bold** `code`](https://example.com)", "<https://example.com|bold code>", `<a href="https://example.com">bold code</a>`},
		{"link label with bar", "[a|b < c>](https://example.com)", "<https://example.com|a\u2223b \u2039 c\u203a>", `<a href="https://example.com">a|b &lt; c&gt;</a>`},
		{"relative link is text", "[file](docs/x_y.md)", "file", "file"},
		{"javascript link is text", "[x](javascript:alert(1))", "x", "x"},
		{"quote in href", `[x](https://e.com/"a)`, `<https://e.com/%22a|x>`, `<a href="https://e.com/&quot;a">x</a>`},
		{"image", "![shot](https://example.com/s.png)", "<https://example.com/s.png|shot>", `<a href="https://example.com/s.png">shot</a>`},
		{"image without alt", "![](https://example.com/s.png)", "<https://example.com/s.png|image>", `<a href="https://example.com/s.png">image</a>`},
		{"badge in link", "[![CI](https://ci/b.svg)](https://ci.example.com/1)", "<https://ci.example.com/1|CI>", `<a href="https://ci.example.com/1">CI</a>`},
		{"autolink", "<https://example.com/x_y>", "<https://example.com/x_y>", `<a href="https://example.com/x_y">https://example.com/x_y</a>`},
		{"bare url", "see https://example.com/a_b.", "see <https://example.com/a_b>.", `see <a href="https://example.com/a_b">https://example.com/a_b</a>.`},
		{"bare url in parens", "(see https://example.com/a)", "(see <https://example.com/a>)", `(see <a href="https://example.com/a">https://example.com/a</a>)`},
		{"wikipedia url", "https://en.wikipedia.org/wiki/Go_(programming_language)", "<https://en.wikipedia.org/wiki/Go_(programming_language)>", `<a href="https://en.wikipedia.org/wiki/Go_(programming_language)">https://en.wikipedia.org/wiki/Go_(programming_language)</a>`},
		{"mention is text", "ping <users/all> now", "ping <" + zw + "users/all" + zw + "> now", "ping &lt;users/all&gt; now"},
		{"less than", "a < b > c & d", "a <" + zw + " b " + zw + "> c & d", "a &lt; b &gt; c &amp; d"},
		{"tags dropped", "<details><summary>More</summary>text</details>", "Moretext", "Moretext"},
		{"br", "a<br>b<br/>c", "a\nb\nc", "a<br>b<br>c"},
		{"img", `<img width="640" alt="before &amp; after" src="https://example.com/i.png">`, "<https://example.com/i.png|before & after>", `<a href="https://example.com/i.png">before &amp; after</a>`},
		{"bad tag is text", "<a b=>", "<" + zw + "a b=" + zw + ">", "&lt;a b=&gt;"},
		{"entities", "&amp; &lt;b&gt; &copy;", "& <" + zw + "b" + zw + "> ©", "&amp; &lt;b&gt; ©"},
		{"backslash escapes", `\*not em\* and \<b\>`, zw + "*not em" + zw + "* and <" + zw + "b" + zw + ">", "*not em* and &lt;b&gt;"},
		{"comment", "a <!-- hidden --> b", "a  b", "a  b"},
		{"multiline comment", "a\n<!-- one\ntwo -->\nb", "a\nb", "a<br>b"},
		{"heading", "# Title\n## Sub **x** ##\n#hashtag", "*Title*\n*Sub x*\n#hashtag", "<b>Title</b><br><b>Sub <b>x</b></b><br>#hashtag"},
		{"setext", "Title\n=====\nSub\n---", "*Title*\n*Sub*", "<b>Title</b><br><b>Sub</b>"},
		{"thematic break", "a\n\n***\n\nb", "a\n\nb", "a<br><br>b"},
		{"lists", "- one\n* two\n  - nested\n1. first\n2) second\n- [ ] todo\n- [x] done", "• one\n• two\n  ◦ nested\n1. first\n2. second\n☐ todo\n☑ done", "• one<br>• two<br>&nbsp;&nbsp;◦ nested<br>1. first<br>2. second<br>☐ todo<br>☑ done"},
		{"not a list", "-1 degrees\n2024.05 release", zw + "-1 degrees\n2024.05 release", "-1 degrees<br>2024.05 release"},
		{"quote", "> quoted **text**\n> > deeper", "> quoted *text*\n> deeper", "&gt; quoted <b>text</b><br>&gt; deeper"},
		{"fence", "```go\nx := `a` // *b*\n```\nafter", "```\nx := `a` // *b*\n```\nafter", "<pre><code>x := `a` // *b*</code></pre><br>after"},
		{"tilde fence", "~~~\n```\n~~~", "```\n``" + zw + "`\n```", "<pre><code>```</code></pre>"},
		{"unclosed fence", "```\ncode <x>", "```\ncode <x>\n```", "<pre><code>code &lt;x&gt;</code></pre>"},
		{"table", "| a | b |\n|---|:-:|\n| 1 | 2 |", "| a | b |\n| 1 | 2 |", "| a | b |<br>| 1 | 2 |"},
		{"blank lines collapse", "\n\na\n\n\n\nb\n\n", "a\n\nb", "a<br><br>b"},
		{"crlf", "a\r\nb\rc", "a\nb\nc", "a<br>b<br>c"},
		{"hard break backslash", "a\\\nb", "a\nb", "a<br>b"},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := markdown(tc.in, mdChat); got != tc.chat {
				t.Errorf("md(%q)\n got %q\nwant %q", tc.in, got, tc.chat)
			}
			if got := markdown(tc.in, mdHTML); got != tc.html {
				t.Errorf("mdcard(%q)\n got %q\nwant %q", tc.in, got, tc.html)
			}
		})
	}
}

func TestMarkdownCut(t *testing.T) {
	in := strings.Repeat("é", maxMarkdown) // 2 bytes each: cut in half
	got := markdown(in, mdChat)
	if !strings.HasSuffix(got, "…") || len(got) > maxMarkdown+len("…") {
		t.Errorf("len %d, suffix %q; want at most %d bytes ending in …", len(got), got[len(got)-5:], maxMarkdown+3)
	}
}

// TestMarkdownLinear feeds inputs that would be quadratic for naive
// matching: they must finish quickly (the test has no timing assertion; a
// quadratic implementation makes it time out).
func TestMarkdownLinear(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("[a](", 16000),
		strings.Repeat("[", 60000),
		strings.Repeat("<a ", 20000),
		strings.Repeat("`", 1) + strings.Repeat("``x", 20000),
		strings.Repeat("*a _b ", 10000),
		strings.Repeat("![", 30000) + strings.Repeat("](u)", 10000),
		strings.Repeat("[x](y \"", 9000),
	} {
		_ = markdown(in, mdChat)
		_ = markdown(in, mdHTML)
	}
}
