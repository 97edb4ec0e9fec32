package gchat

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/gchatkit/gchat/card"
)

// encodeReference is Encode done the obvious way, to check the fast one.
func encodeReference(tb testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestEncodeDoesNotEscapeHTML(t *testing.T) {
	msg := &Message{Text: `<https://x.test/?a=1&b=2|a & b> \u003c "q"`, Thread: &Thread{ThreadKey: `k\u0026<>`}}
	got, err := Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"text":"<https://x.test/?a=1&b=2|a & b> \\u003c \"q\"","thread":{"threadKey":"k\\u0026<>"}}`
	if string(got) != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}

// FuzzEncode checks that Encode gives the bytes of an Encoder with HTML
// escaping off, and that the message survives a round trip through its JSON.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "<>&", `\u003c`, `\\u003c`, "a\u2028b", "\x00\x1f\"\\", "ü€😀", `\`, "\xff"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, text, key string) {
		msg := &Message{Text: text, Thread: &Thread{ThreadKey: key},
			CardsV2: []card.CardWithID{{CardID: key, Card: card.New(text, card.NewSection("", card.Text(text)))}}}
		got, err := Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		if want := encodeReference(t, msg); !bytes.Equal(got, want) {
			t.Fatalf("Encode = %q, want %q", got, want)
		}
		if !utf8.ValidString(text) || !utf8.ValidString(key) {
			return // json replaces invalid UTF-8 with U+FFFD: no round trip (Check refuses such text)
		}
		var back Message
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("decode %q: %v", got, err)
		}
		again, _ := Encode(&back)
		if !bytes.Equal(got, again) {
			t.Fatalf("round trip changed the JSON:\n%s\n%s", got, again)
		}
	})
}
