package webhookapi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gchatkit/gchat/internal/webhookapi/internal/discovery"
)

// TestSchemaUpToDate regenerates schema.json in memory from the discovery
// document of the google.golang.org/api version in go.mod and compares it
// with the embedded file.
func TestSchemaUpToDate(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is not in PATH")
		}
		t.Skip("the go command is not in PATH; it locates the google.golang.org/api module")
	}
	dir, err := discovery.ModuleDir("google.golang.org/api")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "chat", "v1", "chat-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := discovery.Compact(doc, "Message")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, schemaJSON) {
		s, _ := discovery.Reduce(doc, "Message")
		t.Errorf("schema.json is not what %s gives (revision %s): run go generate ./internal/webhookapi", dir, s.Revision)
	}
}

func TestSchemaCompiles(t *testing.T) {
	s := loadSchema()
	if s.revision == "" || s.root.name != "Message" {
		t.Fatalf("revision %q root %q", s.revision, s.root.name)
	}
	// Every kind in the schema is one the walker knows.
	seen := map[*msgType]bool{}
	var visit func(*msgType)
	visit = func(m *msgType) {
		if seen[m] {
			return
		}
		seen[m] = true
		for name, f := range m.fields {
			if _, ok := kindNames[f.kind]; !ok && f.kind != discovery.KindMessage {
				t.Errorf("%s.%s: kind %q unknown to the walker", m.name, name, f.kind)
			}
			if f.msg != nil {
				visit(f.msg)
			}
		}
	}
	visit(s.root)
	if len(seen) < 100 {
		t.Errorf("only %d types reachable from Message", len(seen))
	}
	for _, name := range []string{"text", "cardsV2", "cards_v2", "thread", "cards", "fallbackText", "fallback_text", "accessoryWidgets"} {
		if s.root.fields[name] == nil {
			t.Errorf("Message has no field %q", name)
		}
	}
	if f := s.root.fields["sender"]; f == nil || !f.output {
		t.Error("Message.sender is not output-only")
	}
	if f := s.root.fields["createTime"]; f == nil || !f.output {
		t.Error("Message.createTime is not output-only")
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"cardsV2": "cards_v2", "threadKey": "thread_key", "text": "text", "uncollapsibleWidgetsCount": "uncollapsible_widgets_count", "body": "body"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
