// Command alerts measures how a storm of alerts reaches one Google Chat
// space through the real Prometheus Alertmanager and the relay's
// Alertmanager route, at Google's real quota: 500 alerts in 50 groups by
// default, firing and then resolved. Google is an in-process emulator with
// its default quotas (1 request per second, burst 1, and 60 per rolling
// minute per space); the relay is package app, exactly what `gchat relay`
// runs, with a route (thread policy group) into that one space, paced at
// 1.05 s. It runs in real time: about two minutes.
//
//	go run ./internal/bench/alerts [-groups 50] [-per-group 10] [-pace 1.05s] [-resolve=true]
//
// The alerts go through a real Alertmanager (Debian's prometheus-alertmanager,
// 0.25, started on loopback with no cluster listener), not as notifications
// posted to the relay directly: what is measured is then what users run,
// with Alertmanager's own grouping, group keys, payloads, concurrency (each
// group flushes on its own) and retries, and it costs only its group_wait of
// 1 s against the ~50 s the quota imposes.
//
// For each phase (firing; then resolved, once every firing alert is visible
// and the space has been idle for 3 s) it reports the notifications the
// relay got, the requests Google got and how many it refused with 429, the
// messages and threads, how many of the alerts the cards show, and the time
// until every alert was visible against the floor. It checks that each group has its own thread holding its alerts
// and only them, with resolved after firing in it, and that no alert is
// lost; it exits 1 when a check fails.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
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
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/bench/benchkit"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// Alertmanager's route timings: a group's first notification waits
// groupWait, later ones (resolved) come at its next groupInterval tick.
// Its defaults (30 s, 5 min) would measure Alertmanager, not the relay.
const (
	groupWait     = time.Second
	groupInterval = time.Second
)

func main() { benchkit.Main("alerts", run) }

// params are the command's flags.
type params struct {
	groups, perGroup int
	pace             time.Duration
	alertmanager     string
	resolve          bool
	ha               bool
	timeout          time.Duration
}

