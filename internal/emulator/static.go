package emulator

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator/ui"
)

// The static page: ?live=0 renders the state on the server, with no script
// and no event stream, so that `chromium --headless --screenshot URL`
// captures it whole. Its links and its search form stay in static mode:
// ?live=0&space=S selects a space (id or display name), &message=M.T opens
// the request that posted a message, &q=TEXT searches every space.

// staticCSP allows no script at all: the static page has none.
const staticCSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: http: data:; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

type staticData struct {
	Rendered, LiveLink string
	Spaces             []staticSpaceLink
	Space              *staticSpace
	Flat               bool
	Query              string
	Searched           bool
	Results            []staticMsg
	Request            *staticRequest
}

type staticSpaceLink struct {
	ID, DisplayName, Initials, Link string
	Count                           int
	Current                         bool
}

type staticSpace struct {
	DisplayName, Meta, Threading string
	Webhooks                     []staticWebhook
	Threads                      []staticThread
}

type staticWebhook struct{ Name, Initials, URL string }

type staticThread struct {
	Head    staticMsg
	Replies []staticMsg
	last    time.Time
}

type staticMsg struct {
	Name, Thread, Sender, Initials, Time, TimeISO, ThreadKey string
	SpaceName, Snippet, Link                                 string
	HTML                                                     template.HTML
	Problems                                                 []apiProblem
	Reply, Selected                                          bool
}

