package gchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Webhook is the URL of an incoming webhook. The URL is a credential: anyone
// holding it can post into the space. String, LogValue and MarshalJSON mask its
// key and token; only the client sees the URL itself.
//
// A Webhook keeps the URL exactly as written (tokens issued in 2019 end in
// "%3D", and re-encoding them breaks them, docs/google-chat.md §1.2) and appends delivery
// parameters with "&".
type Webhook struct {
	raw   string // the URL as given, never re-encoded
	space string
}

// ParseWebhook parses a webhook URL as Google's "Copy link" gives it:
//
//	https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN
//
// Any http or https host is accepted, and the path may have a prefix before
// "/v1/", so that the same URL shape reaches the relay, the emulator or a
// reverse proxy. Errors say what is wrong and never contain the token.
func ParseWebhook(rawURL string) (*Webhook, error) {
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, errors.New("parse webhook URL: empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the whole URL, token included: report only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("parse webhook URL: %v", scrubToken(err.Error(), s))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return nil, errors.New("parse webhook URL: no scheme: want https://…")
		}
		return nil, fmt.Errorf("parse webhook URL: scheme %q: want http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("parse webhook URL: no host")
	case u.User != nil:
		return nil, errors.New("parse webhook URL: user information is not allowed before the host")
	case u.Fragment != "":
		return nil, errors.New("parse webhook URL: unexpected fragment (#…): was the URL cut or pasted twice?")
	}
	space, err := spaceFromPath(u.EscapedPath())
	if err != nil {
		return nil, fmt.Errorf("parse webhook URL: %w", err)
	}
	if strings.Contains(u.RawQuery, "&amp;") || strings.Contains(u.RawQuery, "&#38;") {
		// A template HTML-escaped the URL: Google answers 403 (docs/google-chat.md §10).
		return nil, errors.New(`parse webhook URL: the query holds "&amp;": "&" was HTML-escaped; use the URL exactly as copied`)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("parse webhook URL: malformed query string")
	}
	for _, name := range []string{"key", "token"} {
		switch vs := q[name]; {
		case len(vs) == 0:
			return nil, fmt.Errorf("parse webhook URL: query parameter %q is missing", name)
		case len(vs) > 1:
			return nil, fmt.Errorf("parse webhook URL: query parameter %q appears %d times", name, len(vs))
		case vs[0] == "":
			return nil, fmt.Errorf("parse webhook URL: query parameter %q is empty", name)
		}
	}
	return &Webhook{raw: s, space: space}, nil
}

// spaceFromPath finds the space id in a path ending in
// /v1/spaces/{space}/messages, with any prefix before /v1/.
func spaceFromPath(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	i := strings.LastIndex(p, "/v1/spaces/")
	if i < 0 {
		return "", fmt.Errorf("path %q: want …/v1/spaces/SPACE/messages", p)
	}
	rest := p[i+len("/v1/spaces/"):]
	space, tail, ok := strings.Cut(rest, "/")
	switch {
	case space == "":
		return "", fmt.Errorf("path %q: no space id after /v1/spaces/", p)
	case !ok || tail != "messages":
		return "", fmt.Errorf("path %q: want …/v1/spaces/%s/messages", p, space)
	}
	if !ValidSpaceID(space) {
		return "", fmt.Errorf("path %q: space id %q: only letters, digits, '-' and '_' are allowed", p, space)
	}
	return space, nil
}

// ValidSpaceID reports whether s is a well-formed Chat space id: one or
// more ASCII letters, digits, '-' and '_' (docs/google-chat.md §11.1), as in
// spaces/AAAAbcd1234.
func ValidSpaceID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Space returns the Google space id, the SPACE of /v1/spaces/SPACE/messages.
// Google's quota is per space, shared by all webhooks of the space.
func (w *Webhook) Space() string { return w.space }

// String returns the URL with key and token masked.
func (w Webhook) String() string { return RedactURL(w.raw) }

// Format prints the masked URL for every verb, %#v and %d included, so that no
// formatting of a Webhook or a struct holding one shows the secret.
func (w Webhook) Format(f fmt.State, verb rune) { fmt.Fprint(f, w.String()) }

// LogValue masks key and token in log records.
func (w Webhook) LogValue() slog.Value { return slog.StringValue(w.String()) }

// MarshalJSON encodes the masked URL.
func (w Webhook) MarshalJSON() ([]byte, error) { return json.Marshal(w.String()) }

// Reveal returns the URL with its secrets. Use it only to hand the URL to
// something that must call it; never log it.
func (w *Webhook) Reveal() string { return w.raw }

// requestURL appends the delivery parameters to the URL as given, without
// decoding or re-encoding what is already there. Empty values are left out.
func (w *Webhook) requestURL(reply ReplyOption, messageID, requestID string) string {
	var b strings.Builder
	b.Grow(len(w.raw) + 64 + len(messageID) + len(requestID))
	b.WriteString(w.raw)
	param := func(name, value string) {
		if value != "" {
			b.WriteByte('&')
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(value))
		}
	}
	param("messageReplyOption", reply.String())
	param("messageId", messageID)
	param("requestId", requestID)
	return b.String()
}

// RedactURL masks the values of key and token (and of any parameter whose
// name suggests a secret) in a URL string, keeping everything else readable.
// It works on the text, so it also handles URLs that do not parse.
func RedactURL(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	query, _, hasFrag := strings.Cut(query, "#")
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if hasValue && secretParam(name) {
			parts[i] = name + "=REDACTED"
		}
	}
	out := base + "?" + strings.Join(parts, "&")
	if hasFrag {
		out += "#REDACTED"
	}
	return out
}

func secretParam(name string) bool {
	n := strings.ToLower(name)
	return n == "key" || n == "token" || strings.HasSuffix(n, "token") || n == "access_token"
}

// scrubToken removes the token and key values of rawURL from s.
func scrubToken(s, rawURL string) string {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok {
		return s
	}
	for _, p := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(p, "=")
		if secretParam(name) && len(value) >= 4 {
			s = strings.ReplaceAll(s, value, "REDACTED")
			if dec, err := url.QueryUnescape(value); err == nil && dec != value && len(dec) >= 4 {
				s = strings.ReplaceAll(s, dec, "REDACTED")
			}
		}
	}
	return s
}
