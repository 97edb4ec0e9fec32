package gchat

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
)

// TestZeroClientHonoursProxyEnvironment runs a send in a child process whose
// HTTPS_PROXY points at a local server: the zero Client must go through it.
// (Go reads the proxy variables once per process, hence the child.)
func TestZeroClientHonoursProxyEnvironment(t *testing.T) {
	if os.Getenv("GCHAT_PROXY_CHILD") == "1" {
		hook, err := ParseWebhook("http://chat.example.test/v1/spaces/S/messages?key=k&token=t")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Send(t.Context(), hook, &Message{Text: "via proxy"}); err != nil {
			t.Fatal(err)
		}
		return
	}
	seen := make(chan string, 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Method + " " + r.URL.String() // a proxied request carries the absolute URL
		fmt.Fprint(w, `{"name":"spaces/S/messages/M"}`)
	}))
	defer proxy.Close()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestZeroClientHonoursProxyEnvironment$")
	cmd.Env = append(os.Environ(), "GCHAT_PROXY_CHILD=1", "HTTP_PROXY="+proxy.URL, "NO_PROXY=", "no_proxy=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	select {
	case got := <-seen:
		if want := "POST http://chat.example.test/v1/spaces/S/messages?key=k&token=t&requestId="; len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("proxy saw %q, want %q…", got, want)
		}
	default:
		t.Fatal("the request did not go through the proxy")
	}
}
