package jsontmpl

import (
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// Template is a compiled Spec. It is safe for concurrent use.
type Template struct {
	// set holds every field's template, named by the field's path.
	set *template.Template

	when, text, threadKey, dedupKey field
	card                            *cardTmpl
}

// field is one template string of the spec.
type field struct {
	path string
	ctx  fieldContext
	// name is the template's name in set, "" when the string was empty.
	name string
}

type cardTmpl struct {
	title, subtitle, imageURL field
	sections                  []sectionTmpl
}

type sectionTmpl struct {
	when, header field
	collapsible  bool
	widgets      []widgetTmpl
}

type widgetTmpl struct {
	when field
	text field // a text widget
	// decorated is set for a decorated text widget.
	decorated *struct{ label, text, bottom field }
	buttons   []buttonTmpl
	image     *struct{ url, alt field }
	divider   bool
}

type buttonTmpl struct {
	when, text, url field
}

// Compile parses every template of spec and checks the spec's shape. Its
// error is Problems, listing every problem found, each with the path of the
// field at fault, as in
//
//	card.sections[0].widgets[2].buttons[0].url: template: unexpected "}" in operand (line 1)
//
// The line is counted within the template string.
func Compile(spec Spec) (*Template, error) {
	c := &compiler{
		set:   template.New("").Funcs(new(state).funcs()),
		funcs: parseFuncs(),
	}
	t := &Template{set: c.set}
	t.when = c.field("when", spec.When, ctxPlain)
	t.text = c.field("text", spec.Text, ctxText)
	t.threadKey = c.field("thread_key", spec.ThreadKey, ctxPlain)
	t.dedupKey = c.field("dedup_key", spec.DedupKey, ctxPlain)
	if spec.Card != nil {
		t.card = c.card("card", spec.Card)
	} else if strings.TrimSpace(spec.Text) == "" {
		c.problem("", "the spec has neither text nor card: there is nothing to post")
	}
	if err := c.problems.err(); err != nil {
		return nil, err
	}
	return t, nil
}

type compiler struct {
	set      *template.Template
	funcs    template.FuncMap
	problems Problems
}

func (c *compiler) problem(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) card(path string, s *CardSpec) *cardTmpl {
	ct := &cardTmpl{
		title:    c.field(path+".title", s.Title, ctxPlain),
		subtitle: c.field(path+".subtitle", s.Subtitle, ctxPlain),
		imageURL: c.field(path+".image_url", s.ImageURL, ctxPlain),
	}
	if ct.title.name == "" && len(s.Sections) == 0 {
		c.problem(path, "the card has neither title nor sections")
	}
	for i, sec := range s.Sections {
		sp := fmt.Sprintf("%s.sections[%d]", path, i)
		st := sectionTmpl{
			when:        c.field(sp+".when", sec.When, ctxPlain),
			header:      c.field(sp+".header", sec.Header, ctxHTML),
			collapsible: sec.Collapsible,
		}
		if len(sec.Widgets) == 0 {
			c.problem(sp+".widgets", "a section needs at least one widget")
		}
		for j, w := range sec.Widgets {
			st.widgets = append(st.widgets, c.widget(fmt.Sprintf("%s.widgets[%d]", sp, j), w))
		}
		ct.sections = append(ct.sections, st)
	}
	return ct
}

func (c *compiler) widget(path string, w WidgetSpec) widgetTmpl {
	wt := widgetTmpl{when: c.field(path+".when", w.When, ctxPlain)}
	var kinds []string
	if w.Text != "" {
		kinds = append(kinds, "text")
		wt.text = c.field(path+".text", w.Text, ctxHTML)
	}
	if d := w.Decorated; d != nil {
		kinds = append(kinds, "decorated")
		wt.decorated = &struct{ label, text, bottom field }{
			label:  c.field(path+".decorated.label", d.Label, ctxPlain),
			text:   c.field(path+".decorated.text", d.Text, ctxHTML),
			bottom: c.field(path+".decorated.bottom_label", d.BottomLabel, ctxPlain),
		}
		if d.Text == "" {
			c.problem(path+".decorated.text", "required")
		}
	}
	if len(w.Buttons) > 0 {
		kinds = append(kinds, "buttons")
		for k, b := range w.Buttons {
			bp := fmt.Sprintf("%s.buttons[%d]", path, k)
			wt.buttons = append(wt.buttons, buttonTmpl{
				when: c.field(bp+".when", b.When, ctxPlain),
				text: c.field(bp+".text", b.Text, ctxPlain),
				url:  c.field(bp+".url", b.URL, ctxPlain),
			})
			if b.Text == "" {
				c.problem(bp+".text", "required")
			}
			if b.URL == "" {
				c.problem(bp+".url", "required")
			}
		}
	}
	if im := w.Image; im != nil {
		kinds = append(kinds, "image")
		wt.image = &struct{ url, alt field }{
			url: c.field(path+".image.url", im.URL, ctxPlain),
			alt: c.field(path+".image.alt", im.Alt, ctxPlain),
		}
		if im.URL == "" {
			c.problem(path+".image.url", "required")
		}
	}
	if w.Divider {
		kinds = append(kinds, "divider")
		wt.divider = true
	}
	switch len(kinds) {
	case 0:
		c.problem(path, "the widget sets none of text, decorated, buttons, image and divider; set one")
	case 1:
	default:
		c.problem(path, "the widget sets %s; set only one", strings.Join(kinds, " and "))
	}
	return wt
}

// field parses src as the template of the field at path and adds it to the
// set, rewritten (see rewrite). An empty src gives a field without template.
func (c *compiler) field(path, src string, ctx fieldContext) field {
	f := field{path: path, ctx: ctx}
	if src == "" {
		return f
	}
	// Parse alone, so that a {{define}} cannot reach another field.
	t, err := template.New(path).Funcs(c.funcs).Parse(src)
	if err != nil {
		c.problem(path, "%s", parseError(path, err))
		return f
	}
	if len(t.Templates()) > 1 || t.Tree == nil {
		c.problem(path, "{{define}} and {{block}} are not supported: each field is one template")
		return f
	}
	before := len(c.problems)
	c.walk(path, ctx, t.Tree.Root)
	if len(c.problems) > before {
		return f
	}
	if _, err := c.set.AddParseTree(path, t.Tree); err != nil {
		c.problem(path, "%v", err)
		return f
	}
	f.name = path
	return f
}

// parseError turns text/template's "template: NAME:LINE: MSG" into
// "template: MSG (line LINE)": the path already names the field.
func parseError(name string, err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "template: "+name+":"); ok {
		if line, m, ok := strings.Cut(rest, ": "); ok && line != "" && strings.Trim(line, "0123456789") == "" {
			return "template: " + m + " (line " + line + ")"
		}
	}
	return msg
}

