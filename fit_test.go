package gchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gchatkit/gchat/card"
	"github.com/google/go-cmp/cmp"
)

// checkFit runs fit and checks what every result must hold: each part within
// the limits as encoded, valid UTF-8 from valid UTF-8, the text split into
// pieces that rejoin to the original with only fences added, balanced fences,
// one thread, and derived ids. It returns the parts.
func checkFit(tb testing.TB, msg Message, opts Options, lim Limits) []Part {
	tb.Helper()
	parts, segs, err := fit(msg, opts, lim)
	if err != nil {
		tb.Fatalf("Fit: %v", err)
	}
	if len(parts) == 0 {
		tb.Fatalf("Fit returned no parts")
	}
	l := lim.withDefaults()
	for i, p := range parts {
		b, err := Encode(&p.Message)
		if err != nil {
			tb.Fatalf("part %d: Encode: %v", i+1, err)
		}
		if len(b) > l.MaxBytes {
			tb.Errorf("part %d: got %d bytes encoded, want at most %d", i+1, len(b), l.MaxBytes)
		}
		if n := utf16Len(p.Message.Text); n > l.MaxText {
			tb.Errorf("part %d: got %d UTF-16 units of text, want at most %d", i+1, n, l.MaxText)
		}
		if n := utf16Len(p.Message.FallbackText); n > l.MaxText {
			tb.Errorf("part %d: got %d UTF-16 units of fallback text, want at most %d", i+1, n, l.MaxText)
		}
		if utf8.ValidString(msg.Text) && !utf8.ValidString(p.Message.Text) {
			tb.Errorf("part %d: text %q is not valid UTF-8", i+1, p.Message.Text)
		}
		if i > 0 && p.Message.FallbackText != "" {
			tb.Errorf("part %d: got fallback text %q, want it in the head only", i+1, p.Message.FallbackText)
		}
	}
	if segs == nil {
		if len(parts) != 1 {
			tb.Fatalf("got %d parts and no split, want 1", len(parts))
		}
		return parts
	}
	checkSegments(tb, msg.Text, segs, parts)
	if len(parts) > 1 {
		checkThreadAndIDs(tb, msg, opts, parts)
	}
	return parts
}

var openFence = regexp.MustCompile("^```[A-Za-z0-9_+#.-]{0,32}\n$")

// checkSegments checks that the text of the parts is the original text cut
// in order, with only code fences added around the pieces.
func checkSegments(tb testing.TB, text string, segs []segment, parts []Part) {
	tb.Helper()
	var body strings.Builder
	var texts []string
	for i, s := range segs {
		body.WriteString(s.body)
		if s.open != "" && !openFence.MatchString(s.open) {
			tb.Errorf("segment %d: added opening %q, want ``` with an optional language and a newline", i+1, s.open)
		}
		if s.close != "" && s.close != "```" && s.close != "\n```" {
			tb.Errorf("segment %d: added closing %q, want ``` or \\n```", i+1, s.close)
		}
		if s.skip {
			if s.open != "" || s.close != "" || strings.TrimSpace(s.body) != "" {
				tb.Errorf("segment %d: skipped %q, want only white space skipped", i+1, s.text())
			}
			continue
		}
		texts = append(texts, s.text())
	}
	if body.String() != text {
		tb.Errorf("pieces rejoined differ from the text:\n got %q\nwant %q", body.String(), text)
	}
	var got []string
	for _, p := range parts {
		if p.Message.Text != "" {
			got = append(got, p.Message.Text)
		}
	}
	if diff := cmp.Diff(texts, got); diff != "" {
		tb.Errorf("part texts differ from the pieces with their fences (-pieces +parts):\n%s", diff)
	}
	balanced := fences(text)%2 == 0
	for i, s := range got {
		last := i == len(got)-1
		if (!last || balanced) && fences(s)%2 != 0 {
			tb.Errorf("text part %d has %d fences, want an even number: %q", i+1, fences(s), s)
		}
	}
}

// fences counts the ``` fences of s as the splitter reads them: runs of
// backticks, three at a time from the start of each run.
func fences(s string) int {
	n, run := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] == '`' {
			run++
			continue
		}
		n += run / 3
		run = 0
	}
	return n
}

