package community_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/community/communitytest"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// world is one community, "seeds" (open, members post), on a fresh
// database, with a Service whose Renderer is the recording fake and whose
// clock the test moves.
type world struct {
	t   *testing.T
	ctx context.Context
	svc *community.Service
	st  *storage.Store
	clk *clock
	r   *communitytest.Renderer
	c   storage.Community
	n   int // makes activity and object IRIs unique
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st := storagetest.Open(t)
	clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	r := communitytest.NewRenderer("https://coppice.test")
	svc := community.New(st, clk.now, slog.New(slog.DiscardHandler), community.Options{Render: r})
	return &world{t: t, ctx: context.Background(), svc: svc, st: st, clk: clk, r: r, c: storagetest.Community(t, st, "seeds")}
}

// actor stores a remote actor at iri, with an inbox of its own.
func (w *world) actor(iri string) storage.Actor {
	w.t.Helper()
	a := storage.Actor{IRI: iri, Type: "Person", Host: storage.HostOf(iri), Inbox: iri + "/inbox",
		FetchedAt: w.clk.now(), ExpiresAt: w.clk.now().Add(24 * time.Hour)}
	if err := w.st.UpsertActor(w.ctx, a); err != nil {
		w.t.Fatal(err)
	}
	return a
}

// member makes iri an accepted follower of seeds by a Follow.
func (w *world) member(iri string) storage.Actor {
	w.t.Helper()
	a := w.actor(iri)
	if state, err := w.svc.Follow(w.ctx, w.c.Name, w.in(a, "Follow"), iri+"/follows/seeds"); err != nil || state != storage.FollowAccepted {
		w.t.Fatalf("Follow by %s = %q, %v; want accepted", iri, state, err)
	}
	return a
}

// moderator makes iri a member of seeds with the role moderator.
func (w *world) moderator(iri string) storage.Actor {
	w.t.Helper()
	a := w.member(iri)
	if err := w.svc.SetRole(w.ctx, community.Operator("test"), w.c.Name, iri, storage.RoleModerator); err != nil {
		w.t.Fatal(err)
	}
	return a
}

// ban bans iri from seeds.
func (w *world) ban(iri string) {
	w.t.Helper()
	if err := w.svc.Ban(w.ctx, community.Operator("test"), w.c.Name, iri, "spam"); err != nil {
		w.t.Fatal(err)
	}
}

// policy sets the federation policy of host.
func (w *world) policy(host string, p storage.Policy) {
	w.t.Helper()
	if err := w.svc.SetDomainPolicy(w.ctx, host, p); err != nil {
		w.t.Fatal(err)
	}
}

// in is a fresh incoming activity of type typ by a, with a raw body
// naming its id, type and actor.
func (w *world) in(a storage.Actor, typ string) community.Incoming {
	w.n++
	iri := fmt.Sprintf("%s/activities/%d", a.IRI, w.n)
	raw, _ := json.Marshal(map[string]any{"id": iri, "type": typ, "actor": a.IRI})
	return community.Incoming{IRI: iri, Type: typ, Actor: a, Raw: raw}
}

// note is a fresh public Note by a addressed to seeds.
func (w *world) note(a storage.Actor, content string) community.Note {
	w.n++
	return community.Note{IRI: fmt.Sprintf("%s/notes/%d", a.IRI, w.n), Type: "Note", AuthorIRI: a.IRI,
		Content: content, Public: true, ToCommunity: true}
}

// reply is a fresh public Note by a replying to parent.
func (w *world) reply(a storage.Actor, parent, content string) community.Note {
	n := w.note(a, content)
	n.InReplyTo, n.ToCommunity = parent, false
	return n
}

// activity is the incoming Create or Update of n by a, its raw body
// carrying the object as a peer sends it, attachments included.
func (w *world) activity(a storage.Actor, typ string, n community.Note, attachments ...string) community.Incoming {
	in := w.in(a, typ)
	obj := map[string]any{"id": n.IRI, "type": n.Type, "attributedTo": a.IRI, "content": n.Content}
	if n.InReplyTo != "" {
		obj["inReplyTo"] = n.InReplyTo
	}
	var att []any
	for _, u := range attachments {
		att = append(att, map[string]any{"type": "Image", "mediaType": "image/png", "url": u})
	}
	if att != nil {
		obj["attachment"] = att
	}
	in.Raw, _ = json.Marshal(map[string]any{"id": in.IRI, "type": typ, "actor": a.IRI, "object": obj})
	return in
}

// submit sends n by a to seeds as a Create.
func (w *world) submit(a storage.Actor, n community.Note) error {
	return w.svc.Submit(w.ctx, w.c.Name, community.Submission{Activity: w.activity(a, "Create", n), Note: n})
}

// mustSubmit submits n and fails the test if seeds refuses it.
func (w *world) mustSubmit(a storage.Actor, n community.Note) {
	w.t.Helper()
	if err := w.submit(a, n); err != nil {
		w.t.Fatalf("Submit(%s) = %v", n.IRI, err)
	}
}

// queued returns the deliveries waiting now, by activity IRI.
func (w *world) queued() map[string][]string {
	w.t.Helper()
	return communitytest.Queued(w.t, w.st, w.clk.now())
}

// objects lists the Object of what was rendered by kind (with verb, when
// verb is not "*").
func (w *world) objects(kind, verb string) []string {
	var out []string
	for _, x := range w.r.Of(kind) {
		if verb == "*" || x.Verb == verb {
			out = append(out, x.Object)
		}
	}
	return out
}

// post returns the stored post at iri, or fails.
func (w *world) post(iri string) storage.Post {
	w.t.Helper()
	p, err := w.st.PostByIRI(w.ctx, iri)
	if err != nil {
		w.t.Fatalf("post %s: %v", iri, err)
	}
	return p
}

// hasPost reports whether the post at iri is stored.
func (w *world) hasPost(iri string) bool {
	w.t.Helper()
	_, err := w.st.PostByIRI(w.ctx, iri)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		w.t.Fatal(err)
	}
	return err == nil
}

// isRefused reports whether err is a refusal by the community's rules.
func isRefused(err error) bool {
	var ref *community.RefusedError
	return errors.As(err, &ref)
}

// isInvalid reports whether err is an InvalidError naming field.
func isInvalid(err error, field string) bool {
	var inv *community.InvalidError
	return errors.As(err, &inv) && inv.Fields[field] != ""
}

// sameSet reports whether got and want hold the same strings.
func sameSet(got, want []string) bool {
	g, wt := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(wt)
	return slices.Equal(g, wt)
}
