package render

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/gchatkit/gchat/card"
)

// Cards renders a message's cardsV2 as HTML: a div of class gc-cards holding
// one gc-card each, or nothing when there are no cards. Header titles and
// subtitles, button texts, chip labels and grid texts are plain text; section
// headers, text paragraphs and the texts and labels of decorated text are card
// HTML, sanitised by the rules at the top of cardhtml.go. Like Chat, it shows
// no section from the one that brings a card past 100 widgets on.
func Cards(cards []card.CardWithID) template.HTML {
	if len(cards) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<div class="gc-cards">`)
	for i := range cards {
		writeCard(&b, &cards[i].Card)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// maxWidgets is the number of section widgets Chat shows in one card
// (discovery, Card: "If a section's widgets push the total count above 100,
// that entire section and all following sections are ignored").
const maxWidgets = 100

func writeCard(b *strings.Builder, c *card.Card) {
	b.WriteString(`<div class="gc-card`)
	if c.SectionDividerStyle == card.NoDivider {
		b.WriteString(` gc-no-dividers`)
	}
	b.WriteString(`">`)
	if h := c.Header; h != nil {
		writeHeader(b, h)
	}
	total := 0
	for _, s := range c.Sections {
		if s == nil {
			continue
		}
		if total += len(s.Widgets); total > maxWidgets {
			break
		}
		writeSection(b, s)
	}
	b.WriteString(`</div>`)
}

func writeHeader(b *strings.Builder, h *card.Header) {
	b.WriteString(`<div class="gc-card-header">`)
	if h.ImageURL != "" {
		shape := "gc-square" // the default crop [guess]
		if h.ImageType == card.ImageCircle {
			shape = "gc-circle"
		}
		writeImg(b, h.ImageURL, h.ImageAltText, "gc-header-img "+shape)
	}
	b.WriteString(`<div class="gc-header-text"><div class="gc-card-title">`)
	b.WriteString(esc(h.Title))
	b.WriteString(`</div>`)
	if h.Subtitle != "" {
		b.WriteString(`<div class="gc-card-subtitle">`)
		b.WriteString(esc(h.Subtitle))
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div></div>`)
}

func writeSection(b *strings.Builder, s *card.Section) {
	b.WriteString(`<div class="gc-section">`)
	if s.Header != "" {
		b.WriteString(`<div class="gc-section-header">`)
		writeCardHTML(b, s.Header)
		b.WriteString(`</div>`)
	}
	shown := len(s.Widgets)
	if s.Collapsible {
		shown = min(max(s.UncollapsibleWidgetsCount, 0), len(s.Widgets))
	}
	for _, w := range s.Widgets[:shown] {
		writeWidget(b, w)
	}
	if shown < len(s.Widgets) {
		more, less := "Show more", "Show less"
		if cc := s.CollapseControl; cc != nil {
			if cc.ExpandButton != nil && strings.TrimSpace(cc.ExpandButton.Text) != "" {
				more = cc.ExpandButton.Text
			}
			if cc.CollapseButton != nil && strings.TrimSpace(cc.CollapseButton.Text) != "" {
				less = cc.CollapseButton.Text
			}
		}
		b.WriteString(`<details class="gc-collapse"><summary class="gc-collapse-control"><span class="gc-more">`)
		b.WriteString(esc(more))
		b.WriteString(`</span><span class="gc-less">`)
		b.WriteString(esc(less))
		b.WriteString(`</span></summary>`)
		for _, w := range s.Widgets[shown:] {
			writeWidget(b, w)
		}
		b.WriteString(`</details>`)
	}
	b.WriteString(`</div>`)
}

// writeWidget writes one widget, or nothing for a widget of no known kind.
func writeWidget(b *strings.Builder, w *card.Widget) {
	if w == nil {
		return
	}
	// open starts the widget's div; style, when set, is a style attribute
	// built from numbers only.
	open := func(kind, style string) {
		b.WriteString(`<div class="gc-w gc-`)
		b.WriteString(kind)
		switch w.HorizontalAlignment {
		case card.HorizontalCenter:
			b.WriteString(` gc-align-center`)
		case card.HorizontalEnd:
			b.WriteString(` gc-align-end`)
		}
		if style != "" {
			b.WriteString(`" style="` + style)
		}
		b.WriteString(`">`)
	}
	switch {
	case w.TextParagraph != nil:
		writeParagraph(b, w.TextParagraph, open)
	case w.DecoratedText != nil:
		open("decorated", "")
		writeDecorated(b, w.DecoratedText)
	case w.ButtonList != nil:
		open("buttons", "")
		for _, btn := range w.ButtonList.Buttons {
			writeButton(b, btn)
		}
	case w.Image != nil:
		open("image", "")
		writeImage(b, w.Image)
	case w.Divider != nil:
		open("divider", "")
	case w.Columns != nil:
		open("columns", "")
		writeColumns(b, w.Columns)
	case w.Grid != nil:
		open("grid", "")
		writeGrid(b, w.Grid)
	case w.ChipList != nil:
		writeChips(b, w.ChipList, open)
	case w.Carousel != nil:
		open("carousel", "")
		writeCarousel(b, w.Carousel)
	case present(w.TextInput):
		writeInert(b, "textInput", open)
	case present(w.SelectionInput):
		writeInert(b, "selectionInput", open)
	case present(w.DateTimePicker):
		writeInert(b, "dateTimePicker", open)
	default:
		return
	}
	b.WriteString(`</div>`)
}

