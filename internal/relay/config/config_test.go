package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/source/alert"
	"github.com/google/go-cmp/cmp"
)

// Canaries: secrets that must never appear in a problem, a summary or a log.
const (
	canaryKey      = "KEYCANARY0123"
	canaryToken    = "TOKENCANARY0123"
	canaryHook     = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=" + canaryKey + "&token=" + canaryToken
	canaryIngest   = "INGESTCANARY0123456789"
	canaryIngest2  = "INGESTCANARY2222222222"
	canaryAdmin    = "ADMINCANARY0123456789"
	canaryFileHook = "https://chat.googleapis.com/v1/spaces/BBBB/messages?key=" + canaryKey + "&token=FILETOKENCANARY"
)

var canaries = []string{canaryKey, canaryToken, canaryIngest, canaryIngest2, canaryAdmin, "FILETOKENCANARY", "SHORTCANARY"}

func testEnv(name string) string {
	return map[string]string{
		"HOOK":    canaryHook,
		"TOKEN":   canaryIngest,
		"TOKEN2":  canaryIngest2,
		"ADMIN":   canaryAdmin,
		"BADHOOK": "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=" + canaryKey,
	}[name]
}

// testReadFile serves files under /etc/gchat.
func testReadFile(name string) ([]byte, error) {
	files := map[string]string{
		"/etc/gchat/hook":        canaryFileHook + "\n",
		"/etc/gchat/token":       "  " + canaryIngest + "\n",
		"/etc/gchat/admin":       canaryAdmin + "\n",
		"/etc/gchat/empty":       " \n",
		"/etc/gchat/short-token": "SHORTCANARY",
	}
	if s, ok := files[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func load(src string) (*Config, error) {
	return Load([]byte(src), "/etc/gchat/gchat.yaml", testEnv, testReadFile)
}

// problems returns the lines of err, with the directory cut for brevity.
func problems(t *testing.T, err error) string {
	t.Helper()
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not a *Problems", err, err)
	}
	return strings.ReplaceAll(err.Error(), "/etc/gchat/", "")
}

func assertNoSecret(t testing.TB, what, s string) {
	t.Helper()
	for _, c := range canaries {
		if strings.Contains(s, c) {
			t.Errorf("%s contains the secret %q:\n%s", what, c, s)
		}
	}
}

const space = "spaces:\n  alerts:\n    webhook_url: ${HOOK}\n"

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "spaces: [\n", `gchat.yaml:1: invalid YAML: did not find expected node content`},
		{"tab", "spaces:\n\talerts: {}\n", `gchat.yaml:2: invalid YAML: found character that cannot start any token`},
		{"second document", space + "---\nlisten: x\n", `gchat.yaml:4:1: a second YAML document (after ---): want one`},
		{"empty file", "", `gchat.yaml:1:1: spaces: no spaces configured`},
		{"comments only", "# nothing yet\n", `gchat.yaml:1:1: spaces: no spaces configured`},
		{"no spaces key", "\nlisten: 127.0.0.1:1\n", `gchat.yaml:2:1: spaces: no spaces configured`},
		{"spaces empty", "listen: 127.0.0.1:1\nspaces: {}\n", `gchat.yaml:2:1: spaces: no spaces configured`},
		{"root not a mapping", "- a\n", `gchat.yaml:1:1: want a mapping of settings (listen:, spaces:, …), got a list`},
		{"spaces not a mapping", "spaces:\n  - alerts\n", `gchat.yaml:2:3: spaces: want a mapping of space names to their settings, got a list`},
		{"space not a mapping", "spaces:\n  alerts: " + canaryHook + "\n", `gchat.yaml:2:11: spaces.alerts: want the space's settings (webhook_url: …), got a value`},
		{"unknown key", space + "lisen: 127.0.0.1:1\n", `gchat.yaml:4:1: unknown key "lisen" (did you mean "listen"?)`},
		{"unknown space key", space + "    pase: 1s\n", `gchat.yaml:4:5: spaces.alerts: unknown key "pase" (did you mean "pace"?)`},
		{"unknown key dash", space + "    on-failure: drop\n", `gchat.yaml:4:5: spaces.alerts: unknown key "on-failure" (did you mean "on_failure"?)`},
		{"unknown key prefix", "spaces:\n  alerts:\n    webhook: ${HOOK}\n", "gchat.yaml:2:3: spaces.alerts: webhook_url or webhook_url_file is required\n" +
			`gchat.yaml:3:5: spaces.alerts: unknown key "webhook" (did you mean "webhook_url"?)`},
		{"key at the wrong level", space + "pace: 2s\n", `gchat.yaml:4:1: unknown key "pace" (pace belongs under spaces.NAME)`},
		{"unknown key far off", space + "    colour: red\n", `gchat.yaml:4:5: spaces.alerts: unknown key "colour"`},
		{"duplicate key", space + "    pace: 1s\n    pace: 2s\n", `gchat.yaml:5:5: spaces.alerts: duplicate key "pace" (first at line 4)`},
		{"non-string key", space + "    [a]: 1\n", `gchat.yaml:4:5: spaces.alerts: keys must be strings, got a list`},
		{"string wanted", "listen: [127.0.0.1:1]\n" + space, `gchat.yaml:1:9: listen: want a string, got a list`},
		{"secret of the wrong type", "admin_token: {a: " + canaryAdmin + "}\n" + space, `gchat.yaml:1:14: admin_token: want a string, got a mapping`},
		{"duration", space + "    pace: fast\n", `gchat.yaml:4:11: spaces.alerts.pace: "fast" is not a duration (want e.g. 1.05s)`},
		{"duration without unit", space + "    max_age: 24\n", `gchat.yaml:4:14: spaces.alerts.max_age: "24" is not a duration (want e.g. 24h)`},
		{"days", space + "retention:\n  dead: 30days\n", `gchat.yaml:5:9: retention.dead: "30days" is not a duration (want e.g. 30d)`},
		{"duration zero", space + "    pace: 0s\n", `gchat.yaml:4:11: spaces.alerts.pace: 0s: want a positive interval (default 1.05s)`},
		{"duration negative", space + "retention:\n  delivered: -1h\n", `gchat.yaml:5:14: retention.delivered: -1h: want a positive duration (default 7d)`},
		{"queue_limit zero", space + "    queue_limit: 0\n", `gchat.yaml:4:18: spaces.alerts.queue_limit: "0": want a whole number from 1 to 100000000`},
		{"queue_limit not a number", space + "    queue_limit: lots\n", `gchat.yaml:4:18: spaces.alerts.queue_limit: "lots": want a whole number from 1 to 100000000`},
		{"boolean", space + "    coalesce: yes\n", `gchat.yaml:4:15: spaces.alerts.coalesce: "yes" is not true or false`},
		{"boolean quoted", space + "    reply_fallback: \"true\"\n", `gchat.yaml:4:21: spaces.alerts.reply_fallback: "true" is not true or false`},
		{"on_failure", space + "    on_failure: retyr\n", `gchat.yaml:4:17: spaces.alerts.on_failure: "retyr" is not one of retry, dead_letter, drop (did you mean "retry"?)`},
		{"retention not a mapping", space + "retention: 7d\n", `gchat.yaml:4:12: retention: want a mapping (delivered:, dead:), got a value`},
		{"no webhook", "spaces:\n  alerts:\n    pace: 1s\n", `gchat.yaml:2:3: spaces.alerts: webhook_url or webhook_url_file is required`},
		{"no webhook, null space", "spaces:\n  alerts:\n", `gchat.yaml:2:3: spaces.alerts: webhook_url or webhook_url_file is required`},
		{"no webhook, null value", "spaces:\n  alerts:\n    webhook_url:\n", `gchat.yaml:2:3: spaces.alerts: webhook_url or webhook_url_file is required`},
		{"webhook twice", space + "    webhook_url_file: hook\n", `gchat.yaml:4:5: spaces.alerts.webhook_url_file: set webhook_url or webhook_url_file, not both`},
		{"env unset", "spaces:\n  alerts:\n    webhook_url: ${GCHAT_ALERTS_WEBHOOK}\n", `gchat.yaml:3:18: spaces.alerts.webhook_url: environment variable GCHAT_ALERTS_WEBHOOK is not set`},
		{"env malformed", "spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/${" + canaryToken + "\n", `gchat.yaml:3:18: spaces.alerts.webhook_url: malformed ${…}: want ${NAME}, NAME made of letters, digits and _`},
		{"env in file path", "spaces:\n  alerts:\n    webhook_url_file: ${SECRETS}/hook\n", `gchat.yaml:3:23: spaces.alerts.webhook_url_file: environment variable SECRETS is not set`},
		{"file path from a secret", "spaces:\n  alerts:\n    webhook_url_file: ${HOOK}\n", `gchat.yaml:3:23: spaces.alerts.webhook_url_file: cannot read "${HOOK}" (expanded): file does not exist`},
		{"webhook from a secret in the path", "spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/${TOKEN}/messages?key=k&token=t\n",
			`gchat.yaml:3:18: spaces.alerts.webhook_url: invalid webhook URL: path "/v1/${TOKEN}/messages": want …/v1/spaces/SPACE/messages`},
		{"webhook invalid", "spaces:\n  alerts:\n    webhook_url: ${BADHOOK}\n", `gchat.yaml:3:18: spaces.alerts.webhook_url: invalid webhook URL: query parameter "token" is missing`},
		{"webhook literal invalid", "spaces:\n  alerts:\n    webhook_url: chat.googleapis.com/v1/spaces/A/messages?key=" + canaryKey + "&token=" + canaryToken + "\n",
			`gchat.yaml:3:18: spaces.alerts.webhook_url: invalid webhook URL: no scheme: want https://…`},
		{"webhook host", "spaces:\n  alerts:\n    webhook_url: https://evil.example/v1/spaces/A/messages?key=" + canaryKey + "&token=" + canaryToken + "\n",
			`gchat.yaml:3:18: spaces.alerts.webhook_url: host "evil.example" is neither chat.googleapis.com nor listed in allowed_hosts`},
		{"webhook http", "spaces:\n  alerts:\n    webhook_url: http://chat.googleapis.com/v1/spaces/A/messages?key=" + canaryKey + "&token=" + canaryToken + "\n",
			`gchat.yaml:3:18: spaces.alerts.webhook_url: chat.googleapis.com must be reached over https, not http`},
		{"file missing", "spaces:\n  alerts:\n    webhook_url_file: secrets/hook\n", `gchat.yaml:3:23: spaces.alerts.webhook_url_file: cannot read secrets/hook: file does not exist`},
		{"file empty", "spaces:\n  alerts:\n    webhook_url_file: empty\n", `gchat.yaml:3:23: spaces.alerts.webhook_url_file: empty is empty`},
		{"space name", "spaces:\n  Alerts:\n    webhook_url: ${HOOK}\n", `gchat.yaml:2:3: spaces."Alerts": space name "Alerts" must match [a-z0-9][a-z0-9_-]* and be at most 64 characters: it appears in ingest URLs /v1/spaces/{name}/messages`},
		{"ingest token short", space + "    ingest_token: SHORTCANARY\n", `gchat.yaml:4:19: spaces.alerts.ingest_token: too short: want at least 16 characters (e.g. openssl rand -hex 16), since it is the credential that lets a caller post into the space`},
		{"ingest token short from file", space + "    ingest_token_file: short-token\n", `gchat.yaml:4:24: spaces.alerts.ingest_token_file: too short: want at least 16 characters (e.g. openssl rand -hex 16), since it is the credential that lets a caller post into the space`},
		{"ingest token escaping", space + "    ingest_token: \"" + canaryIngest + "&x=1\"\n", `gchat.yaml:4:19: spaces.alerts.ingest_token: contains characters that need escaping in a URL query (allowed: A-Z a-z 0-9 - . _ ~), since it is the credential that lets a caller post into the space`},
		{"ingest token twice", space + "    ingest_token: ${TOKEN}\n  ops:\n    webhook_url: ${HOOK}\n    ingest_token_file: token\n",
			`gchat.yaml:7:24: spaces.ops.ingest_token_file: the same token as space "alerts": give each space its own, so that one leaked token opens one space`},
		{"ingest token is the admin token", "admin_token: ${ADMIN}\n" + space + "    ingest_token: ${ADMIN}\n",
			`gchat.yaml:5:19: spaces.alerts.ingest_token: the same token as admin_token: an ingest token travels in URLs and must not open the admin API`},
		{"ingest key", "ingest_key: a b\n" + space, `gchat.yaml:1:13: ingest_key: contains characters that need escaping in a URL query (allowed: A-Z a-z 0-9 - . _ ~)`},
		{"admin token short", "admin_token: SHORTCANARY\n" + space, `gchat.yaml:1:14: admin_token: too short: want at least 16 characters (e.g. openssl rand -hex 16), since it guards the admin API (replay, delete, pause)`},
		{"admin token file twice", "admin_token: ${ADMIN}\nadmin_token_file: admin\n" + space, `gchat.yaml:2:1: admin_token_file: set admin_token or admin_token_file, not both`},
		{"listen", "listen: localhost\n" + space, `gchat.yaml:1:9: listen: "localhost" is not host:port (want e.g. 127.0.0.1:8686, or :8686 for every interface)`},
		{"listen port", "listen: 127.0.0.1:http\n" + space, `gchat.yaml:1:9: listen: "127.0.0.1:http" is not host:port (want e.g. 127.0.0.1:8686, or :8686 for every interface)`},
		{"listen beyond loopback", "listen: 0.0.0.0:8686\n" + space, `gchat.yaml:1:9: listen: refusing to listen on 0.0.0.0:8686 without ingest credentials: space "alerts" has no ingest_token`},
		{"listen beyond loopback, two", "listen: :8686\n" + space + "  ops:\n    webhook_url: ${HOOK}\n  db:\n    webhook_url: ${HOOK}\n    ingest_token: ${TOKEN}\n",
			`gchat.yaml:1:9: listen: refusing to listen on :8686 without ingest credentials: spaces "alerts", "ops" have no ingest_token`},
		{"store postgres invalid", "store: postgres://gchat:" + canaryAdmin + "@db:port/gchat\n" + space, `gchat.yaml:1:8: store: not a valid URL (want postgres://USER@HOST:5432/DATABASE?sslmode=…)`},
		{"store password unset", "store: postgres://gchat:${NOPE}@db/gchat\n" + space, `gchat.yaml:1:8: store: environment variable NOPE is not set`},
		{"store unknown", "store: mysql://db/gchat\n" + space, `gchat.yaml:1:8: store: unknown store "mysql://…" (want sqlite:PATH or postgres://…)`},
		{"store empty path", "store: \"sqlite:\"\n" + space, `gchat.yaml:1:8: store: no path (want sqlite:PATH, e.g. sqlite:gchat.db)`},
		{"allowed_hosts URL", "allowed_hosts: [https://chat.example.com]\n" + space, `gchat.yaml:1:17: allowed_hosts[0]: "https://chat.example.com" is not a host: want a host name such as chat.example.com, not a URL`},
		{"allowed_hosts not a list", "allowed_hosts: chat.example.com\n" + space, `gchat.yaml:1:16: allowed_hosts: want a list of host names, got a value`},
		{"operator", space + "operator: alert\n", `gchat.yaml:4:11: operator: "alert" is not a configured space (did you mean "alerts"?)`},
		{"routes not a list", space + "routes: {}\n", `gchat.yaml:4:9: routes: want a list of routes (- name: …), got a mapping`},
		{"route without name and source", space + "routes:\n  - spaces: [alerts]\n",
			"gchat.yaml:5:5: routes[0].name: a route needs a name: it is the last segment of its URL\n" +
				"gchat.yaml:5:5: routes[0].source: a route needs a source: one of alertmanager, grafana, json"},
		{"route source", space + "routes:\n  - name: am\n    source: alertmanger\n    spaces: [alerts]\n",
			`gchat.yaml:6:13: routes[0].source: "alertmanger" is not one of alertmanager, grafana, json (did you mean "alertmanager"?)`},
		{"route space", space + "routes:\n  - name: am\n    source: alertmanager\n    spaces: [alert]\n",
			`gchat.yaml:7:14: routes[0].spaces[0]: "alert" is not a configured space (did you mean "alerts"?)`},
		{"route twice", space + "routes:\n  - {name: am, source: grafana, spaces: alerts}\n  - {name: am, source: alertmanager, spaces: alerts}\n",
			`gchat.yaml:6:12: routes[1].name: route "am" is defined twice`},
		{"route no target", space + "routes:\n  - name: am\n    source: alertmanager\n",
			`gchat.yaml:5:5: routes[0].spaces: a route needs spaces: to deliver to (or match: rules)`},
		{"route thread", space + "routes:\n  - {name: am, source: alertmanager, spaces: alerts, thread: per-alert}\n",
			`gchat.yaml:5:62: routes[0].thread: "per-alert" is not a thread policy (want one of group, fingerprint, alertname, day, none, incident)`},
		{"route match", space + "routes:\n  - name: am\n    source: alertmanager\n    match:\n      - spaces: [oncall]\n",
			"gchat.yaml:8:9: routes[0].match[0].when: a rule needs when: with at least one label or field (put catch-all spaces in the route's spaces:)\n" +
				`gchat.yaml:8:18: routes[0].match[0].spaces[0]: "oncall" is not a configured space`},
		{"route mention", space + "routes:\n  - {name: am, source: alertmanager, spaces: alerts, mentions: {critical: '@here'}}\n",
			`gchat.yaml:5:75: routes[0].mentions.critical: "@here" is not a mention: want "<users/all>", "all", "<users/NUMERIC_ID>" or "users/NUMERIC_ID"`},
		{"route escalate", space + "routes:\n  - name: am\n    source: alertmanager\n    spaces: alerts\n    escalate:\n      - {after: 15m, mention: '@here'}\n      - {mention: all, when: {severity: critical}, afetr: 1h}\n",
			`gchat.yaml:9:31: routes[0].escalate[0].mention: "@here" is not a mention: want "all", "users/NUMERIC_ID" or Chat's "<users/…>"` + "\n" +
				"gchat.yaml:10:9: routes[0].escalate[1].after: an escalation needs after: (how long the incident fires first, e.g. 15m)\n" +
				`gchat.yaml:10:52: routes[0].escalate[1]: unknown key "afetr" (did you mean "after"?)`},
		{"json route escalate", space + "routes:\n  - name: gh\n    source: json\n    spaces: alerts\n    template: {text: hi}\n    escalate: [{after: 1h, mention: all}]\n",
			"gchat.yaml:9:15: routes[0].escalate: escalation follows an incident until it resolves: for alerting routes (alertmanager, grafana) only"},
		{"route basic half", space + "routes:\n  - {name: am, source: alertmanager, spaces: alerts, basic_username: am}\n",
			`gchat.yaml:5:70: routes[0].basic_username: basic authentication needs both basic_username and basic_password`},
		{"route open beyond loopback", "listen: 0.0.0.0:8686\n" + "spaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token: ${TOKEN}\n" +
			"routes:\n  - {name: am, source: alertmanager, spaces: alerts}\n",
			`gchat.yaml:1:9: listen: refusing to listen on 0.0.0.0:8686 without credentials on routes "am": set bearer_token or basic_username and basic_password`},
		{"json route without template", space + "routes:\n  - {name: gh, source: json, spaces: alerts}\n",
			`gchat.yaml:5:5: routes[0].template: a json route needs a template: (text:, card:, thread_key:, dedup_key:)`},
		{"template error", space + "routes:\n  - name: gh\n    source: json\n    spaces: alerts\n    template:\n      text: \"{{ .issue.title \"\n      card:\n        sections:\n          - widgets:\n              - text: ok\n              - buttons: [{text: Open, url: \"{{ .x }\"}]\n",
			"gchat.yaml:9:13: routes[0].template.text: template: unclosed action (line 1)\n" +
				`gchat.yaml:14:45: routes[0].template.card.sections[0].widgets[1].buttons[0].url: template: unexpected "}" in operand (line 1)`},
		{"alerting template that threads by alert", space + "routes:\n  - name: am\n    source: alertmanager\n    spaces: alerts\n    thread: fingerprint\n    template:\n      text: '{{ .status }}'\n",
			"gchat.yaml:10:7: routes[0].template: a template renders the whole notification; thread: fingerprint splits it: use group, incident, day or none, or the built-in card"},
		{"alerting template with a thread key", space + "routes:\n  - name: am\n    source: alertmanager\n    spaces: alerts\n    template:\n      text: '{{ .status }}'\n      thread_key: x\n",
			"gchat.yaml:9:7: routes[0].template: thread_key and dedup_key are for json routes; alertmanager routes thread by thread: and deduplicate by the alerts' state"},
		{"template unknown key", space + "routes:\n  - name: gh\n    source: json\n    spaces: alerts\n    template:\n      txt: hello\n",
			"gchat.yaml:9:7: routes[0].template: unknown key \"txt\" (did you mean \"text\"?)\n" +
				"gchat.yaml:9:7: routes[0].template: the spec has neither text nor card: there is nothing to post"},
		{"merge into itself", "spaces: &s\n  <<: *s\n  alerts:\n    webhook_url: ${HOOK}\n", `gchat.yaml:2:7: spaces: << merges a mapping into itself`},
		{"merge of a scalar", "spaces:\n  <<: 1\n  alerts:\n    webhook_url: ${HOOK}\n", `gchat.yaml:2:7: spaces: << wants a mapping or a list of mappings, got a value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(tt.src)
			if err == nil {
				t.Fatalf("Load succeeded, want problems:\n%s\nconfig: %s", tt.want, c.Summary())
			}
			got := problems(t, err)
			if got != tt.want {
				t.Errorf("problems:\ngot  %s\nwant %s", got, tt.want)
			}
			assertNoSecret(t, "problems", err.Error())
			assertNoSecret(t, "problems %+v", fmt.Sprintf("%+v", err))
		})
	}
}

func TestLoadEveryProblemInFileOrder(t *testing.T) {
	src := `listen: 0.0.0.0:8686
stor: sqlite:x.db
admin_token: SHORTCANARY
spaces:
  alerts:
    webhook_url: ${GCHAT_ALERTS_WEBHOOK}
    pace: fast
    on_failure: never
  Ops:
    webhook_url: ${HOOK}
    ingest_token: ` + canaryIngest + `
  db:
    webhook_url_file: nowhere
    ingest_token: ` + canaryIngest + `
retention:
  delivered: 0s
operator: pager
`
	_, err := load(src)
	want := `gchat.yaml:1:9: listen: refusing to listen on 0.0.0.0:8686 without ingest credentials: space "alerts" has no ingest_token
gchat.yaml:2:1: unknown key "stor" (did you mean "store"?)
gchat.yaml:3:14: admin_token: too short: want at least 16 characters (e.g. openssl rand -hex 16), since it guards the admin API (replay, delete, pause)
gchat.yaml:6:18: spaces.alerts.webhook_url: environment variable GCHAT_ALERTS_WEBHOOK is not set
gchat.yaml:7:11: spaces.alerts.pace: "fast" is not a duration (want e.g. 1.05s)
gchat.yaml:8:17: spaces.alerts.on_failure: "never" is not one of retry, dead_letter, drop
gchat.yaml:9:3: spaces."Ops": space name "Ops" must match [a-z0-9][a-z0-9_-]* and be at most 64 characters: it appears in ingest URLs /v1/spaces/{name}/messages
gchat.yaml:13:23: spaces.db.webhook_url_file: cannot read nowhere: file does not exist
gchat.yaml:14:19: spaces.db.ingest_token: the same token as space "Ops": give each space its own, so that one leaked token opens one space
gchat.yaml:16:14: retention.delivered: 0s: want a positive duration (default 7d)
gchat.yaml:17:11: operator: "pager" is not a configured space`
	if got := problems(t, err); got != want {
		t.Errorf("problems:\n%s\nwant:\n%s\ndiff (-want +got):\n%s", got, want, cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
	}
	assertNoSecret(t, "problems", err.Error())
}

func TestLoadDefaults(t *testing.T) {
	c, err := load(space)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := gchat.ParseWebhook(canaryHook)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Listen:    "127.0.0.1:8686",
		Store:     "sqlite:gchat.db",
		Retention: Retention{Delivered: 7 * 24 * time.Hour, Dead: 30 * 24 * time.Hour},
		Spaces: []*Space{{
			Name: "alerts", Webhook: hook, Pace: 1050 * time.Millisecond, OnFailure: OnFailureRetry,
			MaxAge: 24 * time.Hour, Coalesce: true, ReplyFallback: false, QueueLimit: DefaultQueueLimit, Line: 2,
		}},
	}
	if diff := cmp.Diff(want, c, cmpConfig); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if p, ok := c.SQLitePath(); !ok || p != "gchat.db" {
		t.Errorf("SQLitePath() = %q, %t; want gchat.db, true", p, ok)
	}
}

// cmpConfig compares the exported fields, webhooks by their URL.
var cmpConfig = cmp.Options{
	cmp.Comparer(func(a, b *gchat.Webhook) bool {
		return a == nil && b == nil || a != nil && b != nil && a.Reveal() == b.Reveal()
	}),
	cmp.FilterPath(func(p cmp.Path) bool {
		sf, ok := p.Last().(cmp.StructField)
		return ok && !isExported(sf.Name())
	}, cmp.Ignore()),
}

func isExported(name string) bool { return name != "" && 'A' <= name[0] && name[0] <= 'Z' }

func TestLoadEverySetting(t *testing.T) {
	src := `listen: 0.0.0.0:9000
store: sqlite:/var/lib/gchat/q.db
admin_token_file: admin
ingest_key: AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI
allowed_hosts: [127.0.0.1:8687, proxy.example]
defaults: &defaults
spaces:
  alerts:
    webhook_url: ${HOOK}
    ingest_token: ${TOKEN}
    pace: 2s
    reply_fallback: true
    on_failure: dead_letter
    max_age: 1d12h
    coalesce: false
    queue_limit: 500
  ops:
    webhook_url_file: /etc/gchat/hook
    ingest_token: "${TOKEN2}"
    on_failure: drop
retention:
  delivered: 36h
  dead: 1.5d
operator: ops
routes:
  - name: prometheus
    source: alertmanager
    bearer_token: ${TOKEN2}-route
    spaces: [ops]
    match:
      - when: {severity: critical}
        spaces: [alerts, ops]
    thread: incident
    on_failure: dead_letter
    max_age: 2h
    dedup_window: 5m
    suppress_repeats: 4h
    mentions: {critical: all, warning: "users/123456789"}
    max_alerts: 5
    escalate:
      - {after: 15m, mention: users/123}
      - {after: 1h, mention: all, when: {severity: critical}}
    escalate_stale: 9h
`
	src = strings.Replace(src, "defaults: &defaults\n", "", 1)
	c, err := load(src)
	if err != nil {
		t.Fatal(err)
	}
	alerts, _ := gchat.ParseWebhook(canaryHook)
	ops, _ := gchat.ParseWebhook(canaryFileHook)
	want := &Config{
		Listen:       "0.0.0.0:9000",
		Store:        "sqlite:/var/lib/gchat/q.db",
		AdminToken:   canaryAdmin,
		IngestKey:    "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
		AllowedHosts: []string{"127.0.0.1:8687", "proxy.example"},
		Spaces: []*Space{
			{Name: "alerts", Webhook: alerts, IngestToken: canaryIngest, Pace: 2 * time.Second, ReplyFallback: true,
				OnFailure: OnFailureDeadLetter, MaxAge: 36 * time.Hour, Coalesce: false, QueueLimit: 500, Line: 7},
			{Name: "ops", Webhook: ops, IngestToken: canaryIngest2, Pace: DefaultPace, OnFailure: OnFailureDrop,
				MaxAge: DefaultMaxAge, Coalesce: true, QueueLimit: DefaultQueueLimit, Line: 16},
		},
		Retention: Retention{Delivered: 36 * time.Hour, Dead: 36 * time.Hour},
		Operator:  "ops",
	}
	want.Routes = []*Route{{
		Name: "prometheus", Source: SourceAlertmanager, BearerToken: canaryIngest2 + "-route",
		Spaces: []string{"ops"}, Match: []Match{{When: map[string]string{"severity": "critical"}, Spaces: []string{"alerts", "ops"}}},
		Thread: alert.PolicyIncident, OnFailure: OnFailureDeadLetter, MaxAge: 2 * time.Hour,
		DedupWindow: 5 * time.Minute, SuppressRepeats: 4 * time.Hour,
		Mentions:  map[string]string{"critical": "<users/all>", "warning": "<users/123456789>"},
		MaxAlerts: 5, Line: 25,
		Escalate: []Escalation{{After: 15 * time.Minute, Mention: "<users/123>", Line: 40},
			{After: time.Hour, Mention: "<users/all>", When: map[string]string{"severity": "critical"}, Line: 41}},
		EscalateStale: 9 * time.Hour,
	}}
	if diff := cmp.Diff(want, c, cmpConfig); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if sum := c.Summary(); !strings.Contains(sum, "; escalate 15m <users/123>, 1h <users/all> if severity=critical (stale 9h);") {
		t.Errorf("summary does not state the escalation rules:\n%s", sum)
	}
	if !c.AllowsHost("127.0.0.1:8687") || !c.AllowsHost("proxy.example:443") || !c.AllowsHost("chat.googleapis.com") || c.AllowsHost("127.0.0.1:8686") {
		t.Error("AllowsHost disagrees with allowed_hosts")
	}
	if p, ok := c.SQLitePath(); !ok || p != "/var/lib/gchat/q.db" {
		t.Errorf("SQLitePath() = %q, %t", p, ok)
	}
}

func TestLoadAliasesAndMerges(t *testing.T) {
	src := `x-common: &common
  pace: 2s
  on_failure: drop
spaces:
  alerts:
    <<: *common
    webhook_url: ${HOOK}
    on_failure: retry
  ops:
    <<: [*common]
    webhook_url: ${HOOK}
`
	_, err := load(src)
	// x-common is not a known key: merges are for sharing within a level.
	if got, want := problems(t, err), `gchat.yaml:1:1: unknown key "x-common"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	src = `spaces:
  alerts: &alerts
    webhook_url: ${HOOK}
    pace: &slow 3s
    on_failure: drop
  ops:
    <<: *alerts
    max_age: *slow
    on_failure: retry
`
	c, err := load(src)
	if err != nil {
		t.Fatal(err)
	}
	ops := c.Space("ops")
	if ops.Pace != 3*time.Second || ops.MaxAge != 3*time.Second || ops.OnFailure != OnFailureRetry || ops.Webhook == nil {
		t.Errorf("ops = %+v pace %v max_age %v on_failure %v; want the merged settings", ops, ops.Pace, ops.MaxAge, ops.OnFailure)
	}
}

