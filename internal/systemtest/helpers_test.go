package systemtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envSystemTests switches the tests on; without it they skip, so that the
// README's go test ./... stays fast.
const envSystemTests = "GCHAT_SYSTEM_TESTS"

// build is the gchat binary, built once per test run. It is the package's
// only mutable state: TestMain removes its directory.
var build struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// binary returns the path of the gchat binary, built without -race (two
// cores are shared by several processes), or skips the test unless
// GCHAT_SYSTEM_TESTS=1.
func binary(t *testing.T) string {
	t.Helper()
	if os.Getenv(envSystemTests) != "1" {
		t.Skipf("system test (starts emulator and relay processes): runs in its own CI step, %s=1 go test -p 1 ./internal/systemtest/", envSystemTests)
	}
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "gchat-systemtest-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "gchat")
		out, err := exec.Command("go", "build", "-o", build.path, "github.com/gchatkit/gchat/cmd/gchat").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build ./cmd/gchat: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// syncBuffer collects a process's output; it is written by exec's copying
// goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one running process of the gchat binary.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// startProc starts bin with args, its stdout and stderr going to out. The
// test's cleanup stops it (SIGTERM, then SIGKILL after 5 s) if still running.
func startProc(t *testing.T, out io.Writer, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = t.TempDir() // no gchat.yaml here
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(args[:1], " "), err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p
}

// stop ends the process gracefully, or kills it after 5 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// kill is kill -9, and waits until the process is gone.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// logOnFailure prints the tail of a process's output when the test fails.
func logOnFailure(t *testing.T, name string, out *syncBuffer) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		s := out.String()
		if len(s) > 12000 {
			s = "…" + s[len(s)-12000:]
		}
		t.Logf("%s output:\n%s", name, s)
	})
}

// waitFor polls cond every 100 ms until it holds, failing the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// freeAddr returns a loopback address with a port free at the time of the
// call; the relay keeps it across restarts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

// doJSON sends body (nil for none) as JSON and decodes a JSON answer into
// out (nil to discard). bearer, when set, is the admin token.
func doJSON(ctx context.Context, method, u, bearer string, body, out any) (int, http.Header, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: %s: %s", method, redact(u), resp.Status, bytes.TrimSpace(data))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("%s %s: decode answer: %v", method, redact(u), err)
		}
	}
	return resp.StatusCode, resp.Header, nil
}

// mustJSON is doJSON failing the test on any error or non-2xx answer.
func mustJSON(t *testing.T, method, u, bearer string, body, out any) {
	t.Helper()
	if _, _, err := doJSON(t.Context(), method, u, bearer, body, out); err != nil {
		t.Fatal(err)
	}
}

var tokenParam = regexp.MustCompile(`token=[^&\s]*`)

func redact(u string) string { return tokenParam.ReplaceAllString(u, "token=REDACTED") }

// emulator is a running `gchat emulator` process.
type emulator struct {
	base string // http://127.0.0.1:PORT
	host string // 127.0.0.1:PORT
	out  *syncBuffer
	p    *proc
}

var pageLine = regexp.MustCompile(`page: (http://[^/\s]+)/`)

// startEmulator starts an emulator on a free port with args and waits until
// it is ready.
func startEmulator(t *testing.T, args ...string) *emulator {
	t.Helper()
	e := &emulator{out: &syncBuffer{}}
	logOnFailure(t, "emulator", e.out)
	e.p = startProc(t, e.out, binary(t), append([]string{"emulator", "--listen", "127.0.0.1:0"}, args...)...)
	waitFor(t, 15*time.Second, "the emulator's address", func() bool {
		if e.p.exited() {
			t.Fatalf("emulator exited: %s", e.out)
		}
		m := pageLine.FindStringSubmatch(e.out.String())
		if m != nil {
			e.base = m[1]
		}
		return m != nil
	})
	e.host = strings.TrimPrefix(e.base, "http://")
	waitFor(t, 15*time.Second, "the emulator's /readyz", func() bool {
		status, _, _ := doJSON(t.Context(), "GET", e.base+"/readyz", "", nil, nil)
		return status == http.StatusOK
	})
	return e
}

type emuWebhook struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

type emuSpace struct {
	ID          string       `json:"id"`
	DisplayName string       `json:"displayName"`
	Webhooks    []emuWebhook `json:"webhooks"`
}

