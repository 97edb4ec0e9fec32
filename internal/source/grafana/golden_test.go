package grafana

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenNow is when the golden cards are shown: 2024-05-14 10:35 CEST.
var goldenNow = time.Date(2024, 5, 14, 8, 35, 0, 0, time.UTC)

func goldenZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestGolden pins the message the relay builds of each payload in
// testdata, as users see it, in testdata/NAME.golden.json: the same card
// language as Alertmanager's, with Grafana's own links.
func TestGolden(t *testing.T) {
	for _, name := range payloads(t) {
		t.Run(name, func(t *testing.T) {
			g, err := Decode(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			// Shown a little after the last alert started, in Grafana's
			// own zone of the capture (CEST).
			msg := alert.Build(g, alert.Options{Now: goldenNow, Location: goldenZone(t)})
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
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", path, diff)
			}
		})
	}
}
