package webhookapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/gchatkit/gchat/internal/webhookapi/internal/discovery"
)

//go:generate go run ./genschema

// schemaJSON is Google's google.chat.v1.Message schema with every type it
// reaches (cards v1 and v2 included), reduced from the Chat API discovery
// document by genschema. TestSchemaUpToDate keeps it in step with the
// google.golang.org/api module in go.mod.
//
//go:embed schema.json
var schemaJSON []byte

// loadSchema decodes the embedded schema once, on first use.
var loadSchema = sync.OnceValue(func() *schema {
	s, err := compile(schemaJSON)
	if err != nil {
		panic("webhookapi: embedded schema.json: " + err.Error()) // a build defect, caught by every test
	}
	return s
})

// schema is the compiled schema: types resolved to pointers, fields found by
// either of their two JSON names.
type schema struct {
	revision string
	root     *msgType
}

type msgType struct {
	name    string
	typeURL string // for "Invalid value at … (type URL)"
	// fields holds each field under its lowerCamelCase name and, when it
	// differs, its snake_case proto name: proto3 JSON parsers accept both
	// (docs/google-chat.md §2.1).
	fields map[string]*field
}

type field struct {
	json     string // lowerCamelCase name, as Google echoes it
	proto    string // snake_case name, as Google's error locations spell it
	kind     string // a discovery.Kind*
	msg      *msgType
	enum     []string
	repeated bool
	isMap    bool
	output   bool
	// undocumented marks a field Google accepts though the discovery
	// document lacks it (lenient.go).
	undocumented bool
}

func compile(data []byte) (*schema, error) {
	var d discovery.Schema
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	types := make(map[string]*msgType, len(d.Types))
	for name := range d.Types {
		types[name] = &msgType{name: name, typeURL: typeURL(name), fields: map[string]*field{}}
	}
	for name, t := range d.Types {
		mt := types[name]
		for fname, f := range t.Fields {
			cf := &field{json: fname, proto: snakeCase(fname), kind: f.Kind, enum: f.Enum,
				repeated: f.Repeated, isMap: f.Map, output: f.Output}
			if f.Kind == discovery.KindMessage {
				if cf.msg = types[f.Ref]; cf.msg == nil {
					return nil, fmt.Errorf("type %s field %s: unknown type %q", name, fname, f.Ref)
				}
			}
			mt.fields[fname] = cf
			if cf.proto != fname {
				mt.fields[cf.proto] = cf
			}
		}
	}
	addUndocumented(types)
	root := types[d.Root]
	if root == nil {
		return nil, fmt.Errorf("root type %q missing", d.Root)
	}
	return &schema{revision: d.Revision, root: root}, nil
}

// typeURL names a message type as Google's errors do.
//
// Guess: discovery flattens proto names, so nested types (Card.CardHeader) get
// their flat name, and the Chat API's own types are put in google.chat.v1.
func typeURL(name string) string {
	if rest, ok := strings.CutPrefix(name, "GoogleAppsCardV1"); ok {
		return "type.googleapis.com/google.apps.card.v1." + rest
	}
	return "type.googleapis.com/google.chat.v1." + name
}

// snakeCase turns a lowerCamelCase name into the snake_case of proto field
// names and Google's error messages: cardsV2 → cards_v2, threadKey →
// thread_key. It is protobuf's ToSnakeCase for the names in the schema.
func snakeCase(s string) string {
	if !hasUpper(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			if i > 0 && s[i-1] != '_' {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
