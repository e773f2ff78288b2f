package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// The read path serves what it rendered from a community while the
// community's versions stay the same (issue 13): every write that changes
// the community's row must change Version, every write that changes what
// its outbox lists OutboxVersion, and neither anything else.
func TestCommunityVersionsChangeWithTheirWrites(t *testing.T) {
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
	create := func(iri string, listed bool) func() error {
		return func() error {
			return st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: iri, CommunityID: c.ID, Type: "Announce", KeyID: "k",
					Body: []byte("{}"), Listed: listed, CreatedAt: now, ObjectIRI: "https://remote.example/notes/1"})
				return err
			})
		}
	}
	for _, s := range []struct {
		name        string
		write       func() error
		row, outbox bool // which version changes
	}{
		{"a listed activity", create("https://coppice.example/a/1", true), false, true},
		{"an unlisted activity", create("https://coppice.example/a/2", false), false, false},
		{"withdrawing the post's announces", func() error {
			return st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.WithdrawAnnounces(ctx, c.ID, "https://remote.example/notes/1", 0, now)
				return err
			})
		}, false, true},
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
		if got := after.OutboxVersion != before.OutboxVersion; got != s.outbox {
			t.Errorf("after %s: OutboxVersion %d → %d, changed = %v, want %v", s.name, before.OutboxVersion, after.OutboxVersion, got, s.outbox)
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
