package card_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

// one wraps widgets in a valid one-card message.
func one(widgets ...*card.Widget) []card.CardWithID {
	return []card.CardWithID{{Card: card.New("t", card.NewSection("", widgets...))}}
}

// withClick returns a button list whose one button does o.
func withClick(o *card.OnClick) *card.Widget {
	return card.Buttons(&card.Button{Text: "b", OnClick: o})
}

// many returns n text widgets.
func many(n int) []*card.Widget {
	ws := make([]*card.Widget, n)
	for i := range ws {
		ws[i] = card.Text("x")
	}
	return ws
}

// want is one expected problem: where, how bad, and a fragment of the message.
type want struct {
	path     string
	severity card.Severity
	msg      string
}

const (
	w0  = "cardsV2[0].card.sections[0].widgets[0]"
	btn = w0 + ".buttonList.buttons[0]"
)

func TestCheck(t *testing.T) {
	raw := json.RawMessage(`{"name":"x"}`)
	tests := []struct {
		name  string
		cards []card.CardWithID
		want  []want
	}{
		// Errors.
		{"empty card", []card.CardWithID{{}},
			[]want{{"cardsV2[0].card", card.Error, "card is empty"}}},
		{"only empty sections", []card.CardWithID{{Card: card.Card{Sections: []*card.Section{{Header: "h"}}}}},
			[]want{
				{"cardsV2[0].card.sections[0]", card.Error, "section has no widgets"},
				{"cardsV2[0].card", card.Error, "card is empty"},
			}},
		{"section without widgets", []card.CardWithID{{Card: card.New("t", card.NewSection("", card.Text("a")), card.NewSection("empty"))}},
			[]want{{"cardsV2[0].card.sections[1]", card.Error, "section has no widgets"}}},
		{"null section", []card.CardWithID{{Card: card.New("t", nil)}},
			[]want{{"cardsV2[0].card.sections[0]", card.Error, "section has no widgets"}}},
		{"header without title", []card.CardWithID{{Card: card.Card{Header: &card.Header{Subtitle: "s"}, Sections: []*card.Section{card.NewSection("", card.Text("a"))}}}},
			[]want{{"cardsV2[0].card.header.title", card.Error, "no title"}}},
		{"widget without kind", one(&card.Widget{HorizontalAlignment: card.HorizontalCenter}),
			[]want{{w0, card.Error, "sets no kind"}}},
		{"null widget", one(nil),
			[]want{{w0, card.Error, "widget is null"}}},
		{"widget with two kinds", one(&card.Widget{TextParagraph: &card.TextParagraph{Text: "a"}, Divider: &struct{}{}}),
			[]want{{w0, card.Error, "2 kinds (textParagraph, divider)"}}},
		{"empty textParagraph", one(card.Text(" ")),
			[]want{{w0 + ".textParagraph.text", card.Error, "textParagraph has no text"}}},
		{"empty decoratedText", one(card.Decorated("label", "")),
			[]want{{w0 + ".decoratedText.text", card.Error, "decoratedText has no text"}}},
		{"button without text or icon", one(card.Buttons(card.LinkButton("", "https://e.com"))),
			[]want{{btn, card.Error, "neither text nor icon"}}},
		{"button without onClick", one(card.Buttons(&card.Button{Text: "b"})),
			[]want{{btn + ".onClick", card.Error, "no onClick"}}},
		{"relative link", one(card.Buttons(card.LinkButton("b", "/runbook"))),
			[]want{{btn + ".onClick.openLink.url", card.Error, "not an absolute http or https URL"}}},
		{"javascript link", one(card.Buttons(card.LinkButton("b", "javascript:alert(1)"))),
			[]want{{btn + ".onClick.openLink.url", card.Error, "not an absolute"}}},
		{"link without host", one(card.Buttons(card.LinkButton("b", "https:///path"))),
			[]want{{btn + ".onClick.openLink.url", card.Error, "not an absolute"}}},
		{"unparsable link", one(card.Buttons(card.LinkButton("b", "https://e.com/%zz"))),
			[]want{{btn + ".onClick.openLink.url", card.Error, "does not parse"}}},
		{"empty link", one(card.Buttons(card.LinkButton("b", ""))),
			[]want{{btn + ".onClick.openLink.url", card.Error, "no url"}}},
		{"link on decoratedText", one(&card.Widget{DecoratedText: &card.DecoratedText{Text: "a", OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "e.com"}}}}),
			[]want{{w0 + ".decoratedText.onClick.openLink.url", card.Error, "not an absolute"}}},
		{"http header image", []card.CardWithID{{Card: card.Card{Header: &card.Header{Title: "t", ImageURL: "http://e.com/a.png"}}}},
			[]want{{"cardsV2[0].card.header.imageUrl", card.Error, "not an absolute https URL"}}},
		{"relative icon", one(&card.Widget{DecoratedText: &card.DecoratedText{Text: "a", StartIcon: &card.Icon{IconURL: "icon.png"}}}),
			[]want{{w0 + ".decoratedText.startIcon.iconUrl", card.Error, "not an absolute https URL"}}},
		{"button icon over http", one(card.Buttons(&card.Button{Icon: &card.Icon{IconURL: "http://e.com/i.png"}, OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "https://e.com"}}})),
			[]want{{btn + ".icon.iconUrl", card.Error, "not an absolute https URL"}}},
		{"data image", one(card.Picture("data:image/png;base64,AAAA", "")),
			[]want{{w0 + ".image.imageUrl", card.Error, "not an absolute https URL"}}},
		{"image without url", one(card.Picture("", "alt")),
			[]want{{w0 + ".image.imageUrl", card.Error, "no URL"}}},
		{"grid image over http", one(&card.Widget{Grid: &card.Grid{Items: []*card.GridItem{{}, {Image: &card.ImageComponent{ImageURI: "http://e.com/a.png"}}}}}),
			[]want{{w0 + ".grid.items[1].image.imageUri", card.Error, "not an absolute https URL"}}},
		{"card too large", one(card.Text(strings.Repeat("x", 32000))),
			[]want{{"cardsV2[0].card", card.Error, "Google accepts at most 32000"}}},
		{"action", one(withClick(&card.OnClick{Action: &card.Action{Function: "f"}})),
			[]want{{btn + ".onClick.action", card.Error, "webhook cannot serve"}}},
		{"dynamic link action", one(withClick(&card.OnClick{OpenDynamicLinkAction: &card.Action{Function: "f"}})),
			[]want{{btn + ".onClick.openDynamicLinkAction", card.Error, "webhook cannot"}}},
		{"onClick card", one(withClick(&card.OnClick{Card: raw})),
			[]want{{btn + ".onClick.card", card.Error, "webhook cannot serve"}}},
		{"overflow menu", one(&card.Widget{Image: &card.Image{ImageURL: "https://e.com/a.png", OnClick: &card.OnClick{OverflowMenu: raw}}}),
			[]want{{w0 + ".image.onClick.overflowMenu", card.Error, "webhook cannot serve"}}},
		{"textInput", one(&card.Widget{TextInput: raw}),
			[]want{{w0 + ".textInput", card.Error, "webhook cannot serve"}}},
		{"selectionInput", one(&card.Widget{SelectionInput: raw}),
			[]want{{w0 + ".selectionInput", card.Error, "webhook cannot serve"}}},
		{"dateTimePicker in a column", one(&card.Widget{Columns: &card.Columns{ColumnItems: []*card.Column{{Widgets: []*card.ColumnWidget{{DateTimePicker: raw}}}}}}),
			[]want{{w0 + ".columns.columnItems[0].widgets[0].dateTimePicker", card.Error, "webhook cannot serve"}}},
		{"switchControl", one(&card.Widget{DecoratedText: &card.DecoratedText{Text: "a", SwitchControl: raw}}),
			[]want{{w0 + ".decoratedText.switchControl", card.Error, "webhook cannot serve"}}},
		{"link in a carousel footer", one(&card.Widget{Carousel: &card.Carousel{CarouselCards: []*card.CarouselCard{{FooterWidgets: []*card.NestedWidget{{ButtonList: &card.ButtonList{Buttons: []*card.Button{card.LinkButton("b", "ftp://e.com")}}}}}}}}),
			[]want{{w0 + ".carousel.carouselCards[0].footerWidgets[0].buttonList.buttons[0].onClick.openLink.url", card.Error, "not an absolute"}}},
		{"chip action", one(&card.Widget{ChipList: &card.ChipList{Chips: []*card.Chip{{Label: "c", OnClick: &card.OnClick{Action: &card.Action{}}}}}}),
			[]want{{w0 + ".chipList.chips[0].onClick.action", card.Error, "webhook cannot serve"}}},
		{"duplicate cardId", []card.CardWithID{
			{CardID: "a", Card: card.New("1")}, {CardID: "b", Card: card.New("2")}, {CardID: "a", Card: card.New("3")},
		}, []want{{"cardsV2[2].cardId", card.Error, `"a" is already used by cardsV2[0]`}}},

		{"collapse button icon over http", []card.CardWithID{{Card: card.New("t", &card.Section{
			Widgets: many(1), Collapsible: true,
			CollapseControl: &card.CollapseControl{ExpandButton: &card.Button{Icon: &card.Icon{IconURL: "http://e.com/i.png"}}},
		})}}, []want{{"cardsV2[0].card.sections[0].collapseControl.expandButton.icon.iconUrl", card.Error, "not an absolute https URL"}}},

		// Warnings.
		{"over 100 widgets", []card.CardWithID{{Card: card.New("t",
			card.NewSection("", many(60)...), card.NewSection("", many(41)...), card.NewSection("", many(1)...))}},
			[]want{{"cardsV2[0].card.sections[1]", card.Warning, "102 widgets, more than Google's 100: Google drops sections[1] to sections[2] (42 widgets)"}}},
		{"unescaped <", one(card.Text("a < b")),
			[]want{{w0 + ".textParagraph.text", card.Warning, `unescaped "<" at byte 2`}}},
		{"unescaped &", one(card.Decorated("", "R&D & more")),
			[]want{{w0 + ".decoratedText.text", card.Warning, `unescaped "&" at byte 1 (and 1 more)`}}},
		{"tag outside the subset", one(card.Text("<div>x</div><script>y</script>")),
			[]want{
				{w0 + ".textParagraph.text", card.Warning, "tag <div> is not in"},
				{w0 + ".textParagraph.text", card.Warning, "tag <script> is not in"},
			}},
		{"attribute outside the subset", one(card.Text("if a<b && c>d")),
			[]want{
				{w0 + ".textParagraph.text", card.Warning, `attribute "&&"`},
				{w0 + ".textParagraph.text", card.Warning, `attribute "c"`},
			}},
		{"section header", []card.CardWithID{{Card: card.New("t", card.NewSection("Q&A", card.Text("a")))}},
			[]want{{"cardsV2[0].card.sections[0].header", card.Warning, `unescaped "&"`}}},
		{"three columns", one(&card.Widget{Columns: &card.Columns{ColumnItems: []*card.Column{{}, {}, {}}}}),
			[]want{{w0 + ".columns.columnItems", card.Warning, "at most 2"}}},

		// Fine.
		{"valid", one(card.Text(`<b>Hi</b> &amp; <a href="https://e.com">bye</a><br/>`), card.Divider()), nil},
		{"markdown is not HTML", one(&card.Widget{TextParagraph: &card.TextParagraph{Text: "a < b & c", TextSyntax: card.SyntaxMarkdown}}), nil},
		{"header only", []card.CardWithID{{Card: card.New("title only")}}, nil},
		{"exactly 100 widgets", []card.CardWithID{{Card: card.New("t", card.NewSection("", many(50)...), card.NewSection("", many(50)...))}}, nil},
		{"null interactive fields", one(&card.Widget{TextParagraph: &card.TextParagraph{Text: "a"}, TextInput: json.RawMessage("null")}), nil},
		{"icon button", one(card.Buttons(&card.Button{Icon: &card.Icon{KnownIcon: "STAR"}, OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "HTTPS://E.COM"}}})), nil},
		{"empty cardIds are the sender's to fill", []card.CardWithID{{Card: card.New("1")}, {Card: card.New("2")}}, nil},
		{"cardId of a single card", []card.CardWithID{{CardID: "x", Card: card.New("1")}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := card.Check(tt.cards, "cardsV2")
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tt.want), ps)
			}
			for i, p := range ps {
				w := tt.want[i]
				if p.Path != w.path || p.Severity != w.severity || !strings.Contains(p.Message, w.msg) {
					t.Errorf("got problem %d = %v (%v), want path %s, %v, message containing %q", i, p, p.Severity, w.path, w.severity, w.msg)
				}
			}
		})
	}
}

