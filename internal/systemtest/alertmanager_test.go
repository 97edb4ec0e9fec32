package systemtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// alertmanagerBin is where Debian's prometheus-alertmanager package (0.25)
// installs Alertmanager; .ci/run installs the package.
const alertmanagerBin = "/usr/bin/prometheus-alertmanager"

// TestAlertmanager runs the real Alertmanager with webhook receivers that
// point at relay routes (/v1/alertmanager/{route}, bearer token), posts
// alerts to its API v2 and checks what reaches the emulator:
//
//   - ThreadPerGroup: two alert groups make two threads, one per group key;
//     each group's firing card opens its thread and its resolved card
//     follows in it.
//   - Retried503: a proxy answers 503 to Alertmanager's first attempts at
//     each notification, the last of them after the relay committed it;
//     Alertmanager retries, and every notification arrives exactly once
//     (the relay deduplicates the retry of the committed one).
//   - RefireWithinIncident: one alert of a group resolves and fires again
//     while another keeps firing; the re-fire must be posted. Skipped: the
//     relay drops it today (see the subtest).
//   - RestartKeepsThread: on a route whose thread policy (incident) keeps
//     its state in the store, the relay is killed (SIGKILL) between a
//     group's second firing and its resolved, and started again on the
//     same store and port; the resolved notification, sent while it was
//     down and retried by Alertmanager, lands in the second firing's
//     thread.
//
// Alertmanager groups by alertname and cluster with group_wait and
// group_interval of 1 s (its defaults are 30 s and 5 min) and a long
// repeat_interval; the relay paces at 100 ms against an emulator allowing 20
// requests per second. The subtests share the processes and run in order,
// each on its own route and space.
func TestAlertmanager(t *testing.T) {
	bin := binary(t) // skips without GCHAT_SYSTEM_TESTS=1
	amBin := alertmanagerPath(t)
	emu := startEmulator(t, "--space", "groups", "--space", "flaky", "--space", "restart", "--space", "refire",
		"--quota-per-second", "20", "--quota-per-minute", "0")
	ids := map[string]string{} // relay space (= emulator space name) → emulator space id
	hooks := map[string]string{}
	for name, sp := range emu.spaces(t) {
		ids[name], hooks[name] = sp.ID, sp.Webhooks[0].URL
	}

	token := randomHex(16) // every route's bearer token
	r := startRouteRelay(t, bin, emu.host, hooks, []string{
		fmt.Sprintf("name: groups\n  source: alertmanager\n  bearer_token: %s\n  spaces: [groups]", token),
		fmt.Sprintf("name: flaky\n  source: alertmanager\n  bearer_token: %s\n  spaces: [flaky]", token),
		// incident keeps a counter per group in the store: the thread a
		// resolved notification goes to depends on what the store remembers.
		fmt.Sprintf("name: restart\n  source: alertmanager\n  bearer_token: %s\n  spaces: [restart]\n  thread: incident", token),
		fmt.Sprintf("name: refire\n  source: alertmanager\n  bearer_token: %s\n  spaces: [refire]", token),
	})
	proxy := newFlakyProxy(t, "http://"+r.addr)
	am := startAlertmanager(t, amBin, token, map[string]string{
		"groups":  "http://" + r.addr + "/v1/alertmanager/groups",
		"flaky":   proxy.url + "/v1/alertmanager/flaky",
		"restart": "http://" + r.addr + "/v1/alertmanager/restart",
		"refire":  "http://" + r.addr + "/v1/alertmanager/refire",
	})

	t.Run("ThreadPerGroup", func(t *testing.T) {
		space := ids["groups"]
		start := time.Now().UTC()
		alerts := []amAlert{
			newAlert("groups", "DiskFull", "eu", "node-1", start),
			newAlert("groups", "DiskFull", "eu", "node-2", start),
			newAlert("groups", "HighLatency", "us", "api-1", start),
		}
		am.post(t, alerts...)
		firing := settledMessages(t, emu, space, 2)
		byName := groupMessages(t, firing)
		if len(byName) != 2 {
			t.Fatalf("got firing messages for %v, want one each for DiskFull and HighLatency", amKeys(byName))
		}
		for name, ms := range byName {
			m := ms[0]
			if len(ms) != 1 || m.status() != "firing" || m.ThreadReply {
				t.Fatalf("%s: got %s, want one firing message that opens its thread", name, describeAM(ms))
			}
			if !strings.HasPrefix(m.Thread.ThreadKey, "groups-") {
				t.Errorf("%s: thread key %q, want one made by route groups", name, m.Thread.ThreadKey)
			}
		}
		if a, b := byName["DiskFull"][0].Thread, byName["HighLatency"][0].Thread; a.Name == b.Name || a.ThreadKey == b.ThreadKey {
			t.Fatalf("both groups in thread %s (key %s / %s), want a thread each", a.Name, a.ThreadKey, b.ThreadKey)
		}
		if m := byName["DiskFull"][0]; m.Body.Text != "" || !strings.Contains(m.Body.CardsV2[0].Card.Header.Title, "2 alerts") {
			t.Errorf("DiskFull: text %q, title %q; want no text line (no mention configured) and the group's 2 alerts in the card",
				m.Body.Text, m.Body.CardsV2[0].Card.Header.Title)
		}

		am.post(t, resolvedAlerts(alerts...)...)
		checkFiringThenResolved(t, settledMessages(t, emu, space, 4), "DiskFull", "HighLatency")
	})

	t.Run("Retried503", func(t *testing.T) {
		space := ids["flaky"]
		start := time.Now().UTC()
		alerts := []amAlert{
			newAlert("flaky", "QueueStuck", "eu", "worker-1", start),
			newAlert("flaky", "CertExpiry", "eu", "edge-1", start),
		}
		am.post(t, alerts...)
		settledMessages(t, emu, space, 2)
		am.post(t, resolvedAlerts(alerts...)...)
		checkFiringThenResolved(t, settledMessages(t, emu, space, 4), "QueueStuck", "CertExpiry")

		// Each of the four notifications (two groups, firing and resolved)
		// was refused twice, then committed by the relay but answered 503,
		// then retried once more, which the relay recognised as a duplicate.
		attempts := proxy.attempts()
		t.Logf("proxy: %v", attempts)
		if len(attempts) != 4 {
			t.Errorf("proxy saw %d notifications, want 4 (2 groups × firing, resolved): %v", len(attempts), attempts)
		}
		for key, as := range attempts {
			want := []string{"rejected", "rejected", "committed, answered 503", "200 duplicate"}
			if got := strings.Join(as, ", "); got != strings.Join(want, ", ") {
				t.Errorf("notification %s: attempts %s, want %s", key, got, strings.Join(want, ", "))
			}
		}
	})

	t.Run("RefireWithinIncident", func(t *testing.T) {
		// Alert b resolves while a still fires (the incident goes on),
		// then b fires again: Alertmanager sends "a, b firing" with the same
		// ids and statuses as its first notification, but b's new startsAt
		// makes it news (alert.StateHash), so it is posted.
		space := ids["refire"]
		start := time.Now().UTC()
		a, b := newAlert("refire", "Flapping", "eu", "a", start), newAlert("refire", "Flapping", "eu", "b", start)
		am.post(t, a, b)
		settledMessages(t, emu, space, 1)
		am.post(t, resolvedAlerts(b)...)
		settledMessages(t, emu, space, 2)
		am.post(t, newAlert("refire", "Flapping", "eu", "b", time.Now().UTC()))
		msgs := settledMessages(t, emu, space, 3)
		if m := msgs[2]; m.status() != "firing" || !strings.Contains(m.Body.CardsV2[0].Card.Header.Title, "2 alerts") ||
			m.Thread.Name != msgs[0].Thread.Name {
			t.Errorf("after b fired again: got %s (%q), want both firing in the group's thread %s",
				describeAM(msgs[2:]), m.Body.CardsV2[0].Card.Header.Title, msgs[0].Thread.Name)
		}
	})

	t.Run("RestartKeepsThread", func(t *testing.T) {
		// The route's thread policy is incident: a group that fires again
		// after it resolved opens a new thread, so the thread a resolved
		// notification goes to is the group's current incident, which only
		// the store knows. The restart comes in the second incident: a
		// relay that forgot it would send the resolved notification to
		// the first incident's thread (an unknown group resolves as
		// incident 1).
		space := ids["restart"]
		alerts := []amAlert{newAlert("restart", "NodeDown", "eu", "node-7", time.Now().UTC())}
		am.post(t, alerts...)
		settledMessages(t, emu, space, 1)
		am.post(t, resolvedAlerts(alerts...)...)
		first := settledMessages(t, emu, space, 2)
		checkFiringThenResolved(t, first, "NodeDown")
		alerts = []amAlert{newAlert("restart", "NodeDown", "eu", "node-7", time.Now().UTC())}
		am.post(t, alerts...)
		fired := settledMessages(t, emu, space, 3)[2]
		if fired.status() != "firing" || fired.ThreadReply || fired.Thread.Name == first[0].Thread.Name {
			t.Fatalf("firing again: got %s, want a firing message opening a new thread (not %s)",
				describeAM([]amMessage{fired}), first[0].Thread.Name)
		}

		// Kill the relay, resolve while it is down and wait until
		// Alertmanager has failed to reach it, then start it again on the
		// same store and port: Alertmanager's retry delivers the resolved
		// notification.
		r.kill()
		failed := am.failedRequests(t)
		am.post(t, resolvedAlerts(alerts...)...)
		waitFor(t, 15*time.Second, "Alertmanager to fail to reach the killed relay", func() bool {
			return am.failedRequests(t) > failed
		})
		r.start()
		msgs := settledMessages(t, emu, space, 4)
		checkFiringThenResolved(t, msgs[2:], "NodeDown")
		t.Logf("incident 1 in %s, incident 2 in %s; resolved after the restart in %s",
			first[0].Thread.Name, fired.Thread.Name, msgs[3].Thread.Name)
	})
}