func run(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("alerts", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var p params
	flags.IntVar(&p.groups, "groups", 50, "alert groups (alertname and cluster), each its own thread")
	flags.IntVar(&p.perGroup, "per-group", 10, "alerts per group (at most 100, the most a card lists)")
	flags.DurationVar(&p.pace, "pace", config.DefaultPace, "the relay space's pace")
	flags.StringVar(&p.alertmanager, "alertmanager", "/usr/bin/prometheus-alertmanager", "Alertmanager's binary (Debian package prometheus-alertmanager)")
	flags.BoolVar(&p.resolve, "resolve", true, "resolve every alert once all are visible, and measure that too")
	flags.BoolVar(&p.ha, "ha", false, "two Alertmanagers clustered at their default cluster timings (peer_timeout 15s), both sent every alert, group_interval 10s")
	flags.DurationVar(&p.timeout, "timeout", 0, "give up on a phase after this long (default twice groups·pace plus a minute)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	switch {
	case flags.NArg() > 0:
		return fmt.Errorf("no arguments expected, got %q", flags.Args())
	case p.groups < 1:
		return fmt.Errorf("-groups %d: want 1 or more", p.groups)
	case p.perGroup < 1 || p.perGroup > 100:
		return fmt.Errorf("-per-group %d: want 1 to 100", p.perGroup)
	case p.pace <= 0:
		return fmt.Errorf("-pace %s: want more than 0", p.pace)
	}
	if p.timeout <= 0 {
		p.timeout = 2*time.Duration(p.groups)*p.pace + time.Minute
	}
	if _, err := os.Stat(p.alertmanager); err != nil {
		return fmt.Errorf("Alertmanager: %w (install Debian's prometheus-alertmanager, or point -alertmanager at a binary)", err)
	}

	dir, err := os.MkdirTemp("", "gchat-bench-alerts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	g, err := benchkit.StartEmulator("alerts", "Alertmanager")
	if err != nil {
		return err
	}
	defer g.Stop()
	rl, err := startRelay(ctx, dir, g, p)
	if err != nil {
		return err
	}
	defer rl.stop()
	var am alertmanagers
	if p.ha {
		am, err = startPair(ctx, dir, p.alertmanager, rl.routeURL, rl.token)
	} else {
		var one *alertmanagerProc
		one, err = startAlertmanager(ctx, filepath.Join(dir, "am"), p.alertmanager, rl.routeURL, rl.token, groupInterval)
		am = alertmanagers{one}
	}
	if err != nil {
		return err
	}
	defer am.stop()

	alerts := makeAlerts(p.groups, p.perGroup, time.Now().UTC())
	var results []phase
	for _, status := range []string{"firing", "resolved"} {
		if status == "resolved" {
			if !p.resolve {
				break
			}
			// Start from an idle space, as the firing phase does: right
			// after the last firing request the quota would hold the first
			// resolved one back by up to a second.
			if err := sleep(ctx, 3*time.Second); err != nil {
				return err
			}
			now := time.Now().UTC().Format(time.RFC3339Nano)
			for i := range alerts {
				alerts[i].EndsAt = now
			}
		}
		res, err := runPhase(ctx, status, alerts, g, am, p)
		if err != nil {
			return err
		}
		results = append(results, res)
		if res.lost > 0 {
			break // a timeout: the next phase would measure the leftovers
		}
	}
	// Settle: give a late duplicate the time to show before the checks. A
	// pair's second Alertmanager sends peer_timeout after the first, at its
	// next group_interval tick: its stale firing comes up to ~40 s late.
	settle := 3 * time.Second
	if p.ha {
		settle = peerTimeout + 2*haGroupInterval + 5*time.Second
	}
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	problems := check(g, results, p)
	for i := range results {
		r := &results[i]
		r.firstNotification, r.lastNotification, r.notifications, r.refused = rl.notifications(r.from, r.until)
		if !r.firstNotification.IsZero() && r.lost == 0 {
			r.fromFirst = r.lastVisible.Sub(r.firstNotification)
		}
	}

	fmt.Fprintf(stdout, "alerts: %d alerts in %d groups of %d (alertname × cluster) into one space, through %s and the relay's route (thread per group, max_alerts %d); quota 1/s burst 1 and %d/min; pace %s\n\n",
		len(alerts), p.groups, p.perGroup, am.version(), p.perGroup, benchkit.QuotaPerMinute, p.pace)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tnotifications\trequests\t429s\tmessages\tthreads\talerts shown\tlost\tall visible: after the POST\tafter the 1st notification\tfloor\t(k−1)·pace\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%d\t%s\t%s\t%s\t%s\t\n", r.status, r.notifications, r.requests, r.throttled,
			r.messages, r.threads, r.shown, len(alerts), r.lost, benchkit.Seconds(r.visible), benchkit.Seconds(r.fromFirst),
			benchkit.Seconds(benchkit.FloorTime(p.groups)), benchkit.Seconds(time.Duration(p.groups-1)*p.pace))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nall visible: from the POST of the alerts to Alertmanager, or from the first notification the relay got, until the\n"+
		"emulator created the message that made the last alert visible.\n"+
		"floor: k = %d requests, one per group (a request posts one message into one thread, and each group's card fits one\n"+
		"request), the first at once, then at most one per second: (k−1)·1 s after the first notification (60/min does not bind at\n"+
		"1/s). Alertmanager's group_wait (%s) comes before the first notification.\n",
		p.groups, groupWait)
	for _, r := range results {
		if len(r.reqStarts) > 1 && !r.firstNotification.IsZero() {
			gaps := make([]time.Duration, len(r.reqStarts)-1)
			for i := range gaps {
				gaps[i] = r.reqStarts[i+1].Sub(r.reqStarts[i])
			}
			fmt.Fprintf(stdout, "%s: notifications within %s; first request %s after the first; requests %s to %s apart, %s on average; largest message %d bytes\n", r.status,
				r.lastNotification.Sub(r.firstNotification).Round(time.Millisecond), r.reqStarts[0].Sub(r.firstNotification).Round(time.Millisecond), slices.Min(gaps).Round(time.Millisecond),
				slices.Max(gaps).Round(time.Millisecond), (r.reqStarts[len(r.reqStarts)-1].Sub(r.reqStarts[0]) / time.Duration(len(gaps))).Round(time.Millisecond),
				r.largest)
		}
		if r.refused > 0 {
			fmt.Fprintf(stdout, "%s: the relay answered %d notifications with a non-2xx status\n", r.status, r.refused)
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "\n%d problem(s):\n", len(problems))
		for _, pr := range problems {
			fmt.Fprintln(stdout, "  "+pr)
		}
		return fmt.Errorf("%d check(s) failed", len(problems))
	}
	fmt.Fprintf(stdout, "\nchecks: every group in a thread of its own holding all its alerts and no other group's")
	if p.resolve {
		fmt.Fprintf(stdout, ", resolved after firing in the same thread")
	}
	fmt.Fprintf(stdout, "; no alert lost; no 429.\n")
	return nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// amAlert is an alert as Alertmanager's API v2 takes it.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL"`
}

