package webhookapi

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gchatkit/gchat/internal/webhookapi/internal/discovery"
)

// This file checks a decoded body against Google's Message schema the way
// Google's proto3 JSON converter does (docs/google-chat.md §2.1), and normalises it to what
// Google would echo: lowerCamelCase names, no nulls, no output-only fields.
// Error texts follow protobuf's converter (util/internal/proto_writer.cc and
// protostream_objectwriter.cc), which Google's API front end uses:
//
//	Invalid JSON payload received. Unknown name "x" at 'message.thread': Cannot find field.
//	Invalid value at 'message.text' (TYPE_STRING), 5

// loc is a location in the request as Google's errors spell it,
// message.cards_v2[0].card: proto (snake_case) names and list indexes. Locs
// are linked on the stack and become strings only for an error.
type loc struct {
	parent *loc
	name   string // a field's proto name; "" for a list element
	index  int    // a list element's index; -1 for a field
}

func (l *loc) String() string {
	if l == nil {
		return ""
	}
	var parts []*loc
	for p := l; p != nil; p = p.parent {
		parts = append(parts, p)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if p.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 && !strings.HasPrefix(p.name, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p.name)
	}
	return b.String()
}

// rootLoc is where the body sits in the request: CreateMessageRequest.message.
func rootLoc() loc { return loc{name: "message", index: -1} }

// unknownName is the converter's InvalidName: the name as given, in
// snake_case, and the location of the object that holds it. A BadRequest
// detail names the location (docs/google-chat.md §2.1, awx#4665).
func unknownName(name string, at *loc, why string) *Error {
	return unknownNameWhy(name, at.String(), why)
}

func unknownNameAt(name, where string) *Error {
	return unknownNameWhy(name, where, "Cannot find field.")
}

func unknownNameWhy(name, where, why string) *Error {
	msg := `Invalid JSON payload received. Unknown name "` + snakeCase(name) + `"`
	if where != "" {
		msg += ` at '` + where + `'`
	}
	msg += ": " + why
	return InvalidArgument(msg, BadRequest(FieldViolation{Field: where, Description: msg}))
}

// unknownNames is Google's answer to a body with unknown names: one
// message per name, joined by newlines, in the order of the body, and one
// BadRequest detail listing each (observed: pydantic/logfire#1540).
//
// Guess: a decoded map has lost the body's order, so each name is placed
// at the first place it is written as a key in raw; names written alike are
// ordered by location.
func unknownNames(us []unknownField, raw []byte) *Error {
	if len(us) == 1 {
		return unknownNameAt(us[0].key, us[0].at)
	}
	first := keyOffsets(raw)
	offset := func(u unknownField) int {
		if o, ok := first[u.key]; ok {
			return o
		}
		return len(raw)
	}
	slices.SortStableFunc(us, func(a, b unknownField) int {
		if c := cmp.Compare(offset(a), offset(b)); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.at, b.at), strings.Compare(a.key, b.key))
	})
	more := 0
	if len(us) > maxUnknownNames {
		us, more = us[:maxUnknownNames], len(us)-maxUnknownNames
	}
	msgs := make([]string, len(us), len(us)+1)
	vs := make([]FieldViolation, len(us))
	for i, u := range us {
		e := unknownNameAt(u.key, u.at)
		msgs[i] = e.Message
		vs[i] = FieldViolation{Field: u.at, Description: e.Message}
	}
	if more > 0 {
		msgs = append(msgs, "… and "+strconv.Itoa(more)+" more unknown names.")
	}
	return InvalidArgument(strings.Join(msgs, "\n"), BadRequest(vs...))
}

// maxUnknownNames caps the names one answer lists, so that a body of many
// short unknown names cannot make an answer many times its size.
//
// Guess: Google's own cap, if any, is unknown.
const maxUnknownNames = 100

