package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/relay/plan"
	"github.com/gchatkit/gchat/internal/source/alertmanager"
	"github.com/gchatkit/gchat/internal/source/grafana"
	"github.com/gchatkit/gchat/internal/source/jsontmpl"
)

const configUsage = `Usage: gchat config check [--offline | --send ROUTE] FILE
       gchat config reference

Check a relay configuration file: every problem is reported with its line,
column and field, and the exit code is 1 when there is any. Environment
variables (${NAME}) and *_file secrets are resolved as the relay would;
with --offline they are not read, so that CI can check the file without
the production secrets.

Each route is then tried with a sample payload (its sample_file, else for
alertmanager and grafana routes a built-in sample): the messages it makes
are checked as Google would check them, and a problem names the template
field at fault.

  --offline      read no environment variable and no secret file (webhook,
                 token and password files, TLS files): each ${NAME} and
                 secret file stands for a valid placeholder; the rest (YAML
                 syntax, types, unknown keys, references between spaces,
                 routes and the operator, templates with their samples) is
                 checked as without it
  --send ROUTE   post the messages of ROUTE's sample to its spaces' webhooks,
                 to see a new route work end to end; a send that fails exits
                 as gchat send does: 2 refused by Google, 3 gave up

config reference prints every key of the file, with its type, default and
meaning (docs/config.md is this reference).
`

func runConfig(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("gchat config", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), configUsage) }
	send := fs.String("send", "", "")
	offline := fs.Bool("offline", false, "")
	if len(args) > 0 && args[0] == "reference" {
		if err := parseFlags(fs, args[1:], env); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError("config reference takes no arguments, got %q", fs.Args())
		}
		_, err := io.WriteString(env.stdout, config.ReferenceMarkdown())
		return err
	}
	if len(args) > 0 && args[0] == "check" {
		args = args[1:]
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		fs.SetOutput(env.stderr)
		fs.Usage()
		return usageError("config: unknown verb %q: want check or reference", args[0])
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.SetOutput(env.stderr)
		fs.Usage()
		return usageError("want: gchat config check [--offline | --send ROUTE] FILE")
	}
	if *offline && *send != "" {
		return usageError("--send needs the secrets that --offline leaves unread: give one or the other")
	}
	name := fs.Arg(0)
	data, err := readConfigFile(name)
	if err != nil {
		return usageError("%w", err)
	}
	var cfg *config.Config
	if *offline {
		cfg, err = config.LoadOffline(data, name, readConfigFile)
	} else {
		cfg, err = config.Load(data, name, env.getenv, readConfigFile)
	}
	if err != nil {
		var ps *config.Problems
		if errors.As(err, &ps) {
			return usageError("%s: %d problem(s):\n%v", name, len(ps.List), err)
		}
		return usageError("%w", err)
	}
	for _, p := range cfg.ExposedSecretFiles(os.Stat) {
		fmt.Fprintf(env.stderr, "warning: %v\n", p)
	}
	if *send != "" && cfg.Route(*send) == nil {
		return usageError("--send %s: no such route in %s", *send, name)
	}
	plans, problems := tryRoutes(ctx, cfg)
	if len(problems) > 0 {
		return usageError("%s: %d problem(s) in the routes' messages:\n%s", name, len(problems), strings.Join(problems, "\n"))
	}
	note := ""
	if *offline {
		note = " (offline: environment variables and secret files not read; the summary shows placeholders)"
	}
	fmt.Fprintf(env.stdout, "%s: OK%s\n%s", name, note, cfg.Summary())
	for _, r := range cfg.Routes {
		fmt.Fprintf(env.stdout, "route %s: %s\n", r.Name, plans[r.Name].summary)
	}
	if *send == "" {
		return nil
	}
	return sendPlan(ctx, cfg, *send, plans[*send].plan, env)
}

// routeTrial is what a route made of its sample.
type routeTrial struct {
	plan    plan.Plan
	summary string
}

// tryRoutes renders each route's sample and checks the messages.
func tryRoutes(ctx context.Context, cfg *config.Config) (map[string]routeTrial, []string) {
	trials := map[string]routeTrial{}
	var problems []string
	for i, r := range cfg.Routes {
		where := func(path string) string { return fmt.Sprintf("%s: routes[%d]", r.Where(path), i) }
		sample, from := r.Sample, r.SampleFile
		switch {
		case sample != nil:
		case r.Source == config.SourceAlertmanager:
			sample, from = alertmanager.Sample, "the built-in Alertmanager sample"
		case r.Source == config.SourceGrafana:
			sample, from = grafana.Sample, "the built-in Grafana sample"
		default:
			trials[r.Name] = routeTrial{summary: "not tried: no sample_file to render its template with"}
			continue
		}
		pl, err := plan.Route(ctx, r, sample, time.Now(), nil)
		if err != nil {
			var tp jsontmpl.Problems
			if errors.As(err, &tp) {
				for _, p := range tp {
					problems = append(problems, fmt.Sprintf("%s.template.%s: with %s: %s", where(p.Path), p.Path, from, p.Msg))
				}
			} else {
				problems = append(problems, fmt.Sprintf("%s: with %s: %v", where(""), from, err))
			}
			continue
		}
		for _, p := range pl.Posts {
			for _, cp := range p.Message.Check() {
				if cp.Severity == card.Error {
					problems = append(problems, fmt.Sprintf("%s: with %s, the message to %s: %s: %s", where("card"), from, p.Space, cp.Path, cp.Message))
				}
			}
		}
		summary := fmt.Sprintf("%s makes %d message(s)", from, len(pl.Posts))
		if pl.Skipped != "" {
			summary = fmt.Sprintf("%s makes none (%s)", from, pl.Skipped)
		}
		trials[r.Name] = routeTrial{plan: pl, summary: summary}
	}
	return trials, problems
}

// sendPlan posts the messages a route made of its sample to their spaces'
// webhooks, one attempt each after the client's retries.
func sendPlan(ctx context.Context, cfg *config.Config, route string, pl plan.Plan, env environment) error {
	if len(pl.Posts) == 0 {
		return usageError("--send %s: the sample makes no message to send", route)
	}
	client := &gchat.Client{}
	for _, p := range pl.Posts {
		sp := cfg.Space(p.Space)
		msg := p.Message
		var opts []gchat.Option
		if p.ThreadKey != "" {
			msg.Thread = &gchat.Thread{ThreadKey: p.ThreadKey}
			opts = append(opts, gchat.WithReply(gchat.ReplyFallbackToNewThread))
		}
		resp, err := client.Send(ctx, sp.Webhook, &msg, opts...)
		if err != nil {
			return sendError(fmt.Errorf("--send %s: to space %s: %w", route, p.Space, err))
		}
		fmt.Fprintf(env.stdout, "sent to space %s: message %s, thread %s\n", p.Space, resp.Name, resp.Thread.Name)
	}
	return nil
}

// readConfigFile reads a configuration file or a *_file secret, capped so
// that a path such as /dev/zero cannot hang the check or a reload.
func readConfigFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, config.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > config.MaxFileSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, config.MaxFileSize)
	}
	return data, nil
}