var alertNames = []string{"DiskFull", "HighLatency", "PodCrashLooping", "CertExpiry", "QueueBacklog",
	"NodeDown", "HighErrorRate", "MemoryPressure", "TargetDown", "SlowQueries"}

// makeAlerts returns groups·perGroup alerts; group g is an alertname and a
// cluster, and each alert's instance label, bench-gGG-aAA, names it.
func makeAlerts(groups, perGroup int, start time.Time) []amAlert {
	var out []amAlert
	for g := range groups {
		name, cluster := alertNames[g%len(alertNames)], fmt.Sprintf("prod-%d", g/len(alertNames))
		for a := range perGroup {
			inst := instance(g, a)
			out = append(out, amAlert{
				Labels: map[string]string{"alertname": name, "cluster": cluster, "instance": inst,
					"severity": "critical", "team": "platform", "job": "node"},
				Annotations: map[string]string{
					"summary":     fmt.Sprintf("%s on %s", name, inst),
					"description": fmt.Sprintf("%s has fired on %s in %s for 5 minutes; see the dashboard and the runbook.", name, inst, cluster),
					"runbook_url": "https://runbooks.example.com/" + name,
				},
				StartsAt:     start.Format(time.RFC3339Nano),
				GeneratorURL: "http://prometheus.example.com:9090/graph?g0.expr=" + name,
			})
		}
	}
	return out
}

func instance(g, a int) string { return fmt.Sprintf("bench-g%02d-a%02d", g, a) }

var instanceRE = regexp.MustCompile(`bench-g(\d+)-a(\d+)`)

// phase is one phase's outcome.
type phase struct {
	status              string
	from, until         time.Time     // the POST to Alertmanager; the end of the wait
	visible             time.Duration // from the POST until every alert was visible
	fromFirst           time.Duration // the same from the first notification the relay got
	notifications       int           // notifications the relay got
	refused             int           // of which answered non-2xx
	requests, throttled int           // webhook requests the emulator got; 429 answers
	messages, threads   int
	shown, lost         int
	lastVisible         time.Time // creation of the message that made the last alert visible
	firstNotification   time.Time
	lastNotification    time.Time
	reqStarts           []time.Time // starts of the phase's webhook requests
	largest             int         // bytes of the largest message body
}

