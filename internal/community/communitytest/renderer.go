package communitytest

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// Rendered is one activity a community asked the Renderer for.
type Rendered struct {
	// Kind is the Renderer method that was called: "AnnounceActivity",
	// "Decision", "Meeting", …
	Kind string
	// Community is the name of the community that sends it ("" for the
	// instance actor's SignInNote).
	Community string
	// Object is what the activity is about: the post, thread root, actor,
	// decision, meeting, resource, wiki page or announce it names.
	Object string
	// Verb is the verb asked for ("Create", "Update"), the moderation
	// action ("pin", "lock", "remove", …), "add" or "remove" for a role,
	// "undo" for Undo{Block}, and "" when the kind says it all.
	Verb string
	// Tally is the tally a Decision was rendered with, and Closed whether
	// the decision was closed.
	Tally  storage.Tally
	Closed bool
	// Counts are the answers a Meeting was rendered with.
	Counts storage.RSVPCounts
	// Link is the sign-in link a SignInNote carries.
	Link string
	// Inner is the member's activity an AnnounceActivity embeds, as the
	// community passed it (after its rules, such as reject_media, changed
	// it).
	Inner []byte
	// Activity is what the Renderer returned.
	Activity storage.OutboxActivity
}

// String names what was rendered, for test failures.
func (x Rendered) String() string {
	return fmt.Sprintf("%s %s of %s (%s)", x.Kind, x.Verb, x.Object, x.Activity.IRI)
}

// Renderer is a community.Renderer that records what it is asked to
// render and returns plain activities with unique IRIs under Base. Its
// bodies are small JSON objects ({id, type, actor, object}), enough for
// the store and for tests, and nothing a peer would read. It is safe for
// concurrent use: the store may run a transaction on another goroutine.
type Renderer struct {
	// Base is the origin every IRI starts with.
	Base string

	mu       sync.Mutex // mu guards n, rendered, pending and fail
	n        int
	rendered []Rendered
	// pending holds Announces rendered before their thread was known, by
	// IRI: they count as rendered once InThread places them, as what the
	// real renderer renders ahead is sent only then.
	pending map[string]Rendered
	fail    map[string]error
}

var _ community.Renderer = (*Renderer)(nil)

// NewRenderer returns a Renderer whose IRIs start with base (for example
// "https://coppice.test").
func NewRenderer(base string) *Renderer {
	return &Renderer{Base: base, fail: map[string]error{}, pending: map[string]Rendered{}}
}

// Rendered returns everything rendered so far, oldest first.
func (r *Renderer) Rendered() []Rendered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Rendered(nil), r.rendered...)
}

// Of returns what was rendered by the method kind, oldest first.
func (r *Renderer) Of(kind string) []Rendered {
	var out []Rendered
	for _, x := range r.Rendered() {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

// Reset forgets what was rendered, so a test reads only what its next
// step renders.
func (r *Renderer) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rendered = nil
}

// Fail makes every later call of method kind return err (nil restores
// it), so a test can check that nothing of a failed operation is kept.
func (r *Renderer) Fail(kind string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		delete(r.fail, kind)
		return
	}
	r.fail[kind] = err
}

// CommunityIRI is the actor IRI of a local community.
func (r *Renderer) CommunityIRI(name string) string { return r.Base + "/c/" + name }

// NewIRI makes a fresh IRI in collection which of community c.
func (r *Renderer) NewIRI(c storage.Community, which string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return fmt.Sprintf("%s/%s/%d", r.CommunityIRI(c.Name), which, r.n)
}

// WikiIRI is the id of community c's wiki page slug.
func (r *Renderer) WikiIRI(c storage.Community, slug string) string {
	return r.CommunityIRI(c.Name) + "/wiki/" + slug
}

// record renders one activity of type typ and records it as x.
func (r *Renderer) record(x Rendered, typ string, object any) (storage.OutboxActivity, error) {
	return r.recordIn(x, typ, object, true)
}

