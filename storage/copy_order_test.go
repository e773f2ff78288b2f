package storage

import (
	"context"
	"slices"
	"testing"
)

// TestCopyOrderCoversEveryTable: copyOrder names every table of the
// schema once, and nothing else (CopyDatabase refuses a table it lacks).
func TestCopyOrderCoversEveryTable(t *testing.T) {
	t.Parallel()
	tables, err := openForCommit(t).Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range copyOrder {
		if seen[name] {
			t.Errorf("copyOrder names %s twice", name)
		}
		seen[name] = true
		if _, ok := tables[name]; !ok {
			t.Errorf("copyOrder names %s, which the schema lacks", name)
		}
	}
	for name := range tables {
		if !seen[name] {
			t.Errorf("table %s is missing from copyOrder", name)
		}
	}
}

// TestCopyOrderFollowsForeignKeys: each table comes after every table its
// foreign keys reference, as SQLite's schema declares them (PostgreSQL's
// declares the same; its copy test fails on the first row out of order).
func TestCopyOrderFollowsForeignKeys(t *testing.T) {
	t.Parallel()
	st := openForCommit(t)
	rows, err := st.read.QueryContext(context.Background(), `SELECT m.name, f."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table' ORDER BY m.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, references string
		if err := rows.Scan(&table, &references); err != nil {
			t.Fatal(err)
		}
		n++
		if i, j := slices.Index(copyOrder, table), slices.Index(copyOrder, references); table != references && j >= i {
			t.Errorf("copyOrder has %s at %d, before %s at %d, which it references", table, i, references, j)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("found %d foreign keys, want the schema's (more than 20)", n)
	}
}
