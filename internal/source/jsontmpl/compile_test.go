package jsontmpl

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompileProblems(t *testing.T) {
	spec := Spec{
		When:      `{{ .action`,
		Text:      `{{ mdcard .body }} {{ nosuch .x }}`,
		ThreadKey: `{{ escape .id }}`,
		DedupKey:  `{{define "x"}}a{{end}}{{template "x"}}`,
		Card: &CardSpec{
			Title:    `{{ md .title }}`,
			Subtitle: `{{ link .a .b }}{{ link .c .d }}`, // reported once
			Sections: []SectionSpec{
				{Header: `{{ (md .x) }}`, Widgets: []WidgetSpec{
					{Text: `ok {{ .x | mdcard }}`},
					{},
					{Text: "a", Divider: true, Image: &ImageSpec{}},
					{Buttons: []ButtonSpec{{Text: "Open", URL: `{{ .url }`}, {}}},
					{Decorated: &DecoratedSpec{Label: "x"}},
				}},
				{When: `{{ template "card.title" . }}`},
			},
		},
	}
	_, err := Compile(spec)
	var got Problems
	if !errors.As(err, &got) {
		t.Fatalf("Compile: %v, want Problems", err)
	}
	want := Problems{
		{"when", "template: unclosed action (line 1)"},
		{"text", `template: function "nosuch" not defined (line 1)`},
		{"thread_key", textOnly["escape"]},
		{"dedup_key", "{{define}} and {{block}} are not supported: each field is one template"},
		{"card.title", textOnly["md"]},
		{"card.subtitle", textOnly["link"]},
		{"card.sections[0].header", textOnly["md"]},
		{"card.sections[0].widgets[1]", "the widget sets none of text, decorated, buttons, image and divider; set one"},
		{"card.sections[0].widgets[2].image.url", "required"},
		{"card.sections[0].widgets[2]", "the widget sets text and image and divider; set only one"},
		{"card.sections[0].widgets[3].buttons[0].url", `template: unexpected "}" in operand (line 1)`},
		{"card.sections[0].widgets[3].buttons[1].text", "required"},
		{"card.sections[0].widgets[3].buttons[1].url", "required"},
		{"card.sections[0].widgets[4].decorated.text", "required"},
		{"card.sections[1].when", "{{template}} is not supported: each field is one template"},
		{"card.sections[1].widgets", "a section needs at least one widget"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\nall:\n%v", diff, err)
	}
}

func TestCompileMdcardInText(t *testing.T) {
	_, err := Compile(Spec{Text: `{{ mdcard .body }}`})
	want := "text: " + htmlOnly["mdcard"]
	if err == nil || err.Error() != want {
		t.Errorf("Compile: %v, want %q", err, want)
	}
}

func TestCompileNothingToPost(t *testing.T) {
	for _, spec := range []Spec{{}, {Text: "  ", ThreadKey: "k"}, {Card: &CardSpec{}}} {
		_, err := Compile(spec)
		if err == nil {
			t.Errorf("Compile(%+v) succeeded, want an error", spec)
		}
	}
}

func TestProblemsError(t *testing.T) {
	ps := Problems{{"text", "bad"}, {"", "empty"}}
	if got, want := ps.Error(), "text: bad\nempty"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestCompileDoesNotLeak checks that fields are separate templates: a field
// cannot call another, and a name used in two fields is fine.
func TestCompileSeparateFields(t *testing.T) {
	tmpl, err := Compile(Spec{Text: `{{ $x := 1 }}{{ $x }}`, ThreadKey: `{{ $x := 2 }}{{ $x }}`})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tmpl.Execute([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Text != "1" || r.ThreadKey != "2" {
		t.Errorf("got %q, %q; want 1, 2", r.Message.Text, r.ThreadKey)
	}
}
