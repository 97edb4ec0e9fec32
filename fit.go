package gchat

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gchatkit/gchat/card"
)

const (
	// DefaultMaxBytes is Google's limit on a whole message as encoded JSON
	// (docs/google-chat.md §4.1: "32,000 bytes including the message contents").
	DefaultMaxBytes = 32000
	// DefaultMaxText is the old hard limit on text, in UTF-16 code units
	// (docs/google-chat.md §4.1). Whether Google still applies it is unknown; it is kept to be
	// safe.
	DefaultMaxText = 4096
	// maxCardJSON is the largest card, as compact JSON: Google documents
	// "32 KB" per card, counted as 32,000 bytes like card.Check does.
	maxCardJSON = 32000
)

// ErrTooLarge is returned, wrapped, by Fit when a message cannot be made to
// fit its limits at all: limits smaller than the fixed parts of a message, a
// deprecated Cards field or a card header too large on its own.
var ErrTooLarge = errors.New("message cannot be fitted")

// Limits are the sizes a message must fit.
type Limits struct {
	// MaxBytes bounds the whole encoded message (Encode). Zero means
	// DefaultMaxBytes, 32,000.
	MaxBytes int
	// MaxText bounds Text, and FallbackText, in UTF-16 code units (a rune
	// above U+FFFF counts 2). Zero means DefaultMaxText, 4,096.
	MaxText int
}

// withDefaults returns l with zero fields replaced by the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxText == 0 {
		l.MaxText = DefaultMaxText
	}
	return l
}

// Part is one request of a fitted message: a message and its delivery options.
type Part struct {
	Message Message
	Options Options
}

// Fit returns msg as one or more requests that each fit lim. A message within
// the limits comes back as a single Part holding msg and opts unchanged; this
// costs one Encode, the measure of every size here.
//
// A larger message is fitted like this:
//
//   - Text too long for one request becomes a head message and continuations.
//     Each part takes as much text as fits, cut after the last blank line (a
//     paragraph), else after the last line break, else after the last space, as
//     long as that keeps at least half of what would fit; else at the latest
//     of these boundaries there is; else inside a word. A cut is never inside
//     a rune or a surrogate pair, nor inside a run of backticks other than
//     between fences; where it can be helped, not between \r and \n, before a
//     combining mark or an emoji modifier, inside a line before - * or > (the
//     next part would begin with a bullet or a quote), or between a character
//     and the U+200B that Escape put beside it. A fenced code block (```) cut
//     in two is closed at the end of the part and reopened, with its language
//     tag, at the start of the next; the fences count against the budget.
//     Every character of Text appears in exactly one part, in order; only a
//     part that would be white space alone is left out, since Chat cannot
//     show it. Inline marks (*bold*, links) cut in two show literally.
//   - FallbackText stays with the head only. It is a summary field, so one
//     longer than MaxText, or than half of the head's bytes, is cut short with
//     "…".
//   - Cards follow the text, in order: they ride with the last text part (the
//     head when the text is not split) if they fit beside it, else go into
//     further parts, as many per part as fit. A card too large for a request of
//     its own, or over Google's 32 KB per card, loses widgets from the end, and
//     then whole sections, until it fits, and gets a text paragraph saying how
//     many widgets are not shown. When the message has several cards, empty
//     card ids are filled as "card-N", N counting from 1 in msg. Deprecated
//     Cards (raw JSON) cannot be trimmed: too large on its own is an error.
//   - Parts form one thread. A message without a thread, or sent with
//     ReplyNewThread (which makes Google ignore the thread), gets the thread key
//     "gchat-" + the request id, and its head ReplyFallbackToNewThread: the same
//     visible effect, a new thread, but one the continuations can find. Else
//     the head keeps opts.Reply. Continuations reply with
//     ReplyFallbackToNewThread, or ReplyOrFail if opts.Reply is ReplyOrFail.
//   - The head keeps opts.RequestID (a random UUID when empty) and
//     opts.MessageID; part n (from 2) gets the request id + "-n" and no
//     message id.
//
// Fit returns an error wrapping ErrTooLarge when the message cannot fit at
// all, for example when MaxBytes is smaller than a thread key and the JSON
// around it.
func Fit(msg Message, opts Options, lim Limits) ([]Part, error) {
	parts, _, err := fit(msg, opts, lim)
	return parts, err
}

