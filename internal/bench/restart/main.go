// Command restart measures how long a relay killed with SIGKILL (kill -9)
// and started again takes to send its next message: the stall a crash
// costs. Each round starts the gchat binary as `gchat relay` on a fresh
// store, posts a backlog into one space, waits until the emulator (in this
// process, Google's quotas, loopback) has the first message, kills the
// relay, starts it again on the same store and port, and times from that
// start to the next message the emulator receives. The relay runs with the
// default timings (timing.lease 1 minute).
//
//	go run ./internal/bench/restart [-bin PATH] [-stores sqlite,postgres] [-rounds 3] [-backlog 20]
//
// Without -bin it builds ./cmd/gchat first. PostgreSQL is -postgres URL,
// else $GCHAT_TEST_POSTGRES_URL; each round uses a fresh schema, dropped at
// its end. Every wait is bounded (-timeout, default 3 minutes).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/bench/benchkit"
	"github.com/gchatkit/gchat/internal/emulator"
)

func main() { benchkit.Main("restart", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("restart", flag.ContinueOnError)
	flags.SetOutput(stderr)
	bin := flags.String("bin", "", "the gchat `binary` to run (default: build ./cmd/gchat)")
	stores := flags.String("stores", "sqlite,postgres", "`stores` to measure, comma-separated")
	rounds := flags.Int("rounds", 3, "kills per store")
	backlog := flags.Int("backlog", 20, "messages posted before each kill")
	pg := flags.String("postgres", "", "PostgreSQL `URL` (default $GCHAT_TEST_POSTGRES_URL)")
	timeout := flags.Duration("timeout", 3*time.Minute, "bound on each wait")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *pg == "" {
		*pg = getenv("GCHAT_TEST_POSTGRES_URL")
	}
	dir, err := os.MkdirTemp("", "gchat-bench-restart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *bin == "" {
		if *bin, err = benchkit.BuildGchat(ctx, dir); err != nil {
			return err
		}
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "store\trestart to first send, each round\tmedian\tmax")
	for _, kind := range strings.Split(*stores, ",") {
		var took []time.Duration
		for i := range *rounds {
			storeArg := "sqlite:" + filepath.Join(dir, fmt.Sprintf("relay-%d.db", i))
			var drop func()
			if kind == "postgres" {
				if *pg == "" {
					return errors.New("postgres: no -postgres URL and no $GCHAT_TEST_POSTGRES_URL")
				}
				storeArg, drop, err = benchkit.FreshSchema(ctx, *pg, "restart")
				if err != nil {
					return err
				}
			} else if kind != "sqlite" {
				return fmt.Errorf("-stores: unknown store %q", kind)
			}
			d, err := round(ctx, *bin, dir, storeArg, *backlog, *timeout, stderr)
			if drop != nil {
				drop()
			}
			if err != nil {
				return fmt.Errorf("%s round %d: %w", kind, i+1, err)
			}
			took = append(took, d)
		}
		var each []string
		for _, d := range took {
			each = append(each, benchkit.Seconds(d))
		}
		slices.Sort(took)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", kind, strings.Join(each, ", "), benchkit.Seconds(took[len(took)/2]), benchkit.Seconds(took[len(took)-1]))
	}
	return tw.Flush()
}

// round runs one kill and restart and returns the time from the restart
// to the next message at the emulator.
func round(ctx context.Context, bin, dir, storeArg string, backlog int, timeout time.Duration, stderr io.Writer) (time.Duration, error) {
	g, err := benchkit.StartEmulator("restart", "relay")
	if err != nil {
		return 0, err
	}
	defer g.Stop()
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return 0, err
	}
	token := randomHex(16)
	cfg := filepath.Join(dir, "relay.yaml")
	body := fmt.Sprintf("listen: %q\nstore: %q\nallowed_hosts: [%q]\nspaces:\n  bench:\n    webhook_url: %q\n    ingest_token: %s\n    coalesce: false\n",
		addr, storeArg, g.Host, g.Hook.Reveal(), token)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return 0, err
	}
	var logs bytes.Buffer
	first, err := startRelay(ctx, bin, cfg, addr, &logs, timeout)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, logs.String())
	}
	defer stopProc(first)
	for i := range backlog {
		if err := post(ctx, addr, token, fmt.Sprintf("restart bench message %d", i)); err != nil {
			return 0, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	_, err = g.Emu.WaitMessages(wctx, g.Space, 1)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("first message before the kill: %w", err)
	}
	first.Process.Kill()
	first.Wait()
	// A request in flight at the kill may still land: count after it.
	time.Sleep(200 * time.Millisecond)
	before := len(g.Emu.Messages(g.Space, emulator.MessageFilter{}))
	if before >= backlog {
		return 0, fmt.Errorf("the whole backlog of %d went out before the kill: raise -backlog", backlog)
	}

	started := time.Now()
	second, err := startRelay(ctx, bin, cfg, addr, &logs, timeout)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, logs.String())
	}
	defer stopProc(second)
	wctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := g.Emu.WaitMessages(wctx, g.Space, before+1); err != nil {
		return 0, fmt.Errorf("first message after the restart: %w", err)
	}
	took := time.Since(started)
	fmt.Fprintf(stderr, "restart: %s: %s\n", strings.SplitN(storeArg, ":", 2)[0], benchkit.Seconds(took))
	return took, nil
}

// startRelay starts `gchat relay` and waits until /readyz answers 200.
func startRelay(ctx context.Context, bin, cfg, addr string, logs io.Writer, timeout time.Duration) (*exec.Cmd, error) {
	cmd := exec.Command(bin, "relay", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		req, _ := http.NewRequestWithContext(rctx, "GET", "http://"+addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, errors.New("the relay did not become ready")
}

// stopProc ends a relay gracefully, or kills it after 10 s.
func stopProc(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func post(ctx context.Context, addr, token, text string) error {
	body, _ := json.Marshal(map[string]string{"text": text})
	u := fmt.Sprintf("http://%s/v1/spaces/bench/messages?%s", addr, url.Values{"key": {"bench"}, "token": {token}}.Encode())
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post: status %d", resp.StatusCode)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