// runPhase posts alerts to Alertmanager and waits until every one is
// visible in a card of the given status, or the timeout.
func runPhase(ctx context.Context, status string, alerts []amAlert, g *benchkit.GoogleSpace, am alertmanagers, p params) (phase, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	res := phase{status: status, from: time.Now()}
	if err := am.post(ctx, alerts); err != nil {
		return res, err
	}
	seen := map[string]time.Time{} // instance → creation of the first card showing it
	next := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for len(seen) < len(alerts) {
		msgs := g.Emu.Messages(g.Space, emulator.MessageFilter{Since: res.from})
		for _, m := range msgs[min(next, len(msgs)):] {
			c := readCard(m.Message)
			if c.status != status {
				continue
			}
			for _, inst := range c.instances {
				if _, ok := seen[inst]; !ok {
					seen[inst] = m.CreateTime
				}
			}
		}
		next = len(msgs)
		if len(seen) == len(alerts) {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	res.until = time.Now()
	res.shown, res.lost = len(seen), len(alerts)-len(seen)
	for _, t := range seen {
		res.lastVisible = maxTime(res.lastVisible, t)
	}
	res.visible = res.lastVisible.Sub(res.from)
	return res, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// alertCard is what an alert card shows, as far as the checks go.
type alertCard struct {
	status    string   // "firing", "resolved" or "" (not an alert card)
	name      string   // the alert name in the header's subtitle
	instances []string // bench-gGG-aAA instances shown, in order
	hidden    bool     // an "N more alerts not shown" line
}

// readCard reads the first card of m: its header, and the instances named
// in its visible texts (section headers, decorated texts, paragraphs; not
// links).
func readCard(m gchat.Message) alertCard {
	var c alertCard
	if len(m.CardsV2) == 0 {
		return c
	}
	cd := m.CardsV2[0].Card
	if h := cd.Header; h != nil {
		switch {
		case strings.Contains(h.Title, "FIRING"):
			c.status = "firing"
		case strings.Contains(h.Title, "RESOLVED"):
			c.status = "resolved"
		}
		c.name, _, _ = strings.Cut(h.Subtitle, " · ")
	}
	var text strings.Builder
	add := func(s string) { text.WriteString(s); text.WriteByte('\n') }
	for _, s := range cd.Sections {
		add(s.Header)
		for _, w := range s.Widgets {
			if w.DecoratedText != nil {
				add(w.DecoratedText.TopLabel + " " + w.DecoratedText.Text)
			}
			if w.TextParagraph != nil {
				add(w.TextParagraph.Text)
				if strings.Contains(w.TextParagraph.Text, "not shown") {
					c.hidden = true
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, inst := range instanceRE.FindAllString(text.String(), -1) {
		if !seen[inst] {
			seen[inst] = true
			c.instances = append(c.instances, inst)
		}
	}
	return c
}

// check reads every message of the space and returns what is wrong: a
// group whose alerts are in more than one thread or share one with another
// group, a card that hides alerts or mixes groups, a resolved message not
// after its group's firing one in its thread, a lost alert, a 429. It fills
// in the phases' message, thread and request counts.
func check(g *benchkit.GoogleSpace, results []phase, p params) []string {
	var problems []string
	msgs := g.Emu.Messages(g.Space, emulator.MessageFilter{})
	threadsOf := map[int]map[string]bool{}    // group → threads holding its alerts
	groupsIn := map[string]map[int]bool{}     // thread → groups with alerts in it
	firstOf := map[string]map[int]time.Time{} // status → group → its first message
	for _, m := range msgs {
		c := readCard(m.Message)
		if c.status == "" || len(c.instances) == 0 {
			problems = append(problems, fmt.Sprintf("message %s is not an alert card of the bench: %.80q", m.Name, m.Message.Text))
			continue
		}
		if c.hidden {
			problems = append(problems, fmt.Sprintf("message %s hides alerts (%q)", m.Name, c.name))
		}
		var group = -1
		for _, inst := range c.instances {
			sm := instanceRE.FindStringSubmatch(inst)
			gi, _ := strconv.Atoi(sm[1])
			if group >= 0 && gi != group {
				problems = append(problems, fmt.Sprintf("message %s mixes groups %d and %d", m.Name, group, gi))
			}
			group = gi
		}
		if want := alertNames[group%len(alertNames)]; c.name != want {
			problems = append(problems, fmt.Sprintf("message %s: alert name %q, want %q", m.Name, c.name, want))
		}
		if threadsOf[group] == nil {
			threadsOf[group] = map[string]bool{}
		}
		threadsOf[group][m.Thread.Name] = true
		if groupsIn[m.Thread.Name] == nil {
			groupsIn[m.Thread.Name] = map[int]bool{}
		}
		groupsIn[m.Thread.Name][group] = true
		if firstOf[c.status] == nil {
			firstOf[c.status] = map[int]time.Time{}
		}
		if _, ok := firstOf[c.status][group]; !ok {
			firstOf[c.status][group] = m.CreateTime
		}
		for i := range results {
			if results[i].status == c.status {
				results[i].messages++
				results[i].largest = max(results[i].largest, len(m.Body))
			}
		}
	}
	if p.ha {
		// A pair sends everything twice: the relay posts it once.
		for i := range results {
			if r := results[i]; r.messages != p.groups {
				problems = append(problems, fmt.Sprintf("%s: %d messages for %d groups, want one each", r.status, r.messages, p.groups))
			}
		}
	}
	for gi := range p.groups {
		if n := len(threadsOf[gi]); n != 1 {
			problems = append(problems, fmt.Sprintf("group %d (%s) is in %d threads, want 1", gi, alertNames[gi%len(alertNames)], n))
		}
		if p.resolve && len(results) > 1 {
			f, okF := firstOf["firing"][gi]
			r, okR := firstOf["resolved"][gi]
			if okF && okR && !r.After(f) {
				problems = append(problems, fmt.Sprintf("group %d: resolved at %s, not after firing at %s", gi, r, f))
			}
		}
	}
	for th, gs := range groupsIn {
		if len(gs) > 1 {
			problems = append(problems, fmt.Sprintf("thread %s holds %d groups, want 1", th, len(gs)))
		}
	}
	reqs, _ := g.Emu.Requests(g.Space)
	for i := range results {
		r := &results[i]
		threads := map[string]bool{}
		for _, m := range msgs {
			if c := readCard(m.Message); c.status == r.status {
				threads[m.Thread.Name] = true
			}
		}
		r.threads = len(threads)
		for _, rq := range reqs {
			if rq.Start.Before(r.from) || (i+1 < len(results) && !rq.Start.Before(results[i+1].from)) {
				continue
			}
			r.requests++
			r.reqStarts = append(r.reqStarts, rq.Start)
			if rq.Status == http.StatusTooManyRequests {
				r.throttled++
			}
		}
		if r.lost > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d of %d alerts not visible within %s", r.status, r.lost, r.shown+r.lost, p.timeout))
		}
		if r.throttled > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d requests answered 429", r.status, r.throttled))
		}
	}
	slices.Sort(problems)
	return problems
}

// relayProc is the relay, in process: exactly what `gchat relay --config`
// runs (package app, with its metrics, timeouts and collector setting), its
// configuration loaded from YAML, SQLite with synchronous=FULL. Alertmanager
// posts to it through a recording proxy on loopback, which notes when each
// notification came and how the relay answered it.
type relayProc struct {
	routeURL string // the Alertmanager route's URL, at the proxy
	token    string // its bearer token
	stop     func()

	mu  sync.Mutex
	got []notification
}

// notification is one request to the route, as the relay answered it.
type notification struct {
	at     time.Time
	status int
}

func startRelay(ctx context.Context, dir string, g *benchkit.GoogleSpace, p params) (*relayProc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rl := &relayProc{token: randomToken()}
	// The route: Alertmanager's payloads, a thread per group, every alert of
	// a group listed in its card.
	yaml := fmt.Sprintf(`listen: %q
store: %q
allowed_hosts: [%q]
spaces:
  alerts:
    webhook_url: %q
    pace: %s
routes:
  - name: alertmanager
    source: alertmanager
    bearer_token: %s
    spaces: [alerts]
    thread: group
    max_alerts: %d
`, ln.Addr().String(), "sqlite:"+filepath.Join(dir, "relay.db"), g.Host, g.Hook.Reveal(), p.pace, rl.token, p.perGroup)
	cfg, err := config.Load([]byte(yaml), "alerts.yaml", nil, nil)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("relay config: %w", err)
	}
	path, _ := cfg.SQLitePath()
	st, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "FULL"})
	if err != nil {
		ln.Close()
		return nil, err
	}
	relay, err := app.New(cfg, ln, st, nil, app.Options{GCPercent: app.GCPercent})
	if err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	runCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan error, 1)
	go func() { ran <- relay.Run(runCtx) }()

	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopRelay()
		<-ran
		return nil, err
	}
	rl.routeURL = "http://" + pln.Addr().String() + "/v1/alertmanager/alertmanager"
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: ln.Addr().String()})
	srv := &http.Server{Handler: rl.record(proxy), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(pln)
	rl.stop = func() {
		srv.Close()
		stopRelay()
		<-ran
	}
	return rl, nil
}

