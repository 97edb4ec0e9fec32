package main

import (
	"errors"
	"flag"
	"io"
)

// parseFlags parses args with fs. Help goes to stdout with exit 0, as people
// expect of --help; a bad flag prints the usage on stderr and is exit 1.
func parseFlags(fs *flag.FlagSet, args []string, env environment) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(env.stdout)
		fs.Usage()
		return flag.ErrHelp
	default:
		fs.SetOutput(env.stderr)
		fs.Usage()
		return &exitError{code: exitUsage, err: err}
	}
}
