// Package storagetest opens real databases for tests, an SQLite file or a
// database on a throwaway PostgreSQL server (COPPICE_TEST_DB=postgres), and
// builds small pieces of test data. Only tests import it.
package storagetest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// Open creates a fresh, migrated database of this run's engine (see DB)
// and closes it when the test ends. On SQLite it never uses :memory:,
// whose pooled connections would each see a different database.
func Open(t testing.TB) *storage.Store {
	t.Helper()
	return open(t, DB(t))
}

// OpenSQLite is Open for a test of what only SQLite has (its schema's
// golden file, VACUUM INTO backups), whatever this run's engine.
func OpenSQLite(t testing.TB) *storage.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "coppice.db"))
}

func open(t testing.TB, db string) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), db)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// keys caches one key pair per test binary: RSA generation costs ~100 ms.
var keys struct {
	once      sync.Once
	priv, pub string
	err       error
}

// KeyPair returns a PEM key pair shared by the tests of one binary.
func KeyPair(t testing.TB) (privatePEM, publicPEM string) {
	t.Helper()
	keys.once.Do(func() { keys.priv, keys.pub, keys.err = keypair.Generate() })
	if keys.err != nil {
		t.Fatal(keys.err)
	}
	return keys.priv, keys.pub
}

// Community inserts an open community called name.
func Community(t testing.TB, st *storage.Store, name string) storage.Community {
	t.Helper()
	priv, pub := KeyPair(t)
	c, err := st.CreateCommunity(context.Background(), storage.Community{
		Name: name, Title: "Community " + name, Summary: "About " + name,
		JoinMode: "open", PostingPolicy: "members", Discoverable: true,
		PrivateKeyPEM: priv, PublicKeyPEM: pub, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatalf("create community %s: %v", name, err)
	}
	return c
}
