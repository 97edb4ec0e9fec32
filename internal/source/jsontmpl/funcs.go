package jsontmpl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gchatkit/gchat"
)

// Values a template prints are escaped for the field they land in (see
// emit). The functions that make markup return one of these types, which emit
// trusts in the fields they are made for; any other value is data.
type (
	// chatText is Chat text markup made by md, link or escape: trusted in
	// the text field.
	chatText string
	// cardHTML is card HTML made by mdcard: trusted in card HTML fields.
	cardHTML string
	// rawText is a value marked with raw: trusted in every field.
	rawText string
)

// fieldContext is the syntax of a spec field, which decides how the values
// printed into it are escaped.
type fieldContext uint8

const (
	ctxPlain fieldContext = iota // plain text: titles, labels, URLs, keys, when
	ctxText                      // Chat text markup: the message text
	ctxHTML                      // card HTML: section headers, text widgets, decorated text
)

// fnStep and emitFunc name the functions Compile adds to templates (see
// compiler.walk). They are left out of the functions templates are parsed
// with, so a template cannot call them itself.
const fnStep = "_step"

var emitFunc = map[fieldContext]string{
	ctxPlain: "_emit_plain",
	ctxText:  "_emit_text",
	ctxHTML:  "_emit_html",
}

// Limits of one Execute. A template is configuration, but the payload is
// not, and it drives loops and the size of what functions handle; these keep
// a payload from making a small template run for long or grow without bound.
const (
	// MaxPayload is the largest payload Execute accepts, in bytes.
	MaxPayload = 1 << 20
	// maxField is the most one field may render, in bytes.
	maxField = 64 << 10
	// maxSteps is the most range iterations all fields may run together.
	maxSteps = 100_000
	// maxWork is the most bytes all fields' functions and printed values
	// may handle together.
	maxWork = 16 << 20
	// mdCost is what md and mdcard count per byte of input: they are the
	// slowest functions per byte (about 2 MB/s on adversarial input, 50 MB/s
	// on real bodies), so that the work budget bounds them to about a
	// second.
	mdCost = 4
)

// state is what the functions of one Execute share: its budget.
type state struct {
	steps int
	work  int
	// over is the error once a budget is spent; every later call fails too.
	over error
}

func (s *state) step() (string, error) {
	if s.over != nil {
		return "", s.over
	}
	if s.steps++; s.steps > maxSteps {
		s.over = fmt.Errorf("the templates loop more than %d times for this payload", maxSteps)
		return "", s.over
	}
	return "", nil
}

// charge counts n bytes of work.
func (s *state) charge(n int) error {
	if s.over != nil {
		return s.over
	}
	if s.work += n; s.work > maxWork {
		s.over = fmt.Errorf("the templates handle more than %d MiB of text for this payload", maxWork>>20)
		return s.over
	}
	return nil
}

// funcs returns the template functions bound to s. Compile parses with the
// functions of a zero state; each Execute binds its own.
func (s *state) funcs() template.FuncMap {
	return template.FuncMap{
		fnStep:             s.step,
		emitFunc[ctxPlain]: func(v any) (string, error) { return s.emit(ctxPlain, v) },
		emitFunc[ctxText]:  func(v any) (string, error) { return s.emit(ctxText, v) },
		emitFunc[ctxHTML]:  func(v any) (string, error) { return s.emit(ctxHTML, v) },

		// Markup.
		"md":     s.md,
		"mdcard": s.mdcard,
		"link":   s.link,
		"escape": s.escape,
		"raw":    s.raw,

		// Text.
		"trunc":     s.trunc,
		"upper":     s.mapString(strings.ToUpper),
		"lower":     s.mapString(strings.ToLower),
		"title":     s.mapString(title),
		"trim":      s.mapString(strings.TrimSpace),
		"replace":   s.replace,
		"split":     s.split,
		"join":      s.join,
		"contains":  s.contains,
		"hasPrefix": s.hasPrefix,

		// Values.
		"default":  deflt,
		"first":    first,
		"last":     last,
		"get":      get,
		"json":     s.json,
		"time":     s.time,
		"duration": duration,

		// Builtins replaced: comparisons that know JSON numbers, and printing
		// that counts its work.
		"eq":       eq,
		"ne":       ne,
		"lt":       order(func(c int) bool { return c < 0 }),
		"le":       order(func(c int) bool { return c <= 0 }),
		"gt":       order(func(c int) bool { return c > 0 }),
		"ge":       order(func(c int) bool { return c >= 0 }),
		"print":    s.print(fmt.Sprint),
		"println":  s.print(fmt.Sprintln),
		"printf":   s.printf,
		"html":     s.print(template.HTMLEscaper),
		"js":       s.print(template.JSEscaper),
		"urlquery": s.print(template.URLQueryEscaper),
	}
}

