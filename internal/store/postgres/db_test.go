package postgres

import (
	"testing"

	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
)

// ServerURL returns the server the tests use (pgtest.ServerURL): skipped
// without GCHAT_TEST_POSTGRES_URL, failed under CI=true.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	return pgtest.ServerURL(tb)
}

// FreshSchema is pgtest.FreshSchema with the store tests' prefix,
// gchat_test_.
func FreshSchema(tb testing.TB) (dbURL, schema string) {
	tb.Helper()
	return pgtest.FreshSchema(tb, "gchat_test_")
}
