package card_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCards are representative webhook cards, built with the constructors where
// they reach and struct literals elsewhere. Each is pinned in testdata/<cardId>.json.
func goldenCards() []card.CardWithID {
	alpha := 0.5
	return []card.CardWithID{
		{CardID: "text", Card: card.New("Build #42",
			card.NewSection("", card.Text("<b>passed</b> in 3m &amp; 2s")),
		)},
		{CardID: "alert", Card: card.Card{
			Header: &card.Header{
				Title:        "High latency",
				Subtitle:     "checkout-api",
				ImageURL:     "https://example.com/alert.png",
				ImageType:    card.ImageCircle,
				ImageAltText: "alert icon",
			},
			SectionDividerStyle: card.SolidDivider,
			Sections: []*card.Section{
				card.NewSection("Details <i>(p99)</i>",
					card.Decorated("Service", "checkout-api"),
					&card.Widget{DecoratedText: &card.DecoratedText{
						TopLabel:    "Latency",
						Text:        `<font color="#d93025">2.4 s</font>`,
						BottomLabel: "threshold 1 s",
						StartIcon:   &card.Icon{KnownIcon: "CLOCK"},
						EndIcon:     &card.Icon{MaterialIcon: &card.MaterialIcon{Name: "trending_up", Fill: true, Weight: 400, Grade: 200}},
						WrapText:    true,
						Button:      card.LinkButton("Graph", "https://example.com/graph"),
					}},
					card.Divider(),
					card.Picture("https://example.com/graph.png", "latency graph"),
				),
				{
					Header:                    "Actions",
					Collapsible:               true,
					UncollapsibleWidgetsCount: 1,
					Widgets: []*card.Widget{
						card.Buttons(
							card.LinkButton("Runbook", "https://example.com/runbook"),
							&card.Button{
								Text:    "Silence",
								Icon:    &card.Icon{IconURL: "https://example.com/mute.png", AltText: "mute"},
								Color:   &card.Color{Red: 0.85, Green: 0.19, Blue: 0.15, Alpha: &alpha},
								Type:    card.ButtonFilled,
								AltText: "Silence for 1 hour",
								OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "https://example.com/silence?h=1", OpenAs: card.OpenFullSize, OnClose: card.OnCloseNothing}},
							},
							&card.Button{Text: "Disabled", Type: card.ButtonOutlined, Disabled: true,
								OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "http://example.com/"}}},
						),
						card.Text("<ul><li>one</li><li>two</li></ul>"),
					},
				},
			},
		}},
		{CardID: "layout", Card: card.New("Layout",
			card.NewSection("",
				&card.Widget{HorizontalAlignment: card.HorizontalCenter, Columns: &card.Columns{ColumnItems: []*card.Column{
					{
						HorizontalSizeStyle: card.FillAvailableSpace,
						HorizontalAlignment: card.HorizontalStart,
						VerticalAlignment:   card.VerticalCenter,
						Widgets: []*card.ColumnWidget{
							{TextParagraph: &card.TextParagraph{Text: "left", MaxLines: 2}},
							{Image: &card.Image{ImageURL: "https://example.com/left.png", AltText: "left"}},
						},
					},
					{
						HorizontalSizeStyle: card.FillMinimumSpace,
						Widgets: []*card.ColumnWidget{
							{DecoratedText: &card.DecoratedText{Text: "right"}},
							{ChipList: &card.ChipList{Chips: []*card.Chip{{Label: "chip"}}}},
						},
					},
				}}},
				&card.Widget{Grid: &card.Grid{
					Title:       "Grid",
					ColumnCount: 2,
					BorderStyle: &card.BorderStyle{Type: card.BorderStroke, StrokeColor: &card.Color{Blue: 1}, CornerRadius: 4},
					Items: []*card.GridItem{
						{ID: "a", Title: "A", Subtitle: "first", Layout: card.TextBelow, Image: &card.ImageComponent{
							ImageURI:  "https://example.com/a.png",
							AltText:   "a",
							CropStyle: &card.CropStyle{Type: card.CropRectangleCustom, AspectRatio: 1.5},
						}},
						{ID: "b", Title: "B"},
					},
					OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "https://example.com/grid"}},
				}},
				&card.Widget{ChipList: &card.ChipList{Layout: card.ChipsWrapped, Chips: []*card.Chip{
					{Label: "docs", Icon: &card.Icon{KnownIcon: "DESCRIPTION"}, AltText: "documentation",
						OnClick: &card.OnClick{OpenLink: &card.OpenLink{URL: "https://example.com/docs"}}},
					{Label: "off", Disabled: true},
				}}},
				&card.Widget{Carousel: &card.Carousel{CarouselCards: []*card.CarouselCard{{
					Widgets:       []*card.NestedWidget{{TextParagraph: &card.TextParagraph{Text: "slide 1", TextSyntax: card.SyntaxMarkdown}}},
					FooterWidgets: []*card.NestedWidget{{ButtonList: &card.ButtonList{Buttons: []*card.Button{card.LinkButton("more", "https://example.com/1")}}}},
				}}}},
			),
		)},
	}
}

// encode is the wire encoding plus indentation: no HTML escaping, so that card
// HTML stays readable in the golden files.
func encode(tb testing.TB, v any) []byte {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, cw := range goldenCards() {
		t.Run(cw.CardID, func(t *testing.T) {
			path := filepath.Join("testdata", cw.CardID+".json")
			got := encode(t, cw)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("JSON mismatch (-want +got):\n%s", diff)
			}

			// The golden card is sendable as is.
			if ps := card.Check([]card.CardWithID{cw}, "cardsV2"); len(ps) != 0 {
				t.Errorf("got problems %v, want none", ps)
			}

			// Decoding the file gives back the card.
			var back card.CardWithID
			if err := json.Unmarshal(want, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(cw, back); diff != "" {
				t.Errorf("decoded card mismatch (-built +decoded):\n%s", diff)
			}
		})
	}
}

func TestConstructors(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"New", card.New("t"), `{"header":{"title":"t"}}`},
		{"New/no title", card.New("", card.NewSection("h")), `{"sections":[{"header":"h"}]}`},
		{"Text", card.Text("a<br>b"), `{"textParagraph":{"text":"a<br>b"}}`},
		{"Decorated", card.Decorated("", "x"), `{"decoratedText":{"text":"x"}}`},
		{"LinkButton", card.LinkButton("go", "https://e.com"), `{"text":"go","onClick":{"openLink":{"url":"https://e.com"}}}`},
		{"Buttons", card.Buttons(), `{"buttonList":{}}`},
		{"Picture", card.Picture("https://e.com/a.png", ""), `{"image":{"imageUrl":"https://e.com/a.png"}}`},
		{"Divider", card.Divider(), `{"divider":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(bytes.TrimSpace(encode(t, tt.got)))
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(got)); err != nil {
				t.Fatal(err)
			}
			if compact.String() != tt.want {
				t.Errorf("got %s, want %s", compact.String(), tt.want)
			}
		})
	}
}