// record notes the time and answer of each notification to the route.
func (rl *relayProc) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/alertmanager/") {
			h.ServeHTTP(w, r)
			return
		}
		at := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		rl.mu.Lock()
		rl.got = append(rl.got, notification{at: at, status: sw.status})
		rl.mu.Unlock()
	})
}

// notifications returns the first and last notification in [from, until),
// how many there were and how many the relay answered with other than 2xx.
func (rl *relayProc) notifications(from, until time.Time) (first, last time.Time, n, refused int) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for _, g := range rl.got {
		if g.at.Before(from) || !g.at.Before(until) {
			continue
		}
		if first.IsZero() || g.at.Before(first) {
			first = g.at
		}
		last = maxTime(last, g.at)
		n++
		if g.status/100 != 2 {
			refused++
		}
	}
	return first, last, n, refused
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// alertmanagerProc is a running Alertmanager.
type alertmanagerProc struct {
	base    string // http://127.0.0.1:PORT
	version string // "Alertmanager 0.25.0"
	stop    func()
}

// startAlertmanager starts Alertmanager as docs/design.md "Real components" says (no cluster
// listener, loopback, a temporary storage path), with one webhook receiver
// posting to the relay's route, and waits until it is ready.
func startAlertmanager(ctx context.Context, dir, bin, routeURL, token string, interval time.Duration, cluster ...string) (*alertmanagerProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if cluster == nil {
		cluster = []string{"--cluster.listen-address="}
	}
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", bin, err)
	}
	version := "Alertmanager"
	if f := strings.Fields(string(out)); len(f) >= 3 {
		version += " " + f[2]
	}
	cfg := fmt.Sprintf(`route:
  receiver: relay
  group_by: [alertname, cluster]
  group_wait: %s
  group_interval: %s
  repeat_interval: 4h
receivers:
  - name: relay
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
`, groupWait, interval, routeURL, token)
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--config.file=" + cfgPath, "--storage.path=" + filepath.Join(dir, "alertmanager"),
		"--web.listen-address=" + addr}, cluster...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start Alertmanager: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	am := &alertmanagerProc{base: "http://" + addr, version: version}
	am.stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := readyClient.Get(am.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am, nil
			}
		}
		select {
		case <-done:
			return nil, fmt.Errorf("Alertmanager exited: %s", logs.String())
		case <-ctx.Done():
			am.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			am.stop()
			return nil, fmt.Errorf("Alertmanager not ready within 15 s")
		}
	}
}

