package storage_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// The two engines' migrations must leave the same tables and columns:
// PostgreSQL's baseline is written by hand from SQLite's schema, and
// every later migration is written twice.
func TestEnginesHaveTheSameTables(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("compares with PostgreSQL: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	t.Parallel()
	ctx := context.Background()
	lite, err := storagetest.OpenSQLite(t).Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := storagetest.Open(t).Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) < 30 {
		t.Fatalf("SQLite has %d tables, want the whole schema", len(lite))
	}
	for table, cols := range lite {
		if !reflect.DeepEqual(pg[table], cols) {
			t.Errorf("table %s: PostgreSQL columns %v, SQLite %v", table, pg[table], cols)
		}
	}
	for table := range pg {
		if _, ok := lite[table]; !ok {
			t.Errorf("table %s only on PostgreSQL", table)
		}
	}
}

func TestBothEnginesAreAtTheSameSchemaVersion(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	v, err := st.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	latest, err := storage.LatestSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v != latest {
		t.Errorf("%s database at version %d, SQLite's migrations end at %d", st.Engine(), v, latest)
	}
}

// Several processes that start at once on a new PostgreSQL database: one
// migrates (under an advisory lock), the others wait and find the schema
// current; none fails.
func TestProcessesStartingAtOnceMigrateOnce(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("several processes share a database on PostgreSQL only: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	t.Parallel()
	ctx := context.Background()
	db := storagetest.UnmigratedPostgresURL(t)
	const n = 4
	errs := make(chan error, n)
	stores := make(chan *storage.Store, n)
	for range n {
		go func() {
			st, err := storage.Open(ctx, db)
			errs <- err
			stores <- st
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("open: %v", err)
		}
		if st := <-stores; st != nil {
			defer st.Close()
		}
	}
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	applied, err := st.MigrateCount(ctx)
	if err != nil || applied != 0 {
		t.Errorf("a later start applied %d migrations, %v; want 0", applied, err)
	}
	v, err := st.SchemaVersion(ctx)
	latest, _ := storage.LatestSchemaVersion()
	if err != nil || v != latest {
		t.Errorf("schema version %d, %v; want %d", v, err, latest)
	}
}
