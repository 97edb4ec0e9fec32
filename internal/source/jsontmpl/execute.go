package jsontmpl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

// ErrSkip is returned by Execute when the spec's When renders blank or
// "false": the payload is deliberately not posted. A route answers it as
// accepted.
var ErrSkip = errors.New("jsontmpl: the route's when is false for this payload")

// Result is what a spec makes of one payload.
type Result struct {
	// Message holds the text and card; its Thread is nil: the thread key is
	// ThreadKey, for the caller to apply as its threading policy says.
	Message gchat.Message
	// ThreadKey and DedupKey are the rendered keys, "" when blank.
	ThreadKey string
	DedupKey  string
}

// maxThreadKey is the longest thread key Google accepts, in characters.
const maxThreadKey = 4000

// Execute renders the spec over payload, a JSON document of at most
// MaxPayload bytes. It returns ErrSkip when the spec's When is false. Its
// other errors are Problems naming the spec field at fault (or "payload"),
// clear enough to answer a webhook with: invalid JSON, a template that fails
// on this payload, a budget spent, or a message Google would refuse (say, a
// button whose URL renders "not a url"); the message it returns passes
// gchat.Message.Check without errors.
func (t *Template) Execute(payload []byte) (Result, error) {
	if len(payload) > MaxPayload {
		return Result{}, Problems{{Path: "payload", Msg: fmt.Sprintf("%d bytes; at most %d are accepted", len(payload), MaxPayload)}}
	}
	data, err := decodePayload(payload)
	if err != nil {
		return Result{}, Problems{{Path: "payload", Msg: err.Error()}}
	}
	x := &exec{data: data}
	// Each Execute binds the functions to its own budget; the clone shares
	// the parse trees.
	if x.tmpl, err = t.set.Clone(); err != nil {
		return Result{}, err
	}
	x.tmpl.Funcs(x.funcs())

	if show, ok := x.when(t.when); ok && !show {
		return Result{}, ErrSkip
	}
	var r Result
	r.Message.Text, _ = x.render(t.text)
	r.ThreadKey, _ = x.render(t.threadKey)
	r.DedupKey, _ = x.render(t.dedupKey)
	c := x.card(t.card)
	if n := utf8.RuneCountInString(r.ThreadKey); n > maxThreadKey {
		x.problem(t.threadKey.path, "renders %d characters; Google accepts at most %d", n, maxThreadKey)
	}
	if len(x.problems) > 0 {
		return Result{}, x.problems
	}
	if r.Message.Text == "" && c == nil {
		return Result{}, Problems{{Msg: "the message is empty for this payload: text renders blank and the card has nothing to show (a when can skip such payloads)"}}
	}
	if c != nil {
		r.Message.CardsV2 = []card.CardWithID{{Card: *c}}
	}
	for _, p := range r.Message.Check().Errors() {
		x.problem(x.specPath(p.Path), "%s", p.Message)
	}
	if len(x.problems) > 0 {
		return Result{}, x.problems
	}
	return r, nil
}

// decodePayload decodes a JSON document with numbers as json.Number and
// drops the null members of objects, so that a null field is as missing as
// an absent one.
func decodePayload(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("empty; want a JSON document")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("invalid JSON at byte %d: unexpected end of input", len(b))
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(b[end:], " \t\r\n"); len(rest) > 0 {
		return nil, fmt.Errorf("invalid JSON at byte %d: more data after the document", len(b)-len(rest)+1)
	}
	return dropNulls(v), nil
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}

// exec is one Execute.
type exec struct {
	state
	tmpl     *template.Template
	data     any
	buf      limitedBuffer
	problems Problems
	// stopped is set once a budget is spent: later fields are not run.
	stopped bool

	// Where the built card's sections, widgets and buttons come from in the
	// spec, since some are left out: sections[i] is spec section
	// sections[i]; widgets[i][j] the spec widget of built widget j of built
	// section i; buttons[i][j][k] likewise.
	sections []int
	widgets  [][]int
	buttons  [][][]int
}