// parseFuncs are the functions a template may name: those of a zero state
// but the ones Compile adds.
func parseFuncs() template.FuncMap {
	fm := new(state).funcs()
	delete(fm, fnStep)
	for _, name := range emitFunc {
		delete(fm, name)
	}
	return fm
}

// errFormatted is the error of a text function given markup.
var errFormatted = errors.New("the value is already formatted by md, mdcard, link, escape or raw; apply this function first, as in {{ .body | trunc 500 | md }}")

// text returns v as text for a function: nil is "", numbers as written, a
// list or object as compact JSON. Markup is an error: cutting or changing it
// would break it.
func text(v any) (string, error) {
	s, safe := display(v)
	if safe {
		return "", errFormatted
	}
	return s, nil
}

// display returns the text v prints as, and whether it is markup made by a
// function (chatText, cardHTML, rawText). nil and empty lists and objects
// print as nothing, so that a missing field or an empty list renders blank.
func display(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, false
	case json.Number:
		return string(v), false
	case bool:
		return strconv.FormatBool(v), false
	case chatText:
		return string(v), true
	case cardHTML:
		return string(v), true
	case rawText:
		return string(v), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		if rv.Len() == 0 {
			return "", false
		}
		b, err := compactJSON(v)
		if err != nil {
			return fmt.Sprint(v), false
		}
		return string(b), false
	}
	return fmt.Sprint(v), false
}

// emit is the last command of every action Compile rewrites: it turns the
// value an action prints into text for the field's syntax.
//
//   - text field: markup from md, link, escape and raw as is; an http(s) URL
//     without blanks, < > or | as is, so that it stays a link; anything
//     else through gchat.Escape, so that payload data never becomes bold,
//     a link or a mention.
//   - card HTML fields: markup from mdcard and raw as is; anything else
//     HTML-escaped (< > & and "), so that a "<" in an issue title shows as
//     written and a value is safe inside a double-quoted attribute.
//   - plain fields: as is.
func (s *state) emit(ctx fieldContext, v any) (string, error) {
	str, safe := display(v)
	if err := s.charge(len(str)); err != nil {
		return "", err
	}
	switch v.(type) {
	case rawText:
		return str, nil
	case chatText:
		safe = ctx == ctxText
	case cardHTML:
		safe = ctx == ctxHTML
	}
	if safe || ctx == ctxPlain {
		return str, nil
	}
	if ctx == ctxText {
		if bareURL(str) {
			return str, nil
		}
		return gchat.Escape(str), nil
	}
	return escapeAttr(str), nil
}

// bareURL reports whether s is an http or https URL that Chat links as it
// stands: no blank, control character, <, >, | or ".
func bareURL(s string) bool {
	lower := strings.ToLower(s[:min(len(s), 8)])
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || unicode.IsSpace(r) || r == '<' || r == '>' || r == '|' || r == '"' || r == utf8.RuneError || r == '\u200b'
	}) < 0
}

func (s *state) md(v any) (chatText, error) {
	src, err := text(v)
	if err != nil {
		return "", err
	}
	if err := s.charge(mdCost * len(src)); err != nil {
		return "", err
	}
	return chatText(markdown(src, mdChat)), nil
}

func (s *state) mdcard(v any) (cardHTML, error) {
	src, err := text(v)
	if err != nil {
		return "", err
	}
	if err := s.charge(mdCost * len(src)); err != nil {
		return "", err
	}
	return cardHTML(markdown(src, mdHTML)), nil
}

// link returns <url|label> in Chat markup; label is shown as it is, with | <
// and > replaced (gchat.Link). A url that is not an absolute http, https or
// mailto URL gives the label alone, escaped.
func (s *state) link(u, label any) (chatText, error) {
	us, err := text(u)
	if err != nil {
		return "", err
	}
	ls, err := text(label)
	if err != nil {
		return "", err
	}
	if err := s.charge(len(us) + len(ls)); err != nil {
		return "", err
	}
	us = strings.TrimSpace(us)
	if !linkable(us) {
		if ls == "" {
			ls = us
		}
		return chatText(gchat.Escape(ls)), nil
	}
	return chatText(gchat.Link(us, ls)), nil
}

