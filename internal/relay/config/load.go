package config

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds the configuration file.
const MaxFileSize = 1 << 20

// The keys each level of the file accepts, in the order the example uses.
var (
	topKeys       = []string{"listen", "store", "admin_token", "admin_token_file", "ingest_key", "allowed_hosts", "spaces", "retention", "operator", "routes", "tls_cert_file", "tls_key_file", "timing", "server", "log"}
	spaceKeys     = []string{"webhook_url", "webhook_url_file", "ingest_token", "ingest_token_file", "pace", "reply_fallback", "on_failure", "max_age", "coalesce", "queue_limit"}
	retentionKeys = []string{"delivered", "dead"}
	timingKeys    = []string{"request_timeout", "lease", "backoff_base", "backoff_cap"}
	serverKeys    = []string{"read_header_timeout", "body_timeout", "write_timeout", "idle_timeout", "max_connections", "max_streams", "max_stream_duration"}
	logKeys       = []string{"format", "level"}
)

// Load reads a configuration file's bytes. filename is used in problems and
// to resolve relative *_file paths; getenv expands ${NAME} in webhook_url,
// tokens, store and *_file paths; readFile reads *_file secrets, whose
// content is trimmed. Load keeps no state: calling it again (on SIGHUP)
// reloads the file and its secrets.
//
// The error is a *Problems listing every problem found, in file order. A
// file that is empty or configures no spaces is a problem: the demo mode is
// for when there is no file at all, which is the caller's to decide.
func Load(data []byte, filename string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	return loadFile(data, filename, getenv, readFile, false)
}

// LoadOffline checks a configuration file as Load does, but without its
// secrets: it reads no environment variable and no secret file (the
// *_file settings of webhooks, tokens and passwords, and the TLS files), so
// that a file can be checked in CI without production secrets. A ${NAME}
// is checked for its syntax and stands for a placeholder that passes
// validation, and so does a secret file; each placeholder is different,
// so that the checks of distinct tokens hold. Everything else (syntax,
// types, unknown keys, references, templates and their sample_file, which
// is read) is checked as Load checks it. The Config it returns is for
// checking only: its webhooks, tokens and store may be placeholders.
func LoadOffline(data []byte, filename string, readFile func(string) ([]byte, error)) (*Config, error) {
	return loadFile(data, filename, nil, readFile, true)
}

func loadFile(data []byte, filename string, getenv func(string) string, readFile func(string) ([]byte, error), offline bool) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if readFile == nil {
		readFile = func(string) ([]byte, error) { return nil, errors.New("reading files is not available") }
	}
	l := &loader{
		file:     filename,
		getenv:   getenv,
		readFile: readFile,
		pos:      map[string]position{},
		bad:      map[string]bool{},
		budget:   10000,
		offline:  offline,
	}
	if filename != "" {
		l.dir = filepath.Dir(filename)
	}
	c := &Config{
		Listen:    DefaultListen,
		Store:     DefaultStore,
		Retention: Retention{Delivered: DefaultDelivered, Dead: DefaultDead},
		file:      filename,
		pos:       l.pos,
	}
	if len(data) > MaxFileSize {
		return nil, &Problems{List: []Problem{{File: filename, Message: fmt.Sprintf("larger than %d bytes: is this the configuration file?", MaxFileSize)}}}
	}
	root, syntax := parse(data, filename)
	if syntax != nil {
		return nil, &Problems{List: []Problem{*syntax}}
	}
	l.pos["spaces"] = position{1, 1} // "no spaces configured" points at the top unless a spaces key exists
	if root != nil {
		l.top(c, root)
	}
	c.loaded.listen, c.loaded.store = c.Listen, c.Store
	c.secrets = l.secrets

	ps := &Problems{List: l.problems}
	var vs *Problems
	if err := c.validate(func(field string) bool { return l.bad[field] }); errors.As(err, &vs) {
		ps.List = append(ps.List, vs.List...)
	}
	for i := range ps.List {
		if ps.List[i].Line == 0 { // cannot happen for values from the file; keep the promise of a line
			ps.List[i].Line, ps.List[i].Column = 1, 1
		}
	}
	if err := ps.err(); err != nil {
		ps.List = slices.Compact(ps.List) // a mapping merged twice repeats its problems
		return nil, err
	}
	return c, nil
}

