package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite docs/config.md from the code")

// loaderKeys are the key paths the loader reads, from its own key lists.
func loaderKeys() []string {
	var keys []string
	add := func(prefix string, names []string) {
		for _, n := range names {
			keys = append(keys, prefix+n)
		}
	}
	add("", topKeys)
	add("spaces.NAME.", spaceKeys)
	add("retention.", retentionKeys)
	add("timing.", timingKeys)
	add("server.", serverKeys)
	add("log.", logKeys)
	add("routes[].", routeKeys)
	add("routes[].match[].", matchKeys)
	add("routes[].verify.", verifyKeys)
	add("routes[].escalate[].", escalateKeys)
	for level, names := range templateKeys {
		prefix := "routes[].template."
		if level != "" {
			// card.sections.widgets → card.sections[].widgets[]: every
			// level below card is a list.
			parts := strings.Split(level, ".")
			for i := 1; i < len(parts); i++ {
				if parts[i] != "decorated" && parts[i] != "image" {
					parts[i] += "[]"
				}
			}
			prefix += strings.Join(parts, ".") + "."
		}
		add(prefix, names)
	}
	return keys
}

// TestReferenceCoversEveryKey: the reference documents exactly the keys the
// loader reads, each once, with a type and a meaning.
func TestReferenceCoversEveryKey(t *testing.T) {
	var documented []string
	for _, k := range Reference() {
		if k.Type == "" || k.Doc == "" {
			t.Errorf("%s: no type or no meaning", k.Path)
		}
		if slices.Contains(documented, k.Path) {
			t.Errorf("%s documented twice", k.Path)
		}
		documented = append(documented, k.Path)
	}
	read := loaderKeys()
	for _, k := range read {
		if !slices.Contains(documented, k) {
			t.Errorf("the loader reads %s, which the reference does not document", k)
		}
	}
	for _, k := range documented {
		if !slices.Contains(read, k) {
			t.Errorf("the reference documents %s, which the loader does not read", k)
		}
	}
}

// TestReferenceInSync: docs/config.md is the reference the code makes
// (go test -update rewrites it).
func TestReferenceInSync(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "config.md")
	got := ReferenceMarkdown()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/relay/config -run TestReferenceInSync -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("docs/config.md is out of date; go test ./internal/relay/config -run TestReferenceInSync -update (-file +code):\n%s", diff)
	}
}
