package gchattest_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/gchattest"
	"github.com/gchatkit/gchat/internal/emulator"
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

// TestMessageCarriesEveryField sends a message that sets everything the
// emulator records and checks that each field of gchattest.Message arrives
// filled, and that gchattest.Message names every field of the emulator's
// message: a field added there and not here fails this test.
func TestMessageCarriesEveryField(t *testing.T) {
	chat := gchattest.NewServer(t)
	client := &gchat.Client{Pace: -1}
	msg := &gchat.Message{
		Text:    "deploy done",
		Thread:  &gchat.Thread{ThreadKey: "deploys"},
		CardsV2: []card.CardWithID{{CardID: "c", Card: card.New("Deploy", card.NewSection("", card.Text("a & b")))}},
	}
	for i := range 2 {
		opts := []gchat.Option{gchat.WithRequestID(fmt.Sprintf("req-%d", i)), gchat.WithMessageID(fmt.Sprintf("client-m%d", i))}
		if _, err := client.Send(t.Context(), chat.Webhook(), msg, opts...); err != nil {
			t.Fatal(err)
		}
	}
	got := chat.WaitMessages(t, 2)[1] // the reply: ThreadReply is true
	v := reflect.ValueOf(got)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("Message.%s is empty in %+v", v.Type().Field(i).Name, got)
		}
	}
	if got.Thread.ThreadKey != "deploys" || got.RequestID != "req-1" || got.MessageID != "client-m1" || got.Sender.Type != "BOT" {
		t.Errorf("got thread %+v, request id %q, message id %q, sender %+v", got.Thread, got.RequestID, got.MessageID, got.Sender)
	}
	ours := reflect.TypeFor[gchattest.Message]()
	theirs := reflect.TypeFor[emulator.Message]()
	for i := range theirs.NumField() {
		f := theirs.Field(i)
		if _, ok := ours.FieldByName(f.Name); !ok && f.IsExported() {
			t.Errorf("the emulator's Message has %s, gchattest.Message does not", f.Name)
		}
	}

	threads := chat.Threads()
	if len(threads) != 1 || threads[0].Name != got.Thread.Name || threads[0].ThreadKey != "deploys" || threads[0].MessageCount != 2 {
		t.Errorf("threads %+v, want one thread %q with key deploys and 2 messages", threads, got.Thread.Name)
	}
	reqs := chat.Requests()
	if len(reqs) != 2 || reqs[1].Status != 200 || reqs[1].Webhook != got.Webhook || reqs[1].Start.IsZero() {
		t.Errorf("requests %+v, want two answered 200 by webhook %s", reqs, got.Webhook)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	want := gchattest.Settings{
		QuotaPerSecond: 2, QuotaBurst: 3, QuotaPerMinute: 100, RetryAfterSeconds: 7,
		OrFailUnknownThread:  gchattest.OrFailNewThread,
		ThreadPrecedence:     []string{gchattest.ThreadByQueryKey, gchattest.ThreadByBodyKey, gchattest.ThreadByName},
		HonourRequestID:      false,
		MessageIDConflict:    false,
		DeletedWebhookStatus: 404, UnknownSpaceStatus: 404, LegacyTextLimit: true,
	}
	chat := gchattest.NewServer(t, gchattest.WithSettings(want))
	if got := chat.Settings(); !reflect.DeepEqual(got, want) {
		t.Errorf("WithSettings: got %+v, want %+v", got, want)
	}
	want.QuotaPerSecond, want.HonourRequestID = 0, true
	chat.SetSettings(t, want)
	if got := chat.Settings(); !reflect.DeepEqual(got, want) {
		t.Errorf("SetSettings: got %+v, want %+v", got, want)
	}
}

func TestWithFaults(t *testing.T) {
	chat := gchattest.NewServer(t, gchattest.WithFaults(gchattest.Faults{Rate429: 1}))
	client := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}}
	_, err := client.Send(t.Context(), chat.Webhook(), &gchat.Message{Text: "x"})
	var ae *gchat.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 {
		t.Fatalf("got %v, want a 429", err)
	}
	if reqs := chat.Requests(); len(reqs) != 1 || reqs[0].Fault != "429" {
		t.Errorf("requests %+v, want one with fault 429", reqs)
	}
}
