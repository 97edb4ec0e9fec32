// Command hostile measures what slow clients that declare large bodies cost
// a running relay: rounds of connections that each declare a body of
// -declared bytes on ingest, send a hundred bytes and stop, held for -hold;
// after each round, the relay's heap in use, resident memory and open file
// descriptors from its /metrics. It runs the gchat binary given by -bin, or
// builds one, so that two builds can be compared:
//
//	go run ./internal/bench/hostile [-bin ./gchat] [-rounds 4] [-conns 200] [-declared 1000000]
//
// The relay's webhook is never called: no body completes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/bench/benchkit"
)

func main() { benchkit.Main("hostile", run) }

func run(ctx context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	bin := fs.String("bin", "", "the gchat `BINARY` to run (default: go build ./cmd/gchat)")
	rounds := fs.Int("rounds", 4, "rounds of connections")
	conns := fs.Int("conns", 200, "connections per round")
	declared := fs.Int("declared", 1_000_000, "Content-Length each connection declares")
	hold := fs.Duration("hold", 3*time.Second, "how long a round holds its connections (below the relay's body timeout of 30 s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gchat-bench-hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *bin == "" {
		if *bin, err = benchkit.BuildGchat(ctx, dir); err != nil {
			return err
		}
	}
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	const token = "benchhostiletoken0123456789"
	cfg := fmt.Sprintf("listen: %q\nstore: %q\nadmin_token: bench-hostile-admin-token\nspaces:\n  a:\n    webhook_url: https://chat.googleapis.com/v1/spaces/BENCH/messages?key=k&token=t\n    ingest_token: %s\n",
		addr, "sqlite:"+filepath.Join(dir, "relay.db"), token)
	if *conns+64 > 1024 {
		// Above the default cap; only builds with the server section
		// take this.
		cfg += fmt.Sprintf("server:\n  max_connections: %d\n", *conns+64)
	}
	cfgPath := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(*bin, "relay", "--config", cfgPath)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	if err := benchkit.WaitReady(ctx, addr, 15*time.Second); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "round\tconnections held\theap in use MB\tRSS MB\topen fds\t\n")
	s, err := scrape(addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "before\t0\t%.1f\t%.1f\t%d\t\n", s.heap/1e6, s.rss/1e6, s.fds)
	head := fmt.Sprintf("POST /v1/spaces/a/messages?key=k&token=%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"text\":%q",
		token, addr, *declared, strings.Repeat("x", 88))
	for round := 1; round <= *rounds; round++ {
		var open []net.Conn
		for range *conns {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
			open = append(open, c)
			if _, err := io.WriteString(c, head); err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(*hold):
		}
		s, err := scrape(addr)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f\t%d\t\n", round, len(open), s.heap/1e6, s.rss/1e6, s.fds)
		for _, c := range open {
			c.Close()
		}
	}
	time.Sleep(time.Second) // the relay notices the closed connections
	if s, err = scrape(addr); err != nil {
		return err
	}
	fmt.Fprintf(tw, "after\t0\t%.1f\t%.1f\t%d\t\n", s.heap/1e6, s.rss/1e6, s.fds)
	return tw.Flush()
}

type stats struct {
	heap, rss float64
	fds       int
}

// scrape reads the relay's heap in use, resident memory and open file
// descriptors from /metrics.
func scrape(addr string) (stats, error) {
	m, err := benchkit.Scrape("http://" + addr + "/metrics")
	if err != nil {
		return stats{}, err
	}
	return stats{heap: m["go_memstats_heap_inuse_bytes"], rss: m["process_resident_memory_bytes"], fds: int(m["process_open_fds"])}, nil
}
