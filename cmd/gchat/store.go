package main

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/gchatkit/gchat/internal/relay/config"
	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/postgres"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// openStore opens the store cfg names, applying the migrations it lacks:
// SQLite with synchronous=FULL, or PostgreSQL, whose migrations run under an
// advisory lock so that replicas starting together apply each once. This is
// the one place the relay picks a backend. Its errors never show the
// database password.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if dsn, ok := cfg.PostgresURL(); ok {
		st, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			return nil, scrubPassword(err, dsn)
		}
		return st, nil
	}
	path, ok := cfg.SQLitePath()
	if !ok {
		return nil, errors.New("unknown store") // Validate refuses it first
	}
	return sqlite.Open(ctx, path, sqlite.Options{Synchronous: "FULL"})
}

// migrateStore applies the migrations the store cfg names lacks, and says
// which backend it was ("SQLite PATH" or the redacted URL).
func migrateStore(ctx context.Context, cfg *config.Config) (store.Migrated, string, error) {
	if dsn, ok := cfg.PostgresURL(); ok {
		done, err := postgres.Migrate(ctx, dsn)
		return done, "PostgreSQL " + cfg.RedactedStore(), scrubPassword(err, dsn)
	}
	path, ok := cfg.SQLitePath()
	if !ok {
		return store.Migrated{}, "", errors.New("unknown store")
	}
	done, err := sqlite.Migrate(ctx, path)
	return done, "SQLite " + path, err
}

// scrubPassword replaces the password of the database URL dsn in err's text.
// pgx redacts passwords in its own messages, on a best-effort basis for URLs
// it cannot parse; this makes it certain.
func scrubPassword(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	scrubbed := msg
	for _, pw := range passwords(dsn) {
		scrubbed = strings.ReplaceAll(scrubbed, pw, "xxxxx")
	}
	if scrubbed == msg {
		return err
	}
	return errors.New(scrubbed)
}

// passwords returns the password in dsn's user information and in its
// password and sslpassword parameters, as written and decoded.
func passwords(dsn string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	rest, ok := strings.CutPrefix(dsn, "postgres://")
	if !ok {
		rest, _ = strings.CutPrefix(dsn, "postgresql://")
	}
	// As written, even when the URL does not parse: the user information
	// ends at the last @ before the path.
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
			add(pw)
			if d, err := url.PathUnescape(pw); err == nil && d != pw {
				add(d)
			}
		}
	}
	if u, err := url.Parse(dsn); err == nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
		q := u.Query()
		for _, k := range []string{"password", "sslpassword"} {
			add(q.Get(k))
		}
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok && (k == "password" || k == "sslpassword") {
				add(v)
			}
		}
	}
	return out
}
