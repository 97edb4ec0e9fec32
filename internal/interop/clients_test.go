package interop

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/gchattest"
)

// need returns the path of a program a test needs, or skips the test; under
// CI=true a missing program fails it, since CI must provide it.
func need(t *testing.T, name, how string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (%s); CI must provide it", name, how)
		}
		t.Skipf("%s is missing: %s", name, how)
	}
	return path
}

// TestQuickstartScripts runs scripts written the way Google's webhook
// quickstart samples are, each posting a message, a thread start and a reply
// (docs/google-chat.md §8), and checks that the reply landed in the thread.
func TestQuickstartScripts(t *testing.T) {
	for _, tc := range []struct {
		name, program, how string
		args               []string
		prefix             string
	}{
		{"node fetch", "node", "install Node.js 18 or later", []string{"testdata/quickstart.js"}, "Node"},
		{"python urllib", "python3", "install Python 3", []string{"testdata/quickstart.py"}, "Python"},
		{"java HttpClient without Content-Type", "java", "install a JDK 11 or later (apt-get install default-jdk-headless)", []string{"testdata/App.java"}, "Java"},
		{"curl", "curl", "apt-get install curl", nil, "curl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			program := need(t, tc.program, tc.how)
			args := tc.args
			if tc.program == "curl" {
				program, args = need(t, "sh", "a POSIX shell"), []string{"testdata/quickstart.sh"}
			}
			chat := gchattest.NewServer(t)
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, program, append(args, chat.WebhookURL)...)
			cmd.Env = append(os.Environ(), "JAVA_TOOL_OPTIONS=-Xshare:auto -XX:TieredStopAtLevel=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			msgs := chat.Messages()
			if len(msgs) != 3 {
				t.Fatalf("got %d messages, want 3\n%s", len(msgs), out)
			}
			if !strings.HasPrefix(msgs[0].Message.Text, "Hello from") {
				t.Errorf("first message %q, want the hello", msgs[0].Message.Text)
			}
			start, reply := msgs[1], msgs[2]
			if !strings.HasPrefix(start.Message.Text, tc.prefix) || start.Thread.Name != reply.Thread.Name || !reply.ThreadReply {
				t.Errorf("thread start %q in %s, reply %q in %s (reply flag %v): want the reply in the start's thread",
					start.Message.Text, start.Thread.Name, reply.Message.Text, reply.Thread.Name, reply.ThreadReply)
			}
			if start.Thread.Name == msgs[0].Thread.Name {
				t.Errorf("the threaded message joined the hello's thread %s", start.Thread.Name)
			}
		})
	}
}
