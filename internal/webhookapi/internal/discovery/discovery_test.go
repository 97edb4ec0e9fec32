package discovery

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReduce(t *testing.T) {
	doc := `{"revision":"1","schemas":{
		"Message":{"type":"object","properties":{
			"text":{"type":"string"},
			"sender":{"$ref":"User","readOnly":true},
			"createTime":{"type":"string","format":"google-datetime","description":"Optional. Immutable. This field is output only, except when used in import mode spaces."},
			"cards":{"type":"array","items":{"$ref":"Card"}},
			"labels":{"type":"object","additionalProperties":{"type":"integer","format":"int32"}},
			"kind":{"type":"string","enum":["A","B"]},
			"argumentText":{"type":"string","description":"Output only. Plain text."}}},
		"User":{"type":"object","properties":{"name":{"type":"string"}}},
		"Card":{"type":"object","properties":{}},
		"Unused":{"type":"object","properties":{}}}}`
	s, err := Reduce([]byte(doc), "Message")
	if err != nil {
		t.Fatal(err)
	}
	want := &Schema{Revision: "1", Root: "Message", Types: map[string]*Type{
		"Message": {Fields: map[string]*Field{
			"text":         {Kind: KindString},
			"sender":       {Kind: KindMessage, Ref: "User", Output: true},
			"createTime":   {Kind: KindTimestamp, Output: true},
			"cards":        {Kind: KindMessage, Ref: "Card", Repeated: true},
			"labels":       {Kind: KindInt32, Map: true},
			"kind":         {Kind: KindEnum, Enum: []string{"A", "B"}},
			"argumentText": {Kind: KindString, Output: true},
		}},
		"User": {Fields: map[string]*Field{"name": {Kind: KindString}}},
		"Card": {Fields: map[string]*Field{}},
	}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("Reduce (-want +got):\n%s", diff)
	}
	out, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(out), "\n"); lines != 5 {
		t.Errorf("%d lines, want one per type plus two:\n%s", lines, out)
	}
}

func TestReduceRefusesWhatItCannotCheck(t *testing.T) {
	for _, doc := range []string{
		`{"revision":"1","schemas":{"Message":{"type":"object","properties":{"x":{"type":"string","format":"uuid"}}}}}`,
		`{"revision":"1","schemas":{"Message":{"type":"object","properties":{"x":{"$ref":"Missing"}}}}}`,
		`{"revision":"1","schemas":{"Message":{"type":"object","properties":{"x":{"type":"array","items":{"type":"array","items":{"type":"string"}}}}}}}`,
		`{"schemas":{}}`,
	} {
		if _, err := Reduce([]byte(doc), "Message"); err == nil {
			t.Errorf("Reduce accepted %s", doc)
		}
	}
}
