package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestCopyDatabaseIntoPostgres moves a varied SQLite instance into an
// empty PostgreSQL database: every table arrives whole, keys and all,
// search finds the same documents, and new rows get ids after the copied
// ones.
func TestCopyDatabaseIntoPostgres(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("copies into PostgreSQL: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	t.Parallel()
	ctx := context.Background()
	lite := storagetest.OpenSQLite(t)
	filled := storagetest.FillEveryTable(t, lite)
	url := storagetest.PostgresURL(t)
	pg, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	checkCopy(t, lite, pg, filled)
	// The copy drops the secondary indexes and builds them again: every
	// index of a migrated database is there, as it was defined.
	if got, want := indexes(t, url), indexes(t, storagetest.PostgresURL(t)); !reflect.DeepEqual(got, want) {
		t.Errorf("indexes after the copy:\n%s\nwant those of a migrated database:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// indexes lists the definitions of a PostgreSQL database's indexes.
func indexes(t *testing.T, url string) []string {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
		out = append(out, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 40 {
		t.Fatalf("found %d indexes, want the schema's", len(out))
	}
	return out
}

// TestCopyDatabaseFromPostgres copies a PostgreSQL database into a new
// SQLite file, as coppice backup does on PostgreSQL, and that file into
// another PostgreSQL database, as moving the backup back would.
func TestCopyDatabaseFromPostgres(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("copies from PostgreSQL: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	t.Parallel()
	pg := storagetest.Open(t)
	filled := storagetest.FillEveryTable(t, pg)
	checkCopy(t, pg, storagetest.OpenSQLite(t), filled)
	// checkCopy wrote to its target: copy again for the way back.
	backup := storagetest.OpenSQLite(t)
	if _, err := storage.CopyDatabase(context.Background(), pg, backup); err != nil {
		t.Fatal(err)
	}
	checkCopy(t, backup, storagetest.Open(t), filled)
}

// TestCopyDatabaseBetweenSQLiteFiles runs the copy on every run, whatever
// the engine: SQLite into SQLite.
func TestCopyDatabaseBetweenSQLiteFiles(t *testing.T) {
	t.Parallel()
	from := storagetest.OpenSQLite(t)
	filled := storagetest.FillEveryTable(t, from)
	checkCopy(t, from, storagetest.OpenSQLite(t), filled)
}

// TestCopyDatabaseRefusesATargetWithRows: a target with one row in one
// table is refused, and nothing is written to it.
func TestCopyDatabaseRefusesATargetWithRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from := storagetest.OpenSQLite(t)
	storagetest.FillEveryTable(t, from)
	to := storagetest.Open(t)
	if err := to.SetSetting(ctx, "federation_mode", "allowlist"); err != nil {
		t.Fatal(err)
	}
	before, err := to.CountRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = storage.CopyDatabase(ctx, from, to)
	if !errors.Is(err, storage.ErrNotEmpty) {
		t.Fatalf("CopyDatabase into a %s database with a setting: %v, want ErrNotEmpty", to.Engine(), err)
	}
	after, err := to.CountRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("row counts after the refused copy: %v, want %v", after, before)
	}
}

// checkCopy copies from into the empty to and checks the result.
func checkCopy(t *testing.T, from, to *storage.Store, filled storagetest.Filled) {
	t.Helper()
	ctx := context.Background()
	var progressed []string
	counts, err := storage.CopyDatabase(ctx, from, to, storage.CopyProgress(func(table string, rows int64, _ time.Duration) {
		progressed = append(progressed, table)
	}))
	if err != nil {
		t.Fatalf("CopyDatabase from %s into %s: %v", from.Engine(), to.Engine(), err)
	}
	want, err := from.CountRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := to.CountRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range want {
		if n == 0 {
			t.Errorf("table %s is empty in the source: FillEveryTable should write to it", table)
		}
		if got[table] != n || counts[table] != n {
			t.Errorf("table %s: %d rows in the source, %d in the target, CopyDatabase says %d", table, n, got[table], counts[table])
		}
	}
	if len(counts) != len(want) || len(progressed) != len(want) {
		t.Errorf("CopyDatabase counted %d tables and reported progress on %d, want %d", len(counts), len(progressed), len(want))
	}

	// A few rows, field by field.
	same := func(what string, read func(st *storage.Store) (any, error)) {
		t.Helper()
		a, err := read(from)
		if err != nil {
			t.Fatalf("%s in the source: %v", what, err)
		}
		b, err := read(to)
		if err != nil {
			t.Fatalf("%s in the copy: %v", what, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\nsource %+v\ncopy   %+v", what, a, b)
		}
	}
	c := filled.Community
	same("community", func(st *storage.Store) (any, error) { return st.CommunityByName(ctx, c.Name) })
	same("instance", func(st *storage.Store) (any, error) { return st.Instance(ctx) })
	same("post", func(st *storage.Store) (any, error) { return st.PostByIRI(ctx, filled.PostIRI) })
	same("actor", func(st *storage.Store) (any, error) { return st.ActorByIRI(ctx, filled.Actor) })
	same("follows", func(st *storage.Store) (any, error) { return st.Follows(ctx, c.ID, storage.FollowAccepted, 0, 10) })
	same("members", func(st *storage.Store) (any, error) { return st.Members(ctx, c.ID, 0, 10) })
	same("wiki history", func(st *storage.Store) (any, error) {
		p, err := st.WikiPage(ctx, c.ID, "rootstocks")
		if err != nil {
			return nil, err
		}
		return st.WikiRevisions(ctx, p.ID)
	})
	same("decision and tally", func(st *storage.Store) (any, error) {
		d, err := st.DecisionByIRI(ctx, "https://coppice.test/c/commons/decisions/1")
		if err != nil {
			return nil, err
		}
		tally, err := st.Tally(ctx, d)
		return []any{d, tally}, err
	})
	same("queue", func(st *storage.Store) (any, error) {
		queued, failed, err := st.QueueStats(ctx)
		return []int{queued, failed}, err
	})
	same("account", func(st *storage.Store) (any, error) { return st.AccountByUsername(ctx, "ada") })
	same("member session", func(st *storage.Store) (any, error) {
		return st.MemberSessionByHash(ctx, "member-hash", filled.At)
	})
	// Search finds the same documents; the engines rank them their own
	// way. "greffage" finds "Gréffage": accents are folded on both.
	for _, q := range []string{"whip tongue", "greffage", "rootstocks", "cleft", "oeuvre"} {
		same("search "+q, func(st *storage.Store) (any, error) {
			hits, err := st.Search(ctx, q, 0, 20)
			var refs []string
			for _, h := range hits {
				refs = append(refs, h.Kind+" "+h.Title)
			}
			sort.Strings(refs)
			return refs, err
		})
	}
	if hits, err := to.Search(ctx, "greffage", c.ID, 20); err != nil || len(hits) != 3 {
		t.Errorf("Search(greffage) in the %s copy = %d hits, %v; want the thread's 3 posts", to.Engine(), len(hits), err)
	}

	// New rows take ids after the copied ones.
	other, err := to.CreateCommunity(ctx, storage.Community{Name: "newcomers", Title: "Newcomers", JoinMode: "open", PostingPolicy: "members",
		PrivateKeyPEM: c.PrivateKeyPEM, PublicKeyPEM: c.PublicKeyPEM, CreatedAt: filled.At})
	if err != nil {
		t.Fatalf("create a community in the %s copy: %v", to.Engine(), err)
	}
	if other.ID <= filled.Other.ID {
		t.Errorf("a new community in the %s copy got id %d, want one after the copied %d", to.Engine(), other.ID, filled.Other.ID)
	}
	err = to.InTx(ctx, func(tx *storage.Tx) error {
		th, err := tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: "https://gts.example/notes/new", Title: "New",
			AuthorIRI: filled.Actor, CreatedAt: filled.At, LastActivityAt: filled.At})
		if err != nil {
			return err
		}
		_, err = tx.CreatePost(ctx, storage.Post{IRI: "https://gts.example/notes/new", ThreadID: th.ID, CommunityID: c.ID, Type: "Note",
			AuthorIRI: filled.Actor, Published: filled.At, Raw: []byte("{}")})
		return err
	})
	if err != nil {
		t.Errorf("create a thread and a post in the %s copy: %v", to.Engine(), err)
	}
	// What was copied cannot be copied over again.
	if _, err := storage.CopyDatabase(ctx, from, to); !errors.Is(err, storage.ErrNotEmpty) {
		t.Errorf("a second CopyDatabase into the %s copy: %v, want ErrNotEmpty", to.Engine(), err)
	}
	if !slices.Contains(progressed, "search_index") {
		t.Errorf("progress reported on %v, want search_index too", progressed)
	}
}
