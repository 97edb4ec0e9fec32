package realsenders

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/argoproj/notifications-engine/pkg/services"
)

// TestArgoCDMatchesCorpus sends through the real Argo CD notifications
// engine's googlechat service (a text message in a thread, and a cardsV2
// template) and checks that each request is the corpus case (method, path
// and query, Content-Type, User-Agent, body; the cardId, a random UUID, is
// compared by shape).
func TestArgoCDMatchesCorpus(t *testing.T) {
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- captured{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), string(body)}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		io.WriteString(w, `{"name":"spaces/SPACE_ID/messages/M.T"}`)
	}))
	defer srv.Close()
	svc := services.NewGoogleChatService(services.GoogleChatOptions{WebhookUrls: map[string]string{
		"ops": srv.URL + "/v1/spaces/SPACE_ID/messages?key=KEY&token=TOKEN",
	}})
	uuid := regexp.MustCompile(`"cardId":"[0-9a-f-]{36}"`)
	for _, tc := range []struct {
		name string
		n    services.Notification
	}{
		{"argocd-text-thread", services.Notification{
			Message:    "Application shop sync succeeded at 2026-12-06T12:00:00Z.",
			GoogleChat: &services.GoogleChatNotification{ThreadKey: "shop"},
		}},
		{"argocd-cardsv2", services.Notification{
			Message: "ignored when cards are set",
			GoogleChat: &services.GoogleChatNotification{CardsV2: `- header:
    title: Application shop is out of sync
  sections:
    - widgets:
        - decoratedText:
            topLabel: Sync status
            text: OutOfSync
        - buttonList:
            buttons:
              - text: Open in Argo CD
                onClick:
                  openLink:
                    url: https://argocd.example.com/applications/shop
`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := corpusCase(t, tc.name)
			if err := svc.Send(tc.n, services.Destination{Service: "googlechat", Recipient: "ops"}); err != nil {
				t.Fatalf("send: %v", err)
			}
			r := <-got
			r.body = uuid.ReplaceAllString(r.body, `"cardId":"UUID"`)
			want := captured{c.Method, c.Target, c.Header.Get("Content-Type"), c.Header.Get("User-Agent"), uuid.ReplaceAllString(string(c.Body), `"cardId":"UUID"`)}
			if r != want {
				t.Errorf("Argo CD sent %+v\nthe corpus has %+v", r, want)
			}
			if !json.Valid([]byte(r.body)) {
				t.Errorf("not JSON: %s", r.body)
			}
		})
	}
}