// textOnly and htmlOnly are the functions whose markup one kind of field
// shows; elsewhere it would show as escaped text, which Compile reports.
var (
	textOnly = map[string]string{
		"md":     "md converts Markdown to Chat text markup, which only the text field shows; in card HTML fields use mdcard",
		"link":   "link makes a Chat text link, which only the text field shows; in card HTML write <a href=\"{{ .url }}\">…</a>",
		"escape": "escape escapes Chat text markup, for the text field only; card fields escape values themselves",
	}
	htmlOnly = map[string]string{
		"mdcard": "mdcard makes card HTML, which only section headers, text widgets and decorated text show; in the text field use md",
	}
)

// walk checks the nodes of a field's template and rewrites them for
// execution:
//
//   - every action that prints gets a last command, _emit_<context>, which
//     escapes what it prints for the field (see state.emit) and makes a
//     missing value print as nothing instead of "<no value>";
//   - every range body starts with {{_step}}, which counts iterations
//     against the budget of one Execute.
//
// html/template rewrites its trees the same way.
func (c *compiler) walk(path string, ctx fieldContext, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, m := range n.Nodes {
			c.walk(path, ctx, m)
		}
	case *parse.ActionNode:
		c.checkPipe(path, ctx, n.Pipe)
		if len(n.Pipe.Decl) == 0 {
			n.Pipe.Cmds = append(n.Pipe.Cmds, identCmd(emitFunc[ctx], n.Pos))
		}
	case *parse.IfNode:
		c.checkPipe(path, ctx, n.Pipe)
		c.walk(path, ctx, n.List)
		c.walk(path, ctx, n.ElseList)
	case *parse.WithNode:
		c.checkPipe(path, ctx, n.Pipe)
		c.walk(path, ctx, n.List)
		c.walk(path, ctx, n.ElseList)
	case *parse.RangeNode:
		c.checkPipe(path, ctx, n.Pipe)
		c.walk(path, ctx, n.List)
		c.walk(path, ctx, n.ElseList)
		if n.List == nil {
			n.List = &parse.ListNode{NodeType: parse.NodeList, Pos: n.Pos}
		}
		step := &parse.ActionNode{
			NodeType: parse.NodeAction, Pos: n.Pos, Line: n.Line,
			Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: n.Pos, Line: n.Line,
				Cmds: []*parse.CommandNode{identCmd(fnStep, n.Pos)}},
		}
		n.List.Nodes = append([]parse.Node{step}, n.List.Nodes...)
	case *parse.TemplateNode:
		c.problem(path, "{{template}} is not supported: each field is one template")
	}
}

func (c *compiler) checkPipe(path string, ctx fieldContext, p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			c.checkArg(path, ctx, arg)
		}
	}
}

func (c *compiler) checkArg(path string, ctx fieldContext, n parse.Node) {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		if msg, ok := textOnly[n.Ident]; ok && ctx != ctxText {
			c.problemOnce(path, msg)
		}
		if msg, ok := htmlOnly[n.Ident]; ok && ctx != ctxHTML {
			c.problemOnce(path, msg)
		}
	case *parse.PipeNode:
		c.checkPipe(path, ctx, n)
	case *parse.ChainNode:
		c.checkArg(path, ctx, n.Node)
	}
}

// problemOnce adds a problem unless the same one is already listed.
func (c *compiler) problemOnce(path, msg string) {
	for _, p := range c.problems {
		if p.Path == path && p.Msg == msg {
			return
		}
	}
	c.problem(path, "%s", msg)
}

// identCmd returns a command calling the function name, as html/template
// builds its escapers' commands.
func identCmd(name string, pos parse.Pos) *parse.CommandNode {
	return &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      pos,
		Args:     []parse.Node{parse.NewIdentifier(name).SetTree(nil).SetPos(pos)},
	}
}
