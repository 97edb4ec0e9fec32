// Command gchat sends messages to Google Chat incoming webhooks, relays them
// durably, and emulates Google Chat locally.
//
// Usage:
//
//	gchat send [flags] [TEXT...]
//	gchat relay [flags]
//	gchat emulator [flags]
//	gchat config check FILE
//	gchat migrate [--config FILE | --store STORE]
//	gchat deliveries | dead list|replay|drop | resume SPACE | spaces | escalations   (a running relay's admin API)
//	gchat version (or gchat --version)
//	gchat completion bash|zsh
//
// Run "gchat help" or "gchat COMMAND --help" for details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, shared by every subcommand.
const (
	exitOK       = 0
	exitUsage    = 1 // bad usage or invalid input: nothing was sent
	exitRejected = 2 // Google refused the message with a final 4xx
	exitGaveUp   = 3 // retries ran out (429, 5xx, network) or interrupted
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := environment{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, reload: notifyHangup}
	err := runEnv(ctx, os.Args[1:], env)
	os.Exit(exitCode(err, os.Stderr))
}

// notifyHangup subscribes to SIGHUP, the relay's reload signal. Only the
// commands that reload subscribe, so that a hangup still ends the others.
func notifyHangup() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	return c, func() { signal.Stop(c) }
}

// exitError carries an exit code through run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake on the command line: exit 1.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode reports err on stderr and maps it to the process's exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "gchat:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env environment) error
}

// environment is what a subcommand may touch of the process.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// reload subscribes to reload requests (SIGHUP) and returns them with a
	// function that unsubscribes; nil means none arrive.
	reload func() (<-chan os.Signal, func())
}

func commands() []command {
	return []command{
		{"send", "send one message to a webhook", runSend},
		{"emulator", "run a local Google Chat for webhooks, with a page and a test API", runEmulator},
		{"relay", "receive webhook messages and deliver them durably, paced and in order", runRelay},
		{"config", "check a relay configuration file (config check FILE)", runConfig},
		{"migrate", "apply the relay store's database migrations", runMigrate},
		{"deliveries", "list a running relay's deliveries, or show one (deliveries get ID)", runDeliveries},
		{"dead", "list, replay or drop a running relay's dead letters", runDead},
		{"resume", "resume a relay space paused after Google refused its webhook", runResume},
		{"spaces", "list a running relay's spaces: pending, paused and why, holder, last send", runSpaces},
		{"escalations", "list a running relay's pending escalations: route, incident, when due", runEscalations},
		{"completion", "print a shell completion script (completion bash|zsh)", runCompletion},
		{"version", "print the version (also gchat --version)", runVersion},
	}
}

// run is the whole program: it never touches os.Args, os.Getenv, the
// standard streams or os.Exit, so that tests run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
}

// runEnv is run with the whole environment, reload signals included.
func runEnv(ctx context.Context, args []string, env environment) error {
	stdout, stderr := env.stdout, env.stderr
	if len(args) == 0 {
		printUsage(stderr)
		return &exitError{code: exitUsage, err: errors.New("no command given")}
	}
	switch name := args[0]; name {
	case "-version", "--version":
		return runVersion(ctx, args[1:], env)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return runEnv(ctx, []string{args[1], "--help"}, env)
		}
		printUsage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], env)
		}
	}
	printUsage(stderr)
	return usageError("unknown command %q", args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `gchat works with Google Chat incoming webhooks.

Usage:
  gchat COMMAND [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Flags may come before or after a command's arguments; "--" ends them.
Run "gchat COMMAND --help" for a command's flags.
`)
}
