package community_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/community/communitytest"
	"github.com/coppice-dev/coppice/storage"
)

// announced returns the AnnounceActivity of the activity about object iri
// and whether there is one.
func announced(r *communitytest.Renderer, typ, iri string) (communitytest.Rendered, bool) {
	for _, x := range r.Of("AnnounceActivity") {
		var act struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if json.Unmarshal(x.Inner, &act) != nil || act.Type != typ {
			continue
		}
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(act.Object, &obj) == nil && obj.ID == iri {
			return x, true
		}
		var id string
		if json.Unmarshal(act.Object, &id) == nil && id == iri {
			return x, true
		}
	}
	return communitytest.Rendered{}, false
}

func TestPostingPolicyDecidesWhoMayPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy string
		author string // member, moderator, stranger or banned
		want   bool   // accepted and announced
	}{
		{"members policy: a member posts", community.PostMembers, "member", true},
		{"members policy: a stranger is refused", community.PostMembers, "stranger", false},
		{"members policy: a banned member is refused", community.PostMembers, "banned", false},
		{"anyone policy: a stranger posts", community.PostAnyone, "stranger", true},
		{"anyone policy: a banned actor is refused", community.PostAnyone, "banned", false},
		{"moderators policy: a member's post waits for a moderator", community.PostModerators, "member", false},
		{"moderators policy: a banned member is refused", community.PostModerators, "banned", false},
		{"moderators policy: a stranger is refused", community.PostModerators, "stranger", false},
		{"moderators policy: a moderator posts", community.PostModerators, "moderator", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			bystander := w.member("https://b.example/users/bea")
			var author storage.Actor
			switch tt.author {
			case "member":
				author = w.member("https://a.example/users/ann")
			case "moderator":
				author = w.moderator("https://a.example/users/ann")
			case "banned":
				author = w.member("https://a.example/users/ann")
				w.ban(author.IRI)
			default:
				author = w.actor("https://a.example/users/ann")
			}
			if _, err := w.svc.UpdateSettings(w.ctx, w.c.Name, community.Settings{PostingPolicy: tt.policy, BoostReplies: true}); err != nil {
				t.Fatal(err)
			}
			n := w.note(author, "<p>Saving tomato seeds</p>")
			err := w.submit(author, n)
			if tt.want && err != nil {
				t.Fatalf("Submit by a %s under %s = %v, want accepted", tt.author, tt.policy, err)
			}
			held := tt.policy == community.PostModerators && tt.author == "member"
			if held && err != nil {
				t.Fatalf("Submit by a %s under %s = %v, want held (nil)", tt.author, tt.policy, err)
			}
			if !tt.want && !held && !isRefused(err) {
				t.Fatalf("Submit by a %s under %s = %v, want RefusedError", tt.author, tt.policy, err)
			}
			if got := w.hasPost(n.IRI); got != tt.want {
				t.Errorf("post stored = %v, want %v", got, tt.want)
			}
			a, ok := announced(w.r, "Create", n.IRI)
			if ok != tt.want {
				t.Fatalf("Announce{Create} rendered = %v, want %v", ok, tt.want)
			}
			if ok && !strings.Contains(strings.Join(w.queued()[a.Activity.IRI], " "), bystander.Inbox) {
				t.Errorf("Announce{Create} queued for %v, want %s among them", w.queued()[a.Activity.IRI], bystander.Inbox)
			}
		})
	}
}

func TestSubmitRefusesPostsNotForTheCommunity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	private := w.note(ann, "for followers")
	private.Public = false
	elsewhere := w.note(ann, "not for seeds")
	elsewhere.ToCommunity = false
	for name, n := range map[string]community.Note{"a followers-only post": private, "a post not addressed to the community": elsewhere} {
		if err := w.submit(ann, n); !isRefused(err) {
			t.Errorf("Submit(%s) = %v, want RefusedError", name, err)
		}
		if w.hasPost(n.IRI) {
			t.Errorf("%s was stored", name)
		}
	}
	if len(w.r.Of("AnnounceActivity")) != 0 {
		t.Errorf("refused posts were announced: %+v", w.r.Of("AnnounceActivity"))
	}
}