// alertmanagerPath returns Alertmanager's binary, or skips the test when it
// is not installed (fails under CI=true, where .ci/run installs it).
func alertmanagerPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(alertmanagerBin); err != nil {
		msg := fmt.Sprintf("Alertmanager not found at %s (%v): install Debian's prometheus-alertmanager package "+
			"(apt-get install prometheus-alertmanager; .ci/run does)", alertmanagerBin, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return alertmanagerBin
}

// routeRelay is a `gchat relay` with source routes, on an SQLite store,
// which can be killed and started again on the same store and port.
type routeRelay struct {
	t      *testing.T
	bin    string
	addr   string // 127.0.0.1:PORT, the same across restarts
	config string
	out    *syncBuffer
	p      *proc
	runs   int
}

// startRouteRelay writes a relay configuration with a space for each of
// hooks (relay space name → emulator webhook URL), paced at 100 ms, and the
// given routes (YAML of one list item each, without its "- "), and starts
// the relay.
func startRouteRelay(t *testing.T, bin, emuHost string, hooks map[string]string, routes []string) *routeRelay {
	t.Helper()
	dir := t.TempDir()
	r := &routeRelay{t: t, bin: bin, addr: freeAddr(t), config: filepath.Join(dir, "relay.yaml"), out: &syncBuffer{}}
	logOnFailure(t, "relay", r.out)
	var b strings.Builder
	// A lease of 3 s: after a kill -9 the dead process holds the space
	// that long.
	fmt.Fprintf(&b, "listen: %s\nstore: %s\nadmin_token: %s\nallowed_hosts: [%q]\n"+
		"timing:\n  request_timeout: 1s\n  lease: 3s\n  backoff_base: 100ms\n  backoff_cap: 1s\nspaces:\n",
		strconv.Quote(r.addr), strconv.Quote("sqlite:"+filepath.Join(dir, "relay.db")), randomHex(16), emuHost)
	for name, hook := range hooks {
		fmt.Fprintf(&b, "  %s:\n    webhook_url: %s\n    ingest_token: %s\n    pace: 100ms\n", name, strconv.Quote(hook), randomHex(16))
	}
	b.WriteString("routes:\n")
	for _, rt := range routes {
		fmt.Fprintf(&b, "- %s\n", rt)
	}
	if err := os.WriteFile(r.config, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	return r
}

// start runs the relay and waits until /readyz answers.
func (r *routeRelay) start() {
	t := r.t
	t.Helper()
	r.runs++
	fmt.Fprintf(r.out, "=== run %d\n", r.runs)
	r.p = startProc(t, r.out, r.bin, "relay", "--config", r.config)
	waitFor(t, 15*time.Second, "the relay's /readyz", func() bool {
		if r.p.exited() {
			t.Fatalf("relay exited")
		}
		status, _, _ := doJSON(t.Context(), "GET", "http://"+r.addr+"/readyz", "", nil, nil)
		return status == http.StatusOK
	})
}

// kill is kill -9 of the running relay.
func (r *routeRelay) kill() { r.p.kill() }

// alertmanagerProc is a running Alertmanager process.
type alertmanagerProc struct {
	base string // http://127.0.0.1:PORT
}

// startAlertmanager starts Alertmanager as docs/design.md "Real components" says (no cluster
// listener, loopback, a temporary storage path) with a route per scenario
// label value and a webhook receiver for each, posting to receivers' URLs
// with the bearer token, and waits until it is ready.
func startAlertmanager(t *testing.T, bin, token string, receivers map[string]string) *alertmanagerProc {
	t.Helper()
	// 1 s group_wait and group_interval (defaults 30 s and 5 min) so that
	// notifications come within the test's waits.
	return startAlertmanagerWith(t, bin, token, receivers, time.Second, "--cluster.listen-address=")
}

// startAlertmanagerWith is startAlertmanager with a group_interval of its
// own and the given cluster flags.
func startAlertmanagerWith(t *testing.T, bin, token string, receivers map[string]string, groupInterval time.Duration, cluster ...string) *alertmanagerProc {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	// group_by the alert name and the cluster; 1 s group_wait; a
	// repeat_interval longer than the test.
	fmt.Fprintf(&b, "route:\n  receiver: none\n  group_by: [alertname, cluster]\n  group_wait: 1s\n  group_interval: %s\n  repeat_interval: 4h\n  routes:\n", groupInterval)
	for name := range receivers {
		fmt.Fprintf(&b, "    - receiver: %s\n      matchers: ['scenario=%q']\n", name, name)
	}
	b.WriteString("receivers:\n  - name: none\n")
	for name, u := range receivers {
		fmt.Fprintf(&b, "  - name: %s\n    webhook_configs:\n      - url: %s\n        send_resolved: true\n"+
			"        http_config:\n          authorization:\n            credentials: %s\n", name, strconv.Quote(u), token)
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	out := &syncBuffer{}
	logOnFailure(t, "alertmanager", out)
	args := []string{"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=debug"}
	p := startProc(t, out, bin, append(args, cluster...)...)
	am := &alertmanagerProc{base: "http://" + addr}
	waitFor(t, 15*time.Second, "Alertmanager's /-/ready", func() bool {
		if p.exited() {
			t.Fatalf("alertmanager exited")
		}
		status, _, _ := doJSON(t.Context(), "GET", am.base+"/-/ready", "", nil, nil)
		return status == http.StatusOK
	})
	return am
}

// amAlert is an alert as Alertmanager's API v2 takes it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    string            `json:"startsAt"`
	EndsAt      string            `json:"endsAt,omitempty"`
}

// newAlert returns a firing alert of the scenario's route.
func newAlert(scenario, name, cluster, instance string, start time.Time) amAlert {
	return amAlert{
		Labels:      map[string]string{"alertname": name, "cluster": cluster, "instance": instance, "scenario": scenario, "severity": "critical"},
		Annotations: map[string]string{"summary": name + " on " + instance},
		StartsAt:    start.Format(time.RFC3339Nano),
	}
}

// resolved returns the alerts ending now.
func resolvedAlerts(alerts ...amAlert) []amAlert {
	out := make([]amAlert, len(alerts))
	for i, a := range alerts {
		a.EndsAt = time.Now().UTC().Format(time.RFC3339Nano)
		out[i] = a
	}
	return out
}

// post posts alerts to Alertmanager's API v2.
func (am *alertmanagerProc) post(t *testing.T, alerts ...amAlert) {
	t.Helper()
	mustJSON(t, "POST", am.base+"/api/v2/alerts", "", alerts, nil)
}

// failedRequests returns Alertmanager's count of webhook requests that
// failed (alertmanager_notification_requests_failed_total).
func (am *alertmanagerProc) failedRequests(t *testing.T) int {
	t.Helper()
	resp, err := httpClient.Get(am.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	const metric = `alertmanager_notification_requests_failed_total{integration="webhook"} `
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, metric); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return int(n)
		}
	}
	t.Fatalf("Alertmanager's /metrics has no %s", strings.TrimSpace(metric))
	return 0
}

