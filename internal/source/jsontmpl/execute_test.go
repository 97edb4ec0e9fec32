package jsontmpl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

// execute compiles spec and renders payload.
func execute(t *testing.T, spec Spec, payload string) (Result, error) {
	t.Helper()
	tmpl, err := Compile(spec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return tmpl.Execute([]byte(payload))
}

// problems returns err's Problems, failing the test when it has none.
func problems(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("err = %v, want Problems", err)
	}
	for _, p := range ps {
		if p.Msg == "" {
			t.Errorf("problem at %q has no message", p.Path)
		}
	}
	return ps
}

const hostile = `{"v": "<users/all> *b* _i_ ~s~ ` + "`c`" + ` <b>x</b> & \"q\" 'a'", "url": "https://e.com/a_b?x=1&y=2", "spaced": "https://e.com/a b", "md": "**md** <users/all>"}`

func TestEscaping(t *testing.T) {
	r, err := execute(t, Spec{
		Text:      `{{ .v }}|{{ .url }}|{{ .spaced }}|{{ escape .v }}|{{ md .md }}|{{ raw "<users/all>" }}|*{{ .v }}*`,
		ThreadKey: `{{ .v }}`,
		Card: &CardSpec{
			Title: `{{ .v }}`,
			Sections: []SectionSpec{{
				Header: `<b>{{ .v }}</b>`,
				Widgets: []WidgetSpec{
					{Text: `<a href="{{ .url }}">{{ .v }}</a> {{ mdcard .md }} {{ raw "<i>r</i>" }}`},
					{Decorated: &DecoratedSpec{Label: `{{ .v }}`, Text: `{{ .v }}`}},
					{Buttons: []ButtonSpec{{Text: `{{ .v }}`, URL: `{{ .url }}`}}},
				},
			}},
		},
	}, hostile)
	if err != nil {
		t.Fatal(err)
	}
	chatEsc := "<" + zw + "users/all" + zw + "> " + zw + "*b" + zw + "* " + zw + "_i" + zw + "_ " + zw + "~s" + zw + "~ " + zw + "`c" + zw + "` <" + zw + "b" + zw + ">x<" + zw + "/b" + zw + "> & \"q\" 'a'"
	htmlEsc := `&lt;users/all&gt; *b* _i_ ~s~ ` + "`c`" + ` &lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; 'a'`
	plain := `<users/all> *b* _i_ ~s~ ` + "`c`" + ` <b>x</b> & "q" 'a'`
	wantText := strings.Join([]string{
		chatEsc,
		"https://e.com/a_b?x=1&y=2", // a bare URL stays a link
		"https://e.com/a b",         // not a URL: escaped, and nothing to escape
		chatEsc,                     // escape is not applied twice
		"*md* <" + zw + "users/all" + zw + ">",
		"<users/all>",
		"*" + chatEsc + "*",
	}, "|")
	if diff := cmp.Diff(wantText, r.Message.Text); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	c := r.Message.CardsV2[0].Card
	s := c.Sections[0]
	for _, tc := range []struct{ name, got, want string }{
		{"thread key", r.ThreadKey, plain},
		{"title", c.Header.Title, plain},
		{"header", s.Header, "<b>" + htmlEsc + "</b>"},
		{"text", s.Widgets[0].TextParagraph.Text, `<a href="https://e.com/a_b?x=1&amp;y=2">` + htmlEsc + `</a> <b>md</b> &lt;users/all&gt; <i>r</i>`},
		{"label", s.Widgets[1].DecoratedText.TopLabel, plain},
		{"decorated", s.Widgets[1].DecoratedText.Text, htmlEsc},
		{"button text", s.Widgets[2].ButtonList.Buttons[0].Text, plain},
		{"button url", s.Widgets[2].ButtonList.Buttons[0].OnClick.OpenLink.URL, "https://e.com/a_b?x=1&y=2"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
	if ps := r.Message.Check(); len(ps) > 0 {
		t.Errorf("Check: %v", ps)
	}
}

func TestMissingAndNull(t *testing.T) {
	r, err := execute(t, Spec{
		Text: `[{{ .gone }}][{{ .null }}][{{ .null.x.y }}][{{ .obj.gone.x }}][{{ index . "gone" }}][{{ index .list 1 }}][{{ with .null }}x{{ else }}none{{ end }}]`,
	}, `{"null": null, "obj": {}, "list": [1, null]}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[][][][][][][none]"; r.Message.Text != want {
		t.Errorf("text = %q, want %q", r.Message.Text, want)
	}
}

func TestTopLevelValues(t *testing.T) {
	for payload, want := range map[string]string{
		`[1, 2]`:    "12",
		`"a_b"`:     "a" + zw + "_b",
		`17`:        "17",
		` {"a":1} `: "1",
	} {
		src := `{{ range . }}{{ . }}{{ end }}`
		if !strings.HasPrefix(payload, "[") {
			src = `{{ if .a }}{{ .a }}{{ else }}{{ . }}{{ end }}`
			if !strings.HasPrefix(strings.TrimSpace(payload), "{") {
				src = `{{ . }}`
			}
		}
		r, err := execute(t, Spec{Text: src}, payload)
		if err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		if r.Message.Text != want {
			t.Errorf("%s: text = %q, want %q", payload, r.Message.Text, want)
		}
	}
}

func TestWhen(t *testing.T) {
	spec := Spec{
		When: `{{ .post }}`,
		Text: "t",
		Card: &CardSpec{Sections: []SectionSpec{
			{When: `{{ .a }}`, Widgets: []WidgetSpec{{Text: "a"}}},
			{Widgets: []WidgetSpec{
				{When: `{{ .b }}`, Text: "b"},
				{Text: "c"},
				{Buttons: []ButtonSpec{
					{When: `{{ .a }}`, Text: "x", URL: "https://x.example"},
					{Text: "y", URL: "https://y.example"},
				}},
			}},
		}},
	}
	for _, tc := range []struct {
		payload string
		skip    bool
		texts   []string
		buttons int
	}{
		{`{"post": true, "a": "yes", "b": [1]}`, false, []string{"a", "b", "c"}, 2},
		{`{"post": "x", "a": false, "b": []}`, false, []string{"c"}, 1},
		{`{"post": "FALSE", "a": true}`, true, nil, 0},
		{`{"post": " ", "a": true}`, true, nil, 0},
		{`{"a": true}`, true, nil, 0},
	} {
		r, err := execute(t, spec, tc.payload)
		if tc.skip {
			if err != ErrSkip {
				t.Errorf("%s: err = %v, want ErrSkip", tc.payload, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.payload, err)
		}
		var texts []string
		buttons := 0
		for _, s := range r.Message.CardsV2[0].Card.Sections {
			for _, w := range s.Widgets {
				if w.TextParagraph != nil {
					texts = append(texts, w.TextParagraph.Text)
				}
				if w.ButtonList != nil {
					buttons = len(w.ButtonList.Buttons)
				}
			}
		}
		if !cmp.Equal(texts, tc.texts) || buttons != tc.buttons {
			t.Errorf("%s: texts %q, %d buttons; want %q, %d", tc.payload, texts, buttons, tc.texts, tc.buttons)
		}
	}
}

func TestLeftOut(t *testing.T) {
	spec := Spec{Card: &CardSpec{
		Title: `{{ .title }}`,
		Sections: []SectionSpec{
			{Header: "all blank", Widgets: []WidgetSpec{
				{Text: `{{ .body }}`},
				{Decorated: &DecoratedSpec{Label: "L", Text: `{{ .body }}`}},
				{Image: &ImageSpec{URL: `{{ .img }}`}},
				{Buttons: []ButtonSpec{{Text: "x", URL: `{{ .url }}`}, {Text: `{{ .label }}`, URL: "https://x.example"}}},
			}},
			{Widgets: []WidgetSpec{{Divider: true}}},
		},
	}}
	r, err := execute(t, spec, `{"title": "T"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := card.New("T", card.NewSection("", card.Divider()))
	if diff := cmp.Diff(want, r.Message.CardsV2[0].Card); diff != "" {
		t.Errorf("card (-want +got):\n%s", diff)
	}

	// With no title either, the card is left out; with no text the message
	// is empty, which is an error.
	_, err = execute(t, Spec{Card: &CardSpec{Title: `{{ .title }}`, Sections: spec.Card.Sections[:1]}}, `{}`)
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Path != "" || !strings.Contains(ps[0].Msg, "the message is empty") {
		t.Errorf("problems = %v, want one: the message is empty", ps)
	}
}

// TestCheckPaths checks that what Google would refuse is reported at the
// spec field that made it, counting the sections, widgets and buttons that
// were left out.
func TestCheckPaths(t *testing.T) {
	spec := Spec{Card: &CardSpec{
		Subtitle: `{{ .s }}`,
		ImageURL: `{{ .http }}`,
		Sections: []SectionSpec{
			{When: "false", Widgets: []WidgetSpec{{Text: "gone"}}},
			{Widgets: []WidgetSpec{
				{Text: `{{ .missing }}`},
				{Image: &ImageSpec{URL: `{{ .http }}`}},
				{Buttons: []ButtonSpec{
					{When: "false", Text: "gone", URL: "x"},
					{Text: "ok", URL: "https://ok.example"},
					{Text: "bad", URL: `{{ .s }}`},
				}},
			}},
		},
	}}
	_, err := execute(t, spec, `{"s": "not a url", "http": "http://insecure.example/i.png"}`)
	got := problems(t, err)
	want := Problems{
		{"card.title", "header has no title; Google requires one"},
		{"card.image_url", `image url "http://insecure.example/i.png" is not an absolute https URL`},
		{"card.sections[1].widgets[1].image.url", `image url "http://insecure.example/i.png" is not an absolute https URL`},
		{"card.sections[1].widgets[2].buttons[2].url", `link url "not a url" is not an absolute http or https URL`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestPayloadErrors(t *testing.T) {
	tmpl, err := Compile(Spec{Text: "{{ .a }}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		payload []byte
		want    string
	}{
		{nil, "payload: empty; want a JSON document"},
		{[]byte(`{"a": 1,}`), "payload: invalid JSON at byte 9: invalid character '}' looking for beginning of object key string"},
		{[]byte(`{"a": 1`), "payload: invalid JSON at byte 7: unexpected end of input"},
		{[]byte(`{"a": 1} {"b": 2}`), "payload: invalid JSON at byte 10: more data after the document"},
		{[]byte(`{"a": 1} x`), "payload: invalid JSON at byte 10: more data after the document"},
		{make([]byte, MaxPayload+1), fmt.Sprintf("payload: %d bytes; at most %d are accepted", MaxPayload+1, MaxPayload)},
	} {
		_, err := tmpl.Execute(tc.payload)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Execute(%.20q) = %v, want %q", tc.payload, err, tc.want)
		}
	}
}

func TestExecErrorsListed(t *testing.T) {
	_, err := execute(t, Spec{
		Text:      `{{ .a.b }}`,
		ThreadKey: `{{ trunc 3 .a.b }}`,
		Card:      &CardSpec{Title: `{{ .a.b }}`, Sections: []SectionSpec{{Widgets: []WidgetSpec{{Text: `{{ index .list 5 }}`}}}}},
	}, `{"a": "string", "list": [1]}`)
	got := problems(t, err)
	want := Problems{
		{"text", "at <.a.b> (line 1, column 5): can't evaluate field b: the value before it is not an object"},
		{"thread_key", "at <.a.b> (line 1, column 13): can't evaluate field b: the value before it is not an object"},
		{"card.title", "at <.a.b> (line 1, column 5): can't evaluate field b: the value before it is not an object"},
		{"card.sections[0].widgets[0].text", "at <index .list 5> (line 1, column 3): index: index out of range: 5"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("x", 40<<10)
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 1000), ",") + "]"
	for _, tc := range []struct {
		name    string
		spec    Spec
		payload string
		want    Problems
	}{
		{"range of an int", Spec{Text: `{{ range 1000000000 }}{{ end }}`, ThreadKey: "{{ .x }}"}, `{}`,
			Problems{{"text", "the templates loop more than 100000 times for this payload"}}}, // thread_key is not run
		{"nested ranges", Spec{Text: `{{ range .l }}{{ range $.l }}{{ end }}{{ end }}`}, `{"l": ` + list + `}`,
			Problems{{"text", "the templates loop more than 100000 times for this payload"}}},
		{"field size", Spec{Text: `{{ .big }}{{ .big }}`}, `{"big": "` + big + `"}`,
			Problems{{"text", "renders more than 64 KiB for this payload"}}},
		{"field size, text nodes", Spec{Text: "{{ range .l }}" + strings.Repeat("y", 100) + "{{ end }}"}, `{"l": ` + list + `}`,
			Problems{{"text", "renders more than 64 KiB for this payload"}}},
		{"work", Spec{Text: `{{ range .l }}{{ if json $ }}{{ end }}{{ end }}`}, `{"big": "` + big + `", "l": ` + list + `}`,
			Problems{{"text", "the templates handle more than 16 MiB of text for this payload"}}},
		{"replace growth", Spec{Text: `{{ replace "" .big .big }}`}, `{"big": "` + big + `"}`,
			Problems{{"text", "the templates handle more than 16 MiB of text for this payload"}}},
		{"thread key", Spec{Text: "t", ThreadKey: `{{ .big }}`}, `{"big": "` + big[:4001] + `"}`,
			Problems{{"thread_key", "renders 4001 characters; Google accepts at most 4000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := execute(t, tc.spec, tc.payload)
			if diff := cmp.Diff(tc.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConcurrent runs one Template from many goroutines (under -race) and
// checks that budgets are per Execute: each run alone stays within them.
func TestConcurrent(t *testing.T) {
	tmpl, err := Compile(Spec{Text: `{{ range .l }}{{ . }}{{ end }}`})
	if err != nil {
		t.Fatal(err)
	}
	list := make([]int, maxSteps/2)
	payload, _ := json.Marshal(map[string]any{"l": list[:1000]})
	heavy, _ := json.Marshal(map[string]any{"l": list})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := payload
			if i%2 == 0 {
				p = heavy // 50,000 iterations each: over budget if shared
			}
			if _, err := tmpl.Execute(p); err != nil && !strings.Contains(err.Error(), "KiB") {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestResultHasNoThread(t *testing.T) {
	r, err := execute(t, Spec{Text: "t", ThreadKey: "k"}, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Message: gchat.Message{Text: "t"}, ThreadKey: "k"}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func ExampleCompile() {
	tmpl, err := Compile(Spec{
		Text:      `{{ link .url .title }} by {{ .user }}{{ with .body }}` + "\n" + `{{ md . }}{{ end }}`,
		ThreadKey: `demo/{{ .id }}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := tmpl.Execute([]byte(`{"id": 7, "url": "https://example.com/7", "title": "Fix <b> tags", "user": "octo_cat",
		"body": "**Done**, see [docs](https://example.com/docs)"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.ReplaceAll(r.Message.Text, "\u200b", "·")) // make the escapes visible
	fmt.Println(r.ThreadKey)
	// Output:
	// <https://example.com/7|Fix ‹b› tags> by octo·_cat
	// *Done*, see <https://example.com/docs|docs>
	// demo/7
}
