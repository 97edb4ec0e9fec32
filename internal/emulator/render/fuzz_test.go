package render

import (
	"strings"
	"testing"

	"github.com/gchatkit/gchat/card"
)

// FuzzText renders arbitrary text as Chat markup. The output must pass the
// safety checker and show every letter and digit of the input, in order; and
// the input passed through gchat.Escape must render without any formatting.
func FuzzText(f *testing.F) {
	for _, tc := range textCases {
		f.Add(tc.in)
	}
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(Text(s))
		mustSafe(t, s, out)
		checkNothingDropped(t, s, out)
		checkEscaped(t, s)
	})
}

// FuzzCardHTML puts arbitrary strings into the card fields that hold card
// HTML, plain text, link URLs and image URLs. The output must pass the
// safety checker.
func FuzzCardHTML(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, s)
	}
	for _, c := range loadCards(f) {
		for _, sec := range c.Card.Sections {
			for _, w := range sec.Widgets {
				switch {
				case w.TextParagraph != nil:
					f.Add(w.TextParagraph.Text, "https://example.com/")
				case w.DecoratedText != nil:
					f.Add(w.DecoratedText.Text, "https://example.com/a.png")
				}
			}
		}
	}
	f.Add(`<a href="https://x.example/&quot;onclick=&quot;">x</a><font color=#abc>y`, "mailto:a@b.example")
	f.Fuzz(func(t *testing.T, text, url string) {
		c := hostileCard(url)
		// text as card HTML and plain text; url in every URL field (and,
		// through hostileCard, everywhere else as well).
		for _, sec := range c.Card.Sections {
			sec.Header = text
			for _, w := range sec.Widgets {
				switch {
				case w.TextParagraph != nil:
					w.TextParagraph.Text = text
				case w.DecoratedText != nil:
					w.DecoratedText.Text = text
					w.DecoratedText.TopLabel = text
				case w.ButtonList != nil:
					w.ButtonList.Buttons[0].Text = text
				}
			}
		}
		c.Card.Header.Title = text
		out := string(Cards([]card.CardWithID{c}))
		mustSafe(t, text+"\x00"+url, out)
		var b strings.Builder
		writeCardHTML(&b, text)
		mustSafe(t, text, b.String())
	})
}
