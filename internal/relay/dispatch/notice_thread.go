package dispatch

import (
	"encoding/json"
	"fmt"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/store"
)

// maxNoticeThread bounds a thread key or name quoted in a notice, in bytes.
const maxNoticeThread = 120

// orFailThread names the thread of a dead REPLY_MESSAGE_OR_FAIL delivery,
// for its notice: Google's 404 for it means that thread does not exist
// (docs/google-chat.md §7), and the operator must know which one to fix the
// sender. "" for other deliveries.
func orFailThread(dl store.Delivery) string {
	if dl.Reply != gchat.ReplyOrFail.String() {
		return ""
	}
	var m struct {
		Thread *gchat.Thread `json:"thread"`
	}
	if json.Unmarshal(dl.Message, &m) != nil || m.Thread == nil {
		return " (REPLY_MESSAGE_OR_FAIL without a thread)"
	}
	if m.Thread.ThreadKey != "" {
		return fmt.Sprintf(" (REPLY_MESSAGE_OR_FAIL in thread key %q)", cut(m.Thread.ThreadKey, maxNoticeThread))
	}
	return fmt.Sprintf(" (REPLY_MESSAGE_OR_FAIL in thread %s)", cut(m.Thread.Name, maxNoticeThread))
}

// cut shortens s to n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
