package card

import "encoding/json"

// The types below mirror the GoogleAppsCardV1* schemas of the Chat API discovery
// document (google.golang.org/api chat/v1, revision 20261107), restricted to what an
// incoming webhook can show. JSON names are Google's, letter for letter. Fields Google
// documents as add-on or dialog only are left out; the interactive ones a webhook
// cannot serve are kept as raw JSON so that a card holding them survives a round trip
// and Check can point at them.

// CardWithID is one entry of a message's cardsV2 list.
type CardWithID struct {
	// CardID identifies the card within the message. Required by Google when a
	// message has several cards; the library fills "card-N" when it is empty.
	CardID string `json:"cardId,omitempty"`
	Card   Card   `json:"card"`
}

// Card is a Google Chat card (GoogleAppsCardV1Card).
type Card struct {
	Header   *Header    `json:"header,omitempty"`
	Sections []*Section `json:"sections,omitempty"`
	// SectionDividerStyle says how sections are separated; empty means a solid line.
	SectionDividerStyle DividerStyle `json:"sectionDividerStyle,omitempty"`
}

// Header is a card header (GoogleAppsCardV1CardHeader).
type Header struct {
	// Title is required by Google whenever a header is present. Plain text.
	Title    string `json:"title,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	// ImageURL must be an absolute HTTPS URL.
	ImageURL     string    `json:"imageUrl,omitempty"`
	ImageType    ImageType `json:"imageType,omitempty"`
	ImageAltText string    `json:"imageAltText,omitempty"`
}

// Section groups widgets (GoogleAppsCardV1Section).
type Section struct {
	// Header is card HTML shown above the widgets.
	Header string `json:"header,omitempty"`
	// Widgets must hold at least one widget.
	Widgets     []*Widget `json:"widgets,omitempty"`
	Collapsible bool      `json:"collapsible,omitempty"`
	// UncollapsibleWidgetsCount is how many widgets stay visible while a
	// collapsible section is collapsed.
	UncollapsibleWidgetsCount int              `json:"uncollapsibleWidgetsCount,omitempty"`
	CollapseControl           *CollapseControl `json:"collapseControl,omitempty"`
}

// CollapseControl customises the expand and collapse buttons of a collapsible section.
type CollapseControl struct {
	HorizontalAlignment HorizontalAlignment `json:"horizontalAlignment,omitempty"`
	ExpandButton        *Button             `json:"expandButton,omitempty"`
	CollapseButton      *Button             `json:"collapseButton,omitempty"`
}

// Widget is one widget of a section (GoogleAppsCardV1Widget); exactly one of the
// kind fields must be set.
type Widget struct {
	TextParagraph *TextParagraph `json:"textParagraph,omitempty"`
	DecoratedText *DecoratedText `json:"decoratedText,omitempty"`
	ButtonList    *ButtonList    `json:"buttonList,omitempty"`
	Image         *Image         `json:"image,omitempty"`
	// Divider, when non-nil, draws a horizontal line; it encodes as {}. It is a bare
	// struct pointer because the name Divider belongs to the constructor.
	Divider  *struct{} `json:"divider,omitempty"`
	Columns  *Columns  `json:"columns,omitempty"`
	Grid     *Grid     `json:"grid,omitempty"`
	ChipList *ChipList `json:"chipList,omitempty"`
	Carousel *Carousel `json:"carousel,omitempty"`

	// TextInput, SelectionInput and DateTimePicker collect input for a Chat app.
	// A webhook has no app to receive it, so Check reports them; they are kept
	// verbatim only so that such a card round-trips.
	TextInput      json.RawMessage `json:"textInput,omitempty"`
	SelectionInput json.RawMessage `json:"selectionInput,omitempty"`
	DateTimePicker json.RawMessage `json:"dateTimePicker,omitempty"`

	HorizontalAlignment HorizontalAlignment `json:"horizontalAlignment,omitempty"`
}

// ColumnWidget is a widget inside a column (GoogleAppsCardV1Widgets): the subset of
// Widget kinds Google allows there.
type ColumnWidget struct {
	TextParagraph  *TextParagraph  `json:"textParagraph,omitempty"`
	DecoratedText  *DecoratedText  `json:"decoratedText,omitempty"`
	ButtonList     *ButtonList     `json:"buttonList,omitempty"`
	Image          *Image          `json:"image,omitempty"`
	ChipList       *ChipList       `json:"chipList,omitempty"`
	TextInput      json.RawMessage `json:"textInput,omitempty"`
	SelectionInput json.RawMessage `json:"selectionInput,omitempty"`
	DateTimePicker json.RawMessage `json:"dateTimePicker,omitempty"`
}

// NestedWidget is a widget inside a carousel card (GoogleAppsCardV1NestedWidget).
type NestedWidget struct {
	TextParagraph *TextParagraph `json:"textParagraph,omitempty"`
	ButtonList    *ButtonList    `json:"buttonList,omitempty"`
	Image         *Image         `json:"image,omitempty"`
}

// TextParagraph is a paragraph of card HTML (GoogleAppsCardV1TextParagraph).
type TextParagraph struct {
	Text string `json:"text"`
	// MaxLines hides lines past this count behind "show more"; 0 shows all.
	MaxLines int `json:"maxLines,omitempty"`
	// TextSyntax empty means HTML.
	TextSyntax TextSyntax `json:"textSyntax,omitempty"`
}

// DecoratedText is a line of text with optional labels, icons and a button
// (GoogleAppsCardV1DecoratedText).
type DecoratedText struct {
	TopLabel string `json:"topLabel,omitempty"`
	// Text is required card HTML.
	Text        string  `json:"text"`
	BottomLabel string  `json:"bottomLabel,omitempty"`
	StartIcon   *Icon   `json:"startIcon,omitempty"`
	EndIcon     *Icon   `json:"endIcon,omitempty"`
	Button      *Button `json:"button,omitempty"`
	// SwitchControl is interactive and reported by Check; kept for round trips.
	SwitchControl json.RawMessage `json:"switchControl,omitempty"`
	// WrapText wraps long text instead of truncating it.
	WrapText bool     `json:"wrapText,omitempty"`
	OnClick  *OnClick `json:"onClick,omitempty"`
}

// Icon is a built-in, Material or custom icon (GoogleAppsCardV1Icon); set one of
// KnownIcon, IconURL or MaterialIcon.
type Icon struct {
	// KnownIcon is a built-in icon name such as "STAR" or "EMAIL".
	KnownIcon string `json:"knownIcon,omitempty"`
	// IconURL must be an absolute HTTPS URL of a PNG or JPEG image.
	IconURL      string        `json:"iconUrl,omitempty"`
	MaterialIcon *MaterialIcon `json:"materialIcon,omitempty"`
	AltText      string        `json:"altText,omitempty"`
	ImageType    ImageType     `json:"imageType,omitempty"`
}

// MaterialIcon is a Google Material Symbols icon (GoogleAppsCardV1MaterialIcon).
type MaterialIcon struct {
	// Name is the icon's name in snake case, such as "check_circle".
	Name   string `json:"name,omitempty"`
	Fill   bool   `json:"fill,omitempty"`
	Weight int    `json:"weight,omitempty"`
	Grade  int    `json:"grade,omitempty"`
}

// ButtonList is a row of buttons (GoogleAppsCardV1ButtonList).
type ButtonList struct {
	Buttons []*Button `json:"buttons,omitempty"`
}

// Button is a text or icon button (GoogleAppsCardV1Button); it needs Text or Icon,
// and an OnClick, which for a webhook means an OpenLink.
type Button struct {
	Text string `json:"text,omitempty"`
	Icon *Icon  `json:"icon,omitempty"`
	// Color, when set, makes the button FILLED in that colour.
	Color    *Color     `json:"color,omitempty"`
	Type     ButtonType `json:"type,omitempty"`
	Disabled bool       `json:"disabled,omitempty"`
	AltText  string     `json:"altText,omitempty"`
	OnClick  *OnClick   `json:"onClick,omitempty"`
}

// Color is an RGBA colour with components from 0 to 1 (google.type.Color).
type Color struct {
	Red   float64 `json:"red,omitempty"`
	Green float64 `json:"green,omitempty"`
	Blue  float64 `json:"blue,omitempty"`
	// Alpha is a pointer because Google reads an absent alpha as 1 (opaque),
	// not 0. Chat ignores it for buttons.
	Alpha *float64 `json:"alpha,omitempty"`
}

// Image is a picture (GoogleAppsCardV1Image).
type Image struct {
	// ImageURL must be an absolute HTTPS URL.
	ImageURL string   `json:"imageUrl"`
	AltText  string   `json:"altText,omitempty"`
	OnClick  *OnClick `json:"onClick,omitempty"`
}

// Columns shows up to two columns side by side (GoogleAppsCardV1Columns).
type Columns struct {
	ColumnItems []*Column `json:"columnItems,omitempty"`
}

// Column is one column of a Columns widget (GoogleAppsCardV1Column).
type Column struct {
	HorizontalSizeStyle HorizontalSizeStyle `json:"horizontalSizeStyle,omitempty"`
	HorizontalAlignment HorizontalAlignment `json:"horizontalAlignment,omitempty"`
	VerticalAlignment   VerticalAlignment   `json:"verticalAlignment,omitempty"`
	Widgets             []*ColumnWidget     `json:"widgets,omitempty"`
}

// Grid is a grid of items (GoogleAppsCardV1Grid).
type Grid struct {
	Title       string       `json:"title,omitempty"`
	Items       []*GridItem  `json:"items,omitempty"`
	BorderStyle *BorderStyle `json:"borderStyle,omitempty"`
	ColumnCount int          `json:"columnCount,omitempty"`
	// OnClick applies to every item.
	OnClick *OnClick `json:"onClick,omitempty"`
}

// GridItem is one cell of a grid (GoogleAppsCardV1GridItem).
type GridItem struct {
	ID       string          `json:"id,omitempty"`
	Image    *ImageComponent `json:"image,omitempty"`
	Title    string          `json:"title,omitempty"`
	Subtitle string          `json:"subtitle,omitempty"`
	Layout   GridItemLayout  `json:"layout,omitempty"`
}

// ImageComponent is the picture of a grid item (GoogleAppsCardV1ImageComponent).
// Note Google spells its URL field imageUri here.
type ImageComponent struct {
	// ImageURI must be an absolute HTTPS URL.
	ImageURI    string       `json:"imageUri,omitempty"`
	AltText     string       `json:"altText,omitempty"`
	CropStyle   *CropStyle   `json:"cropStyle,omitempty"`
	BorderStyle *BorderStyle `json:"borderStyle,omitempty"`
}

// CropStyle crops a grid item's image (GoogleAppsCardV1ImageCropStyle).
type CropStyle struct {
	Type CropType `json:"type,omitempty"`
	// AspectRatio is width over height, used with CropRectangleCustom.
	AspectRatio float64 `json:"aspectRatio,omitempty"`
}

// BorderStyle is the border of a grid or its images (GoogleAppsCardV1BorderStyle).
type BorderStyle struct {
	Type         BorderType `json:"type,omitempty"`
	StrokeColor  *Color     `json:"strokeColor,omitempty"`
	CornerRadius int        `json:"cornerRadius,omitempty"`
}

// ChipList is a list of chips (GoogleAppsCardV1ChipList).
type ChipList struct {
	Layout ChipListLayout `json:"layout,omitempty"`
	Chips  []*Chip        `json:"chips,omitempty"`
}

// Chip is a small labelled button (GoogleAppsCardV1Chip).
type Chip struct {
	Icon    *Icon    `json:"icon,omitempty"`
	Label   string   `json:"label,omitempty"`
	OnClick *OnClick `json:"onClick,omitempty"`
	// Enabled is deprecated by Google in favour of Disabled; it is a pointer
	// because an explicit false differs from absent (which means enabled).
	Enabled  *bool  `json:"enabled,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
	AltText  string `json:"altText,omitempty"`
}

