// Package card models the Google Chat cards (cardsV2) that an incoming webhook
// can post, and checks them before they are sent.
//
// # Building a card
//
// Cards are plain structs whose JSON is Google's wire format, so anything the
// Chat API documents can be written as a struct literal. A few constructors cover
// the common widgets:
//
//	c := card.New("Deploy finished",
//		card.NewSection("",
//			card.Decorated("Service", card.Escape(service)),
//			card.Text("<b>3</b> pods restarted"),
//			card.Divider(),
//			card.Buttons(card.LinkButton("Open logs", logsURL)),
//		),
//	)
//	msg.CardsV2 = []card.CardWithID{{CardID: "deploy", Card: c}}
//
// # Card text is HTML
//
// textParagraph text, decoratedText text and section headers are a small HTML
// subset: b i u s font a time br code pre ul ol li. Put user data through Escape
// so that a stray "<" or "&" shows as written.
//
// # Checking
//
// Check walks the cards of a message and returns Problems located by JSON path,
// such as "cardsV2[0].card.sections[1].widgets[0].buttonList.buttons[0].onClick.openLink.url".
// An Error means Google would reject the message or show it empty: a section
// without widgets, a relative link, an image that is not HTTPS, a card over
// 32,000 bytes, or a control a one-way webhook cannot serve (onClick.action,
// inputs, overflow menus). A Warning means Google accepts the message but shows
// something other than what was written: widgets past the 100th, which Google
// drops, or card HTML with an unescaped "<" or "&" or a tag outside the subset.
// Problems.Err returns the errors alone, or nil.
//
// # Dependencies
//
// Package card imports the standard library and one internal package of this
// module, internal/cardhtml: the reader of card-HTML tags that the checker
// shares with the emulator's sanitiser, which itself imports only the
// standard library.
package card
