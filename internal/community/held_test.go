package community_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// closed sets seeds' posting policy to moderators.
func (w *world) closed() {
	w.t.Helper()
	if _, err := w.svc.UpdateSettings(w.ctx, w.c.Name, community.Settings{PostingPolicy: community.PostModerators, BoostReplies: true}); err != nil {
		w.t.Fatal(err)
	}
}

// held returns the posts waiting in seeds' queue.
func (w *world) held() []community.HeldPost {
	w.t.Helper()
	c, err := w.st.CommunityByName(w.ctx, w.c.Name)
	if err != nil {
		w.t.Fatal(err)
	}
	h, err := w.svc.HeldPosts(w.ctx, c)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// TestGRP06PostsWaitForAModerator: under posting 'moderators' a member's
// post is taken (no error), stored nowhere a reader sees and announced to
// nobody until a moderator approves it; then it is placed and announced
// like any post. A rejected post is dropped. Only a moderator may review,
// each post once, and the log says who did.
func TestGRP06PostsWaitForAModerator(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bystander := w.member("https://b.example/users/bea")
	ann := w.member("https://a.example/users/ann")
	w.closed()
	first, second := w.note(ann, "<p>Saving tomato seeds</p>"), w.note(ann, "<p>Buy cheap watches</p>")
	for _, n := range []community.Note{first, second} {
		if err := w.submit(ann, n); err != nil {
			t.Fatalf("Submit under posting moderators = %v, want held", err)
		}
		if err := w.submit(ann, n); err != nil {
			t.Fatalf("the same post again = %v, want a no-op", err)
		}
	}
	held := w.held()
	if len(held) != 2 || held[0].NoteIRI != first.IRI || held[1].NoteIRI != second.IRI || !strings.Contains(held[0].Content, "tomato") || held[0].AuthorIRI != ann.IRI {
		t.Fatalf("queue = %+v, want the two posts once each, oldest first", held)
	}
	if w.hasPost(first.IRI) || len(w.r.Of("AnnounceActivity"))+len(w.r.Of("AnnounceObject")) != 0 {
		t.Fatalf("a waiting post is stored (%v) or announced (%d, %d)", w.hasPost(first.IRI), len(w.r.Of("AnnounceActivity")), len(w.r.Of("AnnounceObject")))
	}

	// Neither a member nor a stranger may review.
	for _, p := range []community.Principal{community.Member(ann.IRI), community.Member(bystander.IRI)} {
		if err := w.svc.ReviewHeld(w.ctx, p, w.c.Name, held[0].ID, true); !errors.Is(err, community.ErrForbidden) {
			t.Errorf("approval by %s = %v, want ErrForbidden", p.Name(), err)
		}
	}
	mod := w.moderator("https://m.example/users/moe")
	if err := w.svc.ReviewHeld(w.ctx, community.Member(mod.IRI), w.c.Name, held[0].ID, true); err != nil {
		t.Fatalf("approval by the moderator = %v", err)
	}
	if !w.hasPost(first.IRI) {
		t.Fatal("the approved post is not stored")
	}
	a, ok := announced(w.r, "Create", first.IRI)
	if !ok || !strings.Contains(strings.Join(w.queued()[a.Activity.IRI], " "), bystander.Inbox) {
		t.Errorf("the approved post is not announced to the followers (%v, %v)", ok, w.queued())
	}
	if err := w.svc.ReviewHeld(w.ctx, community.Member(mod.IRI), w.c.Name, held[0].ID, true); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("approving it again = %v, want ErrNotFound", err)
	}
	if err := w.svc.ReviewHeld(w.ctx, community.Operator("admin"), w.c.Name, held[1].ID, false); err != nil {
		t.Fatalf("rejection by the operator = %v", err)
	}
	if w.hasPost(second.IRI) || len(w.held()) != 0 {
		t.Errorf("the rejected post is stored (%v) or still waits (%d)", w.hasPost(second.IRI), len(w.held()))
	}
	if _, ok := announced(w.r, "Create", second.IRI); ok {
		t.Error("the rejected post was announced")
	}
	log, err := w.svc.ModerationLog(w.ctx, w.c)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+" "+e.Target+" by "+e.By)
	}
	for _, want := range []string{"approve post " + first.IRI + " by " + mod.IRI, "reject post " + second.IRI + " by cli:admin"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("moderation log %q lacks %q", actions, want)
		}
	}
}

