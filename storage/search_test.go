package storage_test

import (
	"context"
	"testing"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestSearchRowsKeyedByKindAndRef: a post, a resource and a wiki page with
// the same row ID are three documents, re-indexing one replaces only it,
// and unindexing one leaves the others (migration 0018 keys rows by
// rowid).
func TestSearchRowsKeyedByKindAndRef(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "searching")
	write := func(fn func(tx *storage.Tx) error) {
		t.Helper()
		if err := st.InTx(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	search := func(q string) []storage.Hit {
		t.Helper()
		hits, err := st.Search(ctx, q, c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		return hits
	}
	write(func(tx *storage.Tx) error {
		if err := tx.IndexDocument(ctx, storage.SearchPost, 7, c.ID, "Grafting", "whip and tongue"); err != nil {
			return err
		}
		if err := tx.IndexDocument(ctx, storage.SearchWiki, 7, c.ID, "Grafting wiki", "tongue grafts heal fast"); err != nil {
			return err
		}
		return tx.IndexDocument(ctx, storage.SearchResource, 7, c.ID, "Grafting guide", "whip and tongue, cleft")
	})
	if hits := search("tongue"); len(hits) != 3 {
		t.Fatalf("Search(tongue) after indexing post 7, resource 7 and wiki page 7: %d hits, want 3", len(hits))
	}
	write(func(tx *storage.Tx) error {
		return tx.IndexDocument(ctx, storage.SearchPost, 7, c.ID, "Grafting", "bark grafting")
	})
	if hits := search("bark"); len(hits) != 1 || hits[0].Kind != storage.SearchPost || hits[0].Ref != 7 {
		t.Errorf("Search(bark) after re-indexing post 7: %+v, want post 7 alone", hits)
	}
	if hits := search("whip"); len(hits) != 1 || hits[0].Kind != storage.SearchResource || hits[0].Ref != 7 {
		t.Errorf("Search(whip) after re-indexing post 7: %+v, want resource 7 alone", hits)
	}
	write(func(tx *storage.Tx) error { return tx.UnindexDocument(ctx, storage.SearchResource, 7) })
	if hits := search("grafting"); len(hits) != 2 || hits[0].Kind == storage.SearchResource || hits[1].Kind == storage.SearchResource {
		t.Errorf("Search(grafting) after unindexing resource 7: %+v, want post 7 and wiki page 7", hits)
	}
	err := st.InTx(ctx, func(tx *storage.Tx) error { return tx.IndexDocument(ctx, "poem", 7, c.ID, "Ode", "to grafting") })
	if err == nil {
		t.Error("IndexDocument of an unknown kind: nil error, want one")
	}
}

// Several writes to the search index in one transaction apply in order:
// the last write of a document decides (PostgreSQL writes a batch's
// documents in two statements).
func TestSearchWritesInOneTxApplyInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "searching")
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		for _, step := range []func() error{
			func() error { return tx.IndexDocument(ctx, storage.SearchPost, 1, c.ID, "Alder", "alder catkins") },
			func() error { return tx.UnindexDocument(ctx, storage.SearchPost, 1) },
			func() error { return tx.IndexDocument(ctx, storage.SearchPost, 2, c.ID, "Beech", "beech mast") },
			func() error { return tx.IndexDocument(ctx, storage.SearchPost, 2, c.ID, "Beech", "beech hedges") },
			func() error { return tx.UnindexDocument(ctx, storage.SearchPost, 3) },
			func() error {
				return tx.IndexDocument(ctx, storage.SearchPost, 3, c.ID, "Chestnut", "chestnut coppice")
			},
			// A link without text, as lotide sends a Page.
			func() error { return tx.IndexDocument(ctx, storage.SearchPost, 4, c.ID, "", "") },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]int64{"alder": nil, "mast": nil, "hedges": {2}, "chestnut": {3}} {
		hits, err := st.Search(ctx, q, c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, h := range hits {
			got = append(got, h.Ref)
		}
		if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
			t.Errorf("Search(%s) = posts %v, want %v", q, got, want)
		}
	}
}
