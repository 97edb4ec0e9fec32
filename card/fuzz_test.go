package card_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzCardJSON checks that the model is a stable image of its JSON: whatever
// decodes into a CardWithID encodes, decodes to the same value and encodes to
// the same bytes; and that Check never panics on it.
func FuzzCardJSON(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Fields the golden cards leave out: interactive widgets kept as raw JSON,
	// nulls, and a deprecated pointer bool.
	f.Add([]byte(`{"cardId":"i","card":{"sections":[{"widgets":[
		{"textInput":{"name":"n", "label":"<L>"}},{"selectionInput":null},{"dateTimePicker":[1, 2.50]},
		{"decoratedText":{"text":"t","switchControl":{"name":"s"},"onClick":{"action":{"function":"f","parameters":[{"key":"k","value":"v"}]}}}},
		{"chipList":{"chips":[{"label":"c","enabled":false,"onClick":{"overflowMenu":{"items":[]},"card":{}}}]}},
		{"buttonList":{"buttons":[{"text":"b","color":{"red":1e-7,"alpha":0}}]}},null]}, null]}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var first card.CardWithID
		if err := json.Unmarshal(data, &first); err != nil {
			return
		}
		_ = card.Check([]card.CardWithID{first, first}, "cardsV2")

		b1 := wire(t, first)
		var second card.CardWithID
		if err := json.Unmarshal(b1, &second); err != nil {
			t.Fatalf("decode own encoding: %v\n%s", err, b1)
		}
		// Raw JSON fields are compacted by the first encoding, so they are
		// compared as compact JSON. omitempty drops an empty list, which
		// Google reads as absent too (proto3 lists have no presence).
		if diff := cmp.Diff(first, second, cmp.Transformer("compact", compact), notRaw(cmpopts.EquateEmpty())); diff != "" {
			t.Errorf("round trip changed the card (-first +second):\n%s", diff)
		}
		if b2 := wire(t, second); !bytes.Equal(b1, b2) {
			t.Errorf("encoding is not stable:\n%s\n%s", b1, b2)
		}
	})
}

// wire encodes v as the client sends it.
func wire(tb testing.TB, v any) []byte {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return b.Bytes()
}

// notRaw applies opt to everything but json.RawMessage, which compact handles.
func notRaw(opt cmp.Option) cmp.Option {
	raw := reflect.TypeFor[json.RawMessage]()
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().Type() != raw }, opt)
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid: " + string(raw)
	}
	return b.String()
}
