package config

import (
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/httpserve"
)

// TestLoadServer: the server section sets the HTTP limits; what it leaves
// out stays zero, which httpserve takes as its defaults.
func TestLoadServer(t *testing.T) {
	c, err := load(space + "server:\n  body_timeout: 5s\n  idle_timeout: 1m\n  max_connections: 2048\n")
	if err != nil {
		t.Fatal(err)
	}
	want := httpserve.Limits{BodyTimeout: 5 * time.Second, IdleTimeout: time.Minute, MaxConns: 2048}
	if c.Server != want {
		t.Errorf("Server = %+v, want %+v", c.Server, want)
	}
	c, err = load(space)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != (httpserve.Limits{}) {
		t.Errorf("without a server section: Server = %+v, want zero (httpserve's defaults)", c.Server)
	}
}

// TestLoadServerProblems: each bad value is named by its field.
func TestLoadServerProblems(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"not a mapping", "server: fast\n", `gchat.yaml:4:9: server: want a mapping (body_timeout:, max_connections:, …), got a value`},
		{"unknown key", "server:\n  body_timout: 5s\n", `gchat.yaml:5:3: server: unknown key "body_timout" (did you mean "body_timeout"?)`},
		{"not a duration", "server:\n  idle_timeout: long\n", `gchat.yaml:5:17: server.idle_timeout: "long" is not a duration (want e.g. 60s)`},
		{"zero duration", "server:\n  body_timeout: 0s\n", `gchat.yaml:5:17: server.body_timeout: 0s: want a duration above zero`},
		{"negative duration", "server:\n  write_timeout: -1s\n", `gchat.yaml:5:18: server.write_timeout: -1s: want a duration above zero`},
		{"not a number", "server:\n  max_connections: many\n", `gchat.yaml:5:20: server.max_connections: "many": want a whole number from 16 to 1000000`},
		{"too few connections", "server:\n  max_connections: 2\n", `gchat.yaml:5:20: server.max_connections: "2": want a whole number from 16 to 1000000`},
		{"zero streams", "server:\n  max_streams: 0\n", `gchat.yaml:5:16: server.max_streams: "0": want a whole number from 1 to 1000000`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(space + tt.src)
			if err == nil {
				t.Fatalf("Load succeeded, want %s", tt.want)
			}
			if got := problems(t, err); got != tt.want {
				t.Errorf("problems:\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}
