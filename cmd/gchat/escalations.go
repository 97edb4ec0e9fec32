package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/gchatkit/gchat/internal/relay/adminapi"
)

const escalationsUsage = `Usage: gchat escalations [flags]

List a running relay's pending escalations: the replies that routes'
escalate: rules will post in an incident's thread if it is still firing
when they are due, soonest first, with when each is given up unless
another firing notification comes (ages on the relay's clock). A resolved
notification removes its incident's escalations.

` + adminHelp + adminExit + `.

Flags:
`

func runEscalations(ctx context.Context, args []string, env environment) error {
	var f adminFlags
	var jsonOut bool
	fs := flag.NewFlagSet("gchat escalations", flag.ContinueOnError)
	f.register(fs)
	fs.BoolVar(&jsonOut, "json", false, "print the admin API's JSON")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), escalationsUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("escalations takes no arguments, got %q", fs.Args())
	}
	c, err := f.client(env)
	if err != nil {
		return err
	}
	a, err := c.do(ctx, http.MethodGet, "/api/v1/escalations", nil)
	if err != nil {
		return err
	}
	if jsonOut {
		return printJSON(env.stdout, json.RawMessage(a.body))
	}
	var out adminapi.Escalations
	if err := json.Unmarshal(a.body, &out); err != nil {
		return fmt.Errorf("GET /api/v1/escalations: the relay's answer is not a list of escalations: %w", err)
	}
	printEscalations(env.stdout, out.Escalations, a.now)
	return nil
}

// printEscalations prints the escalations as a table; DUE and STALE are
// how long until each, TEXT the reply, truncated.
func printEscalations(w io.Writer, es []adminapi.Escalation, now time.Time) {
	if len(es) == 0 {
		fmt.Fprintln(w, "no pending escalations")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tRULE\tINCIDENT\tSPACE\tDUE\tSTALE\tTEXT")
	for _, e := range es {
		due := "now"
		if e.Due.After(now) {
			due = "in " + age(e.Due, now)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", e.Route, e.Rule, e.Incident, e.Space, due,
			"in "+age(e.StaleAt, now), truncate(e.Text, lastWidth))
	}
	tw.Flush()
}
