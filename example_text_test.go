package gchat_test

import (
	"fmt"

	"github.com/gchatkit/gchat"
)

func ExampleEscape() {
	metric := "node_filesystem_avail_bytes"
	text := gchat.Bold("Low disk") + " on db-1: " + gchat.Escape(metric) + " < 5%"
	fmt.Printf("%q\n", text)
	fmt.Println(gchat.Unescape(gchat.Escape(metric)) == metric)
	// Output:
	// "*Low disk* on db-1: node\u200b_filesystem\u200b_avail\u200b_bytes < 5%"
	// true
}

func ExampleLink() {
	fmt.Println(gchat.Link("https://grafana.example.com/d/abc?from=now-1h&to=now", "Dashboard"))
	fmt.Println(gchat.Link("https://example.com/runbook", "CPU > 90% | db-1"))
	// Output:
	// <https://grafana.example.com/d/abc?from=now-1h&to=now|Dashboard>
	// <https://example.com/runbook|CPU › 90% ∣ db-1>
}

func ExampleMention() {
	for _, user := range []string{"users/123456789012345678901", "all", "jane@example.com"} {
		m, err := gchat.Mention(user)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(m)
	}
	// Output:
	// <users/123456789012345678901>
	// <users/all>
	// error: mention "jane@example.com": webhooks cannot mention by e-mail address; use the numeric user id, as in users/123456789012345678901
}

func ExampleFit() {
	msg := gchat.Message{Text: "Backup failed.\n\nStep 1 ok\nStep 2 ok\nStep 3 failed: disk full"}
	parts, err := gchat.Fit(msg, gchat.Options{RequestID: "backup-7"}, gchat.Limits{MaxText: 36})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range parts {
		fmt.Printf("%q thread=%s reply=%s requestId=%s\n",
			p.Message.Text, p.Message.Thread.ThreadKey, p.Options.Reply, p.Options.RequestID)
	}
	// Output:
	// "Backup failed.\n\nStep 1 ok\nStep 2 ok\n" thread=gchat-backup-7 reply=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD requestId=backup-7
	// "Step 3 failed: disk full" thread=gchat-backup-7 reply=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD requestId=backup-7-2
}