// fit is Fit, also returning how the text was split (nil when it was not
// looked at), for tests.
func fit(msg Message, opts Options, lim Limits) ([]Part, []segment, error) {
	if lim.MaxBytes < 0 || lim.MaxText < 0 {
		return nil, nil, fmt.Errorf("fit message: negative limits %+v", lim)
	}
	lim = lim.withDefaults()
	if utf16Within(msg.Text, lim.MaxText) && utf16Within(msg.FallbackText, lim.MaxText) {
		b, err := Encode(&msg)
		if err != nil {
			return nil, nil, fmt.Errorf("fit message: %w", err)
		}
		if len(b) <= lim.MaxBytes && (len(b) <= maxCardJSON || cardsWithin(&msg)) {
			return []Part{{Message: msg, Options: opts}}, nil, nil
		}
	}
	parts, segs, err := fitSplit(msg, opts, lim)
	if err != nil {
		return nil, nil, fmt.Errorf("fit message: %w", err)
	}
	return parts, segs, nil
}

// fitSplit is Fit for a message that is over a limit.
func fitSplit(msg Message, opts Options, lim Limits) ([]Part, []segment, error) {
	requestID := opts.RequestID
	if requestID == "" {
		requestID = newRequestID()
	}
	// A message that is split gets a thread of its own when it has none that
	// Google would use; a message that stays one request keeps its thread and
	// ids (trimming a card or the fallback text may be all it takes). Plan
	// first for the likelier case.
	own := msg.hasThread() && opts.Reply != ReplyNewThread
	derived := &Thread{ThreadKey: derivedThreadKey(requestID)}
	split := !utf16Within(msg.Text, lim.MaxText) || len(msg.Text) > lim.MaxBytes
	thread := msg.Thread
	if !own && split {
		thread = derived
	}
	msgs, segs, err := plan(&msg, thread, lim)
	if err != nil {
		return nil, nil, err
	}
	if len(msgs) == 1 && thread == derived {
		msgs, segs, err = plan(&msg, msg.Thread, lim)
		if err != nil {
			return nil, nil, err
		}
	}
	if len(msgs) == 1 {
		return []Part{{Message: msgs[0], Options: opts}}, segs, nil
	}
	if !own && thread != derived {
		msgs, segs, err = plan(&msg, derived, lim)
		if err != nil {
			return nil, nil, err
		}
	}
	headReply := opts.Reply
	if !own {
		headReply = ReplyFallbackToNewThread
	}
	contReply := ReplyFallbackToNewThread
	if opts.Reply == ReplyOrFail {
		contReply = ReplyOrFail
	}
	parts := make([]Part, len(msgs))
	for i, m := range msgs {
		parts[i].Message = m
		if i == 0 {
			parts[i].Options = Options{Reply: headReply, MessageID: opts.MessageID, RequestID: requestID}
		} else {
			parts[i].Options = Options{Reply: contReply, RequestID: requestID + "-" + strconv.Itoa(i+1)}
		}
	}
	return parts, segs, nil
}

// derivedThreadKey returns the thread key Fit gives a split message that has
// no thread of its own.
func derivedThreadKey(requestID string) string {
	key := "gchat-" + requestID
	if utf8.RuneCountInString(key) > maxThreadKey {
		sum := sha256.Sum256([]byte(requestID))
		key = "gchat-" + hex.EncodeToString(sum[:])
	}
	return key
}