func TestCardCheckPath(t *testing.T) {
	c := card.New("t", card.NewSection("", card.Buttons(card.LinkButton("b", "/x"))))
	tests := []struct {
		path string
		want string
	}{
		{"", "sections[0].widgets[0].buttonList.buttons[0].onClick.openLink.url"},
		{"cardsV2[3].card", "cardsV2[3].card.sections[0].widgets[0].buttonList.buttons[0].onClick.openLink.url"},
	}
	for _, tt := range tests {
		ps := c.Check(tt.path)
		if len(ps) != 1 || ps[0].Path != tt.want {
			t.Errorf("Check(%q) = %v, want one problem at %s", tt.path, ps, tt.want)
		}
	}
}

func TestProblems(t *testing.T) {
	ps := card.Problems{
		{Path: "cardsV2[0].card.sections[0]", Severity: card.Error, Message: "section has no widgets"},
		{Path: "cardsV2[0].card.sections[1].header", Severity: card.Warning, Message: "unescaped"},
		{Path: "cardsV2[1].cardId", Severity: card.Error, Message: "duplicate"},
	}
	if got, want := ps[0].String(), "cardsV2[0].card.sections[0]: section has no widgets"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := ps[1].String(), "cardsV2[0].card.sections[1].header: warning: unescaped"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := (card.Problem{Message: "m"}).String(), "m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if diff := cmp.Diff(card.Problems{ps[0], ps[2]}, ps.Errors()); diff != "" {
		t.Errorf("Errors mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(card.Problems{ps[1]}, ps.Warnings()); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}

	err := ps.Err()
	want := "cardsV2[0].card.sections[0]: section has no widgets\ncardsV2[1].cardId: duplicate"
	if err == nil || err.Error() != want {
		t.Errorf("got Err() = %v, want %q", err, want)
	}
	var got card.Problems
	if !errors.As(err, &got) || len(got) != 2 {
		t.Errorf("errors.As: got %v, want the two errors", got)
	}
	if err := ps.Warnings().Err(); err != nil {
		t.Errorf("got Err() = %v for warnings only, want nil", err)
	}
	if err := card.Problems(nil).Err(); err != nil {
		t.Errorf("got Err() = %v for no problems, want nil", err)
	}
	if got, want := card.Warning.String(), "warning"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