// Carousel is a row of small cards the reader can scroll (GoogleAppsCardV1Carousel).
type Carousel struct {
	CarouselCards []*CarouselCard `json:"carouselCards,omitempty"`
}

// CarouselCard is one card of a carousel (GoogleAppsCardV1CarouselCard).
type CarouselCard struct {
	Widgets       []*NestedWidget `json:"widgets,omitempty"`
	FooterWidgets []*NestedWidget `json:"footerWidgets,omitempty"`
}

// OnClick says what a click does (GoogleAppsCardV1OnClick). A webhook can only
// use OpenLink: everything else needs a Chat app to receive the event, and Check
// reports it.
type OnClick struct {
	OpenLink *OpenLink `json:"openLink,omitempty"`
	Action   *Action   `json:"action,omitempty"`
	// OpenDynamicLinkAction, Card and OverflowMenu are kept only so that Check can
	// report them and a card holding them round-trips.
	OpenDynamicLinkAction *Action         `json:"openDynamicLinkAction,omitempty"`
	Card                  json.RawMessage `json:"card,omitempty"`
	OverflowMenu          json.RawMessage `json:"overflowMenu,omitempty"`
}

// OpenLink opens a URL (GoogleAppsCardV1OpenLink).
type OpenLink struct {
	// URL must be an absolute http or https URL; Google turns http into https.
	URL     string  `json:"url"`
	OpenAs  OpenAs  `json:"openAs,omitempty"`
	OnClose OnClose `json:"onClose,omitempty"`
}

