package card

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// maxCardBytes is the largest card, as compact JSON without HTML escaping, that
// Check lets through. The discovery document gives "32 KB" per card
// (CardWithId.card) and 32,000 bytes for the whole message, see
// docs/google-chat.md §4.1. Whatever Google means by KB, a card above 32,000
// bytes makes the message exceed its 32,000-byte limit, so 32,000 is the bound
// that is never wrong.
const maxCardBytes = 32000

// maxWidgets is the number of widgets a card shows. Discovery, Card: "If a
// section's widgets push the total count above 100, that entire section and all
// following sections are ignored." Only the widgets of sections are counted:
// whether widgets inside columns or carousels count is not documented.
const maxWidgets = 100

// maxColumns is the documented maximum of columnItems in a Columns widget.
const maxColumns = 2

// Check checks the cards of a message and returns the problems found, each with
// its JSON path under path (for example "cardsV2"). Besides checking each card,
// it reports cardId values used twice: Google needs them to tell cards apart.
func Check(cards []CardWithID, path string) Problems {
	var c checker
	ids := make(map[string]int)
	for i, cw := range cards {
		p := index(path, i)
		if id := cw.CardID; id != "" && len(cards) > 1 {
			if first, dup := ids[id]; dup {
				c.errorf(field(p, "cardId"), "cardId %q is already used by %s; each card of a message needs its own", id, index(path, first))
			} else {
				ids[id] = i
			}
		}
		c.card(field(p, "card"), &cw.Card)
	}
	return c.problems
}

// Check checks one card and returns the problems found, each with its JSON path
// under path (for example "cardsV2[0].card", or "" for paths relative to the card).
func (c Card) Check(path string) Problems {
	var ch checker
	ch.card(path, &c)
	return ch.problems
}

// checker collects problems while walking a card.
type checker struct {
	problems Problems
}

func (c *checker) errorf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) card(path string, cd *Card) {
	if h := cd.Header; h != nil {
		hp := field(path, "header")
		if strings.TrimSpace(h.Title) == "" {
			c.errorf(field(hp, "title"), "header has no title; Google requires one")
		}
		c.imageURL(field(hp, "imageUrl"), h.ImageURL, false)
	}

	shown := false // does any section have a widget?
	total := 0     // widgets so far, for the 100-widget limit
	dropped := -1  // first section Google ignores
	kept := 0      // widgets before it
	for i, s := range cd.Sections {
		sp := index(field(path, "sections"), i)
		if s == nil || len(s.Widgets) == 0 {
			c.errorf(sp, "section has no widgets")
			continue
		}
		shown = true
		if total+len(s.Widgets) > maxWidgets && dropped < 0 {
			dropped, kept = i, total
		}
		total += len(s.Widgets)
		c.html(field(sp, "header"), s.Header)
		for j, w := range s.Widgets {
			c.widget(index(field(sp, "widgets"), j), w)
		}
		if cc := s.CollapseControl; cc != nil {
			// These buttons act by themselves: no onClick is needed.
			cp := field(sp, "collapseControl")
			if b := cc.ExpandButton; b != nil {
				c.icon(field(cp, "expandButton.icon"), b.Icon)
				c.onClick(field(cp, "expandButton.onClick"), b.OnClick)
			}
			if b := cc.CollapseButton; b != nil {
				c.icon(field(cp, "collapseButton.icon"), b.Icon)
				c.onClick(field(cp, "collapseButton.onClick"), b.OnClick)
			}
		}
	}
	if !shown && (cd.Header == nil || strings.TrimSpace(cd.Header.Title) == "") {
		c.errorf(path, "card is empty: no header title and no section with widgets")
	}
	if dropped >= 0 {
		last := len(cd.Sections) - 1
		which := fmt.Sprintf("sections[%d]", dropped)
		if last > dropped {
			which = fmt.Sprintf("sections[%d] to sections[%d]", dropped, last)
		}
		c.warnf(index(field(path, "sections"), dropped), "card has %d widgets, more than Google's %d: Google drops %s (%d widgets)", total, maxWidgets, which, total-kept)
	}
	c.size(path, cd)
}

// size reports a card whose JSON is too large. It encodes as the client sends:
// compact, without HTML escaping, which would inflate every < in card text.
func (c *checker) size(path string, cd *Card) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cd); err != nil {
		c.errorf(path, "card does not encode as JSON: %v", err)
		return
	}
	if n := b.Len() - 1; n > maxCardBytes { // Encode adds a newline
		c.errorf(path, "card is %d bytes as JSON; Google accepts at most %d", n, maxCardBytes)
	}
}