// spaces returns the emulator's spaces by display name.
func (e *emulator) spaces(t *testing.T) map[string]emuSpace {
	t.Helper()
	var list struct{ Spaces []emuSpace }
	mustJSON(t, "GET", e.base+"/api/v1/spaces", "", nil, &list)
	m := make(map[string]emuSpace)
	for _, s := range list.Spaces {
		m[s.DisplayName] = s
	}
	return m
}

type emuMessage struct {
	Name   string `json:"name"`
	Thread struct {
		Name      string `json:"name"`
		ThreadKey string `json:"threadKey"`
	} `json:"thread"`
	ThreadReply bool      `json:"threadReply"`
	CreateTime  time.Time `json:"createTime"`
	RequestID   string    `json:"requestId"`
	Body        struct {
		Text string `json:"text"`
	} `json:"body"`
}

// messages returns the space's messages oldest first, waiting up to timeout
// until there are at least wait of them; it fails the test if there are
// fewer.
func (e *emulator) messages(t *testing.T, space string, wait int, timeout time.Duration) []emuMessage {
	t.Helper()
	var list struct{ Messages []emuMessage }
	u := fmt.Sprintf("%s/api/v1/spaces/%s/messages?wait=%d&timeout=%s", e.base, space, wait, timeout)
	mustJSON(t, "GET", u, "", nil, &list)
	if len(list.Messages) < wait {
		t.Fatalf("space %s: got %d messages within %s, want at least %d", space, len(list.Messages), timeout, wait)
	}
	return list.Messages
}

// waitMarks polls the spaces' messages until they carry at least want
// distinct marks, and returns them. Marks, not messages, are counted: the
// relay may merge a thread's backlog into one message.
func (e *emulator) waitMarks(t *testing.T, timeout time.Duration, want int, spaces ...string) delivered {
	t.Helper()
	var got delivered
	waitFor(t, timeout, fmt.Sprintf("%d messages", want), func() bool {
		var lists [][]emuMessage
		for _, s := range spaces {
			lists = append(lists, e.messages(t, s, 0, time.Second))
		}
		got = collect(lists...)
		return len(got.copies) >= want
	})
	return got
}

// nextMessageEvent returns as soon as the emulator announces a new message
// on its event stream (within 30 s).
// nextMessageEvent waits up to wait for the emulator's next message event and
// reports whether one came (none comes once everything is delivered, which
// coalescing can make early).
func (e *emulator) nextMessageEvent(t *testing.T, wait time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", e.base+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() == "event: message" {
			return true
		}
	}
	return false
}