// flakyProxy stands between Alertmanager and the relay, for a relay whose
// store is unavailable: it answers 503 with Retry-After, as the relay does
// then (its own 503 path is unit-tested in internal/relay,
// TestSourceUnavailableStore). Of each notification (group key and status)
// it refuses the first two attempts without passing them on; it passes the
// third on but answers 503 all the same, as the relay does when its store
// fails after committing part of a notification (or when the answer is
// lost), so that Alertmanager's retry meets a committed post; it passes the
// rest through.
type flakyProxy struct {
	url    string
	target string
	mu     sync.Mutex
	seen   map[string][]string // notification → what each attempt got
}

const proxyRejects = 2

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	p := &flakyProxy{target: target, seen: map[string][]string{}}
	srv := httptest.NewServer(p) // 127.0.0.1
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var n struct{ GroupKey, Status string }
	json.Unmarshal(body, &n)
	key := n.GroupKey + " " + n.Status
	p.mu.Lock()
	attempt := len(p.seen[key])
	p.seen[key] = append(p.seen[key], "")
	p.mu.Unlock()
	record := func(what string) {
		p.mu.Lock()
		p.seen[key][attempt] = what
		p.mu.Unlock()
	}
	unavailable := func() {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":503,"message":"The relay's store is unavailable.","status":"UNAVAILABLE"}}`)
	}
	if attempt < proxyRejects {
		record("rejected")
		unavailable()
		return
	}
	status, answer, err := p.forward(r, body)
	if err != nil {
		record("forward failed: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if attempt == proxyRejects {
		if status == http.StatusOK {
			record("committed, answered 503")
		} else {
			record(fmt.Sprintf("relay answered %d, answered 503", status))
		}
		unavailable()
		return
	}
	var a struct {
		Deliveries []struct{ Duplicate bool }
	}
	json.Unmarshal(answer, &a)
	what := strconv.Itoa(status)
	if len(a.Deliveries) > 0 && a.Deliveries[0].Duplicate {
		what += " duplicate"
	}
	record(what)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(answer)
}