func (s *state) escape(v any) (chatText, error) {
	str, err := text(v)
	if err != nil {
		return "", err
	}
	if err := s.charge(len(str)); err != nil {
		return "", err
	}
	return chatText(gchat.Escape(str)), nil
}

func (s *state) raw(v any) rawText {
	str, _ := display(v)
	return rawText(str)
}

// trunc returns v cut to at most n characters, the last of them "…" when it
// was cut.
func (s *state) trunc(n, v any) (string, error) {
	max, err := toInt(n)
	if err != nil {
		return "", fmt.Errorf("length: %w", err)
	}
	str, err := text(v)
	if err != nil {
		return "", err
	}
	if err := s.charge(len(str)); err != nil {
		return "", err
	}
	if max <= 0 {
		return "", nil
	}
	if utf8.RuneCountInString(str) <= max {
		return str, nil
	}
	i, k := 0, 0
	for k < max-1 {
		_, size := utf8.DecodeRuneInString(str[i:])
		i += size
		k++
	}
	return strings.TrimRightFunc(str[:i], unicode.IsSpace) + "…", nil
}

// mapString returns a function applying f to its argument's text.
func (s *state) mapString(f func(string) string) func(any) (string, error) {
	return func(v any) (string, error) {
		str, err := text(v)
		if err != nil {
			return "", err
		}
		if err := s.charge(len(str)); err != nil {
			return "", err
		}
		return f(str), nil
	}
}

// title upper-cases the first letter of each blank-separated word.
func title(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := true
	for _, r := range s {
		if start {
			r = unicode.ToTitle(r)
		}
		start = unicode.IsSpace(r)
		b.WriteRune(r)
	}
	return b.String()
}

func (s *state) replace(old, new, v any) (string, error) {
	o, err := text(old)
	if err != nil {
		return "", err
	}
	n, err := text(new)
	if err != nil {
		return "", err
	}
	str, err := text(v)
	if err != nil {
		return "", err
	}
	// Count the result before making it: replacing "" grows s by len(new)
	// per character.
	count := strings.Count(str, o)
	if err := s.charge(len(str) + count*len(n)); err != nil {
		return "", err
	}
	return strings.ReplaceAll(str, o, n), nil
}

func (s *state) split(sep, v any) ([]any, error) {
	sp, err := text(sep)
	if err != nil {
		return nil, err
	}
	str, err := text(v)
	if err != nil {
		return nil, err
	}
	if err := s.charge(len(str)); err != nil {
		return nil, err
	}
	if str == "" {
		return nil, nil
	}
	parts := strings.Split(str, sp)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// join joins the elements of a list, each as text, with sep between.
func (s *state) join(sep, list any) (string, error) {
	sp, err := text(sep)
	if err != nil {
		return "", err
	}
	if list == nil {
		return "", nil
	}
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return "", fmt.Errorf("want a list, got %s", jsonKind(list))
	}
	parts := make([]string, rv.Len())
	n := 0
	for i := range parts {
		if parts[i], err = text(rv.Index(i).Interface()); err != nil {
			return "", err
		}
		n += len(parts[i]) + len(sp)
	}
	if err := s.charge(n); err != nil {
		return "", err
	}
	return strings.Join(parts, sp), nil
}

func (s *state) contains(sub, v any) (bool, error) {
	return s.test(strings.Contains, sub, v)
}

func (s *state) hasPrefix(prefix, v any) (bool, error) {
	return s.test(strings.HasPrefix, prefix, v)
}

func (s *state) test(f func(s, sub string) bool, sub, v any) (bool, error) {
	a, err := text(sub)
	if err != nil {
		return false, err
	}
	str, err := text(v)
	if err != nil {
		return false, err
	}
	if err := s.charge(len(str)); err != nil {
		return false, err
	}
	return f(str, a), nil
}

// empty reports whether v is missing, null, "" or an empty list or object.
func empty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Map, reflect.Slice, reflect.Array:
		return rv.Len() == 0
	}
	return false
}

// deflt returns v, or def when v is empty. 0 and false are not empty.
func deflt(def, v any) any {
	if empty(v) {
		return def
	}
	return v
}

func first(list any) (any, error) { return element(list, 0) }
func last(list any) (any, error)  { return element(list, -1) }

// element returns list's element i (counting from the end when negative),
// or nil when there is none.
func element(list any, i int) (any, error) {
	if list == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("want a list, got %s", jsonKind(list))
	}
	if i < 0 {
		i += rv.Len()
	}
	if i < 0 || i >= rv.Len() {
		return nil, nil
	}
	return rv.Index(i).Interface(), nil
}