// TestGRP06QueueRules: a moderator posts at once; a banned author is
// refused, and a post of an author banned while it waited cannot be
// approved; a stranger's post is refused, not held; the queue is bounded
// per author; an archived community takes
// its moderators' posts only, and holds nobody else's.
func TestGRP06QueueRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann, mod := w.member("https://a.example/users/ann"), w.moderator("https://m.example/users/moe")
	w.closed()
	if m := w.note(mod, "from the moderator"); w.submit(mod, m) != nil || !w.hasPost(m.IRI) {
		t.Error("a moderator's post is not placed at once")
	}
	n := w.note(ann, "waits")
	if err := w.submit(ann, n); err != nil {
		t.Fatal(err)
	}
	w.ban(ann.IRI)
	if err := w.svc.ReviewHeld(w.ctx, community.Member(mod.IRI), w.c.Name, w.held()[0].ID, true); !isRefused(err) {
		t.Errorf("approving a banned author's post = %v, want RefusedError", err)
	}
	if w.hasPost(n.IRI) || len(w.held()) != 1 {
		t.Errorf("after the refused approval: stored %v, %d waiting; want not stored, still waiting", w.hasPost(n.IRI), len(w.held()))
	}
	if err := w.submit(ann, w.note(ann, "after the ban")); !isRefused(err) {
		t.Errorf("a banned author's post = %v, want RefusedError", err)
	}
	stranger := w.actor("https://s.example/users/sue")
	if err := w.submit(stranger, w.note(stranger, "not a member")); !isRefused(err) {
		t.Errorf("a stranger's post = %v, want RefusedError: only members' posts wait", err)
	}

	flooder := w.member("https://f.example/users/flo")
	for i := range community.MaxHeldPostsPerAuthor + 3 {
		err := w.submit(flooder, w.note(flooder, fmt.Sprintf("flood %d", i)))
		if i < community.MaxHeldPostsPerAuthor && err != nil {
			t.Fatalf("post %d of one author = %v, want held", i, err)
		}
		if i >= community.MaxHeldPostsPerAuthor && !isRefused(err) {
			t.Fatalf("post %d of one author = %v, want refused: the queue holds %d of theirs", i, err, community.MaxHeldPostsPerAuthor)
		}
	}
	if got := len(w.held()); got != 1+community.MaxHeldPostsPerAuthor {
		t.Errorf("%d posts waiting, want %d", got, 1+community.MaxHeldPostsPerAuthor)
	}

	bea := w.member("https://b.example/users/bea")
	if err := w.svc.ArchiveCommunity(w.ctx, w.c.Name, true); err != nil {
		t.Fatal(err)
	}
	if err := w.submit(bea, w.note(bea, "into the archive")); !isRefused(err) {
		t.Errorf("a post into an archived community = %v, want RefusedError", err)
	}
	if m := w.note(mod, "a last word"); w.submit(mod, m) != nil || !w.hasPost(m.IRI) {
		t.Error("a moderator's post into the archived community is not placed")
	}
}

// TestGRP06AuthorTakesBackAWaitingPost: an author's Delete of a post that
// waits for a moderator takes it out of the queue; someone else's Delete
// of it does not.
func TestGRP06AuthorTakesBackAWaitingPost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann, bea := w.member("https://a.example/users/ann"), w.member("https://b.example/users/bea")
	w.closed()
	n := w.note(ann, "<p>On second thought</p>")
	if err := w.submit(ann, n); err != nil {
		t.Fatal(err)
	}
	del := func(a storage.Actor) error {
		return w.svc.Receive(w.ctx, community.Deleted{In: w.in(a, "Delete"), ObjectIRI: n.IRI})
	}
	if err := del(bea); err != nil {
		t.Fatal(err)
	}
	if len(w.held()) != 1 {
		t.Fatalf("someone else's Delete took the post out of the queue")
	}
	if err := del(ann); err != nil {
		t.Fatal(err)
	}
	if h := w.held(); len(h) != 0 {
		t.Errorf("queue after the author's Delete = %+v, want empty", h)
	}
}

// TestGRP06AuthorEditsAWaitingPost: the author's Update of a waiting post
// replaces what the moderator will see and publish; an Update that makes
// it followers-only takes it out of the queue; someone else's changes
// nothing.
func TestGRP06AuthorEditsAWaitingPost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann, bea := w.member("https://a.example/users/ann"), w.member("https://b.example/users/bea")
	w.closed()
	n := w.note(ann, "<p>first draft</p>")
	if err := w.submit(ann, n); err != nil {
		t.Fatal(err)
	}
	edit := func(a storage.Actor, content string, public bool) {
		t.Helper()
		e := n
		e.Content, e.Public = content, public
		if err := w.svc.Receive(w.ctx, community.Edited{In: w.in(a, "Update"), Note: e}); err != nil {
			t.Fatal(err)
		}
	}
	edit(bea, "<p>vandalised</p>", true)
	edit(ann, "<p>second draft</p>", true)
	h := w.held()
	if len(h) != 1 || !strings.Contains(h[0].Content, "second draft") {
		t.Fatalf("queue after the edits = %+v, want the author's second draft", h)
	}
	mod := w.moderator("https://m.example/users/moe")
	if err := w.svc.ReviewHeld(w.ctx, community.Member(mod.IRI), w.c.Name, h[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if p := w.post(n.IRI); !strings.Contains(p.Content, "second draft") {
		t.Errorf("approved post = %q, want the second draft", p.Content)
	}

	m := w.note(ann, "<p>for everyone</p>")
	if err := w.submit(ann, m); err != nil {
		t.Fatal(err)
	}
	n = m
	edit(ann, "<p>for my followers</p>", false)
	if h := w.held(); len(h) != 0 {
		t.Errorf("queue after an edit to followers-only = %+v, want empty", h)
	}
}