// forward posts the notification to the relay with Alertmanager's headers.
func (p *flakyProxy) forward(r *http.Request, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), "POST", p.target+r.URL.Path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for _, h := range []string{"Authorization", "Content-Type", "User-Agent"} {
		req.Header.Set(h, r.Header.Get(h))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

// attempts returns what each notification's attempts got, in order.
func (p *flakyProxy) attempts() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string][]string, len(p.seen))
	for k, v := range p.seen {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// amMessage is an emulator message with the alert card's header.
type amMessage struct {
	Name   string `json:"name"`
	Thread struct {
		Name      string `json:"name"`
		ThreadKey string `json:"threadKey"`
	} `json:"thread"`
	ThreadReply bool      `json:"threadReply"`
	CreateTime  time.Time `json:"createTime"`
	Body        struct {
		Text    string `json:"text"`
		CardsV2 []struct {
			Card struct {
				Header struct {
					Title    string `json:"title"`
					Subtitle string `json:"subtitle"`
				} `json:"header"`
			} `json:"card"`
		} `json:"cardsV2"`
	} `json:"body"`
}

// status is "firing" or "resolved" from the card's title ("🔥 FIRING · 2
// alerts"), "" without a card.
func (m amMessage) status() string {
	if len(m.Body.CardsV2) == 0 {
		return ""
	}
	title := m.Body.CardsV2[0].Card.Header.Title
	switch {
	case strings.Contains(title, "FIRING"):
		return "firing"
	case strings.Contains(title, "RESOLVED"):
		return "resolved"
	}
	return ""
}

// alertName is the alert name the card's subtitle starts with ("DiskFull ·
// critical · eu").
func (m amMessage) alertName() string {
	if len(m.Body.CardsV2) == 0 {
		return ""
	}
	name, _, _ := strings.Cut(m.Body.CardsV2[0].Card.Header.Subtitle, " · ")
	return name
}

func describeAM(ms []amMessage) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("[%s %s in %s reply=%t at %s]", m.status(), m.alertName(), m.Thread.Name,
			m.ThreadReply, m.CreateTime.Format("15:04:05.000")))
	}
	if len(parts) == 0 {
		return "no messages"
	}
	return strings.Join(parts, " ")
}

