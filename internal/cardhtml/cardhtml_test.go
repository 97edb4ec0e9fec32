package cardhtml

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		in   string
		want Tag
		ok   bool
	}{
		{`<b>x`, Tag{Name: "b", End: 3}, true},
		{`</B>`, Tag{Name: "b", Closing: true, End: 4}, true},
		{`<br/>`, Tag{Name: "br", End: 5}, true},
		{`<a HREF="https://x/?a=1&amp;b" target=_blank>`, Tag{Name: "a", Attrs: []Attr{{"href", "https://x/?a=1&amp;b"}, {"target", "_blank"}}, End: 45}, true},
		{`<font color='#ff0000' bold>`, Tag{Name: "font", Attrs: []Attr{{"color", "#ff0000"}, {"bold", ""}}, End: 27}, true},
		{`< b>`, Tag{}, false},        // a space after '<': text
		{`<b`, Tag{}, false},          // not closed
		{`<a href="x>`, Tag{}, false}, // quote not closed
		{`<a =x>`, Tag{}, false},      // no attribute name
		{`<1>`, Tag{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTag(tt.in, 0)
		if ok != tt.ok || !cmp.Equal(got, tt.want) {
			t.Errorf("ParseTag(%q) = %+v, %t; want %+v, %t", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if v := (Tag{Attrs: []Attr{{"href", "u"}}}).Attr("href"); v != "u" {
		t.Errorf("Attr(href) = %q", v)
	}
}

// FuzzParseTag: never panics; a tag it reads ends inside the input, past
// its '<', and has a lowercase name, as have its attributes.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"<b>", `<a href="x" title='y' z=w>`, "</font >", "<br/>", "<<b>", "<a b=<c>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return
		}
		tag, ok := ParseTag(s, i)
		if !ok {
			return
		}
		if tag.End <= i || tag.End > len(s) || s[tag.End-1] != '>' {
			t.Fatalf("ParseTag(%q) ended at %d", s, tag.End)
		}
		if tag.Name == "" || tag.Name != strings.ToLower(tag.Name) {
			t.Fatalf("ParseTag(%q) name %q", s, tag.Name)
		}
		for _, a := range tag.Attrs {
			if a.Name == "" || a.Name != strings.ToLower(a.Name) {
				t.Fatalf("ParseTag(%q) attribute %q", s, a.Name)
			}
		}
	})
}