// parse returns the document's root node, nil for an empty document.
func parse(data []byte, filename string) (*yaml.Node, *Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, syntaxProblem(err, filename)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxProblem(err, filename)
	default:
		return nil, &Problem{File: filename, Line: next.Line, Column: next.Column, Message: "a second YAML document (after ---): want one"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxProblem(err error, filename string) *Problem {
	p := &Problem{File: filename}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	p.Message = "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")
	return p
}

// loader walks the YAML nodes, decoding known keys strictly.
type loader struct {
	file, dir string
	getenv    func(string) string
	readFile  func(string) ([]byte, error)

	problems []Problem
	pos      map[string]position
	bad      map[string]bool // fields whose absence Validate must not report again
	budget   int             // merges and merged keys left, against merge bombs
	secrets  []SecretFile    // the secret files read, in file order
	lastPath string          // the path readSetting read last
	// offline reads no environment variable and no secret file: each
	// stands for a placeholder (LoadOffline).
	offline bool
}

func (l *loader) report(n *yaml.Node, field, format string, args ...any) {
	p := Problem{File: l.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	l.problems = append(l.problems, p)
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func (l *loader) top(c *Config, root *yaml.Node) {
	n := deref(root)
	if isNull(n) {
		return
	}
	l.pos["spaces"] = position{n.Line, n.Column}
	if n.Kind != yaml.MappingNode {
		l.report(root, "", "want a mapping of settings (listen:, spaces:, …), got %s", kindName(n))
		l.bad["spaces"] = true
		return
	}
	m := l.fields(n, "", topKeys)
	if p, ok := m["listen"]; ok {
		if s, ok := l.str(p.val, "listen"); ok {
			c.Listen = s
		}
	}
	if p, ok := m["store"]; ok {
		if s, ok := l.str(p.val, "store"); ok {
			// ${NAME} lets a database password come from the environment.
			if s, ok := l.expand(s, p.val, "store"); ok {
				c.Store = s
			}
		}
	}
	if s, key, ok := l.secret(m, "", "admin_token"); ok {
		c.AdminToken, c.adminKey = Secret(s), key
	}
	if p, ok := m["ingest_key"]; ok {
		if s, ok := l.str(p.val, "ingest_key"); ok {
			if s, ok := l.expand(s, p.val, "ingest_key"); ok {
				c.IngestKey = Secret(s)
			}
		}
	}
	l.tls(m, c)
	if p, ok := m["allowed_hosts"]; ok {
		if d := deref(p.val); !isNull(d) {
			if d.Kind != yaml.SequenceNode {
				l.report(p.val, "allowed_hosts", "want a list of host names, got %s", kindName(d))
			} else {
				for i, h := range d.Content {
					if s, ok := l.str(h, fmt.Sprintf("allowed_hosts[%d]", i)); ok {
						c.AllowedHosts = append(c.AllowedHosts, s)
					}
				}
			}
		}
	}
	if p, ok := m["spaces"]; ok {
		l.pos["spaces"] = position{p.key.Line, p.key.Column}
		l.spaces(c, p.val)
	}
	if p, ok := m["retention"]; ok {
		l.retention(c, p.val)
	}
	if p, ok := m["timing"]; ok {
		l.timing(c, p.val)
	}
	if p, ok := m["server"]; ok {
		l.server(c, p.val)
	}
	if p, ok := m["operator"]; ok {
		if s, ok := l.str(p.val, "operator"); ok {
			c.Operator = s
		}
	}
	if p, ok := m["routes"]; ok {
		l.routes(c, p.val)
	}
	if p, ok := m["log"]; ok {
		l.log(c, p.val)
	}
}

// log reads the log settings; Validate checks their values.
func (l *loader) log(c *Config, v *yaml.Node) {
	m, ok := l.section(v, "log", "want a mapping (format:, level:), got %s", logKeys)
	if !ok {
		return
	}
	if p, ok := m["format"]; ok {
		if s, ok := l.str(p.val, "log.format"); ok {
			c.Log.Format = s
		}
	}
	if p, ok := m["level"]; ok {
		if s, ok := l.str(p.val, "log.level"); ok {
			c.Log.Level = s
		}
	}
}

// section reads a mapping of settings, field, whose keys are among keys:
// false when it is null (left out) or not a mapping, which it reports with
// want, a format taking the node's kind.
func (l *loader) section(v *yaml.Node, field, want string, keys []string) (map[string]pair, bool) {
	n := deref(v)
	if isNull(n) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		l.report(v, field, want, kindName(n))
		return nil, false
	}
	return l.fields(n, field, keys), true
}

func (l *loader) spaces(c *Config, v *yaml.Node) {
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.report(v, "spaces", "want a mapping of space names to their settings, got %s", kindName(n))
		l.bad["spaces"] = true
		return
	}
	for _, p := range l.pairs(n, "spaces") {
		f := spaceField(p.name)
		s := NewSpace(p.name, nil)
		s.Line = p.key.Line
		l.pos[f] = position{p.key.Line, p.key.Column}
		l.space(s, p.val, f)
		c.Spaces = append(c.Spaces, s)
	}
}

func (l *loader) space(s *Space, v *yaml.Node, f string) {
	n := deref(v)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.report(v, f, "want the space's settings (webhook_url: …), got %s", kindName(n))
		l.bad[f+".webhook_url"], l.bad[f+".ingest_token"] = true, true
		return
	}
	m := l.fields(n, f, spaceKeys)
	if raw, key, ok := l.secret(m, f, "webhook_url"); ok {
		hook, err := gchat.ParseWebhook(raw)
		if err != nil {
			// ParseWebhook's errors never contain the token; what the
			// environment supplied is put back as ${NAME}, in case a
			// secret went elsewhere than in the token.
			msg := strings.TrimPrefix(err.Error(), "parse webhook URL: ")
			if p := m[key]; key == "webhook_url" {
				msg = l.unexpand(msg, p.val)
			}
			l.report(m[key].val, join(f, key), "invalid webhook URL: %s", msg)
			l.bad[f+".webhook_url"] = true
		} else {
			s.Webhook, s.hookKey = hook, key
		}
	}
	if tok, key, ok := l.secret(m, f, "ingest_token"); ok {
		s.IngestToken, s.tokenKey = Secret(tok), key
	}
	if p, ok := m["pace"]; ok {
		if d, ok := l.duration(p.val, f+".pace", "1.05s"); ok {
			s.Pace = d
		}
	}
	if p, ok := m["reply_fallback"]; ok {
		if b, ok := l.boolean(p.val, f+".reply_fallback"); ok {
			s.ReplyFallback = b
		}
	}
	if p, ok := m["on_failure"]; ok {
		if str, ok := l.str(p.val, f+".on_failure"); ok {
			s.OnFailure = OnFailure(str)
		}
	}
	if p, ok := m["max_age"]; ok {
		if d, ok := l.duration(p.val, f+".max_age", "24h"); ok {
			s.MaxAge = d
		}
	}
	if p, ok := m["coalesce"]; ok {
		if b, ok := l.boolean(p.val, f+".coalesce"); ok {
			s.Coalesce = b
		}
	}
	if p, ok := m["queue_limit"]; ok {
		if str, ok := l.str(p.val, f+".queue_limit"); ok {
			k, err := strconv.Atoi(str)
			if err != nil || k < 1 || k > maxQueueLimit {
				l.report(p.val, f+".queue_limit", "%s: want a whole number from 1 to %d", quote(str), maxQueueLimit)
			} else {
				s.QueueLimit = k
			}
		}
	}
}

