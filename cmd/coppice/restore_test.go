package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestore restores an SQLite database, whatever this run's engine:
// restore replaces SQLite files only (TestRestoreRefusesPostgres).
func TestRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "coppice.db")
	backup := filepath.Join(dir, "daily.db")
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := coppice(t, "", "backup", backup, "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := coppice(t, "", "community", "create", "bees", "--title", "Bees", "--db", db); code != 0 {
		t.Fatal(errOut)
	}

	// While serve holds the database, restore refuses and changes nothing.
	unlock, err := lockDatabase(db)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := coppice(t, "", "restore", backup, "--db", db)
	unlock()
	if code != 1 || !strings.Contains(errOut, "in use by a running coppice serve") {
		t.Errorf("restore while serving: %d %q, want 1 and a refusal", code, errOut)
	}
	if _, out, _ := coppice(t, "", "community", "list", "--db", db); !strings.Contains(out, "bees") {
		t.Errorf("after the refused restore the database lists %q, want it unchanged", out)
	}

	// A damaged backup is refused before anything is replaced.
	damaged := filepath.Join(dir, "damaged.db")
	if err := os.WriteFile(damaged, []byte(strings.Repeat("x", 8192)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := coppice(t, "", "restore", damaged, "--db", db); code != 1 || !strings.Contains(errOut, "check backup") {
		t.Errorf("restore of a damaged file: %d %q, want 1 and the failed check", code, errOut)
	}

	code, out, errOut := coppice(t, "", "restore", backup, "--db", db)
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	_, out, _ = coppice(t, "", "community", "list", "--db", db)
	if !strings.Contains(out, "seeds") || strings.Contains(out, "bees") {
		t.Errorf("after restore the database lists %q, want seeds only, as in the backup", out)
	}
	if _, out, _ := coppice(t, "", "community", "list", "--db", db+".pre-restore"); !strings.Contains(out, "bees") {
		t.Errorf("the replaced database kept as .pre-restore lists %q, want bees too", out)
	}
	if code, _, _ := coppice(t, "", "restore", "--db", db); code != 2 {
		t.Errorf("restore without FILE: exit %d, want 2", code)
	}
}

// TestServeHoldsTheDatabaseLock: a second serve on the same SQLite
// database refuses to start (on PostgreSQL it starts: TestServesSharePostgres).
func TestServeHoldsTheDatabaseLock(t *testing.T) {
	db := filepath.Join(t.TempDir(), "coppice.db")
	addr := freeAddr(t)
	stop := startServe(t, "--db", db, "--listen", addr, "--base-url", "http://"+addr)
	defer stop()
	addr2 := freeAddr(t)
	code, _, errOut := coppice(t, "", "serve", "--db", db, "--listen", addr2, "--base-url", "http://"+addr2)
	if code != 1 || !strings.Contains(errOut, "in use") {
		t.Errorf("second serve on one database: %d %q, want 1 and in use", code, errOut)
	}
}
