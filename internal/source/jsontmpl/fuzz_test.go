package jsontmpl

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gchatkit/gchat/card"
)

// checkResult fails unless err is ErrSkip or non-empty Problems whose
// messages say something, or the result's message passes Check.
func checkResult(t *testing.T, r Result, err error, input []byte) {
	t.Helper()
	if err != nil {
		if err == ErrSkip {
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error %v (%T) is not Problems\ninput: %q", err, err, input)
		}
		for _, p := range ps {
			if p.Msg == "" {
				t.Fatalf("problem at %q without message\ninput: %q", p.Path, input)
			}
		}
		return
	}
	if err := r.Message.Check().Err(); err != nil {
		t.Fatalf("Execute returned a message Check refuses: %v\ninput: %q", err, input)
	}
	if utf8.RuneCountInString(r.ThreadKey) > maxThreadKey {
		t.Fatalf("thread key of %d characters\ninput: %q", utf8.RuneCountInString(r.ThreadKey), input)
	}
}

// FuzzExecute runs random payloads through the sample specs: Execute must
// not panic, and must return ErrSkip, clear problems, or a message Google
// would accept. Seeds are the sample payloads.
func FuzzExecute(f *testing.F) {
	tmpls := make([]*Template, len(examples))
	for i, ex := range examples {
		t, err := Compile(ex.spec)
		if err != nil {
			f.Fatal(err)
		}
		tmpls[i] = t
		f.Add(readFile(f, ex.name+".json"))
	}
	f.Add([]byte(`{"action":"opened","issue":{"title":"<users/all>","body":"**x** <!-- y","labels":[null,{"name":"*"}]}}`))
	f.Add([]byte(`{"object_attributes":{"status":"failed","url":"javascript:x"},"builds":[{"status":"failed"}]}`))
	f.Add([]byte(`{"heartbeat":{"status":0,"time":1e400},"monitor":{"url":"https://x"}}`))
	f.Add([]byte(`[`))

	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, tmpl := range tmpls {
			r, err := tmpl.Execute(payload)
			checkResult(t, r, err, payload)
		}
	})
}

// fuzzPayload is what FuzzCompile's templates run over.
const fuzzPayload = `{"s": "a_b <users/all>", "n": 3, "f": 1.5, "l": [1, "x", null, {"k": "v"}], "o": {"k": "v"}, "t": true, "md": "**b** [l](https://x.example)"}`

