package gchat_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
	chat "google.golang.org/api/chat/v1"
)

// TestCardSchema proves that package card speaks Google's schema: every golden card
// message decodes into the official generated chat.Message with unknown fields
// rejected, and what chat.Message encodes decodes back into package card, again
// with unknown fields rejected, with nothing lost on the way. A misspelt JSON name
// on either side fails here, a wrong letter case included.
//
// Two limits of the proof: chat/v1 decodes Color and ImageCropStyle with its own
// UnmarshalJSON, which does not inherit DisallowUnknownFields, so names inside
// those two objects are checked only on the way back; and the generated types drop
// zero values (false, 0, "") when encoding, so golden cards should not rely on an
// explicit zero.
func TestCardSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("card", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden cards in card/testdata")
	}
	type message struct {
		CardsV2 []card.CardWithID `json:"cardsV2"`
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"cardsV2":[` + string(golden) + `]}`)

			var want message
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatalf("decode into card: %v", err)
			}

			// (a) Our JSON, read by Google's types.
			var official chat.Message
			if err := decodeStrict(body, &official); err != nil {
				t.Fatalf("decode into chat.Message: %v", err)
			}
			if got := len(official.CardsV2); got != len(want.CardsV2) {
				t.Fatalf("got %d cards in chat.Message, want %d", got, len(want.CardsV2))
			}

			// (b) Google's JSON, read by our types.
			again, err := json.Marshal(&official)
			if err != nil {
				t.Fatalf("encode chat.Message: %v", err)
			}
			var got message
			if err := decodeStrict(again, &got); err != nil {
				t.Fatalf("decode chat.Message JSON into card: %v\n%s", err, again)
			}

			// (c) Nothing lost. encoding/json matches field names without regard to
			// case, and Google's parser does not, so the two JSON texts are also
			// compared as generic trees, whose map keys are compared exactly.
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip through chat.Message changed the cards (-want +got):\n%s", diff)
			}
			var ours, theirs any
			if err := json.Unmarshal(body, &ours); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &theirs); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ours, theirs); diff != "" {
				t.Errorf("chat.Message writes other JSON than package card (-card +chat):\n%s", diff)
			}
		})
	}
}

// decodeStrict decodes one JSON value into v, rejecting unknown field names.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestCardFieldNames checks every JSON name of package card, including those no
// golden card uses, against the generated type of the same schema: walking both
// type trees together, each field of ours must exist, spelt exactly, on Google's.
func TestCardFieldNames(t *testing.T) {
	seen := make(map[[2]reflect.Type]bool) // report each pair of types once
	var walk func(path string, ours, theirs reflect.Type)
	walk = func(path string, ours, theirs reflect.Type) {
		ours, theirs = elem(ours), elem(theirs)
		if ours.Kind() != reflect.Struct || theirs.Kind() != reflect.Struct || seen[[2]reflect.Type{ours, theirs}] {
			return
		}
		seen[[2]reflect.Type{ours, theirs}] = true
		names := make(map[string]reflect.Type)
		for i := range theirs.NumField() {
			f := theirs.Field(i)
			if name := jsonName(f); name != "" {
				names[name] = f.Type
			}
		}
		for i := range ours.NumField() {
			f := ours.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			typ, ok := names[name]
			if !ok {
				t.Errorf("%s.%s: %s has no field %q", path, name, theirs.Name(), name)
				continue
			}
			walk(path+"."+name, f.Type, typ)
		}
	}
	walk("CardWithID", reflect.TypeFor[card.CardWithID](), reflect.TypeFor[chat.CardWithId]())
}

// elem strips pointers and slices; json.RawMessage, a byte slice, stays as is.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		t = t.Elem()
	}
	return t
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}