var readyClient = &http.Client{Timeout: 2 * time.Second}

// The HA pair's timings: Alertmanager's default peer_timeout, and a
// group_interval shorter than it, as in the setup where the pair's second
// Alertmanager sends a group's old firing after the first one's resolved.
const (
	peerTimeout     = 15 * time.Second
	haGroupInterval = 10 * time.Second
)

// alertmanagers are the Alertmanagers Prometheus sends to: one, or an HA
// pair.
type alertmanagers []*alertmanagerProc

func (as alertmanagers) version() string {
	if len(as) > 1 {
		return fmt.Sprintf("%d clustered %ss", len(as), as[0].version)
	}
	return as[0].version
}

func (as alertmanagers) stop() {
	for _, a := range as {
		a.stop()
	}
}

// post posts alerts to every Alertmanager, as Prometheus does.
func (as alertmanagers) post(ctx context.Context, alerts []amAlert) error {
	for _, a := range as {
		if err := a.post(ctx, alerts); err != nil {
			return err
		}
	}
	return nil
}

// startPair starts two Alertmanagers clustered on loopback at the default
// cluster timings and waits until each sees the other and its gossip has
// settled (about 10 s), so that both send.
func startPair(ctx context.Context, dir, bin, routeURL, token string) (alertmanagers, error) {
	var peers [2]string
	for i := range peers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		peers[i] = ln.Addr().String()
		ln.Close()
	}
	var as alertmanagers
	for i := range peers {
		a, err := startAlertmanager(ctx, filepath.Join(dir, fmt.Sprint("am", i)), bin, routeURL, token, haGroupInterval,
			"--cluster.listen-address="+peers[i], "--cluster.peer="+peers[1-i])
		if err != nil {
			as.stop()
			return nil, err
		}
		as = append(as, a)
	}
	deadline := time.Now().Add(45 * time.Second)
	for _, a := range as {
		for {
			var st struct {
				Cluster struct {
					Status string
					Peers  []json.RawMessage
				}
			}
			if resp, err := readyClient.Get(a.base + "/api/v2/status"); err == nil {
				json.NewDecoder(resp.Body).Decode(&st)
				resp.Body.Close()
			}
			if st.Cluster.Status == "ready" && len(st.Cluster.Peers) == 2 {
				break
			}
			if time.Now().After(deadline) {
				as.stop()
				return nil, fmt.Errorf("the Alertmanager pair did not settle within 45 s (status %q, %d peers)", st.Cluster.Status, len(st.Cluster.Peers))
			}
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				as.stop()
				return nil, err
			}
		}
	}
	return as, nil
}

// post posts alerts to Alertmanager's API v2.
func (am *alertmanagerProc) post(ctx context.Context, alerts []amAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", am.base+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
		return fmt.Errorf("post alerts: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
