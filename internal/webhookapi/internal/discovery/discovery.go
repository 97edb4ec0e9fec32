// Package discovery reduces a Google API discovery document to the compact
// schema that package webhookapi validates request bodies against: the types
// reachable from one root, with their fields' names, kinds, references, enum
// values and an output-only flag, and nothing else (no descriptions).
//
// It is shared by the generator (webhookapi/genschema) and by the test that
// checks the embedded schema.json is up to date.
package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// Schema is the compact schema, the content of schema.json.
type Schema struct {
	// Revision is the discovery document's revision, such as "20260820".
	Revision string `json:"revision"`
	// Root is the type of a request body, "Message".
	Root string `json:"root"`
	// Types are the types reachable from Root, by discovery schema id.
	Types map[string]*Type `json:"types"`
}

// Type is a message type.
type Type struct {
	// Fields by lowerCamelCase JSON name.
	Fields map[string]*Field `json:"fields"`
}

// Field is one field of a message type.
type Field struct {
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Ref names the message type of a KindMessage field.
	Ref string `json:"ref,omitempty"`
	// Enum lists the value names of a KindEnum field, in declaration order.
	Enum []string `json:"enum,omitempty"`
	// Repeated marks a list of the kind; Map a map from string to the kind.
	Repeated bool `json:"repeated,omitempty"`
	Map      bool `json:"map,omitempty"`
	// Output marks a field the server fills: accepted in input and ignored.
	Output bool `json:"output,omitempty"`
}

// Kinds of field values, after the proto3 JSON mapping.
const (
	KindMessage   = "message"
	KindString    = "string"
	KindBytes     = "bytes"
	KindBool      = "bool"
	KindInt32     = "int32"
	KindUint32    = "uint32"
	KindInt64     = "int64"
	KindUint64    = "uint64"
	KindFloat     = "float"
	KindDouble    = "double"
	KindEnum      = "enum"
	KindTimestamp = "timestamp"
	KindDuration  = "duration"
	KindFieldMask = "fieldmask"
)

// property is the part of a discovery schema property that matters here.
type property struct {
	Type                 string    `json:"type"`
	Format               string    `json:"format"`
	Ref                  string    `json:"$ref"`
	Items                *property `json:"items"`
	AdditionalProperties *property `json:"additionalProperties"`
	Enum                 []string  `json:"enum"`
	ReadOnly             bool      `json:"readOnly"`
	Description          string    `json:"description"`
	Properties           map[string]*property
}

type document struct {
	Revision string               `json:"revision"`
	Schemas  map[string]*property `json:"schemas"`
}

// Compact reads a discovery document and returns the compact schema of the
// types reachable from root, encoded as schema.json is: one type per line, in
// name order, so that a new revision shows as a readable diff.
func Compact(doc []byte, root string) ([]byte, error) {
	s, err := Reduce(doc, root)
	if err != nil {
		return nil, err
	}
	return Encode(s)
}

// Reduce reads a discovery document and returns the schema of the types
// reachable from root.
func Reduce(doc []byte, root string) (*Schema, error) {
	var d document
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("read discovery document: %w", err)
	}
	if d.Revision == "" || len(d.Schemas) == 0 {
		return nil, fmt.Errorf("read discovery document: no revision or no schemas")
	}
	s := &Schema{Revision: d.Revision, Root: root, Types: map[string]*Type{}}
	var add func(name string) error
	add = func(name string) error {
		if _, done := s.Types[name]; done {
			return nil
		}
		p, ok := d.Schemas[name]
		if !ok {
			return fmt.Errorf("schema %q: not in the discovery document", name)
		}
		if p.Type != "object" {
			return fmt.Errorf("schema %q: type %q, want object", name, p.Type)
		}
		t := &Type{Fields: map[string]*Field{}}
		s.Types[name] = t
		for fname, fp := range p.Properties {
			f, err := field(fp)
			if err != nil {
				return fmt.Errorf("schema %q field %q: %w", name, fname, err)
			}
			t.Fields[fname] = f
			if f.Ref != "" {
				if err := add(f.Ref); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add(root); err != nil {
		return nil, err
	}
	return s, nil
}

// field maps a discovery property to a Field.
func field(p *property) (*Field, error) {
	f := &Field{Output: outputOnly(p)}
	elem := p
	switch {
	case p.Type == "array":
		if p.Items == nil {
			return nil, fmt.Errorf("array without items")
		}
		f.Repeated, elem = true, p.Items
	case p.Type == "object" && p.AdditionalProperties != nil:
		f.Map, elem = true, p.AdditionalProperties
	}
	if elem.Type == "array" || (elem.Type == "object" && elem.AdditionalProperties != nil) {
		return nil, fmt.Errorf("nested list or map: not supported")
	}
	switch {
	case elem.Ref != "":
		f.Kind, f.Ref = KindMessage, elem.Ref
	case len(elem.Enum) > 0:
		f.Kind, f.Enum = KindEnum, elem.Enum
	default:
		k, err := kind(elem.Type, elem.Format)
		if err != nil {
			return nil, err
		}
		f.Kind = k
	}
	return f, nil
}

// kind maps a discovery type and format to a Kind.
func kind(typ, format string) (string, error) {
	switch typ + "/" + format {
	case "string/":
		return KindString, nil
	case "string/byte":
		return KindBytes, nil
	case "string/int64":
		return KindInt64, nil
	case "string/uint64":
		return KindUint64, nil
	case "string/google-datetime":
		return KindTimestamp, nil
	case "string/google-duration":
		return KindDuration, nil
	case "string/google-fieldmask":
		return KindFieldMask, nil
	case "boolean/":
		return KindBool, nil
	case "integer/int32":
		return KindInt32, nil
	case "integer/uint32":
		return KindUint32, nil
	case "number/float":
		return KindFloat, nil
	case "number/double":
		return KindDouble, nil
	}
	return "", fmt.Errorf("type %q format %q: not supported", typ, format)
}

// outputOnly reports whether the server fills the field and ignores it in a
// request: readOnly in the discovery document, or documented as "Output
// only", or output only except in import-mode spaces (Message.createTime):
// a webhook never posts into an import-mode space.
func outputOnly(p *property) bool {
	return p.ReadOnly ||
		strings.HasPrefix(p.Description, "Output only") ||
		strings.Contains(p.Description, "output only, except when used in import mode")
}

// Encode writes s as schema.json: compact JSON, one type per line, sorted.
func Encode(s *Schema) ([]byte, error) {
	var b bytes.Buffer
	head, err := json.Marshal(struct {
		Revision string `json:"revision"`
		Root     string `json:"root"`
	}{s.Revision, s.Root})
	if err != nil {
		return nil, err
	}
	b.Write(head[:len(head)-1])
	b.WriteString(`,"types":{`)
	names := make([]string, 0, len(s.Types))
	for name := range s.Types {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n")
		line, err := json.Marshal(map[string]any{name: s.Types[name]}) // map keys are sorted
		if err != nil {
			return nil, err
		}
		b.Write(line[1 : len(line)-1])
	}
	b.WriteString("\n}}\n")
	return b.Bytes(), nil
}

// ModuleDir returns the directory of module path in the module cache, at the
// version go.mod requires, by asking the go command.
func ModuleDir(path string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list -m %s: %v: %s", path, err, ee.Stderr)
		}
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: module not downloaded (run go mod download)", path)
	}
	return dir, nil
}
