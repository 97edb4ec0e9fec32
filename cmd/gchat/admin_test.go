package main

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/relay"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// adminTestToken is the admin token of the test relays; assertNoCanary
// fails any output that contains it.
const adminTestToken = "CANARYtoken-admin-0123456789"

// adminNow is the relay's clock when the commands run: the store's clock
// and every answer's Date header, so that ages in the golden files are fixed.
var adminNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Google spaces (lanes) of the test relay's spaces.
const (
	alertsLane = "AAAAalerts01"
	opsLane    = "AAAAops00001"
)

// adminRelay is a relay's admin API under test: relay.NewServer on a real
// SQLite store, behind an httptest server, with a clock the test sets.
type adminRelay struct {
	url      string
	store    *sqlite.Store
	requests atomic.Int32 // admin API requests answered

	mu  sync.Mutex
	now time.Time
}

// newAdminRelay starts a relay with spaces "alerts" and "ops" and the given
// admin token ("" disables the admin API).
func newAdminRelay(t *testing.T, adminToken string) *adminRelay {
	t.Helper()
	r := &adminRelay{now: adminNow}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{Now: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.store = st
	cfg := &config.Config{Listen: "127.0.0.1:0", Store: "sqlite:relay.db", AdminToken: config.Secret(adminToken)}
	for name, lane := range map[string]string{"alerts": alertsLane, "ops": opsLane} {
		hook, err := gchat.ParseWebhook("https://chat.googleapis.com/v1/spaces/" + lane + "/messages?key=k&token=" + canary)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Spaces = append(cfg.Spaces, config.NewSpace(name, hook))
	}
	srv := relay.NewServer(cfg, st, nil, nil, relay.Options{Listen: cfg.Listen})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		w.Header().Set("Date", r.clock().Format(http.TimeFormat))
		srv.ServeHTTP(w, req)
	}))
	t.Cleanup(ts.Close)
	r.url = ts.URL
	return r
}

func (r *adminRelay) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *adminRelay) setClock(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = t
}

// env is the environment of a command against this relay.
func (r *adminRelay) env() map[string]string {
	return map[string]string{"GCHAT_RELAY": r.url, "GCHAT_ADMIN_TOKEN": adminTestToken}
}

// enqueue stores n messages of space at the relay's clock and returns their ids.
func (r *adminRelay) enqueue(t *testing.T, space, lane string, texts ...string) []string {
	t.Helper()
	req := store.EnqueueRequest{Space: space, Lane: lane}
	for _, text := range texts {
		msg, _ := json.Marshal(map[string]string{"text": text})
		req.Deliveries = append(req.Deliveries, store.NewDelivery{Message: msg})
	}
	res, err := r.store.Enqueue(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res.Deliveries))
	for i, d := range res.Deliveries {
		ids[i] = d.ID
	}
	return ids
}