// Action calls a function of a Chat app (GoogleAppsCardV1Action). It is modelled
// only far enough to be recognised: a webhook cannot receive the call.
type Action struct {
	Function   string             `json:"function,omitempty"`
	Parameters []*ActionParameter `json:"parameters,omitempty"`
}

// ActionParameter is one key and value passed to an Action's function.
type ActionParameter struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// Enumerations. Each is a string type so that Google's enum names travel as is;
// the constants list the values a webhook card can use.
type (
	// ImageType is the crop of a header image or icon.
	ImageType string
	// ButtonType is a button's style.
	ButtonType string
	// HorizontalAlignment places a widget or column horizontally.
	HorizontalAlignment string
	// VerticalAlignment places a column's widgets vertically.
	VerticalAlignment string
	// HorizontalSizeStyle is how much width a column takes.
	HorizontalSizeStyle string
	// GridItemLayout places a grid item's text relative to its image.
	GridItemLayout string
	// ChipListLayout says whether chips wrap or scroll.
	ChipListLayout string
	// TextSyntax is how a text paragraph is read.
	TextSyntax string
	// DividerStyle separates a card's sections.
	DividerStyle string
	// CropType is the crop of a grid item's image.
	CropType string
	// BorderType is the border of a grid or image.
	BorderType string
	// OpenAs is how a link opens; OVERLAY applies to add-ons only.
	OpenAs string
	// OnClose is what happens when a link opened as an overlay closes.
	OnClose string
)