// maxQueueLimit is the largest queue_limit: a hundred million deliveries of
// alert size fill tens of gigabytes.
const maxQueueLimit = 100_000_000

func (l *loader) retention(c *Config, v *yaml.Node) {
	m, ok := l.section(v, "retention", "want a mapping (delivered:, dead:), got %s", retentionKeys)
	if !ok {
		return
	}
	l.durations(m, "retention", []durationField{
		{"delivered", "7d", &c.Retention.Delivered},
		{"dead", "30d", &c.Retention.Dead},
	})
}

// durationField is one duration key of a section, with an example value
// for its problem message.
type durationField struct {
	key, example string
	dst          *time.Duration
}

// durations reads the duration keys of a section's mapping m.
func (l *loader) durations(m map[string]pair, section string, fields []durationField) {
	for _, f := range fields {
		if p, ok := m[f.key]; ok {
			if d, ok := l.duration(p.val, section+"."+f.key, f.example); ok {
				*f.dst = d
			}
		}
	}
}

// secret reads KEY or KEY_file from m: the value with ${NAME} expanded, or
// the trimmed content of the file. It returns the key used. On failure it
// reports the problem and marks field.KEY bad, so that Validate does not
// also report it missing.
// readSetting reads the file a *_file setting names: ${NAME} expanded, a
// relative path taken from the configuration file's directory. It returns the
// file's name as problems should show it.
func (l *loader) readSetting(v *yaml.Node, field string) (data []byte, name string, ok bool) {
	written, ok := l.str(v, field)
	if !ok {
		return nil, "", false
	}
	path, ok := l.expand(written, v, field)
	if !ok {
		return nil, "", false
	}
	if !filepath.IsAbs(path) && l.dir != "" {
		path = filepath.Join(l.dir, path)
	}
	// Name the file as written when the environment supplied part of it: a
	// secret put in the wrong key (webhook_url_file: ${HOOK}) must not be
	// printed as a path.
	name = path
	if written != path && strings.Contains(written, "${") {
		name = quote(written) + " (expanded)"
	}
	l.lastPath = path
	data, err := l.readFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if strings.Contains(written, "${") {
			err = scrub(err, path)
		}
		l.report(v, field, "cannot read %s: %v", name, err)
		return nil, "", false
	}
	return data, name, true
}

