// Command burst measures how long a burst of messages to one thread takes
// to become visible in Google Chat at Google's real quota, through the relay
// and sent one by one, against the floor the quota allows. Google is an
// in-process emulator with its default quotas (1 request per second, burst
// 1, and 60 per rolling minute per space). It runs in real time: minutes.
//
//	go run ./internal/bench/burst [-n 200] [-pace 1.05s] [-size 600]
//
// Each scenario gets its own emulator, so their quotas and counts are
// separate and they run at the same time (-serial runs them one after the
// other). A scenario is "done" when every message's marker is visible in
// the emulator; its time runs from the first send to the creation time of
// the emulator message that made the last marker visible.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/bench/benchkit"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
	"github.com/gchatkit/gchat/internal/relay/app"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// Google's limits that the floor is made of (docs/google-chat.md §4.1, §4.2).
const (
	maxRequestBytes = 32_000
)

func main() { benchkit.Main("burst", run) }

// params are the command's flags.
type params struct {
	n       int
	pace    time.Duration
	size    int
	serial  bool
	timeout time.Duration
}

func run(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("burst", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var p params
	flags.IntVar(&p.n, "n", 200, "messages in the burst, all in one thread")
	flags.DurationVar(&p.pace, "pace", gchat.DefaultPace, "least interval between two requests, for the relay and one-by-one sending")
	flags.IntVar(&p.size, "size", 600, "bytes of text per message (600: alert-sized)")
	flags.BoolVar(&p.serial, "serial", false, "run the scenarios one after the other instead of at the same time")
	flags.DurationVar(&p.timeout, "timeout", 0, "give up on a scenario after this long (default twice n·pace plus a minute)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	switch {
	case flags.NArg() > 0:
		return fmt.Errorf("no arguments expected, got %q", flags.Args())
	case p.n < 1:
		return fmt.Errorf("-n %d: want 1 or more", p.n)
	case p.pace <= 0:
		return fmt.Errorf("-pace %s: want more than 0", p.pace)
	case p.size < 40:
		return fmt.Errorf("-size %d: want 40 or more", p.size)
	}
	if p.timeout <= 0 {
		p.timeout = 2*time.Duration(p.n)*p.pace + time.Minute
	}

	msgs := burstMessages(p.n, p.size)
	var total int
	for i := range msgs {
		body, err := gchat.Encode(&msgs[i])
		if err != nil {
			return fmt.Errorf("encode message %d: %w", i, err)
		}
		total += len(body)
	}
	floorReqs := (total + maxRequestBytes - 1) / maxRequestBytes

	scenarios := []struct {
		name string
		run  func(context.Context, params, []gchat.Message) (result, error)
	}{
		{"relay", runRelay},
		{"one by one", runOneByOne},
	}
	results := make([]result, len(scenarios))
	errs := make([]error, len(scenarios))
	var wg sync.WaitGroup
	for i, s := range scenarios {
		do := func() {
			results[i], errs[i] = s.run(ctx, p, msgs)
			results[i].name = s.name
		}
		if p.serial {
			do()
		} else {
			wg.Go(do)
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "burst: %d messages of %d text bytes in one thread, %d encoded bytes in all; quota 1/s burst 1 and %d/min; pace %s\n\n",
		p.n, p.size, total, benchkit.QuotaPerMinute, p.pace)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tall visible after\trequests\tmessages\tlost\t429s\t")
	fmt.Fprintf(tw, "floor: ⌈%d B / %d B⌉ requests at 1/s\t%s\t%d\t%d\t–\t–\t\n",
		total, maxRequestBytes, benchkit.Seconds(benchkit.FloorTime(floorReqs)), floorReqs, floorReqs)
	fmt.Fprintf(tw, "floor one by one: %d requests at 1/s\t%s\t%d\t%d\t–\t–\t\n",
		p.n, benchkit.Seconds(benchkit.FloorTime(p.n)), p.n, p.n)
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t\n", r.name, benchkit.Seconds(r.visible), r.requests, r.messages, r.lost, r.throttled)
	}
	tw.Flush()
	for _, r := range results {
		if r.note != "" {
			fmt.Fprintf(stdout, "\n%s: %s", r.name, r.note)
		}
	}
	fmt.Fprintln(stdout)
	return nil
}

// burstMessages returns n alert-like messages of about size text bytes, in
// one thread, each with a unique marker.
func burstMessages(n, size int) []gchat.Message {
	const filler = "*[FIRING:1]* HighErrorRate api-gateway (production): 5xx responses above 5% for 10 minutes; " +
		"upstream checkout-service answers slowly, p99 2.4 s. cluster=prod-eu-1 namespace=edge severity=critical team=platform " +
		"<https://grafana.example.com/d/api-gateway|Dashboard> <https://runbooks.example.com/HighErrorRate|Runbook> "
	msgs := make([]gchat.Message, n)
	for i := range msgs {
		text := marker(i) + " " + strings.Repeat(filler, size/len(filler)+1)
		msgs[i] = gchat.Message{Text: text[:size], Thread: &gchat.Thread{ThreadKey: "burst"}}
	}
	return msgs
}

func marker(i int) string { return fmt.Sprintf("[burst-%05d]", i) }

// result is one scenario's outcome.
type result struct {
	name      string
	visible   time.Duration // from the first send until every marker was visible
	requests  int           // webhook requests the emulator answered
	messages  int           // messages it shows
	lost      int           // markers never visible
	throttled int           // 429 answers
	note      string
}

// wait polls the emulator until every marker of msgs is visible or ctx
// ends, and fills in the result from the first send at start.
func wait(ctx context.Context, g *benchkit.GoogleSpace, start time.Time, msgs []gchat.Message) result {
	seen := make([]time.Time, len(msgs))
	left := len(msgs)
	next := 0 // messages already looked at
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for left > 0 {
		got := g.Emu.Messages(g.Space, emulator.MessageFilter{})
		for _, m := range got[next:] {
			for i := range msgs {
				if seen[i].IsZero() && strings.Contains(m.Message.Text, marker(i)) {
					seen[i] = m.CreateTime
					left--
				}
			}
		}
		next = len(got)
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	var r result
	for _, t := range seen {
		if t.IsZero() {
			r.lost++
			continue
		}
		r.visible = max(r.visible, t.Sub(start))
	}
	st := g.Emu.Stats().Spaces[g.Space]
	for code, c := range st.ByStatus {
		r.requests += c
		if code == http.StatusTooManyRequests {
			r.throttled += c
		}
	}
	r.messages = len(g.Emu.Messages(g.Space, emulator.MessageFilter{}))
	return r
}

// runOneByOne sends each message on its own with a gchat.Client paced at
// p.pace and its default retries, as a program without a relay would.
func runOneByOne(ctx context.Context, p params, msgs []gchat.Message) (result, error) {
	g, err := benchkit.StartEmulator("burst", "burst")
	if err != nil {
		return result{}, err
	}
	defer g.Stop()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	client := &gchat.Client{Pace: p.pace}
	start := time.Now()
	var failed int
	for i := range msgs {
		if _, err := client.Send(ctx, g.Hook, &msgs[i]); err != nil {
			if ctx.Err() != nil {
				break
			}
			failed++
		}
	}
	r := wait(ctx, g, start, msgs)
	if failed > 0 {
		r.note = fmt.Sprintf("%d sends failed after retries\n", failed)
	}
	return r, nil
}

// runRelay posts the burst to a relay (package app, exactly what `gchat
// relay` runs: real ingest, SQLite with synchronous=FULL, the dispatcher
// with coalescing on) as fast as ingest takes it, and waits until the
// dispatcher has delivered it.
func runRelay(ctx context.Context, p params, msgs []gchat.Message) (result, error) {
	g, err := benchkit.StartEmulator("burst", "burst")
	if err != nil {
		return result{}, err
	}
	defer g.Stop()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "gchat-burst-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "relay.db"), sqlite.Options{Synchronous: "FULL"})
	if err != nil {
		return result{}, err
	}

	sp := config.NewSpace("burst", g.Hook) // coalescing on by default, as in gchat relay
	sp.Pace = p.pace
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return result{}, err
	}
	cfg := &config.Config{Listen: ln.Addr().String(), Spaces: []*config.Space{sp}}
	rl, err := app.New(cfg, ln, st, nil, app.Options{GCPercent: app.GCPercent})
	if err != nil {
		st.Close()
		ln.Close()
		return result{}, err
	}
	runCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan error, 1)
	go func() { ran <- rl.Run(runCtx) }()
	defer func() { stopRelay(); <-ran }()

	ingest, err := gchat.ParseWebhook("http://" + cfg.Listen + "/v1/spaces/burst/messages?key=burst&token=burst")
	if err != nil {
		return result{}, err
	}
	// The relay answers 200 once a message is committed; it does no pacing
	// of its callers.
	caller := &gchat.Client{Pace: -1, Retry: gchat.RetryPolicy{MaxAttempts: 1}}
	start := time.Now()
	for i := range msgs {
		if _, err := caller.Send(ctx, ingest, &msgs[i]); err != nil {
			return result{}, fmt.Errorf("relay ingest of message %d: %w", i, err)
		}
	}
	accepted := time.Since(start)
	r := wait(ctx, g, start, msgs)
	r.note = fmt.Sprintf("all %d accepted (committed, synchronous=FULL) in %s\n", len(msgs), accepted.Round(time.Millisecond))
	return r, nil
}
