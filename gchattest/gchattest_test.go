package gchattest_test

import (
	"errors"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/gchattest"
)

func TestServerRecordsMessagesAndThreads(t *testing.T) {
	chat := gchattest.NewServer(t)
	client := &gchat.Client{Pace: -1}
	for _, text := range []string{"firing", "resolved"} {
		if _, err := client.Send(t.Context(), chat.Webhook(), &gchat.Message{Text: text, Thread: &gchat.Thread{ThreadKey: "alert-1"}}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := chat.WaitMessages(t, 2)
	if msgs[0].Message.Text != "firing" || msgs[1].Message.Text != "resolved" {
		t.Errorf("texts %q, %q; want firing, resolved", msgs[0].Message.Text, msgs[1].Message.Text)
	}
	if msgs[0].Thread.Name != msgs[1].Thread.Name || !msgs[1].ThreadReply {
		t.Errorf("threads %q and %q (reply %v), want one thread", msgs[0].Thread.Name, msgs[1].Thread.Name, msgs[1].ThreadReply)
	}
	if got := msgs[0].Sender; got.DisplayName != "gchattest" || got.Type != "BOT" {
		t.Errorf("sender %+v, want the webhook's name as a BOT", got)
	}
	if n := len(chat.MessagesIn(msgs[0].Thread.Name)); n != 2 {
		t.Errorf("thread holds %d messages, want 2", n)
	}
}

func TestServerFaults(t *testing.T) {
	chat := gchattest.NewServer(t)
	chat.SetFaults(t, gchattest.Faults{Rate503: 1})
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}}
	_, err := client.Send(t.Context(), chat.Webhook(), &gchat.Message{Text: "x"})
	var ae *gchat.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Status != "UNAVAILABLE" {
		t.Fatalf("got %v, want a 503 UNAVAILABLE", err)
	}
	if got := chat.Stats().ByStatus[503]; got != 1 {
		t.Errorf("stats count %d answers 503, want 1", got)
	}
	chat.Reset()
	if _, err := client.Send(t.Context(), chat.Webhook(), &gchat.Message{Text: "x"}); err != nil {
		t.Errorf("after Reset: %v", err)
	}
}

func TestServerWithGoogleQuotas(t *testing.T) {
	chat := gchattest.NewServer(t, gchattest.WithGoogleQuotas())
	other := chat.AddWebhook(t, "second")
	hook2, err := gchat.ParseWebhook(other)
	if err != nil {
		t.Fatal(err)
	}
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}}
	if _, err := client.Send(t.Context(), chat.Webhook(), &gchat.Message{Text: "first"}); err != nil {
		t.Fatal(err)
	}
	// A second webhook of the same space shares its quota of 1 request per second.
	_, err = client.Send(t.Context(), hook2, &gchat.Message{Text: "second"})
	var ae *gchat.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.Status != "RESOURCE_EXHAUSTED" {
		t.Fatalf("got %v, want 429 RESOURCE_EXHAUSTED", err)
	}
}
