package interop

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/gchattest"
	"google.golang.org/api/chat/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// googleClient is Google's generated Chat client pointed at the emulator: no
// OAuth, the webhook's key and token passed as query parameters. It sends
// alt=json&prettyPrint=false, as it does to Google.
func googleClient(t *testing.T, emu *gchattest.Server) (msgs *chat.SpacesMessagesService, auth []googleapi.CallOption) {
	t.Helper()
	u, err := url.Parse(emu.WebhookURL)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chat.NewService(t.Context(), option.WithEndpoint(emu.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	return svc.Spaces.Messages, []googleapi.CallOption{googleapi.QueryParameter("key", q.Get("key")), googleapi.QueryParameter("token", q.Get("token"))}
}

func TestGoogleGoClient(t *testing.T) {
	emu := gchattest.NewServer(t)
	msgs, auth := googleClient(t, emu)
	parent := "spaces/" + emu.Space

	first, err := msgs.Create(parent, &chat.Message{Text: "Hello from google.golang.org/api/chat/v1",
		Thread: &chat.Thread{ThreadKey: "go-thread"}}).
		MessageReplyOption("REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD").Context(t.Context()).Do(auth...)
	if err != nil {
		t.Fatal(err)
	}
	if first.Name == "" || first.Thread == nil || first.Thread.Name == "" {
		t.Fatalf("answer %+v, want name and thread.name", first)
	}
	reply, err := msgs.Create(parent, &chat.Message{Text: "reply", Thread: &chat.Thread{ThreadKey: "go-thread"}}).
		MessageReplyOption("REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD").Context(t.Context()).Do(auth...)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Thread.Name != first.Thread.Name {
		t.Errorf("reply in %s, want %s", reply.Thread.Name, first.Thread.Name)
	}
	byName, err := msgs.Create(parent, &chat.Message{Text: "by name", Thread: &chat.Thread{Name: first.Thread.Name}}).
		MessageReplyOption("REPLY_MESSAGE_OR_FAIL").Context(t.Context()).Do(auth...)
	if err != nil || byName.Thread.Name != first.Thread.Name {
		t.Errorf("reply by thread name: %v, %+v", err, byName)
	}
	cardMsg, err := msgs.Create(parent, &chat.Message{CardsV2: []*chat.CardWithId{{CardId: "c1", Card: &chat.GoogleAppsCardV1Card{
		Header: &chat.GoogleAppsCardV1CardHeader{Title: "Deploy"},
		Sections: []*chat.GoogleAppsCardV1Section{{Widgets: []*chat.GoogleAppsCardV1Widget{
			{TextParagraph: &chat.GoogleAppsCardV1TextParagraph{Text: "v1.2.3 is <b>live</b>"}},
			{ButtonList: &chat.GoogleAppsCardV1ButtonList{Buttons: []*chat.GoogleAppsCardV1Button{{Text: "Open",
				OnClick: &chat.GoogleAppsCardV1OnClick{OpenLink: &chat.GoogleAppsCardV1OpenLink{Url: "https://example.com/"}}}}}},
		}}},
	}}}}).Context(t.Context()).Do(auth...)
	if err != nil {
		t.Fatal(err)
	}
	got := emu.Messages()
	if len(got) != 4 || len(got[3].Message.CardsV2) != 1 || got[3].Message.CardsV2[0].Card.Header.Title != "Deploy" {
		t.Fatalf("emulator holds %d messages; the card message is %+v", len(got), cardMsg)
	}
	if errs := card.Problems(got[3].Problems).Errors(); len(errs) > 0 {
		t.Errorf("the card has errors: %v", errs)
	}
}

func TestGoogleGoClientErrors(t *testing.T) {
	emu := gchattest.NewServer(t)
	msgs, auth := googleClient(t, emu)
	parent := "spaces/" + emu.Space
	text := &chat.Message{Text: "x"}
	for _, tc := range []struct {
		name   string
		call   func() error
		status int
	}{
		{"§11.2 wrong token → 403", func() error {
			_, err := msgs.Create(parent, text).Context(t.Context()).Do(auth[0], googleapi.QueryParameter("token", "wrong"))
			return err
		}, http.StatusForbidden},
		{"§11.2 wrong key → 400", func() error {
			_, err := msgs.Create(parent, text).Context(t.Context()).Do(googleapi.QueryParameter("key", "AIzaSyWrong"), auth[1])
			return err
		}, http.StatusBadRequest},
		{"§11.2 no key, no token → 403", func() error {
			_, err := msgs.Create(parent, text).Context(t.Context()).Do()
			return err
		}, http.StatusForbidden},
		{"§7 reply-or-fail to an unknown thread → 404", func() error {
			_, err := msgs.Create(parent, &chat.Message{Text: "x", Thread: &chat.Thread{ThreadKey: "nope"}}).
				MessageReplyOption("REPLY_MESSAGE_OR_FAIL").Context(t.Context()).Do(auth...)
			return err
		}, http.StatusNotFound},
		{"§6.3 malformed thread name → 400", func() error {
			_, err := msgs.Create(parent, &chat.Message{Text: "x", Thread: &chat.Thread{Name: "threads/x"}}).
				MessageReplyOption("REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD").Context(t.Context()).Do(auth...)
			return err
		}, http.StatusBadRequest},
		{"§11.4 empty message → 400", func() error {
			_, err := msgs.Create(parent, &chat.Message{}).Context(t.Context()).Do(auth...)
			return err
		}, http.StatusBadRequest},
		{"§4.2 over the quota → 429", func() error {
			emu.SetSettings(t, func() gchattest.Settings { s := emu.Settings(); s.QuotaPerSecond = 1; return s }())
			var err error
			for range 3 {
				if _, err = msgs.Create(parent, text).Context(t.Context()).Do(auth...); err != nil {
					break
				}
			}
			return err
		}, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var gerr *googleapi.Error
			if !errors.As(err, &gerr) {
				t.Fatalf("got %v, want a *googleapi.Error", err)
			}
			if gerr.Code != tc.status || gerr.Message == "" {
				t.Errorf("got %d %q, want %d with Google's message", gerr.Code, gerr.Message, tc.status)
			}
		})
	}
}
