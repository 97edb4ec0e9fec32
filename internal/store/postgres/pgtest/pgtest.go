// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by GCHAT_TEST_POSTGRES_URL: the store's own tests, the relay's, and
// the system tests that start relay replicas on one database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable naming the test server, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "GCHAT_TEST_POSTGRES_URL"

// ServerURL returns the server the tests use, from EnvURL. When it is unset
// the test is skipped, or fails under CI=true.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		const how = "set " + EnvURL + ", e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		if os.Getenv("CI") == "true" {
			tb.Fatal("CI needs PostgreSQL: " + how)
		}
		tb.Skip("no PostgreSQL: " + how)
	}
	return u
}

// FreshSchema names a new schema, prefix followed by 12 random hex digits,
// on the test server and returns the server's URL with search_path set to
// it, and its name. The schema is not created (the store's Open and Migrate
// do that); it is dropped, if it exists, when the test ends, after cleanups
// registered later (such as closing a store or stopping a relay) have run.
func FreshSchema(tb testing.TB, prefix string) (dbURL, schema string) {
	tb.Helper()
	base := ServerURL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = prefix + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s: want a postgres:// URL", EnvURL) // not quoted: it may hold a password
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return u.String(), schema
}
