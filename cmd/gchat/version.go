package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

func runVersion(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("gchat version", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: gchat version\n\nPrint the version of gchat and the Go release it was built with.")
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("version takes no arguments")
	}
	fmt.Fprintln(env.stdout, "gchat", version())
	return nil
}

// version is the module version, or the VCS revision of a development build.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v = "(devel) " + rev + dirty
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " " + info.GoVersion
}
