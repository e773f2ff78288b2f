package storage_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

var update = flag.Bool("update", false, "rewrite testdata/schema.golden.sql")

func TestSchemaGolden(t *testing.T) {
	t.Parallel()
	st := storagetest.OpenSQLite(t)
	got, err := st.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "schema.golden.sql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("schema differs from %s (go test ./storage -update rewrites it):\ngot:\n%s", path, got)
	}
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	ctx := context.Background()
	v1, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	v2, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 == 0 || v1 != v2 {
		t.Errorf("schema version %d then %d, want the same non-zero version", v1, v2)
	}
}

func TestCommunitySurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	st, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	priv, pub := storagetest.KeyPair(t)
	created, err := st.CreateCommunity(ctx, storage.Community{
		Name: "seeds", Title: "Seeds", JoinMode: "approval", PostingPolicy: "anyone",
		PrivateKeyPEM: priv, PublicKeyPEM: pub, CreatedAt: time.Date(2026, 5, 6, 7, 8, 9, 123e6, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.CommunityByName(ctx, "seeds")
	if err != nil {
		t.Fatalf("CommunityByName after reopen: %v", err)
	}
	if got != created {
		t.Errorf("after reopen got %+v, want %+v", got, created)
	}
	if got.CreatedAt != time.Date(2026, 5, 6, 7, 8, 9, 123e6, time.UTC) {
		t.Errorf("CreatedAt = %v, want millisecond precision kept", got.CreatedAt)
	}
}

func TestCommunityErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	storagetest.Community(t, st, "seeds")
	if _, err := st.CommunityByName(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CommunityByName(nope) error = %v, want ErrNotFound", err)
	}
	priv, pub := storagetest.KeyPair(t)
	_, err := st.CreateCommunity(ctx, storage.Community{Name: "seeds", Title: "Again", JoinMode: "open", PostingPolicy: "members", PrivateKeyPEM: priv, PublicKeyPEM: pub})
	if !errors.Is(err, storage.ErrConflict) {
		t.Errorf("second CreateCommunity(seeds) error = %v, want ErrConflict", err)
	}
	_, err = st.CreateCommunity(ctx, storage.Community{Name: "bad", Title: "Bad", JoinMode: "sometimes", PostingPolicy: "members", PrivateKeyPEM: priv, PublicKeyPEM: pub})
	if err == nil {
		t.Errorf("CreateCommunity with join mode sometimes succeeded, want a CHECK failure")
	}
	n, err := st.CountCommunities(ctx)
	if err != nil || n != 1 {
		t.Errorf("CountCommunities = %d, %v; want 1 (failed inserts leave nothing)", n, err)
	}
}

func TestEnsureInstanceKeepsFirstKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	if _, err := st.Instance(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Instance on empty db: %v, want ErrNotFound", err)
	}
	first, err := st.EnsureInstance(ctx, storage.Instance{PrivateKeyPEM: "a", PublicKeyPEM: "A", CreatedAt: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.EnsureInstance(ctx, storage.Instance{PrivateKeyPEM: "b", PublicKeyPEM: "B", CreatedAt: time.Unix(2, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if first.PublicKeyPEM != "A" || second.PublicKeyPEM != "A" {
		t.Errorf("EnsureInstance twice gave keys %q and %q, want A both times", first.PublicKeyPEM, second.PublicKeyPEM)
	}
}
