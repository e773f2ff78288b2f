package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// TestFLT08KillDuringInboxPosts sends signed posts to a real server
// process and kills it with SIGKILL while they come in. Every post
// answered 202 is stored after the kill; every other one, sent again to
// the restarted server, is answered 202; and each post is stored once,
// whether its first try was committed or not (FLT-08, FLT-15).
func TestFLT08KillDuringInboxPosts(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts subprocesses")
	}
	ctx := context.Background()
	db := storagetest.DB(t)
	for _, args := range [][]string{
		{"community", "create", "seeds", "--title", "Seeds", "--db", db},
		{"community", "set", "seeds", "--posting", "anyone", "--db", db},
	} {
		if code, _, errOut := coppice(t, "", args...); code != 0 {
			t.Fatal(errOut)
		}
	}
	// One host sends every post: lift the inbox's rate limits, which
	// would otherwise answer most of them 429.
	t.Setenv("COPPICE_INBOX_ACTOR_BURST", "100000")
	t.Setenv("COPPICE_INBOX_HOST_BURST", "100000")
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.70"))
	authors := []*fedtest.Actor{peer.NewActor("alice"), peer.NewActor("bob"), peer.NewActor("carol")}
	addr := freeAddr(t)
	group := "http://" + addr + "/c/seeds"
	const posts = 400
	bodies := make([][]byte, posts)
	iris := make([]string, posts)
	for i := range bodies {
		a := authors[i%len(authors)]
		iris[i] = fmt.Sprintf("%s/notes/flt08-%d", a.IRI, i)
		bodies[i], _ = json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "id": iris[i] + "/activity", "type": "Create", "actor": a.IRI,
			"to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{group},
			"object": map[string]any{"id": iris[i], "type": "Note", "attributedTo": a.IRI, "content": fmt.Sprintf("<p>post %d</p>", i),
				"to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{group},
				"tag": []any{map[string]any{"type": "Mention", "href": group}}},
		})
	}
	send := func(i int) int {
		req, err := authors[i%len(authors)].SignedRequest(group+"/inbox", bodies[i], time.Now())
		if err != nil {
			t.Error(err)
			return 0
		}
		res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			return 0 // the server died with the request
		}
		res.Body.Close()
		return res.StatusCode
	}

	cmd := startProcess(t, db, addr)
	status := make([]int, posts)
	var answered atomic.Int32
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGKILL)
		})
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				status[i] = send(i)
				if status[i] != 0 && answered.Add(1) == posts/4 {
					kill()
				}
			}
		})
	}
	for i := range posts {
		work <- i
	}
	close(work)
	wg.Wait()
	kill()
	_ = cmd.Wait()
	accepted := 0
	seen := map[int]int{}
	for _, s := range status {
		seen[s]++
		if s == http.StatusAccepted {
			accepted++
		}
	}
	if accepted == posts {
		t.Fatal("every post was answered before the kill: the test proves nothing")
	}
	t.Logf("%d of %d posts answered 202 before the kill (statuses %v; 0: no answer)", accepted, posts, seen)

	// Inverse check: a 202 means the post is stored.
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range status {
		if s != http.StatusAccepted {
			continue
		}
		if _, err := st.PostByIRI(ctx, iris[i]); err != nil {
			t.Errorf("post %d was answered 202 but is not stored after the kill: %v", i, err)
		}
	}
	st.Close()

	// The senders retry what got no 2xx; the same posts again are no-ops.
	startProcess(t, db, addr)
	for i, s := range status {
		if s == http.StatusAccepted {
			continue
		}
		if got := send(i); got != http.StatusAccepted {
			t.Errorf("post %d sent again after the restart: %d, want 202", i, got)
		}
	}
	for _, i := range []int{0, posts / 2} {
		if got := send(i); got != http.StatusAccepted {
			t.Errorf("post %d, answered before, sent again: %d, want 202", i, got)
		}
	}
	st, err = storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n["posts"] != posts || n["threads"] != posts {
		t.Errorf("%d posts in %d threads stored, want each of the %d once", n["posts"], n["threads"], posts)
	}
	for i, iri := range iris {
		if _, err := st.PostByIRI(ctx, iri); err != nil {
			t.Errorf("post %d is missing: %v", i, err)
		}
	}
}
