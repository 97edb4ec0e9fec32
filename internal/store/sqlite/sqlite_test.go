package sqlite_test

import (
	"database/sql"
	"encoding/json"
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
	// The schema's version is the last migration's number; numbers may
	// skip, as when migrations of parallel changes are merged.
	last, err := strconv.Atoi(strings.SplitN(names[len(names)-1], "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := sqlite.Migrate(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Migrated{From: 0, To: last, Applied: names}, got); diff != "" {
		t.Errorf("first Migrate (-want +got):\n%s", diff)
	}
	got, err = sqlite.Migrate(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(store.Migrated{From: last, To: last}, got); diff != "" {
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
