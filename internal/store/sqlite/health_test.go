package sqlite_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gchatkit/gchat/internal/store"
	"github.com/gchatkit/gchat/internal/store/sqlite"
)

// TestFilesPrivate: a store created by Open or Migrate, its log, its shared
// memory and its lock file are readable by their owner only, whatever the
// umask lets through.
func TestFilesPrivate(t *testing.T) {
	for _, by := range []string{"Open", "Migrate"} {
		t.Run(by, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "relay.db")
			if by == "Migrate" {
				if _, err := sqlite.Migrate(t.Context(), path); err != nil {
					t.Fatal(err)
				}
			}
			s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Enqueue(t.Context(), store.EnqueueRequest{Space: "ops", Lane: "L",
				Deliveries: []store.NewDelivery{{Message: json.RawMessage(`{"text":"hi"}`)}}}); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
				fi, err := os.Stat(path + suffix)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %v, want -rw-------", filepath.Base(path+suffix), got)
				}
			}
		})
	}
}

// TestFilesKeepMode: Open leaves the mode of an existing database alone.
func TestFilesKeepMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o640 {
		t.Errorf("mode %v, want -rw-r-----", got)
	}
}