// kill plays the dispatcher: it claims the head of lane, which must be id,
// and gives up on it.
func (r *adminRelay) kill(t *testing.T, lane, id string, status int, reason string) {
	t.Helper()
	ctx := t.Context()
	lease, err := r.store.AcquireLease(ctx, store.LeaseRequest{Lane: lane, Owner: "test", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := r.store.Claim(ctx, lease, 1)
	if err != nil || len(claimed) != 1 || claimed[0].ID != id {
		t.Fatalf("claim %s: got %v, %v", id, claimed, err)
	}
	if _, err := r.store.Finish(ctx, lease, id, store.Outcome{State: store.StateDead, Status: status, Error: reason}); err != nil {
		t.Fatal(err)
	}
	if err := r.store.ReleaseLease(ctx, lease); err != nil {
		t.Fatal(err)
	}
}

// seed fills the relay with three dead letters and a queued delivery, of
// fixed ages, and sets the clock to adminNow. It returns their ids.
func (r *adminRelay) seed(t *testing.T) (dead1, dead2, dead3, queued string) {
	t.Helper()
	r.setClock(adminNow.Add(-75 * time.Hour))
	dead1 = r.enqueue(t, "alerts", alertsLane, "Disk full on db-1")[0]
	r.kill(t, alertsLane, dead1, 400, `400 INVALID_ARGUMENT: Invalid JSON payload received. Unknown name "body" at 'message': Cannot find field.`)
	r.setClock(adminNow.Add(-5 * time.Hour))
	dead2 = r.enqueue(t, "ops", opsLane, "Deploy v1.2.3")[0]
	r.kill(t, opsLane, dead2, 0, "gave up after 5 attempts:\ndial tcp: lookup chat.googleapis.com: no such host")
	r.setClock(adminNow.Add(-90 * time.Minute))
	dead3 = r.enqueue(t, "alerts", alertsLane, "CPU high on web-2")[0]
	r.kill(t, alertsLane, dead3, 404, "404 NOT_FOUND: the webhook was deleted")
	r.setClock(adminNow.Add(-42 * time.Second))
	queued = r.enqueue(t, "alerts", alertsLane, "Still waiting")[0]
	r.setClock(adminNow)
	return dead1, dead2, dead3, queued
}

// requestIDs matches the random request ids the store assigns, masked in
// the golden files.
var requestIDs = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

func TestAdminHelp(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"deliveries-help.golden", []string{"deliveries", "--help"}},
		{"deliveries-help.golden", []string{"help", "deliveries"}},
		{"deliveries-get-help.golden", []string{"deliveries", "get", "-h"}},
		{"dead-help.golden", []string{"dead", "--help"}},
		{"dead-help.golden", []string{"dead", "list", "--help"}},
		{"dead-replay-help.golden", []string{"dead", "replay", "--help"}},
		{"admin-resume-help.golden", []string{"resume", "--help"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, t.Context(), nil, "", tc.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", r.code, r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

// TestAdminOutput checks the table and JSON forms against golden files.
func TestAdminOutput(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	dead1, _, _, _ := rel.seed(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"deliveries-table.golden", []string{"deliveries"}},
		{"deliveries-filtered.golden", []string{"deliveries", "--space", "alerts", "--state", "queued,dead"}},
		{"deliveries-get.golden", []string{"deliveries", "get", dead1}},
		{"deliveries-get-json.golden", []string{"deliveries", "get", "--json", dead1}},
		{"deliveries-empty.golden", []string{"deliveries", "--state", "done"}},
		{"dead-list.golden", []string{"dead", "list"}},
		{"dead-list-json.golden", []string{"dead", "list", "--space", "ops", "--json"}},
		{"dead-list-empty.golden", []string{"dead", "list", "--space", "nobody"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, t.Context(), rel.env(), "", tc.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", r.code, r.stderr)
			}
			assertNoCanary(t, r)
			golden(t, tc.golden, requestIDs.ReplaceAllString(r.stdout, "REQUEST-ID"))
		})
	}
}

func TestAdminPaging(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	texts := make([]string, 250)
	for i := range texts {
		texts[i] = "message"
	}
	ids := rel.enqueue(t, "alerts", alertsLane, texts...)

	for _, tc := range []struct {
		name     string
		args     []string
		rows     int
		more     bool
		requests int32
	}{
		{"all", []string{"--limit", "0"}, 250, false, 3},              // 100, 100, 50
		{"default limit", nil, 100, true, 2},                          // 100, then 1 to learn there are more
		{"limit within a page", []string{"--limit", "7"}, 7, true, 1}, // 8
		{"limit across pages", []string{"--limit", "120"}, 120, true, 2},
		{"limit at the end", []string{"--limit", "250"}, 250, false, 3},
		{"limit past the end", []string{"--limit", "900"}, 250, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel.requests.Store(0)
			r := runCLI(t, t.Context(), rel.env(), "", append([]string{"deliveries"}, tc.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if got := len(lines) - 1; got != tc.rows {
				t.Errorf("got %d rows, want %d", got, tc.rows)
			}
			if got := strings.Contains(r.stderr, "there are more (--limit 0 shows all)"); got != tc.more {
				t.Errorf("says there are more: %v, want %v; stderr %q", got, tc.more, r.stderr)
			}
			if got := rel.requests.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}

			// --json gathers the same deliveries, and next is the cursor
			// after the last one shown when there are more.
			r = runCLI(t, t.Context(), rel.env(), "", append([]string{"deliveries", "--json"}, tc.args...)...)
			var got struct {
				Deliveries []struct{ ID string }
				Next       *string
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != exitOK {
				t.Fatalf("exit %d, %v:\n%s", r.code, err, r.stdout)
			}
			if len(got.Deliveries) != tc.rows || got.Deliveries[0].ID != ids[0] || got.Deliveries[tc.rows-1].ID != ids[tc.rows-1] {
				t.Errorf("got %d deliveries, want %d from %s", len(got.Deliveries), tc.rows, ids[0])
			}
			switch {
			case tc.more && (got.Next == nil || *got.Next != ids[tc.rows-1]):
				t.Errorf("next %v, want %s", got.Next, ids[tc.rows-1])
			case !tc.more && got.Next != nil:
				t.Errorf("next %q, want none", *got.Next)
			}
		})
	}
}

func TestAdminDeadReplayDrop(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	dead1, dead2, dead3, queued := rel.seed(t)
	ctx := t.Context()
	state := func(id string) store.State {
		t.Helper()
		d, err := rel.store.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "deleted"
		}
		if err != nil {
			t.Fatal(err)
		}
		return d.State
	}

	r := runCLI(t, ctx, rel.env(), "", "dead", "replay", dead1)
	if r.code != exitOK || r.stdout != "replayed "+dead1+": queued in space alerts\n" {
		t.Errorf("replay: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if s := state(dead1); s != store.StateQueued {
		t.Errorf("replayed delivery is %s, want queued", s)
	}
	assertNoCanary(t, r)

	r = runCLI(t, ctx, rel.env(), "", "dead", "drop", dead2)
	if r.code != exitOK || r.stdout != "dropped "+dead2+"\n" {
		t.Errorf("drop: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if s := state(dead2); s != "deleted" {
		t.Errorf("dropped delivery is %s, want deleted", s)
	}

	// Several ids: the good one is replayed, the others reported, exit 2.
	r = runCLI(t, ctx, rel.env(), "", "dead", "replay", "d9999", dead3, queued)
	if r.code != exitNoSuch {
		t.Errorf("exit %d, want %d", r.code, exitNoSuch)
	}
	if r.stdout != "replayed "+dead3+": queued in space alerts\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	for _, want := range []string{
		"gchat: replay d9999: the relay answered HTTP 404 NOT_FOUND",
		"gchat: replay " + queued + ": the relay answered HTTP 409 ABORTED",
		"gchat: dead replay: 2 of 3 failed",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if s := state(queued); s != store.StateQueued {
		t.Errorf("queued delivery is %s after a refused replay", s)
	}
	assertNoCanary(t, r)
}

func TestAdminResume(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	ctx := t.Context()
	if err := rel.store.PauseLane(ctx, alertsLane, store.Pause{Reason: "404 webhook deleted"}); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, ctx, rel.env(), "", "resume", "alerts")
	if r.code != exitOK || r.stdout != "resumed space alerts\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	lanes, err := rel.store.LaneStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lanes {
		if l.Lane == alertsLane && l.Pause != (store.Pause{}) {
			t.Errorf("lane still paused: %+v", l.Pause)
		}
	}
}

func TestAdminExitCodes(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	_, _, _, queued := rel.seed(t)
	disabled := newAdminRelay(t, "")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String()
	closed.Close()

	dir := t.TempDir()
	goodFile := filepath.Join(dir, "token")
	os.WriteFile(goodFile, []byte(adminTestToken+"\n"), 0o600)
	wrongFile := filepath.Join(dir, "wrong")
	os.WriteFile(wrongFile, []byte("CANARYtoken-wrong\n"), 0o600)
	emptyFile := filepath.Join(dir, "empty")
	os.WriteFile(emptyFile, nil, 0o600)

	onlyRelay := map[string]string{"GCHAT_RELAY": rel.url}
	wrong := map[string]string{"GCHAT_RELAY": rel.url, "GCHAT_ADMIN_TOKEN": "CANARYtoken-wrong"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // on stderr, or on stdout for exit 0
	}{
		{"list", rel.env(), []string{"deliveries", "--limit", "1"}, exitOK, "ID"},
		{"token file", onlyRelay, []string{"dead", "list", "--admin-token-file", goodFile}, exitOK, "ID"},
		{"relay flag beats the environment", map[string]string{"GCHAT_RELAY": refused, "GCHAT_ADMIN_TOKEN": adminTestToken}, []string{"dead", "list", "--relay", rel.url}, exitOK, "ID"},

		{"no token", onlyRelay, []string{"deliveries"}, exitUsage, "no admin token: set GCHAT_ADMIN_TOKEN or give --admin-token-file PATH"},
		{"wrong token", wrong, []string{"deliveries"}, exitUsage, "the relay refused the admin token: set GCHAT_ADMIN_TOKEN"},
		{"wrong token, replay", wrong, []string{"dead", "replay", "d1", "d2"}, exitUsage, "the relay refused the admin token: set GCHAT_ADMIN_TOKEN"},
		{"wrong token file", onlyRelay, []string{"resume", "--admin-token-file", wrongFile, "alerts"}, exitUsage, "the relay refused the admin token from --admin-token-file " + wrongFile},
		{"empty token file", onlyRelay, []string{"deliveries", "--admin-token-file", emptyFile}, exitUsage, "is empty"},
		{"missing token file", onlyRelay, []string{"deliveries", "--admin-token-file", filepath.Join(dir, "nope")}, exitUsage, "no such file"},
		{"admin API disabled", map[string]string{"GCHAT_RELAY": disabled.url, "GCHAT_ADMIN_TOKEN": adminTestToken}, []string{"dead", "list"}, exitUsage, "refused the admin request: admin API disabled: set admin_token"},
		{"relay not running", map[string]string{"GCHAT_RELAY": refused, "GCHAT_ADMIN_TOKEN": adminTestToken}, []string{"deliveries"}, exitUsage, "cannot reach the relay at " + refused + ": is it running?"},
		{"bad relay URL", rel.env(), []string{"deliveries", "--relay", "127.0.0.1:8686"}, exitUsage, "--relay: want the relay's base URL"},
		{"bad relay env", map[string]string{"GCHAT_RELAY": "ftp://x", "GCHAT_ADMIN_TOKEN": adminTestToken}, []string{"deliveries"}, exitUsage, "$GCHAT_RELAY: want the relay's base URL"},
		{"bad state", rel.env(), []string{"deliveries", "--state", "queued,lost"}, exitUsage, `HTTP 400 INVALID_ARGUMENT: state "lost"`},
		{"negative limit", rel.env(), []string{"deliveries", "--limit", "-1"}, exitUsage, "--limit -1"},
		{"deliveries argument", rel.env(), []string{"deliveries", "d1"}, exitUsage, "gchat deliveries get ID"},
		{"get without id", rel.env(), []string{"deliveries", "get"}, exitUsage, "want: gchat deliveries get ID"},
		{"dead without verb", rel.env(), []string{"dead"}, exitUsage, "want: gchat dead list, replay or drop"},
		{"dead unknown verb", rel.env(), []string{"dead", "purge"}, exitUsage, `unknown verb "purge"`},
		{"replay without id", rel.env(), []string{"dead", "replay"}, exitUsage, "want: gchat dead replay ID..."},
		{"replay --json", rel.env(), []string{"dead", "replay", "--json", "d1"}, exitUsage, "flag provided but not defined: -json"},
		{"resume without space", rel.env(), []string{"resume"}, exitUsage, "want: gchat resume SPACE"},

		{"get unknown id", rel.env(), []string{"deliveries", "get", "d0000000000000999"}, exitNoSuch, "HTTP 404 NOT_FOUND"},
		{"replay unknown id", rel.env(), []string{"dead", "replay", "d0000000000000999"}, exitNoSuch, "HTTP 404 NOT_FOUND"},
		{"replay not dead", rel.env(), []string{"dead", "replay", queued}, exitNoSuch, "HTTP 409 ABORTED"},
		{"drop unknown id", rel.env(), []string{"dead", "drop", "d0000000000000999"}, exitNoSuch, "HTTP 404 NOT_FOUND"},
		{"drop not dead", rel.env(), []string{"dead", "drop", queued}, exitNoSuch, "is queued, not dead"},
		{"resume unknown space", rel.env(), []string{"resume", "nowhere"}, exitNoSuch, `space "nowhere" is not configured`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), tc.env, "", tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			out := r.stderr
			if tc.code == exitOK {
				out = r.stdout
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output %q does not say %q", out, tc.want)
			}
			assertNoCanary(t, r)
		})
	}
	if n := disabled.requests.Load(); n != 1 {
		t.Errorf("the disabled relay got %d requests, want 1", n)
	}
}