// keyOffsets maps each object key of the JSON text raw to the offset where
// it is first written, in one pass (raw is valid JSON: Parse checked it).
func keyOffsets(raw []byte) map[string]int {
	offs := make(map[string]int)
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Per open container: whether it is an object, and whether the object
	// expects a key next.
	var inObject, wantKey []bool
	for {
		at := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return offs
		}
		n := len(inObject)
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				inObject, wantKey = append(inObject, t == '{'), append(wantKey, t == '{')
				continue
			}
			inObject, wantKey = inObject[:n-1], wantKey[:n-1]
			n--
		case string:
			if n > 0 && inObject[n-1] && wantKey[n-1] {
				if _, seen := offs[t]; !seen {
					offs[t] = at
				}
				wantKey[n-1] = false
				continue
			}
		}
		// A value ended: in an object, a key comes next.
		if n > 0 && inObject[n-1] {
			wantKey[n-1] = true
		}
	}
}

// invalidValue is the converter's InvalidValue: the location of the value, a
// type (TYPE_STRING, TYPE_ENUM, or a type URL for messages) and the value.
//
// Guess: the BadRequest detail, which is observed only for unknown names.
func invalidValue(at *loc, typ, value string) *Error {
	where := at.String()
	msg := "Invalid value at '" + where + "' (" + typ + "), " + value
	return InvalidArgument(msg, BadRequest(FieldViolation{Field: where, Description: msg}))
}

// repr renders a value as the converter's ValueAsString does: strings in
// quotes, unescaped; numbers and booleans as written.
func repr(v any) string {
	switch x := v.(type) {
	case string:
		return `"` + x + `"`
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	// Guess: an object or a list where a value belongs. Google's converter
	// has no such message; show the value, cut short.
	data, _ := json.Marshal(v)
	if len(data) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(data[cut]) {
			cut--
		}
		data = append(data[:cut:cut], "…"...)
	}
	return string(data)
}

// kindName is the converter's name of a scalar kind in errors.
var kindNames = map[string]string{
	discovery.KindString: "TYPE_STRING", discovery.KindBytes: "TYPE_BYTES", discovery.KindBool: "TYPE_BOOL",
	discovery.KindInt32: "TYPE_INT32", discovery.KindUint32: "TYPE_UINT32", discovery.KindInt64: "TYPE_INT64",
	discovery.KindUint64: "TYPE_UINT64", discovery.KindFloat: "TYPE_FLOAT", discovery.KindDouble: "TYPE_DOUBLE",
	discovery.KindEnum:      "TYPE_ENUM",
	discovery.KindTimestamp: "type.googleapis.com/google.protobuf.Timestamp",
	discovery.KindDuration:  "type.googleapis.com/google.protobuf.Duration",
	discovery.KindFieldMask: "type.googleapis.com/google.protobuf.FieldMask",
}

// walker checks and normalises a decoded body in place.
type walker struct {
	// changed records that the body differs from the bytes received (a
	// renamed field, a dropped null, a converted value), so that the typed
	// view must be decoded from the normalised body.
	changed bool
	// sorted visits object keys in order of their proto names: the slow
	// second pass that makes the reported error the same on every run.
	sorted bool
	// strict refuses the undocumented fields Google accepts (lenient.go).
	strict bool
	// unknown collects the unknown names of the first pass, which goes on
	// past them: Google reports every unknown name of a body at once.
	unknown []unknownField
}

// unknownField is an unknown name and the location of the object holding it.
type unknownField struct {
	key string
	at  string
}

// checkBody checks the body object m against the Message type. Among several
// errors Google reports the first in document order, which a decoded map has
// lost; the error reported is instead the first in order of field names, the
// same on every run.
//
// Unknown names are the exception: when the body has no other error, every
// unknown name is reported in one answer, as Google does (observed:
// pydantic/logfire#1540, kyverno/policy-reporter#332).
func checkBody(root *msgType, m map[string]any, strict bool, raw []byte) (changed bool, _ *Error) {
	w := walker{strict: strict}
	at := rootLoc()
	err := w.message(root, m, &at)
	if err == nil && len(w.unknown) > 0 {
		return w.changed, unknownNames(w.unknown, raw)
	}
	if err != nil {
		// The first pass stops at an error without touching the bad value,
		// and what it already normalised checks the same again.
		w2 := walker{sorted: true, strict: strict}
		if err2 := w2.message(root, m, &at); err2 != nil {
			err = err2
		}
	}
	return w.changed, err
}