func TestRepliesJoinTheThreadAndBoostsFollowTheSetting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	if _, err := w.svc.UpdateSettings(w.ctx, w.c.Name, community.Settings{PostingPolicy: community.PostMembers, BoostReplies: true}); err != nil {
		t.Fatal(err)
	}
	root := w.note(ann, "<p>Which beans keep best?</p>")
	w.mustSubmit(ann, root)
	// A reply to a post we fetched (the ancestor) lands in the root's
	// thread with its ancestor.
	middle := w.reply(ann, root.IRI, "Runner beans")
	answer := w.reply(bea, middle.IRI, "Borlotti")
	err := w.svc.Submit(w.ctx, w.c.Name, community.Submission{Activity: w.activity(bea, "Create", answer), Note: answer, Ancestors: []community.Note{middle}})
	if err != nil {
		t.Fatal(err)
	}
	rootPost, reply, ancestor := w.post(root.IRI), w.post(answer.IRI), w.post(middle.IRI)
	if reply.ThreadID != rootPost.ThreadID || ancestor.ThreadID != rootPost.ThreadID {
		t.Errorf("reply in thread %d, ancestor in %d, want the root's thread %d", reply.ThreadID, ancestor.ThreadID, rootPost.ThreadID)
	}
	if _, ok := announced(w.r, "Create", middle.IRI); ok {
		t.Error("the fetched ancestor was announced; it is context only")
	}
	if got := w.objects("AnnounceObject", "*"); !sameSet(got, []string{root.IRI, answer.IRI}) {
		t.Errorf("boosts with BoostReplies = %v, want the root and the reply", got)
	}

	if _, err := w.svc.UpdateSettings(w.ctx, w.c.Name, community.Settings{PostingPolicy: community.PostMembers, BoostReplies: false}); err != nil {
		t.Fatal(err)
	}
	w.r.Reset()
	late := w.reply(ann, root.IRI, "Late reply")
	w.mustSubmit(ann, late)
	if _, ok := announced(w.r, "Create", late.IRI); !ok {
		t.Error("a reply was not announced to group-aware followers")
	}
	if got := w.objects("AnnounceObject", "*"); len(got) != 0 {
		t.Errorf("boosts without BoostReplies = %v, want none for a reply", got)
	}
	v, err := w.svc.Thread(w.ctx, w.c.Name, rootPost.ThreadID)
	if err != nil || len(v.Posts) != 4 || v.Thread.Replies != 3 {
		t.Errorf("Thread = %d posts, %d replies, %v; want 4 posts and 3 replies", len(v.Posts), v.Thread.Replies, err)
	}
}

func TestSubmitOfAKnownPostChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	n := w.note(ann, "<p>first</p>")
	w.mustSubmit(ann, n)
	w.r.Reset()
	again := n
	again.Content = "<p>changed by a second Create</p>"
	if err := w.submit(ann, again); err != nil {
		t.Fatal(err)
	}
	if got := w.post(n.IRI).Content; got != "<p>first</p>" {
		t.Errorf("content after a second Create = %q, want the first", got)
	}
	if len(w.r.Rendered()) != 0 {
		t.Errorf("a second Create rendered %+v, want nothing", w.r.Rendered())
	}
}

