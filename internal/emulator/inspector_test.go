package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// canaryToken is the webhook token of the inspector's tests: no view but
// the webhook list may show it.
const canaryToken = "CANARYtoken-0123456789abcdefghij"

// inspectorEnv is a server with a space "Alerts" whose webhook has the
// canary token, and a second space "Deploys".
func inspectorEnv(t *testing.T) (*emulator.Server, *clock, emulator.Space, emulator.Space) {
	t.Helper()
	c := newClock()
	set := noQuota()
	s := emulator.NewServer(emulator.Config{Settings: &set, Now: c.Now}, nil)
	t.Cleanup(func() { s.Close() })
	alerts, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "Alerts", Webhooks: []emulator.WebhookSpec{{Name: "Alertmanager", Token: canaryToken}}})
	if err != nil {
		t.Fatal(err)
	}
	deploys, err := s.CreateSpace(emulator.SpaceSpec{DisplayName: "Deploys", Webhooks: []emulator.WebhookSpec{{Name: "CI"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s, c, alerts, deploys
}

// postHeader posts body to a webhook URL with extra query and headers.
func postHeader(t *testing.T, s http.Handler, rawURL, query, body string, header map[string]string) answer {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, rawURL+query, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json; charset=UTF-8")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	a := answer{Status: w.Code, Header: w.Header(), Raw: w.Body.String()}
	json.Unmarshal(w.Body.Bytes(), &a.Body)
	return a
}

func shortName(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }

func TestAPISpaceByName(t *testing.T) {
	s, _, alerts, _ := inspectorEnv(t)
	serve(t, s, "POST", alerts.Webhooks[0].URL, "", text("hello"))
	for _, ref := range []string{alerts.ID, "Alerts", "alerts"} {
		var got struct{ Messages []emulator.Message }
		a := api(t, s, "GET", "/api/v1/spaces/"+url.PathEscape(ref)+"/messages", nil)
		if a.Status != http.StatusOK {
			t.Fatalf("GET messages of %q: %d %s", ref, a.Status, a.Raw)
		}
		decodeInto(t, a, &got)
		if len(got.Messages) != 1 || got.Messages[0].Space != alerts.ID {
			t.Errorf("messages of %q: %+v", ref, got.Messages)
		}
		for _, path := range []string{"", "/threads", "/requests", "/messages/latest"} {
			if a := api(t, s, "GET", "/api/v1/spaces/"+url.PathEscape(ref)+path, nil); a.Status != http.StatusOK {
				t.Errorf("GET space %q%s: %d %s", ref, path, a.Status, a.Raw)
			}
		}
	}
	a := api(t, s, "GET", "/api/v1/spaces/nope/messages", nil)
	if a.Status != http.StatusNotFound || strings.Contains(a.Raw, "wait") || !strings.Contains(a.Raw, "no space has this id or display name") {
		t.Errorf("unknown space: %d %s, want 404 naming the space, not a wait", a.Status, a.Raw)
	}
	// Webhooks and deletion by name too.
	if a := api(t, s, "POST", "/api/v1/spaces/Deploys/webhooks", map[string]string{"name": "Argo"}); a.Status != http.StatusCreated {
		t.Errorf("create webhook by space name: %d %s", a.Status, a.Raw)
	}
	if a := api(t, s, "DELETE", "/api/v1/spaces/Deploys", nil); a.Status != http.StatusNoContent {
		t.Errorf("delete space by name: %d %s", a.Status, a.Raw)
	}
	if _, err := s.Space("Deploys"); err == nil {
		t.Error("Deploys still exists")
	}
}

func TestAPIRequestView(t *testing.T) {
	s, _, alerts, _ := inspectorEnv(t)
	body := `{"cardsV2":[{"cardId":"c","card":{"header":{"title":"Disk full"},"sections":[{"widgets":[{"textParagraph":{"text":"93% full & growing; token ` + canaryToken + `"}}]}]}}]}`
	ok := postHeader(t, s, alerts.Webhooks[0].URL, "&messageId=client-disk-1", body, map[string]string{
		"Authorization": "Bearer " + canaryToken,
		"User-Agent":    "inspector-test/1",
		"X-Trace":       "abc",
	})
	if ok.Status != http.StatusOK {
		t.Fatalf("post: %d %s", ok.Status, ok.Raw)
	}
	name := ok.str("name")

	var d emulator.RequestDetail
	a := api(t, s, "GET", "/api/v1/spaces/Alerts/messages/"+shortName(name)+"/request", nil)
	if a.Status != http.StatusOK {
		t.Fatalf("request of %s: %d %s", name, a.Status, a.Raw)
	}
	decodeInto(t, a, &d)
	if d.Method != "POST" || d.Path != "/v1/spaces/"+alerts.ID+"/messages" {
		t.Errorf("request line: %s %s", d.Method, d.Path)
	}
	wantQuery := []emulator.Pair{{Name: "key", Value: "REDACTED"}, {Name: "token", Value: "REDACTED"}, {Name: "messageId", Value: "client-disk-1"}}
	if !equalPairs(d.Query, wantQuery) {
		t.Errorf("query: got %+v, want %+v", d.Query, wantQuery)
	}
	if v := pairValue(d.Header, "Authorization"); v != "REDACTED" {
		t.Errorf("Authorization header shown as %q, want REDACTED", v)
	}
	if v := pairValue(d.Header, "X-Trace"); v != "abc" {
		t.Errorf("X-Trace header: %q", v)
	}
	// The body as sent, with the token masked where it was copied into the text.
	if want := strings.ReplaceAll(body, canaryToken, "REDACTED"); d.Body != want || d.BodyBytes != len(body) {
		t.Errorf("body: got %q (%d bytes), want %q (%d bytes)", d.Body, d.BodyBytes, want, len(body))
	}
	if d.Answer.Status != 200 || !strings.Contains(d.Answer.Body, name) || pairValue(d.Answer.Header, "Content-Type") == "" {
		t.Errorf("answer: %+v", d.Answer)
	}
	if d.Record.Message != name || d.Record.ID == "" || d.Record.Webhook == "" {
		t.Errorf("record: %+v", d.Record)
	}
	if len(d.Problems) == 0 || !strings.Contains(d.Problems[0].Path, "textParagraph") {
		t.Errorf("problems: %+v, want the unescaped & found", d.Problems)
	}

	// A refused request: its record shows the body and Google's error.
	bad := postHeader(t, s, alerts.Webhooks[0].URL, "", `{"text": 1}`, nil)
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("bad body: %d", bad.Status)
	}
	var list struct{ Requests []emulator.RequestRecord }
	decodeInto(t, api(t, s, "GET", "/api/v1/spaces/"+alerts.ID+"/requests", nil), &list)
	if len(list.Requests) != 2 || list.Requests[1].ID == list.Requests[0].ID || list.Requests[1].Message != "" {
		t.Fatalf("records: %+v", list.Requests)
	}
	decodeInto(t, api(t, s, "GET", "/api/v1/spaces/"+alerts.ID+"/requests/"+list.Requests[1].ID, nil), &d)
	if d.Body != `{"text": 1}` || d.Answer.Status != 400 || !strings.Contains(d.Answer.Body, "INVALID_ARGUMENT") {
		t.Errorf("refused request: body %q, answer %+v", d.Body, d.Answer)
	}
	if a := api(t, s, "GET", "/api/v1/spaces/"+alerts.ID+"/requests/r999", nil); a.Status != http.StatusNotFound {
		t.Errorf("unknown record: %d", a.Status)
	}
}

func equalPairs(a, b []emulator.Pair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pairValue(ps []emulator.Pair, name string) string {
	for _, p := range ps {
		if strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return ""
}

func TestAPISearch(t *testing.T) {
	s, c, alerts, deploys := inspectorEnv(t)
	serve(t, s, "POST", alerts.Webhooks[0].URL, "", text("Disk almost full on db-1"))
	c.Advance(time.Second)
	serve(t, s, "POST", deploys.Webhooks[0].URL, "", `{"cardsV2":[{"cardId":"c","card":{"header":{"title":"Deploy of checkout"},"sections":[{"widgets":[{"textParagraph":{"text":"disk quota raised & \"logged\" <ok>"}}]}]}}]}`)
	c.Advance(time.Second)
	serve(t, s, "POST", alerts.Webhooks[0].URL, "", text("All quiet"))

	search := func(q string) []emulator.Message {
		t.Helper()
		var got struct{ Messages []emulator.Message }
		a := api(t, s, "GET", "/api/v1/messages?"+q, nil)
		if a.Status != http.StatusOK {
			t.Fatalf("search %s: %d %s", q, a.Status, a.Raw)
		}
		decodeInto(t, a, &got)
		return got.Messages
	}
	got := search("q=DISK")
	if len(got) != 2 || got[0].Space != deploys.ID || got[1].Space != alerts.ID {
		t.Errorf("q=DISK: %+v, want the card (newest) then the text, across both spaces", got)
	}
	if got := search("q=disk&space=Alerts"); len(got) != 1 || got[0].Space != alerts.ID {
		t.Errorf("q=disk&space=Alerts: %+v", got)
	}
	if got := search("q=alertmanager"); len(got) != 2 {
		t.Errorf("sender name: %d results, want 2", len(got))
	}
	if got := search("limit=1"); len(got) != 1 || !strings.Contains(string(got[0].Body), "All quiet") {
		t.Errorf("limit=1: %+v, want the newest", got)
	}
	// What JSON escapes in the stored body is found as written.
	if got := search("q=" + url.QueryEscape(`raised & "logged" <ok>`)); len(got) != 1 || got[0].Space != deploys.ID {
		t.Errorf(`q=raised & "logged" <ok>: %+v`, got)
	}
	if got := search("q=%3Cnothing"); len(got) != 0 {
		t.Errorf("no match: %+v", got)
	}
	for _, q := range []string{"limit=-1", "limit=5000"} {
		if a := api(t, s, "GET", "/api/v1/messages?"+q, nil); a.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", q, a.Status)
		}
	}
	if a := api(t, s, "GET", "/api/v1/messages?space=nope", nil); a.Status != http.StatusNotFound {
		t.Errorf("unknown space: %d", a.Status)
	}
}

func TestAPIDeleteMessageAndClearSpace(t *testing.T) {
	s, _, alerts, deploys := inspectorEnv(t)
	first := serve(t, s, "POST", alerts.Webhooks[0].URL+"&requestId=r-1", "", textKey("one", "k")).str("name")
	second := serve(t, s, "POST", alerts.Webhooks[0].URL+fallback, "", textKey("two", "k")).str("name")
	serve(t, s, "POST", deploys.Webhooks[0].URL, "", text("deploy"))

	if a := api(t, s, "DELETE", "/api/v1/spaces/Alerts/messages/"+shortName(first), nil); a.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", a.Status, a.Raw)
	}
	ms := s.Messages(alerts.ID, emulator.MessageFilter{})
	if len(ms) != 1 || ms[0].Name != second {
		t.Errorf("after delete: %+v", ms)
	}
	if a := api(t, s, "DELETE", "/api/v1/spaces/Alerts/messages/"+shortName(first), nil); a.Status != http.StatusNotFound {
		t.Errorf("delete again: %d", a.Status)
	}
	// Its requestId is forgotten with it: the same requestId posts anew.
	again := serve(t, s, "POST", alerts.Webhooks[0].URL+"&requestId=r-1", "", text("one again"))
	if again.str("name") == first {
		t.Errorf("a deleted message's requestId still answers it")
	}

	if a := api(t, s, "DELETE", "/api/v1/spaces/Alerts/messages", nil); a.Status != http.StatusNoContent {
		t.Fatalf("clear: %d %s", a.Status, a.Raw)
	}
	if n := len(s.Messages(alerts.ID, emulator.MessageFilter{})); n != 0 {
		t.Errorf("Alerts holds %d messages after clear", n)
	}
	if n := len(s.Messages(deploys.ID, emulator.MessageFilter{})); n != 1 {
		t.Errorf("Deploys holds %d messages, want its 1 untouched", n)
	}
	if sp, _ := s.Space(alerts.ID); len(sp.Webhooks) != 1 {
		t.Errorf("clear removed the webhooks")
	}
	if a := api(t, s, "DELETE", "/api/v1/spaces/nope/messages", nil); a.Status != http.StatusNotFound {
		t.Errorf("clear unknown space: %d", a.Status)
	}
}

func TestMetricsAndInfo(t *testing.T) {
	s, _, alerts, _ := inspectorEnv(t)
	serve(t, s, "POST", alerts.Webhooks[0].URL, "", text("one"))
	serve(t, s, "POST", alerts.Webhooks[0].URL, "", `{"text": 1}`)

	m := serve(t, s, "GET", "http://127.0.0.1:8687/metrics", "", "")
	if m.Status != 200 || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", m.Status, m.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`gchat_emulator_webhook_requests_total{fault="",status="200"} 1`,
		`gchat_emulator_webhook_requests_total{fault="",status="400"} 1`,
		`gchat_emulator_messages{space="` + alerts.ID + `"} 1`,
		"gchat_emulator_spaces 2",
		"gchat_emulator_webhook_request_duration_seconds_count 2",
		"gchat_emulator_event_subscribers 0",
	} {
		if !strings.Contains(m.Raw, want) {
			t.Errorf("metrics lack %q:\n%s", want, m.Raw)
		}
	}

	var in emulator.Info
	a := api(t, s, "GET", "/api/v1/info", nil)
	decodeInto(t, a, &in)
	if a.Status != 200 || in.Version == "" || len(in.Spaces) != 2 || in.Spaces[0].DisplayName != "Alerts" ||
		in.Spaces[0].MessageCount != 1 || in.Spaces[0].Webhooks != 1 || in.Requests != 2 || in.Faults ||
		in.Settings.QuotaPerSecond != 0 || in.MaxMessages != emulator.DefaultMaxMessages {
		t.Errorf("info: %d %+v", a.Status, in)
	}
	s.SetFaults(emulator.FaultConfig{Spaces: map[string]emulator.Faults{alerts.ID: {Rate500: 0.5}}})
	if !s.Info().Faults {
		t.Error("info does not report a space's faults")
	}
}

func TestStaticPage(t *testing.T) {
	s, c, alerts, _ := inspectorEnv(t)
	first := serve(t, s, "POST", alerts.Webhooks[0].URL+fallback, "", textKey("Disk almost full 💾", "incident-7")).str("name")
	c.Advance(time.Minute)
	serve(t, s, "POST", alerts.Webhooks[0].URL+fallback, "", textKey("Resolved", "incident-7"))

	a := serve(t, s, "GET", "http://127.0.0.1:8687/?live=0", "", "")
	if a.Status != 200 || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("static page: %d %q", a.Status, a.Header.Get("Content-Type"))
	}
	csp := a.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("static page CSP %q: want no script allowed", csp)
	}
	when := newClock().Now().Local().Format("3:04 PM")
	for _, want := range []string{"Disk almost full 💾", "Resolved", `class="replies"`, "1 reply", when, `href="ui/favicon.svg"`, "key=REDACTED&amp;token=REDACTED"} {
		if !strings.Contains(a.Raw, want) {
			t.Errorf("static page lacks %q", want)
		}
	}
	if strings.Contains(a.Raw, "<script") || strings.Contains(a.Raw, "api/v1/events") {
		t.Error("static page holds a script or the event stream")
	}

	// A message's request, and a search, in static mode.
	a = serve(t, s, "GET", "http://127.0.0.1:8687/?live=0&space=alerts&message="+shortName(first), "", "")
	for _, want := range []string{`id="request"`, "POST /v1/spaces/" + alerts.ID + "/messages", "200 OK", "REDACTED", `class="msg selected"`} {
		if !strings.Contains(a.Raw, want) {
			t.Errorf("static request view lacks %q", want)
		}
	}
	a = serve(t, s, "GET", "http://127.0.0.1:8687/?live=0&q=resolved", "", "")
	if !strings.Contains(a.Raw, `1 message matching “resolved”`) {
		t.Errorf("static search: %s", a.Raw)
	}
}