// get looks up a dotted path in v: object keys by name, list elements by
// index ("commits.0.author.name"). It returns nil when something on the way
// is missing. It reaches keys that field syntax cannot (.x.y needs x to be
// a Go identifier).
func get(path string, v any) any {
	for _, k := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// json returns v as compact JSON, without HTML escaping.
func (s *state) json(v any) (string, error) {
	b, err := compactJSON(v)
	if err != nil {
		return "", err
	}
	if err := s.charge(len(b)); err != nil {
		return "", err
	}
	return string(b), nil
}

func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// timeLayouts are the forms time reads, besides Unix seconds.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05 MST",       // GitLab: 2016-08-12 15:23:28 UTC
	"2006-01-02 15:04:05 -0700",     // GitLab deployments: 2021-04-28 21:50:00 +0200
	"2006-01-02 15:04:05.999999999", // Uptime Kuma, in UTC: 2024-05-14 07:51:03.157
	"2006-01-02T15:04:05.999999999", // no zone: UTC
	time.RFC1123Z,
	time.RFC1123,
}

// layoutNames are the names time accepts for Go's layouts.
var layoutNames = map[string]string{
	"RFC3339":  time.RFC3339,
	"RFC1123":  time.RFC1123,
	"RFC822":   time.RFC822,
	"DateTime": time.DateTime,
	"DateOnly": time.DateOnly,
	"TimeOnly": time.TimeOnly,
	"Kitchen":  time.Kitchen,
}

// time reformats the time v with a Go layout (or one of layoutNames). v is
// RFC 3339, one of timeLayouts, or a number of Unix seconds. A time keeps its
// own zone; Unix seconds are UTC. Missing gives ""; a value it cannot read is
// returned as it is.
func (s *state) time(layout string, v any) (string, error) {
	if l, ok := layoutNames[layout]; ok {
		layout = l
	}
	if err := s.charge(len(layout)); err != nil {
		return "", err
	}
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		if err != nil || math.Abs(f) > 1e11 {
			return string(n), nil
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format(layout), nil
	}
	str, err := text(v)
	if err != nil || str == "" {
		return "", err
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(str)); err == nil {
			return t.Format(layout), nil
		}
	}
	return str, nil
}

// duration formats a number of seconds (or a Go duration such as "2h30m") as
// "1h 2m 3s", parts that are 0 left out; under a second as Go prints it,
// "250ms". Missing gives "".
func duration(v any) (string, error) {
	var sec float64
	switch v := v.(type) {
	case nil:
		return "", nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return "", fmt.Errorf("%q is not a number of seconds", string(v))
		}
		sec = f
	case int:
		sec = float64(v)
	case float64:
		sec = v
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			sec = f
		} else if d, err := time.ParseDuration(v); err == nil {
			sec = d.Seconds()
		} else {
			return "", fmt.Errorf("%q is not a number of seconds or a duration", v)
		}
	default:
		return "", fmt.Errorf("want a number of seconds, got %s", jsonKind(v))
	}
	if math.Abs(sec) > 1e9 { // 31 years: no duration a source reports
		return "", fmt.Errorf("%g seconds is out of range", sec)
	}
	d := time.Duration(sec * float64(time.Second))
	if d > -time.Second && d < time.Second {
		return d.String(), nil
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Second)
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.name)
			d -= n * u.d
		}
	}
	return sign + strings.Join(parts, " "), nil
}

// toInt reads an integer argument: a Go int from the template or a JSON
// number from the payload.
func toInt(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case json.Number:
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", string(v))
		}
		return n, nil
	}
	return 0, fmt.Errorf("want an integer, got %s", jsonKind(v))
}

// jsonKind names the kind of v as JSON would.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string, chatText, cardHTML, rawText:
		return "a string"
	case json.Number, int, int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

// scalar is a value normalised for comparison: nil, a string, a bool, or a
// number as int64 or float64.
func scalar(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool, int64, float64:
		return v, nil
	case chatText:
		return string(v), nil
	case cardHTML:
		return string(v), nil
	case rawText:
		return string(v), nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		if f, err := v.Float64(); err == nil {
			return f, nil
		}
		return string(v), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u), nil
		}
		return float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	}
	return nil, fmt.Errorf("cannot compare %s", jsonKind(v))
}