// Values of the enumerations, named after Google's with the type as a prefix
// where the bare name would be unclear.
const (
	ImageSquare ImageType = "SQUARE"
	ImageCircle ImageType = "CIRCLE"

	ButtonOutlined    ButtonType = "OUTLINED"
	ButtonFilled      ButtonType = "FILLED"
	ButtonFilledTonal ButtonType = "FILLED_TONAL"
	ButtonBorderless  ButtonType = "BORDERLESS"

	HorizontalStart  HorizontalAlignment = "START"
	HorizontalCenter HorizontalAlignment = "CENTER"
	HorizontalEnd    HorizontalAlignment = "END"

	VerticalTop    VerticalAlignment = "TOP"
	VerticalCenter VerticalAlignment = "CENTER"
	VerticalBottom VerticalAlignment = "BOTTOM"

	FillAvailableSpace HorizontalSizeStyle = "FILL_AVAILABLE_SPACE"
	FillMinimumSpace   HorizontalSizeStyle = "FILL_MINIMUM_SPACE"

	TextBelow GridItemLayout = "TEXT_BELOW"
	TextAbove GridItemLayout = "TEXT_ABOVE"

	ChipsWrapped    ChipListLayout = "WRAPPED"
	ChipsScrollable ChipListLayout = "HORIZONTAL_SCROLLABLE"

	SyntaxHTML     TextSyntax = "HTML"
	SyntaxMarkdown TextSyntax = "MARKDOWN"

	SolidDivider DividerStyle = "SOLID_DIVIDER"
	NoDivider    DividerStyle = "NO_DIVIDER"

	CropSquare          CropType = "SQUARE"
	CropCircle          CropType = "CIRCLE"
	CropRectangleCustom CropType = "RECTANGLE_CUSTOM"
	CropRectangle4x3    CropType = "RECTANGLE_4_3"

	BorderNone   BorderType = "NO_BORDER"
	BorderStroke BorderType = "STROKE"

	OpenFullSize OpenAs = "FULL_SIZE"
	OpenOverlay  OpenAs = "OVERLAY"

	OnCloseNothing OnClose = "NOTHING"
	OnCloseReload  OnClose = "RELOAD"
)
