package jsontmpl

// Spec says how a route turns a JSON payload into a message. Every string in
// it is a text/template over the decoded payload (see the package
// documentation); an empty string is an empty template. The relay's
// configuration fills it, and its yaml tags let a route's YAML decode into it
// directly.
type Spec struct {
	// When, if set, decides whether the payload is posted at all: when it
	// renders blank or "false", Execute returns ErrSkip. Use it to let
	// through only some events of a busy source (GitHub's "labeled",
	// "edited", …).
	When string `yaml:"when"`
	// Text is the message text, in Chat's text markup; payload values are
	// escaped as they are inserted.
	Text string `yaml:"text"`
	// ThreadKey names the thread the message goes to: messages with the same
	// key share a thread. Blank starts a new thread. At most 4,000
	// characters.
	ThreadKey string `yaml:"thread_key"`
	// DedupKey identifies the event: the relay drops a message whose key it
	// has seen recently. Blank never deduplicates.
	DedupKey string `yaml:"dedup_key"`
	// Card, if set, adds a card to the message.
	Card *CardSpec `yaml:"card"`
}

// CardSpec is a card: a header and sections of widgets. A card whose header
// renders blank and whose sections are all left out is left out.
type CardSpec struct {
	// Title, Subtitle and ImageURL make the card's header, which is left out
	// when all three render blank. Title and Subtitle are plain text;
	// ImageURL must render an absolute https URL.
	Title    string `yaml:"title"`
	Subtitle string `yaml:"subtitle"`
	ImageURL string `yaml:"image_url"`
	// Sections are the card's sections, in order.
	Sections []SectionSpec `yaml:"sections"`
}

// SectionSpec is a section of a card. A section whose When renders blank or
// "false", or whose widgets are all left out, is left out.
type SectionSpec struct {
	When string `yaml:"when"`
	// Header is card HTML shown above the widgets.
	Header string `yaml:"header"`
	// Collapsible makes the section collapsible (Section.collapsible).
	Collapsible bool         `yaml:"collapsible"`
	Widgets     []WidgetSpec `yaml:"widgets"`
}

// WidgetSpec is one widget: set exactly one of Text, Decorated, Buttons,
// Image and Divider. A widget whose When renders blank or "false" is left
// out, and so is one whose required part renders blank (Text,
// Decorated.Text, Image.URL, or every button), so that an optional field of
// the payload (a pull request's empty body) needs no When of its own.
type WidgetSpec struct {
	When string `yaml:"when"`
	// Text is a paragraph of card HTML (textParagraph).
	Text string `yaml:"text"`
	// Decorated is a line of card HTML with a label above and below
	// (decoratedText).
	Decorated *DecoratedSpec `yaml:"decorated"`
	// Buttons is a row of buttons that open links (buttonList).
	Buttons []ButtonSpec `yaml:"buttons"`
	// Image is a picture (image).
	Image *ImageSpec `yaml:"image"`
	// Divider draws a line (divider).
	Divider bool `yaml:"divider"`
}

// DecoratedSpec is a decoratedText widget.
type DecoratedSpec struct {
	// Label is the small plain text above (topLabel).
	Label string `yaml:"label"`
	// Text is card HTML.
	Text string `yaml:"text"`
	// BottomLabel is the small plain text below.
	BottomLabel string `yaml:"bottom_label"`
}

// ButtonSpec is a button that opens a link. A button whose When renders blank
// or "false", or whose Text or URL renders blank, is left out.
type ButtonSpec struct {
	When string `yaml:"when"`
	// Text is the button's plain-text label.
	Text string `yaml:"text"`
	// URL must render an absolute http or https URL.
	URL string `yaml:"url"`
}

// ImageSpec is an image widget.
type ImageSpec struct {
	// URL must render an absolute https URL.
	URL string `yaml:"url"`
	// Alt is the plain text for screen readers.
	Alt string `yaml:"alt"`
}
