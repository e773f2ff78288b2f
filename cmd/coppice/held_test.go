package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestHeldPostsFromCLI (GRP-06): the command line lists the posts waiting
// in a closed community's queue and approves or rejects them, as the
// console does; a malformed review is a usage error and changes nothing.
func TestHeldPostsFromCLI(t *testing.T) {
	ctx := context.Background()
	db := storagetest.DB(t)
	for _, args := range [][]string{
		{"community", "create", "seeds", "--title", "Seeds", "--db", db},
		{"community", "set", "seeds", "--posting", "moderators", "--db", db},
	} {
		if code, _, errOut := coppice(t, "", args...); code != 0 {
			t.Fatal(errOut)
		}
	}
	cfg := config.Default()
	cfg.DB = db
	author := storage.Actor{IRI: "https://remote.example/users/ann", Type: "Person", Host: "remote.example", Inbox: "https://remote.example/users/ann/inbox",
		Raw: []byte("{}"), FetchedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertActor(ctx, author); err != nil {
		t.Fatal(err)
	}
	st.Close()
	err = withService(ctx, cfg, func(svc *community.Service, _ config.Config) error {
		follow := community.Incoming{IRI: author.IRI + "/follows/seeds", Type: "Follow", Actor: author, Raw: []byte(`{"type":"Follow"}`)}
		if _, err := svc.Follow(ctx, "seeds", follow, follow.IRI); err != nil {
			return err
		}
		for _, id := range []string{"1", "2"} {
			n := community.Note{IRI: "https://remote.example/notes/" + id, Type: "Note", AuthorIRI: author.IRI, Content: "<p>post " + id + "</p>", Public: true, ToCommunity: true}
			in := community.Incoming{IRI: n.IRI + "/activity", Type: "Create", Actor: author, Raw: []byte(`{"type":"Create"}`)}
			if err := svc.Submit(ctx, "seeds", community.Submission{Activity: in, Note: n}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := coppice(t, "", "community", "held", "seeds", "--db", db)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "https://remote.example/notes/1") {
		t.Fatalf("community held: %d %q %s", code, out, errOut)
	}
	ids := []string{strings.Fields(lines[0])[0], strings.Fields(lines[1])[0]}
	for _, args := range [][]string{
		{"community", "review", "seeds", ids[0], "publish", "--db", db},
		{"community", "review", "seeds", "x", "approve", "--db", db},
		{"community", "review", "seeds", ids[0], "--db", db},
	} {
		if code, _, _ := coppice(t, "", args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)", args, code)
		}
	}
	if code, out, errOut := coppice(t, "", "community", "review", "seeds", ids[0], "approve", "--by", "ops", "--db", db); code != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approve: %d %q %s", code, out, errOut)
	}
	if code, out, errOut := coppice(t, "", "community", "review", "seeds", ids[1], "reject", "--db", db); code != 0 || !strings.Contains(out, "rejected") {
		t.Fatalf("reject: %d %q %s", code, out, errOut)
	}
	if code, _, _ := coppice(t, "", "community", "review", "seeds", ids[1], "approve", "--db", db); code == 0 {
		t.Error("approving a rejected post succeeded")
	}
	st, err = storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PostByIRI(ctx, "https://remote.example/notes/1"); err != nil {
		t.Errorf("the approved post is not stored: %v", err)
	}
	if _, err := st.PostByIRI(ctx, "https://remote.example/notes/2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the rejected post is stored (%v)", err)
	}
	if code, out, _ := coppice(t, "", "community", "held", "seeds", "--db", db); code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("queue after the reviews: %d %q, want empty", code, out)
	}
}
