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
