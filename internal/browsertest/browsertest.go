// Package browsertest starts headless Chromium for the browser tests of the
// emulator's page and the relay's console, and keeps their screenshots. It
// is imported by tests only.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of Chromium, or skips the test when there is
// none (fails it when CI=true, where a missing component is an error).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "Chromium not found: install it (Debian: apt-get install -y chromium) to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// New starts headless Chromium at execPath for the test, stopped at its end.
// It passes exactly the flags of docs/design.md "Real components": without
// them Chromium floods the closed network with connection attempts.
func New(t testing.TB, ctx context.Context, execPath string) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// Save keeps a screenshot: in $GCHAT_ARTIFACTS_DIR when it is set (CI
// prints where), and in docs, the repository's docs folder as a path from
// the test's package, when update is set (the tests' -update flag).
func Save(t testing.TB, name string, png []byte, docs string, update bool) {
	t.Helper()
	var dirs []string
	if dir := os.Getenv("GCHAT_ARTIFACTS_DIR"); dir != "" {
		dirs = append(dirs, dir)
	}
	if update {
		dirs = append(dirs, docs)
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		t.Logf("wrote %s", path)
	}
}
