package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
)

// TestRelayPostgresReplicas runs two relays in-process on one PostgreSQL
// schema, both from the same configuration: each accepts messages of one
// thread in turn, the emulator gets them in the order they were accepted,
// from whichever replica holds the space, and both replicas' admin APIs
// name the same holder.
func TestRelayPostgresReplicas(t *testing.T) {
	dbURL, _ := pgtest.FreshSchema(t, "gchat_cmd_")
	ts, hook := unpacedEmulator(t, "AAAAreplica") // the relay paces at 50 ms

	dir := t.TempDir()
	cfg := "listen: 127.0.0.1:0\n" +
		"store: ${GCHAT_DB}\n" +
		"admin_token: admin-token-0123456789\n" +
		"allowed_hosts: [" + strings.TrimPrefix(ts.URL, "http://") + "]\n" +
		"timing: {request_timeout: 1s, lease: 3s}\n" +
		"spaces:\n" +
		"  alerts:\n" +
		"    webhook_url: ${HOOK}\n" +
		"    ingest_token: alerts-token-0123456789\n" +
		"    pace: 50ms\n"
	path := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOK": hook, "GCHAT_DB": dbURL}
	ready := regexp.MustCompile(`gchat relay on (http://\S+) `)
	var bases []string
	var stops []func() error
	for range 2 {
		m, stdout, _, stop := startRelay(t, env, ready, "--config", path)
		if !strings.Contains(stdout.String(), "store "+dbURL+"\n") {
			t.Errorf("start-up output does not name the store:\n%s", stdout.String())
		}
		waitReady(t, m[1], "ok")
		bases, stops = append(bases, m[1]), append(stops, stop)
	}

	const n = 6
	var want []string
	for i := range n {
		text := fmt.Sprintf("m%d", i)
		want = append(want, text)
		resp, body := postJSON(t, bases[i%2]+"/v1/spaces/alerts/messages?key=k&token=alerts-token-0123456789&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
			`{"text":"`+text+`","thread":{"threadKey":"t"}}`)
		if resp.StatusCode != 200 {
			t.Fatalf("ingest at replica %d: got %d:\n%s", i%2, resp.StatusCode, body)
		}
	}
	// Coalescing may merge a backlog: compare the texts as they arrived.
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for {
		got = strings.Join(emulatorTexts(t, ts.URL+"/api/v1", "AAAAreplica"), "\n\n")
		if strings.Count(got, "m") >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != strings.Join(want, "\n\n") {
		t.Errorf("emulator got %q, want %q in order", got, want)
	}

	var holders []string
	for _, base := range bases {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/spaces", nil)
		req.Header.Set("Authorization", "Bearer admin-token-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Spaces []struct{ Space, Holder string }
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil || len(list.Spaces) != 1 {
			t.Fatalf("GET /api/v1/spaces: %v %+v", err, list)
		}
		holders = append(holders, list.Spaces[0].Holder)
	}
	if holders[0] == "" || holders[0] != holders[1] {
		t.Errorf("holders %q, want one replica named by both", holders)
	}
	for i, stop := range stops {
		if err := stop(); err != nil {
			t.Errorf("replica %d: run returned %v, want nil", i, err)
		}
	}
}

// emulatorTexts returns the texts of a space's messages, oldest first.
func emulatorTexts(t *testing.T, api, space string) []string {
	t.Helper()
	resp, err := http.Get(api + "/spaces/" + space + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Messages []struct {
			Body struct{ Text string } `json:"body"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range got.Messages {
		texts = append(texts, m.Body.Text)
	}
	return texts
}
