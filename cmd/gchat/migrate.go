package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"

	"github.com/gchatkit/gchat/internal/relay/config"
)

const migrateUsage = `Usage: gchat migrate [--config FILE | --store STORE]

Apply the relay store's missing migrations and print what was done. STORE is
sqlite:PATH (the file is created if missing) or a postgres:// URL (the
schema its search_path names is created if missing); without --store it is
the configuration's store, --config FILE or else ./gchat.yaml.

The relay applies missing migrations when it starts, so this is optional:
run it as a deploy step, before replicas of a new release start, so that
they do not wait on one another, or to check that the database is reachable
and current. On PostgreSQL the migrations run under an advisory lock: runs
and replicas starting together are safe, each migration is applied once.

Flags:
`

func runMigrate(ctx context.Context, args []string, env environment) error {
	flags := flag.NewFlagSet("gchat migrate", flag.ContinueOnError)
	configPath := flags.String("config", "", "the relay's configuration `FILE`, for its store (default ./"+defaultConfig+")")
	storeFlag := flags.String("store", "", "the `STORE`, sqlite:PATH or postgres://… (instead of the configuration's)")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), migrateUsage)
		flags.PrintDefaults()
	}
	if err := parseFlags(flags, args, env); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return usageError("migrate takes no arguments, got %q", flags.Args())
	}
	if *configPath != "" && *storeFlag != "" {
		return usageError("give --config or --store, not both")
	}

	cfg := &config.Config{Store: *storeFlag}
	if *storeFlag == "" {
		path, explicit := *configPath, *configPath != ""
		if !explicit {
			path = defaultConfigPath(env.getenv)
		}
		data, err := readConfigFile(path)
		switch {
		case err == nil:
		case !explicit && errors.Is(err, fs.ErrNotExist):
			return usageError("no store: give --store STORE or --config FILE (there is no ./%s)", defaultConfig)
		default:
			return usageError("config: %w", err)
		}
		cfg, err = config.Load(data, path, env.getenv, readConfigFile)
		if err != nil {
			var ps *config.Problems
			if errors.As(err, &ps) {
				return usageError("%s: %d problem(s):\n%v", path, len(ps.List), err)
			}
			return usageError("%s: %w", path, err)
		}
	}
	if _, ok := cfg.PostgresURL(); !ok {
		if path, ok := cfg.SQLitePath(); !ok || path == "" {
			return usageError("--store %s: want sqlite:PATH or postgres://…", cfg.RedactedStore())
		}
	}

	done, what, err := migrateStore(ctx, cfg)
	for _, name := range done.Applied {
		fmt.Fprintf(env.stdout, "applied %s\n", name)
	}
	if err != nil {
		return usageError("%s: %w", what, err)
	}
	if len(done.Applied) == 0 {
		fmt.Fprintf(env.stdout, "%s: schema version %d, up to date\n", what, done.To)
	} else {
		fmt.Fprintf(env.stdout, "%s: schema version %d (was %d)\n", what, done.To, done.From)
	}
	return nil
}
