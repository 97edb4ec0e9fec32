package gchat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// fakeChat stands in for chat.googleapis.com in the examples.
func fakeChat() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		fmt.Fprint(w, `{"name":"spaces/AAAA/messages/M1.T1","thread":{"name":"spaces/AAAA/threads/T1"}}`)
	}))
}

func Example() {
	srv := fakeChat()
	defer srv.Close()
	hook, err := gchat.ParseWebhook(srv.URL + "/v1/spaces/AAAA/messages?key=KEY&token=TOKEN")
	if err != nil {
		fmt.Println(err)
		return
	}
	var client gchat.Client
	resp, err := client.Send(context.Background(), hook, &gchat.Message{
		Text:   gchat.Bold("DiskFull") + " on " + gchat.Code("db-1"),
		Thread: &gchat.Thread{ThreadKey: "incident-42"}, // sent with REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Name)
	fmt.Println(resp.Thread.Name)
	// Output:
	// spaces/AAAA/messages/M1.T1
	// spaces/AAAA/threads/T1
}

// ExampleSend sends one message with the package-level Send, which takes the
// same *Webhook as Client.Send.
func ExampleSend() {
	srv := fakeChat()
	defer srv.Close()
	hook, err := gchat.ParseWebhook(srv.URL + "/v1/spaces/AAAA/messages?key=KEY&token=TOKEN")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := gchat.Send(context.Background(), hook, &gchat.Message{Text: "Backup *done*"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Name)
	// Output:
	// spaces/AAAA/messages/M1.T1
}

func ExampleParseWebhook() {
	hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/AAAAGCYeSRY/messages?key=AIzaSyKEY&token=SECRET%3D")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hook.Space())
	fmt.Println(hook) // masked, as in every log and error
	_, err = gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/AAAAGCYeSRY/messages?key=AIzaSyKEY&amp;token=SECRET")
	fmt.Println(err)
	// Output:
	// AAAAGCYeSRY
	// https://chat.googleapis.com/v1/spaces/AAAAGCYeSRY/messages?key=REDACTED&token=REDACTED
	// parse webhook URL: the query holds "&amp;": "&" was HTML-escaped; use the URL exactly as copied
}

func ExampleMessage_Check() {
	msg := &gchat.Message{CardsV2: []card.CardWithID{{Card: card.New("Deploy",
		card.NewSection("", card.Buttons(card.LinkButton("Logs", "/logs"))),
	)}}}
	for _, p := range msg.Check() {
		fmt.Println(p)
	}
	// Output:
	// cardsV2[0].card.sections[0].widgets[0].buttonList.buttons[0].onClick.openLink.url: link url "/logs" is not an absolute http or https URL
}

func ExampleClient_Send_replyOrFail() {
	srv := fakeChat()
	defer srv.Close()
	hook, _ := gchat.ParseWebhook(srv.URL + "/v1/spaces/AAAA/messages?key=KEY&token=TOKEN")
	client := &gchat.Client{Retry: gchat.RetryPolicy{MaxAttempts: 3}}
	resp, err := client.Send(context.Background(), hook,
		&gchat.Message{Text: "resolved", Thread: &gchat.Thread{Name: "spaces/AAAA/threads/T1"}},
		gchat.WithReply(gchat.ReplyOrFail), gchat.WithRequestID("alert-42-resolved"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Thread.Name)
	// Output:
	// spaces/AAAA/threads/T1
}
