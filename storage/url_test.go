package storage_test

import (
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/storage"
)

func TestRedactedHidesThePassword(t *testing.T) {
	t.Parallel()
	for _, db := range []string{
		"postgres://coppice:s3cret@db.example:5433/coppice?sslmode=disable",
		"postgresql://coppice@db.example/coppice?password=s3cret",
		"postgres://coppice:s3cret@db.example:bad-port/coppice",
	} {
		if got := storage.Redacted(db); strings.Contains(got, "s3cret") || !strings.HasPrefix(got, "postgres") {
			t.Errorf("Redacted(%q) = %q, want a postgres URL without the password", db, got)
		}
	}
	for _, db := range []string{"./coppice.db", "postgres://coppice@db.example:5433/coppice"} {
		if got := storage.Redacted(db); got != db {
			t.Errorf("Redacted(%q) = %q, want it unchanged", db, got)
		}
	}
}
