// Command replicas measures durable ingest with one relay on SQLite and
// with one or several relay replicas sharing PostgreSQL: accepts per second
// in all and per replica, and the latency a caller sees. An accept is one
// alert-sized message (600 bytes of text, a thread key, a requestId)
// posted over loopback to a relay, parsed and committed before the 200
// answer. Each replica is package app, exactly what `gchat relay` runs
// (metrics, configured timeouts, the collector setting, its dispatcher
// delivering at Google's pace to an in-process emulator), with one setting
// changed: no bound on a lane's pending deliveries, which thousands of
// accepts a second would reach within seconds. Every replica is in this
// process, with its own HTTP server and its own store (its own connection
// pool on PostgreSQL, the relay's default size), so callers, replicas and,
// on one machine, the database all share the same cores: the figures are
// what one machine does, not what a cluster of machines would.
//
//	go run ./internal/bench/replicas [-stores sqlite,postgres] [-replicas 1,3] [-callers 64] [-spaces 1] [-duration 10s]
//
// With -unreachable the spaces' webhooks point at a closed port, so nothing
// is delivered and the backlog only grows (a Google outage): run it for 30 s
// or more and compare the first and last -window of the run (the columns
// first and last) to see whether an accept costs more as the queue grows.
//
// PostgreSQL is -postgres URL, else $GCHAT_TEST_POSTGRES_URL; each run uses a
// fresh schema, dropped at its end.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/bench/benchkit"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

func main() { benchkit.Main("replicas", run) }