// present reports whether raw holds a JSON value other than null.
func present(raw []byte) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null"
}

// writeInert shows an input widget, which needs a Chat app to receive what the
// user enters, as a grey placeholder. What Chat shows for it from a webhook is
// unknown (docs/google-chat.md §2.3).
func writeInert(b *strings.Builder, kind string, open func(kind, style string)) {
	open("inert", "")
	b.WriteString(kind)
	b.WriteString(` (needs a Chat app; a webhook cannot receive input)`)
}

func writeParagraph(b *strings.Builder, p *card.TextParagraph, open func(kind, style string)) {
	if p.MaxLines > 0 {
		// Chat folds the rest behind "Show more"; a clamp is close enough.
		open("para gc-clamp", "-webkit-line-clamp:"+strconv.Itoa(p.MaxLines))
	} else {
		open("para", "")
	}
	if p.TextSyntax == card.SyntaxMarkdown {
		// Approximation: Chat's own markup, not CommonMark.
		writeText(b, p.Text)
		return
	}
	writeCardHTML(b, p.Text)
}

func writeDecorated(b *strings.Builder, d *card.DecoratedText) {
	if d.StartIcon != nil {
		writeIcon(b, d.StartIcon, "gc-start-icon")
	}
	b.WriteString(`<div class="gc-dt-body">`)
	if d.TopLabel != "" {
		b.WriteString(`<div class="gc-dt-top">`)
		writeCardHTML(b, d.TopLabel)
		b.WriteString(`</div>`)
	}
	if d.WrapText {
		b.WriteString(`<div class="gc-dt-text">`)
	} else {
		b.WriteString(`<div class="gc-dt-text gc-nowrap">`)
	}
	writeCardHTML(b, d.Text)
	b.WriteString(`</div>`)
	if d.BottomLabel != "" {
		b.WriteString(`<div class="gc-dt-bottom">`)
		writeCardHTML(b, d.BottomLabel)
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	if href, ok := openLink(d.OnClick); ok {
		// The text may hold links, and links do not nest: the whole widget
		// cannot be one, so a small arrow carries the widget's own link.
		b.WriteString(`<a class="gc-dt-open" href="` + html.EscapeString(href) + `" ` + linkAttrs + `>↗</a>`)
	}
	switch {
	case d.Button != nil:
		writeButton(b, d.Button)
	case present(d.SwitchControl):
		b.WriteString(`<span class="gc-switch" title="switchControl needs a Chat app">⏻</span>`)
	}
	if d.EndIcon != nil {
		writeIcon(b, d.EndIcon, "gc-end-icon")
	}
}

// openLink returns the URL a click opens, if it is one the page may open.
func openLink(o *card.OnClick) (string, bool) {
	if o == nil || o.OpenLink == nil {
		return "", false
	}
	return linkURL(o.OpenLink.URL)
}

func writeButton(b *strings.Builder, btn *card.Button) {
	if btn == nil {
		return
	}
	class := "gc-btn gc-btn-outlined" // Google's default type
	switch btn.Type {
	case card.ButtonFilled:
		class = "gc-btn gc-btn-filled"
	case card.ButtonFilledTonal:
		class = "gc-btn gc-btn-tonal"
	case card.ButtonBorderless:
		class = "gc-btn gc-btn-borderless"
	}
	style := ""
	if c := btn.Color; c != nil {
		// A colour forces FILLED; the text turns white on dark colours.
		r, g, bl := channel(c.Red), channel(c.Green), channel(c.Blue)
		class = "gc-btn gc-btn-filled"
		if 299*r+587*g+114*bl < 128*1000 {
			class += " gc-on-dark"
		} else {
			class += " gc-on-light"
		}
		style = fmt.Sprintf(` style="background-color:rgb(%d,%d,%d)"`, r, g, bl)
	}
	title := ""
	if btn.AltText != "" {
		title = ` title="` + attr(btn.AltText) + `"`
	}
	href, ok := openLink(btn.OnClick)
	switch {
	case btn.Disabled:
		b.WriteString(`<span class="` + class + ` gc-disabled"` + style + title + `>`)
	case ok:
		b.WriteString(`<a class="` + class + `" href="` + html.EscapeString(href) + `" ` + linkAttrs + style + title + `>`)
	default:
		// No link the page may open: an action, which needs a Chat app, or a
		// URL that is not http, https or mailto.
		b.WriteString(`<span class="` + class + ` gc-inert-btn"` + style + title + `>`)
	}
	if btn.Icon != nil {
		writeIcon(b, btn.Icon, "gc-btn-icon")
	}
	switch {
	case btn.Text != "":
		b.WriteString(esc(btn.Text))
	case btn.Icon == nil:
		b.WriteString(esc(orDefault(btn.AltText, "button")))
	}
	if btn.Disabled || !ok {
		b.WriteString(`</span>`)
	} else {
		b.WriteString(`</a>`)
	}
}

// channel turns a colour component from 0..1 into 0..255.
func channel(f float64) int {
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= 1:
		return 255
	}
	return int(f*255 + 0.5)
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeIcon writes an icon: an image for iconUrl, a glyph for a built-in icon,
// the name for a Material icon (the page has no Material Symbols font).
func writeIcon(b *strings.Builder, ic *card.Icon, class string) {
	switch {
	case ic.IconURL != "":
		if ic.ImageType == card.ImageCircle {
			class += " gc-circle"
		}
		writeImg(b, ic.IconURL, ic.AltText, "gc-icon "+class)
	case ic.KnownIcon != "":
		b.WriteString(`<span class="gc-icon gc-known ` + class + `" title="` + attr(ic.KnownIcon) + `">`)
		if g := knownGlyph(ic.KnownIcon); g != "" {
			b.WriteString(g)
		} else {
			b.WriteString(esc(ic.KnownIcon))
		}
		b.WriteString(`</span>`)
	case ic.MaterialIcon != nil && ic.MaterialIcon.Name != "":
		b.WriteString(`<span class="gc-icon gc-material ` + class + `">`)
		b.WriteString(esc(ic.MaterialIcon.Name))
		b.WriteString(`</span>`)
	}
}

// knownGlyph returns a character that looks like a built-in icon, or "".
func knownGlyph(name string) string {
	switch name {
	case "AIRPLANE", "FLIGHT_DEPARTURE", "FLIGHT_ARRIVAL":
		return "✈"
	case "BOOKMARK":
		return "🔖"
	case "BUS":
		return "🚌"
	case "CAR":
		return "🚗"
	case "CLOCK":
		return "🕒"
	case "CONFIRMATION_NUMBER_ICON", "TICKET":
		return "🎫"
	case "DESCRIPTION":
		return "📄"
	case "DOLLAR":
		return "$"
	case "EMAIL":
		return "✉"
	case "EVENT_SEAT":
		return "💺"
	case "HOTEL", "HOTEL_ROOM_TYPE":
		return "🏨"
	case "INVITE":
		return "📨"
	case "MAP_PIN":
		return "📍"
	case "MEMBERSHIP":
		return "🪪"
	case "MULTIPLE_PEOPLE":
		return "👥"
	case "PERSON":
		return "👤"
	case "PHONE":
		return "📞"
	case "RESTAURANT_ICON":
		return "🍴"
	case "SHOPPING_CART":
		return "🛒"
	case "STAR":
		return "★"
	case "STORE":
		return "🏬"
	case "TRAIN":
		return "🚆"
	case "VIDEO_CAMERA":
		return "📹"
	case "VIDEO_PLAY":
		return "▶"
	}
	return ""
}

// writeImg writes an image whose URL is https, and otherwise a placeholder
// that shows the URL as text, as a broken image would stand out in Chat.
func writeImg(b *strings.Builder, src, alt, class string) {
	u, ok := imageURL(src)
	if !ok {
		b.WriteString(`<span class="gc-img-broken ` + class + `" title="image not shown: not an https URL">`)
		b.WriteString(esc(shortURL(src)))
		b.WriteString(`</span>`)
		return
	}
	// no-referrer keeps the emulator's address from the image's host.
	b.WriteString(`<img class="` + class + `" src="` + html.EscapeString(u) + `" alt="` + attr(alt) + `" loading="lazy" referrerpolicy="no-referrer">`)
}

func writeImage(b *strings.Builder, im *card.Image) {
	href, ok := openLink(im.OnClick)
	if ok {
		b.WriteString(`<a class="gc-image-link" href="` + html.EscapeString(href) + `" ` + linkAttrs + `>`)
	}
	writeImg(b, im.ImageURL, im.AltText, "gc-img")
	if ok {
		b.WriteString(`</a>`)
	}
}

func writeColumns(b *strings.Builder, c *card.Columns) {
	for _, col := range c.ColumnItems {
		if col == nil {
			continue
		}
		class := "gc-column"
		if col.HorizontalSizeStyle == card.FillMinimumSpace {
			class += " gc-fill-min"
		}
		switch col.HorizontalAlignment {
		case card.HorizontalCenter:
			class += " gc-align-center"
		case card.HorizontalEnd:
			class += " gc-align-end"
		}
		switch col.VerticalAlignment {
		case card.VerticalTop:
			class += " gc-valign-top"
		case card.VerticalBottom:
			class += " gc-valign-bottom"
		}
		b.WriteString(`<div class="` + class + `">`)
		for _, w := range col.Widgets {
			if w == nil {
				continue
			}
			writeWidget(b, &card.Widget{
				TextParagraph: w.TextParagraph, DecoratedText: w.DecoratedText, ButtonList: w.ButtonList,
				Image: w.Image, ChipList: w.ChipList,
				TextInput: w.TextInput, SelectionInput: w.SelectionInput, DateTimePicker: w.DateTimePicker,
			})
		}
		b.WriteString(`</div>`)
	}
}

func writeGrid(b *strings.Builder, g *card.Grid) {
	if g.Title != "" {
		b.WriteString(`<div class="gc-grid-title">` + esc(g.Title) + `</div>`)
	}
	cols := g.ColumnCount
	if cols <= 0 {
		cols = 2 // [guess]
	}
	cols = min(cols, 12)
	b.WriteString(`<div class="gc-grid-items" style="grid-template-columns:repeat(` + strconv.Itoa(cols) + `,minmax(0,1fr))">`)
	href, linked := openLink(g.OnClick)
	for _, it := range g.Items {
		if it == nil {
			continue
		}
		if linked {
			b.WriteString(`<a class="gc-grid-item" href="` + html.EscapeString(href) + `" ` + linkAttrs + `>`)
		} else {
			b.WriteString(`<div class="gc-grid-item">`)
		}
		textFirst := it.Layout == card.TextAbove
		if !textFirst {
			writeGridImage(b, it.Image)
		}
		if it.Title != "" {
			b.WriteString(`<div class="gc-grid-item-title">` + esc(it.Title) + `</div>`)
		}
		if it.Subtitle != "" {
			b.WriteString(`<div class="gc-grid-item-subtitle">` + esc(it.Subtitle) + `</div>`)
		}
		if textFirst {
			writeGridImage(b, it.Image)
		}
		if linked {
			b.WriteString(`</a>`)
		} else {
			b.WriteString(`</div>`)
		}
	}
	b.WriteString(`</div>`)
}

func writeGridImage(b *strings.Builder, im *card.ImageComponent) {
	if im == nil || im.ImageURI == "" {
		return
	}
	class := "gc-grid-img"
	if im.CropStyle != nil && im.CropStyle.Type == card.CropCircle {
		class += " gc-circle"
	}
	writeImg(b, im.ImageURI, im.AltText, class)
}

func writeChips(b *strings.Builder, cl *card.ChipList, open func(kind, style string)) {
	if cl.Layout == card.ChipsScrollable {
		open("chips gc-chips-scroll", "")
	} else {
		open("chips", "")
	}
	for _, ch := range cl.Chips {
		if ch == nil {
			continue
		}
		title := ""
		if ch.AltText != "" {
			title = ` title="` + attr(ch.AltText) + `"`
		}
		disabled := ch.Disabled || ch.Enabled != nil && !*ch.Enabled
		href, ok := openLink(ch.OnClick)
		switch {
		case disabled:
			b.WriteString(`<span class="gc-chip gc-disabled"` + title + `>`)
		case ok:
			b.WriteString(`<a class="gc-chip" href="` + html.EscapeString(href) + `" ` + linkAttrs + title + `>`)
		default:
			b.WriteString(`<span class="gc-chip"` + title + `>`)
		}
		if ch.Icon != nil {
			writeIcon(b, ch.Icon, "gc-chip-icon")
		}
		b.WriteString(esc(ch.Label))
		if ok && !disabled {
			b.WriteString(`</a>`)
		} else {
			b.WriteString(`</span>`)
		}
	}
}

func writeCarousel(b *strings.Builder, c *card.Carousel) {
	nested := func(ws []*card.NestedWidget) {
		for _, w := range ws {
			if w != nil {
				writeWidget(b, &card.Widget{TextParagraph: w.TextParagraph, ButtonList: w.ButtonList, Image: w.Image})
			}
		}
	}
	for _, cc := range c.CarouselCards {
		if cc == nil {
			continue
		}
		b.WriteString(`<div class="gc-carousel-card">`)
		nested(cc.Widgets)
		if len(cc.FooterWidgets) > 0 {
			b.WriteString(`<div class="gc-carousel-footer">`)
			nested(cc.FooterWidgets)
			b.WriteString(`</div>`)
		}
		b.WriteString(`</div>`)
	}
}

// esc escapes plain text for an element or a double-quoted attribute.
func esc(s string) string { return html.EscapeString(clean(s)) }

// attr escapes plain text for a double-quoted attribute such as title or alt,
// where control characters (tabs, newlines) only get in the way: they become
// spaces.
func attr(s string) string {
	return esc(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}
