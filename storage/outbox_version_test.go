package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// The read path serves a community's outbox from what it rendered while
// the community's OutboxVersion stays the same (issue 13): every write
// that changes the listed outbox must change it, and nothing else should.
func TestOutboxVersionChangesWithTheListedOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	storagetest.Community(t, st, "roots")
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	version := func(name string) int64 {
		t.Helper()
		c, err := st.CommunityByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return c.OutboxVersion
	}
	create := func(iri string, listed bool) {
		t.Helper()
		err := st.InTx(ctx, func(tx *storage.Tx) error {
			_, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: iri, CommunityID: c.ID, Type: "Announce", KeyID: "k",
				Body: []byte("{}"), Listed: listed, CreatedAt: now, ObjectIRI: "https://remote.example/notes/1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		write   func()
		changed bool
	}{
		{"a listed activity", func() { create("https://coppice.example/a/1", true) }, true},
		{"an unlisted activity", func() { create("https://coppice.example/a/2", false) }, false},
		{"withdrawing the post's announces", func() {
			err := st.InTx(ctx, func(tx *storage.Tx) error {
				_, err := tx.WithdrawAnnounces(ctx, c.ID, "https://remote.example/notes/1", 0, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a profile change", func() {
			if err := st.UpdateCommunityProfile(ctx, c.ID, storage.CommunityProfile{Title: "New", JoinMode: "open", UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, s := range steps {
		before, otherBefore := version("seeds"), version("roots")
		s.write()
		if got := version("seeds") != before; got != s.changed {
			t.Errorf("after %s: OutboxVersion changed = %v, want %v", s.name, got, s.changed)
		}
		if version("roots") != otherBefore {
			t.Errorf("after %s: the OutboxVersion of another community changed", s.name)
		}
	}
}