type staticRequest struct {
	RequestDetail
	Status, StatusClass, Duration string
	AnswerHeader                  []Pair
	AnswerBody                    string
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := s.now()
	d := staticData{Rendered: readableTime(now, now), LiveLink: "./", Query: q.Get("q")}
	spaces := s.Spaces()
	cur := q.Get("space")
	var current *Space
	if cur != "" {
		if sp, err := s.Space(cur); err == nil {
			current = &sp
		}
	} else if d.Query == "" && len(spaces) > 0 {
		current = &spaces[0]
	}
	names := map[string]string{}
	for _, sp := range spaces {
		names[sp.ID] = sp.DisplayName
		d.Spaces = append(d.Spaces, staticSpaceLink{
			ID: sp.ID, DisplayName: sp.DisplayName, Initials: initials(sp.DisplayName),
			Link: staticLink("space", sp.ID), Count: sp.MessageCount, Current: current != nil && current.ID == sp.ID,
		})
	}
	if current != nil {
		d.LiveLink = "./#space=" + url.QueryEscape(current.ID)
		d.Space, d.Flat = s.staticSpace(*current, q.Get("message"), now), current.Threading == Unthreaded
		if msg := q.Get("message"); msg != "" {
			if rd, err := s.MessageRequest(current.ID, msg); err == nil {
				d.Request = staticRequestOf(rd)
			}
		}
	}
	if d.Query != "" {
		d.Searched = true
		ms, _ := s.Search(SearchFilter{Query: d.Query, Limit: 100})
		for _, m := range ms {
			sm := staticMessage(m, now)
			sm.SpaceName = names[m.Space]
			sm.Snippet = snippet(m)
			d.Results = append(d.Results, sm)
		}
	}
	var b bytes.Buffer
	if err := s.staticTmpl.Execute(&b, d); err != nil {
		s.log.Error("static_page_failed", "err", err)
		http.Error(w, "render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", staticCSP)
	w.Write(b.Bytes())
}

// staticSpace lays out a space's messages as the live page does: in a
// threaded space a reply goes under its thread's first message and moves
// the thread to the bottom; in-line threads keep their place; an
// unthreaded space is flat.
func (s *Server) staticSpace(sp Space, selected string, now time.Time) *staticSpace {
	meta := []string{threadingNames[sp.Threading], "space", sp.Name}
	if sp.Kind == KindDirectMessage {
		meta[1] = "direct message"
	}
	out := &staticSpace{DisplayName: sp.DisplayName, Meta: strings.Join(meta, " · "), Threading: sp.Threading}
	for _, h := range sp.Webhooks {
		// Static pages end up in screenshots and bug reports: the URL is
		// shown without its key and token.
		out.Webhooks = append(out.Webhooks, staticWebhook{Name: h.Name, Initials: initials(h.Name), URL: gchat.RedactURL(h.URL)})
	}
	byThread := map[string]int{}
	for _, m := range s.Messages(sp.ID, MessageFilter{}) {
		sm := staticMessage(m, now)
		sm.Selected = selected != "" && (m.Name == selected || strings.HasSuffix(m.Name, "/"+selected))
		if i, ok := byThread[m.Thread.Name]; ok && sp.Threading != Unthreaded {
			sm.Reply = true
			out.Threads[i].Replies = append(out.Threads[i].Replies, sm)
			out.Threads[i].last = m.CreateTime
			continue
		}
		byThread[m.Thread.Name] = len(out.Threads)
		out.Threads = append(out.Threads, staticThread{Head: sm, last: m.CreateTime})
	}
	if sp.Threading == Threaded {
		slices.SortStableFunc(out.Threads, func(a, b staticThread) int { return a.last.Compare(b.last) })
	}
	return out
}

var threadingNames = map[string]string{Threaded: "Threaded", Grouped: "In-line threads", Unthreaded: "Unthreaded"}

func staticMessage(m Message, now time.Time) staticMsg {
	return staticMsg{
		Name: m.Name, Thread: m.Thread.Name, Sender: m.Sender.DisplayName, Initials: initials(m.Sender.DisplayName),
		Time: readableTime(m.CreateTime, now), TimeISO: m.CreateTime.Format(time.RFC3339),
		ThreadKey: threadKeyShown(m), HTML: m.HTML, Problems: apiProblems(m.Problems),
		Link: staticLink("space", m.Space, "message", m.Name[strings.LastIndexByte(m.Name, '/')+1:]) + "#request",
	}
}

func threadKeyShown(m Message) string {
	if m.ThreadReply {
		return ""
	}
	return m.Thread.ThreadKey
}

func staticRequestOf(d RequestDetail) *staticRequest {
	r := &staticRequest{RequestDetail: d}
	r.Body = prettyJSON(d.Body)
	r.Duration = strconv.FormatFloat(float64(d.Record.Duration)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	switch st := d.Record.Status; {
	case st == 0:
		r.Status, r.StatusClass = "no answer", "none"
	default:
		r.Status, r.StatusClass = strconv.Itoa(st)+" "+http.StatusText(st), strconv.Itoa(st/100)+"xx"
		r.AnswerHeader, r.AnswerBody = d.Answer.Header, prettyJSON(d.Answer.Body)
	}
	return r
}

// staticLink is a link that stays in static mode.
func staticLink(kv ...string) string {
	v := url.Values{"live": {"0"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

// readableTime is a time as people read it: "10:55 AM" today, with the
// date on other days, in the emulator's local time zone.
func readableTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	switch {
	case t.Year() != now.Year():
		return t.Format("Jan 2, 2006, 3:04 PM")
	case t.YearDay() != now.YearDay():
		return t.Format("Jan 2, 3:04 PM")
	}
	return t.Format("3:04 PM")
}

func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			out = append(out, []rune(strings.ToUpper(string(r)))...)
			break
		}
		if len(out) >= 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// snippet is the start of a message's text, or of its first card's title.
func snippet(m Message) string {
	t := m.Message.Text
	if t == "" && len(m.Message.CardsV2) > 0 && m.Message.CardsV2[0].Card.Header != nil {
		t = m.Message.CardsV2[0].Card.Header.Title
	}
	if r := []rune(t); len(r) > 120 {
		t = string(r[:120]) + "…"
	}
	return t
}

func parseStatic() *template.Template {
	return template.Must(template.ParseFS(ui.Files(), "static.html"))
}
