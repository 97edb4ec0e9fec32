package postgres

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// TestMigrateRelaySpaces: migration 0004 gives a store made before it the
// relay spaces' pending counts of its queue, so that the bound holds at
// once, and the triggers keep counting afterwards.
func TestMigrateRelaySpaces(t *testing.T) {
	dbURL, schema := FreshSchema(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()+`; SET search_path TO `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	// The schema as the three migrations before 0004 left it.
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_version (version integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"0001_init.sql", "0002_incidents.sql", "0003_route.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO lanes (lane) VALUES ('L')`); err != nil {
		t.Fatal(err)
	}
	for i, row := range []struct{ space, state string }{
		{"a", "queued"}, {"a", "sending"}, {"a", "done"}, {"b", "dead"}, {"c", "queued"},
	} {
		if _, err := conn.Exec(ctx, `INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id,
			caller_request_id, dedup_key, relay_thread, state, next_attempt_at, created_at, updated_at, queued_at)
			VALUES ($1, $1, $2, 'L', '', '\x7b7d', '', '', '', '', '', '', $3, now(), now(), now(), now())`, i+1, row.space, row.state); err != nil {
			t.Fatal(err)
		}
	}

	s, err := Open(ctx, dbURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pending := func() map[string]int {
		states, err := s.SpaceStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, st := range states {
			got[st.Space] = st.Pending
		}
		return got
	}
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 0, "c": 1}, pending()); diff != "" {
		t.Errorf("pending per relay space after the migration (-want +got):\n%s", diff)
	}
	if _, err := conn.Exec(ctx, `UPDATE deliveries SET state = 'done' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 0, "c": 1}, pending()); diff != "" {
		t.Errorf("pending per relay space after one done (-want +got):\n%s", diff)
	}
}
