package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/relay/adminapi"
	"github.com/gchatkit/gchat/internal/store"
)

// The operator commands (deliveries, dead, resume) are clients of a running
// relay's admin API: they never open the store themselves, so they work the
// same against a relay on another host and never race its dispatcher.

// exitNoSuch is the operator commands' exit 2: the relay has no delivery
// (or space) by that id, or the delivery is not in a state that allows the
// operation (replaying or dropping one that is not dead). It shares its
// number with exitRejected: in both, the request was understood and refused
// for what it names.
const exitNoSuch = exitRejected

// Defaults of the operator commands.
const (
	defaultRelayURL = "http://127.0.0.1:8686"
	// adminTimeout bounds one request to the admin API.
	adminTimeout = 30 * time.Second
	// adminPageSize is the page asked of the list routes: the relay's
	// default, and small enough that a page of large messages stays small.
	adminPageSize = 100
	// maxAdminBody caps an answer of the admin API: a page of
	// adminPageSize deliveries of the relay's largest messages.
	maxAdminBody = 256 << 20
	// lastWidth truncates the LAST column of the table.
	lastWidth = 60
)

// adminHelp is the part of every operator command's help about reaching the
// relay; adminExit begins its exit codes, which each command ends with what
// its exit 2 means, if it has one.
const (
	adminHelp = `The relay is --relay URL, else $GCHAT_RELAY, else ` + defaultRelayURL + `.
The admin token is read from $GCHAT_ADMIN_TOKEN, or from the file that
--admin-token-file names; no flag carries the token itself, since flags show
in ps. The token is never printed.

`
	adminExit = `Exit codes: 0 done; 1 bad usage or input, the relay unreachable, or the
request refused (401 wrong admin token, 403 host not allowed or admin API
disabled, 400, 5xx)`
)

const deliveriesUsage = `Usage: gchat deliveries [flags]
       gchat deliveries get [flags] ID

List a running relay's deliveries, oldest first, or show one with its
message. The table shows each delivery's id, space, state, attempts, age
(measured on the relay's clock) and the last status or error, truncated;
--json prints the admin API's JSON instead, its pages merged. States: queued,
sending, batched, done, dead, dropped. get of a queued delivery in a paused
space says so.

` + adminHelp + adminExit + `; 2 no such delivery (404, get).

Flags:
`

const deadUsage = `Usage: gchat dead list [flags]
       gchat dead replay [flags] ID...
       gchat dead drop [flags] ID...

Dead letters are deliveries the relay gave up on. list shows them as
"gchat deliveries --state dead" does; replay puts each back at the end of its
thread's queue, due now, to be sent again with the same request id; drop
deletes each for good. With several ids, replay and drop go on past the ids
that fail, report each, and exit with their code (1 over 2 when they differ).

` + adminHelp + adminExit + `; 2 no such delivery (404), or the
delivery is not dead (409).

Flags (--space, --limit and --json are list's):
`

const resumeUsage = `Usage: gchat resume [flags] SPACE

Resume the delivery of a relay space that the relay paused. After Google
answered 403 or 404 (the webhook was removed or lost access) the relay stops
sending the messages of the spaces that post through that webhook until
resumed; other spaces posting into the same Google space go on. A long 429
pauses the Google space, and resuming any of its spaces lifts that pause.

` + adminHelp + adminExit + `; 2 no such space (404).

Flags:
`

const spacesUsage = `Usage: gchat spaces [flags]

List a running relay's spaces: the deliveries pending in each (queued and
sending, of every relay space that shares its Google space), whether it is
paused, why and until when ("resume" when only gchat resume lifts it), the
replica that holds it, and its last send (ages on the relay's clock).

` + adminHelp + adminExit + `.

Flags:
`

// adminFlags are the flags of every operator command.
type adminFlags struct {
	relay     string
	tokenFile string
}

func (a *adminFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.relay, "relay", "", "the relay's base `URL` (default $GCHAT_RELAY, else "+defaultRelayURL+")")
	fs.StringVar(&a.tokenFile, "admin-token-file", "", "read the admin token from `PATH` (default $GCHAT_ADMIN_TOKEN)")
}

