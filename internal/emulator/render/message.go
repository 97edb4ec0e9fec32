package render

import (
	"encoding/json"
	"html/template"
	"strings"

	"github.com/gchatkit/gchat"
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
	if m.FallbackText != "" {
		b.WriteString(`<div class="gc-fallback"><span class="gc-fallback-label">fallbackText</span> `)
		b.WriteString(esc(m.FallbackText))
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// cardV1 is what the fallback shows of a deprecated v1 card (dossier §2.4).
type cardV1 struct {
	Header *struct {
		Title    string `json:"title"`
		Subtitle string `json:"subtitle"`
	} `json:"header"`
	Sections []*struct {
		Header  string `json:"header"`
		Widgets []*struct {
			TextParagraph *struct {
				Text string `json:"text"`
			} `json:"textParagraph"`
			KeyValue *struct {
				TopLabel    string `json:"topLabel"`
				Content     string `json:"content"`
				BottomLabel string `json:"bottomLabel"`
			} `json:"keyValue"`
		} `json:"widgets"`
	} `json:"sections"`
}

// writeCardsV1 writes deprecated v1 cards simply: header title and subtitle,
// section headers, and the texts of textParagraph and keyValue widgets, with a
// note saying that the cards are v1. Cards that do not decode, or show nothing,
// leave only the note.
func writeCardsV1(b *strings.Builder, raw json.RawMessage) {
	var cards []*cardV1
	_ = json.Unmarshal(raw, &cards) // the note stands in for what does not decode
	b.WriteString(`<div class="gc-cards gc-cards-v1">`)
	b.WriteString(`<div class="gc-v1-note">(deprecated cards v1)</div>`)
	for _, c := range cards {
		if c == nil {
			continue
		}
		b.WriteString(`<div class="gc-card">`)
		if h := c.Header; h != nil && (h.Title != "" || h.Subtitle != "") {
			b.WriteString(`<div class="gc-card-header"><div class="gc-header-text"><div class="gc-card-title">` + esc(h.Title) + `</div>`)
			if h.Subtitle != "" {
				b.WriteString(`<div class="gc-card-subtitle">` + esc(h.Subtitle) + `</div>`)
			}
			b.WriteString(`</div></div>`)
		}
		for _, s := range c.Sections {
			if s == nil {
				continue
			}
			b.WriteString(`<div class="gc-section">`)
			if s.Header != "" {
				b.WriteString(`<div class="gc-section-header">`)
				writeCardHTML(b, s.Header)
				b.WriteString(`</div>`)
			}
			for _, w := range s.Widgets {
				switch {
				case w == nil:
				case w.TextParagraph != nil:
					b.WriteString(`<div class="gc-w gc-para">`)
					writeCardHTML(b, w.TextParagraph.Text)
					b.WriteString(`</div>`)
				case w.KeyValue != nil:
					kv := w.KeyValue
					b.WriteString(`<div class="gc-w gc-decorated"><div class="gc-dt-body">`)
					for _, part := range [...]struct{ class, text string }{
						{"gc-dt-top", kv.TopLabel}, {"gc-dt-text", kv.Content}, {"gc-dt-bottom", kv.BottomLabel},
					} {
						if part.text != "" {
							b.WriteString(`<div class="` + part.class + `">`)
							writeCardHTML(b, part.text)
							b.WriteString(`</div>`)
						}
					}
					b.WriteString(`</div></div>`)
				}
			}
			b.WriteString(`</div>`)
		}
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
}
