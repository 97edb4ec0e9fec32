package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator/render"
	"github.com/gchatkit/gchat/internal/relay/adminapi"
	"github.com/gchatkit/gchat/internal/store"
)

// view is one page's main part: the template that renders it and its data.
type view struct {
	Name  string
	Title string
	Nav   string // the menu entry to highlight
	Data  any
}

// viewFunc builds a page's view from the store. The events stream calls it
// too, to tell whether what a page shows changed.
type viewFunc func(r *http.Request) (view, error)

// layout is the data of the page around a view.
type layout struct {
	Title string
	Nav   string
	Who   string
	CSRF  string
	Live  string // the path and query the event stream watches; "" for none
	Main  template.HTML
}

// page serves a view inside the layout.
func (c *Console) page(v viewFunc) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, s session) {
		vw, err := v(r)
		if err != nil {
			c.writeViewErr(w, r, s, err)
			return
		}
		main, err := c.renderMain(vw, s)
		if err != nil {
			c.writeViewErr(w, r, s, err)
			return
		}
		l := layout{Title: vw.Title, Nav: vw.Nav, Who: s.Who, CSRF: c.csrf(s), Main: main}
		if _, _, ok := c.viewOf(r.URL); ok {
			l.Live = r.URL.RequestURI()
		}
		c.writeLayout(w, http.StatusOK, l)
	}
}

// mainData is what every view template gets: its data and the CSRF token
// for its forms.
type mainData struct {
	CSRF string
	Back string
	D    any
}

func (c *Console) renderMain(vw view, s session) (template.HTML, error) {
	var b bytes.Buffer
	if err := c.tmpl.ExecuteTemplate(&b, vw.Name, mainData{CSRF: c.csrf(s), D: vw.Data}); err != nil {
		return "", fmt.Errorf("render %s: %w", vw.Name, err)
	}
	return template.HTML(b.String()), nil
}

func (c *Console) writeLayout(w http.ResponseWriter, status int, l layout) {
	var b bytes.Buffer
	if err := c.tmpl.ExecuteTemplate(&b, "layout", l); err != nil {
		c.log.Error("console_render_failed", slog.Any("err", err))
		c.writePlain(w, http.StatusInternalServerError, "render failed")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// errBadRequest marks a view error caused by the request (a bad filter).
type errBadRequest string

func (e errBadRequest) Error() string { return string(e) }

func (c *Console) writeViewErr(w http.ResponseWriter, r *http.Request, s session, err error) {
	var bad errBadRequest
	switch {
	case errors.As(err, &bad):
		c.writeMessage(w, r, s, http.StatusBadRequest, bad.Error(), "")
	case errors.Is(err, store.ErrNotFound):
		c.writeMessage(w, r, s, http.StatusNotFound, "No such delivery (it may have been pruned or dropped).", "/console/deliveries")
	case errors.Is(err, store.ErrConflict):
		c.writeMessage(w, r, s, http.StatusConflict, scrub(err.Error()), "")
	default:
		c.log.Error("console_store_failed", slog.String("path", r.URL.Path), slog.Any("err", err))
		c.writeMessage(w, r, s, http.StatusServiceUnavailable, "The store did not answer; try again.", "")
	}
}

// writeMessage answers with a short message and a link onward.
func (c *Console) writeMessage(w http.ResponseWriter, r *http.Request, s session, status int, msg, next string) {
	if next == "" {
		next = backOf(r)
	}
	main, err := c.renderMain(view{Name: "message", Data: message{Text: msg, Next: next}}, s)
	if err != nil {
		c.writePlain(w, http.StatusInternalServerError, "render failed")
		return
	}
	c.writeLayout(w, status, layout{Title: "Console", Who: s.Who, CSRF: c.csrf(s), Main: main})
}

type message struct {
	Text string
	Next string
}

// renderResult answers a POST that succeeded. The console never redirects
// (the relay's server turns redirects into 404s): the answer says what was
// done and links back.
func (c *Console) renderResult(w http.ResponseWriter, r *http.Request, s session, msg, next string) {
	c.writeMessage(w, r, s, http.StatusOK, msg, next)
}

func (c *Console) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.writePlain(w, status, msg)
}

func (c *Console) writePlain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// renderSignIn answers with the sign-in form.
func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, note string) {
	var b bytes.Buffer
	data := struct {
		Note      string
		PlainHTTP bool
	}{note, !c.secure(r) && !loopback(r)}
	if err := c.tmpl.ExecuteTemplate(&b, "signin", data); err != nil {
		c.writePlain(w, http.StatusInternalServerError, "render failed")
		return
	}
	c.writeLayout(w, status, layout{Title: "Sign in", Main: template.HTML(b.String())})
}

