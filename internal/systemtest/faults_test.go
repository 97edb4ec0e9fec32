package systemtest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFaults runs the relay against an emulator that fails requests (503,
// 429, hangs past the relay's request timeout, answers lost after the
// post), then against a
// permanent refusal (a dead letter, fixed and replayed), then against a
// deleted webhook (the space pauses with one operator notice, and resumes
// on request). Operator notices go to a second space, "oncall".
func TestFaults(t *testing.T) {
	// A hang holds its thread for the relay's request_timeout (2 s in
	// writeConfig); backoff runs from 100 ms to 2 s.
	emu := startEmulator(t, "--space", "ops", "--space", "oncall",
		"--quota-per-second", quotaPerSecond, "--quota-per-minute", "0",
		"--fault-503", "0.3", "--fault-429", "0.05", "--fault-hang", "0.03", "--fault-lost", "0.05")
	spaces := emu.spaces(t)
	space, oncall := spaces["ops"], spaces["oncall"]
	hook := space.Webhooks[0]
	r := startRelayWith(t, emu.host, "oncall",
		// One request per message, so that the faults meet every one.
		&relaySpace{Name: "ops", Webhook: hook.URL, Pace: testPace, NoCoalesce: true},
		&relaySpace{Name: "oncall", Webhook: oncall.Webhooks[0].URL, Pace: testPace})
	// notices returns the texts the operator space received.
	notices := func() []string {
		var texts []string
		for _, m := range emu.messages(t, oncall.ID, 0, time.Second) {
			texts = append(texts, m.Body.Text)
		}
		return texts
	}

	// Phase 1: faults. Three threads of ten, posted concurrently, each
	// thread in order.
	const threads, perThread = 3, 10
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, threads*perThread)
	for i := range threads {
		key := fmt.Sprintf("t%d", i)
		wg.Go(func() {
			for n := range perThread {
				if _, _, err := r.post(ctx, "ops", threadQuery, message(mark{key, n}, key)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := emu.waitMarks(t, 3*time.Minute, threads*perThread, space.ID)
	var want []int
	for n := range perThread {
		want = append(want, n)
	}
	for i := range threads {
		key := fmt.Sprintf("t%d", i)
		if g := got.order[key]; !slices.Equal(g, want) {
			t.Errorf("thread %s: delivered %v, want %v (once each, in order)", key, g, want)
		}
	}
	stats := emu.byStatus(t)
	if stats["503"] == 0 {
		t.Errorf("emulator answered no 503 (stats %v): were the faults on?", stats)
	}
	hung := emu.faults(t, space.ID, "hang")
	// A lost answer (posted, the connection reset before the answer) is
	// an ambiguous attempt: the relay retries with the same requestId, and
	// the emulator, honouring it, answers with the first message: the
	// order check above saw each message once.
	t.Logf("answers lost after the post: %d", emu.faults(t, space.ID, "lost"))
	mustJSON(t, "DELETE", emu.base+"/api/v1/faults", "", nil, nil)

	// Phase 1b: a hang for certain. Every request to ops hangs until the
	// relay has given up on one (its request timeout, 2 s); then the
	// faults end and the retry delivers the message, once.
	mustJSON(t, "PUT", emu.base+"/api/v1/faults", "", map[string]any{
		"spaces": map[string]any{space.ID: map[string]any{"hang": 1}}}, nil)
	hangMark := mark{"hang", 0}
	if _, _, err := r.post(t.Context(), "ops", threadQuery, message(hangMark, "hang")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a request to hang", func() bool { return emu.faults(t, space.ID, "hang") > hung })
	mustJSON(t, "DELETE", emu.base+"/api/v1/faults", "", nil, nil)
	got = emu.waitMarks(t, 30*time.Second, threads*perThread+1, space.ID)
	if g := got.order["hang"]; !slices.Equal(g, []int{0}) {
		t.Errorf("after a hang: delivered %v of the hung message, want it once", g)
	}
	t.Logf("hangs: %d in the random phase, then one forced; the message was delivered once after the relay's timeout", hung)
	t.Logf("faults: %d messages delivered in %s; emulator answers %v", threads*perThread, time.Since(start).Round(time.Millisecond), stats)

	// Phase 2: a permanent refusal. REPLY_MESSAGE_OR_FAIL into a thread
	// the space does not have is a 404 for the message, not for the space:
	// a dead letter with the reason.
	orphan := mark{"late", 0}
	orFail := url.Values{"messageReplyOption": {"REPLY_MESSAGE_OR_FAIL"}}
	if _, _, err := r.post(t.Context(), "ops", orFail, message(orphan, "late")); err != nil {
		t.Fatal(err)
	}
	var dead []relayDelivery
	waitFor(t, 30*time.Second, "a dead letter", func() bool {
		var list struct{ Deliveries []relayDelivery }
		r.api(t, "GET", "/api/v1/dead?space=ops", &list)
		dead = list.Deliveries
		return len(dead) > 0
	})
	if len(dead) != 1 || dead[0].LastStatus != 404 || dead[0].LastError == "" {
		t.Fatalf("dead letters %+v, want one with status 404 and a reason", dead)
	}
	t.Logf("dead letter: status %d, reason %q", dead[0].LastStatus, dead[0].LastError)
	waitFor(t, 30*time.Second, "the dead-letter notice", func() bool { return len(notices()) == 1 })
	if n := notices(); !strings.Contains(n[0], "dead") || !strings.Contains(n[0], "ops") {
		t.Errorf("operator notice %q, want one naming the dead letter of space ops", n[0])
	}
	// Fix the cause: start the thread straight at the emulator, then
	// replay.
	u := hook.URL + "&" + threadQuery.Encode()
	starter := map[string]any{"text": "thread starter", "thread": map[string]string{"threadKey": "late"}}
	for try := 0; ; try++ {
		// The test's own request shares the space's quota with the relay.
		status, _, err := doJSON(t.Context(), "POST", u, "", starter, nil)
		if err == nil {
			break
		}
		if status != 429 || try == 10 {
			t.Fatal(err)
		}
		time.Sleep(testPace)
	}
	r.api(t, "POST", "/api/v1/dead/"+dead[0].ID+"/replay", nil)
	emu.waitMarks(t, 30*time.Second, threads*perThread+2, space.ID)
	msgs := emu.messages(t, space.ID, 0, time.Second)
	last := msgs[len(msgs)-1]
	if ms := marks(last.Body.Text); len(ms) != 1 || ms[0] != orphan || last.Thread.ThreadKey != "late" || !last.ThreadReply {
		t.Fatalf("after replay the last message is %q in thread %q (reply %t), want %s as a reply in thread late",
			last.Body.Text, last.Thread.ThreadKey, last.ThreadReply, orphan.text())
	}

	// Phase 3: the webhook is deleted. The first refused message pauses
	// the space; later ones wait. The emulator keeps a deleted webhook's
	// token (its URL keeps answering 403), so the webhook cannot be made
	// again with the same token (409 ALREADY_EXISTS): the operator's fix is
	// a new webhook in the same space, the relay's configuration pointed
	// at it, a restart, and a resume.
	mustJSON(t, "DELETE", emu.base+"/api/v1/spaces/"+space.ID+"/webhooks/"+hook.ID, "", nil, nil)
	before := len(msgs)
	const backlog = 6
	for n := range backlog {
		if _, _, err := r.post(t.Context(), "ops", threadQuery, message(mark{"after", n}, "after")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the relay to pause the space", func() bool {
		return strings.Contains(r.out.String(), "msg=space_paused")
	})
	refused := len(emu.requests(t, space.ID))
	waitFor(t, 30*time.Second, "the pause notice", func() bool { return len(notices()) >= 2 })
	time.Sleep(5 * testPace) // a paused lane sends nothing
	if n := len(emu.requests(t, space.ID)); n != refused {
		t.Errorf("the paused space got %d more requests, want none", n-refused)
	}
	if n := len(emu.messages(t, space.ID, 0, time.Second)); n != before {
		t.Fatalf("the emulator has %d messages while the webhook is deleted, want %d", n, before)
	}
	var again emuWebhook
	mustJSON(t, "POST", emu.base+"/api/v1/spaces/"+space.ID+"/webhooks", "", map[string]string{"name": "again"}, &again)
	r.space("ops").Webhook = again.URL
	r.writeConfig()
	r.restart()
	r.api(t, "POST", "/api/v1/spaces/ops/resume", nil)
	got = emu.waitMarks(t, 30*time.Second, threads*perThread+2+backlog, space.ID)
	want = want[:0]
	for n := range backlog {
		want = append(want, n)
	}
	if g := got.order["after"]; !slices.Equal(g, want) {
		t.Errorf("backlog after resume: delivered %v, want %v", g, want)
	}
	// One notice for the pause, whatever the number of refused messages
	// and the restart: two notices in all, the dead letter's and the pause's.
	n := notices()
	if len(n) != 2 || !strings.Contains(n[1], "paused") {
		t.Errorf("operator notices %q, want exactly two: the dead letter, then one pause of space ops", n)
	}
	t.Logf("deleted webhook: paused after %d refused request(s) (403), backlog of %d delivered in order after resume", emu.byStatus(t)["403"], backlog)
}