func TestHostPolicies(t *testing.T) {
	t.Parallel()
	const img = `<p>Look <img src="https://media.example/a.png" alt="a"></p>`
	for _, tt := range []struct {
		name      string
		policy    storage.Policy
		announced bool
		media     bool
	}{
		{"a silenced host's post is kept, not announced", storage.PolicySilence, false, true},
		{"a reject_media host's post loses its media, stored and announced", storage.PolicyRejectMedia, true, false},
		{"a host without policy keeps its media", storage.PolicyNone, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ann := w.member("https://quiet.example/users/ann")
			if tt.policy != storage.PolicyNone {
				w.policy("quiet.example", tt.policy)
			}
			for _, verb := range []string{"Create", "Update"} {
				n := w.note(ann, img)
				if verb == "Update" {
					n = w.note(ann, "<p>plain</p>")
					w.mustSubmit(ann, n)
					n.Content = img
					w.r.Reset()
					if err := w.svc.Edit(w.ctx, w.c.Name, w.activity(ann, "Update", n, "https://media.example/b.png"), n); err != nil {
						t.Fatalf("Edit = %v", err)
					}
				} else if err := w.svc.Submit(w.ctx, w.c.Name, community.Submission{Activity: w.activity(ann, "Create", n, "https://media.example/b.png"), Note: n}); err != nil {
					t.Fatalf("Submit = %v", err)
				}
				if got := strings.Contains(w.post(n.IRI).Content, "<img"); got != tt.media {
					t.Errorf("%s: stored content %q has an image = %v, want %v", verb, w.post(n.IRI).Content, got, tt.media)
				}
				a, ok := announced(w.r, verb, n.IRI)
				if ok != tt.announced {
					t.Fatalf("%s: announced = %v, want %v", verb, ok, tt.announced)
				}
				if !ok {
					continue
				}
				var act struct {
					Object struct {
						Content    string `json:"content"`
						Attachment []any  `json:"attachment"`
					} `json:"object"`
				}
				if err := json.Unmarshal(a.Inner, &act); err != nil {
					t.Fatal(err)
				}
				if got := strings.Contains(act.Object.Content, "<img") || len(act.Object.Attachment) > 0; got != tt.media {
					t.Errorf("%s: the announced activity carries media = %v (%s), want %v", verb, got, a.Inner, tt.media)
				}
			}
		})
	}
}

func TestBannedActorsAreRefusedEveryWayIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mod := w.moderator("https://m.example/users/mo")
	ann := w.member("https://a.example/users/ann")
	earlier := w.note(ann, "<p>before the ban</p>")
	w.mustSubmit(ann, earlier)
	other := w.note(mod, "<p>a post to like</p>")
	w.mustSubmit(mod, other)
	m, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 0))
	if err != nil {
		t.Fatal(err)
	}
	d := openDecision(t, w, false)
	w.ban(ann.IRI)
	w.r.Reset()

	edited := earlier
	edited.Content = "<p>changed after the ban</p>"
	ways := []struct {
		name string
		do   func() error
	}{
		{"post", func() error { return w.submit(ann, w.note(ann, "<p>after the ban</p>")) }},
		{"edit", func() error { return w.svc.Edit(w.ctx, w.c.Name, w.activity(ann, "Update", edited), edited) }},
		{"like", func() error { return w.svc.Vote(w.ctx, w.c.Name, w.in(ann, "Like"), other.IRI, "like") }},
		{"meeting answer", func() error { return w.svc.RSVP(w.ctx, w.in(ann, "Join"), m.IRI, storage.RSVPGoing) }},
		{"meeting answer on the site", func() error {
			return w.svc.AnswerMeeting(w.ctx, community.Member(ann.IRI), m.IRI, storage.RSVPGoing)
		}},
		{"decision vote", func() error {
			return w.svc.VoteDecision(w.ctx, community.Member(ann.IRI), w.in(ann, "Create"), d.Decision.IRI, []string{"Yes"})
		}},
		{"wiki edit", func() error {
			_, err := w.svc.EditWiki(w.ctx, community.Member(ann.IRI), w.c.Name, community.WikiEdit{Title: "Beans", Body: "Beans."})
			return err
		}},
		{"resource proposal", func() error {
			return w.svc.Propose(w.ctx, w.c.Name, w.in(ann, "Create"), w.note(ann, "a link"), "https://seeds.example/guide")
		}},
		{"follow", func() error {
			state, err := w.svc.Follow(w.ctx, w.c.Name, w.in(ann, "Follow"), ann.IRI+"/follows/again")
			if err == nil && state != "rejected" {
				return errors.New("follow " + state)
			}
			return &community.RefusedError{Reason: state}
		}},
	}
	for _, way := range ways {
		if err := way.do(); err == nil || !(isRefused(err) || errors.Is(err, community.ErrForbidden)) {
			t.Errorf("%s by a banned member = %v, want refused", way.name, err)
		}
	}
	if got := w.post(earlier.IRI).Content; got != "<p>before the ban</p>" {
		t.Errorf("banned member's edit changed the post to %q", got)
	}
	likes, err := w.st.TopContributors(w.ctx, w.c.ID, w.clk.now().AddDate(0, 0, -1), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range likes {
		if c.ActorIRI == mod.IRI && c.ByKind[storage.ContribLikeReceived] > 0 {
			t.Errorf("a banned member's like was counted: %+v", c)
		}
	}
	if v, err := w.svc.Meeting(w.ctx, m.IRI); err != nil || v.Counts.Going != 0 {
		t.Errorf("meeting counts after a banned answer = %+v, %v; want none going", v.Counts, err)
	}
	if v, err := w.svc.Decision(w.ctx, d.Decision.IRI); err != nil || v.Tally.Voters != 0 {
		t.Errorf("tally after a banned vote = %+v, %v; want no voters", v.Tally, err)
	}
	for _, x := range w.r.Rendered() {
		if x.Kind != "RejectFollow" {
			t.Errorf("a banned member's act rendered %s %s", x.Kind, x.Object)
		}
	}
}

