package gchat

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

const z = "\u200b" // Escape's zero width space, spelled out in expectations

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "disk full on db-1", "disk full on db-1"},
		{"html stays", `a & b "c" d'e`, `a & b "c" d'e`},
		{"metric", "node_filesystem_avail_bytes", "node" + z + "_filesystem" + z + "_avail" + z + "_bytes"},
		{"bold", "*x*", z + "*x" + z + "*"},
		{"strike", "~/bin ~x~", z + "~/bin " + z + "~x" + z + "~"},
		{"code", "`go test`", z + "`go test" + z + "`"},
		{"fence", "```", z + "`" + z + "`" + z + "`"},
		{"mention", "<users/all>", "<" + z + "users/all" + z + ">"},
		{"link", "<https://x|y>", "<" + z + "https://x|y" + z + ">"},
		{"quote", "> hi", z + "> hi"},
		{"bullet dash", "- a\n  - b\nc - d", z + "- a\n  " + z + "- b\nc - d"},
		{"bullet star", "* a", z + "* a"},
		{"dash inside line", "a-b -c", "a-b -c"},
		{"zwsp doubled", "a" + z + "b", "a" + z + z + "b"},
		{"lt then zwsp", "<" + z, "<" + z + z + z},
		{"invalid utf8 kept", "a\xffb_", "a\xffb" + z + "_"},
		{"emoji", "👍 *ok*", "👍 " + z + "*ok" + z + "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Unescape(Escape(tt.in)); got != tt.in {
				t.Errorf("Unescape(Escape(%q)) = %q, want the input", tt.in, got)
			}
		})
	}
}

// markupIn returns the first construct of Chat's text markup that a
// conservative reader would find in s, or "". Chat's rules are not
// documented (docs/google-chat.md §3.1), so it reads marks as most light-markup dialects do:
// an opening * _ ~ or ` needs a word boundary before it and text after it, a
// closing one text before it and a boundary after it. zwspIsSpace says how
// U+200B is classified; Escape must hold up either way.
func markupIn(s string, zwspIsSpace bool) string {
	isSpace := func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' && zwspIsSpace
	}
	boundary := func(r rune, ok bool) bool { // ok is false at either end of s
		return !ok || isSpace(r) || r != '\u200b' && unicode.IsPunct(r)
	}
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(l, "* ") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, ">") {
			return "line " + line
		}
	}
	if strings.Contains(s, "```") {
		return "fence"
	}
	runes := []rune(s)
	at := func(i int) (rune, bool) {
		if i < 0 || i >= len(runes) {
			return 0, false
		}
		return runes[i], true
	}
	opener := map[rune]int{} // earliest opening mark of each kind
	for i, r := range runes {
		if r == '<' {
			if next, ok := at(i + 1); ok && next != '\u200b' {
				return "angle " + string(runes[i:])
			}
		}
		if !strings.ContainsRune("*_~`", r) {
			continue
		}
		prev, pok := at(i - 1)
		next, nok := at(i + 1)
		if o, seen := opener[r]; seen && o <= i-2 && !isSpace(prev) && boundary(next, nok) {
			return "pair " + string(runes[o:i+1])
		}
		if _, seen := opener[r]; !seen && boundary(prev, pok) && nok && !isSpace(next) {
			opener[r] = i
		}
	}
	return ""
}

func TestMarkupModel(t *testing.T) {
	// The model must see the markup Escape is meant to defuse.
	for _, s := range []string{"*b*", "a _i_ b", "~s~", "`c`", "```", "<users/all>", "<https://x|y>", "> q", "- b", "x\n* b"} {
		if markupIn(s, false) == "" || markupIn(s, true) == "" {
			t.Errorf("markupIn(%q) found nothing, want markup", s)
		}
	}
}

func TestEscapeLeavesNoMarkup(t *testing.T) {
	for _, s := range escapeSeeds() {
		e := Escape(s)
		for _, zs := range []bool{false, true} {
			if m := markupIn(e, zs); m != "" {
				t.Errorf("Escape(%q) = %q holds markup (U+200B as space: %v): %q", s, e, zs, m)
			}
		}
	}
}