func (w *walker) message(t *msgType, m map[string]any, at *loc) *Error {
	var renames []string // pairs of from, to; rare (snake_case input)
	if w.sorted {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return strings.Compare(snakeCase(a), snakeCase(b)) })
		for _, k := range keys {
			if err := w.member(t, m, k, m[k], at, &renames); err != nil {
				return err
			}
		}
	} else {
		for k, v := range m {
			if err := w.member(t, m, k, v, at, &renames); err != nil {
				return err
			}
		}
	}
	for i := 0; i < len(renames); i += 2 {
		from, to := renames[i], renames[i+1]
		m[to] = m[from]
		delete(m, from)
	}
	return nil
}

// member checks one key and value of an object of type t.
func (w *walker) member(t *msgType, m map[string]any, key string, v any, at *loc, renames *[]string) *Error {
	f := t.fields[key]
	if f == nil || f.undocumented && w.strict {
		if !w.sorted {
			w.unknown = append(w.unknown, unknownField{key, at.String()})
			return nil
		}
		return unknownName(key, at, "Cannot find field.") // docs/google-chat.md §2.1
	}
	if v == nil {
		// proto3 JSON: null is the field's default, that is, absent.
		delete(m, key)
		w.changed = true
		return nil
	}
	fl := loc{parent: at, name: f.proto, index: -1}
	nv, changed, err := w.value(f, v, at, &fl)
	if err != nil {
		return err
	}
	if f.output {
		// Output-only fields are parsed like any other (a wrong type is
		// still a 400), then ignored (docs/google-chat.md §2.1, §2.2).
		//
		// Guess: that parsing precedes the field-behaviour check, as in
		// Google's converter followed by the server.
		delete(m, key)
		w.changed = true
		return nil
	}
	if key != f.json {
		if _, dup := m[f.json]; dup {
			// Guess: Google's converter merges the two spellings in document
			// order (the last scalar wins, lists concatenate); a decoded map
			// has lost that order, so the field given twice is refused.
			return unknownName(key, at, `Field is set twice, as "`+f.json+`" and "`+key+`".`)
		}
		*renames = append(*renames, key, f.json)
		w.changed = true
	}
	if changed {
		m[key] = nv
		w.changed = true
	}
	return nil
}

// value checks the value of field f; fl is its location and at the location
// of the object holding it. It returns the normalised value and whether it
// differs from v.
func (w *walker) value(f *field, v any, at, fl *loc) (any, bool, *Error) {
	switch {
	case f.isMap:
		obj, ok := v.(map[string]any)
		if !ok {
			if _, isList := v.([]any); isList {
				return nil, false, invalidValue(fl, "Map", "Cannot bind a list to map for field '"+f.json+"'.")
			}
			return nil, false, invalidValue(fl, "Map", repr(v))
		}
		changed := false
		for k, e := range obj {
			if e == nil {
				delete(obj, k)
				changed = true
				continue
			}
			el := loc{parent: fl, name: `["` + k + `"]`, index: -1}
			ne, c, err := w.single(f, e, fl, &el)
			if err != nil {
				return nil, false, err
			}
			if c {
				obj[k], changed = ne, true
			}
		}
		return obj, changed, nil
	case f.repeated:
		list, ok := v.([]any)
		if !ok {
			// A single value where a list belongs is a list of one: Google's
			// converter checks only the other way round (proto_writer.cc
			// BeginNamed). Normalised to a list.
			ne, _, err := w.single(f, v, at, fl)
			if err != nil {
				return nil, false, err
			}
			return []any{ne}, true, nil
		}
		changed, j := false, 0
		for i, e := range list {
			if e == nil {
				// Guess: a null element is skipped, as a null field is.
				changed = true
				continue
			}
			el := loc{parent: fl, index: i}
			if _, nested := e.([]any); nested {
				// Guess: lists of lists do not exist in the schema.
				return nil, false, invalidValue(&el, elemType(f), repr(e))
			}
			ne, c, err := w.single(f, e, fl, &el)
			if err != nil {
				return nil, false, err
			}
			if c {
				changed = true
			}
			list[j] = ne
			j++
		}
		if j < len(list) {
			clear(list[j:])
			list = list[:j]
		}
		return list, changed, nil
	}
	return w.single(f, v, at, fl)
}