// params are the command's flags.
type params struct {
	stores      []string
	replicas    []int
	callers     int
	spaces      int
	pool        int
	duration    time.Duration
	warmup      time.Duration
	window      time.Duration
	unreachable bool
	pgURL       string
	cpuProfile  string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replicas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stores := fs.String("stores", "sqlite,postgres", "stores to measure, comma-separated: sqlite, postgres")
	replicas := fs.String("replicas", "1,3", "replica counts for PostgreSQL, comma-separated (SQLite is always one)")
	p := params{}
	fs.IntVar(&p.callers, "callers", 64, "concurrent callers in all, spread evenly over the replicas")
	fs.IntVar(&p.spaces, "spaces", 1, "relay spaces (each its own Google space, so its own lane) the callers post to in turn")
	fs.IntVar(&p.pool, "pool", 0, "PostgreSQL connections per replica (0: the relay's default, max(4, CPUs))")
	fs.DurationVar(&p.duration, "duration", 10*time.Second, "how long each scenario is measured")
	fs.DurationVar(&p.warmup, "warmup", time.Second, "posting before the measurement starts")
	fs.BoolVar(&p.unreachable, "unreachable", false, "point the webhooks at a closed port, so that the backlog only grows")
	fs.DurationVar(&p.window, "window", 10*time.Second, "the span at the start and at the end of the run whose accepts/s are reported")
	fs.StringVar(&p.cpuProfile, "cpuprofile", "", "write the measured span's CPU profile (of this process: callers, relays, not PostgreSQL) to `file`")
	fs.StringVar(&p.pgURL, "postgres", getenv("GCHAT_TEST_POSTGRES_URL"), "PostgreSQL `URL` (default $GCHAT_TEST_POSTGRES_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p.stores = strings.Split(*stores, ",")
	for _, s := range strings.Split(*replicas, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("-replicas %q: want counts such as 1,3", *replicas)
		}
		p.replicas = append(p.replicas, n)
	}
	if p.callers < 1 || p.spaces < 1 {
		return errors.New("-callers and -spaces must be at least 1")
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\treplicas\tcallers\tspaces\taccepts/s\tper replica\tfirst\tlast\tp50\tp99\terrors\tbench cores\tpostgres cores\n")
	for _, st := range p.stores {
		counts := p.replicas
		if st == "sqlite" {
			counts = []int{1}
		}
		for _, n := range counts {
			res, err := measure(ctx, p, st, n)
			if err != nil {
				return fmt.Errorf("%s, %d replicas: %w", st, n, err)
			}
			per := make([]string, len(res.perReplica))
			for i, a := range res.perReplica {
				per[i] = fmt.Sprintf("%.0f", a)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%s\t%.0f\t%.0f\t%s\t%s\t%d\t%.2f\t%.2f\n", st, n, p.callers, p.spaces, res.total,
				strings.Join(per, " / "), res.first, res.last, res.p50.Round(100*time.Microsecond), res.p99.Round(100*time.Microsecond), res.errors,
				res.selfCores, res.pgCores)
			fmt.Fprintf(stderr, "done: %s, %d replicas\n", st, n)
		}
	}
	return tw.Flush()
}

type result struct {
	total      float64   // accepts per second, all replicas
	perReplica []float64 // accepts per second of each
	first      float64   // accepts per second in the first window of the run
	last       float64   // and in the last
	p50, p99   time.Duration
	errors     int
	// CPU used over the measurement, in cores: this process (callers and
	// replicas) and the PostgreSQL server's processes.
	selfCores, pgCores float64
}

// measure runs one scenario: n replicas on storeKind.
func measure(ctx context.Context, p params, storeKind string, n int) (result, error) {
	hooks, stopGoogle, err := startGoogle(p.spaces, p.unreachable)
	if err != nil {
		return result{}, err
	}
	defer stopGoogle()
	cfg := &config.Config{Listen: "127.0.0.1:8686", IngestKey: "bench-key"}
	for i, hook := range hooks {
		sp := config.NewSpace(fmt.Sprintf("s%d", i), hook)
		sp.IngestToken = config.Secret(fmt.Sprintf("bench-ingest-token-%02d", i))
		cfg.Spaces = append(cfg.Spaces, sp)
	}

	var stores []store.Store
	switch storeKind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "gchat-bench-replicas-")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		s, err := sqlite.Open(ctx, filepath.Join(dir, "relay.db"), sqlite.Options{Synchronous: "FULL"})
		if err != nil {
			return result{}, err
		}
		stores = append(stores, s)
	case "postgres":
		if p.pgURL == "" {
			return result{}, errors.New("no PostgreSQL: give -postgres URL or set GCHAT_TEST_POSTGRES_URL")
		}
		dbURL, drop, err := benchkit.FreshSchema(ctx, p.pgURL, "replicas")
		if err != nil {
			return result{}, err
		}
		defer drop()
		for range n {
			s, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: int32(p.pool)})
			if err != nil {
				for _, s := range stores {
					s.Close()
				}
				return result{}, err
			}
			stores = append(stores, s)
		}
	default:
		return result{}, fmt.Errorf("unknown store %q", storeKind)
	}

	// Each replica is package app, exactly what `gchat relay` runs, its
	// dispatcher delivering to the emulator at Google's pace. The one
	// setting changed: no bound on a lane's pending deliveries, since
	// thousands of accepts a second pile up behind one request a second.
	relayCtx, stopRelays := context.WithCancel(context.WithoutCancel(ctx))
	var relays sync.WaitGroup
	defer func() { stopRelays(); relays.Wait() }()
	var bases []string
	for i, s := range stores {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, s := range stores[i:] {
				s.Close()
			}
			return result{}, err
		}
		rl, err := app.New(cfg, ln, s, nil, app.Options{GCPercent: app.GCPercent, MaxPending: -1})
		if err != nil {
			ln.Close()
			for _, s := range stores[i:] {
				s.Close()
			}
			return result{}, err
		}
		relays.Go(func() {
			if err := rl.Run(relayCtx); err != nil {
				fmt.Fprintln(os.Stderr, "replicas: relay:", err)
			}
		})
		bases = append(bases, "http://"+ln.Addr().String())
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: p.callers}}
	defer client.CloseIdleConnections()

	bodies := make([][]byte, 100)
	for i := range bodies {
		var err error
		bodies[i], err = json.Marshal(map[string]any{
			"text":   alertText,
			"thread": map[string]string{"threadKey": fmt.Sprintf("alert-%03d", i)},
		})
		if err != nil {
			return result{}, err
		}
	}

	var (
		seq      atomic.Int64
		measured atomic.Bool
		errs     atomic.Int64
		mu       sync.Mutex
		lats     []time.Duration
		accepts  = make([]int64, n)
		wg       sync.WaitGroup
		// accepts per second of the measurement, by the second it ended in
		perSecond = make([]atomic.Int64, int(p.duration/time.Second)+2)
		begin     atomic.Int64 // the measurement's start, Unix nanoseconds
	)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for c := range p.callers {
		rep := c % n
		base := bases[rep]
		wg.Go(func() {
			var mine []time.Duration
			var count int64
			for runCtx.Err() == nil {
				k := seq.Add(1)
				sp := cfg.Spaces[k%int64(len(cfg.Spaces))]
				target := fmt.Sprintf("%s/v1/spaces/%s/messages?key=bench-key&token=%s&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&requestId=bench-%d",
					base, sp.Name, url.QueryEscape(sp.IngestToken.Reveal()), k)
				req, err := http.NewRequestWithContext(runCtx, http.MethodPost, target, bytes.NewReader(bodies[k%int64(len(bodies))]))
				if err != nil {
					errs.Add(1)
					return
				}
				req.Header.Set("Content-Type", "application/json; charset=UTF-8")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if runCtx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat := time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				if measured.Load() {
					mine = append(mine, lat)
					count++
					sec := int(time.Since(time.Unix(0, begin.Load())) / time.Second)
					if sec >= 0 && sec < len(perSecond) {
						perSecond[sec].Add(1)
					}
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			accepts[rep] += count
			mu.Unlock()
		})
	}
	sleep(runCtx, p.warmup)
	if p.cpuProfile != "" {
		f, err := os.Create(p.cpuProfile)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	self0, pg0 := benchkit.ProcessCPU(os.Getpid()), benchkit.PostgresCPU()
	begin.Store(start.UnixNano())
	measured.Store(true)
	errs.Store(0)
	sleep(runCtx, p.duration)
	measured.Store(false)
	elapsed := time.Since(start)
	self1, pg1 := benchkit.ProcessCPU(os.Getpid()), benchkit.PostgresCPU()
	cancel()
	wg.Wait()
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}

	res := result{errors: int(errs.Load()),
		selfCores: (self1 - self0).Seconds() / elapsed.Seconds(),
		pgCores:   (pg1 - pg0).Seconds() / elapsed.Seconds(),
	}
	var total int64
	for _, a := range accepts {
		total += a
		res.perReplica = append(res.perReplica, float64(a)/elapsed.Seconds())
	}
	res.total = float64(total) / elapsed.Seconds()
	// The whole seconds of the run only: the last partial one is cut off.
	secs := min(int(elapsed/time.Second), len(perSecond))
	w := max(1, min(int(p.window/time.Second), secs))
	var first, last int64
	for i := range w {
		first += perSecond[i].Load()
		last += perSecond[secs-1-i].Load()
	}
	res.first, res.last = float64(first)/float64(w), float64(last)/float64(w)
	slices.Sort(lats)
	if len(lats) > 0 {
		res.p50, res.p99 = lats[len(lats)/2], lats[len(lats)*99/100]
	}
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// alertText is an alert-sized message text, the one BenchmarkIngest posts:
// about 600 bytes, as a monitoring rule with a summary, a description,
// labels and a link renders it.
var alertText = strings.Join([]string{
	"*[FIRING:1]* HighErrorRate api-gateway (production, eu-west-1)",
	"*Summary:* 5xx responses above 5% for 10 minutes on api-gateway.",
	"*Description:* The ratio of 5xx answers to all answers has been 7.3% over the last 10 minutes " +
		"(threshold 5%). Upstream checkout-service answers slowly; p99 latency is 2.4 s.",
	"*Labels:* alertname=HighErrorRate, cluster=prod-eu-1, namespace=edge, service=api-gateway, severity=critical, team=platform",
	"*Started:* 2026-11-27T10:42:17Z",
	"<https://grafana.example.com/d/api-gateway/overview?orgId=1&var-cluster=prod-eu-1|Dashboard> · " +
		"<https://runbooks.example.com/HighErrorRate|Runbook>",
}, "\n")

// startGoogle is an emulator with Google's default quotas and spaces
// Google spaces of one webhook each, on loopback; it returns their webhooks
// and a function that stops it. When unreachable is set the webhooks name a
// port on which nothing listens.
func startGoogle(spaces int, unreachable bool) ([]*gchat.Webhook, func(), error) {
	var specs []emulator.SpaceSpec
	for i := range spaces {
		specs = append(specs, emulator.SpaceSpec{ID: fmt.Sprintf("AAAAbench%02d", i), DisplayName: fmt.Sprintf("s%d", i),
			Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "bench-google-token"}}})
	}
	set := emulator.DefaultSettings()
	emu := emulator.NewServer(emulator.Config{Spaces: specs, Settings: &set}, nil)
	srv := httptest.NewServer(emu)
	base := srv.URL
	if unreachable {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			emu.Close()
			srv.Close()
			return nil, nil, err
		}
		base = "http://" + ln.Addr().String()
		ln.Close()
	}
	var hooks []*gchat.Webhook
	for _, sp := range specs {
		hook, err := gchat.ParseWebhook(base + "/v1/spaces/" + sp.ID + "/messages?key=" + emulator.FakeKey + "&token=bench-google-token")
		if err != nil {
			emu.Close()
			srv.Close()
			return nil, nil, err
		}
		hooks = append(hooks, hook)
	}
	return hooks, func() { emu.Close(); srv.Close() }, nil
}
