package storage_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

func TestCheckBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st := storagetest.OpenSQLite(t)
	storagetest.Community(t, st, "seeds")
	good := filepath.Join(dir, "good.db")
	if err := st.Backup(ctx, good); err != nil {
		t.Fatal(err)
	}
	latest, err := storage.LatestSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := storage.CheckBackup(ctx, good); err != nil || v != latest {
		t.Errorf("CheckBackup(a fresh backup) = %d, %v, want %d, nil", v, err, latest)
	}

	newer := filepath.Join(dir, "newer.db")
	if err := st.Backup(ctx, newer); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)`, latest+1); err != nil {
		t.Fatal(err)
	}
	db.Close()

	notCoppice := filepath.Join(dir, "other.db")
	db, err = sql.Open("sqlite3", notCoppice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}

	// A backup whose second half was lost: pages are missing.
	truncated := filepath.Join(dir, "truncated.db")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct{ name, path, want string }{
		{"a newer schema", newer, "newer than this binary"},
		{"another SQLite database", notCoppice, "not a Coppice database"},
		{"not SQLite at all", garbage, "not a readable SQLite database"},
		{"a truncated file", truncated, "check backup"},
		{"a missing file", filepath.Join(dir, "missing.db"), "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := storage.CheckBackup(ctx, tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckBackup(%s) = %v, want an error with %q", tt.name, err, tt.want)
			}
		})
	}
}