func elemType(f *field) string {
	if f.kind == discovery.KindMessage {
		return f.msg.typeURL
	}
	return kindNames[f.kind]
}

// single checks one value of f's kind at location vl; at is where a list
// given for it would be reported.
func (w *walker) single(f *field, v any, at, vl *loc) (any, bool, *Error) {
	if _, isList := v.([]any); isList {
		return nil, false, unknownName(f.proto, at, "Proto field is not repeating, cannot start list.")
	}
	if f.kind == discovery.KindMessage {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false, invalidValue(vl, f.msg.typeURL, repr(v))
		}
		return obj, false, w.message(f.msg, obj, vl)
	}
	nv, changed, ok := scalar(f, v)
	if !ok {
		switch f.kind {
		case discovery.KindTimestamp:
			if s, isString := v.(string); isString {
				return nil, false, invalidValue(vl, kindNames[f.kind], "Invalid time format: "+s)
			}
			return nil, false, invalidValue(vl, kindNames[f.kind], "Invalid data type for timestamp, value is "+repr(v))
		case discovery.KindDuration:
			return nil, false, invalidValue(vl, kindNames[f.kind], "Illegal duration format; duration must end with 's'")
		}
		// Guess for an object where a scalar belongs: Google's converter
		// has no message of its own for it.
		return nil, false, invalidValue(vl, kindNames[f.kind], repr(v))
	}
	return nv, changed, nil
}

// scalar checks a scalar as protobuf's DataPiece conversions do and returns
// it in proto3 JSON's canonical form: 32-bit integers as numbers, 64-bit ones
// as strings, enums by name, booleans as booleans.
func scalar(f *field, v any) (_ any, changed, ok bool) {
	switch f.kind {
	case discovery.KindString, discovery.KindFieldMask:
		_, ok := v.(string)
		return v, false, ok
	case discovery.KindBytes:
		s, ok := v.(string)
		return v, false, ok && validBase64(s)
	case discovery.KindBool:
		switch x := v.(type) {
		case bool:
			return v, false, true
		case string:
			// DataPiece::ToBool accepts strings by safe_strtob.
			switch strings.ToLower(x) {
			case "true", "t", "yes", "y", "1":
				return true, true, true
			case "false", "f", "no", "n", "0":
				return false, true, true
			}
		}
		return nil, false, false
	case discovery.KindInt32, discovery.KindUint32, discovery.KindInt64, discovery.KindUint64:
		return integer(f.kind, v)
	case discovery.KindFloat, discovery.KindDouble:
		var d float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if d, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, false, false
			}
		case string:
			switch x {
			case "NaN", "Infinity", "-Infinity":
				return v, false, true
			}
			var err error
			if d, err = strconv.ParseFloat(x, 64); err != nil || math.IsInf(d, 0) || math.IsNaN(d) {
				return nil, false, false
			}
			if f.kind == discovery.KindFloat && math.Abs(d) > math.MaxFloat32 {
				return nil, false, false
			}
			return json.Number(x), true, true
		default:
			return nil, false, false
		}
		if f.kind == discovery.KindFloat && math.Abs(d) > math.MaxFloat32 {
			return nil, false, false
		}
		return v, false, true
	case discovery.KindEnum:
		switch x := v.(type) {
		case string:
			for _, name := range f.enum {
				if x == name {
					return v, false, true
				}
			}
			// Google's converter parses enum names case-insensitively, with
			// '-' for '_' (case_insensitive_enum_parsing).
			norm := strings.ToUpper(strings.ReplaceAll(x, "-", "_"))
			for _, name := range f.enum {
				if norm == name {
					return name, true, true
				}
			}
			// An enum number as a string. Guess: any int32 is taken, as for
			// a JSON number, since the discovery document does not give
			// the numbers of the names.
			if n, err := strconv.ParseInt(x, 10, 32); err == nil {
				return json.Number(strconv.FormatInt(n, 10)), true, true
			}
		case json.Number:
			// proto3 enums are open: any int32 is kept (DataPiece::ToEnum).
			return integer(discovery.KindInt32, v)
		}
		return nil, false, false
	case discovery.KindTimestamp:
		s, ok := v.(string)
		if !ok {
			return nil, false, false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return v, false, err == nil
	case discovery.KindDuration:
		s, ok := v.(string)
		if !ok || !strings.HasSuffix(s, "s") {
			return nil, false, false
		}
		_, err := strconv.ParseFloat(s[:len(s)-1], 64)
		return v, false, err == nil
	}
	return nil, false, false
}

