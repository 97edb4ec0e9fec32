package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrateRelaySpaces: migration 0005 gives a store made before it the
// relay spaces' pending counts of its queue, so that the bound holds at
// once, and keeps counting afterwards.
func TestMigrateRelaySpaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The schema as the four migrations before 0005 left it.
	if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for v, name := range []string{"0001_init.sql", "0002_incidents.sql", "0003_drop_relay_thread_index.sql", "0004_route.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_version VALUES (?, 0)`, v+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO lanes (lane) VALUES ('L')`); err != nil {
		t.Fatal(err)
	}
	for i, row := range []struct{ space, state string }{
		{"a", "queued"}, {"a", "sending"}, {"a", "done"}, {"b", "dead"}, {"c", "queued"},
	} {
		if _, err := db.Exec(`INSERT INTO deliveries (id, seq, space, lane, grp, message, reply, message_id, request_id,
			caller_request_id, dedup_key, relay_thread, state, next_attempt_at, created_at, updated_at, queued_at)
			VALUES (?1, ?1, ?2, 'L', '', x'7b7d', '', '', '', '', '', '', ?3, 0, 0, 0, 0)`, i+1, row.space, row.state); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	states, err := s.SpaceStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, st := range states {
		got[st.Space] = st.Pending
	}
	// Open's rescue requeued a's sending delivery: still pending.
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 0, "c": 1}, got); diff != "" {
		t.Errorf("pending per relay space after the migration (-want +got):\n%s", diff)
	}
}
