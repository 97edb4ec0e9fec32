package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gchatkit/gchat/internal/relay/config"
)

const configUsage = `Usage: gchat config check FILE

Check a relay configuration file: every problem is reported with its line,
column and field, and the exit code is 1 when there is any. Environment
variables (${NAME}) and *_file secrets are resolved as the relay would.

`

func runConfig(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("gchat config", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), configUsage) }
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() != 2 || fs.Arg(0) != "check" {
		fs.SetOutput(env.stderr)
		fs.Usage()
		return usageError("want: gchat config check FILE")
	}
	name := fs.Arg(1)
	data, err := readConfigFile(name)
	if err != nil {
		return usageError("%w", err)
	}
	cfg, err := config.Load(data, name, env.getenv, readConfigFile)
	if err != nil {
		var ps *config.Problems
		if errors.As(err, &ps) {
			return usageError("%s: %d problem(s):\n%v", name, len(ps.List), err)
		}
		return usageError("%w", err)
	}
	fmt.Fprintf(env.stdout, "%s: OK\n%s", name, cfg.Summary())
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
