// Command sustained measures the built `gchat relay` under a long ingest
// load while its backlog only grows: every space's webhook points at a
// closed loopback port (a Google outage, a revoked webhook), so nothing is
// delivered and each accept lands on a larger queue than the one before.
// wrk posts alert-sized messages (the body and thread keys of
// internal/bench/wrk/ingest.lua) over -connections connections, spread over
// -spaces relay spaces whose queue bound is raised out of the way; the
// relay's /metrics is read every second, so that the accepts of the first
// and of the last -window of the run can be compared: a relay whose accept
// costs more as the queue grows shows a last window below its first.
//
//	go run ./internal/bench/sustained [-stores sqlite,postgres] [-rounds 3] [-duration 60s] [-spaces 16] [-connections 64]
//
// Each round starts a fresh relay on a fresh store (a new SQLite file, or a
// new PostgreSQL schema of -postgres, default $GCHAT_TEST_POSTGRES_URL,
// dropped at the end). Besides wrk's rate and latency it reports the CPU
// the relay and PostgreSQL's processes used, in cores (PostgreSQL's counts
// every process of its server on this machine). wrk must be installed
// (Debian: apt-get install wrk).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/bench/benchkit"
)

func main() { benchkit.Main("sustained", run) }

type params struct {
	bin         string
	spaces      int
	connections int
	threads     int
	duration    time.Duration
	window      time.Duration
	pgURL       string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sustained", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p params
	stores := fs.String("stores", "sqlite", "stores to measure, comma-separated: sqlite, postgres")
	rounds := fs.Int("rounds", 3, "runs per store; the median run is reported last")
	fs.StringVar(&p.bin, "bin", "", "the gchat binary to measure (default: build ./cmd/gchat)")
	fs.IntVar(&p.spaces, "spaces", 16, "relay spaces, each its own Google space (lane)")
	fs.IntVar(&p.connections, "connections", 64, "wrk connections")
	fs.IntVar(&p.threads, "threads", 2, "wrk threads")
	fs.DurationVar(&p.duration, "duration", 60*time.Second, "length of each run")
	fs.DurationVar(&p.window, "window", 10*time.Second, "the span at the start and at the end of a run whose accepts/s are compared")
	fs.StringVar(&p.pgURL, "postgres", getenv("GCHAT_TEST_POSTGRES_URL"), "PostgreSQL `URL` (default $GCHAT_TEST_POSTGRES_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if p.spaces < 1 || p.connections < 1 || *rounds < 1 || p.duration < 2*p.window {
		return errors.New("-spaces, -connections and -rounds must be at least 1, and -duration at least twice -window")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (Debian: apt-get install wrk)")
	}
	dir, err := os.MkdirTemp("", "gchat-sustained-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if p.bin == "" {
		if p.bin, err = benchkit.BuildGchat(ctx, dir); err != nil {
			return err
		}
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "store\trun\taccepts/s\tfirst\tlast\tlast/first\tp50\tp99\terrors\trelay cores\tpostgres cores\t\n")
	for _, st := range strings.Split(*stores, ",") {
		if st != "sqlite" && st != "postgres" {
			return fmt.Errorf("-stores: unknown store %q", st)
		}
		var runs []result
		for i := range *rounds {
			res, err := measure(ctx, p, st, filepath.Join(dir, fmt.Sprintf("%s-%d", st, i)))
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", st, i+1, err)
			}
			fmt.Fprintf(stderr, "done: %s run %d: %.0f/s\n", st, i+1, res.rate)
			res.print(tw, st, strconv.Itoa(i+1))
			runs = append(runs, res)
		}
		slices.SortFunc(runs, func(a, b result) int { return int(a.rate - b.rate) })
		runs[len(runs)/2].print(tw, st, "median")
	}
	return tw.Flush()
}

// result is one run.
type result struct {
	rate        float64 // accepted per second over the run (the relay's count)
	first, last float64 // accepted per second in the first and last window
	p50, p99    string  // as wrk prints them
	errors      int     // answers other than 2xx, and socket errors
	relayCores  float64
	pgCores     float64
}

func (r result) print(w io.Writer, store, run string) {
	fmt.Fprintf(w, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.3f\t%s\t%s\t%d\t%.2f\t%.2f\t\n", store, run, r.rate, r.first, r.last,
		r.last/r.first, r.p50, r.p99, r.errors, r.relayCores, r.pgCores)
}