// settledMessages waits up to 20 s until the space holds n messages, then
// 2 s more (longer than Alertmanager's group_interval and the relay's
// retries) to see that no more come, and returns them oldest first; it
// fails the test unless there are exactly n.
func settledMessages(t *testing.T, emu *emulator, space string, n int) []amMessage {
	t.Helper()
	get := func(wait int, timeout time.Duration) []amMessage {
		var list struct{ Messages []amMessage }
		mustJSON(t, "GET", fmt.Sprintf("%s/api/v1/spaces/%s/messages?wait=%d&timeout=%s", emu.base, space, wait, timeout), "", nil, &list)
		return list.Messages
	}
	if got := get(n, 20*time.Second); len(got) < n {
		t.Fatalf("space %s: got %d messages within 20s, want %d: %s", space, len(got), n, describeAM(got))
	}
	got := get(n+1, 2*time.Second)
	if len(got) != n {
		t.Fatalf("space %s: got %d messages, want exactly %d: %s", space, len(got), n, describeAM(got))
	}
	return got
}

// groupMessages returns messages by the alert name of their card.
func groupMessages(t *testing.T, msgs []amMessage) map[string][]amMessage {
	t.Helper()
	out := map[string][]amMessage{}
	for _, m := range msgs {
		name := m.alertName()
		if name == "" || m.status() == "" {
			t.Fatalf("message %s is not an alert card: %+v", m.Name, m.Body)
		}
		out[name] = append(out[name], m)
	}
	return out
}