// FuzzCompile puts a random template in each kind of field: Compile must not
// panic, and what compiles must run over a fixed payload without panicking,
// returning problems or a message Check accepts.
func FuzzCompile(f *testing.F) {
	for _, ex := range examples {
		f.Add(ex.spec.Text)
		if c := ex.spec.Card; c != nil {
			f.Add(c.Title)
			for _, s := range c.Sections {
				for _, w := range s.Widgets {
					f.Add(w.Text)
					if w.Decorated != nil {
						f.Add(w.Decorated.Text)
					}
				}
			}
		}
	}
	for _, s := range []string{
		`{{ .s }}`, `{{ range .l }}{{ . }}{{ end }}`, `{{ range 100000000 }}x{{ end }}`, `{{ md .md }}`, `{{ mdcard .md }}`,
		`{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`, `{{ printf "%*d" 1 2 }}`, `{{ .s.x.y }}`,
		`{{ $x := .l }}{{ range $x }}{{ range $x }}{{ $ }}{{ end }}{{ end }}`, `{{ break }}`, `{{ call .s }}`,
		`{{ slice .s 1 }}`, `{{ index .o "k" }}`, `{{ block "b" . }}x{{ end }}`, `{{ _emit_text .s }}`, `{{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		specs := []Spec{
			{Text: src},
			{Text: "t", ThreadKey: src, DedupKey: src, When: src},
			{Card: &CardSpec{Title: src, Subtitle: src, ImageURL: src, Sections: []SectionSpec{{
				When: src, Header: src, Widgets: []WidgetSpec{
					{Text: src},
					{Decorated: &DecoratedSpec{Label: src, Text: src}},
					{Buttons: []ButtonSpec{{Text: src, URL: src}}},
					{Image: &ImageSpec{URL: src, Alt: src}},
				},
			}}}},
		}
		for _, spec := range specs {
			tmpl, err := Compile(spec)
			if err != nil {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) == 0 || ps[0].Msg == "" {
					t.Fatalf("Compile error %v is not Problems\nsrc: %q", err, src)
				}
				continue
			}
			r, err := tmpl.Execute([]byte(fuzzPayload))
			checkResult(t, r, err, []byte(src))
		}
	})
}

// FuzzMarkdown checks md and mdcard on random input:
//
//   - they never panic and always return valid UTF-8 for valid input;
//   - the output is bounded: Chat text at most 4 bytes per input byte (the
//     worst is a lone markup character, which gains a 3-byte escape), card
//     HTML at most 12 (a bare URL of "&"s appears twice, "&amp;" each time),
//     plus a constant;
//   - card HTML has nothing the card checker would warn about: every tag is
//     in the subset and every < and & is escaped or starts an entity;
//   - the output has no blank at either end and never two blank lines in a
//     row, so md of a body pasted with extra blank lines reads the same;
//   - input without markup or special characters (ASCII letters and digits,
//     commas, single blanks within lines, single newlines) is a fixed point:
//     md returns it unchanged, as does mdcard with newlines as <br>. Periods
//     are left out: "1." starts a list item;
//   - without backticks in the input (code is shown as written), the Chat
//     output never holds a mention: "<users/" can only come from markup the
//     input does not make.
func FuzzMarkdown(f *testing.F) {
	for _, ex := range []string{"github-issues", "github-pull-request"} {
		f.Add(string(readFile(f, ex+".json")))
	}
	for _, s := range []string{
		"# T\n\n**a** _b_ ~~c~~ `d` [e](https://e.example) ![f](https://f.example/i.png)\n- [ ] g\n> h\n```\ni\n```",
		"<users/all> <br> <img src=x> <!-- c --> &amp; \\* http://a.b/c_d.",
		"***a**b*", "[a](b \"c\")", "~~~\n```", "a\r\nb", "<a href='x'>", "&#x27;&#0;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		chat := markdown(in, mdChat)
		html := markdown(in, mdHTML)
		if utf8.ValidString(in) && (!utf8.ValidString(chat) || !utf8.ValidString(html)) {
			t.Fatalf("invalid UTF-8 out of valid input %q", in)
		}
		n := min(len(in), maxMarkdown)
		if len(chat) > 4*n+64 {
			t.Fatalf("md: %d bytes out of %d: %q", len(chat), len(in), in)
		}
		if len(html) > 12*n+64 {
			t.Fatalf("mdcard: %d bytes out of %d: %q", len(html), len(in), in)
		}
		if html != "" {
			c := card.New("", card.NewSection("", card.Text(html)))
			for _, p := range c.Check("") {
				if strings.Contains(p.Message, "has no text") {
					continue // blank HTML, such as a lone <br>
				}
				t.Fatalf("mdcard(%q) = %q: %v", in, html, p)
			}
		}
		for _, out := range []string{chat, strings.ReplaceAll(html, "<br>", "\n")} {
			if out != strings.TrimSpace(out) && !strings.HasSuffix(out, "</code></pre>") {
				t.Fatalf("blank at an end: %q from %q", out, in)
			}
			if strings.Contains(out, "\n\n\n") && !strings.Contains(in, "```") && !strings.Contains(in, "~~~") {
				t.Fatalf("two blank lines in a row: %q from %q", out, in)
			}
		}
		if plainText(in) {
			want := strings.TrimSpace(in)
			if chat != want || html != strings.ReplaceAll(want, "\n", "<br>") {
				t.Fatalf("plain %q changed: md %q, mdcard %q", in, chat, html)
			}
		}
		if !strings.Contains(in, "`") && strings.Contains(chat, "<users/") {
			t.Fatalf("md(%q) = %q makes a mention", in, chat)
		}
	})
}

// plainText reports whether s holds only ASCII letters and digits, commas,
// single blanks inside lines and single newlines between non-blank lines:
// text Markdown leaves alone.
func plainText(s string) bool {
	if strings.TrimSpace(s) == "" || strings.Contains(s, "\n\n") {
		return false
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) != line || line == "" || strings.Contains(line, "  ") {
			return false
		}
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == ' ' || r == '\n' || r == ',') {
			return false
		}
	}
	return true
}
