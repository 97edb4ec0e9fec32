package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// indent puts block-level tags on lines of their own so that golden files
// can be read and diffed; it is for golden files only.
func indent(s string) string {
	for _, t := range []string{"<div", "<details", "<summary", "<ul", "<li", "<blockquote", "<pre"} {
		s = strings.ReplaceAll(s, t, "\n"+t)
	}
	return strings.TrimPrefix(s, "\n") + "\n"
}

// mustSafe fails t when out does not pass checkSafe.
func mustSafe(t testing.TB, in, out string) {
	t.Helper()
	if err := checkSafe(out); err != nil {
		t.Fatalf("unsafe output: %v\ninput:  %q\noutput: %s", err, in, out)
	}
}