// TestAdminAgainstRelayDemo runs the commands against "gchat relay" itself:
// the demo prints its admin token, which opens the API to them.
func TestAdminAgainstRelayDemo(t *testing.T) {
	m, stdout, _, stop := startRelay(t, map[string]string{"PWD": t.TempDir()}, curlLine, "--listen", "127.0.0.1:0")
	ingest, base := m[1], "http://"+m[2]
	token := regexp.MustCompile(`Authorization: Bearer ([0-9a-f]+)`).FindStringSubmatch(stdout.String())
	if token == nil {
		t.Fatalf("no admin token printed:\n%s", stdout.String())
	}
	waitReady(t, base, "demo")
	resp, body := postJSON(t, ingest, `{"text":"hello"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Gchat-Delivery-Id")

	env := map[string]string{"GCHAT_RELAY": base, "GCHAT_ADMIN_TOKEN": token[1]}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := runCLI(t, t.Context(), env, "", "deliveries", "--state", "done")
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if regexp.MustCompile(`(?m)^` + id + `\s+demo\s+done\s`).MatchString(r.stdout) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s never listed done:\n%s", id, r.stdout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := runCLI(t, t.Context(), env, "", "dead", "list")
	if r.code != exitOK || r.stdout != "no dead letters\n" {
		t.Errorf("dead list: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, t.Context(), env, "", "resume", "demo")
	if r.code != exitOK {
		t.Errorf("resume: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, token[1]) {
		t.Errorf("output contains the admin token")
	}
	if err := stop(); err != nil {
		t.Fatalf("relay: %v", err)
	}
}

// TestAdminSpaces: gchat spaces shows each space's backlog and pause, and
// gchat deliveries get of a delivery waiting in a paused space says so
// instead of a next attempt in the past.
func TestAdminSpaces(t *testing.T) {
	rel := newAdminRelay(t, adminTestToken)
	ctx := t.Context()
	ids := rel.enqueue(t, "alerts", alertsLane, "one", "two")
	if err := rel.store.PauseLane(ctx, alertsLane, store.Pause{Reason: "send message: google chat: HTTP 403 PERMISSION_DENIED"}); err != nil {
		t.Fatal(err)
	}
	rel.setClock(adminNow.Add(10 * time.Minute)) // the next attempt is 10 minutes past

	r := runCLI(t, ctx, rel.env(), "", "spaces")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rows := map[string][]string{}
	for line := range strings.Lines(r.stdout) {
		f := strings.Fields(line)
		rows[f[0]] = f
	}
	if h := rows["SPACE"]; strings.Join(h, " ") != "SPACE PENDING PAUSED HOLDER LAST SEND WHY" {
		t.Errorf("header %q", h)
	}
	if a := rows["alerts"]; len(a) < 6 || a[1] != "2" || a[2] != "resume" || !strings.Contains(r.stdout, "403 PERMISSION_DENIED") {
		t.Errorf("alerts row %q, want 2 pending, paused until resumed, and why:\n%s", a, r.stdout)
	}
	if o := rows["ops"]; strings.Join(o, " ") != "ops 0 - - - -" {
		t.Errorf("ops row %q, want nothing pending and no pause", o)
	}
	assertNoCanary(t, r)

	r = runCLI(t, ctx, rel.env(), "", "deliveries", "get", ids[0])
	if r.code != exitOK {
		t.Fatalf("get: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"paused        space alerts is paused until resumed (gchat resume alerts): send message: google chat: HTTP 403 PERMISSION_DENIED",
		"next attempt  when the space is resumed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("get does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "next attempt  2026") {
		t.Errorf("get shows a next attempt in the past:\n%s", r.stdout)
	}

	// Resumed: the next attempt is the delivery's own again.
	if err := rel.store.PauseLane(ctx, alertsLane, store.Pause{}); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, ctx, rel.env(), "", "deliveries", "get", ids[0])
	if strings.Contains(r.stdout, "paused") || !strings.Contains(r.stdout, "next attempt  2026-03-01T12:00:00Z") {
		t.Errorf("get after resume:\n%s", r.stdout)
	}
}
