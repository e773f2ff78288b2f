package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// The read path serves what it rendered from a community while the
// community's version stays the same (issue 13): every write that changes
// the community's row or takes an activity out of its outbox must change
// Version, every activity added to the outbox NewestListed, and nothing
// else either.
func TestCommunityVersionChangesWithItsWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	storagetest.Community(t, st, "roots")
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	version := func(name string) storage.CommunityVersion {
		t.Helper()
		v, err := st.CommunityVersionByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	create := func(iri, object string, listed bool) func() error {
		return func() error {
			return st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: iri, CommunityID: c.ID, Type: "Announce", KeyID: "k",
					Body: []byte("{}"), Listed: listed, CreatedAt: now, ObjectIRI: object})
				return err
			})
		}
	}
	for _, s := range []struct {
		name        string
		write       func() error
		row, newest bool // which changes: Version, NewestListed
	}{
		{"a listed activity", create("https://coppice.example/a/1", "https://remote.example/notes/1", true), false, true},
		{"an unlisted activity", create("https://coppice.example/a/2", "https://remote.example/notes/1", false), false, false},
		{"a listed activity about another post", create("https://coppice.example/a/3", "https://remote.example/notes/2", true), false, true},
		{"withdrawing the announces of the older post", func() error {
			return st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.WithdrawAnnounces(ctx, c.ID, "https://remote.example/notes/1", 0, now)
				return err
			})
		}, true, false},
		{"a profile change", func() error {
			return st.UpdateCommunityProfile(ctx, c.ID, storage.CommunityProfile{Title: "New", JoinMode: "open", UpdatedAt: now})
		}, true, false},
		{"a settings change", func() error {
			c.PostingPolicy = "anyone"
			return st.UpdateCommunitySettings(ctx, c)
		}, true, false},
		{"an icon", func() error { return st.SetCommunityIcon(ctx, c.ID, "0123abcd", ".png", now) }, true, false},
		{"archiving", func() error { return st.SetCommunityArchived(ctx, c.ID, now, now) }, true, false},
	} {
		before, other := version("seeds"), version("roots")
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		after := version("seeds")
		if got := after.Version != before.Version; got != s.row {
			t.Errorf("after %s: Version %d → %d, changed = %v, want %v", s.name, before.Version, after.Version, got, s.row)
		}
		if got := after.NewestListed != before.NewestListed; got != s.newest {
			t.Errorf("after %s: NewestListed %d → %d, changed = %v, want %v", s.name, before.NewestListed, after.NewestListed, got, s.newest)
		}
		if after.ID != c.ID || !after.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("after %s: ID %d created %v, want %d created %v", s.name, after.ID, after.CreatedAt, c.ID, c.CreatedAt)
		}
		if version("roots") != other {
			t.Errorf("after %s: the versions of another community changed", s.name)
		}
	}
	if _, err := st.CommunityVersionByName(ctx, "nobody"); err != storage.ErrNotFound {
		t.Errorf("CommunityVersionByName(%q) = %v, want ErrNotFound", "nobody", err)
	}
}
