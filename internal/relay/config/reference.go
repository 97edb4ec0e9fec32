package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Key is one key of the configuration file, as the reference documents it.
type Key struct {
	// Path names the key from the top of the file: "listen",
	// "spaces.NAME.pace", "routes[].match[].when".
	Path string
	// Type is what the value is written as: string, duration, bool, …
	Type string
	// Default is what the relay does when the key is left out; "" for
	// keys without one (required, or nothing when unset).
	Default string
	// Doc says what the key means, in a sentence or two.
	Doc string
}

// durationDoc is how durations are written, shared by the reference.
const durationDoc = "Durations are Go durations (`1.05s`, `90m`, `24h`) or days (`7d`, `1d12h`)."

// Reference lists every key the configuration file accepts, in the order of
// the file's sections. `gchat config reference` prints it and docs/config.md
// is made of it; a test keeps it equal to the keys the loader reads.
func Reference() []Key {
	secret := func(what string) string {
		return strings.TrimSpace(what + " `${NAME}` is replaced by the environment variable NAME.")
	}
	file := func(key string) string {
		return "Read `" + key + "` from this file instead (trimmed; a relative path is relative to the configuration file). Set one of the two."
	}
	return []Key{
		{"listen", "host:port", DefaultListen, "Where the relay's HTTP server listens. `:8686` listens on every interface, which needs an ingest token on every space. The `--listen` flag overrides it; a reload keeps the running one."},
		{"store", "string", DefaultStore, "The queue's database: `sqlite:PATH` for one relay, or a `postgres://` URL that several replicas share. " + secret("A password may come from the environment:") + " The `--store` flag overrides it; a reload keeps the running one."},
		{"admin_token", "secret", "", "Bearer token of the admin API (`/api/v1/…`, `POST /-/reload`); at least 16 characters. Unset, the admin API answers 403. " + secret("")},
		{"admin_token_file", "path", "", file("admin_token")},
		{"ingest_key", "secret", "", "The `key=` callers must send with each message; unset, any key is accepted and the space's ingest token is the credential. " + secret("")},
		{"allowed_hosts", "list of host[:port]", "", "Hosts the relay may post to besides chat.googleapis.com: an emulator, a proxy."},
		{"spaces", "mapping", "", "The destinations, by name: callers post to `/v1/spaces/NAME/messages`. Names match `[a-z0-9][a-z0-9_-]*`, at most 64 characters. At least one is required."},
		{"spaces.NAME.webhook_url", "secret", "", "The Google Chat incoming webhook the space delivers to. Required (or `webhook_url_file`). It is masked in every log, error and answer. " + secret("")},
		{"spaces.NAME.webhook_url_file", "path", "", file("webhook_url")},
		{"spaces.NAME.ingest_token", "secret", "", "The `token=` callers must send to post into the space: at least 16 URL-safe characters, different for each space and from admin_token. Unset, the space accepts any token, which only a loopback listener allows. " + secret("")},
		{"spaces.NAME.ingest_token_file", "path", "", file("ingest_token")},
		{"spaces.NAME.pace", "duration", DefaultPace.String(), "The least interval between two requests to the Google space, burst 1. Spaces that share a Google space share its pace (the slowest wins)."},
		{"spaces.NAME.reply_fallback", "bool", "false", "Reply with `REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD` when a caller sets a thread but no reply option. false keeps Google's semantics: a new thread."},
		{"spaces.NAME.on_failure", "retry, dead_letter or drop", string(OnFailureRetry), "What becomes of a message Google refuses for good or that grew older than max_age: `retry` retries 429, 5xx and network failures until max_age, then keeps it as a dead letter; `dead_letter` keeps it at the first failure; `drop` logs it and forgets it."},
		{"spaces.NAME.max_age", "duration", FormatDuration(DefaultMaxAge), "How long a message may wait before it counts as failed."},
		{"spaces.NAME.coalesce", "bool", "true", "Merge a thread's queued messages into one request when a backlog builds."},
		{"spaces.NAME.queue_limit", "whole number, 1 to 100000000", strconv.Itoa(DefaultQueueLimit), "The most deliveries the space may have waiting; beyond it ingest answers 503 with Retry-After."},
		{"retention", "mapping", "", "How long finished deliveries are kept in the store."},
		{"retention.delivered", "duration", FormatDuration(DefaultDelivered), "Deliveries sent (or dropped) are deleted after this long."},
		{"retention.dead", "duration", FormatDuration(DefaultDead), "Dead letters are deleted after this long."},
		{"operator", "space name", "", "The space that receives a short notice when a delivery becomes a dead letter or a space pauses on a 403 or 404, at most one per kind and space per minute, also across reloads. Unset, no notices."},
		{"routes", "list", "", "Source routes: where monitoring systems and other senders post their own payloads (`POST /v1/alertmanager/NAME`, `/v1/grafana/NAME`, `/v1/events/NAME`)."},
		{"routes[].name", "string", "", "The route's name, the last segment of its URL; `[a-z0-9][a-z0-9_-]*`. Required."},
		{"routes[].source", "alertmanager, grafana or json", "", "What the route receives: Alertmanager's webhook payload, Grafana's webhook contact point, or any JSON that the route's template turns into a message. Required."},
		{"routes[].bearer_token", "secret", "", "The bearer token a sender must present. Unset (and no basic_username), the route takes any request, which only a loopback listener allows. " + secret("")},
		{"routes[].bearer_token_file", "path", "", file("bearer_token")},
		{"routes[].basic_username", "string", "", "With basic_password: the HTTP basic credentials a sender must present (Grafana's contact point), instead of a bearer token."},
		{"routes[].basic_password", "secret", "", "The password of basic_username. " + secret("")},
		{"routes[].basic_password_file", "path", "", file("basic_password")},
		{"routes[].spaces", "list of space names", "", "The spaces that get what no match rule claims; each gets a copy."},
		{"routes[].match", "list", "", "Rules tried in order: the first whose `when` holds picks the spaces."},
		{"routes[].match[].when", "mapping of label to value", "", "Labels (alerting routes) that must all have these values."},
		{"routes[].match[].spaces", "list of space names", "", "The spaces the rule sends to; each gets a copy."},
		{"routes[].thread", "group, incident, fingerprint, alertname, day or none", "group", "How an alerting route threads its messages: one thread per Alertmanager group, per incident (a new thread once a group has fully resolved and fires again), per alert, per alert name, per day, or none."},
		{"routes[].on_failure", "retry, dead_letter or drop", "the space's", "Overrides the spaces' on_failure for this route's messages."},
		{"routes[].max_age", "duration", "the space's", "Overrides the spaces' max_age for this route's messages."},
		{"routes[].dedup_window", "duration", FormatDuration(DefaultDedupWindow), "An identical notification (alerting) or dedup key (json) seen again within it is posted once."},
		{"routes[].suppress_repeats", "duration", "0 (off)", "For alerting routes: a notification that changes nothing in its group is not posted again within it (Alertmanager's repeat_interval)."},
		{"routes[].mentions", "mapping of severity to mention", "", "Mentions put in front of firing notifications, by the severity label: `all` or `users/123…`; the key `*` applies to any severity without its own."},
		{"routes[].escalate", "list", "", "For alerting routes: while an incident is still firing this long after its first notification, a short reply with a mention is posted in its thread, once per rule and incident; a resolved cancels it (and drops a reply not yet sent). Timers live in the store: they survive restarts and fire once across replicas."},
		{"routes[].escalate[].after", "duration", "", "How long after the incident's first firing notification the rule fires. Required."},
		{"routes[].escalate[].mention", "mention", "", "Who is pinged: `all` or `users/123…`. Required."},
		{"routes[].escalate[].when", "mapping of label to value", "", "Common labels that must all have these values for the rule to apply."},
		{"routes[].escalate_stale", "duration", FormatDuration(DefaultEscalateStale), "Cancels an incident's escalations when no firing notification arrived for this long (a silenced alert never sends resolved): more than Alertmanager's repeat_interval (default 4h), which repeats a firing group."},
		{"routes[].max_alerts", "integer 1 to 100", fmt.Sprint(DefaultMaxAlerts), "How many alerts a card lists before \"N more\"."},
		{"routes[].time_zone", "IANA time zone name", "UTC", "The zone of the times on the built-in alert cards (\"07:18 UTC · firing 4m\")."},
		{"routes[].text_summary", "boolean", "false", "Puts a one-line summary in the text above the built-in alert card (Chat shows the text above the card; by default it holds only the mention)."},
		{"routes[].verify", "mapping", "", "Checks that each request was signed by the sender, on the raw body, before anything decodes it; counts as the route's credential. A bad or missing signature is refused with 401, and a validly signed redelivery (the same delivery id) is answered with the stored delivery."},
		{"routes[].verify.scheme", "github, gitlab, standard_webhooks or hmac", "", "GitHub's X-Hub-Signature-256, GitLab's X-Gitlab-Token, the Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature), or an HMAC of the body in a header of your choice. Required."},
		{"routes[].verify.secret", "secret", "", "The shared secret (Standard Webhooks: whsec_ and base64). " + secret("")},
		{"routes[].verify.secret_file", "path", "", file("secret")},
		{"routes[].verify.previous_secret", "secret", "", "A second secret accepted during a rotation. " + secret("")},
		{"routes[].verify.previous_secret_file", "path", "", file("previous_secret")},
		{"routes[].verify.header", "string", "", "For hmac: the header holding the signature. Required with hmac."},
		{"routes[].verify.algorithm", "sha256 or sha512", "sha256", "For hmac: the hash."},
		{"routes[].verify.encoding", "hex or base64", "hex", "For hmac: how the signature is written."},
		{"routes[].verify.prefix", "string", "", "For hmac: text before the signature in the header (e.g. `sha256=`)."},
		{"routes[].verify.id_header", "string", "", "For hmac: the header naming the delivery, so a redelivery is answered with the stored delivery."},
		{"routes[].verify.tolerance", "duration", "5m", "For standard_webhooks: how far the signed timestamp may be from now."},
		{"routes[].template", "mapping", "", "Makes the message of a json route from the payload (Go text/template); replaces the built-in card of an alerting route. Its keys follow."},
		{"routes[].template.when", "template", "", "Skip the event unless it renders to true."},
		{"routes[].template.text", "template", "", "The message's text."},
		{"routes[].template.thread_key", "template", "", "The thread the message goes to: messages with the same key share a thread."},
		{"routes[].template.dedup_key", "template", "", "Messages with the same key within dedup_window are posted once."},
		{"routes[].template.card", "mapping", "", "A card made of typed fields."},
		{"routes[].template.card.title", "template", "", "The card's title."},
		{"routes[].template.card.subtitle", "template", "", "The card's subtitle."},
		{"routes[].template.card.image_url", "template", "", "The card header's image."},
		{"routes[].template.card.sections", "list", "", "The card's sections."},
		{"routes[].template.card.sections[].when", "template", "", "Leave the section out unless it renders to true."},
		{"routes[].template.card.sections[].header", "template", "", "The section's header."},
		{"routes[].template.card.sections[].collapsible", "bool", "false", "Whether the section folds."},
		{"routes[].template.card.sections[].widgets", "list", "", "The section's widgets: each one of text, decorated, buttons, image or divider."},
		{"routes[].template.card.sections[].widgets[].when", "template", "", "Leave the widget out unless it renders to true."},
		{"routes[].template.card.sections[].widgets[].text", "template", "", "A text paragraph."},
		{"routes[].template.card.sections[].widgets[].decorated", "mapping", "", "A decorated text: label, text, bottom_label."},
		{"routes[].template.card.sections[].widgets[].decorated.label", "template", "", "The decorated text's top label."},
		{"routes[].template.card.sections[].widgets[].decorated.text", "template", "", "The decorated text itself."},
		{"routes[].template.card.sections[].widgets[].decorated.bottom_label", "template", "", "The decorated text's bottom label."},
		{"routes[].template.card.sections[].widgets[].buttons", "list", "", "Buttons that open links."},
		{"routes[].template.card.sections[].widgets[].buttons[].when", "template", "", "Leave the button out unless it renders to true."},
		{"routes[].template.card.sections[].widgets[].buttons[].text", "template", "", "The button's text."},
		{"routes[].template.card.sections[].widgets[].buttons[].url", "template", "", "The link the button opens."},
		{"routes[].template.card.sections[].widgets[].image", "mapping", "", "An image: url and alt."},
		{"routes[].template.card.sections[].widgets[].image.url", "template", "", "The image's URL."},
		{"routes[].template.card.sections[].widgets[].image.alt", "template", "", "The image's alternative text."},
		{"routes[].template.card.sections[].widgets[].divider", "bool", "false", "A divider line."},
		{"routes[].sample_file", "path", "the built-in sample (alerting routes)", "A payload that `gchat config check` renders the route with, to check its messages before it matters (relative to the configuration file)."},
		{"tls_cert_file", "path", "", "PEM certificate to serve HTTPS with; set with tls_key_file. Read at start: a reload keeps it."},
		{"tls_key_file", "path", "", "PEM private key of tls_cert_file."},
		{"timing", "mapping", "", "The dispatcher's timing."},
		{"timing.request_timeout", "duration", "30s", "Bounds one request to Google."},
		{"timing.lease", "duration", "twice request_timeout", "How long a replica holds a Google space without renewing; longer than request_timeout."},
		{"timing.backoff_base", "duration", "1s", "The ceiling of the first retry's wait; each retry doubles it, with full jitter."},
		{"timing.backoff_cap", "duration", "5m", "The longest wait between retries; at least backoff_base."},
		{"server", "mapping", "", "What one HTTP client may hold, on the relay's listener. Read at start; a reload keeps the limits the relay started with."},
		{"server.read_header_timeout", "duration", "10s", "The request line and headers must arrive within it, from their first byte."},
		{"server.body_timeout", "duration", "30s", "The whole request body must arrive within it, from the end of the headers: a client that trickles it gets no more time."},
		{"server.write_timeout", "duration", "60s", "The answer must be written within it, from the end of the headers."},
		{"server.idle_timeout", "duration", "60s", "A keep-alive connection is closed after this long between requests."},
		{"server.max_connections", "whole number, 16 to 1000000", "1024", "Open connections; the next is answered 503 with Retry-After and Google's error body, then closed."},
		{"server.max_streams", "whole number, 1 to 1000000", "64", "Event streams and long polls at once (exempt from write_timeout); the next gets a 503."},
		{"server.max_stream_duration", "duration", "30m", "The longest one event stream or long poll lasts."},
		{"log", "mapping", "", "How the relay logs (on standard error). The `--log-format` and `--log-level` flags override it."},
		{"log.format", "text or json", LogText, "`text` is logfmt-like key=value lines; `json` is one JSON object per line."},
		{"log.level", "debug, info, warn or error", "info", "The least level logged. A reload applies a new level; the format is set at start."},
	}
}

// ReferenceMarkdown is the reference as docs/config.md holds it.
func ReferenceMarkdown() string {
	var b strings.Builder
	b.WriteString(`# Relay configuration reference

Every key of the relay's configuration file (` + "`gchat relay --config FILE`" + `), generated from
the code by ` + "`gchat config reference`" + `; a test keeps this file in sync. ` + durationDoc + `
A *secret* is a string that is masked wherever the relay prints it. ` + "`gchat config check FILE`" + `
checks a file as the relay would load it, and ` + "`gchat config check --offline FILE`" + ` checks it
without reading environment variables or secret files, for CI. The examples in
[` + "`examples/`" + `](../examples) are checked by tests.

| key | type | default | meaning |
| --- | --- | --- | --- |
`)
	for _, k := range Reference() {
		def := k.Default
		if def == "" {
			def = "–"
		} else if !strings.Contains(def, " ") {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Path, k.Type, def, strings.ReplaceAll(k.Doc, "|", `\|`))
	}
	return b.String()
}