// kinds returns the JSON names of the kinds set on w.
func kinds(w *Widget) []string {
	var ks []string
	add := func(set bool, name string) {
		if set {
			ks = append(ks, name)
		}
	}
	add(w.TextParagraph != nil, "textParagraph")
	add(w.DecoratedText != nil, "decoratedText")
	add(w.ButtonList != nil, "buttonList")
	add(w.Image != nil, "image")
	add(w.Divider != nil, "divider")
	add(w.Columns != nil, "columns")
	add(w.Grid != nil, "grid")
	add(w.ChipList != nil, "chipList")
	add(w.Carousel != nil, "carousel")
	add(present(w.TextInput), "textInput")
	add(present(w.SelectionInput), "selectionInput")
	add(present(w.DateTimePicker), "dateTimePicker")
	return ks
}

// present reports whether a raw field holds a value: JSON null decodes to
// the four bytes "null" and means absent.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

func (c *checker) widget(path string, w *Widget) {
	if w == nil {
		c.errorf(path, "widget is null")
		return
	}
	switch ks := kinds(w); len(ks) {
	case 0:
		c.errorf(path, "widget sets no kind; set exactly one of textParagraph, decoratedText, buttonList, image, divider, columns, grid, chipList, carousel")
	case 1:
	default:
		c.errorf(path, "widget sets %d kinds (%s); set exactly one", len(ks), strings.Join(ks, ", "))
	}

	if t := w.TextParagraph; t != nil {
		tp := field(path, "textParagraph")
		c.text(field(tp, "text"), t.Text, "textParagraph")
		if t.TextSyntax != SyntaxMarkdown {
			c.html(field(tp, "text"), t.Text)
		}
	}
	if d := w.DecoratedText; d != nil {
		dp := field(path, "decoratedText")
		c.text(field(dp, "text"), d.Text, "decoratedText")
		c.html(field(dp, "text"), d.Text)
		c.icon(field(dp, "startIcon"), d.StartIcon)
		c.icon(field(dp, "endIcon"), d.EndIcon)
		if d.Button != nil {
			c.button(field(dp, "button"), d.Button)
		}
		c.interactive(field(dp, "switchControl"), d.SwitchControl, "switchControl")
		c.onClick(field(dp, "onClick"), d.OnClick)
	}
	if bl := w.ButtonList; bl != nil {
		for i, b := range bl.Buttons {
			c.button(index(field(path, "buttonList.buttons"), i), b)
		}
	}
	if im := w.Image; im != nil {
		ip := field(path, "image")
		c.imageURL(field(ip, "imageUrl"), im.ImageURL, true)
		c.onClick(field(ip, "onClick"), im.OnClick)
	}
	if cs := w.Columns; cs != nil {
		cp := field(path, "columns")
		if n := len(cs.ColumnItems); n > maxColumns {
			c.warnf(field(cp, "columnItems"), "columns has %d columnItems; Google documents at most %d", n, maxColumns)
		}
		for i, col := range cs.ColumnItems {
			if col == nil {
				continue
			}
			colp := index(field(cp, "columnItems"), i)
			for j, cw := range col.Widgets {
				c.widget(index(field(colp, "widgets"), j), cw.widget())
			}
		}
	}
	if g := w.Grid; g != nil {
		gp := field(path, "grid")
		for i, it := range g.Items {
			if it != nil && it.Image != nil {
				c.imageURL(field(index(field(gp, "items"), i), "image.imageUri"), it.Image.ImageURI, true)
			}
		}
		c.onClick(field(gp, "onClick"), g.OnClick)
	}
	if cl := w.ChipList; cl != nil {
		for i, ch := range cl.Chips {
			if ch == nil {
				continue
			}
			chp := index(field(path, "chipList.chips"), i)
			c.icon(field(chp, "icon"), ch.Icon)
			c.onClick(field(chp, "onClick"), ch.OnClick)
		}
	}
	if cr := w.Carousel; cr != nil {
		for i, cc := range cr.CarouselCards {
			if cc == nil {
				continue
			}
			ccp := index(field(path, "carousel.carouselCards"), i)
			for j, nw := range cc.Widgets {
				c.widget(index(field(ccp, "widgets"), j), nw.widget())
			}
			for j, nw := range cc.FooterWidgets {
				c.widget(index(field(ccp, "footerWidgets"), j), nw.widget())
			}
		}
	}
	c.interactive(field(path, "textInput"), w.TextInput, "textInput")
	c.interactive(field(path, "selectionInput"), w.SelectionInput, "selectionInput")
	c.interactive(field(path, "dateTimePicker"), w.DateTimePicker, "dateTimePicker")
}

