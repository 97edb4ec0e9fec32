package gchat

import (
	"strings"
	"unicode/utf8"

	"github.com/gchatkit/gchat/card"
)

// maxThreadKey is the longest thread key Google accepts (docs/google-chat.md §1.3).
const maxThreadKey = 4000

// Check returns the message's problems with their JSON paths. Errors are what
// Google refuses or shows as an empty message; Send refuses a message with
// errors and sends one with only warnings. Sizes are not checked here: Send
// fits a message that is too large (see Fit).
func (m *Message) Check() card.Problems {
	var ps card.Problems
	if strings.TrimSpace(m.Text) == "" && len(m.CardsV2) == 0 && !hasRawCards(m.Cards) {
		ps = append(ps, problem("", "message is empty: set text, cardsV2 or cards"))
	}
	if !utf8.ValidString(m.Text) {
		ps = append(ps, problem("text", "not valid UTF-8"))
	}
	if t := m.Thread; t != nil {
		if t.Name != "" && !validThreadName(t.Name) {
			ps = append(ps, problem("thread.name", "want spaces/SPACE/threads/THREAD"))
		}
		if utf8.RuneCountInString(t.ThreadKey) > maxThreadKey {
			ps = append(ps, problem("thread.threadKey", "longer than 4000 characters"))
		}
	}
	if len(m.CardsV2) > 0 {
		ps = append(ps, card.Check(m.CardsV2, "cardsV2")...)
	}
	return ps
}

func problem(path, msg string) card.Problem {
	return card.Problem{Path: path, Severity: card.Error, Message: msg}
}

func hasRawCards(raw []byte) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null" && s != "[]"
}

// validThreadName reports whether s has the form spaces/{space}/threads/{thread}
// (docs/google-chat.md §7: anything else is a 400).
func validThreadName(s string) bool {
	space, thread, ok := strings.Cut(strings.TrimPrefix(s, "spaces/"), "/threads/")
	return ok && strings.HasPrefix(s, "spaces/") && space != "" && thread != "" &&
		!strings.Contains(space, "/") && !strings.Contains(thread, "/")
}

// problemOf turns a single error into problems.
func problemOf(path string, err error) card.Problems {
	return card.Problems{problem(path, err.Error())}
}
