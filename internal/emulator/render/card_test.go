package render

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// loadCards reads the library's golden cards.
func loadCards(tb testing.TB) map[string]card.CardWithID {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "card", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden cards: %v", err)
	}
	cards := make(map[string]card.CardWithID)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var c card.CardWithID
		if err := json.Unmarshal(data, &c); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		cards[strings.TrimSuffix(filepath.Base(f), ".json")] = c
	}
	return cards
}

func TestCardsGolden(t *testing.T) {
	for name, c := range loadCards(t) {
		t.Run(name, func(t *testing.T) {
			out := string(Cards([]card.CardWithID{c}))
			mustSafe(t, name, out)
			golden(t, "card_"+name+".golden", indent(out))
		})
	}
}

func TestCardsEmpty(t *testing.T) {
	if got := Cards(nil); got != "" {
		t.Errorf("Cards(nil) = %q, want empty", got)
	}
}

// TestCardHTML pins the sanitiser's rules for card text.
func TestCardHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"subset", `<b>b</b><i>i</i><u>u</u><s>s</s><code>c</code><time>t</time>`, `<b>b</b><i>i</i><u>u</u><s>s</s><code>c</code><time>t</time>`},
		{"lists", `<ul><li>one<li>two</ul><ol><li>x</li></ol>`, `<ul><li>one</li><li>two</li></ul><ol><li>x</li></ol>`},
		{"pre", "<pre><code>a\n  b</code></pre>", "<pre><code>a\n  b</code></pre>"},
		{"br", `a<br>b<br/>c</br>d`, `a<br>b<br>c<br>d`}, // </br> is <br> to the HTML parser too
		{"newline", "a\nb", "a<br>b"},
		{"entities", `3m &amp; 2s &lt;b&gt; &copy; & x`, `3m &amp; 2s &lt;b&gt; © &amp; x`},
		{"case", `<B>x</B>`, `<b>x</b>`},
		{"font", `<font color="#D93025">red</font>`, `<font color="#d93025">red</font>`},
		{"font-name", `<font color=red>red</font>`, `<font color="red">red</font>`},
		{"font-css", `<font color="red;background:url(javascript:alert(1))">x</font>`, `<font>x</font>`},
		{"font-style", `<font color="red" style="x" face="y">x</font>`, `<font color="red">x</font>`},
		{"a", `<a href="https://example.com/?a=1&amp;b=2">x</a>`, `<a class="gc-link" href="https://example.com/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer nofollow">x</a>`},
		{"a-mailto", `<a href='mailto:a@example.com'>m</a>`, `<a class="gc-link" href="mailto:a@example.com" target="_blank" rel="noopener noreferrer nofollow">m</a>`},
		{"a-js", `<a href="javascript:alert(1)">x</a>`, `<a class="gc-link-blocked">x</a>`},
		{"a-js-entity", `<a href="java&#115;cript:alert(1)">x</a>`, `<a class="gc-link-blocked">x</a>`},
		{"a-js-hex-entity", `<a href="&#x6A;avascript:alert(1)">x</a>`, `<a class="gc-link-blocked">x</a>`},
		{"a-js-space", "<a href=\" \tJaVaScRiPt:alert(1)\">x</a>", `<a class="gc-link-blocked">x</a>`},
		{"a-js-newline", "<a href=\"java\nscript:alert(1)\">x</a>", `<a class="gc-link-blocked">x</a>`},
		{"a-data", `<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`, `<a class="gc-link-blocked">x</a>`},
		{"a-relative", `<a href="/admin">x</a>`, `<a class="gc-link-blocked">x</a>`},
		{"a-handler", `<a href="https://e.example" onmouseover="alert(1)">x</a>`, `<a class="gc-link" href="https://e.example" target="_blank" rel="noopener noreferrer nofollow">x</a>`},
		{"a-quote", `<a href='https://e.example/"onclick="alert(1)'>x</a>`, `<a class="gc-link" href="https://e.example/&#34;onclick=&#34;alert(1)" target="_blank" rel="noopener noreferrer nofollow">x</a>`},
		{"a-nested", `<a href="https://a.example">a<a href="https://b.example">b</a></a>`, `<a class="gc-link" href="https://a.example" target="_blank" rel="noopener noreferrer nofollow">a</a><a class="gc-link" href="https://b.example" target="_blank" rel="noopener noreferrer nofollow">b</a>`},
		{"b-handler", `<b onclick="alert(1)">x</b>`, `<b>x</b>`},
		{"script", `<script>alert(1)</script>`, `&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"style", `<style>*{background:url(x)}</style>`, `&lt;style&gt;*{background:url(x)}&lt;/style&gt;`},
		{"img", `<img src=x onerror=alert(1)>`, `&lt;img src=x onerror=alert(1)&gt;`},
		{"svg", `<svg><script>alert(1)</script></svg>`, `&lt;svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;`},
		{"math", `<math><mi xlink:href="javascript:alert(1)">x</mi></math>`, `&lt;math&gt;&lt;mi xlink:href=&#34;javascript:alert(1)&#34;&gt;x&lt;/mi&gt;&lt;/math&gt;`},
		{"comment", `<!-- x --><b>y</b>`, `&lt;!-- x --&gt;<b>y</b>`},
		{"entity-tag", `&lt;script&gt;`, `&lt;script&gt;`},
		{"unclosed", `<b><i>x`, `<b><i>x</i></b>`},
		{"misnested", `<b><i>x</b>y</i>`, `<b><i>x</i></b>y`},
		{"stray-close", `x</b></div></li>`, `x&lt;/div&gt;`},
		{"attr-gt", `<b title="a>b">x</b>`, `<b>x</b>`},
		{"unterminated", `<b title="x`, `&lt;b title=&#34;x`},
		{"lt-text", `a < b > c`, `a &lt; b &gt; c`},
		{"deep", strings.Repeat("<b>", 40) + "x", strings.Repeat("<b>", maxDepth) + "x" + strings.Repeat("</b>", maxDepth)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeCardHTML(&b, tc.in)
			got := b.String()
			mustSafe(t, tc.in, got)
			if got != tc.want {
				t.Errorf("card HTML %q\ngot  %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

// hostile is card text, URL or name for every field in hostileCard.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(1)`,
	`javascript:alert(1)`,
	" JaVaScRiPt:alert(1)",
	"java\tscript:alert(1)",
	`java&#115;cript:alert(1)`,
	`data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+`,
	`http://example.com/plain-http.png`,
	`//evil.example/x.png`,
	`<a href="javascript:alert(1)" onmouseover=alert(1)>x</a>`,
	`<font color="red;background:url(javascript:alert(1))">x</font>`,
	`<svg onload=alert(1)>`,
	`<style>body{display:none}</style>`,
	`</div></div><script>alert(1)</script>`,
	`https://example.com/" onerror="alert(1)`,
}

// hostileCard puts s into every field of a card that the renderer shows.
func hostileCard(s string) card.CardWithID {
	link := &card.OnClick{OpenLink: &card.OpenLink{URL: s}}
	icon := &card.Icon{IconURL: s, AltText: s}
	btn := &card.Button{Text: s, Icon: icon, AltText: s, OnClick: link, Color: &card.Color{Red: 1}}
	return card.CardWithID{CardID: s, Card: card.Card{
		Header: &card.Header{Title: s, Subtitle: s, ImageURL: s, ImageAltText: s},
		Sections: []*card.Section{{
			Header:                    s,
			Collapsible:               true,
			UncollapsibleWidgetsCount: 1,
			CollapseControl:           &card.CollapseControl{ExpandButton: &card.Button{Text: s}, CollapseButton: &card.Button{Text: s}},
			Widgets: []*card.Widget{
				{TextParagraph: &card.TextParagraph{Text: s, MaxLines: 3}},
				{TextParagraph: &card.TextParagraph{Text: s, TextSyntax: card.SyntaxMarkdown}},
				{DecoratedText: &card.DecoratedText{TopLabel: s, Text: s, BottomLabel: s, StartIcon: icon,
					EndIcon: &card.Icon{KnownIcon: s}, Button: btn, OnClick: link}},
				{DecoratedText: &card.DecoratedText{Text: s, StartIcon: &card.Icon{MaterialIcon: &card.MaterialIcon{Name: s}}}},
				{ButtonList: &card.ButtonList{Buttons: []*card.Button{btn, {Text: s, Disabled: true, OnClick: link}}}},
				{Image: &card.Image{ImageURL: s, AltText: s, OnClick: link}},
				{Columns: &card.Columns{ColumnItems: []*card.Column{{Widgets: []*card.ColumnWidget{{TextParagraph: &card.TextParagraph{Text: s}}}}}}},
				{Grid: &card.Grid{Title: s, OnClick: link, Items: []*card.GridItem{{Title: s, Subtitle: s, Image: &card.ImageComponent{ImageURI: s, AltText: s}}}}},
				{ChipList: &card.ChipList{Chips: []*card.Chip{{Label: s, Icon: icon, AltText: s, OnClick: link}}}},
				{Carousel: &card.Carousel{CarouselCards: []*card.CarouselCard{{
					Widgets:       []*card.NestedWidget{{TextParagraph: &card.TextParagraph{Text: s}}},
					FooterWidgets: []*card.NestedWidget{{ButtonList: &card.ButtonList{Buttons: []*card.Button{btn}}}},
				}}}},
			},
		}},
	}}
}

func TestCardsHostile(t *testing.T) {
	var all strings.Builder
	for i, s := range hostile {
		out := string(Cards([]card.CardWithID{hostileCard(s)}))
		mustSafe(t, s, out)
		fmt.Fprintf(&all, "### %d %q\n%s\n", i, s, indent(out))
	}
	golden(t, "card_hostile.golden", all.String())
}

func TestMessage(t *testing.T) {
	cards := loadCards(t)
	tests := []struct {
		name string
		m    gchat.Message
	}{
		{"empty", gchat.Message{}},
		{"text", gchat.Message{Text: "*Deploy* of `api` done: <https://ci.example/1|build 1>"}},
		{"text-and-card", gchat.Message{Text: "alert", CardsV2: []card.CardWithID{cards["text"]}, FallbackText: "Build <#42>"}},
		{"v1", gchat.Message{Cards: json.RawMessage(`[{"header":{"title":"Old <b>card</b>","subtitle":"v1"},"sections":[{"header":"S","widgets":[
			{"textParagraph":{"text":"<b>hi</b><script>x</script>"}},
			{"keyValue":{"topLabel":"Top","content":"<a href=\"javascript:alert(1)\">c</a>","bottomLabel":"Bottom"}},
			{"image":{"imageUrl":"https://example.com/x.png"}}]}]}]`)}},
		{"v1-unreadable", gchat.Message{Cards: json.RawMessage(`{"not":"a list"}`)}},
	}
	var all strings.Builder
	for _, tc := range tests {
		out := string(Message(tc.m))
		mustSafe(t, tc.name, out)
		fmt.Fprintf(&all, "### %s\n%s\n", tc.name, indent(out))
	}
	golden(t, "message.golden", all.String())
}

func TestProblems(t *testing.T) {
	if got := Problems(nil); got != "" {
		t.Errorf("Problems(nil) = %q, want empty", got)
	}
	bad := hostileCard(`javascript:alert("<x>")`)
	ps := card.Check([]card.CardWithID{bad, bad}, "cardsV2")
	ps = append(ps, card.Problem{Severity: card.Warning, Message: `Google would show this message empty: <b>&</b>`})
	out := string(Problems(ps))
	mustSafe(t, "problems", out)
	golden(t, "problems.golden", indent(out))
}

func TestStylesheet(t *testing.T) {
	css := Stylesheet()
	for _, class := range []string{".gc-card", ".gc-btn", ".gc-text", ".gc-problems", ".gc-collapse"} {
		if !strings.Contains(css, class) {
			t.Errorf("Stylesheet has no rule for %s", class)
		}
	}
}