func TestLockedAndRemovedThreads(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	mod := w.moderator("https://m.example/users/mo")
	root := w.note(ann, "<p>Seed swap in May</p>")
	w.mustSubmit(ann, root)
	reply := w.reply(ann, root.IRI, "<p>I bring squash</p>")
	w.mustSubmit(ann, reply)

	if _, err := w.svc.ModerateThread(w.ctx, root.IRI, community.ActionLock); err != nil {
		t.Fatal(err)
	}
	if got := w.objects("ModAction", community.ActionLock); !sameSet(got, []string{root.IRI}) {
		t.Errorf("ModAction lock rendered for %v, want the root", got)
	}
	late := w.reply(ann, root.IRI, "too late")
	if err := w.submit(ann, late); !isRefused(err) || w.hasPost(late.IRI) {
		t.Errorf("a reply into a locked thread = %v (stored %v), want refused", err, w.hasPost(late.IRI))
	}
	// A stranger may not unlock; a moderator of the community may.
	stranger := w.actor("https://x.example/users/x")
	if err := w.svc.ModerateThreadAs(w.ctx, w.in(stranger, "Undo"), root.IRI, community.ActionUnlock); !isRefused(err) {
		t.Errorf("ModerateThreadAs by a stranger = %v, want refused", err)
	}
	if err := w.svc.ModerateThreadAs(w.ctx, w.in(mod, "Undo"), root.IRI, community.ActionUnlock); err != nil {
		t.Fatal(err)
	}
	w.mustSubmit(ann, late)

	if _, err := w.svc.ModerateThread(w.ctx, root.IRI, "shout"); !isInvalid(err, "action") {
		t.Errorf("ModerateThread(shout) = %v, want InvalidError", err)
	}
	if _, err := w.svc.ModerateThread(w.ctx, root.IRI, community.ActionPin); err != nil {
		t.Fatal(err)
	}
	if pinned, err := w.svc.PinnedThreads(w.ctx, w.c); err != nil || len(pinned) != 1 {
		t.Errorf("PinnedThreads = %v, %v; want the thread", pinned, err)
	}
	th, err := w.svc.ModerateThread(w.ctx, root.IRI, community.ActionRemove)
	if err != nil || !th.Removed || th.Pinned {
		t.Fatalf("ModerateThread(remove) = %+v, %v; want removed and unpinned", th, err)
	}
	w.r.Reset()
	if _, err := w.svc.ModerateThread(w.ctx, root.IRI, community.ActionRemove); err != nil || len(w.r.Rendered()) != 0 {
		t.Errorf("removing a removed thread = %v and rendered %+v, want nothing", err, w.r.Rendered())
	}
	again := w.reply(ann, reply.IRI, "still here?")
	if err := w.submit(ann, again); !isRefused(err) || w.hasPost(again.IRI) {
		t.Errorf("a reply into a removed thread = %v, want refused", err)
	}
	edited := reply
	edited.Content = "<p>edited after removal</p>"
	if err := w.svc.Edit(w.ctx, w.c.Name, w.activity(ann, "Update", edited), edited); !isRefused(err) {
		t.Errorf("an edit in a removed thread = %v, want refused", err)
	}
	if got := w.post(reply.IRI).Content; got != "<p>I bring squash</p>" {
		t.Errorf("content after a refused edit = %q", got)
	}
	if len(w.r.Of("AnnounceActivity")) != 0 {
		t.Errorf("the removed thread announced %+v", w.r.Of("AnnounceActivity"))
	}
}