// A mapping merged into itself through other mappings, doubling at each
// level, must not take 2^n steps.
func TestLoadMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("spaces:\n  s0: &m0 {}\n")
	for i := 1; i < 60; i++ {
		fmt.Fprintf(&b, "  s%d: &m%d\n    <<: [*m%d , *m%d ]\n", i, i, i-1, i-1)
	}
	_, err := load(b.String())
	if err == nil || !strings.Contains(err.Error(), "too many merges") {
		t.Errorf("got %v, want too many merges", err)
	}
}

func TestLoadFilePaths(t *testing.T) {
	var read []string
	readFile := func(name string) ([]byte, error) {
		read = append(read, name)
		return []byte(canaryFileHook), nil
	}
	env := func(name string) string { return map[string]string{"DIR": "/run/secrets"}[name] }
	src := "spaces:\n  a:\n    webhook_url_file: rel/hook\n  b:\n    webhook_url_file: /abs/hook\n  c:\n    webhook_url_file: ${DIR}/hook\n"
	if _, err := Load([]byte(src), filepath.Join("conf", "gchat.yaml"), env, readFile); err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join("conf", "rel", "hook"), "/abs/hook", "/run/secrets/hook"}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("files read (-want +got):\n%s", diff)
	}
}

// A flag that overrides the file moves the problem off the file's line.
func TestValidateAfterOverride(t *testing.T) {
	c, err := load("listen: 127.0.0.1:8686\nstore: sqlite:q.db\n" + space)
	if err != nil {
		t.Fatal(err)
	}
	c.Listen = "0.0.0.0:1"
	c.Store = "postgres://db:x/gchat"
	want := "/etc/gchat/gchat.yaml: store: not a valid URL (want postgres://USER@HOST:5432/DATABASE?sslmode=…)\n" +
		"/etc/gchat/gchat.yaml: listen: refusing to listen on 0.0.0.0:1 without ingest credentials: space \"alerts\" has no ingest_token"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
	c.Listen, c.Store = "127.0.0.1:8686", "sqlite:q.db"
	c.Spaces[0].Pace = -1
	if err, want := c.Validate(), "/etc/gchat/gchat.yaml: spaces.alerts.pace: -1ns: want a positive interval (default 1.05s)"; err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestValidateInCode(t *testing.T) {
	hook, err := gchat.ParseWebhook(canaryHook)
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Listen: DefaultListen, Store: DefaultStore, Retention: Retention{DefaultDelivered, DefaultDead},
		Spaces: []*Space{NewSpace("demo", hook)}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	c.Spaces = append(c.Spaces, NewSpace("demo", nil))
	c.Spaces[1].OnFailure = "later"
	want := "spaces.demo: space \"demo\" is defined twice\n" +
		"spaces.demo: webhook_url or webhook_url_file is required\n" +
		`spaces.demo.on_failure: "later" is not one of retry, dead_letter, drop`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestNoSecretInOutput(t *testing.T) {
	src := "admin_token: ${ADMIN}\ningest_key: " + canaryKey + "\nlisten: 0.0.0.0:1\nspaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token: ${TOKEN}\n  ops:\n    webhook_url_file: hook\n    ingest_token: ${TOKEN2}\n"
	c, err := load(src)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("config", "config", c, "space", c.Spaces[0], "token", c.Spaces[0].IngestToken)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", c, "space", *c.Spaces[1])
	for what, s := range map[string]string{
		"Summary": c.Summary(),
		"String":  c.String(),
		"%v":      fmt.Sprintf("%v %+v %#v %s %d", c, c, c, c, c),
		"*c %+v":  fmt.Sprintf("%+v %#v", *c, []Config{*c}),
		"space":   fmt.Sprintf("%v %+v %#v", c.Spaces[0], *c.Spaces[0], c.Spaces),
		"secret":  fmt.Sprintf("%v %+v %#v %s %q %x", c.AdminToken, c.AdminToken, c.AdminToken, c.AdminToken, c.AdminToken, c.AdminToken),
		"logs":    logs.String(),
	} {
		assertNoSecret(t, what, s)
	}
	c.Store = "postgres://gchat:" + canaryAdmin + "@db/gchat"
	var verr string
	if err := c.Validate(); err != nil {
		verr = err.Error()
	}
	assertNoSecret(t, "store password", c.Summary()+c.String()+fmt.Sprint(c.LogValue())+verr)
	c.Store = "postgres://gchat@db/gchat?sslmode=verify-full&password=" + canaryAdmin + "&sslpassword=" + canaryIngest2
	assertNoSecret(t, "store password parameters", c.Summary()+c.String()+fmt.Sprint(c.LogValue()))
	if !c.Spaces[0].IngestToken.Equal(canaryIngest) || c.AdminToken.Reveal() != canaryAdmin {
		t.Error("secrets not kept")
	}
	t.Log("\n" + c.Summary())
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"1.05s": 1050 * time.Millisecond, "7d": 168 * time.Hour, "1.5d": 36 * time.Hour, "1d12h": 36 * time.Hour,
		"0d": 0, "90m": 90 * time.Minute, "-1s": -time.Second,
	} {
		if got, ok := parseDuration(s); !ok || got != want {
			t.Errorf("parseDuration(%q) = %v, %t; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "d", "7", "fast", "-1d", "1e3d", "1d-2h", "d1h", "inf", "200000d", "7days", "1dd"} {
		if got, ok := parseDuration(s); ok {
			t.Errorf("parseDuration(%q) = %v, want an error", s, got)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		DefaultPace: "1.05s", 24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 7 * 24 * time.Hour: "7d", 0: "0s", time.Minute: "1m",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestStorePostgres: a PostgreSQL store, its password from the environment,
// is accepted and shown without the password.
func TestStorePostgres(t *testing.T) {
	c, err := load("store: postgres://gchat:${ADMIN}@db.internal:5432/gchat?sslmode=verify-full\n" + space)
	if err != nil {
		t.Fatal(err)
	}
	want := "postgres://gchat:" + canaryAdmin + "@db.internal:5432/gchat?sslmode=verify-full"
	if got, ok := c.PostgresURL(); !ok || got != want {
		t.Errorf("PostgresURL() = %q, %t; want the expanded URL", got, ok)
	}
	if _, ok := c.SQLitePath(); ok {
		t.Error("SQLitePath() reports a PostgreSQL store as SQLite")
	}
	if !strings.Contains(c.Summary(), "store postgres://gchat:xxxxx@db.internal:5432/gchat?sslmode=verify-full\n") {
		t.Errorf("Summary does not show the redacted store:\n%s", c.Summary())
	}
	assertNoSecret(t, "Summary", c.Summary()+c.String())
	c.Store = "postgresql://db/gchat"
	if err := c.Validate(); err != nil {
		t.Errorf("postgresql:// scheme: %v", err)
	}
}

// The examples must stay valid: they are what users copy.
func TestExamples(t *testing.T) {
	env := map[string]string{
		"GCHAT_ALERTS_WEBHOOK":       "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=" + canaryKey + "&token=" + canaryToken,
		"GCHAT_ALERTS_TOKEN":         canaryIngest,
		"GCHAT_INGEST_KEY":           "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
		"GCHAT_STAGING_TOKEN":        "emulator-token",
		"GCHAT_STAGING_INGEST_TOKEN": canaryIngest2,
		"GCHAT_DB_PASSWORD":          canaryAdmin,
		"GCHAT_ONCALL_WEBHOOK":       "https://chat.googleapis.com/v1/spaces/BBBB/messages?key=" + canaryKey + "&token=" + canaryToken + "2",
		"GCHAT_DEV_WEBHOOK":          "https://chat.googleapis.com/v1/spaces/CCCC/messages?key=" + canaryKey + "&token=" + canaryToken + "3",
		"GCHAT_ALERTMANAGER_TOKEN":   canaryIngest + "-am",
		"GCHAT_GRAFANA_PASSWORD":     canaryIngest + "-grafana",
		"GCHAT_EVENTS_TOKEN":         canaryIngest + "-events",
	}
	dir := filepath.Join("..", "..", "..", "examples")
	files := map[string]string{
		filepath.Join(dir, "secrets", "admin-token"): canaryAdmin + "\n",
		filepath.Join(dir, "secrets", "ops-webhook"): canaryFileHook + "\n",
		filepath.Join(dir, "secrets", "ops-token"):   "OPSCANARY0123456789\n",
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		if filepath.Dir(name) == filepath.Join(dir, "samples") {
			return os.ReadFile(name) // the routes' sample payloads are real files
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	for _, name := range []string{"gchat.yaml", "minimal.yaml", "replicas.yaml", "alertmanager.yaml", "events.yaml"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Load(data, path, func(k string) string { return env[k] }, readFile)
			if err != nil {
				t.Fatalf("%s is not valid:\n%v", name, err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() after Load: %v", err)
			}
			assertNoSecret(t, "Summary", c.Summary())
			if name == "gchat.yaml" {
				// Every key is used, so that the example documents them all.
				for _, key := range slices.Concat(topKeys, spaceKeys, retentionKeys, timingKeys, serverKeys, logKeys) {
					if !bytes.Contains(data, []byte("\n"+key+":")) && !bytes.Contains(data, []byte(" "+key+":")) {
						t.Errorf("examples/gchat.yaml does not show %s", key)
					}
				}
			}
		})
	}
}