// secretFile records the secret file readSetting read last, for
// Config.SecretFiles.
func (l *loader) secretFile(v *yaml.Node, field, name string) {
	l.secrets = append(l.secrets, SecretFile{Field: field, Name: name, Path: l.lastPath, Line: v.Line, Column: v.Column})
}

func (l *loader) secret(m map[string]pair, field, key string) (value, used string, ok bool) {
	fileKey := key + "_file"
	v, hasV := m[key]
	fv, hasF := m[fileKey]
	before := len(l.problems)
	defer func() {
		if len(l.problems) > before { // not for a null value: that is unset
			l.bad[join(field, key)] = true
		}
	}()
	switch {
	case hasV && hasF:
		l.report(fv.key, join(field, fileKey), "set %s or %s, not both", key, fileKey)
		return "", "", false
	case hasV:
		s, ok := l.str(v.val, join(field, key))
		if !ok {
			return "", "", false
		}
		s, ok = l.expand(s, v.val, join(field, key))
		return s, key, ok
	case hasF && l.offline:
		f := join(field, fileKey)
		written, ok := l.str(fv.val, f)
		if !ok {
			return "", "", false
		}
		if _, ok := l.expand(written, fv.val, f); !ok {
			return "", "", false
		}
		return placeholder(join(field, key), f), fileKey, true
	case hasF:
		f := join(field, fileKey)
		data, name, ok := l.readSetting(fv.val, f)
		if !ok {
			return "", "", false
		}
		l.secretFile(fv.val, f, name)
		s := strings.TrimSpace(string(data))
		if s == "" {
			l.report(fv.val, f, "%s is empty", name)
			return "", "", false
		}
		return s, fileKey, true
	}
	return "", "", false
}

