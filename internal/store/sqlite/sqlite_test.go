package sqlite_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
	"github.com/gchatkit/gchat/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{Exclusive: true, Open: func(t *testing.T) func(now func() time.Time) store.Store {
		path := filepath.Join(t.TempDir(), "relay.db")
		return func(now func() time.Time) store.Store {
			s, err := sqlite.Open(t.Context(), path, sqlite.Options{Now: now})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}
	}})
}

func TestOpenRejectsSynchronousOff(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sqlite.Options{Synchronous: "OFF"})
	if err == nil {
		t.Fatal("Open with synchronous OFF: no error")
	}
}

// TestReopen checks that data survives Close and that migrations are applied
// once: a second Open finds the schema current.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "L", CallerRequestID: "r1",
		Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"hi"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(t.Context(), res.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res.Deliveries[0], got); diff != "" {
		t.Errorf("after reopen (-before +after):\n%s", diff)
	}
	// Ids continue after the last one.
	res2, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "L",
		Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"again"}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	if !(res2.Deliveries[0].ID > got.ID) {
		t.Errorf("id after reopen %s, want after %s", res2.Deliveries[0].ID, got.ID)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions int
	if err := db.QueryRow(`SELECT count(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	migs, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if versions != len(migs) {
		t.Errorf("schema_version rows: %d, want one per migration (%d): reopening must not apply any twice", versions, len(migs))
	}
}

// TestMigrate checks the explicit migration: a new file gets every
// migration, in order, a second run nothing, and the store opens on it.
func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	migs, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range migs {
		names = append(names, filepath.Base(m))
	}
	got, err := sqlite.Migrate(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Migrated{From: 0, To: lastVersion(t, names), Applied: names}, got); diff != "" {
		t.Errorf("first Migrate (-want +got):\n%s", diff)
	}
	got, err = sqlite.Migrate(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Migrated{From: lastVersion(t, names), To: lastVersion(t, names)}, got); diff != "" {
		t.Errorf("second Migrate (-want +got):\n%s", diff)
	}
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open after Migrate: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSecondOpenRefused: while one store has the file, a second Open and
// Migrate are refused at once with a message naming the file; a plain
// reader (the sqlite3 shell, a backup) is not; after Close the file is free.
func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "L",
		Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"hi"}`)}}}); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"Open":    func() error { _, err := sqlite.Open(t.Context(), path, sqlite.Options{}); return err }(),
		"Migrate": func() error { _, err := sqlite.Migrate(t.Context(), path); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), path+".lock") || !strings.Contains(err.Error(), "in use by another process") {
			t.Errorf("second %s: got %v, want the store in use, naming %s.lock", what, err, path)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM deliveries`).Scan(&n); err != nil || n != 1 {
		t.Errorf("a reader beside the store: %d deliveries, %v; want 1, nil", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// lastVersion is the number of the last migration (numbers may skip: a
// branch may add a later one before an earlier one is merged).
func lastVersion(t *testing.T, names []string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.SplitN(names[len(names)-1], "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefusedEnqueueLeavesNoRowBehind: the writer remembers the lanes and
// relay spaces whose rows it made sure of, but only once they committed. An
// Enqueue refused after creating them (its savepoint rolled back) must leave
// the next Enqueue into the same new lane and space to create them again,
// or its insert would fail (no lane row) and its pending count be lost (no
// space row).
func TestRefusedEnqueueLeavesNoRowBehind(t *testing.T) {
	// A long MaxWait gathers the two concurrent calls into one group, which
	// commits (the other call succeeds) while the refused one's savepoint
	// is rolled back.
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relay.db"), sqlite.Options{MaxWait: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	two := []store.NewDelivery{{Message: json.RawMessage(`{"text":"a"}`)}, {Message: json.RawMessage(`{"text":"b"}`)}}
	refused := make(chan error, 1)
	go func() {
		_, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "new", Lane: "NEWLANE", Limit: 1, Deliveries: two})
		refused <- err
	}()
	if _, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "other", Lane: "OTHER", Deliveries: two}); err != nil {
		t.Fatalf("Enqueue beside the refused one: %v", err)
	}
	if err := <-refused; !errors.Is(err, store.ErrFull) {
		t.Fatalf("Enqueue of two past a bound of one: %v, want ErrFull", err)
	}
	if _, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "new", Lane: "NEWLANE", Limit: 10, Deliveries: two}); err != nil {
		t.Fatalf("Enqueue after the refused one: %v", err)
	}
	states, err := s.SpaceStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]int{}
	for _, st := range states {
		pending[st.Space] = st.Pending
	}
	if want := map[string]int{"new": 2, "other": 2}; !cmp.Equal(pending, want) {
		t.Errorf("pending by space %v, want %v", pending, want)
	}
}

// TestLogCopiedInBackground: the log is copied into the database file as it
// grows, not only by SQLite's automatic checkpoint in the writer's commit,
// which waits for 1,000 pages of log. A few hundred pages of deliveries
// reach the database file within moments, without another write.
func TestLogCopiedInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func(name string) int64 {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size(path)
	msg := json.RawMessage(`{"text":"` + strings.Repeat("x", 2000) + `"}`)
	for i := range 100 {
		if _, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "AAA",
			Deliveries: []store.NewDelivery{{Message: msg, Group: strconv.Itoa(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if frames := size(path+"-wal") / 4120; frames >= 1000 {
		t.Fatalf("the log holds %d frames, enough for SQLite's own checkpoint: the test proves nothing", frames)
	}
	for deadline := time.Now().Add(10 * time.Second); size(path) < before+100*2000; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes, %d before 100 deliveries of 2 kB: the log was not copied", size(path), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