func (x *exec) problem(path, format string, args ...any) {
	x.problems = append(x.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// render executes f and returns its output without surrounding blanks, and
// whether it succeeded; a failure is recorded as a problem. A field without
// template renders "".
func (x *exec) render(f field) (string, bool) {
	if f.name == "" {
		return "", true
	}
	if x.stopped {
		return "", false
	}
	x.buf.Reset()
	if err := x.tmpl.ExecuteTemplate(&x.buf, f.name, x.data); err != nil {
		x.fail(f.path, err)
		return "", false
	}
	return strings.TrimSpace(x.buf.String()), true
}

// when renders a When field: show is false when it renders blank or "false".
// An empty When shows.
func (x *exec) when(f field) (show, ok bool) {
	s, ok := x.render(f)
	if !ok {
		return false, false
	}
	return f.name == "" || s != "" && !strings.EqualFold(s, "false"), true
}

func (x *exec) fail(path string, err error) {
	switch {
	case x.over != nil:
		x.problem(path, "%v", x.over)
		x.stopped = true
	case errors.Is(err, errFieldTooLarge):
		x.problem(path, "renders more than %d KiB for this payload", maxField>>10)
	default:
		x.problem(path, "%s", execError(err))
	}
}

// execError shortens text/template's "template: NAME:LINE:COL: executing
// "NAME" at <NODE>: error calling F: MSG" to "at <NODE> (line LINE, column
// COL): F: MSG": the problem's path already names the field.
func execError(err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: ")
	if !ok {
		return msg
	}
	loc, after, ok := strings.Cut(rest, `: executing "`)
	if !ok {
		return msg
	}
	_, after, ok = strings.Cut(after, `" at <`)
	if !ok {
		return msg
	}
	node, detail, ok := strings.Cut(after, ">: ")
	if !ok {
		return msg
	}
	detail = strings.Replace(detail, "error calling ", "", 1)
	if f, ok := strings.CutPrefix(detail, "can't evaluate field "); ok {
		// "… in type interface {}" says nothing to someone writing JSON paths.
		if name, _, ok := strings.Cut(f, " in type "); ok {
			detail = "can't evaluate field " + name + ": the value before it is not an object"
		}
	}
	where := ""
	if parts := strings.Split(loc, ":"); len(parts) >= 3 {
		where = fmt.Sprintf(" (line %s, column %s)", parts[len(parts)-2], parts[len(parts)-1])
	}
	return fmt.Sprintf("at <%s>%s: %s", node, where, detail)
}

var errFieldTooLarge = errors.New("field too large")

// limitedBuffer is a buffer that refuses to grow past maxField bytes, which
// stops the template writing to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxField {
		return 0, errFieldTooLarge
	}
	return b.Buffer.Write(p)
}

// WriteString is Write for a string.
func (b *limitedBuffer) WriteString(s string) (int, error) {
	if b.Len()+len(s) > maxField {
		return 0, errFieldTooLarge
	}
	return b.Buffer.WriteString(s)
}

// card builds the card, leaving out what renders blank; nil when nothing is
// left.
func (x *exec) card(ct *cardTmpl) *card.Card {
	if ct == nil {
		return nil
	}
	title, _ := x.render(ct.title)
	subtitle, _ := x.render(ct.subtitle)
	image, _ := x.render(ct.imageURL)
	var c card.Card
	if title != "" || subtitle != "" || image != "" {
		c.Header = &card.Header{Title: title, Subtitle: subtitle, ImageURL: image}
	}
	for si, st := range ct.sections {
		if show, ok := x.when(st.when); !ok || !show {
			continue
		}
		header, _ := x.render(st.header)
		var (
			ws      []*card.Widget
			widgets []int
			buttons [][]int
		)
		for wi, wt := range st.widgets {
			w, bs := x.widget(wt)
			if w != nil {
				ws = append(ws, w)
				widgets = append(widgets, wi)
				buttons = append(buttons, bs)
			}
		}
		if len(ws) == 0 {
			continue
		}
		c.Sections = append(c.Sections, &card.Section{Header: header, Widgets: ws, Collapsible: st.collapsible})
		x.sections = append(x.sections, si)
		x.widgets = append(x.widgets, widgets)
		x.buttons = append(x.buttons, buttons)
	}
	if c.Header == nil && len(c.Sections) == 0 {
		return nil
	}
	return &c
}