// expand replaces ${NAME} with getenv(NAME); an unset or empty variable is
// a problem. The value itself is never quoted: it may be a secret.
func (l *loader) expand(s string, n *yaml.Node, field string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), ok
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 || !envName.MatchString(rest[:j]) {
			l.report(n, field, "malformed ${…}: want ${NAME}, NAME made of letters, digits and _")
			return "", false
		}
		name := rest[:j]
		if l.offline {
			if i == 0 && j+1 == len(rest) && b.Len() == 0 {
				return placeholder(field, name), ok // the whole value
			}
			b.WriteString("offline-" + name)
			s = rest[j+1:]
			continue
		}
		v := l.getenv(name)
		if v == "" {
			l.report(n, field, "environment variable %s is not set", name)
			ok = false
		}
		b.WriteString(v)
		s = rest[j+1:]
	}
}

// placeholder stands for a value LoadOffline does not read: the secret of
// field (from the environment variable or file named by from), shaped to
// pass the checks of field. Distinct fields and sources give distinct
// placeholders.
func placeholder(field, from string) string {
	id := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, field+"-"+from)
	key := field
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		key = key[i+1:]
	}
	switch key {
	case "webhook_url", "webhook_url_file":
		return "https://" + GoogleHost + "/v1/spaces/offline-" + id + "/messages?key=offline&token=offline"
	case "store":
		return "sqlite:offline-" + id + ".db"
	}
	return "offline-" + id
}

// unexpand replaces in msg the values that ${NAME} references in v's text
// expanded to, with ${NAME}.
func (l *loader) unexpand(msg string, v *yaml.Node) string {
	n := deref(v)
	if n == nil {
		return msg
	}
	for _, m := range envRef.FindAllStringSubmatch(n.Value, -1) {
		if val := l.getenv(m[1]); len(val) >= 4 {
			msg = strings.ReplaceAll(msg, val, m[0])
		}
	}
	return msg
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// str decodes a scalar as a string and records where it was written. A null
// (key: with no value, or ~) counts as unset.
func (l *loader) str(v *yaml.Node, field string) (string, bool) {
	l.pos[field] = position{v.Line, v.Column}
	n := deref(v)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		l.report(v, field, "want a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (l *loader) duration(v *yaml.Node, field, example string) (time.Duration, bool) {
	s, ok := l.str(v, field)
	if !ok {
		return 0, false
	}
	d, ok := parseDuration(s)
	if !ok {
		l.report(v, field, "%s is not a duration (want e.g. %s)", quote(s), example)
	}
	return d, ok
}

func (l *loader) boolean(v *yaml.Node, field string) (bool, bool) {
	l.pos[field] = position{v.Line, v.Column}
	n := deref(v)
	switch {
	case isNull(n):
		return false, false
	case n.Kind != yaml.ScalarNode:
		l.report(v, field, "want true or false, got %s", kindName(n))
		return false, false
	case n.Tag != "!!bool":
		l.report(v, field, "%s is not true or false", quote(n.Value))
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

// pair is one key of a mapping, merges resolved.
type pair struct {
	name string
	key  *yaml.Node // where the key was written
	val  *yaml.Node
}

// fields returns the pairs of a mapping by name, reporting unknown keys.
func (l *loader) fields(n *yaml.Node, field string, known []string) map[string]pair {
	m := map[string]pair{}
	for _, p := range l.pairs(n, field) {
		if !slices.Contains(known, p.name) {
			l.report(p.key, field, "unknown key %s%s", quote(p.name), hint(p.name, known))
			continue
		}
		m[p.name] = p
	}
	return m
}

// pairs returns a mapping's pairs in order, reporting keys that are not
// strings or are repeated, and resolving merge keys (<<: *anchor), whose
// pairs come after the mapping's own and never override them.
func (l *loader) pairs(n *yaml.Node, field string) []pair {
	return l.collect(n, field, map[*yaml.Node]bool{})
}

func (l *loader) collect(n *yaml.Node, field string, visiting map[*yaml.Node]bool) []pair {
	visiting[n] = true
	defer delete(visiting, n)
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kd := deref(k)
		switch {
		case kd == nil || kd.Kind != yaml.ScalarNode:
			l.report(k, field, "keys must be strings, got %s", kindName(kd))
		case kd.Tag == "!!merge":
			merged = append(merged, l.merge(v, field, visiting)...)
		case seen[kd.Value] != nil:
			l.report(k, field, "duplicate key %s (first at line %d)", quote(kd.Value), seen[kd.Value].Line)
		default:
			seen[kd.Value] = k
			own = append(own, pair{name: kd.Value, key: k, val: v})
		}
	}
	for _, p := range merged {
		if seen[p.name] == nil {
			seen[p.name] = p.key
			own = append(own, p)
		}
	}
	return own
}

func (l *loader) merge(v *yaml.Node, field string, visiting map[*yaml.Node]bool) []pair {
	n := deref(v)
	var maps []*yaml.Node
	switch {
	case n != nil && n.Kind == yaml.MappingNode:
		maps = []*yaml.Node{n}
	case n != nil && n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			maps = append(maps, deref(e))
		}
	default:
		maps = []*yaml.Node{n}
	}
	var out []pair
	for _, m := range maps {
		switch {
		case m == nil || m.Kind != yaml.MappingNode:
			l.report(v, field, "<< wants a mapping or a list of mappings, got %s", kindName(m))
		case visiting[m]:
			l.report(v, field, "<< merges a mapping into itself")
		case l.budget <= 0:
			l.report(v, field, "too many merges (<<): the file is not meant to be this clever")
		default:
			l.budget-- // count merges too: mappings of merges only hold no keys
			ps := l.collect(m, field, visiting)
			l.budget -= len(ps)
			out = append(out, ps...)
		}
	}
	return out
}

// deref follows aliases to the node they name; nil for a broken chain.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "null"
	case n.Kind == yaml.ScalarNode:
		return "a value"
	}
	return "a document"
}