// recordIn is record; with placed false, x waits in pending for InThread.
func (r *Renderer) recordIn(x Rendered, typ string, object any, placed bool) (storage.OutboxActivity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[x.Kind]; err != nil {
		return storage.OutboxActivity{}, err
	}
	r.n++
	actor := r.Base + "/actor"
	if x.Community != "" {
		actor = r.CommunityIRI(x.Community)
	}
	iri := fmt.Sprintf("%s/activities/%d", actor, r.n)
	body, err := json.Marshal(map[string]any{"id": iri, "type": typ, "actor": actor, "object": object})
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	x.Activity = storage.OutboxActivity{IRI: iri, Type: typ, KeyID: actor + "#main-key", Body: body}
	if !placed {
		r.pending[iri] = x
		return x.Activity, nil
	}
	r.rendered = append(r.rendered, x)
	return x.Activity, nil
}

// AcceptFollow records Accept{Follow}.
func (r *Renderer) AcceptFollow(c storage.Community, f storage.Follow) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "AcceptFollow", Community: c.Name, Object: f.ActorIRI}, "Accept", f.FollowIRI)
}

// RejectFollow records Reject{Follow}.
func (r *Renderer) RejectFollow(c storage.Community, f storage.Follow) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "RejectFollow", Community: c.Name, Object: f.ActorIRI}, "Reject", f.FollowIRI)
}

// AnnounceActivity records Announce{activity}; the activity must be JSON,
// as the real renderer requires.
func (r *Renderer) AnnounceActivity(c storage.Community, th storage.Thread, activity []byte) (storage.OutboxActivity, error) {
	if !json.Valid(activity) {
		return storage.OutboxActivity{}, fmt.Errorf("announce: the activity is not JSON")
	}
	inner := append([]byte(nil), activity...)
	return r.recordIn(Rendered{Kind: "AnnounceActivity", Community: c.Name, Object: th.RootIRI, Inner: inner}, "Announce", json.RawMessage(inner), th.ID != 0)
}

// AnnounceObject records Announce{object}, the boost.
func (r *Renderer) AnnounceObject(c storage.Community, th storage.Thread, objectIRI string) (storage.OutboxActivity, error) {
	return r.recordIn(Rendered{Kind: "AnnounceObject", Community: c.Name, Object: objectIRI}, "Announce", objectIRI, th.ID != 0)
}

// InThread records an Announce rendered before its thread was known, now
// in thread th (an AnnounceActivity's Object becomes the thread's root).
func (r *Renderer) InThread(a storage.OutboxActivity, c storage.Community, th storage.Thread) storage.OutboxActivity {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.pending[a.IRI]
	if !ok {
		return a
	}
	delete(r.pending, a.IRI)
	if x.Kind == "AnnounceActivity" {
		x.Object = th.RootIRI
	}
	r.rendered = append(r.rendered, x)
	return a
}

// UndoAnnounce records Undo{Announce}; Object is the announce's IRI.
func (r *Renderer) UndoAnnounce(c storage.Community, th storage.Thread, announce storage.OutboxActivity) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "UndoAnnounce", Community: c.Name, Object: announce.IRI}, "Undo", json.RawMessage(announce.Body))
}

// WikiArticle records Create or Update of a wiki page; Object is the
// page's IRI.
func (r *Renderer) WikiArticle(c storage.Community, page storage.WikiPage, rev storage.WikiRevision, verb, contributor string) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "WikiArticle", Community: c.Name, Object: page.IRI, Verb: verb}, verb, page.IRI)
}

// Decision records Create or Update of a decision's Question.
func (r *Renderer) Decision(c storage.Community, d storage.Decision, t storage.Tally, verb string) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "Decision", Community: c.Name, Object: d.IRI, Verb: verb, Tally: t, Closed: !d.ClosedAt.IsZero()}, verb, d.IRI)
}

// ModAction records a moderator's action on a thread; Object is the
// thread's root and Verb the action.
func (r *Renderer) ModAction(c storage.Community, th storage.Thread, action string) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "ModAction", Community: c.Name, Object: th.RootIRI, Verb: action}, action, th.RootIRI)
}