// measure runs one relay on a fresh store of kind st for one run.
func measure(ctx context.Context, p params, st, dir string) (result, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return result{}, err
	}
	storeURL := "sqlite:" + filepath.Join(dir, "relay.db")
	if st == "postgres" {
		if p.pgURL == "" {
			return result{}, errors.New("no PostgreSQL: set -postgres or GCHAT_TEST_POSTGRES_URL")
		}
		u, drop, err := benchkit.FreshSchema(ctx, p.pgURL, "sustained")
		if err != nil {
			return result{}, err
		}
		defer drop()
		storeURL = u
	}
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return result{}, err
	}
	closed, err := benchkit.FreeAddr() // nothing listens there: every send fails at once
	if err != nil {
		return result{}, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen: %s\nstore: %q\nallowed_hosts: [%q]\nspaces:\n", addr, storeURL, closed)
	for i := range p.spaces {
		fmt.Fprintf(&cfg, "  s%d: {webhook_url: \"http://%s/v1/spaces/AAAAsustained%03d/messages?key=k&token=t%d\", ingest_token: %s, queue_limit: 100000000}\n",
			i, closed, i, i, token(i))
	}
	cfgPath := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return result{}, err
	}
	script := filepath.Join(dir, "ingest.lua")
	if err := os.WriteFile(script, []byte(luaScript(p.spaces)), 0o600); err != nil {
		return result{}, err
	}

	cmd := exec.Command(p.bin, "relay", "--config", cfgPath, "--log-level", "error")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	if err := benchkit.WaitReady(ctx, addr, 30*time.Second); err != nil {
		return result{}, err
	}

	metrics := "http://" + addr + "/metrics"
	relay0, pg0 := benchkit.ProcessCPU(cmd.Process.Pid), benchkit.PostgresCPU()
	wrk := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(p.threads), "-c", strconv.Itoa(p.connections),
		"-d", fmt.Sprintf("%ds", int(p.duration.Seconds())), "--timeout", "10s", "-s", script, "--latency", "http://"+addr)
	var wrkOut strings.Builder
	wrk.Stdout = &wrkOut
	wrk.Stderr = os.Stderr
	start := time.Now()
	if err := wrk.Start(); err != nil {
		return result{}, err
	}
	// The relay's count of accepted deliveries, once a second.
	type sample struct {
		at time.Duration
		n  float64
	}
	var samples []sample
	done := make(chan error, 1)
	go func() { done <- wrk.Wait() }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var werr error
loop:
	for {
		select {
		case werr = <-done:
			break loop
		case <-tick.C:
			n, err := enqueued(metrics)
			if err != nil {
				return result{}, err
			}
			samples = append(samples, sample{time.Since(start), n})
		}
	}
	elapsed := time.Since(start)
	relay1, pg1 := benchkit.ProcessCPU(cmd.Process.Pid), benchkit.PostgresCPU()
	if werr != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", werr, wrkOut.String())
	}
	total, err := enqueued(metrics)
	if err != nil {
		return result{}, err
	}

	res := result{
		rate:       total / p.duration.Seconds(),
		relayCores: (relay1 - relay0).Seconds() / elapsed.Seconds(),
		pgCores:    (pg1 - pg0).Seconds() / elapsed.Seconds(),
	}
	// The windows: from the first sample at or past window, and from the
	// last sample back to the one a window before it.
	w := int(p.window / time.Second)
	if len(samples) < 2*w+1 {
		return result{}, fmt.Errorf("only %d samples of /metrics in %s", len(samples), elapsed)
	}
	rate := func(a, b sample) float64 { return (b.n - a.n) / (b.at - a.at).Seconds() }
	res.first = rate(sample{}, samples[w-1])
	last := len(samples) - 1
	res.last = rate(samples[last-w], samples[last])
	out := wrkOut.String()
	res.p50, res.p99 = latency(out, "50%"), latency(out, "99%")
	res.errors = wrkErrors(out)
	return res, nil
}

// token is space i's ingest token.
func token(i int) string { return fmt.Sprintf("sustained-token-%04d", i) }

// luaScript is wrk's request function: the alert of
// internal/bench/wrk/ingest.lua, each request with its own requestId and one
// of 100 thread keys, the spaces taken in turn.
func luaScript(spaces int) string {
	return fmt.Sprintf(`local text = "*[FIRING:1]* HighErrorRate api-gateway (production, eu-west-1)\n*Summary:* 5xx responses above 5%% for 10 minutes on api-gateway.\n*Description:* The ratio of 5xx answers to all answers has been 7.3%% over the last 10 minutes (threshold 5%%). Upstream checkout-service answers slowly; p99 latency is 2.4 s.\n*Labels:* alertname=HighErrorRate, cluster=prod-eu-1, namespace=edge, service=api-gateway, severity=critical, team=platform\n*Started:* 2026-11-27T10:42:17Z\n<https://grafana.example.com/d/api-gateway/overview?orgId=1&var-cluster=prod-eu-1|Dashboard> · <https://runbooks.example.com/HighErrorRate|Runbook>"
local n = 0
local thread = 0
function setup(t) thread = thread + 1; t:set("id", thread) end
function init(args) prefix = "w" .. tostring(id) .. "-" .. tostring(math.random(1, 1e9)) .. "-" end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
local body = '{"text":' .. string.format("%%q", text):gsub("\\\n", "\\n") .. ',"thread":{"threadKey":"alert-'
request = function()
  n = n + 1
  local s = n %% %d
  return wrk.format(nil, "/v1/spaces/s" .. s .. "/messages?key=k&token=sustained-token-" .. string.format("%%04d", s) ..
    "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&requestId=" .. prefix .. n, nil, body .. (n %% 100) .. '"}}')
end
`, spaces)
}

// enqueued sums gchat_relay_deliveries_enqueued_total over its labels.
func enqueued(url string) (float64, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "gchat_relay_deliveries_enqueued_total") {
			continue
		}
		if f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += f
		}
	}
	return sum, sc.Err()
}

// latency reads a percentile of wrk's --latency distribution.
func latency(out, pct string) string {
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(pct) + `\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		return "?"
	}
	return m[1]
}

// wrkErrors counts wrk's non-2xx answers and socket errors.
func wrkErrors(out string) int {
	n := 0
	for _, re := range []string{`Non-2xx or 3xx responses: (\d+)`, `connect (\d+), read (\d+), write (\d+), timeout (\d+)`} {
		if m := regexp.MustCompile(re).FindStringSubmatch(out); m != nil {
			for _, s := range m[1:] {
				v, _ := strconv.Atoi(s)
				n += v
			}
		}
	}
	return n
}