// checkThreadAndIDs checks the thread and ids of a split message.
func checkThreadAndIDs(tb testing.TB, msg Message, opts Options, parts []Part) {
	tb.Helper()
	rid := parts[0].Options.RequestID
	if opts.RequestID != "" && rid != opts.RequestID {
		tb.Errorf("head request id: got %q, want %q", rid, opts.RequestID)
	}
	if rid == "" {
		tb.Errorf("head request id: got none, want one")
	}
	want := msg.Thread
	if !msg.hasThread() || opts.Reply == ReplyNewThread {
		want = &Thread{ThreadKey: "gchat-" + rid}
	}
	for i, p := range parts {
		if diff := cmp.Diff(want, p.Message.Thread); diff != "" {
			tb.Errorf("part %d thread (-want +got):\n%s", i+1, diff)
		}
		if i == 0 {
			if p.Options.MessageID != opts.MessageID {
				tb.Errorf("head message id: got %q, want %q", p.Options.MessageID, opts.MessageID)
			}
			continue
		}
		if got, want := p.Options.RequestID, rid+"-"+strconv.Itoa(i+1); got != want {
			tb.Errorf("part %d request id: got %q, want %q", i+1, got, want)
		}
		if p.Options.MessageID != "" {
			tb.Errorf("part %d message id: got %q, want none", i+1, p.Options.MessageID)
		}
	}
}

func TestFitWithinLimitsIsUnchanged(t *testing.T) {
	msg := Message{
		Text:    "Disk *full* on db-1",
		Thread:  &Thread{ThreadKey: "incident-42"},
		CardsV2: []card.CardWithID{{Card: card.New("Alert", card.NewSection("", card.Text("x")))}},
	}
	opts := Options{Reply: ReplyNewThread, MessageID: "client-a", RequestID: "r"}
	parts, err := Fit(msg, opts, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Part{{Message: msg, Options: opts}}, parts); diff != "" {
		t.Errorf("Fit (-want +got):\n%s", diff)
	}
	if parts[0].Message.Thread != msg.Thread {
		t.Errorf("got a copied thread, want the input's")
	}
}