// backOf is the console page a form came from (its back= field), else
// the console's first page.
func backOf(r *http.Request) string {
	b := r.PostFormValue("back")
	if u, err := url.Parse(b); err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/console/") && !strings.HasPrefix(b, "//") {
		return u.RequestURI()
	}
	return "/console/"
}

// secretParam matches the value of a key= or token= query parameter: a
// webhook URL's secrets, wherever a text holds one.
var secretParam = regexp.MustCompile(`(?i)((?:[?&]|\\u0026)(?:amp;)?(?:key|token)=)[^&"'\s<>\\]+`)

// webhookSpace matches the Google space id in a webhook URL's path.
var webhookSpace = regexp.MustCompile(`(/spaces/)([A-Za-z0-9_-]+)(/messages)`)

// scrub masks webhook secrets in a text shown on a page: key= and token=
// values, and the space id of a webhook URL.
func scrub(s string) string {
	s = secretParam.ReplaceAllString(s, "${1}REDACTED")
	return webhookSpace.ReplaceAllStringFunc(s, func(m string) string {
		p := webhookSpace.FindStringSubmatch(m)
		return p[1] + mask(p[2]) + p[3]
	})
}

// mask shows a Google space id by its first and last two characters: the
// id names the webhook, and with the key and token makes it.
func mask(id string) string {
	if id == "" {
		return ""
	}
	r := []rune(id)
	if len(r) <= 6 {
		return "…"
	}
	return string(r[:2]) + "…" + string(r[len(r)-2:])
}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"time": func(t time.Time) template.HTML {
			if t.IsZero() {
				return "—"
			}
			t = t.UTC()
			return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, t.Format(time.RFC3339), t.Format("2006-01-02 15:04:05Z")))
		},
		"scrub": scrub,
		"mask":  mask,
		"query": func(kv ...string) string {
			q := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					q.Set(kv[i], kv[i+1])
				}
			}
			if len(q) == 0 {
				return ""
			}
			return "?" + q.Encode()
		},
	}
}

// summary is the start of a message's text, for lists.
func summary(raw json.RawMessage) string {
	var m struct {
		Text    string            `json:"text"`
		CardsV2 []json.RawMessage `json:"cardsV2"`
		Cards   []json.RawMessage `json:"cards"`
	}
	if json.Unmarshal([]byte(scrub(string(raw))), &m) != nil {
		return "(not JSON)"
	}
	s := strings.Join(strings.Fields(m.Text), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	if n := len(m.CardsV2) + len(m.Cards); n > 0 {
		s = strings.TrimSpace(s + fmt.Sprintf(" [%d card(s)]", n))
	}
	if s == "" {
		s = "(empty)"
	}
	return scrub(s)
}

// messageHTML renders a stored message as Chat shows it, with the
// emulator's renderer.
func messageHTML(raw json.RawMessage) template.HTML {
	var m gchat.Message
	if err := json.Unmarshal([]byte(scrub(string(raw))), &m); err != nil {
		return template.HTML(`<p class="note">The message is not JSON the renderer reads: ` + template.HTMLEscapeString(scrub(err.Error())) + `</p>`)
	}
	return render.Message(m)
}

// deliveryJSON is a delivery as the admin API shows it, with the Google
// space id masked and secrets scrubbed from every text.
func deliveryJSON(d store.Delivery) string {
	j := adminapi.DeliveryOf(d)
	j.Lane = mask(j.Lane)
	j.Message = json.RawMessage(scrub(string(d.Message)))
	if !json.Valid(j.Message) {
		j.Message, _ = json.Marshal(scrub(string(d.Message)))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(j); err != nil {
		return "(cannot show: " + err.Error() + ")"
	}
	return scrub(b.String())
}
