package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSQLiteHeldExclusively checks the SQLite store's lock file from the
// outside: while a relay runs on a file, a second relay on it (another
// port) and gchat migrate are refused at once with a message naming the
// file. And after kill -9 the relay started again takes its lanes at once:
// with a lease of 10 minutes (timing.lease), which a restart used to wait
// out, the backlog left behind, the attempt in flight at the kill included,
// is delivered within a minute, in order and each message once.
func TestSQLiteHeldExclusively(t *testing.T) {
	bin := binary(t)
	// Each request takes 300 ms at the emulator, so that a send is in
	// flight (its delivery sending in the store) when the relay is killed.
	emu := startEmulator(t, "--space", "restart", "--quota-per-second", "20", "--quota-per-minute", "0",
		"--fault-latency", "300ms")
	space := emu.spaces(t)["restart"]

	dir := t.TempDir()
	r := &relay{t: t, addr: freeAddr(t), admin: randomHex(16), config: filepath.Join(dir, "relay.yaml"),
		store: filepath.Join(dir, "relay.db"), emuHost: emu.host, out: &syncBuffer{},
		spaces: []*relaySpace{{Name: "restart", Webhook: space.Webhooks[0].URL, Token: randomHex(16),
			Pace: 100 * time.Millisecond, NoCoalesce: true}}}
	logOnFailure(t, "relay", r.out)
	r.writeConfig()
	const lease = 10 * time.Minute
	cfg, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cfg, []byte("lease: 5s\n")) {
		t.Fatalf("the configuration has no lease: 5s line to replace:\n%s", cfg)
	}
	if err := os.WriteFile(r.config, bytes.Replace(cfg, []byte("lease: 5s\n"), fmt.Appendf(nil, "lease: %s\n", lease), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()

	t.Run("SecondRelayRefused", func(t *testing.T) {
		for name, args := range map[string][]string{
			"relay":   {"relay", "--config", r.config, "--listen", freeAddr(t)},
			"migrate": {"migrate", "--store", "sqlite:" + r.store},
		} {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			timedOut := ctx.Err() != nil
			cancel()
			if err == nil || timedOut {
				t.Errorf("gchat %s on the running relay's store: exit %v (timed out %t), want a refusal; output:\n%s", name, err, timedOut, out)
				continue
			}
			if !strings.Contains(string(out), "in use by another process") || !strings.Contains(string(out), r.store+".lock") {
				t.Errorf("gchat %s refused with:\n%s\nwant the store in use, naming %s.lock", name, out, r.store)
			}
		}
		if status, _, _ := doJSON(t.Context(), "GET", "http://"+r.addr+"/readyz", "", nil, nil); status != 200 {
			t.Errorf("the first relay's /readyz: %d after the refusals, want 200", status)
		}
	})

	t.Run("RestartAfterKill", func(t *testing.T) {
		const total = 8
		for i := range total {
			m := mark{"r", i}
			status, _, err := r.post(t.Context(), "restart", threadQuery, message(m, "r"))
			if status/100 != 2 {
				t.Fatalf("post %s: %d %v", m.text(), status, err)
			}
		}
		// Kill while the second message is in flight: the first has
		// arrived and the next request starts 100 ms later, taking 300.
		emu.messages(t, space.ID, 1, 30*time.Second)
		time.Sleep(150 * time.Millisecond)
		r.kill()
		killed := time.Now()
		r.start()

		// Generous, and far under the lease the old relay held.
		const bound = time.Minute
		got := emu.waitMarks(t, bound, total, space.ID)
		if took := time.Since(killed); took >= lease {
			t.Errorf("delivery resumed %s after the kill, want well under the lease (%s)", took, lease)
		}
		want := make([]int, total)
		for i := range want {
			want[i] = i
		}
		if order := firsts(got.order["r"]); !slices.Equal(order, want) {
			t.Errorf("arrival order %v, want %v", order, want)
		}
		if got.repeats > 0 {
			t.Errorf("%d messages posted twice, want none: the emulator honours requestId", got.repeats)
		}
		waitFor(t, 30*time.Second, "every delivery done", func() bool {
			ds := r.deliveries(t, "restart")
			for _, d := range ds {
				if d.State != "done" {
					return false
				}
			}
			return len(ds) == total
		})
	})
}
