package systemtest

import (
	"fmt"
	"testing"
	"time"
)

// TestEscalationAcrossRestart runs the real Alertmanager against a relay
// route with escalate: rules and kills the relay (SIGKILL) right after the
// incident's firing card arrived, before its escalation is due, and starts
// it again on the same store and port while Alertmanager keeps the alert
// firing. The escalation timer lives in the store: the restarted relay
// posts its reply, once, in the incident's thread; the rule of an hour
// never fires, and the resolved lands in the same thread.
func TestEscalationAcrossRestart(t *testing.T) {
	bin := binary(t) // skips without GCHAT_SYSTEM_TESTS=1
	amBin := alertmanagerPath(t)
	emu := startEmulator(t, "--space", "escalate", "--quota-per-second", "20", "--quota-per-minute", "0")
	var space, hook string
	for name, sp := range emu.spaces(t) {
		if name == "escalate" {
			space, hook = sp.ID, sp.Webhooks[0].URL
		}
	}
	token := randomHex(16)
	r := startRouteRelay(t, bin, emu.host, map[string]string{"escalate": hook}, []string{
		fmt.Sprintf("name: escalate\n  source: alertmanager\n  bearer_token: %s\n  spaces: [escalate]\n  thread: incident\n"+
			"  escalate:\n    - {after: 4s, mention: users/123}\n    - {after: 1h, mention: all}", token),
	})
	am := startAlertmanager(t, amBin, token, map[string]string{"escalate": "http://" + r.addr + "/v1/alertmanager/escalate"})

	alerts := []amAlert{newAlert("escalate", "QueueStuck", "eu", "worker-1", time.Now().UTC())}
	am.post(t, alerts...)
	fired := settledMessages(t, emu, space, 1)[0]
	if fired.status() != "firing" {
		t.Fatalf("first message %s, want the firing card", describeAM([]amMessage{fired}))
	}
	r.kill()
	r.start()

	// The relay looks for due escalations every 10 s: the reply comes
	// within settledMessages' 20 s.
	msgs := settledMessages(t, emu, space, 2)
	reply := msgs[1]
	if want := "<users/123> still firing after 4s: QueueStuck"; reply.Body.Text != want {
		t.Errorf("escalation text %q, want %q", reply.Body.Text, want)
	}
	if !reply.ThreadReply || reply.Thread.Name != fired.Thread.Name {
		t.Errorf("escalation in thread %s (reply %t), want a reply in the incident's thread %s", reply.Thread.Name, reply.ThreadReply, fired.Thread.Name)
	}

	am.post(t, resolvedAlerts(alerts...)...)
	msgs = settledMessages(t, emu, space, 3)
	if res := msgs[2]; res.status() != "resolved" || res.Thread.Name != fired.Thread.Name {
		t.Errorf("third message %s, want the resolved card in %s", describeAM(msgs[2:]), fired.Thread.Name)
	}
}
