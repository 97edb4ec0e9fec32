package card

// New returns a card with the given header title and sections. An empty title
// gives a card without a header.
func New(title string, sections ...*Section) Card {
	c := Card{Sections: sections}
	if title != "" {
		c.Header = &Header{Title: title}
	}
	return c
}

// NewSection returns a section with an optional header (card HTML) and its widgets.
func NewSection(header string, widgets ...*Widget) *Section {
	return &Section{Header: header, Widgets: widgets}
}

// Text returns a text paragraph widget. The text is card HTML: pass user data
// through Escape.
func Text(html string) *Widget {
	return &Widget{TextParagraph: &TextParagraph{Text: html}}
}

// Decorated returns a decorated text widget: a small label above a line of text,
// which is card HTML. An empty topLabel shows just the text.
func Decorated(topLabel, text string) *Widget {
	return &Widget{DecoratedText: &DecoratedText{TopLabel: topLabel, Text: text}}
}

// LinkButton returns a button that opens url, the only kind of button a webhook
// can serve. Google requires an absolute http or https URL; Check reports
// anything else.
func LinkButton(text, url string) *Button {
	return &Button{Text: text, OnClick: &OnClick{OpenLink: &OpenLink{URL: url}}}
}

// Buttons returns a button list widget holding buttons in order.
func Buttons(buttons ...*Button) *Widget {
	return &Widget{ButtonList: &ButtonList{Buttons: buttons}}
}

// Picture returns an image widget. Google requires an absolute HTTPS url; alt is
// the text for screen readers.
func Picture(url, alt string) *Widget {
	return &Widget{Image: &Image{ImageURL: url, AltText: alt}}
}

// Divider returns a divider widget: a horizontal line between widgets.
func Divider() *Widget {
	return &Widget{Divider: &struct{}{}}
}
