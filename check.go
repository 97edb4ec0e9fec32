package gchat

import (
	"strings"
	"unicode/utf8"

	"github.com/gchatkit/gchat/card"
)

// maxThreadKey is the longest thread key Google accepts (spec §1.3).
const maxThreadKey = 4000

// Check returns the message's problems with their JSON paths. Errors are what
// Google refuses or shows as an empty message; Send refuses a message with
// errors and sends one with only warnings. Sizes are not checked here: Send
// fits a message that is too large (see Fit).
func (m *Message) Check() card.Problems {
	var ps card.Problems
	add := func(path, msg string) { ps = append(ps, card.Problem{Path: path, Severity: card.Error, Message: msg}) }
	if strings.TrimSpace(m.Text) == "" && len(m.CardsV2) == 0 && !hasRawCards(m.Cards) {
		add("", "message is empty: set text, cardsV2 or cards")
	}
	if !utf8.ValidString(m.Text) {
		add("text", "not valid UTF-8")
	}
	if t := m.Thread; t != nil {
		if t.Name != "" && !validThreadName(t.Name) {
			add("thread.name", "want spaces/SPACE/threads/THREAD")
		}
		if utf8.RuneCountInString(t.ThreadKey) > maxThreadKey {
			add("thread.threadKey", "longer than 4000 characters")
		}
	}
	ps = append(ps, card.Check(m.CardsV2, "cardsV2")...)
	return ps
}

func hasRawCards(raw []byte) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null" && s != "[]"
}

// validThreadName reports whether s has the form spaces/{space}/threads/{thread}
// (spec §7: anything else is a 400).
func validThreadName(s string) bool {
	parts := strings.Split(s, "/")
	return len(parts) == 4 && parts[0] == "spaces" && parts[1] != "" && parts[2] == "threads" && parts[3] != ""
}

// problemOf turns a single error into problems.
func problemOf(path string, err error) card.Problems {
	return card.Problems{{Path: path, Severity: card.Error, Message: err.Error()}}
}