// widget builds one widget, or nil when its When is false or its required
// part renders blank; for a button list it also returns the spec index of
// each button kept.
func (x *exec) widget(wt widgetTmpl) (*card.Widget, []int) {
	if show, ok := x.when(wt.when); !ok || !show {
		return nil, nil
	}
	switch {
	case wt.text.name != "":
		if s, _ := x.render(wt.text); s != "" {
			return card.Text(s), nil
		}
	case wt.decorated != nil:
		text, _ := x.render(wt.decorated.text)
		label, _ := x.render(wt.decorated.label)
		bottom, _ := x.render(wt.decorated.bottom)
		if text != "" {
			w := card.Decorated(label, text)
			w.DecoratedText.BottomLabel = bottom
			return w, nil
		}
	case len(wt.buttons) > 0:
		var bs []*card.Button
		var kept []int
		for k, bt := range wt.buttons {
			if show, ok := x.when(bt.when); !ok || !show {
				continue
			}
			u, _ := x.render(bt.url)
			text, _ := x.render(bt.text)
			if u != "" && text != "" {
				bs = append(bs, card.LinkButton(text, u))
				kept = append(kept, k)
			}
		}
		if len(bs) > 0 {
			return card.Buttons(bs...), kept
		}
	case wt.image != nil:
		u, _ := x.render(wt.image.url)
		alt, _ := x.render(wt.image.alt)
		if u != "" {
			return card.Picture(u, alt), nil
		}
	case wt.divider:
		return card.Divider(), nil
	}
	return nil, nil
}

// specPath maps the JSON path of a problem gchat.Message.Check found to the
// path of the spec field that made it.
func (x *exec) specPath(p string) string {
	rest, ok := strings.CutPrefix(p, "cardsV2[0].card")
	if !ok {
		return p // "text", or "" for the message
	}
	rest = strings.TrimPrefix(rest, ".")
	if f, ok := strings.CutPrefix(rest, "header."); ok {
		switch f {
		case "title", "subtitle":
			return "card." + f
		case "imageUrl":
			return "card.image_url"
		}
		return "card.title"
	}
	i, rest, ok := cutIndex(rest, "sections")
	if !ok || i >= len(x.sections) {
		return "card"
	}
	out := fmt.Sprintf("card.sections[%d]", x.sections[i])
	j, rest, ok := cutIndex(strings.TrimPrefix(rest, "."), "widgets")
	if !ok || j >= len(x.widgets[i]) {
		if rest == ".header" {
			return out + ".header"
		}
		return out
	}
	out += fmt.Sprintf(".widgets[%d]", x.widgets[i][j])
	rest = strings.TrimPrefix(rest, ".")
	if k, tail, ok := cutIndex(rest, "buttonList.buttons"); ok && k < len(x.buttons[i][j]) {
		out += fmt.Sprintf(".buttons[%d]", x.buttons[i][j][k])
		if strings.HasPrefix(tail, ".onClick") {
			return out + ".url"
		}
		if tail == ".text" {
			return out + ".text"
		}
		return out
	}
	switch {
	case strings.HasPrefix(rest, "textParagraph"):
		return out + ".text"
	case rest == "decoratedText.topLabel":
		return out + ".decorated.label"
	case rest == "decoratedText.bottomLabel":
		return out + ".decorated.bottom_label"
	case strings.HasPrefix(rest, "decoratedText"):
		return out + ".decorated.text"
	case rest == "image.altText":
		return out + ".image.alt"
	case strings.HasPrefix(rest, "image"):
		return out + ".image.url"
	}
	return out
}

// cutIndex reads name[N] at the start of s and returns N and what follows.
func cutIndex(s, name string) (int, string, bool) {
	rest, ok := strings.CutPrefix(s, name+"[")
	if !ok {
		return 0, s, false
	}
	num, rest, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, s, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, s, false
	}
	return n, rest, true
}
