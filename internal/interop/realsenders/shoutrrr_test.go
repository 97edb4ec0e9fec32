// Package realsenders runs real sender libraries, fetched from the Go module
// proxy, against gchat, so that the corpus of real senders
// (../testdata/senders) cannot drift from what they send. It is a module of
// its own so that gchat's module does not depend on the senders.
package realsenders

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/containrrr/shoutrrr"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/interop"
)

// captured is a request as a server received it.
type captured struct {
	method, target, contentType, userAgent, body string
}

// TestShoutrrrMatchesCorpus sends through the real shoutrrr googlechat
// service and checks that its request is the corpus's shoutrrr-text case
// (method, path and query, Content-Type, User-Agent, body), and that the
// emulator accepts it.
func TestShoutrrrMatchesCorpus(t *testing.T) {
	c := corpusCase(t, "shoutrrr-text")
	got := make(chan captured, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- captured{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), string(body)}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		io.WriteString(w, `{"name":"spaces/SPACE_ID/messages/M.T"}`)
	}))
	defer srv.Close()
	// shoutrrr posts with http.Post, always over https: the default
	// transport must trust the test server for the length of this test.
	tr := http.DefaultTransport.(*http.Transport)
	saved := tr.TLSClientConfig
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	t.Cleanup(func() { tr.TLSClientConfig = saved })

	host := srv.Listener.Addr().String()
	if err := shoutrrr.Send("googlechat://"+host+"/v1/spaces/SPACE_ID/messages?key=KEY&token=TOKEN", "Watchtower updated 2 containers: web, worker"); err != nil {
		t.Fatalf("shoutrrr send: %v", err)
	}
	r := <-got
	want := captured{c.Method, c.Target, c.Header.Get("Content-Type"), c.Header.Get("User-Agent"), string(c.Body)}
	if r.method != want.method || r.target != want.target || r.contentType != want.contentType || r.userAgent != want.userAgent || r.body != want.body {
		t.Errorf("shoutrrr sent %+v\nthe corpus has %+v", r, want)
	}

	// The same request, as sent, is accepted by the emulator.
	set := emulator.DefaultSettings()
	emu := emulator.NewServer(emulator.Config{Settings: &set}, nil)
	defer emu.Close()
	es := httptest.NewServer(emu)
	defer es.Close()
	sp, err := emu.CreateSpace(emulator.SpaceSpec{DisplayName: "Watchtower", Webhooks: []emulator.WebhookSpec{{Name: "shoutrrr"}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sp.Webhooks[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	sent := interop.Case{Method: r.method, Target: r.target, Header: http.Header{"Content-Type": {r.contentType}, "User-Agent": {r.userAgent}}, Body: []byte(r.body)}
	req, err := sent.NewRequest(es.URL, sp.ID, u.Query().Get("key"), u.Query().Get("token"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := es.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("emulator answered %d to shoutrrr's request", resp.StatusCode)
	}
}

func corpusCase(t *testing.T, name string) interop.Case {
	t.Helper()
	cases, err := interop.LoadCorpus(filepath.Join("..", interop.SendersDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("the corpus has no case %s", name)
	return interop.Case{}
}
