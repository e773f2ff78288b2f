package main

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// needPostgres skips a test of what only PostgreSQL does.
func needPostgres(t *testing.T) {
	t.Helper()
	if storagetest.Engine() != "postgres" {
		t.Skip("PostgreSQL only: run with COPPICE_TEST_DB=postgres (make test does)")
	}
}

// withPassword returns a fresh database's URL with a password in it. The
// throwaway server trusts every local connection, so pgx never sends it:
// the tests check it is never shown either.
func withPassword(t *testing.T, password string) string {
	t.Helper()
	u, err := url.Parse(storagetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// TestServesSharePostgres: two serve processes run on one PostgreSQL
// database at once (no lock, unlike SQLite), each sees what the other and
// the command line wrote, and neither logs the database's password.
func TestServesSharePostgres(t *testing.T) {
	needPostgres(t)
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	db := withPassword(t, "s3cret-pw")
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	addrA, addrB := freeAddr(t), freeAddr(t)
	var logsA, logsB syncBuffer
	serveProcess(t, db, addrA, &logsA, "--log-format", "json")
	serveProcess(t, db, addrB, &logsB, "--log-format", "json")
	iriA, keyA := fetchActor(t, addrA, "seeds")
	iriB, keyB := fetchActor(t, addrB, "seeds")
	if keyA == "" || keyA != keyB || iriA != "http://"+addrA+"/c/seeds" || iriB != "http://"+addrB+"/c/seeds" {
		t.Errorf("the two processes serve actors %s and %s with keys equal: %v; want one community's key from both", iriA, iriB, keyA == keyB)
	}
	if code, _, errOut := coppice(t, "", "community", "create", "bees", "--title", "Bees", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	fetchActor(t, addrB, "bees") // created after B started: read from the database, not a cache
	for name, logs := range map[string]string{"A": logsA.String(), "B": logsB.String()} {
		if strings.Contains(logs, "s3cret-pw") {
			t.Errorf("process %s logged the database password:\n%s", name, logs)
		}
		found := false
		for _, l := range logLines(t, logs) {
			if l["msg"] == "serving" {
				found = true
				if db, _ := l["db"].(string); !strings.HasPrefix(db, "postgres://postgres@127.0.0.1:") || l["engine"] != "postgres" {
					t.Errorf("process %s logged db %q engine %v, want the URL without the password, and postgres", name, db, l["engine"])
				}
			}
		}
		if !found {
			t.Errorf("process %s logged no serving line:\n%s", name, logs)
		}
	}
}

// TestRestoreRefusesPostgres: restore replaces SQLite files; on PostgreSQL
// it refuses and says what to use instead, without the password.
func TestRestoreRefusesPostgres(t *testing.T) {
	needPostgres(t)
	db := withPassword(t, "s3cret-pw")
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, _, errOut := coppice(t, "", "backup", backup, "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := coppice(t, "", "restore", backup, "--db", db)
	if code != 1 || !strings.Contains(errOut, "pg_restore") || !strings.Contains(errOut, "migrate-data") || strings.Contains(out+errOut, "s3cret-pw") {
		t.Errorf("restore on PostgreSQL: %d %q %q, want 1 and pointers to pg_restore and migrate-data, without the password", code, out, errOut)
	}
}

// TestMigrateData moves an SQLite instance into PostgreSQL from the
// command line, serves it, backs the PostgreSQL database up into an SQLite
// file and moves that into another PostgreSQL database.
func TestMigrateData(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	dir := t.TempDir()
	lite := filepath.Join(dir, "coppice.db")
	st, err := storage.Open(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	storagetest.FillEveryTable(t, st)
	st.Close()
	if code, _, errOut := coppice(t, "", "community", "create", "seeds", "--title", "Seeds", "--db", lite); code != 0 {
		t.Fatal(errOut)
	}
	pg := withPassword(t, "s3cret-pw")

	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"no flags", nil, 2, "want --from FILE.db and --to"},
		{"into a file", []string{"--from", lite, "--to", filepath.Join(dir, "other.db")}, 2, "postgres:// URL"},
		{"from PostgreSQL", []string{"--from", pg, "--to", pg}, 2, "not a PostgreSQL URL"},
		{"a file that is not there", []string{"--from", filepath.Join(dir, "typo.db"), "--to", pg}, 1, "no such file"},
	} {
		code, out, errOut := coppice(t, "", append([]string{"migrate-data"}, tt.args...)...)
		if code != tt.wantCode || !strings.Contains(errOut, tt.want) {
			t.Errorf("migrate-data %s: %d %q %q, want %d and %q", tt.name, code, out, errOut, tt.wantCode, tt.want)
		}
	}

	// Not while serve runs on the SQLite file.
	unlock, err := lockDatabase(lite)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := coppice(t, "", "migrate-data", "--from", lite, "--to", pg)
	unlock()
	if code != 1 || !strings.Contains(errOut, "in use by a running coppice serve") {
		t.Errorf("migrate-data while serving: %d %q, want 1 and a refusal", code, errOut)
	}

	code, out, errOut := coppice(t, "", "migrate-data", "--from", lite, "--to", pg)
	if code != 0 || !strings.Contains(out, "tables have the same number of rows in both") {
		t.Fatalf("migrate-data: %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "s3cret-pw") {
		t.Errorf("migrate-data printed the password:\n%s", out)
	}
	for _, line := range []string{"posts", "search_index", "wiki_revisions"} {
		if !strings.Contains(out, "\n"+line+" ") {
			t.Errorf("migrate-data's output has no line for %s:\n%s", line, out)
		}
	}
	_, want, _ := coppice(t, "", "community", "list", "--db", lite)
	if code, got, errOut := coppice(t, "", "community", "list", "--db", pg); code != 0 || got != want {
		t.Errorf("community list on PostgreSQL: %d %q %q, want %q as on SQLite", code, got, errOut, want)
	}
	if code, _, errOut := coppice(t, "", "community", "create", "newcomers", "--title", "Newcomers", "--db", pg); code != 0 {
		t.Errorf("community create after the move: %d %q", code, errOut)
	}
	if code, _, errOut := coppice(t, "", "migrate-data", "--from", lite, "--to", pg); code != 1 || !strings.Contains(errOut, "not empty") {
		t.Errorf("migrate-data into a database with rows: %d %q, want 1 and not empty", code, errOut)
	}

	// backup on PostgreSQL writes an SQLite copy, which serves and moves.
	backup := filepath.Join(dir, "backup.db")
	if code, out, errOut := coppice(t, "", "backup", backup, "--db", pg); code != 0 || !strings.Contains(out, "backed up postgres://postgres@") {
		t.Fatalf("backup of PostgreSQL: %d %q %q", code, out, errOut)
	}
	if code, _, _ := coppice(t, "", "backup", backup, "--db", pg); code != 1 {
		t.Errorf("backup over an existing file: exit %d, want 1", code)
	}
	_, want, _ = coppice(t, "", "community", "list", "--db", pg)
	if _, got, _ := coppice(t, "", "community", "list", "--db", backup); got != want || !strings.Contains(got, "newcomers") {
		t.Errorf("community list of the backup: %q, want %q", got, want)
	}
	again := storagetest.PostgresURL(t)
	if code, out, errOut := coppice(t, "", "migrate-data", "--from", backup, "--to", again); code != 0 {
		t.Fatalf("migrate-data of the backup: %d\n%s\n%s", code, out, errOut)
	}
	if _, got, _ := coppice(t, "", "community", "list", "--db", again); got != want {
		t.Errorf("community list after moving the backup: %q, want %q", got, want)
	}
}