// client resolves the relay URL and the admin token, flags before the
// environment.
func (a *adminFlags) client(env environment) (*adminClient, error) {
	raw, from := a.relay, "--relay"
	if raw == "" {
		raw, from = env.getenv("GCHAT_RELAY"), "$GCHAT_RELAY"
	}
	if raw == "" {
		raw, from = defaultRelayURL, "the default relay URL"
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, usageError("%s: want the relay's base URL, such as %s", from, defaultRelayURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""

	c := &adminClient{base: base, http: &http.Client{Timeout: adminTimeout}}
	if a.tokenFile != "" {
		data, err := readConfigFile(a.tokenFile)
		if err != nil {
			return nil, usageError("--admin-token-file: %w", err)
		}
		c.token, c.tokenFrom = strings.TrimSpace(string(data)), "--admin-token-file "+a.tokenFile
		if c.token == "" {
			return nil, usageError("--admin-token-file %s is empty", a.tokenFile)
		}
		return c, nil
	}
	c.token, c.tokenFrom = strings.TrimSpace(env.getenv("GCHAT_ADMIN_TOKEN")), "$GCHAT_ADMIN_TOKEN"
	if c.token == "" {
		return nil, usageError("no admin token: set GCHAT_ADMIN_TOKEN or give --admin-token-file PATH")
	}
	return c, nil
}

// adminClient calls one relay's admin API.
type adminClient struct {
	base      *url.URL
	token     string
	tokenFrom string // where the token came from, for the 401 message
	http      *http.Client
}

// relayError is a refusal of the admin API, read from its Google-style
// error envelope.
type relayError struct {
	StatusCode int
	Status     string // such as NOT_FOUND; "" when the body was no envelope
	Message    string
}

func (e *relayError) Error() string {
	s := "the relay answered HTTP " + strconv.Itoa(e.StatusCode)
	if e.Status != "" {
		s += " " + e.Status
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// answer is a 2xx answer of the admin API.
type answer struct {
	body []byte
	// now is the relay's clock from the Date header, else ours: ages are
	// measured on the clock that wrote the times, so a skewed client does
	// not distort them.
	now time.Time
}

// do calls the admin API. 401, 403 and transport failures come back as
// exit-1 errors that say what to do; other refusals as *relayError, which
// the caller maps (see byID).
func (c *adminClient) do(ctx context.Context, method, path string, query url.Values) (answer, error) {
	target := c.base.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return answer{}, usageError("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody+1))
	if err != nil {
		return answer{}, c.transportError(ctx, err)
	}
	if len(body) > maxAdminBody {
		return answer{}, fmt.Errorf("%s %s: answer larger than %d bytes", method, path, maxAdminBody)
	}
	if resp.StatusCode/100 == 2 {
		now, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			now = time.Now()
		}
		return answer{body: body, now: now}, nil
	}
	e := &relayError{StatusCode: resp.StatusCode}
	var env struct {
		Error struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Status, e.Message = env.Error.Status, env.Error.Message
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		if c.tokenFrom == "$GCHAT_ADMIN_TOKEN" {
			return answer{}, usageError("the relay refused the admin token: set GCHAT_ADMIN_TOKEN to the relay's admin_token")
		}
		return answer{}, usageError("the relay refused the admin token from %s", c.tokenFrom)
	case http.StatusForbidden:
		why := e.Message
		if why == "" {
			why = e.Error()
		}
		return answer{}, usageError("the relay at %s refused the admin request: %s", c.base.Redacted(), why)
	}
	return answer{}, e
}

// transportError explains a request that got no answer. The error of
// http.Client names the URL, which holds no secret (the token travels in a
// header), but the base is printed redacted in case it carries a password.
func (c *adminClient) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return usageError("interrupted")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return usageError("cannot reach the relay at %s: is it running?", c.base.Redacted())
	}
	return usageError("cannot reach the relay at %s: %w", c.base.Redacted(), err)
}

// byID maps a refusal of a route that names one delivery or space: 404
// (no such id) and 409 (not in a state that allows it) are exit 2.
func byID(err error) error {
	var re *relayError
	if errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || re.StatusCode == http.StatusConflict) {
		return &exitError{code: exitNoSuch, err: err}
	}
	return err
}

// page is a page of a list route as it came: --json prints the API's own
// JSON, untouched.
type page = adminapi.Page[json.RawMessage]

// listing is the deliveries a list command gathered.
type listing struct {
	page
	// more reports that the limit stopped the listing before the end.
	more bool
	now  time.Time
}

// list follows the pages of path from the first until limit deliveries
// (zero: all). It asks one more than the limit on the last page, so that
// it knows, without a further request, whether there are more.
func (c *adminClient) list(ctx context.Context, path string, query url.Values, limit int) (listing, error) {
	l := listing{page: page{Deliveries: []json.RawMessage{}}}
	for {
		size := adminPageSize
		if limit > 0 {
			size = min(size, limit-len(l.Deliveries)+1)
		}
		query.Set("limit", strconv.Itoa(size))
		a, err := c.do(ctx, http.MethodGet, path, query)
		if err != nil {
			return l, err
		}
		var p page
		if err := json.Unmarshal(a.body, &p); err != nil {
			return l, fmt.Errorf("GET %s: the relay's answer is not a list of deliveries: %w", path, err)
		}
		l.Deliveries, l.now = append(l.Deliveries, p.Deliveries...), a.now
		if limit > 0 && len(l.Deliveries) > limit {
			l.Deliveries, l.more = l.Deliveries[:limit], true
			break
		}
		if p.Next == "" || len(p.Deliveries) == 0 {
			break
		}
		query.Set("after", p.Next)
	}
	if l.more {
		var last adminapi.Delivery
		if err := json.Unmarshal(l.Deliveries[len(l.Deliveries)-1], &last); err != nil {
			return l, fmt.Errorf("GET %s: %w", path, err)
		}
		l.Next = last.ID
	}
	return l, nil
}

// listFlags are the flags of deliveries and dead list.
type listFlags struct {
	adminFlags
	space, state string
	limit        int
	jsonOut      bool
}

func (f *listFlags) register(fs *flag.FlagSet, states bool) {
	f.adminFlags.register(fs)
	fs.StringVar(&f.space, "space", "", "only the relay space `NAME`")
	if states {
		fs.StringVar(&f.state, "state", "", "only these `STATES`, comma-separated (queued,sending,batched,done,dead,dropped)")
	}
	fs.IntVar(&f.limit, "limit", 100, "show at most `N` deliveries, following the relay's pages (0: all)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the admin API's JSON")
}

func runDeliveries(ctx context.Context, args []string, env environment) error {
	if len(args) > 0 && args[0] == "get" {
		return runDeliveryGet(ctx, args[1:], env)
	}
	var f listFlags
	fs, err := parseCommand("gchat deliveries", deliveriesUsage, args, env, func(fs *flag.FlagSet) {
		f.register(fs, true)
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("deliveries takes no arguments, got %q (to show one: gchat deliveries get ID)", fs.Args())
	}
	query := url.Values{}
	if f.state != "" {
		query.Set("state", f.state)
	}
	return f.run(ctx, env, "/api/v1/deliveries", query, "deliveries")
}

// run lists path and prints the table or the JSON.
func (f *listFlags) run(ctx context.Context, env environment, path string, query url.Values, what string) error {
	if f.limit < 0 {
		return usageError("--limit %d: want 0 (all) or more", f.limit)
	}
	c, err := f.client(env)
	if err != nil {
		return err
	}
	if f.space != "" {
		query.Set("space", f.space)
	}
	l, err := c.list(ctx, path, query, f.limit)
	if err != nil {
		return err
	}
	if f.jsonOut {
		return printJSON(env.stdout, l.page)
	}
	ds := make([]adminapi.Delivery, len(l.Deliveries))
	for i, raw := range l.Deliveries {
		if err := json.Unmarshal(raw, &ds[i]); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
	}
	if len(ds) == 0 {
		fmt.Fprintf(env.stdout, "no %s\n", what)
		return nil
	}
	printTable(env.stdout, ds, l.now)
	if l.more {
		fmt.Fprintf(env.stderr, "gchat: showing the first %d %s; there are more (--limit 0 shows all)\n", len(ds), what)
	}
	return nil
}

func runDeliveryGet(ctx context.Context, args []string, env environment) error {
	var f adminFlags
	var jsonOut bool
	fs, err := parseCommand("gchat deliveries get", deliveriesUsage, args, env, func(fs *flag.FlagSet) {
		f.register(fs)
		fs.BoolVar(&jsonOut, "json", false, "print the admin API's JSON")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return usageError("want: gchat deliveries get ID")
	}
	c, err := f.client(env)
	if err != nil {
		return err
	}
	id := fs.Arg(0)
	a, err := c.do(ctx, http.MethodGet, "/api/v1/deliveries/"+url.PathEscape(id), nil)
	if err != nil {
		return byID(err)
	}
	if jsonOut {
		return printJSON(env.stdout, json.RawMessage(a.body))
	}
	var d adminapi.Delivery
	if err := json.Unmarshal(a.body, &d); err != nil {
		return fmt.Errorf("get %s: the relay's answer is not a delivery: %w", id, err)
	}
	var pause *adminapi.Space
	if d.State == store.StateQueued {
		// A queued delivery waits for its space's pause too: the next
		// attempt is not before the pause ends.
		spaces, err := c.spaces(ctx)
		if err != nil {
			return err
		}
		for i, sp := range spaces.Spaces {
			if sp.Space == d.Space && sp.Paused {
				pause = &spaces.Spaces[i]
			}
		}
	}
	printDelivery(env.stdout, d, pause, a.now)
	return nil
}

// spaces asks the relay for its spaces' state.
func (c *adminClient) spaces(ctx context.Context) (adminapi.Spaces, error) {
	var out adminapi.Spaces
	a, err := c.do(ctx, http.MethodGet, "/api/v1/spaces", nil)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		return out, fmt.Errorf("GET /api/v1/spaces: the relay's answer is not a list of spaces: %w", err)
	}
	return out, nil
}

func runSpaces(ctx context.Context, args []string, env environment) error {
	var f adminFlags
	var jsonOut bool
	fs, err := parseCommand("gchat spaces", spacesUsage, args, env, func(fs *flag.FlagSet) {
		f.register(fs)
		fs.BoolVar(&jsonOut, "json", false, "print the admin API's JSON")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("spaces takes no arguments, got %q", fs.Args())
	}
	c, err := f.client(env)
	if err != nil {
		return err
	}
	a, err := c.do(ctx, http.MethodGet, "/api/v1/spaces", nil)
	if err != nil {
		return err
	}
	if jsonOut {
		return printJSON(env.stdout, json.RawMessage(a.body))
	}
	var out adminapi.Spaces
	if err := json.Unmarshal(a.body, &out); err != nil {
		return fmt.Errorf("GET /api/v1/spaces: the relay's answer is not a list of spaces: %w", err)
	}
	printSpaces(env.stdout, out.Spaces, a.now)
	return nil
}

// printSpaces prints the spaces as a table: PAUSED is "-", "resume" for a
// pause only gchat resume (or a reload) lifts, else how long it has left;
// WHY is the pause's reason, truncated.
func printSpaces(w io.Writer, spaces []adminapi.Space, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SPACE\tPENDING\tPAUSED\tHOLDER\tLAST SEND\tWHY")
	for _, sp := range spaces {
		paused, why, holder, lastSend := "-", "-", "-", "-"
		if sp.Paused {
			paused, why = "resume", truncate(strings.Join(strings.Fields(sp.PauseReason), " "), lastWidth)
			if !sp.PausedUntil.IsZero() {
				paused = age(sp.PausedUntil, now) + " left"
			}
		}
		if sp.Holder != "" {
			holder = sp.Holder
		}
		if !sp.LastSend.IsZero() {
			lastSend = age(now, sp.LastSend) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", sp.Space, sp.Pending, paused, holder, lastSend, why)
	}
	tw.Flush()
}

func runDead(ctx context.Context, args []string, env environment) error {
	verb := ""
	if len(args) > 0 {
		verb = args[0]
	}
	switch verb {
	case "list":
		var f listFlags
		fs := deadFlagSet("list", func(fs *flag.FlagSet) { f.register(fs, false) })
		if err := parseFlags(fs, args[1:], env); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError("dead list takes no arguments, got %q", fs.Args())
		}
		return f.run(ctx, env, "/api/v1/dead", url.Values{}, "dead letters")
	case "replay", "drop":
		var f adminFlags
		fs := deadFlagSet(verb, f.register)
		if err := parseFlags(fs, args[1:], env); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return usageError("want: gchat dead %s ID...", verb)
		}
		for _, id := range fs.Args() {
			if id == "" {
				return usageError("dead %s: an empty id", verb)
			}
		}
		c, err := f.client(env)
		if err != nil {
			return err
		}
		return deadEach(ctx, c, verb, fs.Args(), env)
	}
	// No verb, or --help: the usage, with list's flags (a superset).
	var f listFlags
	fs := deadFlagSet("", func(fs *flag.FlagSet) { f.register(fs, false) })
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	fs.SetOutput(env.stderr)
	fs.Usage()
	if verb == "" {
		return usageError("want: gchat dead list, replay or drop")
	}
	return usageError("dead: unknown verb %q: want list, replay or drop", verb)
}

func deadFlagSet(verb string, register func(*flag.FlagSet)) *flag.FlagSet {
	fs := flag.NewFlagSet(strings.TrimSpace("gchat dead "+verb), flag.ContinueOnError)
	register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), deadUsage)
		fs.PrintDefaults()
	}
	return fs
}