// TestInspectorShowsNoSecret is the secret canary over the inspector's
// views: the request view, the records, search, info, metrics and the
// static page. The webhook list is the one place a webhook URL is shown
// in full (docs/emulator-api.md).
func TestInspectorShowsNoSecret(t *testing.T) {
	s, _, alerts, _ := inspectorEnv(t)
	name := postHeader(t, s, alerts.Webhooks[0].URL, "&threadKey=k", text("hello"), map[string]string{
		"Authorization": "Bearer " + canaryToken, "Cookie": "sid=" + canaryToken, "Referer": alerts.Webhooks[0].URL,
	}).str("name")
	postHeader(t, s, strings.Replace(alerts.Webhooks[0].URL, "token=", "token=x", 1), "", text("refused"), nil)
	postHeader(t, s, alerts.Webhooks[0].URL+"&key=2", "", `{`, nil)

	base := "http://127.0.0.1:8687"
	paths := []string{
		"/api/v1/spaces/" + alerts.ID + "/requests",
		"/api/v1/spaces/" + alerts.ID + "/requests/r1",
		"/api/v1/spaces/" + alerts.ID + "/requests/r2",
		"/api/v1/spaces/" + alerts.ID + "/requests/r3",
		"/api/v1/spaces/" + alerts.ID + "/messages/" + shortName(name) + "/request",
		"/api/v1/spaces/" + alerts.ID + "/messages",
		"/api/v1/messages?q=hello",
		"/api/v1/info",
		"/api/v1/stats",
		"/metrics",
		"/?live=0",
		"/?live=0&space=Alerts&message=" + shortName(name),
		"/?live=0&q=hello",
	}
	for _, p := range paths {
		a := serve(t, s, "GET", base+p, "", "")
		if a.Status != 200 {
			t.Errorf("GET %s: %d %s", p, a.Status, a.Raw)
		}
		for _, secret := range []string{"CANARYtoken", emulator.FakeKey, url.QueryEscape(emulator.FakeKey)} {
			if strings.Contains(a.Raw, secret) {
				t.Errorf("GET %s shows a credential (%s):\n%s", p, secret, a.Raw)
			}
		}
	}
}