// plan splits msg into messages that each fit lim, all in thread (which may
// be nil when the result is a single message).
func plan(msg *Message, thread *Thread, lim Limits) ([]Message, []segment, error) {
	newMsg := func() Message {
		var m Message
		if thread != nil {
			t := *thread
			m.Thread = &t
		}
		return m
	}
	bare := newMsg()
	contOverhead, err := textOverhead(&bare)
	if err != nil {
		return nil, nil, err
	}
	if lim.MaxBytes-contOverhead < 1 {
		return nil, nil, fmt.Errorf("%w: %d bytes leave no room beside the thread of a message (%d bytes)", ErrTooLarge, lim.MaxBytes, contOverhead)
	}

	// The head: the message without its content (so that fields added to
	// Message later stay with the head), and the fallback text, cut short if
	// need be.
	head := *msg
	head.Text, head.Cards, head.CardsV2, head.Thread = "", nil, nil, bare.Thread
	head.FallbackText = truncate(msg.FallbackText, lim.MaxText, (lim.MaxBytes-contOverhead)/2)
	headOverhead, err := textOverhead(&head)
	if err != nil {
		return nil, nil, err
	}

	// Text.
	segs, err := splitText(msg.Text,
		room{units: lim.MaxText, bytes: lim.MaxBytes - headOverhead},
		room{units: lim.MaxText, bytes: lim.MaxBytes - contOverhead})
	if err != nil {
		return nil, nil, err
	}
	var msgs []Message
	for _, s := range segs {
		if s.skip {
			continue
		}
		m := newMsg()
		if len(msgs) == 0 {
			m = head
		}
		m.Text = s.text()
		msgs = append(msgs, m)
	}

	// Cards, each made to fit alone beside the head's fallback text, so that
	// any of them can start a part, the head included.
	headAlone := func(m *Message) (bool, error) {
		h := head
		h.CardsV2, h.Cards = m.CardsV2, m.Cards
		n, err := encodedLen(&h)
		return n <= lim.MaxBytes, err
	}
	var items []Message // each holds one card: CardsV2[0], or Cards
	if hasRawCards(msg.Cards) {
		m := Message{Cards: msg.Cards}
		ok, err := headAlone(&m)
		if err != nil {
			return nil, nil, err
		}
		if !ok || len(msg.Cards) > maxCardJSON {
			return nil, nil, fmt.Errorf("%w: deprecated cards field of %d bytes does not fit a message of %d bytes; it cannot be trimmed", ErrTooLarge, len(msg.Cards), lim.MaxBytes)
		}
		items = append(items, m)
	}
	ids := cardIDs(msg.CardsV2)
	for i, cw := range msg.CardsV2 {
		cw.CardID = ids[i]
		cw, err := trimCard(cw, func(c *card.CardWithID) (bool, error) {
			if n, err := encodedLen(&c.Card); err != nil || n > maxCardJSON {
				return false, err
			}
			return headAlone(&Message{CardsV2: []card.CardWithID{*c}})
		})
		if err != nil {
			return nil, nil, fmt.Errorf("cardsV2[%d]: %w", i, err)
		}
		items = append(items, Message{CardsV2: []card.CardWithID{cw}})
	}
	if len(items) > 0 && len(msgs) == 0 {
		msgs = append(msgs, head)
	}
	for _, it := range items {
		cur := &msgs[len(msgs)-1]
		try := *cur
		if it.Cards != nil {
			try.Cards = it.Cards // only one item holds raw cards
		}
		try.CardsV2 = append(try.CardsV2[:len(try.CardsV2):len(try.CardsV2)], it.CardsV2...)
		n, err := encodedLen(&try)
		if err != nil {
			return nil, nil, err
		}
		if n <= lim.MaxBytes {
			*cur = try
			continue
		}
		m := newMsg()
		m.Cards, m.CardsV2 = it.Cards, it.CardsV2
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 { // nothing to send: keep what there is
		msgs = append(msgs, head)
	}

	// Every part was sized by measure; check the result all the same, so that
	// a mistake here shows as an error and not as Google's 400.
	for i := range msgs {
		n, err := encodedLen(&msgs[i])
		if err != nil {
			return nil, nil, err
		}
		if n > lim.MaxBytes || utf16Len(msgs[i].Text) > lim.MaxText {
			return nil, nil, fmt.Errorf("part %d is %d bytes, %d text units, over the limits %+v (a bug in Fit)", i+1, n, utf16Len(msgs[i].Text), lim)
		}
	}
	return msgs, segs, nil
}

// cardIDs returns the card ids to use: as given, with empty ones filled as
// "card-N" when there are several cards, skipping ids already taken.
func cardIDs(cards []card.CardWithID) []string {
	ids := make([]string, len(cards))
	taken := make(map[string]bool, len(cards))
	for i, c := range cards {
		ids[i] = c.CardID
		taken[c.CardID] = true
	}
	if len(cards) < 2 {
		return ids
	}
	for i := range ids {
		if ids[i] != "" {
			continue
		}
		id := "card-" + strconv.Itoa(i+1)
		for n := 2; taken[id]; n++ {
			id = "card-" + strconv.Itoa(i+1) + "-" + strconv.Itoa(n)
		}
		ids[i], taken[id] = id, true
	}
	return ids
}

// cardsWithin reports whether every card of m is within Google's per-card
// limit.
func cardsWithin(m *Message) bool {
	if len(m.Cards) > maxCardJSON {
		return false
	}
	for i := range m.CardsV2 {
		if n, err := encodedLen(&m.CardsV2[i].Card); err != nil || n > maxCardJSON {
			return false
		}
	}
	return true
}

// trimCard returns cw as is when it fits, else with the fewest widgets
// dropped from its end (sections that lose all their widgets go too) that
// make it fit, plus a text paragraph saying how many are not shown. cw is not
// modified.
func trimCard(cw card.CardWithID, fits func(*card.CardWithID) (bool, error)) (card.CardWithID, error) {
	ok, err := fits(&cw)
	if err != nil || ok {
		return cw, err
	}
	total := 0
	for _, s := range cw.Card.Sections {
		if s != nil {
			total += len(s.Widgets)
		}
	}
	try := func(k int) (card.CardWithID, bool, error) {
		c := withoutLast(cw, k)
		ok, err := fits(&c)
		return c, ok, err
	}
	// Binary search for the fewest widgets to drop. Size falls as widgets go,
	// but for the digits of the count in the note; the search is checked below.
	lo, hi := 1, total
	for lo < hi {
		mid := lo + (hi-lo)/2
		_, ok, err := try(mid)
		if err != nil {
			return cw, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	for k := lo; k <= total; k++ {
		c, ok, err := try(k)
		if err != nil {
			return cw, err
		}
		if ok {
			return c, nil
		}
	}
	return cw, fmt.Errorf("%w: card %q is too large even without its %d widgets", ErrTooLarge, cw.CardID, total)
}

// withoutLast returns a copy of cw without its last k widgets, and with a
// note saying so when k > 0. Sections left without widgets are dropped.
func withoutLast(cw card.CardWithID, k int) card.CardWithID {
	secs := make([]*card.Section, 0, len(cw.Card.Sections)+1)
	secs = append(secs, cw.Card.Sections...)
	left := k
	for left > 0 && len(secs) > 0 {
		last := secs[len(secs)-1]
		n := 0
		if last != nil {
			n = len(last.Widgets)
		}
		if n <= left {
			secs = secs[:len(secs)-1]
			left -= n
			continue
		}
		s := *last
		s.Widgets = s.Widgets[: n-left : n-left] // capacity cut: appending copies
		secs[len(secs)-1] = &s
		left = 0
	}
	if k > 0 {
		noun := "widgets"
		if k == 1 {
			noun = "widget"
		}
		note := card.Text(fmt.Sprintf("<i>%d more %s not shown: the message was too large.</i>", k, noun))
		if len(secs) == 0 {
			secs = append(secs, card.NewSection("", note))
		} else {
			s := *secs[len(secs)-1]
			s.Widgets = append(s.Widgets[:len(s.Widgets):len(s.Widgets)], note)
			secs[len(secs)-1] = &s
		}
	}
	cw.Card.Sections = secs
	return cw
}

// encodedLen returns the length of v as Encode writes it.
func encodedLen(v any) (int, error) {
	b, err := encodeJSON(v)
	return len(b), err
}

// textOverhead returns the bytes m takes besides the content of a text field:
// its other fields, the "text" key, the quotes and a comma.
func textOverhead(m *Message) (int, error) {
	probe := *m
	probe.Text = "a"
	n, err := encodedLen(&probe)
	return n - 1, err
}

// utf16Len returns the length of s in UTF-16 code units, as Google counts
// text: a rune above U+FFFF counts 2, an invalid byte 1 (it becomes U+FFFD).
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range s[i:] {
				n += utf16RuneLen(r)
			}
			return n
		}
		n++
	}
	return n
}