// quote quotes a value from the file for a problem, shortened. Only
// non-secret values are quoted.
func quote(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}

// parseDuration accepts Go durations and a leading number of days: "7d",
// "1.5d", "1d12h".
func parseDuration(s string) (time.Duration, bool) {
	const day = 24 * time.Hour
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays {
		d, err := time.ParseDuration(s)
		return d, err == nil
	}
	if !decimal.MatchString(days) {
		return 0, false
	}
	n, err := strconv.ParseFloat(days, 64)
	if err != nil || n > 100000 {
		return 0, false
	}
	d := time.Duration(n * float64(day))
	if rest != "" {
		if rest[0] == '-' || rest[0] == '+' {
			return 0, false
		}
		r, err := time.ParseDuration(rest)
		if err != nil || d+r < d {
			return 0, false
		}
		d += r
	}
	return d, true
}

var decimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// scrub removes path from an error's text, for paths the environment
// supplied.
func scrub(err error, path string) error {
	if msg := err.Error(); strings.Contains(msg, path) {
		return errors.New(strings.ReplaceAll(msg, path, "…"))
	}
	return err
}

// tls reads tls_cert_file and tls_key_file, which go together, and checks
// that they hold a certificate and its key. Relative paths are relative to
// the configuration file, as for every *_file setting.
func (l *loader) tls(m map[string]pair, c *Config) {
	cert, hasCert := m["tls_cert_file"]
	key, hasKey := m["tls_key_file"]
	switch {
	case !hasCert && !hasKey:
		return
	case !hasKey:
		l.report(cert.key, "tls_cert_file", "set tls_key_file too: a certificate needs its private key")
		return
	case !hasCert:
		l.report(key.key, "tls_key_file", "set tls_cert_file too: a private key needs its certificate")
		return
	}
	if l.offline {
		// The paths are checked for their syntax; the files hold a
		// private key, and are not read.
		_, ok1 := l.str(cert.val, "tls_cert_file")
		_, ok2 := l.str(key.val, "tls_key_file")
		if ok1 && ok2 {
			_, _ = l.expand(deref(cert.val).Value, cert.val, "tls_cert_file")
			_, _ = l.expand(deref(key.val).Value, key.val, "tls_key_file")
		}
		return
	}
	certPEM, _, ok1 := l.readSetting(cert.val, "tls_cert_file")
	keyPEM, keyName, ok2 := l.readSetting(key.val, "tls_key_file")
	if !ok1 || !ok2 {
		return
	}
	l.secretFile(key.val, "tls_key_file", keyName)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		l.report(cert.val, "tls_cert_file", "not a certificate matching tls_key_file: %v", err)
		return
	}
	c.TLS = &pair
}

