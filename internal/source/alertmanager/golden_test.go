package alertmanager

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenNow is when the golden cards are shown: 4 minutes after the
// DiskFull alerts started.
var goldenNow = time.Date(2026, 11, 27, 7, 22, 43, 0, time.UTC)

// goldenOptions are the Build options per fixture; Now alone for the rest.
var goldenOptions = map[string]alert.Options{
	"mixed-handmade": {MaxAlerts: 4, Mention: "<users/all>", Summary: true, Now: goldenNow.Add(time.Hour)},
}

// TestGolden pins the message built from each payload in testdata, as users
// see it, in testdata/NAME.golden.json.
func TestGolden(t *testing.T) {
	for _, name := range payloads(t) {
		t.Run(name, func(t *testing.T) {
			o, ok := goldenOptions[name]
			if !ok {
				o = alert.Options{Now: goldenNow}
			}
			msg := alert.Build(decodeFixture(t, name), o)
			if ps := msg.Check(); len(ps) > 0 {
				t.Errorf("Check: %v", ps)
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // card HTML reads as written
			enc.SetIndent("", "  ")
			if err := enc.Encode(msg); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.json", b.Bytes())

			// What is pinned is what is sent: the golden file decodes to the message.
			var back gchat.Message
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(msg, back); diff != "" {
				t.Errorf("golden JSON does not round-trip (-built +decoded):\n%s", diff)
			}
		})
	}
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
