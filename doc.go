// Package gchat sends messages to Google Chat incoming webhooks.
//
// A webhook URL (Apps & integrations → Add webhooks → Copy link in a Chat
// space) posts one-way messages into that space. The URL is a credential, so
// ParseWebhook returns a Webhook whose String, LogValue and JSON mask the key
// and token:
//
//	hook, err := gchat.ParseWebhook(os.Getenv("GCHAT_WEBHOOK"))
//
// # Sending
//
// A Client's zero value is ready: it checks the message, fits it within
// Google's limits, paces requests per space, and retries 429, 5xx and network
// errors with exponential backoff and full jitter, reusing one request id:
//
//	var client gchat.Client
//	resp, err := client.Send(ctx, hook, &gchat.Message{Text: "Backup *done*"})
//
// The package-level Send does the same with a zero Client, for a program that
// sends one message; both take the parsed *Webhook.
//
// Errors are typed: *ValidationError (nothing was sent), *APIError (Google's
// answer, with its HTTP status, Google status and message), *PartError (a long
// message was split and a later part failed). Retryable tells them apart.
//
// # Threads
//
// Set Message.Thread to start or reply to a thread. Google ignores the thread
// unless a reply option is sent, so when a thread is set and no ReplyOption was
// chosen, Send asks for REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD: reply if the
// thread exists, start it otherwise. Choose ReplyOrFail or ReplyNewThread
// explicitly with WithReply.
//
// # Text and cards
//
// Message text uses Chat's own markup, not HTML: Bold, Italic, Code, Link and
// Mention write it, and Escape keeps user data literal. Cards live in package
// card; their text is a small HTML subset, escaped with card.Escape.
//
// # Limits
//
// A message is at most 32,000 bytes as encoded, and its text is kept within
// 4,096 UTF-16 code units. Fit splits a longer message into a head message and
// continuations in its thread; Send does this on its own.
//
// # Dependencies
//
// Package gchat imports the standard library and package card, and card
// imports only the standard library and an internal helper of this module
// that itself imports only the standard library: a program using gchat
// compiles no third-party code.
package gchat
