package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

func TestSeedWritesThreadsPostsActivitiesAndSearchRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeded")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var threads []storage.SeedThread
	for i := 0; i < 2; i++ {
		root := fmt.Sprintf("https://remote.example/notes/%d-0", i)
		th := storage.SeedThread{Thread: storage.Thread{CommunityID: c.ID, RootIRI: root, Title: fmt.Sprint("Thread ", i), AuthorIRI: "https://remote.example/users/a", CreatedAt: at, LastActivityAt: at}}
		for j := 0; j < 3; j++ {
			iri := fmt.Sprintf("https://remote.example/notes/%d-%d", i, j)
			th.Posts = append(th.Posts, storage.SeedPost{
				Post:        storage.Post{IRI: iri, Type: "Note", AuthorIRI: "https://remote.example/users/a", Content: "<p>compost tea</p>", Published: at, Raw: []byte(`{}`)},
				ActivityIRI: iri + "/activity",
				ActivityRaw: []byte(`{}`),
				SearchText:  fmt.Sprintf("compost tea %d %d", i, j),
				Announces:   []storage.OutboxActivity{{IRI: iri + "/announce", Type: "Announce", Body: []byte(`{}`), Listed: true, CreatedAt: at, ObjectIRI: iri}},
			})
		}
		threads = append(threads, th)
	}
	if err := st.Seed(ctx, threads); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	counts, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["inbox_activities"] != 6 || counts["outbox_activities"] != 6 {
		t.Errorf("Seed of 2 threads of 3 posts: %d inbox and %d outbox activities, want 6 and 6", counts["inbox_activities"], counts["outbox_activities"])
	}
	p, err := st.PostByIRI(ctx, "https://remote.example/notes/1-2")
	if err != nil {
		t.Fatalf("PostByIRI of a seeded post: %v", err)
	}
	th, err := st.ThreadByID(ctx, p.ThreadID)
	if err != nil {
		t.Fatal(err)
	}
	if th.RootIRI != "https://remote.example/notes/1-0" || th.Replies != 2 {
		t.Errorf("thread of a seeded reply: root %s with %d replies, want https://remote.example/notes/1-0 with 2", th.RootIRI, th.Replies)
	}
	hits, err := st.Search(ctx, "compost", c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 6 {
		t.Errorf("Search(compost) after Seed: %d hits, want 6", len(hits))
	}
}

func TestSeedDeliveriesQueuesDueRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeded")
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var id int64
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var ds []storage.Delivery
	for i := range 30 {
		ds = append(ds, storage.Delivery{ActivityID: id, Inbox: fmt.Sprintf("https://h%d.example/users/%d/inbox", i%3, i), NextAttemptAt: now, QueuedAt: now})
	}
	if err := st.SeedDeliveries(ctx, ds); err != nil {
		t.Fatalf("SeedDeliveries: %v", err)
	}
	got, err := st.ClaimDeliveries(ctx, now, time.Minute, 4, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Errorf("claim with 4 per host after seeding 30 deliveries on 3 hosts: %d rows, want 12", len(got))
	}
	for _, d := range got {
		if d.Host != storage.HostOf(d.Inbox) || d.ActivityID != id {
			t.Errorf("seeded delivery %+v: host or activity wrong", d)
		}
	}
}
