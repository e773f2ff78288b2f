package storage_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestCreatedRowsAreAsStored: CreateThread, CreatePost and
// CreateOutboxActivity return what reading the row back gives (ids,
// times to the millisecond, defaults), though on SQLite they no longer
// read it back; the same IRI again is a conflict and adds no row.
func TestCreatedRowsAreAsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	at := time.Date(2026, 12, 3, 21, 4, 5, 678901234, time.UTC)
	var th storage.Thread
	var posts []storage.Post
	var outbox []int64
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		th, err = tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: "https://remote.example/notes/1", Title: "Grafting",
			AuthorIRI: "https://remote.example/users/a", CreatedAt: at, Replies: 3, Pinned: true})
		if err != nil {
			return err
		}
		for i, raw := range [][]byte{[]byte(`{"type":"Note"}`), nil} {
			p, err := tx.CreatePost(ctx, storage.Post{IRI: "https://remote.example/notes/" + string(rune('1'+i)), ThreadID: th.ID,
				CommunityID: c.ID, Type: "Note", AuthorIRI: "https://remote.example/users/a", Content: "<p>scions</p>",
				Published: at, Updated: at, Likes: 4, Raw: raw})
			if err != nil {
				return err
			}
			posts = append(posts, p)
		}
		for i := range 2 {
			id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.test/c/seeds/activities/" + string(rune('a'+i)),
				CommunityID: c.ID, Type: "Announce", KeyID: "https://coppice.test/c/seeds#main-key", Body: []byte(`{}`), CreatedAt: at})
			if err != nil {
				return err
			}
			outbox = append(outbox, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.ThreadByID(ctx, th.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(th, stored) {
		t.Errorf("CreateThread returned %+v, stored %+v", th, stored)
	}
	for _, p := range posts {
		stored, err := st.PostByIRI(ctx, p.IRI)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, stored) {
			t.Errorf("CreatePost returned %+v, stored %+v", p, stored)
		}
	}
	if posts[0].ID == posts[1].ID || outbox[0] == outbox[1] {
		t.Errorf("ids %d, %d and %d, %d: want distinct", posts[0].ID, posts[1].ID, outbox[0], outbox[1])
	}
	for i, id := range outbox {
		a, err := st.OutboxActivityByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := "https://coppice.test/c/seeds/activities/" + string(rune('a'+i)); a.IRI != want {
			t.Errorf("outbox row %d is %s, want %s", id, a.IRI, want)
		}
	}
	before, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.CreatePost(ctx, storage.Post{IRI: posts[0].IRI, ThreadID: th.ID, CommunityID: c.ID, Type: "Note", Published: at})
		return err
	})
	if !errors.Is(err, storage.ErrConflict) {
		t.Errorf("the same post again: %v, want ErrConflict", err)
	}
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.test/c/seeds/activities/a", CommunityID: c.ID,
			Type: "Announce", Body: []byte(`{}`), CreatedAt: at})
		return err
	})
	if err == nil {
		t.Error("the same outbox activity id again was stored")
	}
	after, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("rows %v after the conflicts, %v before", after, before)
	}
}