func TestFavicon(t *testing.T) {
	s := emulator.NewServer(emulator.Config{}, nil)
	defer s.Close()
	for _, p := range []string{"/favicon.ico", "/ui/favicon.svg"} {
		a := serve(t, s, "GET", "http://127.0.0.1:8687"+p, "", "")
		if a.Status != 200 || a.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(a.Raw, "<svg") {
			t.Errorf("GET %s: %d %q", p, a.Status, a.Header.Get("Content-Type"))
		}
	}
	if a := serve(t, s, "GET", "http://127.0.0.1:8687/", "", ""); !strings.Contains(a.Raw, `rel="icon" href="ui/favicon.svg"`) {
		t.Error("the page links no icon")
	}
}

func TestRequestViewBounded(t *testing.T) {
	s, _, alerts, _ := inspectorEnv(t)
	big := strings.Repeat("h", 3000)
	header := map[string]string{}
	for i := range 10 {
		header[fmt.Sprintf("X-Big-%d", i)] = big
	}
	// Refused or not, the request is recorded.
	header["Referer"] = alerts.Webhooks[0].URL
	postHeader(t, s, alerts.Webhooks[0].URL[:strings.Index(alerts.Webhooks[0].URL, "?")+1]+"x="+strings.Repeat("q", 20_000)+"&"+alerts.Webhooks[0].URL[strings.Index(alerts.Webhooks[0].URL, "?")+1:], "", text("hi"), header)
	rs, _ := s.Requests(alerts.ID)
	if len(rs) != 1 {
		t.Fatalf("%d records", len(rs))
	}
	d, err := s.Request(alerts.ID, rs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range d.Header {
		n += len(p.Name) + len(p.Value)
	}
	if n > 9<<10 || pairValue(d.Header, "X-Gchat-Emulator-Truncated") == "" {
		t.Errorf("headers kept: %d bytes, marker %q; want at most 8 KiB and the marker", n, pairValue(d.Header, "X-Gchat-Emulator-Truncated"))
	}
	q := 0
	for _, p := range d.Query {
		q += len(p.Name) + len(p.Value)
	}
	if q > 8<<10 {
		t.Errorf("query kept: %d bytes, want at most 8 KiB", q)
	}
	// The token lay beyond the cut: the Referer still shows it masked.
	if data, _ := json.Marshal(d); strings.Contains(string(data), "CANARYtoken") {
		t.Errorf("a cut record shows the token: %s", data)
	}
}
