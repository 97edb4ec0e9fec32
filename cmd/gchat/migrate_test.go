package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
)

// migrationNames returns the embedded migrations of a backend, as files.
func migrationNames(t *testing.T, backend string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "internal", "store", backend, "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations of %s: %v", backend, err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// wantMigrated is what gchat migrate prints after applying names to a new
// store described by what.
func wantMigrated(what string, names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("applied " + n + "\n")
	}
	b.WriteString(what + ": schema version " + strings.TrimLeft(names[len(names)-1][:4], "0") + " (was 0)\n")
	return b.String()
}

func TestMigrateSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "relay.db")
	names := migrationNames(t, "sqlite")
	r := runCLI(t, t.Context(), nil, "", "migrate", "--store", "sqlite:"+db)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if want := wantMigrated("SQLite "+db, names); r.stdout != want {
		t.Errorf("first run printed:\n%s\nwant:\n%s", r.stdout, want)
	}
	// From a configuration file, the second time: nothing to do.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relay.yaml")
	src := "store: sqlite:" + db + "\nspaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=" + canary + "\n"
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, t.Context(), nil, "", "migrate", "--config", cfg)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if want := "SQLite " + db + ": schema version " + strings.TrimLeft(names[len(names)-1][:4], "0") + ", up to date\n"; r.stdout != want {
		t.Errorf("second run printed %q, want %q", r.stdout, want)
	}
	assertNoCanary(t, r)
	// And ./gchat.yaml without flags.
	if err := os.WriteFile(filepath.Join(dir, "gchat.yaml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, t.Context(), map[string]string{"PWD": dir}, "", "migrate")
	if r.code != exitOK || !strings.HasSuffix(r.stdout, ", up to date\n") {
		t.Errorf("with ./gchat.yaml: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestMigratePostgres(t *testing.T) {
	dbURL, schema := pgtest.FreshSchema(t, "gchat_cmd_")
	names := migrationNames(t, "postgres")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relay.yaml")
	src := "store: ${GCHAT_DB}\nspaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=" + canary + "\n"
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, t.Context(), map[string]string{"GCHAT_DB": dbURL}, "", "migrate", "--config", cfg)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if want := wantMigrated("PostgreSQL "+dbURL, names); r.stdout != want {
		t.Errorf("first run printed:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = runCLI(t, t.Context(), nil, "", "migrate", "--store", dbURL)
	if r.code != exitOK || !strings.HasSuffix(r.stdout, ", up to date\n") || !strings.Contains(r.stdout, schema) {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestStoreErrorsHidePassword: a database that cannot be reached is an
// error naming the store, with its password masked, from migrate and from
// the relay.
func TestStoreErrorsHidePassword(t *testing.T) {
	const password = "PWCANARY0123456789"
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relay.yaml")
	src := "spaces:\n  alerts:\n    webhook_url: https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=" + canary + "\n"
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, store string }{
		{"user information", "postgres://gchat:" + password + "@127.0.0.1:1/gchat?connect_timeout=5"},
		{"parameter", "postgres://gchat@127.0.0.1:1/gchat?connect_timeout=5&password=" + password},
		{"unparsable", "postgres://gchat:" + password + "@127.0.0.1:1:2/gchat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"migrate", "--store", tc.store},
				{"relay", "--config", cfg, "--listen", "127.0.0.1:0", "--store", tc.store},
			} {
				r := runCLI(t, t.Context(), nil, "", args...)
				if r.code != exitUsage {
					t.Errorf("%s: exit %d, want %d", args[0], r.code, exitUsage)
				}
				if out := r.stdout + r.stderr; strings.Contains(out, password) {
					t.Errorf("%s: output shows the password:\n%s", args[0], out)
				}
				if !strings.Contains(r.stderr, "127.0.0.1:1") {
					t.Errorf("%s: stderr does not name the store:\n%s", args[0], r.stderr)
				}
			}
		})
	}
}

func TestMigrateUsageErrors(t *testing.T) {
	empty := t.TempDir()
	bad := filepath.Join(empty, "bad.yaml")
	if err := os.WriteFile(bad, []byte("stor: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"both", []string{"--config", bad, "--store", "sqlite:x.db"}, "give --config or --store, not both"},
		{"arguments", []string{"now"}, `migrate takes no arguments, got ["now"]`},
		{"unknown flag", []string{"--dsn", "x"}, "flag provided but not defined: -dsn"},
		{"no store", nil, "no store: give --store STORE or --config FILE"},
		{"missing config", []string{"--config", filepath.Join(empty, "nope.yaml")}, "nope.yaml: no such file"},
		{"invalid config", []string{"--config", bad}, `bad.yaml:1:1: unknown key "stor"`},
		{"unknown store", []string{"--store", "mysql://db/x"}, "--store mysql://db/x: want sqlite:PATH or postgres://…"},
		{"empty path", []string{"--store", "sqlite:"}, "want sqlite:PATH or postgres://…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, t.Context(), map[string]string{"PWD": empty}, "", append([]string{"migrate"}, tc.args...)...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}