// deadEach replays or drops each id, going on past refusals of one id and
// stopping at failures that would repeat for every id (token, connection).
func deadEach(ctx context.Context, c *adminClient, verb string, ids []string, env environment) error {
	failed, code := 0, exitNoSuch
	for _, id := range ids {
		path, method := "/api/v1/dead/"+url.PathEscape(id), http.MethodDelete
		if verb == "replay" {
			path, method = path+"/replay", http.MethodPost
		}
		a, err := c.do(ctx, method, path, nil)
		var re *relayError
		switch {
		case err == nil:
		case errors.As(err, &re):
			failed++
			if re.StatusCode != http.StatusNotFound && re.StatusCode != http.StatusConflict {
				code = exitUsage
			}
			fmt.Fprintf(env.stderr, "gchat: %s %s: %v\n", verb, id, err)
			continue
		default:
			return err
		}
		if verb == "drop" {
			fmt.Fprintf(env.stdout, "dropped %s\n", id)
			continue
		}
		var d adminapi.Delivery
		if err := json.Unmarshal(a.body, &d); err != nil {
			return fmt.Errorf("replay %s: the relay's answer is not a delivery: %w", id, err)
		}
		fmt.Fprintf(env.stdout, "replayed %s: %s in space %s\n", d.ID, d.State, d.Space)
	}
	if failed > 0 {
		return &exitError{code: code, err: fmt.Errorf("dead %s: %d of %d failed", verb, failed, len(ids))}
	}
	return nil
}

