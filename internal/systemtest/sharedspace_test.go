package systemtest

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSharedGoogleSpace: relay spaces a and b post into one Google space
// through two webhooks. a's webhook is deleted: a stops (one operator
// notice, naming a) while b delivers on, in order, at the Google space's
// pace, unthreaded messages too. With a new webhook for a in its
// configuration, `gchat resume a` sends a's backlog, in order.
func TestSharedGoogleSpace(t *testing.T) {
	bin := binary(t)
	emu := startEmulator(t, "--space", "shared", "--space", "oncall",
		"--quota-per-second", quotaPerSecond, "--quota-per-minute", "0")
	spaces := emu.spaces(t)
	shared, oncall := spaces["shared"], spaces["oncall"]
	hookA := shared.Webhooks[0]
	var hookB emuWebhook
	mustJSON(t, "POST", emu.base+"/api/v1/spaces/"+shared.ID+"/webhooks", "", map[string]string{"name": "b"}, &hookB)
	r := startRelayWith(t, emu.host, "oncall",
		&relaySpace{Name: "a", Webhook: hookA.URL, Pace: testPace, NoCoalesce: true},
		&relaySpace{Name: "b", Webhook: hookB.URL, Pace: testPace, NoCoalesce: true},
		&relaySpace{Name: "oncall", Webhook: oncall.Webhooks[0].URL, Pace: testPace})

	// a's webhook is revoked; then a and b post, a first, unthreaded
	// messages and one thread each.
	mustJSON(t, "DELETE", emu.base+"/api/v1/spaces/"+shared.ID+"/webhooks/"+hookA.ID, "", nil, nil)
	const each = 8
	start := time.Now()
	for n := range each {
		for _, p := range []struct{ space, label, thread string }{
			{"a", "a", ""}, {"a", "ta", "ta"}, {"b", "b", ""}, {"b", "tb", "tb"},
		} {
			if _, _, err := r.post(t.Context(), p.space, threadQuery, message(mark{p.label, n}, p.thread)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := emu.waitMarks(t, time.Minute, 2*each, shared.ID)
	took := time.Since(start)
	var want []int
	for n := range each {
		want = append(want, n)
	}
	for _, label := range []string{"b", "tb"} {
		if g := got.order[label]; !slices.Equal(g, want) {
			t.Errorf("b's %s: delivered %v, want %v (once each, in order)", label, g, want)
		}
	}
	if g := got.order["a"]; len(g) != 0 {
		t.Errorf("a delivered %v through its deleted webhook", g)
	}
	reqs := emu.requests(t, shared.ID)
	if gap := minGap(reqs); gap < testPace-pacingTolerance {
		t.Errorf("least gap between requests into the shared space %s, want at least %s", gap, testPace-pacingTolerance)
	}
	refused := emu.byStatus(t)["403"]
	if refused == 0 || refused > 2 {
		t.Errorf("%d requests refused with 403, want 1 (or 2: a's two groups may each have started one)", refused)
	}
	t.Logf("webhook a deleted: %d request(s) refused, b's %d messages delivered in %s, in order", refused, 2*each, took.Round(time.Millisecond))

	// The admin API and the notice say which relay space is paused.
	var list struct {
		Spaces []struct {
			Space       string `json:"space"`
			Paused      bool   `json:"paused"`
			PauseScope  string `json:"pauseScope"`
			PauseReason string `json:"pauseReason"`
		}
	}
	r.api(t, "GET", "/api/v1/spaces", &list)
	for _, s := range list.Spaces {
		switch s.Space {
		case "a":
			if !s.Paused || s.PauseScope != "webhook" || !strings.Contains(s.PauseReason, "403") {
				t.Errorf("space a listed %+v, want paused by its webhook's 403", s)
			}
		default:
			if s.Paused {
				t.Errorf("space %s listed paused: %+v", s.Space, s)
			}
		}
	}
	var notices []string
	waitFor(t, 30*time.Second, "the pause notice", func() bool {
		notices = notices[:0]
		for _, m := range emu.messages(t, oncall.ID, 0, time.Second) {
			notices = append(notices, m.Body.Text)
		}
		return len(notices) > 0
	})
	if len(notices) != 1 || !strings.Contains(notices[0], "space a paused") {
		t.Errorf("operator notices %q, want one, naming space a", notices)
	}

	// The fix: a new webhook for a, the configuration pointed at it, a
	// restart (which resumes nothing by itself), and `gchat resume a`.
	var again emuWebhook
	mustJSON(t, "POST", emu.base+"/api/v1/spaces/"+shared.ID+"/webhooks", "", map[string]string{"name": "a again"}, &again)
	r.space("a").Webhook = again.URL
	r.writeConfig()
	r.restart()
	time.Sleep(5 * testPace)
	if g := emu.waitMarks(t, time.Second, 0, shared.ID).order["a"]; len(g) != 0 {
		t.Fatalf("a delivered %v before it was resumed", g)
	}
	cmd := exec.CommandContext(t.Context(), bin, "resume", "--relay", "http://"+r.addr, "a")
	cmd.Env = append(os.Environ(), "GCHAT_ADMIN_TOKEN="+r.admin)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "resumed space a") {
		t.Fatalf("gchat resume a: %v\n%s", err, out)
	}
	got = emu.waitMarks(t, time.Minute, 4*each, shared.ID)
	for _, label := range []string{"a", "ta", "b", "tb"} {
		if g := got.order[label]; !slices.Equal(g, want) {
			t.Errorf("%s after the resume: delivered %v, want %v (once each, in order)", label, g, want)
		}
	}
	t.Logf("after gchat resume a: a's %d messages delivered in order", 2*each)
}