// widget returns w as a Widget so that one checker covers both; its JSON names
// are the same.
func (w *ColumnWidget) widget() *Widget {
	if w == nil {
		return nil
	}
	return &Widget{
		TextParagraph:  w.TextParagraph,
		DecoratedText:  w.DecoratedText,
		ButtonList:     w.ButtonList,
		Image:          w.Image,
		ChipList:       w.ChipList,
		TextInput:      w.TextInput,
		SelectionInput: w.SelectionInput,
		DateTimePicker: w.DateTimePicker,
	}
}

// widget returns w as a Widget so that one checker covers both.
func (w *NestedWidget) widget() *Widget {
	if w == nil {
		return nil
	}
	return &Widget{TextParagraph: w.TextParagraph, ButtonList: w.ButtonList, Image: w.Image}
}

func (c *checker) text(path, s, kind string) {
	if strings.TrimSpace(s) == "" {
		c.errorf(path, "%s has no text", kind)
	}
}

func (c *checker) html(path, s string) {
	for _, msg := range scanHTML(s) {
		c.warnf(path, "%s", msg)
	}
}

func (c *checker) button(path string, b *Button) {
	if b == nil {
		c.errorf(path, "button is null")
		return
	}
	if strings.TrimSpace(b.Text) == "" && b.Icon == nil {
		c.errorf(path, "button has neither text nor icon")
	}
	c.icon(field(path, "icon"), b.Icon)
	if b.OnClick == nil {
		c.errorf(field(path, "onClick"), "button has no onClick; Google requires one (for a webhook, an openLink)")
	}
	c.onClick(field(path, "onClick"), b.OnClick)
}

func (c *checker) icon(path string, ic *Icon) {
	if ic != nil {
		c.imageURL(field(path, "iconUrl"), ic.IconURL, false)
	}
}

func (c *checker) onClick(path string, o *OnClick) {
	if o == nil {
		return
	}
	if l := o.OpenLink; l != nil {
		c.linkURL(field(path, "openLink.url"), l.URL)
	}
	if o.Action != nil {
		c.errorf(field(path, "action"), "onClick.action needs a Chat app to receive the click; a webhook cannot serve it (use openLink)")
	}
	if o.OpenDynamicLinkAction != nil {
		c.errorf(field(path, "openDynamicLinkAction"), "openDynamicLinkAction needs a Chat app or add-on to serve it; a webhook cannot (use openLink)")
	}
	c.interactive(field(path, "card"), o.Card, "onClick.card")
	c.interactive(field(path, "overflowMenu"), o.OverflowMenu, "overflowMenu")
}

func (c *checker) interactive(path string, raw json.RawMessage, what string) {
	if present(raw) {
		c.errorf(path, "%s needs a Chat app to receive what the user does; a webhook cannot serve it", what)
	}
}

// linkURL reports a link that is not an absolute http or https URL with a host.
func (c *checker) linkURL(path, s string) {
	if s == "" {
		c.errorf(path, "link has no url")
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.errorf(path, "link url %s does not parse", quoteURL(s))
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		c.errorf(path, "link url %s is not an absolute http or https URL", quoteURL(s))
	}
}

// imageURL reports an image or icon URL that is not an absolute https URL with a
// host. An empty URL is an error only where the field is required.
func (c *checker) imageURL(path, s string, required bool) {
	if s == "" {
		if required {
			c.errorf(path, "image has no URL")
		}
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.errorf(path, "image url %s does not parse", quoteURL(s))
	case u.Scheme != "https" || u.Host == "":
		c.errorf(path, "image url %s is not an absolute https URL", quoteURL(s))
	}
}

// quoteURL quotes a URL for a message, shortened so that a data: URL of
// megabytes does not become the message.
func quoteURL(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q…", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

// field appends a JSON field name to a path.
func field(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends an array index to a path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
