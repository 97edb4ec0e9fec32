// Package render turns a webhook message into HTML that looks like Google Chat
// shows it: the text in Chat's markup (docs/google-chat.md §3.1) and the cards in Chat's card
// layout, whose text fields use Chat's HTML subset (docs/google-chat.md §3.2).
//
// The emulator's page inserts the result as is, so everything here is written
// for hostile input: user text is always HTML-escaped, card HTML goes through
// an allow-list sanitiser that re-emits only the subset's tags with only their
// allowed attributes, and URLs become href or src only when their scheme is
// known to be inert (http, https and mailto for links; https for images).
// The output uses CSS classes prefixed gc-; Stylesheet returns their rules.
//
// Where Chat's behaviour is not documented the renderer guesses; such rules are
// marked [guess] in the comments, and [INF] where inferred from the spec.
package render