// timing reads the dispatcher's timing settings; each is optional and
// defaults in the dispatcher (30s, twice the request timeout, 1s, 5m).
func (l *loader) timing(c *Config, v *yaml.Node) {
	m, ok := l.section(v, "timing", "want a mapping (request_timeout:, lease:, backoff_base:, backoff_cap:), got %s", timingKeys)
	if !ok {
		return
	}
	l.durations(m, "timing", []durationField{
		{"request_timeout", "30s", &c.Timing.RequestTimeout},
		{"lease", "1m", &c.Timing.Lease},
		{"backoff_base", "1s", &c.Timing.BackoffBase},
		{"backoff_cap", "5m", &c.Timing.BackoffCap},
	})
	t := c.Timing
	requestTimeout := t.RequestTimeout
	if requestTimeout == 0 {
		requestTimeout = 30 * time.Second
	}
	if p, ok := m["lease"]; ok && t.Lease > 0 && t.Lease <= requestTimeout {
		l.report(p.val, "timing.lease", "%v must be longer than the request timeout (%v): a replica sends only while its lease outlives the request", t.Lease, requestTimeout)
	}
	if p, ok := m["backoff_cap"]; ok && t.BackoffCap > 0 && t.BackoffBase > t.BackoffCap {
		l.report(p.val, "timing.backoff_cap", "%v is below backoff_base (%v)", t.BackoffCap, t.BackoffBase)
	}
}

// server reads the HTTP server's limits; each is optional and defaults in
// httpserve (10s, 30s, 60s, 60s, 1024, 64, 30m).
func (l *loader) server(c *Config, v *yaml.Node) {
	m, ok := l.section(v, "server", "want a mapping (body_timeout:, max_connections:, …), got %s", serverKeys)
	if !ok {
		return
	}
	l.durations(m, "server", []durationField{
		{"read_header_timeout", "10s", &c.Server.ReadHeaderTimeout},
		{"body_timeout", "30s", &c.Server.BodyTimeout},
		{"write_timeout", "60s", &c.Server.WriteTimeout},
		{"idle_timeout", "60s", &c.Server.IdleTimeout},
		{"max_stream_duration", "30m", &c.Server.MaxStreamDuration},
	})
	for _, f := range []struct {
		key string
		min int
		dst *int
	}{
		{"max_connections", 16, &c.Server.MaxConns},
		{"max_streams", 1, &c.Server.MaxStreams},
	} {
		p, ok := m[f.key]
		if !ok {
			continue
		}
		s, ok := l.str(p.val, "server."+f.key)
		if !ok {
			continue
		}
		k, err := strconv.Atoi(s)
		if err != nil || k < f.min || k > 1_000_000 {
			l.report(p.val, "server."+f.key, "%s: want a whole number from %d to 1000000", quote(s), f.min)
			continue
		}
		*f.dst = k
	}
	for _, f := range []struct {
		key string
		d   time.Duration
	}{
		{"read_header_timeout", c.Server.ReadHeaderTimeout}, {"body_timeout", c.Server.BodyTimeout},
		{"write_timeout", c.Server.WriteTimeout}, {"idle_timeout", c.Server.IdleTimeout},
		{"max_stream_duration", c.Server.MaxStreamDuration},
	} {
		if p, ok := m[f.key]; ok {
			if _, parsed := parseDuration(deref(p.val).Value); parsed && f.d <= 0 {
				l.report(p.val, "server."+f.key, "%v: want a duration above zero", f.d)
			}
		}
	}
}