// ResourcePublished records Create and Add of a resource: two activities.
func (r *Renderer) ResourcePublished(c storage.Community, res storage.Resource) ([]storage.OutboxActivity, error) {
	create, err := r.record(Rendered{Kind: "ResourcePublished", Community: c.Name, Object: res.IRI, Verb: "Create"}, "Create", res.IRI)
	if err != nil {
		return nil, err
	}
	add, err := r.record(Rendered{Kind: "ResourcePublished", Community: c.Name, Object: res.IRI, Verb: "Add"}, "Add", res.IRI)
	if err != nil {
		return nil, err
	}
	return []storage.OutboxActivity{create, add}, nil
}

// ResourceRemoved records Remove of a resource.
func (r *Renderer) ResourceRemoved(c storage.Community, res storage.Resource) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "ResourceRemoved", Community: c.Name, Object: res.IRI}, "Remove", res.IRI)
}

// Meeting records Create or Update of a meeting's Event and of its poll:
// two activities, the Event's (Object the meeting IRI) then the poll's
// (Object its poll IRI).
func (r *Renderer) Meeting(c storage.Community, m storage.Meeting, counts storage.RSVPCounts, verb string) ([]storage.OutboxActivity, error) {
	ev, err := r.record(Rendered{Kind: "Meeting", Community: c.Name, Object: m.IRI, Verb: verb, Counts: counts}, verb, m.IRI)
	if err != nil {
		return nil, err
	}
	poll, err := r.record(Rendered{Kind: "Meeting", Community: c.Name, Object: m.PollIRI, Verb: verb, Counts: counts}, verb, m.PollIRI)
	if err != nil {
		return nil, err
	}
	return []storage.OutboxActivity{ev, poll}, nil
}

// RoleChange records Add ("add") or Remove ("remove") of an actor on the
// moderators collection.
func (r *Renderer) RoleChange(c storage.Community, actorIRI string, add bool) (storage.OutboxActivity, error) {
	verb, typ := "remove", "Remove"
	if add {
		verb, typ = "add", "Add"
	}
	return r.record(Rendered{Kind: "RoleChange", Community: c.Name, Object: actorIRI, Verb: verb}, typ, actorIRI)
}

// Block records Block of an actor, or its Undo (Verb "undo").
func (r *Renderer) Block(c storage.Community, actorIRI, reason string, undo bool) (storage.OutboxActivity, error) {
	if undo {
		return r.record(Rendered{Kind: "Block", Community: c.Name, Object: actorIRI, Verb: "undo"}, "Undo", actorIRI)
	}
	return r.record(Rendered{Kind: "Block", Community: c.Name, Object: actorIRI}, "Block", actorIRI)
}

// RemovePost records the community's Delete of a post.
func (r *Renderer) RemovePost(c storage.Community, th storage.Thread, postIRI, reason string) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "RemovePost", Community: c.Name, Object: postIRI}, "Delete", postIRI)
}

// FollowGroup records a community's Follow of another community.
func (r *Renderer) FollowGroup(c storage.Community, targetIRI string) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "FollowGroup", Community: c.Name, Object: targetIRI}, "Follow", targetIRI)
}

// Share records a community's Announce of a shared object.
func (r *Renderer) Share(c storage.Community, objectIRI, sourceIRI, brokerIRI string) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "Share", Community: c.Name, Object: objectIRI}, "Announce", objectIRI)
}

// Flag records the forward of a report; Object is its first object.
func (r *Renderer) Flag(c storage.Community, objects []string, reason string) (storage.OutboxActivity, error) {
	var first string
	if len(objects) > 0 {
		first = objects[0]
	}
	return r.record(Rendered{Kind: "Flag", Community: c.Name, Object: first}, "Flag", objects)
}

// UpdateGroup records Update{Group}; Object is the community's IRI.
func (r *Renderer) UpdateGroup(c storage.Community) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "UpdateGroup", Community: c.Name, Object: r.CommunityIRI(c.Name)}, "Update", r.CommunityIRI(c.Name))
}

// SignInNote records the instance actor's direct message holding a
// sign-in link; Object is the recipient.
func (r *Renderer) SignInNote(to storage.Actor, handle, link, siteName string, ttl time.Duration) (storage.OutboxActivity, error) {
	return r.record(Rendered{Kind: "SignInNote", Object: to.IRI, Link: link}, "Create", link)
}