type emuRequest struct {
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"durationMs"`
	Status     int       `json:"status"`
	Fault      string    `json:"fault"`
	Webhook    string    `json:"webhook"`
}

func (r emuRequest) end() time.Time {
	return r.Start.Add(time.Duration(r.DurationMs * float64(time.Millisecond)))
}

// requests returns the webhook requests the space received, by start.
func (e *emulator) requests(t *testing.T, space string) []emuRequest {
	t.Helper()
	var list struct{ Requests []emuRequest }
	mustJSON(t, "GET", e.base+"/api/v1/spaces/"+space+"/requests", "", nil, &list)
	slices.SortFunc(list.Requests, func(a, b emuRequest) int { return a.Start.Compare(b.Start) })
	return list.Requests
}

// faults counts the space's webhook requests that got the given fault.
func (e *emulator) faults(t *testing.T, space, fault string) int {
	t.Helper()
	n := 0
	for _, r := range e.requests(t, space) {
		if r.Fault == fault {
			n++
		}
	}
	return n
}

// byStatus returns the emulator's webhook answers by status.
func (e *emulator) byStatus(t *testing.T) map[string]int {
	t.Helper()
	var stats struct{ ByStatus map[string]int }
	mustJSON(t, "GET", e.base+"/api/v1/stats", "", nil, &stats)
	return stats.ByStatus
}

// relaySpace is one space of a relay's configuration.
type relaySpace struct {
	Name    string
	Webhook string // the emulator's webhook URL
	Token   string // ingest token; set by startRelay when empty
	Pace    time.Duration
	// NoCoalesce turns coalescing off, so that each message is a request.
	NoCoalesce bool
}

// relay is a `gchat relay` with a configuration file and an SQLite store,
// which can be killed and started again on the same store and port.
type relay struct {
	t      *testing.T
	addr   string // 127.0.0.1:PORT, the same across restarts
	admin  string // admin token
	config string // path of the configuration file
	store  string // path of the SQLite store
	spaces []*relaySpace
	// operator names the space that gets operator notices, "" for none.
	operator string
	// emuHost is the emulator's host:port, the relay's allowed host.
	emuHost string
	// extra is appended to the configuration file (server limits, routes).
	extra string
	out   *syncBuffer // output of every run, separated by "=== run N"
	p     *proc
	runs  int
}

// startRelay writes a configuration for spaces, posting to the emulator at
// emuHost, and starts the relay.
func startRelay(t *testing.T, emuHost string, spaces ...*relaySpace) *relay {
	t.Helper()
	return startRelayWith(t, emuHost, "", spaces...)
}

// startRelayWith is startRelay with operator notices going to the relay
// space named operator ("" for none).
func startRelayWith(t *testing.T, emuHost, operator string, spaces ...*relaySpace) *relay {
	t.Helper()
	return startRelayExtra(t, emuHost, operator, "", spaces...)
}

// startRelayExtra is startRelayWith with extra appended to the
// configuration file.
func startRelayExtra(t *testing.T, emuHost, operator, extra string, spaces ...*relaySpace) *relay {
	t.Helper()
	dir := t.TempDir()
	r := &relay{t: t, addr: freeAddr(t), admin: randomHex(16), config: filepath.Join(dir, "relay.yaml"),
		store: filepath.Join(dir, "relay.db"), emuHost: emuHost, out: &syncBuffer{}, extra: extra}
	logOnFailure(t, "relay", r.out)
	for _, s := range spaces {
		if s.Token == "" {
			s.Token = randomHex(16)
		}
	}
	r.spaces = spaces
	r.operator = operator
	r.writeConfig()
	r.start()
	return r
}

// writeConfig writes the relay's configuration file from r.spaces; a
// running relay reads it when started again.
func (r *relay) writeConfig() {
	r.t.Helper()
	var b strings.Builder
	// A short lease, so that a killed relay's spaces are taken over in
	// seconds rather than a minute.
	// Backoff starts at a tenth of a second and stays under two, so that
	// a thread in 5xx backoff catches up within the tests' waits.
	fmt.Fprintf(&b, "listen: %s\nstore: %s\nadmin_token: %s\nallowed_hosts: [%q]\n"+
		"timing:\n  request_timeout: 2s\n  lease: 5s\n  backoff_base: 100ms\n  backoff_cap: 2s\n",
		strconv.Quote(r.addr), strconv.Quote("sqlite:"+r.store), r.admin, r.emuHost)
	if r.operator != "" {
		fmt.Fprintf(&b, "operator: %s\n", r.operator)
	}
	b.WriteString("spaces:\n")
	for _, s := range r.spaces {
		fmt.Fprintf(&b, "  %s:\n    webhook_url: %s\n    ingest_token: %s\n    pace: %s\n",
			s.Name, strconv.Quote(s.Webhook), s.Token, s.Pace)
		if s.NoCoalesce {
			b.WriteString("    coalesce: false\n")
		}
	}
	b.WriteString(r.extra)
	if err := os.WriteFile(r.config, []byte(b.String()), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// space returns the configured space called name.
func (r *relay) space(name string) *relaySpace {
	for _, s := range r.spaces {
		if s.Name == name {
			return s
		}
	}
	r.t.Fatalf("no relay space %q", name)
	return nil
}

// start runs the relay and waits until /readyz answers.
func (r *relay) start() {
	t := r.t
	t.Helper()
	r.runs++
	fmt.Fprintf(r.out, "=== run %d\n", r.runs)
	r.p = startProc(t, r.out, binary(t), "relay", "--config", r.config)
	waitFor(t, 15*time.Second, "the relay's /readyz", func() bool {
		if r.p.exited() {
			t.Fatalf("relay exited")
		}
		status, _, _ := doJSON(t.Context(), "GET", "http://"+r.addr+"/readyz", "", nil, nil)
		return status == http.StatusOK
	})
}

// kill is kill -9 of the running relay.
func (r *relay) kill() { r.p.kill() }

// restart stops the relay gracefully (SIGTERM: it drains and releases its
// leases) and starts it again, with the configuration file as it is now.
func (r *relay) restart() {
	r.p.stop()
	r.start()
}

// post sends msg to the relay's ingest for space, with extra query
// parameters, and returns the answer's status and delivery id.
func (r *relay) post(ctx context.Context, space string, query url.Values, msg any) (int, string, error) {
	s := r.space(space)
	q := url.Values{"key": {"systemtest"}, "token": {s.Token}}
	for k, v := range query {
		q[k] = v
	}
	u := fmt.Sprintf("http://%s/v1/spaces/%s/messages?%s", r.addr, space, q.Encode())
	status, h, err := doJSON(ctx, "POST", u, "", msg, nil)
	if err != nil {
		return status, "", err
	}
	return status, h.Get("X-Gchat-Delivery-Id"), nil
}

// api calls the relay's admin API.
func (r *relay) api(t *testing.T, method, path string, out any) {
	t.Helper()
	mustJSON(t, method, "http://"+r.addr+path, r.admin, nil, out)
}

type relayDelivery struct {
	ID         string `json:"id"`
	Space      string `json:"space"`
	Seq        int64  `json:"seq"`
	State      string `json:"state"`
	Attempts   int    `json:"attempts"`
	LastStatus int    `json:"lastStatus"`
	LastError  string `json:"lastError"`
}

// deliveries lists the relay's deliveries of a space (at most 1,000).
func (r *relay) deliveries(t *testing.T, space string) []relayDelivery {
	t.Helper()
	var list struct{ Deliveries []relayDelivery }
	r.api(t, "GET", "/api/v1/deliveries?limit=1000&space="+space, &list)
	return list.Deliveries
}

// A mark identifies a test message: its text carries "[m LABEL N]", where
// LABEL names the relay space and thread and N numbers it in the label.
// A merged (coalesced) message carries several marks.
type mark struct {
	label string
	n     int
}

func (m mark) text() string { return fmt.Sprintf("[m %s %d]", m.label, m.n) }

var markRE = regexp.MustCompile(`\[m ([^ \]]+) (\d+)\]`)

// marks returns the marks in a message's text, in order.
func marks(text string) []mark {
	var ms []mark
	for _, m := range markRE.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[2])
		ms = append(ms, mark{m[1], n})
	}
	return ms
}

// delivered is what the emulator shows of the test's messages: for each
// label, the numbers in the order they arrived (duplicates included), and
// how often each mark arrived.
type delivered struct {
	order  map[string][]int
	copies map[mark]int
	thread map[mark]emuMessage // the (last) message that carried the mark
	// repeats counts messages all of whose marks had arrived before: one
	// per request posted twice, whether it carried one message or a
	// coalesced batch of several.
	repeats int
}

func collect(msgs ...[]emuMessage) delivered {
	d := delivered{order: map[string][]int{}, copies: map[mark]int{}, thread: map[mark]emuMessage{}}
	for _, list := range msgs {
		for _, m := range list {
			ks := marks(m.Body.Text)
			repeat := len(ks) > 0
			for _, k := range ks {
				repeat = repeat && d.copies[k] > 0
			}
			if repeat {
				d.repeats++ // a request posted again: a message or a whole coalesced batch
			}
			for _, k := range ks {
				d.order[k.label] = append(d.order[k.label], k.n)
				d.copies[k]++
				d.thread[k] = m
			}
		}
	}
	return d
}

// firsts drops repeated numbers, keeping first arrivals in order.
func firsts(ns []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// minGap returns the least interval between consecutive request starts.
func minGap(rs []emuRequest) time.Duration {
	gap := time.Duration(-1)
	for i := 1; i < len(rs); i++ {
		if d := rs[i].Start.Sub(rs[i-1].Start); gap < 0 || d < gap {
			gap = d
		}
	}
	return gap
}

// threadQuery asks for a reply in the message's thread, else a new one:
// without an explicit option Google (and the relay) start a new thread.
var threadQuery = url.Values{"messageReplyOption": {"REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"}}

// message is a text message with a mark, in the thread with key threadKey
// ("" for none).
func message(m mark, threadKey string) map[string]any {
	msg := map[string]any{"text": m.text() + " system test message"}
	if threadKey != "" {
		msg["thread"] = map[string]string{"threadKey": threadKey}
	}
	return msg
}