// withdrawn reports whether the activity at iri answers ErrGone.
func withdrawn(w *world, iri string) bool {
	w.t.Helper()
	_, err := w.svc.SentActivity(w.ctx, iri)
	if err != nil && !errors.Is(err, community.ErrGone) {
		w.t.Fatal(err)
	}
	return errors.Is(err, community.ErrGone)
}

func TestWithdrawingAnnounces(t *testing.T) {
	t.Parallel()
	for _, way := range []string{"the author deletes the post", "a moderator removes the post", "a moderator removes the thread", "a remote moderator deletes the post"} {
		t.Run(way, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ann := w.member("https://a.example/users/ann")
			mod := w.moderator("https://m.example/users/mo")
			bea := w.member("https://b.example/users/bea")
			n := w.note(ann, "<p>Bean varieties</p>")
			w.mustSubmit(ann, n)
			keep := w.note(bea, "<p>Another thread</p>")
			w.mustSubmit(bea, keep)
			create, _ := announced(w.r, "Create", n.IRI)
			boosts := w.r.Of("AnnounceObject")
			if len(boosts) != 2 || boosts[0].Object != n.IRI {
				t.Fatalf("boosts = %+v, want one of %s first", boosts, n.IRI)
			}
			boost := boosts[0]
			if q := w.queued(); len(q[create.Activity.IRI]) == 0 || len(q[boost.Activity.IRI]) == 0 {
				t.Fatalf("the announces were not queued: %v", q)
			}
			w.r.Reset()

			var err error
			switch way {
			case "the author deletes the post":
				err = w.svc.Delete(w.ctx, w.c.Name, w.in(ann, "Delete"), n.IRI)
			case "a moderator removes the post":
				err = w.svc.RemovePost(w.ctx, n.IRI, "admin", "off topic")
			case "a moderator removes the thread":
				_, err = w.svc.ModerateThread(w.ctx, n.IRI, community.ActionRemove)
			case "a remote moderator deletes the post":
				err = w.svc.Delete(w.ctx, w.c.Name, w.in(mod, "Delete"), n.IRI)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !withdrawn(w, create.Activity.IRI) || !withdrawn(w, boost.Activity.IRI) {
				t.Errorf("after %s, the announces are served: withdrawn %v and %v", way, withdrawn(w, create.Activity.IRI), withdrawn(w, boost.Activity.IRI))
			}
			if withdrawn(w, boosts[1].Activity.IRI) {
				t.Errorf("after %s, the boost of another thread was withdrawn", way)
			}
			undos := w.r.Of("UndoAnnounce")
			if len(undos) != 1 || undos[0].Object != boost.Activity.IRI {
				t.Fatalf("UndoAnnounce rendered %+v, want one of the boost %s", undos, boost.Activity.IRI)
			}
			q := w.queued()
			if !sameSet(q[undos[0].Activity.IRI], []string{ann.Inbox, mod.Inbox, bea.Inbox}) {
				t.Errorf("Undo{Announce} queued for %v, want every follower", q[undos[0].Activity.IRI])
			}
			if len(q[create.Activity.IRI]) != 0 || len(q[boost.Activity.IRI]) != 0 {
				t.Errorf("withdrawn announces still queued: %v, %v", q[create.Activity.IRI], q[boost.Activity.IRI])
			}
			total, listed, err := w.svc.Outbox(w.ctx, w.c, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, iri := range listed {
				if iri == create.Activity.IRI || iri == boost.Activity.IRI {
					t.Errorf("outbox of %d still lists %s", total, iri)
				}
			}
			if way != "a moderator removes the thread" && w.post(n.IRI).DeletedAt.IsZero() {
				t.Error("the post is not a tombstone")
			}
		})
	}
}

func TestOnlyTheAuthorChangesAPost(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	n := w.note(ann, "<p>mine</p>")
	w.mustSubmit(ann, n)
	forged := n
	forged.Content = "<p>not yours</p>"
	if err := w.svc.Edit(w.ctx, w.c.Name, w.activity(bea, "Update", forged), forged); !isRefused(err) {
		t.Errorf("Edit by another member = %v, want refused", err)
	}
	if err := w.svc.Delete(w.ctx, w.c.Name, w.in(bea, "Delete"), n.IRI); !isRefused(err) {
		t.Errorf("Delete by another member = %v, want refused", err)
	}
	if got := w.post(n.IRI); got.Content != "<p>mine</p>" || !got.DeletedAt.IsZero() {
		t.Errorf("post after others' Update and Delete = %+v", got)
	}
	unknown := w.note(ann, "never seen")
	if err := w.svc.Edit(w.ctx, w.c.Name, w.activity(ann, "Update", unknown), unknown); err != nil || w.hasPost(unknown.IRI) {
		t.Errorf("Edit of an unknown post = %v, want ignored", err)
	}
	mine := n
	mine.Content = "<p>mine, edited</p>"
	if err := w.svc.Edit(w.ctx, w.c.Name, w.activity(ann, "Update", mine), mine); err != nil {
		t.Fatal(err)
	}
	if got := w.post(n.IRI); got.Content != "<p>mine, edited</p>" || got.Updated.IsZero() {
		t.Errorf("post after the author's Update = %+v", got)
	}
	if _, ok := announced(w.r, "Update", n.IRI); !ok {
		t.Error("the author's Update was not announced")
	}
}

func TestLikesCountOncePerActor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	n := w.note(ann, "<p>like me</p>")
	w.mustSubmit(ann, n)
	likes := func() int {
		t.Helper()
		cs, err := w.svc.Contributions(w.ctx, ann.IRI)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, c := range cs {
			total += c.ByKind[storage.ContribLikeReceived]
		}
		return total
	}
	for i := 0; i < 2; i++ {
		if err := w.svc.Vote(w.ctx, w.c.Name, w.in(bea, "Like"), n.IRI, "like"); err != nil {
			t.Fatal(err)
		}
	}
	if got := likes(); got != 1 {
		t.Errorf("likes after two Likes by one actor = %d, want 1", got)
	}
	if err := w.svc.Vote(w.ctx, w.c.Name, w.in(bea, "Dislike"), n.IRI, "dislike"); err != nil {
		t.Fatal(err)
	}
	if got := likes(); got != 0 {
		t.Errorf("likes after the Like became a Dislike = %d, want 0", got)
	}
	if err := w.svc.Vote(w.ctx, w.c.Name, w.in(bea, "Like"), n.IRI, "like"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Unvote(w.ctx, w.c.Name, w.in(bea, "Undo"), n.IRI); err != nil {
		t.Fatal(err)
	}
	if got := likes(); got != 0 {
		t.Errorf("likes after Undo{Like} = %d, want 0", got)
	}
	if err := w.svc.Vote(w.ctx, w.c.Name, w.in(bea, "Like"), "https://a.example/unknown", "like"); err != nil {
		t.Errorf("a Like of an unknown post = %v, want ignored", err)
	}
}

func TestAnUpdateOfADeletedPostIsIgnored(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	n := w.note(ann, "<p>soon gone</p>")
	w.mustSubmit(ann, n)
	// The Delete and the Update come in the same millisecond as the post:
	// a peer that sends them at once must not bring the post back.
	if err := w.svc.Delete(w.ctx, w.c.Name, w.in(ann, "Delete"), n.IRI); err != nil {
		t.Fatal(err)
	}
	w.r.Reset()
	edited := n
	edited.Content = "<p>back again</p>"
	if err := w.svc.Edit(w.ctx, w.c.Name, w.activity(ann, "Update", edited), edited); err != nil {
		t.Fatalf("Edit of a deleted post = %v, want ignored", err)
	}
	if got := w.post(n.IRI); got.Content != "" || got.DeletedAt.IsZero() {
		t.Errorf("deleted post after an Update = %q, deleted %v; want an empty tombstone", got.Content, got.DeletedAt)
	}
	if _, ok := announced(w.r, "Update", n.IRI); ok {
		t.Error("the Update of a deleted post was announced")
	}
}

// A post deleted by its author or removed by a moderator keeps none of its
// text: not in its name, summary or content, nor in the JSON it came as,
// nor in the raw activities that brought it (its Create, its Update). An
// edit empties the raw of the activity it replaces.
// sent returns the stored body of an activity the community sent.
func (w *world) sent(iri string) string {
	w.t.Helper()
	a, err := w.st.OutboxActivityByIRI(w.ctx, iri)
	if err != nil {
		w.t.Fatal(err)
	}
	return string(a.Body)
}

func TestADeletedPostKeepsNoText(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	rawOf := func(iri string) string {
		a, err := w.st.InboxActivityByIRI(w.ctx, iri)
		if err != nil {
			t.Fatal(err)
		}
		return string(a.Raw)
	}
	for _, remove := range []bool{false, true} {
		n := w.note(ann, "<p>the secret recipe</p>")
		n.Name, n.Summary = "secret title", "secret warning"
		n.Raw, _ = json.Marshal(map[string]any{"id": n.IRI, "type": "Note", "name": n.Name, "summary": n.Summary, "content": n.Content})
		create := w.activity(ann, "Create", n)
		if err := w.svc.Submit(w.ctx, w.c.Name, community.Submission{Activity: create, Note: n}); err != nil {
			t.Fatal(err)
		}
		if got := w.post(n.IRI); !strings.Contains(string(got.Raw), "secret recipe") || !strings.Contains(rawOf(create.IRI), "secret recipe") {
			t.Fatalf("the post or its Create was stored without its text: %+v", got)
		}
		edited := n
		edited.Content = "<p>the secret recipe, improved</p>"
		update := w.activity(ann, "Update", edited)
		if err := w.svc.Edit(w.ctx, w.c.Name, update, edited); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rawOf(create.IRI), "secret") || !strings.Contains(rawOf(update.IRI), "improved") {
			t.Fatalf("after the edit the Create holds %q and the Update %q; want the Create emptied", rawOf(create.IRI), rawOf(update.IRI))
		}
		// The group's Announce of the Update embeds the new text; that of
		// the Create no longer embeds the old one but names the Create
		// (storage/embed.go).
		announces := map[string]string{}
		for _, typ := range []string{"Create", "Update"} {
			a, ok := announced(w.r, typ, n.IRI)
			if !ok {
				t.Fatalf("no Announce{%s} of the post", typ)
			}
			announces["the Announce of the "+typ] = a.Activity.IRI
		}
		if body := w.sent(announces["the Announce of the Update"]); !strings.Contains(body, "improved") {
			t.Fatalf("the Announce of the Update lacks the new text: %s", body)
		}
		var ofCreate struct {
			Object any `json:"object"`
		}
		if body := w.sent(announces["the Announce of the Create"]); strings.Contains(body, "secret") || json.Unmarshal([]byte(body), &ofCreate) != nil || ofCreate.Object != create.IRI {
			t.Fatalf("after the edit the Announce of the Create is %s; want it to name the Create, no text", body)
		}
		var err error
		if remove {
			err = w.svc.RemovePost(w.ctx, n.IRI, "admin", "off topic")
		} else {
			err = w.svc.Delete(w.ctx, w.c.Name, w.in(ann, "Delete"), n.IRI)
		}
		if err != nil {
			t.Fatal(err)
		}
		got := w.post(n.IRI)
		if got.DeletedAt.IsZero() {
			t.Fatalf("removed %v: the post is not a tombstone", remove)
		}
		for field, v := range map[string]string{"name": got.Name, "summary": got.Summary, "content": got.Content, "raw": string(got.Raw),
			"the Create's raw": rawOf(create.IRI), "the Update's raw": rawOf(update.IRI)} {
			if strings.Contains(v, "secret") {
				t.Errorf("removed %v: %s still holds %q", remove, field, v)
			}
		}
		for what, iri := range announces {
			if body := w.sent(iri); strings.Contains(body, "secret") {
				t.Errorf("removed %v: %s still holds %q", remove, what, body)
			}
		}
		w.r.Reset()
	}
}