// compare compares two scalars: numbers by value, anything else as text; a
// missing value (nil) is "" beside a string and 0 beside a number. ordered
// says whether the result orders a and b or only tells equality.
func compare(a, b any) (c int, ordered bool, err error) {
	if a, err = scalar(a); err != nil {
		return 0, false, err
	}
	if b, err = scalar(b); err != nil {
		return 0, false, err
	}
	if a == nil && b == nil {
		return 0, true, nil
	}
	x, xok := number(a)
	y, yok := number(b)
	if xok && yok {
		switch {
		case x.isInt && y.isInt:
			return cmpInt(x.i, y.i), true, nil
		default:
			return cmpFloat(x.f, y.f), true, nil
		}
	}
	as, bs := textOf(a), textOf(b)
	_, aBool := a.(bool)
	_, bBool := b.(bool)
	return strings.Compare(as, bs), !aBool && !bBool, nil
}

type num struct {
	isInt bool
	i     int64
	f     float64
}

// number reads a scalar as a number: nil is 0; a string is not a number.
func number(v any) (num, bool) {
	switch v := v.(type) {
	case nil:
		return num{isInt: true}, true
	case int64:
		return num{isInt: true, i: v, f: float64(v)}, true
	case float64:
		return num{f: v}, true
	}
	return num{}, false
}

func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// eq reports whether a equals any of bs: numbers by value (so a JSON 1 equals
// the template's 1), anything else as text ("true" equals true), a missing
// value equal to "" and 0. Lists and objects cannot be compared.
func eq(a any, bs ...any) (bool, error) {
	if len(bs) == 0 {
		return false, errors.New("missing argument for comparison")
	}
	for _, b := range bs {
		c, _, err := compare(a, b)
		if err != nil {
			return false, err
		}
		if c == 0 {
			return true, nil
		}
	}
	return false, nil
}

func ne(a, b any) (bool, error) {
	c, _, err := compare(a, b)
	return c != 0, err
}

// order returns an ordering comparison: numbers by value, strings in byte
// order.
func order(ok func(int) bool) func(a, b any) (bool, error) {
	return func(a, b any) (bool, error) {
		c, ordered, err := compare(a, b)
		if err != nil {
			return false, err
		}
		if !ordered {
			return false, errors.New("booleans have no order")
		}
		return ok(c), nil
	}
}

// print returns a printing function that counts the bytes it makes.
func (s *state) print(f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if s.over != nil {
			return "", s.over
		}
		out := f(args...)
		return out, s.charge(len(out))
	}
}

// maxWidth bounds printf's widths and precisions, which would otherwise let
// "%999999999d" allocate a gigabyte.
const maxWidth = 1000

// printf is fmt.Sprintf with JSON numbers printed as numbers by %d, %x, %f
// and the like (and as written by %v and %s), and widths bounded.
func (s *state) printf(format string, args ...any) (string, error) {
	if err := checkFormat(format); err != nil {
		return "", err
	}
	if s.over != nil {
		return "", s.over
	}
	for i, a := range args {
		if n, ok := a.(json.Number); ok {
			args[i] = fmtNumber(n)
		}
	}
	out := fmt.Sprintf(format, args...)
	return out, s.charge(len(out))
}

// checkFormat rejects a * width or precision and any larger than maxWidth.
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format); i++ {
			c := format[i]
			if c == '*' {
				return errors.New("printf: * widths are not supported")
			}
			if '0' <= c && c <= '9' {
				j := i
				for j < len(format) && '0' <= format[j] && format[j] <= '9' {
					j++
				}
				if n, err := strconv.Atoi(format[i:j]); err != nil || n > maxWidth {
					return fmt.Errorf("printf: width %s is more than %d", format[i:j], maxWidth)
				}
				i = j - 1
				continue
			}
			if !strings.ContainsRune("+-# .[]", rune(c)) {
				break // the verb
			}
		}
	}
	return nil
}

// fmtNumber prints a JSON number as an integer or a float for numeric verbs
// and as written for the others.
type fmtNumber json.Number

func (n fmtNumber) Format(f fmt.State, verb rune) {
	switch verb {
	case 'd', 'x', 'X', 'o', 'O', 'b', 'c', 'U':
		if i, err := json.Number(n).Int64(); err == nil {
			fmt.Fprintf(f, fmt.FormatString(f, verb), i)
			return
		}
	case 'e', 'E', 'f', 'F', 'g', 'G':
		if x, err := json.Number(n).Float64(); err == nil {
			fmt.Fprintf(f, fmt.FormatString(f, verb), x)
			return
		}
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), string(n))
}
