package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"strings"
)

func runVersion(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("gchat version", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: gchat version (or gchat --version)

Print the version of gchat: the module version, the VCS revision and commit
time it was built from (when the build recorded them), and the Go release.`)
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("version takes no arguments")
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(env.stdout, "gchat", versionOf(info))
	return nil
}

// versionOf is the module version, the VCS revision and commit time, and
// the Go release of a build: "v1.2.0 (rev 0123456789ab, 2026-12-01T10:00:00Z)
// go1.25.0". A development build says "(devel)"; a modified work tree adds
// "+dirty" to the revision. Whatever the build did not record is left out.
func versionOf(info *debug.BuildInfo) string {
	if info == nil {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	var vcs []string
	if rev != "" {
		vcs = append(vcs, "rev "+rev+dirty)
	}
	if at != "" {
		vcs = append(vcs, at)
	}
	if len(vcs) > 0 {
		v += " (" + strings.Join(vcs, ", ") + ")"
	}
	return v + " " + info.GoVersion
}
