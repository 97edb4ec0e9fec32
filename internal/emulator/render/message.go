package render

import (
	"encoding/json"
	"html/template"
	"strings"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// Message renders a message as Chat shows it: its text, its cards and, for
// deprecated v1 cards, a simple fallback, in a div of class gc-message. The
// fallback text, which Chat shows only where cards cannot be (notifications),
// follows in a div of class gc-fallback that the page may hide.
func Message(m gchat.Message) template.HTML {
	var b strings.Builder
	b.WriteString(`<div class="gc-message">`)
	empty := true
	if m.Text != "" {
		b.WriteString(string(Text(m.Text)))
		empty = false
	}
	if len(m.CardsV2) > 0 {
		b.WriteString(string(Cards(m.CardsV2)))
		empty = false
	}
	if present(m.Cards) {
		writeCardsV1(&b, m.Cards)
		empty = false
	}
	if empty {
		b.WriteString(`<div class="gc-empty">(no text and no cards)</div>`)
	}
	if m.PreviewText != "" {
		// Chat does not show previewText (it feeds link previews); the page
		// shows it as a note, like fallbackText, so that it can be checked.
		b.WriteString(`<div class="gc-preview"><span class="gc-fallback-label">previewText</span> `)
		b.WriteString(esc(m.PreviewText))
		b.WriteString(`</div>`)
	}
	if m.FallbackText != "" {
		b.WriteString(`<div class="gc-fallback"><span class="gc-fallback-label">fallbackText</span> `)
		b.WriteString(esc(m.FallbackText))
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// Deprecated v1 cards (message.cards) are shown by converting them to the
// v2 model and rendering that, since Chat shows both in one card layout
// [guess: the v2 look for v1 widgets]: header title, subtitle and image
// (AVATAR as a circle), section headers, textParagraph, keyValue as
// decorated text, image, and textButton or imageButton as buttons. Card
// actions (the card's menu) are not shown. A note above the cards says they
// are v1; cards that do not decode leave only the note.

type cardV1 struct {
	Header *struct {
		Title      string `json:"title"`
		Subtitle   string `json:"subtitle"`
		ImageURL   string `json:"imageUrl"`
		ImageStyle string `json:"imageStyle"`
	} `json:"header"`
	Sections []*struct {
		Header  string      `json:"header"`
		Widgets []*widgetV1 `json:"widgets"`
	} `json:"sections"`
}

type widgetV1 struct {
	TextParagraph *struct {
		Text string `json:"text"`
	} `json:"textParagraph"`
	KeyValue *struct {
		TopLabel         string     `json:"topLabel"`
		Content          string     `json:"content"`
		ContentMultiline bool       `json:"contentMultiline"`
		BottomLabel      string     `json:"bottomLabel"`
		Icon             string     `json:"icon"`
		IconURL          string     `json:"iconUrl"`
		OnClick          *onClickV1 `json:"onClick"`
		Button           *buttonV1  `json:"button"`
	} `json:"keyValue"`
	Image *struct {
		ImageURL string     `json:"imageUrl"`
		OnClick  *onClickV1 `json:"onClick"`
	} `json:"image"`
	Buttons []*buttonV1 `json:"buttons"`
}

type buttonV1 struct {
	TextButton *struct {
		Text    string     `json:"text"`
		OnClick *onClickV1 `json:"onClick"`
	} `json:"textButton"`
	ImageButton *struct {
		Icon    string     `json:"icon"`
		IconURL string     `json:"iconUrl"`
		Name    string     `json:"name"`
		OnClick *onClickV1 `json:"onClick"`
	} `json:"imageButton"`
}

type onClickV1 struct {
	OpenLink *struct {
		URL string `json:"url"`
	} `json:"openLink"`
}

func (o *onClickV1) v2() *card.OnClick {
	if o == nil || o.OpenLink == nil {
		return nil
	}
	return &card.OnClick{OpenLink: &card.OpenLink{URL: o.OpenLink.URL}}
}

func iconV1(known, url string) *card.Icon {
	if known == "" && url == "" || known == "ICON_UNSPECIFIED" && url == "" {
		return nil
	}
	return &card.Icon{KnownIcon: known, IconURL: url}
}

func (b *buttonV1) v2() *card.Button {
	switch {
	case b == nil:
		return nil
	case b.TextButton != nil:
		return &card.Button{Text: b.TextButton.Text, OnClick: b.TextButton.OnClick.v2(), Type: card.ButtonBorderless}
	case b.ImageButton != nil:
		ib := b.ImageButton
		return &card.Button{Icon: iconV1(ib.Icon, ib.IconURL), AltText: ib.Name, OnClick: ib.OnClick.v2(), Type: card.ButtonBorderless}
	}
	return nil
}

// v2 converts a v1 card to the v2 model.
func (c *cardV1) v2() card.CardWithID {
	var out card.Card
	if h := c.Header; h != nil && (h.Title != "" || h.Subtitle != "" || h.ImageURL != "") {
		out.Header = &card.Header{Title: h.Title, Subtitle: h.Subtitle, ImageURL: h.ImageURL}
		if h.ImageStyle == "AVATAR" {
			out.Header.ImageType = card.ImageCircle
		}
	}
	for _, s := range c.Sections {
		if s == nil {
			continue
		}
		sec := &card.Section{Header: s.Header}
		for _, w := range s.Widgets {
			switch {
			case w == nil:
			case w.TextParagraph != nil:
				sec.Widgets = append(sec.Widgets, &card.Widget{TextParagraph: &card.TextParagraph{Text: w.TextParagraph.Text}})
			case w.KeyValue != nil:
				kv := w.KeyValue
				sec.Widgets = append(sec.Widgets, &card.Widget{DecoratedText: &card.DecoratedText{
					TopLabel: kv.TopLabel, Text: kv.Content, BottomLabel: kv.BottomLabel, WrapText: kv.ContentMultiline,
					StartIcon: iconV1(kv.Icon, kv.IconURL), OnClick: kv.OnClick.v2(), Button: kv.Button.v2(),
				}})
			case w.Image != nil:
				sec.Widgets = append(sec.Widgets, &card.Widget{Image: &card.Image{ImageURL: w.Image.ImageURL, OnClick: w.Image.OnClick.v2()}})
			case len(w.Buttons) > 0:
				bl := &card.ButtonList{}
				for _, b := range w.Buttons {
					if v := b.v2(); v != nil {
						bl.Buttons = append(bl.Buttons, v)
					}
				}
				sec.Widgets = append(sec.Widgets, &card.Widget{ButtonList: bl})
			}
		}
		out.Sections = append(out.Sections, sec)
	}
	return card.CardWithID{Card: out}
}

// writeCardsV1 writes deprecated v1 cards in the v2 layout, under a note
// saying that they are v1.
func writeCardsV1(b *strings.Builder, raw json.RawMessage) {
	var cards []*cardV1
	_ = json.Unmarshal(raw, &cards) // the note stands in for what does not decode
	b.WriteString(`<div class="gc-cards-v1">`)
	b.WriteString(`<div class="gc-v1-note">(deprecated cards v1)</div>`)
	v2 := make([]card.CardWithID, 0, len(cards))
	for _, c := range cards {
		if c != nil {
			v2 = append(v2, c.v2())
		}
	}
	b.WriteString(string(Cards(v2)))
	b.WriteString(`</div>`)
}