func TestFitMeasuresEncodedBytes(t *testing.T) {
	lim := Limits{MaxBytes: 5000, MaxText: 100000}
	tests := []struct {
		name      string
		text      string
		wantParts int
	}{
		// < > & are one byte each: the encoder does not HTML-escape.
		{"angle brackets fit", strings.Repeat("<>&", 1660), 1},
		{"plain fits", strings.Repeat("a", 4989), 1},
		{"plain one over", strings.Repeat("a", 4990), 2},
		// " \ and \n are two bytes each in JSON, control characters six.
		{"quotes do not fit", strings.Repeat(`"`, 2600), 2},
		{"backslashes do not fit", strings.Repeat(`\`, 2600), 2},
		{"newlines do not fit", strings.Repeat("a\n", 1700), 2},
		{"control characters", strings.Repeat("\x01", 1000), 2},
		{"U+2028 is escaped", strings.Repeat("a\u2028", 800), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := checkFit(t, Message{Text: tt.text}, Options{RequestID: "r"}, lim)
			if len(parts) != tt.wantParts {
				t.Errorf("got %d parts, want %d", len(parts), tt.wantParts)
			}
		})
	}
}

func TestFitBoundaries(t *testing.T) {
	lim := Limits{MaxText: 20}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"paragraph before line", "first para.\n\nsecond line\nthird", []string{"first para.\n\n", "second line\nthird"}},
		{"line before word", "one two three\nfour five six", []string{"one two three\n", "four five six"}},
		{"word before hard", "alpha beta gamma delta epsilon", []string{"alpha beta gamma ", "delta epsilon"}},
		{"hard in a long word", "abcdefghijklmnopqrstuvwxyz0123456789", []string{"abcdefghijklmnopqrst", "uvwxyz0123456789"}},
		{"paragraph too early gives way", "ab\n\ncdefghij klmnopqrstuvwxyz", []string{"ab\n\ncdefghij ", "klmnopqrstuvwxyz"}},
		{"early boundary beats hard", "abc defghijklmnopqrstuvwxyz", []string{"abc ", "defghijklmnopqrstuvw", "xyz"}},
		{"no bullet from a cut", "aaaaaaaaaaaaaaaaaa - bbb", []string{"aaaaaaaaaaaaaaaaaa -", " bbb"}},
		{"no quote from a cut", "aaaaaaaaaaaaaaaaaa >bbb", []string{"aaaaaaaaaaaaaaaaaa >", "bbb"}},
		{"crlf kept whole", "aaaaaaaaaaaaaaaaaaa\r\nb", []string{"aaaaaaaaaaaaaaaaaaa", "\r\nb"}},
		{"white space only part left out", "abc" + strings.Repeat(" ", 45) + "def", []string{"abc" + strings.Repeat(" ", 17), strings.Repeat(" ", 8) + "def"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := checkFit(t, Message{Text: tt.text}, Options{RequestID: "r"}, lim)
			var got []string
			for _, p := range parts {
				got = append(got, p.Message.Text)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("part texts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitCodeBlocks(t *testing.T) {
	code := "```go\n" + strings.Repeat("fmt.Println(\"hello, world\")\n", 10) + "```"
	tests := []struct {
		name string
		text string
		lim  Limits
		want []string
	}{
		{
			name: "reopened with language",
			text: "Log:\n" + code + "\nend",
			lim:  Limits{MaxText: 100},
			want: []string{
				"Log:\n```go\n" + strings.Repeat("fmt.Println(\"hello, world\")\n", 3) + "```",
				"```go\n" + strings.Repeat("fmt.Println(\"hello, world\")\n", 3) + "```",
				"```go\n" + strings.Repeat("fmt.Println(\"hello, world\")\n", 3) + "```",
				"```go\nfmt.Println(\"hello, world\")\n```\nend",
			},
		},
		{
			name: "one long line closed with a newline",
			text: "```" + strings.Repeat("x", 30) + " " + strings.Repeat("y", 10) + "```",
			lim:  Limits{MaxText: 40},
			want: []string{"```" + strings.Repeat("x", 30) + " \n```", "```\n" + strings.Repeat("y", 10) + "```"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := checkFit(t, Message{Text: tt.text}, Options{RequestID: "r"}, tt.lim)
			var got []string
			for _, p := range parts {
				got = append(got, p.Message.Text)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("part texts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitCountsUTF16(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		lim       Limits
		wantRunes []int // runes per part
	}{
		// 😀 is one rune, two UTF-16 units and four bytes.
		{"emoji", strings.Repeat("😀", 60), Limits{MaxText: 100}, []int{50, 10}},
		// 漢 is one unit and three bytes: bytes bind first.
		{"cjk by bytes", strings.Repeat("漢", 100), Limits{MaxText: 100, MaxBytes: 200}, nil},
		{"cjk by units", strings.Repeat("漢", 150), Limits{MaxText: 100}, []int{100, 50}},
		// A family emoji is one picture of seven runes joined by U+200D.
		{"joined emoji kept whole", "abcdefg" + strings.Repeat("👨\u200d👩\u200d👧\u200d👦", 2), Limits{MaxText: 20}, []int{14, 7}},
		{"flags kept whole", "a" + strings.Repeat("🇫🇷", 5), Limits{MaxText: 10}, []int{5, 4, 2}},
		{"combining mark kept", strings.Repeat("e\u0301", 6), Limits{MaxText: 5}, []int{4, 4, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := checkFit(t, Message{Text: tt.text}, Options{RequestID: "r"}, tt.lim)
			if tt.wantRunes == nil {
				return
			}
			var got []int
			for _, p := range parts {
				got = append(got, utf8.RuneCountInString(p.Message.Text))
			}
			if diff := cmp.Diff(tt.wantRunes, got); diff != "" {
				t.Errorf("runes per part (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitKeepsEscapes(t *testing.T) {
	// Escape's U+200B must stay with the mark it neutralises, or the next part
	// would start with a live mark.
	text := Escape(strings.Repeat("*", 30))
	parts := checkFit(t, Message{Text: text}, Options{RequestID: "r"}, Limits{MaxText: 11})
	for i, p := range parts {
		if strings.HasPrefix(p.Message.Text, "*") {
			t.Errorf("part %d starts with an unescaped mark: %q", i+1, p.Message.Text)
		}
	}
}

func TestFitThreadsAndIDs(t *testing.T) {
	long := strings.Repeat("word ", 30) // 150 units: three parts at 60
	lim := Limits{MaxText: 60}
	tests := []struct {
		name      string
		thread    *Thread
		opts      Options
		wantKey   *Thread // nil: derived from the request id
		wantHead  ReplyOption
		wantConts ReplyOption
	}{
		{"no thread", nil, Options{RequestID: "r1", MessageID: "client-x"}, nil, ReplyFallbackToNewThread, ReplyFallbackToNewThread},
		{"thread key, option unset", &Thread{ThreadKey: "k"}, Options{RequestID: "r1"}, &Thread{ThreadKey: "k"}, ReplyUnset, ReplyFallbackToNewThread},
		{"thread name, or fail", &Thread{Name: "spaces/S/threads/T"}, Options{Reply: ReplyOrFail, RequestID: "r1"}, &Thread{Name: "spaces/S/threads/T"}, ReplyOrFail, ReplyOrFail},
		{"fallback", &Thread{ThreadKey: "k"}, Options{Reply: ReplyFallbackToNewThread, RequestID: "r1"}, &Thread{ThreadKey: "k"}, ReplyFallbackToNewThread, ReplyFallbackToNewThread},
		{"new thread", &Thread{ThreadKey: "k"}, Options{Reply: ReplyNewThread, RequestID: "r1"}, nil, ReplyFallbackToNewThread, ReplyFallbackToNewThread},
		{"or fail without thread", nil, Options{Reply: ReplyOrFail, RequestID: "r1"}, nil, ReplyFallbackToNewThread, ReplyOrFail},
		{"no request id", nil, Options{}, nil, ReplyFallbackToNewThread, ReplyFallbackToNewThread},
		{"empty thread", &Thread{}, Options{RequestID: "r1"}, nil, ReplyFallbackToNewThread, ReplyFallbackToNewThread},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := Message{Text: long, Thread: tt.thread}
			parts := checkFit(t, msg, tt.opts, lim)
			if len(parts) != 3 {
				t.Fatalf("got %d parts, want 3", len(parts))
			}
			rid := parts[0].Options.RequestID
			if tt.opts.RequestID == "" && !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(rid) {
				t.Errorf("generated request id: got %q, want a random UUID", rid)
			}
			want := tt.wantKey
			if want == nil {
				want = &Thread{ThreadKey: "gchat-" + rid}
			}
			for i, p := range parts {
				if diff := cmp.Diff(want, p.Message.Thread); diff != "" {
					t.Errorf("part %d thread (-want +got):\n%s", i+1, diff)
				}
				wantReply := tt.wantConts
				if i == 0 {
					wantReply = tt.wantHead
				}
				if p.Options.Reply != wantReply {
					t.Errorf("part %d reply: got %v, want %v", i+1, p.Options.Reply, wantReply)
				}
			}
			wantOpts := []Options{
				{Reply: tt.wantHead, MessageID: tt.opts.MessageID, RequestID: rid},
				{Reply: tt.wantConts, RequestID: rid + "-2"},
				{Reply: tt.wantConts, RequestID: rid + "-3"},
			}
			var gotOpts []Options
			for _, p := range parts {
				gotOpts = append(gotOpts, p.Options)
			}
			if diff := cmp.Diff(wantOpts, gotOpts); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFitDoesNotShareThreads(t *testing.T) {
	th := &Thread{ThreadKey: "k"}
	parts := checkFit(t, Message{Text: strings.Repeat("x ", 100), Thread: th}, Options{RequestID: "r"}, Limits{MaxText: 60})
	parts[1].Message.Thread.ThreadKey = "changed"
	if th.ThreadKey != "k" || parts[0].Message.Thread.ThreadKey != "k" {
		t.Errorf("changing one part's thread changed another's")
	}
}

func TestFitFallbackText(t *testing.T) {
	t.Run("too long alone", func(t *testing.T) {
		msg := Message{Text: "hi", FallbackText: strings.Repeat("ab", 100)}
		opts := Options{RequestID: "r", MessageID: "client-m"}
		parts := checkFit(t, msg, opts, Limits{MaxText: 50})
		if len(parts) != 1 {
			t.Fatalf("got %d parts, want 1", len(parts))
		}
		want := Part{Message: Message{Text: "hi", FallbackText: strings.Repeat("ab", 24) + "a…"}, Options: opts}
		if diff := cmp.Diff(want, parts[0]); diff != "" {
			t.Errorf("part (-want +got):\n%s", diff)
		}
	})
	t.Run("head only", func(t *testing.T) {
		msg := Message{Text: strings.Repeat("word ", 40), FallbackText: "summary"}
		parts := checkFit(t, msg, Options{RequestID: "r"}, Limits{MaxText: 60})
		if len(parts) < 2 || parts[0].Message.FallbackText != "summary" {
			t.Errorf("got %d parts, head fallback %q; want several, and the fallback in the head", len(parts), parts[0].Message.FallbackText)
		}
	})
	t.Run("half the head at most", func(t *testing.T) {
		msg := Message{Text: strings.Repeat("word ", 100), FallbackText: strings.Repeat("f", 400)}
		parts := checkFit(t, msg, Options{RequestID: "r"}, Limits{MaxBytes: 400, MaxText: 1000})
		if n := len(parts[0].Message.FallbackText); n > 200 || !strings.HasSuffix(parts[0].Message.FallbackText, "…") {
			t.Errorf("head fallback: got %d bytes %q, want at most half of 400 bytes, ending in …", n, parts[0].Message.FallbackText)
		}
	})
}

// bigCard returns a card of sections, each of n text paragraphs of size bytes.
func bigCard(id string, size int, sections ...int) card.CardWithID {
	c := card.New("Report " + id)
	for s, n := range sections {
		sec := card.NewSection(fmt.Sprintf("section %d", s+1))
		for w := range n {
			sec.Widgets = append(sec.Widgets, card.Text(fmt.Sprintf("%d.%d %s", s+1, w+1, strings.Repeat("x", size))))
		}
		c.Sections = append(c.Sections, sec)
	}
	return card.CardWithID{CardID: id, Card: c}
}

func widgetTexts(c card.Card) []string {
	var out []string
	for _, s := range c.Sections {
		for _, w := range s.Widgets {
			out = append(out, w.TextParagraph.Text)
		}
	}
	return out
}

func TestFitTrimsCards(t *testing.T) {
	tests := []struct {
		name     string
		card     card.CardWithID
		lim      Limits
		wantSecs int
	}{
		// Widgets of about 1,000 bytes: 30 fit in 32,000 bytes.
		{"widgets from the end", bigCard("a", 1000, 50), Limits{}, 1},
		{"then whole sections", bigCard("b", 1000, 20, 30), Limits{}, 2},
		{"a section emptied goes", bigCard("c", 1000, 10, 10, 10, 10), Limits{}, 3},
		{"small limit", bigCard("d", 100, 3, 3), Limits{MaxBytes: 500}, 1},
		{"one widget too large", bigCard("e", 40000, 1), Limits{}, 1},
		{"over the card limit only", bigCard("f", 1000, 40), Limits{MaxBytes: 100000}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := widgetTexts(tt.card.Card)
			msg := Message{CardsV2: []card.CardWithID{tt.card}}
			parts := checkFit(t, msg, Options{RequestID: "r"}, tt.lim)
			if len(parts) != 1 {
				t.Fatalf("got %d parts, want 1", len(parts))
			}
			if diff := cmp.Diff(before, widgetTexts(tt.card.Card)); diff != "" {
				t.Errorf("Fit changed the input card (-before +after):\n%s", diff)
			}
			got := parts[0].Message.CardsV2[0].Card
			texts := widgetTexts(got)
			kept := texts[:len(texts)-1]
			if diff := cmp.Diff(before[:len(kept)], kept); diff != "" {
				t.Errorf("kept widgets are not the first ones (-want +got):\n%s", diff)
			}
			if len(got.Sections) != tt.wantSecs {
				t.Errorf("got %d sections, want %d", len(got.Sections), tt.wantSecs)
			}
			dropped := len(before) - len(kept)
			noun := "widgets"
			if dropped == 1 {
				noun = "widget"
			}
			note := fmt.Sprintf("<i>%d more %s not shown: the message was too large.</i>", dropped, noun)
			if last := texts[len(texts)-1]; last != note {
				t.Errorf("last widget: got %q, want %q", last, note)
			}
			// Dropping one widget fewer would not fit.
			more := withoutLast(tt.card, dropped-1)
			n, _ := encodedLen(&Message{CardsV2: []card.CardWithID{more}})
			c, _ := encodedLen(&more.Card)
			if dropped > 1 && n <= tt.lim.withDefaults().MaxBytes && c <= maxCardJSON {
				t.Errorf("dropped %d widgets, but %d would fit (%d bytes, card %d bytes)", dropped, dropped-1, n, c)
			}
			if ps := card.Check(parts[0].Message.CardsV2, "cardsV2").Errors(); len(ps) > 0 {
				t.Errorf("trimmed card has errors: %v", ps)
			}
		})
	}
}

func TestFitSpreadsCards(t *testing.T) {
	c := func(id string) card.CardWithID { return bigCard(id, 1000, 12) } // about 12 KB each
	t.Run("beside the text, then further parts", func(t *testing.T) {
		msg := Message{Text: "Nightly report", CardsV2: []card.CardWithID{c(""), c(""), c("x")}}
		parts := checkFit(t, msg, Options{RequestID: "r"}, Limits{})
		var got [][]string
		for _, p := range parts {
			var ids []string
			for _, cw := range p.Message.CardsV2 {
				ids = append(ids, cw.CardID)
			}
			got = append(got, append([]string{p.Message.Text}, ids...))
		}
		want := [][]string{{"Nightly report", "card-1", "card-2"}, {"", "x"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("texts and card ids per part (-want +got):\n%s", diff)
		}
	})
	t.Run("after split text", func(t *testing.T) {
		msg := Message{Text: strings.Repeat("word ", 30), CardsV2: []card.CardWithID{c("a")}}
		parts := checkFit(t, msg, Options{RequestID: "r"}, Limits{MaxText: 60})
		if len(parts) != 3 || len(parts[2].Message.CardsV2) != 1 || len(parts[0].Message.CardsV2) != 0 {
			t.Errorf("got %d parts, want 3 with the card beside the last text", len(parts))
		}
	})
	t.Run("raw cards as one", func(t *testing.T) {
		raw := json.RawMessage(`[{"header":{"title":"` + strings.Repeat("v", 20000) + `"}}]`)
		msg := Message{Text: strings.Repeat("t", 15000), Cards: raw}
		parts := checkFit(t, msg, Options{RequestID: "r"}, Limits{MaxText: 20000})
		if len(parts) != 2 || string(parts[1].Message.Cards) != string(raw) {
			t.Errorf("got %d parts, want 2 with the raw cards in the second", len(parts))
		}
	})
}

func TestFitErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		lim  Limits
	}{
		{"limits too small", Message{Text: strings.Repeat("x", 100)}, Limits{MaxBytes: 40}},
		{"thread too large", Message{Text: strings.Repeat("x", 100), Thread: &Thread{ThreadKey: strings.Repeat("k", 300)}}, Limits{MaxBytes: 300}},
		{"raw cards too large", Message{Cards: json.RawMessage(`[{"header":{"title":"` + strings.Repeat("v", 33000) + `"}}]`)}, Limits{}},
		{"card header too large", Message{CardsV2: []card.CardWithID{{Card: card.New(strings.Repeat("h", 33000))}}}, Limits{}},
		{"text units too small", Message{Text: "😀😀"}, Limits{MaxText: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := Fit(tt.msg, Options{RequestID: "r"}, tt.lim)
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("Fit: got %d parts, error %v; want ErrTooLarge", len(parts), err)
			}
		})
	}
	if _, err := Fit(Message{Text: "x"}, Options{}, Limits{MaxBytes: -1}); err == nil {
		t.Errorf("Fit with negative limits: got no error, want one")
	}
}

func TestJSONRuneLen(t *testing.T) {
	check := func(s string, want int) {
		t.Helper()
		b, err := encodeJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(b) - 2; got != want {
			t.Errorf("encoded %q: got %d bytes, jsonLen says %d", s, got, want)
		}
	}
	for r := rune(0); r <= 0x10FFFF; r++ {
		if r < 0x3000 || r%97 == 0 || r >= 0xD800 && r <= 0xE000 {
			s := string(r)
			check(s, jsonLen(s))
		}
	}
	for _, s := range []string{"\xff", "\xe2\x80", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80"} {
		check(s, jsonLen(s))
	}
}

func TestUTF16Len(t *testing.T) {
	for _, s := range []string{"", "abc", "é", "漢字", "😀", "a😀b🇫🇷", "\xff"} {
		if got, want := utf16Len(s), len(utf16.Encode([]rune(s))); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

// fitSeeds are texts that stress the splitter.
func fitSeeds() []string {
	return []string{
		"",
		"short",
		strings.Repeat("word ", 200),
		strings.Repeat("line of text\n", 50),
		strings.Repeat("para one.\n\n", 40),
		strings.Repeat("x", 1000),
		strings.Repeat(`"\`, 300),
		strings.Repeat("\n", 500),
		strings.Repeat(" ", 500) + "end",
		"```go\n" + strings.Repeat("code();\n", 100) + "```\nafter",
		"```" + strings.Repeat("z", 500) + "```",
		strings.Repeat("`", 301),
		strings.Repeat("```\n", 100),
		"```" + strings.Repeat("l", 32) + "\n" + strings.Repeat("body ", 100) + "```",
		strings.Repeat("😀漢é\u0301👨\u200d👩\u200d👧🇫🇷", 40),
		strings.Repeat("\r\n", 300),
		Escape(strings.Repeat("*_~`<>", 100)),
		strings.Repeat("- item\n", 100),
		strings.Repeat("\u2028\x01", 200),
		strings.Repeat("a\u200d", 300),
		strings.Repeat("\u0301", 300),
	}
}

func TestFitProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", " ", "\n", "\n\n", "`", "```", "```go\n", "\"", "\\", "😀", "漢", "\u0301", "\u200d", "🇫", "*", "-", "<", "\u200b", "\r\n", "\t", "\x01"}
	texts := fitSeeds()
	for range 300 {
		var b strings.Builder
		for range rng.IntN(800) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	for i, text := range texts {
		lim := Limits{MaxBytes: 300 + rng.IntN(300), MaxText: 100 + rng.IntN(100)}
		var th *Thread
		if i%3 == 0 {
			th = &Thread{ThreadKey: "k"}
		}
		checkFit(t, Message{Text: text, Thread: th}, Options{RequestID: "r-" + strconv.Itoa(i)}, lim)
		if t.Failed() {
			t.Fatalf("text %d %q with %+v", i, text, lim)
		}
	}
}

func FuzzFit(f *testing.F) {
	for i, s := range fitSeeds() {
		f.Add(s, uint16(i*37), uint8(i*11), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, text string, extraBytes uint16, extraText uint8, threaded bool) {
		lim := Limits{MaxBytes: 300 + int(extraBytes%300), MaxText: 100 + int(extraText%100)}
		var th *Thread
		if threaded {
			th = &Thread{ThreadKey: "k"}
		}
		checkFit(t, Message{Text: text, Thread: th}, Options{RequestID: "req"}, lim)
	})
}

func BenchmarkFit(b *testing.B) {
	small := Message{Text: "Disk *full* on db-1", Thread: &Thread{ThreadKey: "incident-42"}}
	large := Message{
		Text:    strings.Repeat("A line of a long log, with \"quotes\" and <brackets>.\n", 1000),
		CardsV2: []card.CardWithID{bigCard("a", 1000, 40)},
	}
	for _, bc := range []struct {
		name string
		msg  Message
	}{{"small", small}, {"large", large}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fit(bc.msg, Options{RequestID: "r"}, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