// integer checks an integer of kind k given as a JSON number (integral,
// exponents allowed: 1e3) or a decimal string.
func integer(k string, v any) (_ any, changed, ok bool) {
	var n int64
	var u uint64
	unsigned := k == discovery.KindUint32 || k == discovery.KindUint64
	bits := 64
	if k == discovery.KindInt32 || k == discovery.KindUint32 {
		bits = 32
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	default:
		return nil, false, false
	}
	var err error
	if unsigned {
		u, err = strconv.ParseUint(s, 10, bits)
	} else {
		n, err = strconv.ParseInt(s, 10, bits)
	}
	if err != nil {
		// A number such as 3.0 or 1e3 that is integral. Only numbers: a
		// string must be a plain integer.
		if _, isNumber := v.(json.Number); !isNumber {
			return nil, false, false
		}
		d, err := strconv.ParseFloat(s, 64)
		if err != nil || d != math.Trunc(d) {
			return nil, false, false
		}
		switch {
		case unsigned && (d < 0 || d > math.MaxUint64 || bits == 32 && d > math.MaxUint32):
			return nil, false, false
		case !unsigned && (d < math.MinInt64 || d >= math.MaxInt64 || bits == 32 && (d < math.MinInt32 || d > math.MaxInt32)):
			return nil, false, false
		}
		if unsigned {
			u = uint64(d)
		} else {
			n = int64(d)
		}
	}
	canon := strconv.FormatInt(n, 10)
	if unsigned {
		canon = strconv.FormatUint(u, 10)
	}
	if bits == 64 {
		// proto3 JSON writes 64-bit integers as strings.
		if sv, isString := v.(string); isString && sv == canon {
			return v, false, true
		}
		return canon, true, true
	}
	if nv, isNumber := v.(json.Number); isNumber && string(nv) == canon {
		return v, false, true
	}
	return json.Number(canon), true, true
}

// validBase64 accepts what proto3 JSON parsers accept for bytes: standard or
// URL-safe base64, with or without padding.
func validBase64(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

// encodedSize is the length of v encoded as compact JSON without HTML
// escaping (what gchat.Encode writes and the library fits to 32,000 bytes),
// computed without encoding. TestEncodedSize holds it to json.Encoder.
func encodedSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		if x {
			return 4
		}
		return 5
	case json.Number:
		return len(x)
	case string:
		return quotedSize(x)
	case []any:
		n := 2
		for i, e := range x {
			if i > 0 {
				n++
			}
			n += encodedSize(e)
		}
		return n
	case map[string]any:
		n, i := 2, 0
		for k, e := range x {
			if i > 0 {
				n++
			}
			i++
			n += quotedSize(k) + 1 + encodedSize(e)
		}
		return n
	case float64: // not produced by Parse; for maps built by callers
		data, _ := json.Marshal(x)
		return len(data)
	}
	data, _ := json.Marshal(v)
	return len(data)
}

// quotedSize is the length of s as a JSON string from encoding/json with
// HTML escaping off: \" \\ \n \r \t \b \f take two bytes, other control
// characters, U+2028, U+2029 and invalid UTF-8 (as \ufffd) six.
func quotedSize(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 6
		case r == '\u2028' || r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}