func escapeSeeds() []string {
	return []string{
		"", "plain", "node_filesystem_avail_bytes", "*bold* _it_ ~st~ `code`",
		"```go\nfmt.Println()\n```", "<users/all> <users/123> <https://example.com|x>",
		"> quote\n- dash\n* star\n  - nested", "a * b * c", "**double** __u__", "x*y*z",
		"(*x*)", "\"*x*\"", z + "*" + z, "<" + z + ">", "~~~", "`` ` ``", "😀_😀_",
		"a\xff*\xfeb*", "\t-\t", "-", ">", "<", "*", "_a_", "end *",
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range escapeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if got := Unescape(e); got != s {
			t.Fatalf("Unescape(Escape(%q)) = %q, want the input", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) = %q is not valid UTF-8", s, e)
		}
		if len(e) > 4*len(s) {
			t.Fatalf("Escape(%q) is %d bytes, want at most 4 times %d", s, len(e), len(s))
		}
		if utf16Len(e) > 2*utf16Len(s) {
			t.Fatalf("Escape(%q) is %d UTF-16 units, want at most twice %d", s, utf16Len(e), utf16Len(s))
		}
		if strings.ContainsAny(e, "&") != strings.ContainsAny(s, "&") {
			t.Fatalf("Escape(%q) = %q changed the ampersands", s, e)
		}
		for _, zs := range []bool{false, true} {
			if m := markupIn(e, zs); m != "" {
				t.Fatalf("Escape(%q) = %q holds markup (U+200B as space: %v): %q", s, e, zs, m)
			}
		}
	})
}

func TestInlineMarks(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"bold", Bold, "hi", "*hi*"},
		{"bold spaces outside", Bold, "  hi there ", "  *hi there* "},
		{"bold blank", Bold, " ", " "},
		{"bold empty", Bold, "", ""},
		{"italic", Italic, "hi", "_hi_"},
		{"strike", Strike, "old", "~old~"},
		{"code", Code, "go test ./...", "`go test ./...`"},
		{"code with backtick", Code, "a`b", "`a\u02cbb`"},
		{"code keeps markup literal", Code, "*x*", "`*x*`"},
		{"code block", CodeBlock, "a\nb\n", "```\na\nb\n```"},
		{"code block with fence", CodeBlock, "x```y", "```\nx``" + z + "`y\n```"},
		{"quote", Quote, "a\nb", "> a\n> b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCodeBlockNeverClosesEarly(t *testing.T) {
	for _, s := range []string{"```", "````", "`````", "``````", "a```b````c"} {
		got := CodeBlock(s)
		inner := strings.TrimSuffix(strings.TrimPrefix(got, "```\n"), "\n```")
		if strings.Contains(inner, "```") {
			t.Errorf("CodeBlock(%q) = %q: a fence inside", s, got)
		}
		if strings.ReplaceAll(inner, z, "") != s {
			t.Errorf("CodeBlock(%q) = %q: content changed beyond zero width spaces", s, got)
		}
	}
}

func TestBullet(t *testing.T) {
	if got, want := Bullet("a", "b"), "* a\n* b"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Bullet(); got != "" {
		t.Errorf("Bullet() = %q, want empty", got)
	}
}

func TestLink(t *testing.T) {
	tests := []struct {
		url, label, want string
	}{
		{"https://example.com", "Example", "<https://example.com|Example>"},
		{"https://example.com", "", "<https://example.com>"},
		{"https://example.com", "  ", "<https://example.com>"},
		{"https://e.com/?a=1&b=2", "a & b", "<https://e.com/?a=1&b=2|a & b>"},
		{"https://e.com/a b|c>d", "x", "<https://e.com/a%20b%7Cc%3Ed|x>"},
		{"https://e.com", "a|b > c <d>", "<https://e.com|a\u2223b \u203a c \u2039d\u203a>"},
		{"https://e.com", "two\nlines", "<https://e.com|two lines>"},
	}
	for _, tt := range tests {
		if got := Link(tt.url, tt.label); got != tt.want {
			t.Errorf("Link(%q, %q) = %q, want %q", tt.url, tt.label, got, tt.want)
		}
	}
}

func TestMention(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "users/123456789012345678901", want: "<users/123456789012345678901>"},
		{in: "123456", want: "<users/123456>"},
		{in: "all", want: "<users/all>"},
		{in: "users/all", want: "<users/all>"},
		{in: " users/42 ", want: "<users/42>"},
		{in: "jane@example.com", wantErr: "e-mail"},
		{in: "users/jane@example.com", wantErr: "e-mail"},
		{in: "", wantErr: "numeric"},
		{in: "users/", wantErr: "numeric"},
		{in: "users/12a", wantErr: "numeric"},
		{in: "spaces/AAA", wantErr: "numeric"},
		{in: "users/all>", wantErr: "numeric"},
	}
	for _, tt := range tests {
		got, err := Mention(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Mention(%q) = %q, %v; want an error about %s", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Mention(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if got := MentionAll(); got != "<users/all>" {
		t.Errorf("MentionAll() = %q, want <users/all>", got)
	}
}