// utf16Within reports whether s has at most max UTF-16 code units, without
// counting when its byte length already says so.
func utf16Within(s string, max int) bool {
	return len(s) <= max || utf16Len(s) <= max
}

func utf16RuneLen(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// jsonRuneLen returns the bytes the rune r, size bytes long in a string, takes
// inside a JSON string as Encode writes it (no HTML escaping). An invalid byte
// (r == utf8.RuneError, size 1) is written as \ufffd.
func jsonRuneLen(r rune, size int) int {
	switch {
	case r == '"' || r == '\\':
		return 2
	case r < 0x20:
		switch r {
		case '\b', '\f', '\n', '\r', '\t':
			return 2
		}
		return 6
	case r == '\u2028' || r == '\u2029':
		return 6
	case r == utf8.RuneError && size == 1:
		return 6
	}
	return size
}

// jsonLen returns the bytes s takes inside a JSON string.
func jsonLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n += jsonRuneLen(r, size)
		i += size
	}
	return n
}

// truncate returns s if it has at most maxUnits UTF-16 code units and maxBytes
// bytes in JSON; else its longest prefix that, with "…" appended, has.
func truncate(s string, maxUnits, maxBytes int) string {
	if utf16Within(s, maxUnits) && jsonLen(s) <= maxBytes {
		return s
	}
	const ellipsis = "…"
	u, b := 1, len(ellipsis)
	if u > maxUnits || b > maxBytes {
		return ""
	}
	end := 0
	for end < len(s) {
		r, n := utf8.DecodeRuneInString(s[end:])
		u, b = u+utf16RuneLen(r), b+jsonRuneLen(r, n)
		if u > maxUnits || b > maxBytes {
			break
		}
		end += n
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace) + ellipsis
}