func runResume(ctx context.Context, args []string, env environment) error {
	var f adminFlags
	fs, err := parseCommand("gchat resume", resumeUsage, args, env, func(fs *flag.FlagSet) {
		f.register(fs)
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		return usageError("want: gchat resume SPACE")
	}
	c, err := f.client(env)
	if err != nil {
		return err
	}
	space := fs.Arg(0)
	if _, err := c.do(ctx, http.MethodPost, "/api/v1/spaces/"+url.PathEscape(space)+"/resume", nil); err != nil {
		return byID(err)
	}
	fmt.Fprintf(env.stdout, "resumed space %s\n", space)
	return nil
}

// printJSON prints v indented; the API's raw JSON is re-indented as is.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func printTable(w io.Writer, ds []adminapi.Delivery, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSPACE\tSTATE\tATTEMPTS\tAGE\tLAST")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Space, d.State, d.Attempts, age(now, d.CreateTime), truncate(last(d), lastWidth))
	}
	tw.Flush()
}

// printDelivery prints one delivery as fields, then its message. pause is
// its space's when the space is paused, else nil.
func printDelivery(w io.Writer, d adminapi.Delivery, pause *adminapi.Space, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s\t%s\n", name, value)
		}
	}
	at := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339) + " (" + age(now, *t) + " ago)"
	}
	field("id", d.ID)
	field("space", d.Space)
	field("lane", d.Lane)
	field("thread group", d.Group)
	field("state", string(d.State))
	field("attempts", strconv.Itoa(d.Attempts))
	field("created", at(&d.CreateTime))
	field("queued", at(&d.QueueTime))
	switch {
	case pause != nil && pause.PausedUntil.IsZero():
		field("paused", "space "+d.Space+" is paused until resumed (gchat resume "+d.Space+"): "+strings.Join(strings.Fields(pause.PauseReason), " "))
		field("next attempt", "when the space is resumed")
	case pause != nil && (d.NextAttemptTime == nil || pause.PausedUntil.After(*d.NextAttemptTime)):
		field("paused", "space "+d.Space+" is paused until "+pause.PausedUntil.UTC().Format(time.RFC3339)+": "+strings.Join(strings.Fields(pause.PauseReason), " "))
		field("next attempt", pause.PausedUntil.UTC().Format(time.RFC3339)+" (when the pause ends)")
	case d.NextAttemptTime != nil:
		field("next attempt", d.NextAttemptTime.UTC().Format(time.RFC3339))
	}
	field("finished", at(d.DoneTime))
	field("last", last(d))
	field("request id", d.RequestID)
	field("google message", d.GoogleMessage)
	field("google thread", d.GoogleThread)
	if d.Batch {
		field("batch", "yes: several messages sent as one")
	}
	field("in batch", d.BatchID)
	tw.Flush()
	printHistory(w, d.AttemptHistory)
	var msg bytes.Buffer
	if json.Indent(&msg, d.Message, "", "  ") == nil {
		fmt.Fprintf(w, "message:\n%s\n", msg.Bytes())
	}
}

