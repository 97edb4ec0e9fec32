package systemtest

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAlertmanagerHAPair runs the standard production setup: two real
// Alertmanagers clustered at their default cluster timings (peer_timeout
// 15 s, gossip 200 ms), both sent every alert (as Prometheus does), both
// with a webhook receiver pointing at one relay route (thread: incident).
// group_interval is 10 s, shorter than peer_timeout, as in a default
// cluster whose group_interval was lowered.
//
// The second Alertmanager of the pair waits peer_timeout before it sends
// and then sends what the first has not: after the first one sent a group's
// resolved, the second sends the group's old firing (the snapshot it took
// before the resolved arrived), then its own resolved. The relay must post
// each group's firing and resolved exactly once, in one thread; the old
// firing is a stale echo, and must not open a second incident. The relay is
// killed and started again after the resolved messages, so the echoes meet
// a relay that knows the alerts were resolved only from its store.
func TestAlertmanagerHAPair(t *testing.T) {
	bin := binary(t) // skips without GCHAT_SYSTEM_TESTS=1
	amBin := alertmanagerPath(t)
	began := time.Now()
	emu := startEmulator(t, "--space", "ha", "--quota-per-second", "20", "--quota-per-minute", "0")
	var space, hook string
	for name, sp := range emu.spaces(t) {
		if name == "ha" {
			space, hook = sp.ID, sp.Webhooks[0].URL
		}
	}
	token := randomHex(16)
	r := startRouteRelay(t, bin, emu.host, map[string]string{"ha": hook}, []string{
		fmt.Sprintf("name: ha\n  source: alertmanager\n  bearer_token: %s\n  spaces: [ha]\n  thread: incident", token),
	})
	receivers := map[string]string{"ha": "http://" + r.addr + "/v1/alertmanager/ha"}
	peerA, peerB := freeAddr(t), freeAddr(t)
	ams := []*alertmanagerProc{
		startAlertmanagerWith(t, amBin, token, receivers, 10*time.Second, "--cluster.listen-address="+peerA, "--cluster.peer="+peerB),
		startAlertmanagerWith(t, amBin, token, receivers, 10*time.Second, "--cluster.listen-address="+peerB, "--cluster.peer="+peerA),
	}
	for i, am := range ams {
		waitFor(t, 30*time.Second, fmt.Sprintf("Alertmanager %d's cluster to be ready with 2 peers", i), func() bool {
			var st struct {
				Cluster struct {
					Status string
					Peers  []any
				}
			}
			status, _, _ := doJSON(t.Context(), "GET", am.base+"/api/v2/status", "", nil, &st)
			return status == 200 && st.Cluster.Status == "ready" && len(st.Cluster.Peers) == 2
		})
	}
	t.Logf("cluster ready after %s", time.Since(began).Round(time.Millisecond))

	const groups = 4
	start := time.Now().UTC()
	var alerts []amAlert
	var names []string
	for g := range groups {
		name := fmt.Sprintf("PairAlert%d", g)
		names = append(names, name)
		alerts = append(alerts, newAlert("ha", name, "eu", "node-1", start), newAlert("ha", name, "eu", "node-2", start))
	}
	for _, am := range ams {
		am.post(t, alerts...)
	}
	settledMessages(t, emu, space, groups)
	resolved := resolvedAlerts(alerts...)
	for _, am := range ams {
		am.post(t, resolved...)
	}
	settledMessages(t, emu, space, 2*groups)
	r.kill()
	r.start()

	// Each Alertmanager sends each group's firing and its resolved: the
	// first, at once and at the next group_interval; the second, each after
	// peer_timeout, the firing being the stale echo. Wait until all have
	// been sent (Alertmanager retries what the killed relay missed).
	waitFor(t, 60*time.Second, "both Alertmanagers to send each group's firing and resolved", func() bool {
		for _, am := range ams {
			if am.webhookSent(t) < 2*groups {
				return false
			}
		}
		return true
	})
	for i, am := range ams {
		t.Logf("Alertmanager %d sent %d notifications", i, am.webhookSent(t))
	}
	msgs := settledMessages(t, emu, space, 2*groups)
	checkFiringThenResolved(t, msgs, names...)
	t.Logf("runtime %s", time.Since(began).Round(time.Millisecond))
}

// webhookSent returns the webhook notifications Alertmanager sent with
// success (alertmanager_notifications_total less the failed ones).
func (am *alertmanagerProc) webhookSent(t *testing.T) int {
	t.Helper()
	resp, err := httpClient.Get(am.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sent, failed float64
	for line := range strings.SplitSeq(string(data), "\n") {
		for prefix, sum := range map[string]*float64{
			`alertmanager_notifications_total{integration="webhook"} `:        &sent,
			`alertmanager_notifications_failed_total{integration="webhook"} `: &failed,
		} {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					t.Fatalf("metric %s: %v", line, err)
				}
				*sum += n
			}
		}
	}
	return int(sent - failed)
}