// room is what a part's text may take: UTF-16 code units, and bytes of the
// JSON string's content.
type room struct{ units, bytes int }

// segment is the text of one part: body is the next piece of the original
// text; open and close are code fences added around it. skip marks a part
// that is white space alone and is not sent.
type segment struct {
	open, body, close string
	skip              bool
}

func (s segment) text() string { return s.open + s.body + s.close }

// scanState is what splitText knows at a position of the text.
type scanState struct {
	inBlock   bool   // inside a ``` block
	lang      string // the block's language tag, or ""
	noCutTo   int    // in a block, no cut at or before this: its fence line
	runStart  int    // start of the backtick run the previous byte is in
	lineBlank bool   // the current line so far holds only blanks
	paraNext  bool   // the previous rune ended a blank line
	prev      rune   // the previous rune, or -1
	ris       int    // regional indicators right before the position
}

// splitText cuts text into segments, the first fitting head and the others
// cont, as Fit describes.
func splitText(text string, head, cont room) ([]segment, error) {
	var segs []segment
	st := scanState{lineBlank: true, prev: -1}
	sent := 0
	for pos := 0; pos < len(text); {
		r := cont
		if sent == 0 {
			r = head
		}
		var open string
		if st.inBlock {
			// The language tag is repeated when it is short beside the part.
			open = "```" + st.lang + "\n"
			if 4*len(open) > r.units || 4*len(open) > r.bytes {
				open = "```\n"
			}
		}
		cut, next, err := scanCut(text, pos, st, r.units-utf16Len(open), r.bytes-jsonLen(open))
		if err != nil {
			return nil, err
		}
		seg := segment{open: open, body: text[pos:cut]}
		if next.inBlock && cut < len(text) {
			seg.close = "\n```"
			if strings.HasSuffix(seg.body, "\n") {
				seg.close = "```"
			}
		}
		seg.skip = seg.open == "" && seg.close == "" && strings.TrimSpace(seg.body) == ""
		if !seg.skip {
			sent++
		}
		segs = append(segs, seg)
		pos, st = cut, next
	}
	return segs, nil
}

// cutPoint is a place splitText may cut, with the state there.
type cutPoint struct {
	pos int
	st  scanState
	ok  bool
}