// printHistory prints a delivery's attempts, oldest first, with a line
// where an operator replayed it.
func printHistory(w io.Writer, as []adminapi.Attempt) {
	if len(as) == 0 {
		return
	}
	fmt.Fprintln(w, "attempt history:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tSTARTED\tTOOK\tREPLICA\tOUTCOME\tANSWER")
	for _, a := range as {
		if a.Try == 1 && a.N > 1 {
			fmt.Fprintln(tw, "  \treplayed")
		}
		took := "-"
		if d, err := adminapi.ParseDuration(a.Duration); err == nil && d > 0 {
			took = d.Round(time.Millisecond).String()
		}
		outcome, answer := string(a.Outcome), last(adminapi.Delivery{LastStatus: a.Status, LastError: a.Error})
		switch {
		case a.Ambiguous:
			outcome, answer = "ambiguous", "no outcome recorded; sent again with the same request id"
		case a.Outcome == "done" && a.GoogleMessage != "":
			answer = a.GoogleMessage
		}
		replica := a.Replica
		if replica == "" {
			replica = "-"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", a.N, a.StartTime.UTC().Format(time.RFC3339), took, replica, outcome,
			truncate(answer, lastWidth))
	}
	tw.Flush()
}

// last is the last attempt's status and error on one line, "-" for none.
func last(d adminapi.Delivery) string {
	msg := strings.Join(strings.Fields(d.LastError), " ")
	status := ""
	if d.LastStatus != 0 {
		status = strconv.Itoa(d.LastStatus)
	}
	switch {
	case msg == "" && status == "":
		return "-"
	case msg == "":
		return status
	case status == "" || strings.HasPrefix(msg, status):
		return msg
	}
	return status + " " + msg
}

// age is now-t, coarse: 42s, 17m, 5h, 3d. A time ahead of now is 0s.
func age(now, t time.Time) string {
	d := max(now.Sub(t), 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// truncate cuts s to n runes, the last an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// parseCommand parses args for the command name: its flags are those
// register adds, its help is usage followed by the flags' defaults.
func parseCommand(name, usage string, args []string, env environment, register func(*flag.FlagSet)) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs, parseFlags(fs, args, env)
}
