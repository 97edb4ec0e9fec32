package postgres

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

// ServerURL returns the server the tests use, from GCHAT_TEST_POSTGRES_URL. When
// it is unset the test is skipped, or fails under CI=true.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("GCHAT_TEST_POSTGRES_URL")
	if u == "" {
		const how = "set GCHAT_TEST_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		if os.Getenv("CI") == "true" {
			tb.Fatal("CI needs PostgreSQL: " + how)
		}
		tb.Skip("no PostgreSQL: " + how)
	}
	return u
}

// FreshSchema names a new schema gchat_test_<random> on the test server and
// returns its name and the server's URL with search_path set to it. The
// schema is not created (Open and Migrate do that); it is dropped, if it
// exists, when the test ends, after cleanups registered later (such as
// closing a store) have run.
func FreshSchema(tb testing.TB) (dbURL, schema string) {
	tb.Helper()
	base := ServerURL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "gchat_test_" + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("GCHAT_TEST_POSTGRES_URL: want a postgres:// URL, got %q", base)
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
