package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFLT12WALShrinksAfterALongReader: writes go on while a reader holds
// a snapshot (the WAL grows past 64 MiB, nothing is refused), and once the
// reader ends, the WAL file is cut back to walSizeLimit instead of
// keeping its peak size on disk.
func TestFLT12WALShrinksAfterALongReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reader, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	long, err := reader.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := long.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	write := func(i int) {
		t.Helper()
		value := strings.Repeat(fmt.Sprint(i%10), 1<<20)
		if err := st.InTx(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint("flt12-", i), value)
			return err
		}); err != nil {
			t.Fatalf("write %d while a reader holds a snapshot: %v", i, err)
		}
	}
	for i := range 80 {
		write(i)
	}
	grown := walSize(t, path)
	if grown <= walSizeLimit {
		t.Fatalf("WAL is %d bytes after 80 MiB of writes behind a reader: the test does not grow it past the limit", grown)
	}
	if err := long.Rollback(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // a checkpoint, then a write that restarts the WAL
		write(100 + i)
	}
	if size := walSize(t, path); size > walSizeLimit {
		t.Errorf("WAL is %d bytes after the reader ended (was %d): not cut back to %d", size, grown, walSizeLimit)
	}
}

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
