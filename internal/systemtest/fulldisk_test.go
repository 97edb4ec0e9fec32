package systemtest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFullDisk runs the relay with its SQLite store on a small tmpfs and
// fills the disk while deliveries are in flight: ingest answers 503 with
// Retry-After, /readyz fails while /healthz stays ok, and once space is
// freed /readyz recovers by itself and ingest accepts again. Every message
// answered 2xx reaches the emulator, which does not honour requestId, once:
// a send whose record failed on the full disk is recorded afterwards, not
// sent again. Mounting a tmpfs needs root; without it the test skips, unless
// CI=true, where it fails.
func TestFullDisk(t *testing.T) {
	binary(t)
	start := time.Now()
	disk := mountTmpfs(t, "8m")

	// Each request takes 100 ms at the emulator and the space is paced at
	// 100 ms, so that sends are in flight, and their records due, while
	// the disk fills.
	emu := startEmulator(t, "--space", "disk", "--quota-per-second", "0", "--quota-per-minute", "0",
		"--honour-request-id=false", "--fault-latency", "100ms")
	space := emu.spaces(t)["disk"]
	dir := t.TempDir()
	r := &relay{t: t, addr: freeAddr(t), admin: randomHex(16), config: filepath.Join(dir, "relay.yaml"),
		store: filepath.Join(disk, "relay.db"), emuHost: emu.host, out: &syncBuffer{},
		spaces: []*relaySpace{{Name: "disk", Webhook: space.Webhooks[0].URL, Token: randomHex(16),
			Pace: 100 * time.Millisecond, NoCoalesce: true}}}
	logOnFailure(t, "relay", r.out)
	r.writeConfig()
	r.start()

	accepted := map[mark]bool{}
	var refused []mark
	post := func(m mark) int {
		t.Helper()
		q := url.Values{"requestId": {"disk-" + m.label + "-" + fmt.Sprint(m.n)}}
		for k, v := range threadQuery {
			q[k] = v
		}
		u := fmt.Sprintf("http://%s/v1/spaces/disk/messages?key=systemtest&token=%s&%s", r.addr, r.space("disk").Token, q.Encode())
		body := fmt.Sprintf(`{"text":%q,"thread":{"threadKey":%q}}`, m.text()+" "+strings.Repeat("x", 2000), m.label)
		resp, err := http.Post(u, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("post %s: %v", m.text(), err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			accepted[m] = true
		case resp.StatusCode == http.StatusServiceUnavailable:
			if resp.Header.Get("Retry-After") == "" {
				t.Errorf("post %s: 503 without Retry-After", m.text())
			}
			refused = append(refused, m)
		default:
			t.Fatalf("post %s: %d, want 200 or 503", m.text(), resp.StatusCode)
		}
		return resp.StatusCode
	}
	status := func(path string) int {
		resp, err := http.Get("http://" + r.addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Before: four threads of five messages, all accepted.
	for n := range 5 {
		for th := range 4 {
			if s := post(mark{fmt.Sprintf("before%d", th), n}); s != http.StatusOK {
				t.Fatalf("before the disk fills: post answered %d", s)
			}
		}
	}
	emu.messages(t, space.ID, 3, 10*time.Second)

	// Fill the disk, then post until ingest refuses.
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	for n := 0; ; n++ {
		if n == 200 {
			t.Fatal("ingest still accepts after 200 posts on a full disk")
		}
		if post(mark{"full", n}) == http.StatusServiceUnavailable {
			break
		}
	}
	// A probe's write is small and may still fit into what the log's
	// file holds, as may a small message; the failed ingest that follows
	// marks the store failing again, so keep posting, as clients do.
	n := 0
	waitFor(t, 5*time.Second, "/readyz to fail on the full disk", func() bool {
		if status("/readyz") == http.StatusServiceUnavailable {
			return true
		}
		n++
		post(mark{"probe", n})
		return false
	})
	if s := status("/healthz"); s != http.StatusOK {
		t.Errorf("/healthz on a full disk: %d, want 200", s)
	}
	// Stay full for a while, below the lease (5 s), with sends' records
	// failing meanwhile.
	time.Sleep(2 * time.Second)
	if s := status("/readyz"); s != http.StatusServiceUnavailable {
		t.Errorf("/readyz, disk still full: %d, want 503", s)
	}
	post(mark{"full", 1000}) // refused, or accepted and then owed

	// Free the space: /readyz recovers by itself, ingest accepts.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	waitFor(t, 10*time.Second, "/readyz to recover", func() bool {
		return status("/readyz") == http.StatusOK
	})
	recovered := time.Since(freed)
	for n := range 5 {
		if s := post(mark{"after", n}); s != http.StatusOK {
			t.Fatalf("after space was freed: post answered %d", s)
		}
	}

	// Everything accepted is delivered, once; nothing refused is.
	waitFor(t, 30*time.Second, "the relay to deliver everything", func() bool {
		ds := r.deliveries(t, "disk")
		for _, d := range ds {
			if d.State != "done" {
				return false
			}
		}
		return len(ds) > 0
	})
	got := collect(emu.messages(t, space.ID, 0, time.Second))
	for m := range accepted {
		if c := got.copies[m]; c != 1 {
			t.Errorf("%s, answered 2xx: delivered %d times, want once", m.text(), c)
		}
	}
	for _, m := range refused {
		if c := got.copies[m]; c != 0 {
			t.Errorf("%s, answered 503: delivered %d times, want never", m.text(), c)
		}
	}
	logs := r.out.String()
	t.Logf("%d accepted, %d refused with 503, %d finish_failed and %d finish_recorded in the relay's log, /readyz back %s after space was freed, %s in all",
		len(accepted), len(refused), strings.Count(logs, "finish_failed"), strings.Count(logs, "finish_recorded"),
		recovered.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// mountTmpfs mounts a tmpfs of size on a directory of the test's and
// unmounts it at the end. It skips the test when that is not possible
// (not root, no mount), unless CI=true.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	unable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; CI=true, so the full-disk test must run (as root, with mount)", msg)
		}
		t.Skipf("%s: the full-disk test needs to mount a tmpfs (root)", msg)
	}
	if os.Geteuid() != 0 {
		unable("not root")
	}
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		unable("mount -t tmpfs: %v: %s", err, strings.TrimSpace(string(out)))
	}
	// Registered before the relay's stop, so it runs after it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes the file at path until the disk is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	// The last partial pages too.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
}
