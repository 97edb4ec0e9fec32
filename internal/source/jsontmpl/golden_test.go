package jsontmpl

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// golden is what a golden file holds: the result of a sample spec over its
// sample payload, the message exactly as it is sent.
type golden struct {
	ThreadKey string          `json:"thread_key"`
	DedupKey  string          `json:"dedup_key"`
	Message   json.RawMessage `json:"message"`
}

// readFile returns the bytes of testdata/name.
func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// decodeSpec decodes a route's YAML into a Spec, refusing unknown fields so
// that a typo in an example shows.
func decodeSpec(tb testing.TB, data []byte) Spec {
	tb.Helper()
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestExamples runs each sample: its YAML decodes into the Spec written as a
// Go value in examples_test.go, compiles, and renders its payload into the
// golden message, which passes Check.
func TestExamples(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			spec := decodeSpec(t, readFile(t, ex.name+".route.yaml"))
			if diff := cmp.Diff(ex.spec, spec); diff != "" {
				t.Errorf("%s.route.yaml does not decode to the Go spec (-go +yaml):\n%s", ex.name, diff)
			}
			tmpl, err := Compile(spec)
			if err != nil {
				t.Fatalf("Compile:\n%v", err)
			}
			r, err := tmpl.Execute(readFile(t, ex.name+".json"))
			if err != nil {
				t.Fatalf("Execute:\n%v", err)
			}
			if ps := r.Message.Check(); len(ps) > 0 {
				t.Errorf("Check: %v", ps) // warnings too: an example should be clean
			}
			msg, err := gchat.Encode(&r.Message)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(golden{ThreadKey: r.ThreadKey, DedupKey: r.DedupKey, Message: msg}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", ex.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readFile(t, ex.name+".golden.json")
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s differs (-want +got); run go test -update if the change is right:\n%s", path, diff)
			}
		})
	}
}

// TestExamplesSkip checks the examples' when: an event they do not post is
// skipped, not an error.
func TestExamplesSkip(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p map[string]any)
	}{
		{"github-issues", func(p map[string]any) { p["action"] = "labeled" }},
		{"github-pull-request", func(p map[string]any) { p["action"] = "synchronize" }},
		{"gitlab-pipeline", func(p map[string]any) { p["object_attributes"].(map[string]any)["status"] = "running" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Compile(decodeSpec(t, readFile(t, tc.name+".route.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			var p map[string]any
			if err := json.Unmarshal(readFile(t, tc.name+".json"), &p); err != nil {
				t.Fatal(err)
			}
			tc.edit(p)
			b, _ := json.Marshal(p)
			if _, err := tmpl.Execute(b); err != ErrSkip {
				t.Errorf("Execute: %v, want ErrSkip", err)
			}
		})
	}
}