// checkFiringThenResolved checks that each named group has exactly a firing
// message opening a thread, then a resolved one replying in that thread.
func checkFiringThenResolved(t *testing.T, msgs []amMessage, names ...string) {
	t.Helper()
	byName := groupMessages(t, msgs)
	if len(byName) != len(names) {
		t.Errorf("messages for %v, want for %v: %s", amKeys(byName), names, describeAM(msgs))
	}
	for _, name := range names {
		ms := byName[name]
		if len(ms) != 2 {
			t.Errorf("%s: got %s, want firing then resolved", name, describeAM(ms))
			continue
		}
		fired, res := ms[0], ms[1]
		switch {
		case fired.status() != "firing" || fired.ThreadReply:
			t.Errorf("%s: first %s, want firing opening a thread", name, describeAM(ms[:1]))
		case res.status() != "resolved" || !res.ThreadReply:
			t.Errorf("%s: then %s, want resolved as a reply", name, describeAM(ms[1:]))
		case res.Thread.Name != fired.Thread.Name || res.Thread.ThreadKey != fired.Thread.ThreadKey:
			t.Errorf("%s: resolved in thread %s (key %s), firing in %s (key %s)", name,
				res.Thread.Name, res.Thread.ThreadKey, fired.Thread.Name, fired.Thread.ThreadKey)
		case !res.CreateTime.After(fired.CreateTime):
			t.Errorf("%s: resolved at %s, not after firing at %s", name, res.CreateTime, fired.CreateTime)
		}
	}
}

func amKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
