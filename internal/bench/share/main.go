// Command share measures how relay replicas sharing PostgreSQL share the
// lanes (Google spaces): how long after a start, a join and a graceful
// leave each replica holds its share. Each replica is a dispatcher of
// package relay/dispatch, what `gchat relay` runs, on its own store (its
// own connection pool), with the relay's default timings unless -lease
// says otherwise (lease 60 s, poll interval 2 s); the lanes are idle and
// the sender answers at once, so what is measured is the sharing alone.
// Every second it prints the lanes each replica holds (a live lease in the
// store), then a summary: for each step, how long until every lane was
// held and each replica held its share within ±1 (even) and within ±15 %.
//
//	go run ./internal/bench/share [-spaces 300] [-replicas 3] [-settle 10s] [-lease 0]
//
// PostgreSQL is -postgres URL, else $GCHAT_TEST_POSTGRES_URL; the run uses
// a fresh schema, dropped at its end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/bench/benchkit"
	"github.com/gchatkit/gchat/internal/relay/dispatch"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
)

func main() { benchkit.Main("share", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("share", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spaces := fs.Int("spaces", 300, "lanes (Google spaces), one relay space each")
	replicas := fs.Int("replicas", 3, "replicas started together; one more joins, then one leaves")
	settle := fs.Duration("settle", 10*time.Second, "how long each step goes on once the spread is even")
	limit := fs.Duration("limit", 5*time.Minute, "give up on a step after this long")
	lease := fs.Duration("lease", 0, "timing.lease (0: the relay's default, twice the request timeout: 60 s)")
	pgURL := fs.String("postgres", getenv("GCHAT_TEST_POSTGRES_URL"), "PostgreSQL `URL` (default $GCHAT_TEST_POSTGRES_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pgURL == "" {
		return errors.New("-postgres or $GCHAT_TEST_POSTGRES_URL is required")
	}
	if *spaces < 1 || *replicas < 1 {
		return errors.New("-spaces and -replicas must be at least 1")
	}
	dbURL, drop, err := benchkit.FreshSchema(ctx, *pgURL, "share")
	if err != nil {
		return err
	}
	defer drop()
	obs, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer obs.Close()

	cfg := dispatch.Config{LeaseTTL: *lease}
	if *lease > 0 && dispatch.DefaultPollInterval >= *lease/2 {
		cfg.PollInterval = *lease / 4 // as the relay sets it
	}
	if *lease > 0 && *lease <= dispatch.DefaultRequestTimeout {
		cfg.RequestTimeout = *lease / 3
	}
	for i := range *spaces {
		u := fmt.Sprintf("https://chat.googleapis.com/v1/spaces/AAAA%06d/messages?key=k&token=t", i)
		hook, err := gchat.ParseWebhook(u)
		if err != nil {
			return err
		}
		cfg.Spaces = append(cfg.Spaces, dispatch.Space{Name: fmt.Sprintf("s%d", i), Webhook: hook})
	}

	type replica struct {
		owner  string
		cancel context.CancelFunc
		done   chan error
		st     *postgres.Store
	}
	var live []*replica
	start := func(n int) error {
		c := cfg
		c.Owner = fmt.Sprintf("replica-%d", n)
		st, err := postgres.Open(ctx, dbURL, postgres.Options{})
		if err != nil {
			return err
		}
		rctx, cancel := context.WithCancel(ctx)
		r := &replica{owner: c.Owner, cancel: cancel, done: make(chan error, 1), st: st}
		d := dispatch.New(c, st, okSender{}, nil)
		go func() { r.done <- d.Run(rctx) }()
		live = append(live, r)
		return nil
	}
	stop := func(r *replica) error {
		r.cancel()
		err := <-r.done
		r.st.Close()
		live = slices.DeleteFunc(live, func(x *replica) bool { return x == r })
		return err
	}
	defer func() {
		for _, r := range slices.Clone(live) {
			stop(r)
		}
	}()

	type result struct {
		step         string
		even, within time.Duration // -1: never
	}
	var results []result
	// watch prints the spread every second until it has been even for
	// settle, and records when it became even and within ±15 %.
	watch := func(step string) error {
		fmt.Fprintf(stdout, "# %s\n", step)
		began := time.Now()
		res := result{step: step, even: -1, within: -1}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
			counts, held, err := spread(ctx, obs)
			if err != nil {
				return err
			}
			at := time.Since(began)
			var cs []string
			n := len(live)
			even, within := held == *spaces, held == *spaces
			for _, r := range live {
				c := counts[r.owner]
				cs = append(cs, fmt.Sprintf("%s=%d", r.owner, c))
				even = even && c >= *spaces/n && c <= (*spaces+n-1)/n
				dev := float64(c) - float64(*spaces)/float64(n)
				within = within && dev <= 0.15*float64(*spaces)/float64(n) && dev >= -0.15*float64(*spaces)/float64(n)
			}
			fmt.Fprintf(stdout, "%5.0fs  held %d  %s\n", at.Seconds(), held, strings.Join(cs, " "))
			if within && res.within < 0 {
				res.within = at
			}
			if !within {
				res.within = -1
			}
			if even && res.even < 0 {
				res.even = at
			}
			if !even {
				res.even = -1
			}
			if res.even >= 0 && at-res.even >= *settle {
				results = append(results, res)
				return nil
			}
			if at > *limit {
				results = append(results, res)
				return fmt.Errorf("%s: not even after %s", step, *limit)
			}
		}
	}

	for i := range *replicas {
		if err := start(i + 1); err != nil {
			return err
		}
	}
	if err := watch(fmt.Sprintf("%d replicas start", *replicas)); err != nil {
		return err
	}
	if err := start(*replicas + 1); err != nil {
		return err
	}
	if err := watch("one joins"); err != nil {
		return err
	}
	if err := stop(live[0]); err != nil {
		return err
	}
	if err := watch("one leaves (SIGTERM)"); err != nil {
		return err
	}

	masked := *pgURL
	if u, err := url.Parse(*pgURL); err == nil {
		masked = u.Redacted()
	}
	fmt.Fprintf(stdout, "\nlanes %d, lease %s (0: default), store %s\n", *spaces, *lease, masked)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "step\twithin ±15%%\teven (±1)\n")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.step, secs(r.within), secs(r.even))
	}
	return tw.Flush()
}

func secs(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

// spread counts the lanes each owner holds on a live lease, by the
// store's clock as far as this machine's agrees with it.
func spread(ctx context.Context, st store.Store) (map[string]int, int, error) {
	states, err := st.LaneStates(ctx)
	if err != nil {
		return nil, 0, err
	}
	now := time.Now()
	counts := make(map[string]int)
	held := 0
	for _, ls := range states {
		if ls.Owner != "" && ls.LeaseUntil.After(now) {
			counts[ls.Owner]++
			held++
		}
	}
	return counts, held, nil
}

// okSender answers every request at once.
type okSender struct{}

func (okSender) Send(ctx context.Context, hook *gchat.Webhook, msg *gchat.Message, opts ...gchat.Option) (*gchat.Response, error) {
	return &gchat.Response{}, nil
}
