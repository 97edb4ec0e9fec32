package main

import (
	"errors"
	"flag"
	"io"
	"strings"
)

// parseFlags parses args with fs, flags before, between and after the
// arguments as people type them (gchat send 'hello' --thread t): the
// arguments are what is left, in order. "--" ends the flags; what follows is
// arguments even if it starts with "-". Help goes to stdout with exit 0, as
// people expect of --help; a bad flag prints the usage on stderr and is
// exit 1.
func parseFlags(fs *flag.FlagSet, args []string, env environment) error {
	fs.SetOutput(io.Discard)
	err := parseInterleaved(fs, args)
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

// parseInterleaved parses the flags anywhere in args. Go's flag package
// stops at the first argument; here each stop sets that argument aside and
// parsing goes on after it, until "--" or the end. fs.Args() is then the
// arguments set aside, in order, followed by everything after "--".
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := args[:len(args)-len(rest)]; endedByDashes(fs, used) {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// endedByDashes reports whether the flags fs just parsed from used ended
// with a "--" that ends the flags, not one that is the value of a flag
// (--text --).
func endedByDashes(fs *flag.FlagSet, used []string) bool {
	n := len(used)
	if n == 0 || used[n-1] != "--" {
		return false
	}
	if n == 1 {
		return true
	}
	prev := used[n-2]
	if !strings.HasPrefix(prev, "-") || strings.Contains(prev, "=") || prev == "--" {
		return true
	}
	f := fs.Lookup(strings.TrimLeft(prev, "-"))
	if f == nil {
		return true
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return true
	}
	return false // "--" was prev's value
}