// scanCut scans text from pos, in state st, and returns where the part that
// starts there ends: the end of text if the rest fits maxUnits and maxBytes,
// else the best cut that fits with its closing fence.
func scanCut(text string, pos int, st scanState, maxUnits, maxBytes int) (int, scanState, error) {
	var para, line, word, hard, anyCut cutPoint
	units, size := 0, 0
	i := pos
	for {
		if i == len(text) {
			return i, st, nil
		}
		if i > pos && cutAllowed(text, i, &st) {
			cu, cb := units, size
			if st.inBlock {
				if text[i-1] == '\n' {
					cu, cb = cu+3, cb+3 // ```
				} else {
					cu, cb = cu+4, cb+5 // \n```
				}
			}
			if cu <= maxUnits && cb <= maxBytes {
				c := cutPoint{i, st, true}
				anyCut = c
				if niceCut(text, i, &st) {
					hard = c
					switch p := text[i-1]; {
					case p == '\n' && st.paraNext:
						para, line = c, c
					case p == '\n':
						line = c
					case (p == ' ' || p == '\t') && text[i] != ' ' && text[i] != '\t':
						word = c
					}
				}
			}
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		u, b := utf16RuneLen(r), jsonRuneLen(r, n)
		if units+u > maxUnits || size+b > maxBytes {
			break
		}
		units, size = units+u, size+b
		advance(text, i, r, n, &st)
		i += n
	}
	if !anyCut.ok {
		return 0, st, fmt.Errorf("%w: text at byte %d: a part's room of %d UTF-16 units and %d bytes holds none of it", ErrTooLarge, pos, maxUnits, maxBytes)
	}
	// The best boundary that keeps at least half of what fits; else the
	// latest boundary; else a cut inside a word.
	half := pos + (anyCut.pos-pos)/2
	var latest cutPoint
	for _, c := range []cutPoint{para, line, word} {
		if c.ok && c.pos >= half {
			return c.pos, c.st, nil
		}
		if c.ok && c.pos > latest.pos {
			latest = c
		}
	}
	for _, c := range []cutPoint{latest, hard} {
		if c.ok {
			return c.pos, c.st, nil
		}
	}
	return anyCut.pos, anyCut.st, nil
}

// cutAllowed reports whether text may be cut at i (0 < i < len(text)) in
// state st at all: not inside a code fence, where the parts' fences would
// differ from the text's, and not inside a block's fence line. Both stretches
// are short, so a part always has somewhere to end.
func cutAllowed(text string, i int, st *scanState) bool {
	if text[i-1] == '`' && text[i] == '`' && (i-st.runStart)%3 != 0 {
		return false
	}
	return !st.inBlock || i > st.noCutTo
}

// niceCut reports whether a cut at i also keeps together what belongs
// together: not between \r and \n; not before a combining mark, a variation
// selector, a zero width joiner, an emoji modifier or tag, nor after a zero
// width joiner, nor inside a flag (a pair of regional indicators); not between
// Escape's U+200B and the character it neutralises; and not inside a line
// before - * or >, which would begin the next part and turn into a bullet or a
// quote.
func niceCut(text string, i int, st *scanState) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	switch {
	case st.prev == '\u200d', st.prev == '\u200b',
		st.prev == '\r' && r == '\n',
		st.prev == '<' && r == '\u200b',
		r == '\u200d',
		0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF, // variation selectors
		0x1F3FB <= r && r <= 0x1F3FF,                                    // emoji modifiers
		0xE0020 <= r && r <= 0xE007F,                                    // tags
		r >= 0x300 && unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc), // marks begin at U+0300
		isRegionalIndicator(r) && st.ris%2 == 1,
		(r == '-' || r == '*' || r == '>') && st.prev != '\n':
		return false
	}
	return true
}

func isRegionalIndicator(r rune) bool { return 0x1F1E6 <= r && r <= 0x1F1FF }

// advance updates st past the rune r, n bytes long, at text[i].
func advance(text string, i int, r rune, n int, st *scanState) {
	st.prev = r
	if isRegionalIndicator(r) {
		st.ris++
	} else {
		st.ris = 0
	}
	st.paraNext = false
	switch r {
	case '\n':
		st.paraNext = st.lineBlank
		st.lineBlank = true
	case ' ', '\t', '\r':
	default:
		st.lineBlank = false
	}
	if r != '`' {
		return
	}
	if i == 0 || text[i-1] != '`' {
		st.runStart = i
	}
	if (i+1-st.runStart)%3 != 0 {
		return
	}
	// A fence: three backticks, counted from the start of their run.
	if st.inBlock {
		st.inBlock, st.lang = false, ""
		return
	}
	st.inBlock = true
	st.lang, st.noCutTo = fenceLine(text, i+1)
}

// fenceLine reads what follows an opening fence ending at e: a language tag
// (1 to 32 of A-Z a-z 0-9 _ + # . -) alone on the rest of the line, and the
// last position at which a cut would leave the block empty.
func fenceLine(text string, e int) (lang string, noCutTo int) {
	j := e
	for j < len(text) && j-e < 32 && isLangByte(text[j]) {
		j++
	}
	k := j
	if k < len(text) && text[k] == '\r' {
		k++
	}
	if k < len(text) && text[k] == '\n' {
		return text[e:j], k + 1
	}
	return "", e
}

func isLangByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '+' || c == '#' || c == '.' || c == '-'
}
