package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzLoad: Load never panics; it returns either a Config that validates
// again, or Problems that each carry a line when the YAML parsed, and none
// quotes a secret the environment or a file supplied.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"gchat.yaml", "minimal.yaml", "replicas.yaml", "alertmanager.yaml", "events.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", space, space + "    pace: fast\n", "spaces: &s\n  <<: [*s, *s]\n",
		"a: &a [*a]\nspaces: {x: {<<: *a}}\n", "listen: :1\n" + space + "    ingest_token_file: token\n",
		"spaces:\n  a: {webhook_url_file: hook, ingest_token: ${TOKEN}, on_failure: drop, max_age: 1d}\nretention: {dead: 1s}\noperator: a\nroutes: [1]\n",
		space + "routes:\n  - {name: r, source: json, spaces: [alerts], template: {text: '{{ .a }}', card: {sections: [{widgets: [{buttons: [{text: x, url: '{{.u}}'}]}]}]}}}\n",
		space + "routes:\n  - {name: r, source: alertmanager, spaces: alerts, match: [{when: {a: b}, spaces: [alerts]}], mentions: {x: all}, thread: day}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := load(string(data))
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("Load accepted a config that Validate rejects: %v", err)
			}
			assertNoSecret(t, "Summary", c.Summary())
			return
		}
		var ps *Problems
		if !errors.As(err, &ps) || len(ps.List) == 0 {
			t.Fatalf("Load error %v (%T) is not a non-empty *Problems", err, err)
		}
		parsed := parses(data)
		for _, p := range ps.List {
			if parsed && p.Line < 1 {
				t.Errorf("problem without a line: %q", p.Error())
			}
		}
		// The test's secrets come from getenv and readFile; fuzzed bytes
		// may spell a canary themselves, so only check when they do not.
		if !strings.Contains(string(data), "CANARY") {
			assertNoSecret(t, "problems", err.Error())
		}
	})
}

// parses reports whether data is a stream of well-formed YAML documents.
func parses(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		switch err := dec.Decode(&doc); {
		case errors.Is(err, io.EOF):
			return true
		case err != nil:
			return false
		}
	}
}
