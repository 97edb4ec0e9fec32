package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// paceSpan and paceTolerance bound what the emulator may see of a lane's
// pacing. The relay's send timestamps are not exposed, so the emulator's
// records (when its handler started) stand in for them, and each start can
// be late by however long a loaded machine (two cores, -race, other
// packages' tests) delays one request: a single gap between two starts can
// shrink by that delay, however well the relay paced. So the check is over
// spans of paceSpan intervals, which must last paceSpan paces less one
// pace: one late start is absorbed, while a relay that sent faster than its
// pace (or bursts of several at once) still fails.
const (
	paceSpan      = 4
	paceTolerance = 1 // in paces
)

// TestRelayInProcessManySpaces runs the relay from a configuration file
// with four spaces over three emulator spaces (two relay spaces share one
// Google space, so one lane and one pace), posts 80 messages concurrently
// in 8 threads, and checks that each arrives once, in order per thread, and
// that no lane starts two requests closer than its pace. Then it shows that
// a thread in 5xx backoff does not hold up another thread of its space.
func TestRelayInProcessManySpaces(t *testing.T) {
	const pace = 40 * time.Millisecond
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0 // off: the relay paces at 40 ms
	set.QuotaPerMinute = 0
	emu := emulator.NewServer(emulator.Config{
		Spaces: []emulator.SpaceSpec{
			{ID: "AAAAmany1", DisplayName: "one", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-many-token-1"}}},
			{ID: "AAAAmany2", DisplayName: "two", Webhooks: []emulator.WebhookSpec{
				{Name: "relay b", Token: "emu-many-token-2b"}, {Name: "relay c", Token: "emu-many-token-2c"}}},
			{ID: "AAAAmany3", DisplayName: "three", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-many-token-3"}}},
		},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close() })
	t.Cleanup(ts.Close)
	api := ts.URL + "/api/v1"

	// The emulator's faults are per space, and a space-wide 503 fails every
	// thread alike, so it cannot show one thread backing off while another
	// flows. A proxy in front of one emulator space can: it answers 503 to
	// the requests of one thread only, as long as it is told to.
	px := &threadFaultProxy{upstream: ts.URL}
	pts := httptest.NewServer(px)
	t.Cleanup(pts.Close)

	hook := func(base, id, token string) string {
		return base + "/v1/spaces/" + id + "/messages?key=" + emulator.FakeKey + "&token=" + token
	}
	env := map[string]string{
		"ALPHA_HOOK": hook(ts.URL, "AAAAmany1", "emu-many-token-1"),
		"BETA_HOOK":  hook(ts.URL, "AAAAmany2", "emu-many-token-2b"),
		"GAMMA_HOOK": hook(ts.URL, "AAAAmany2", "emu-many-token-2c"),
		"DELTA_HOOK": hook(pts.URL, "AAAAmany3", "emu-many-token-3"),
	}
	type relaySpace struct{ name, lane, token string }
	spaces := []relaySpace{
		{"alpha", "AAAAmany1", "alpha-token-0123456789"},
		{"beta", "AAAAmany2", "beta-token-0123456789"},
		{"gamma", "AAAAmany2", "gamma-token-0123456789"},
		{"delta", "AAAAmany3", "delta-token-0123456789"},
	}
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen: 127.0.0.1:0\nstore: sqlite:%s\n", filepath.Join(dir, "relay.db"))
	fmt.Fprintf(&cfg, "allowed_hosts: [%s, %s]\n", strings.TrimPrefix(ts.URL, "http://"), strings.TrimPrefix(pts.URL, "http://"))
	cfg.WriteString("timing: {request_timeout: 2s, lease: 5s, backoff_base: 400ms, backoff_cap: 1s}\nspaces:\n")
	for _, s := range spaces {
		fmt.Fprintf(&cfg, "  %s:\n    webhook_url: ${%s_HOOK}\n    ingest_token: %s\n    pace: %s\n    coalesce: false\n",
			s.name, strings.ToUpper(s.name), s.token, pace)
	}
	path := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	m, stdout, stderr, stop := startRelay(t, env, regexp.MustCompile(`gchat relay on (http://\S+) `), "--config", path)
	base := m[1]
	waitReady(t, base, "ok")

	// post sends one message of a thread (by key) and returns when the relay
	// has queued it; it may run on any goroutine.
	post := func(s relaySpace, thread, seq int) error {
		u := base + "/v1/spaces/" + s.name + "/messages?key=k&token=" + s.token + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
		body := fmt.Sprintf(`{"text":"thread %d seq %d","thread":{"threadKey":"t%d"}}`, thread, seq, thread)
		resp, err := http.Post(u, "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Gchat-Delivery-State") != "queued" {
			return fmt.Errorf("thread %d seq %d: got %d %q:\n%s", thread, seq, resp.StatusCode, resp.Header.Get("X-Gchat-Delivery-State"), data)
		}
		return nil
	}

	// 8 threads of 10 messages, two per relay space, so the lane AAAAmany2
	// (beta and gamma) carries four threads. Each thread's poster waits for
	// each answer before the next message, so the relay's acceptance order
	// within a thread is seq order; the threads run concurrently.
	const threads, perThread = 8, 10
	spaceOf := func(thread int) relaySpace { return spaces[thread%len(spaces)] }
	var wg sync.WaitGroup
	errs := make(chan error, threads)
	for th := range threads {
		wg.Go(func() {
			for seq := range perThread {
				if err := post(spaceOf(th), th, seq); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	want := map[string]int{} // emulator space → messages
	for th := range threads {
		want[spaceOf(th).lane] += perThread
	}
	for _, lane := range []string{"AAAAmany1", "AAAAmany2", "AAAAmany3"} {
		ms := emulatorMessages(t, api, lane, want[lane])
		if len(ms) != want[lane] {
			t.Errorf("%s holds %d messages, want %d", lane, len(ms), want[lane])
		}
		seen := map[string]bool{}
		next := map[int]int{}          // thread → next seq expected
		threadName := map[int]string{} // thread → the emulator's thread
		for _, msg := range ms {
			var th, seq int
			if _, err := fmt.Sscanf(msg.Text, "thread %d seq %d", &th, &seq); err != nil {
				t.Errorf("%s: unexpected message %q", lane, msg.Text)
				continue
			}
			if seen[msg.Text] {
				t.Errorf("%s: %q delivered twice", lane, msg.Text)
			}
			seen[msg.Text] = true
			if spaceOf(th).lane != lane {
				t.Errorf("%q arrived in %s, want %s", msg.Text, lane, spaceOf(th).lane)
			}
			if seq != next[th] {
				t.Errorf("%s: thread %d got seq %d, want %d: out of acceptance order", lane, th, seq, next[th])
			}
			next[th] = seq + 1
			if name, ok := threadName[th]; ok && name != msg.Thread {
				t.Errorf("thread %d seq %d went to Google thread %s, its first message to %s", th, seq, msg.Thread, name)
			}
			threadName[th] = msg.Thread
		}
	}
	for lane := range want {
		reqs := emulatorRequests(t, api, lane)
		if len(reqs) != want[lane] {
			t.Errorf("%s saw %d requests for %d messages, want one each (coalesce is off, nothing failed)", lane, len(reqs), want[lane])
		}
		for _, r := range reqs {
			if r.Status != 200 {
				t.Errorf("%s: a request answered %d (fault %q)", lane, r.Status, r.Fault)
			}
		}
		checkPace(t, lane, starts(reqs), pace)
	}

	// A thread in 5xx backoff does not hold up another thread of its space.
	// Thread 8 of delta fails with 503 at every attempt until told
	// otherwise, so it keeps backing off (up to backoff_cap, 1 s, 25
	// paces); thread 9, posted meanwhile, must go out regardless. Were the
	// lane held while a thread backs off (as it is, rightly, for a 429),
	// thread 9 would wait out every backoff, or starve behind retries
	// forever.
	delta := spaces[3]
	px.fail("thread 8 ")
	for seq := range 2 {
		if err := post(delta, 8, seq); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "thread 8 failing twice", func() bool { return px.count("thread 8 seq 0", 503) >= 2 })
	posted := time.Now()
	const n9 = 10              // messages of thread 9
	var accepted [n9]time.Time // when the relay answered each of thread 9's posts
	for seq := range accepted {
		if err := post(delta, 9, seq); err != nil {
			t.Fatal(err)
		}
		accepted[seq] = time.Now()
	}
	ms := emulatorMessages(t, api, "AAAAmany3", want["AAAAmany3"]+n9)
	var got []string
	for _, msg := range ms[want["AAAAmany3"]:] {
		got = append(got, msg.Text)
	}
	var wantTexts []string
	for seq := range n9 {
		wantTexts = append(wantTexts, fmt.Sprintf("thread 9 seq %d", seq))
	}
	if !slices.Equal(got, wantTexts) {
		t.Errorf("while thread 8 fails, the emulator got %q, want %q", got, wantTexts)
	}
	// And the lane never idles while thread 9 waits. Message k of thread 9
	// waits from when it is queued and k-1 is answered (the group sends one
	// at a time) until it starts; between two requests of the lane in that
	// time (thread 8's failures included, as the proxy sees them) there is
	// at most a pace, plus slack. A lane that waited out thread 8's
	// backoffs (up to backoff_cap, 1 s) would sit idle after each of
	// them. The first request of each wait is not bounded: it also waits
	// for the relay to record k-1's outcome, which the proxy cannot see.
	// The slack is two paces: under -race on two loaded cores a lane's
	// slot, store writes included, takes up to 90 ms instead of 40. Thread
	// 8 may take several slots in a row: the lane claims the due head of
	// lowest seq, and thread 8's is older whenever its retry is due.
	// Loaded cores have stretched a slot to 170 ms, so the slack is four
	// paces, and the backoff is set long (400 ms to 1 s, full jitter) so
	// that a lane waiting it out would still idle well past the bound.
	const slack = 4 * pace
	// The proxy records a request once the emulator has answered it, so
	// the last message can be in the emulator a moment before its record.
	eventually(t, "the proxy's record of thread 9's last message", func() bool {
		return px.count(fmt.Sprintf("thread 9 seq %d", n9-1), 200) >= 1
	})
	lane := px.log()
	slices.SortFunc(lane, func(a, b proxyRecord) int { return a.start.Compare(b.start) })
	var answered time.Time // thread 9's previous message answered
	for k, queued := range accepted {
		text := fmt.Sprintf("thread 9 seq %d", k)
		i := slices.IndexFunc(lane, func(r proxyRecord) bool { return r.text == text })
		if i < 0 {
			t.Fatalf("the proxy never saw %q", text)
		}
		from := later(queued, answered)
		var last time.Time
		for _, r := range lane[:i+1] {
			if r.start.Before(from) {
				continue
			}
			if gap := r.start.Sub(last); !last.IsZero() && gap > pace+slack {
				t.Errorf("while %q waited (from +%v), the lane started nothing for %v before %q, want at most %v: thread 8's backoff held it\n%s",
					text, from.Sub(posted).Round(time.Millisecond), gap, r.text, pace+slack, px.dump(posted))
			}
			last = r.start
		}
		answered = lane[i].end
	}

	// Thread 8, released, arrives too, in order, and its second message was
	// never sent before the first was accepted.
	px.fail("")
	ms = emulatorMessages(t, api, "AAAAmany3", want["AAAAmany3"]+n9+2)
	got = got[:0]
	for _, msg := range ms[want["AAAAmany3"]+n9:] {
		got = append(got, msg.Text)
	}
	if wantTexts := []string{"thread 8 seq 0", "thread 8 seq 1"}; !slices.Equal(got, wantTexts) {
		t.Errorf("after the fault, the emulator got %q, want %q", got, wantTexts)
	}
	var delivered time.Time // thread 8 seq 0 accepted by the emulator
	for _, r := range px.log() {
		switch {
		case r.text == "thread 8 seq 0" && r.status == 200:
			delivered = r.end
		case r.text == "thread 8 seq 1" && (delivered.IsZero() || r.start.Before(delivered)):
			t.Errorf("thread 8 seq 1 was sent at %v, before seq 0 was delivered (%v)", r.start, delivered)
		}
	}
	// The proxy sees every request of the lane, failed ones included.
	checkPace(t, "AAAAmany3 (at the proxy)", px.starts(), pace)
	checkPace(t, "AAAAmany3", starts(emulatorRequests(t, api, "AAAAmany3")), pace)

	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "msg=delivery_retry") {
		t.Errorf("no delivery_retry logged for thread 8:\n%s", stderr.String())
	}
	out := stdout.String() + stderr.String()
	for _, secret := range []string{"emu-many-token-1", "emu-many-token-2b", "emu-many-token-2c", "emu-many-token-3"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output contains %q", secret)
		}
	}
}

// checkPace fails unless every paceSpan consecutive intervals between
// starts last at least paceSpan-paceTolerance paces.
func checkPace(t *testing.T, what string, starts []time.Time, pace time.Duration) {
	t.Helper()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	least := time.Duration(paceSpan-paceTolerance) * pace
	for i := paceSpan; i < len(starts); i++ {
		if span := starts[i].Sub(starts[i-paceSpan]); span < least {
			t.Errorf("%s: requests %d to %d started within %v, want at least %v (%d paces of %v, less %d)",
				what, i-paceSpan, i, span, least, paceSpan, pace, paceTolerance)
		}
	}
}

// threadFaultProxy forwards webhook requests to the emulator at upstream,
// except that it answers 503 UNAVAILABLE to those whose text contains the
// marker set by fail. It records every request it saw.
type threadFaultProxy struct {
	upstream string

	mu      sync.Mutex
	marker  string
	records []proxyRecord
}

// proxyRecord is one request through the proxy: its text, its status, when
// it arrived and when the answer was known (before it was written back).
type proxyRecord struct {
	text       string
	status     int
	start, end time.Time
}

// fail makes requests whose text contains marker fail; "" fails none.
func (p *threadFaultProxy) fail(marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker = marker
}

func (p *threadFaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := proxyRecord{start: time.Now()}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg struct{ Text string }
	json.Unmarshal(body, &msg)
	rec.text = msg.Text
	p.mu.Lock()
	failing := p.marker != "" && strings.Contains(msg.Text, p.marker)
	p.mu.Unlock()

	status, ctype := http.StatusServiceUnavailable, "application/json; charset=utf-8"
	answer := []byte(`{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`)
	if !failing {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		status, ctype = resp.StatusCode, resp.Header.Get("Content-Type")
	}
	rec.status, rec.end = status, time.Now()
	p.mu.Lock()
	p.records = append(p.records, rec)
	p.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	w.Write(answer)
}

// log returns the requests seen, in the order they were answered.
func (p *threadFaultProxy) log() []proxyRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.records)
}

// dump lists the requests seen since t0, for a failure message.
func (p *threadFaultProxy) dump(t0 time.Time) string {
	var b strings.Builder
	for _, r := range p.log() {
		if !r.start.Before(t0) {
			fmt.Fprintf(&b, "  +%v..+%v %d %q\n", r.start.Sub(t0).Round(time.Millisecond), r.end.Sub(t0).Round(time.Millisecond), r.status, r.text)
		}
	}
	return b.String()
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// count counts the requests whose text contains substr answered status.
func (p *threadFaultProxy) count(substr string, status int) int {
	n := 0
	for _, r := range p.log() {
		if strings.Contains(r.text, substr) && r.status == status {
			n++
		}
	}
	return n
}

// starts returns when each request arrived.
func (p *threadFaultProxy) starts() []time.Time {
	var ts []time.Time
	for _, r := range p.log() {
		ts = append(ts, r.start)
	}
	return ts
}

// emulatorMessage is what the tests read of a message in the emulator.
type emulatorMessage struct {
	Text   string
	Thread string // the emulator's thread name
}

// emulatorMessages waits, through the emulator's API at api, until the
// space holds n messages, and returns them oldest first.
func emulatorMessages(t *testing.T, api, space string, n int) []emulatorMessage {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/spaces/%s/messages?wait=%d&timeout=10s", api, space, n))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Messages []struct {
			Thread struct{ Name string } `json:"thread"`
			Body   struct {
				Text string `json:"text"`
			} `json:"body"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("emulator messages: %v", err)
	}
	ms := make([]emulatorMessage, len(got.Messages))
	for i, m := range got.Messages {
		ms[i] = emulatorMessage{Text: m.Body.Text, Thread: m.Thread.Name}
	}
	if len(ms) < n {
		t.Fatalf("%s holds %d messages %+v, want %d", space, len(ms), ms, n)
	}
	return ms
}

// emulatorRequest is what the tests read of the emulator's record of one
// webhook request.
type emulatorRequest struct {
	Start  time.Time `json:"start"`
	Status int       `json:"status"`
	Fault  string    `json:"fault"`
}

// emulatorRequests returns the webhook requests the emulator at api
// recorded for space.
func emulatorRequests(t *testing.T, api, space string) []emulatorRequest {
	t.Helper()
	resp, err := http.Get(api + "/spaces/" + space + "/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Requests []emulatorRequest }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("emulator requests of %s: %d %v", space, resp.StatusCode, err)
	}
	return got.Requests
}

func starts(reqs []emulatorRequest) []time.Time {
	ts := make([]time.Time, len(reqs))
	for i, r := range reqs {
		ts[i] = r.Start
	}
	return ts
}

// eventually polls cond every 10 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRelayDemoLeaksNoSecret drives the demo through a delivery, a failed
// attempt without an answer (a reset connection: its error is a *url.Error,
// which names the URL unless scrubbed), a 429 that pauses the space, and
// refused requests, then reads everything the relay shows: /metrics, the
// admin API, the error answers and its output. None may hold the webhook
// URL the relay posts to or its token. The demo prints its own ingest and
// admin tokens, by design, but only in its start-up lines.
func TestRelayDemoLeaksNoSecret(t *testing.T) {
	m, stdout, stderr, stop := startRelay(t, map[string]string{"PWD": t.TempDir()}, curlLine, "--listen", "127.0.0.1:0")
	ingest, base := m[1], "http://"+m[2]
	emuAPI := base + "/emulator/api/v1"
	space := spaceID("demo")
	waitReady(t, base, "demo")
	startup := stdout.String()
	admin := regexp.MustCompile(`Authorization: Bearer ([0-9a-f]+)`).FindStringSubmatch(startup)
	if admin == nil {
		t.Fatalf("no admin token printed:\n%s", startup)
	}
	adminToken := admin[1]
	iu, err := url.Parse(ingest)
	if err != nil {
		t.Fatal(err)
	}
	ingestToken := iu.Query().Get("token")

	token := emulatorWebhookToken(t, emuAPI)
	hookURL := emulatorWebhookURL(t, emuAPI)
	hu, err := url.Parse(hookURL)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"webhook token": token}
	for name, secret := range map[string]string{"webhook URL": hookURL, "webhook query": hu.RawQuery} {
		secrets[name] = secret
		// JSON answers write & as \u0026.
		quoted, _ := json.Marshal(secret)
		secrets[name+" in JSON"] = strings.Trim(string(quoted), `"`)
	}

	// Everything the relay answers or exposes, by where it came from.
	seen := map[string]string{}
	show := func(what string, resp *http.Response, body string) {
		seen[what] = fmt.Sprintf("%d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	adminGet := func(path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		show("GET "+path+" at "+time.Now().Format(time.StampMicro), resp, string(body))
		return string(body)
	}
	setFault := func(faults string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, emuAPI+"/faults", strings.NewReader(`{"spaces":{"`+space+`":`+faults+`}}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("set faults %s: %d\n%s", faults, resp.StatusCode, body)
		}
	}
	faultSeen := func(fault string) func() bool {
		return func() bool {
			for _, r := range emulatorRequests(t, emuAPI, space) {
				if r.Fault == fault {
					return true
				}
			}
			return false
		}
	}
	delivery := func(id string) (d struct {
		State     string
		Attempts  int
		LastError string
	}) {
		t.Helper()
		if err := json.Unmarshal([]byte(adminGet("/api/v1/deliveries/"+id)), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}

	resp, body := postJSON(t, ingest, `{"text":"first"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: got %d:\n%s", resp.StatusCode, body)
	}
	show("ingest first", resp, body)
	first := resp.Header.Get("X-Gchat-Delivery-Id")
	waitMessages(t, emuAPI, space, 1)

	// The next attempt gets its connection reset, the one after it a 429.
	setFault(`{"reset":1}`)
	resp, body = postJSON(t, ingest, `{"text":"through faults"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: got %d:\n%s", resp.StatusCode, body)
	}
	show("ingest through faults", resp, body)
	faulted := resp.Header.Get("X-Gchat-Delivery-Id")
	eventually(t, "a reset attempt", faultSeen("reset"))
	setFault(`{"rate429":1}`)
	eventually(t, "the reset recorded", func() bool { return delivery(faulted).LastError != "" })
	if d := delivery(faulted); d.State != "queued" || d.Attempts != 1 {
		t.Errorf("after the reset: delivery %+v, want queued after 1 attempt", d)
	}
	adminGet("/api/v1/deliveries")
	eventually(t, "a 429 attempt", faultSeen("429"))
	eventually(t, "the pause recorded", func() bool { return strings.Contains(adminGet("/api/v1/spaces"), `"pauseReason"`) })
	setFault(`null`)
	waitMessages(t, emuAPI, space, 2)
	eventually(t, "the delivery done", func() bool { return delivery(faulted).State == "done" })

	// Refused requests: each answer is checked too.
	for what, u := range map[string]string{
		"ingest bad JSON":      ingest,
		"ingest wrong token":   strings.Replace(ingest, ingestToken, strings.Repeat("0", len(ingestToken)), 1),
		"ingest unknown space": strings.Replace(ingest, "/spaces/demo/", "/spaces/nope/", 1),
	} {
		body := `{"text":`
		if what != "ingest bad JSON" {
			body = `{"text":"refused"}`
		}
		resp, answer := postJSON(t, u, body)
		if resp.StatusCode < 400 {
			t.Errorf("%s: got %d, want a refusal", what, resp.StatusCode)
		}
		show(what, resp, answer)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/deliveries", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	show("admin wrong token", resp, string(answer))

	adminGet("/api/v1/deliveries")
	adminGet("/api/v1/deliveries/" + first)
	adminGet("/api/v1/deliveries/" + faulted)
	adminGet("/api/v1/deliveries/nope")
	adminGet("/api/v1/dead")
	adminGet("/api/v1/spaces")
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	answer, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	show("GET /metrics", resp, string(answer))

	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil\nstderr:\n%s", err, stderr.String())
	}
	seen["stdout"], seen["stderr"] = stdout.String(), stderr.String()
	// The checks have something to look at: the failures were logged and
	// recorded with their reasons.
	for _, want := range []string{"msg=delivery_retry", "msg=space_throttled"} {
		if !strings.Contains(seen["stderr"], want) {
			t.Errorf("stderr has no %s:\n%s", want, seen["stderr"])
		}
	}

	tokens := map[string]string{"ingest token": ingestToken, "admin token": adminToken}
	for what, text := range seen {
		var found []string
		for name, secret := range secrets {
			if strings.Contains(text, secret) {
				found = append(found, "the "+name)
			}
		}
		if what == "stdout" {
			text = strings.TrimPrefix(text, startup) // the start-up lines name them
		}
		for name, secret := range tokens {
			if strings.Contains(text, secret) {
				found = append(found, "the demo's "+name+" (beyond the start-up lines)")
			}
		}
		if len(found) > 0 {
			slices.Sort(found)
			t.Errorf("%s contains %s:\n%s", what, strings.Join(found, ", "), text)
		}
	}
	if len(startup) == 0 || !strings.HasPrefix(seen["stdout"], startup) {
		t.Errorf("stdout does not begin with the start-up lines:\n%s", seen["stdout"])
	}
}

// emulatorWebhookURL returns the URL of the emulator's first webhook.
func emulatorWebhookURL(t *testing.T, api string) string {
	t.Helper()
	resp, err := http.Get(api + "/spaces")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Spaces []struct {
			Webhooks []struct{ URL string } `json:"webhooks"`
		} `json:"spaces"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Spaces) == 0 || len(got.Spaces[0].Webhooks) == 0 {
		t.Fatalf("emulator spaces: %v %+v", err, got)
	}
	return got.Spaces[0].Webhooks[0].URL
}
