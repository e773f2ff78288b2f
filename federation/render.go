package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Renderer builds the activities communities send. It implements
// community.Renderer.
type Renderer struct {
	iris IRIs

	mu sync.Mutex
	// announces holds, per community name, the envelope of an Announce
	// built with streams and addressed by address; mu guards it. Every post is announced inside the write
	// transaction, where building the same envelope with streams again
	// cost ~0.1 ms per Announce (issue 13).
	announces map[string]envelope
}

// NewRenderer returns the renderer of the instance with the given IRIs.
func NewRenderer(iris IRIs) *Renderer {
	return &Renderer{iris: iris, announces: map[string]envelope{}}
}

// activityIRI makes a fresh, unguessable id under a community's actor:
// 56 bits of the time in microseconds, then 64 random bits. Ids made
// later sort after those made before, so a new outbox row's entry in the
// unique index on iri lands on the index's last page, which the other
// rows of the same batch are writing too, not on a random page of a
// million-row index (issue 13: two pages fewer written per post at
// 1.4 million posts). The random part keeps them unguessable.
func (r *Renderer) activityIRI(community string) *url.URL {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMicro()))
	_, _ = rand.Read(b[8:]) // crypto/rand does not fail on Linux
	return r.iris.CommunityCollection(community, "activities/"+hex.EncodeToString(b[1:]))
}

type activityLike interface {
	vocab.Type
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsActor(vocab.ActivityStreamsActorProperty)
	SetActivityStreamsObject(vocab.ActivityStreamsObjectProperty)
	SetActivityStreamsTo(vocab.ActivityStreamsToProperty)
}

// followOf rebuilds the Follow a peer sent, to embed it in Accept and
// Reject: Mastodon and Lemmy look the request up by its id, and some peers
// need the actor and object as well.
func followOf(f storage.Follow, community *url.URL) (vocab.ActivityStreamsFollow, error) {
	follow := streams.NewActivityStreamsFollow()
	fid, err := url.Parse(f.FollowIRI)
	if err != nil {
		return nil, err
	}
	actor, err := url.Parse(f.ActorIRI)
	if err != nil {
		return nil, err
	}
	id := streams.NewJSONLDIdProperty()
	id.Set(fid)
	follow.SetJSONLDId(id)
	ap := streams.NewActivityStreamsActorProperty()
	ap.AppendIRI(actor)
	follow.SetActivityStreamsActor(ap)
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(community)
	follow.SetActivityStreamsObject(op)
	return follow, nil
}

func (r *Renderer) respondToFollow(t activityLike, c storage.Community, f storage.Follow) (storage.OutboxActivity, error) {
	community := r.iris.Community(c.Name)
	follow, err := followOf(f, community)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	iri := r.activityIRI(c.Name)
	id := streams.NewJSONLDIdProperty()
	id.Set(iri)
	t.SetJSONLDId(id)
	ap := streams.NewActivityStreamsActorProperty()
	ap.AppendIRI(community)
	t.SetActivityStreamsActor(ap)
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendActivityStreamsFollow(follow)
	t.SetActivityStreamsObject(op)
	to := streams.NewActivityStreamsToProperty()
	to.AppendIRI(follow.GetActivityStreamsActor().At(0).GetIRI())
	t.SetActivityStreamsTo(to)
	body, err := Marshal(t)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	return storage.OutboxActivity{IRI: iri.String(), Type: t.GetTypeName(), KeyID: r.iris.CommunityKey(c.Name).String(), Body: body}, nil
}

// AcceptFollow renders Accept{Follow}.
func (r *Renderer) AcceptFollow(c storage.Community, f storage.Follow) (storage.OutboxActivity, error) {
	return r.respondToFollow(streams.NewActivityStreamsAccept(), c, f)
}

// RejectFollow renders Reject{Follow}.
func (r *Renderer) RejectFollow(c storage.Community, f storage.Follow) (storage.OutboxActivity, error) {
	return r.respondToFollow(streams.NewActivityStreamsReject(), c, f)
}

// ThreadIRI is the id of a thread: the FEP-7888 context collection of its
// posts, and its page for browsers.
func (i IRIs) ThreadIRI(community string, threadID int64) *url.URL {
	return i.CommunityCollection(community, "threads/"+itoa(int(threadID)))
}

type announceLike interface {
	activityLike
	SetActivityStreamsCc(vocab.ActivityStreamsCcProperty)
	SetActivityStreamsContext(vocab.ActivityStreamsContextProperty)
	SetActivityStreamsAudience(vocab.ActivityStreamsAudienceProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
}

// address fills what every activity a community sends to its followers
// carries: id, actor, public addressing with the followers in cc, the
// thread as context (FEP-7888) and the community as audience (FEP-1b12).
func (r *Renderer) address(t announceLike, c storage.Community, th storage.Thread) *url.URL {
	community := r.iris.Community(c.Name)
	iri := r.activityIRI(c.Name)
	id := streams.NewJSONLDIdProperty()
	id.Set(iri)
	t.SetJSONLDId(id)
	ap := streams.NewActivityStreamsActorProperty()
	ap.AppendIRI(community)
	t.SetActivityStreamsActor(ap)
	to := streams.NewActivityStreamsToProperty()
	to.AppendIRI(mustParse(nsPublic))
	t.SetActivityStreamsTo(to)
	cc := streams.NewActivityStreamsCcProperty()
	cc.AppendIRI(r.iris.CommunityCollection(c.Name, "followers"))
	t.SetActivityStreamsCc(cc)
	if th.ID != 0 {
		ctxp := streams.NewActivityStreamsContextProperty()
		ctxp.AppendIRI(r.iris.ThreadIRI(c.Name, th.ID))
		t.SetActivityStreamsContext(ctxp)
	}
	aud := streams.NewActivityStreamsAudienceProperty()
	aud.AppendIRI(community)
	t.SetActivityStreamsAudience(aud)
	return iri
}

func (r *Renderer) finish(t vocab.Type, iri *url.URL, c storage.Community) (storage.OutboxActivity, error) {
	body, err := Marshal(t)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	return storage.OutboxActivity{IRI: iri.String(), Type: t.GetTypeName(), KeyID: r.iris.CommunityKey(c.Name).String(), Body: body}, nil
}

// announce returns the envelope of community c's Announces (built with
// streams on first use), a fresh id, and the context of thread th.
func (r *Renderer) announce(c storage.Community, th storage.Thread) (envelope, *url.URL, string, error) {
	r.mu.Lock()
	e, ok := r.announces[c.Name]
	r.mu.Unlock()
	if !ok {
		a := streams.NewActivityStreamsAnnounce()
		r.address(a, c, storage.Thread{})
		m, err := serialize(a)
		if err != nil {
			return nil, nil, "", fmt.Errorf("announce: %w", err)
		}
		if e, err = newEnvelope(m); err != nil {
			return nil, nil, "", err
		}
		r.mu.Lock()
		r.announces[c.Name] = e
		r.mu.Unlock()
	}
	context := threadPending
	if th.ID != 0 {
		context = r.iris.ThreadIRI(c.Name, th.ID).String()
	}
	return e, r.activityIRI(c.Name), context, nil
}

// threadPending is the context of an Announce rendered before its thread
// is known (thread ID 0): community.Submit renders a post's Announces
// before the write transaction that finds or makes the thread, so the one
// writer does not wait on JSON (issue 13), and InThread then puts the
// thread in. Under .invalid (RFC 2606), it is never a real IRI.
const threadPending = "https://thread.invalid/pending"

// pendingKey is how threadPending shows in a rendered Announce. The
// envelope's "context" key sorts before "object" (objectKey) in
// json.Marshal's output, and no key before them holds an "object".
var pendingKey, objectKey = []byte(`"context":"` + threadPending + `"`), []byte(`"object":`)

// InThread puts thread th in an Announce rendered with thread ID 0 (with
// th.ID 0 too, it leaves the Announce without a context). An Announce
// rendered in a thread is returned as it is.
func (r *Renderer) InThread(a storage.OutboxActivity, c storage.Community, th storage.Thread) storage.OutboxActivity {
	// Only the envelope's own keys, before the object, are looked at: an
	// embedded activity may hold anything.
	head := a.Body
	if j := bytes.Index(head, objectKey); j >= 0 {
		head = head[:j]
	}
	i := bytes.Index(head, pendingKey)
	if i < 0 {
		return a
	}
	var repl []byte
	if th.ID != 0 {
		iri, _ := json.Marshal(r.iris.ThreadIRI(c.Name, th.ID).String())
		repl = append([]byte(`"context":`), iri...)
	}
	end := i + len(pendingKey)
	if th.ID == 0 && end < len(a.Body) && a.Body[end] == ',' {
		end++ // no thread: drop the key and its comma
	}
	body := make([]byte, 0, len(a.Body)+len(repl))
	body = append(append(append(body, a.Body[:i]...), repl...), a.Body[end:]...)
	a.Body = body
	return a
}

// AnnounceActivity renders Announce{activity} in thread th (0: not known
// yet, see InThread), the member's activity
// embedded as received (FEP-1b12), for group-aware peers: compacted,
// without its own @context (the Announce's covers it), not re-built with
// streams. It was parsed and checked on the way in, and a second round
// trip through the vocabulary cost a third of the write transaction
// under load (issue 13).
func (r *Renderer) AnnounceActivity(c storage.Community, th storage.Thread, activity []byte) (storage.OutboxActivity, error) {
	inner, err := withoutContext(activity)
	if err != nil {
		return storage.OutboxActivity{}, errors.New("announce: the activity is not a JSON object")
	}
	e, iri, context, err := r.announce(c, th)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	return r.announceOf(c, iri, e.render(iri.String(), context, inner)), nil
}

// AnnounceObject renders Announce{object IRI}: the boost Mastodon,
// GoToSocial, Akkoma and Misskey show in their timelines.
func (r *Renderer) AnnounceObject(c storage.Community, th storage.Thread, objectIRI string) (storage.OutboxActivity, error) {
	obj, err := url.Parse(objectIRI)
	if err != nil {
		return storage.OutboxActivity{}, fmt.Errorf("announce %q: %w", objectIRI, err)
	}
	e, iri, context, err := r.announce(c, th)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	object, _ := json.Marshal(obj.String())
	return r.announceOf(c, iri, e.render(iri.String(), context, object)), nil
}

func (r *Renderer) announceOf(c storage.Community, iri *url.URL, body []byte) storage.OutboxActivity {
	return storage.OutboxActivity{IRI: iri.String(), Type: "Announce", KeyID: r.iris.CommunityKey(c.Name).String(), Body: body}
}

// UndoAnnounce renders Undo{Announce}: the community takes back a boost.
// The Announce is embedded as it was sent, same id: Mastodon and
// GoToSocial look the boost up by that id, and check that the Undo comes
// from the actor that announced.
func (r *Renderer) UndoAnnounce(c storage.Community, th storage.Thread, announce storage.OutboxActivity) (storage.OutboxActivity, error) {
	inner, err := parseAS(context.Background(), announce.Body)
	if err != nil {
		return storage.OutboxActivity{}, fmt.Errorf("undo %s: %w", announce.IRI, err)
	}
	u := streams.NewActivityStreamsUndo()
	iri := r.address(u, c, th)
	op := streams.NewActivityStreamsObjectProperty()
	if err := op.AppendType(inner); err != nil {
		return storage.OutboxActivity{}, fmt.Errorf("undo %s: %w", announce.IRI, err)
	}
	u.SetActivityStreamsObject(op)
	return r.finish(u, iri, c)
}

// ModAction renders a moderator's action on a thread as the community:
// Add/Remove of the root post to the featured collection (Lemmy's pin),
// Lock/Undo{Lock} (Lemmy), or Delete of the root post.
func (r *Renderer) ModAction(c storage.Community, th storage.Thread, action string) (storage.OutboxActivity, error) {
	root, err := url.Parse(th.RootIRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	featured := r.iris.CommunityCollection(c.Name, "featured")
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(root)
	target := streams.NewActivityStreamsTargetProperty()
	target.AppendIRI(featured)
	switch action {
	case "pin":
		a := streams.NewActivityStreamsAdd()
		iri := r.address(a, c, th)
		a.SetActivityStreamsObject(op)
		a.SetActivityStreamsTarget(target)
		return r.finish(a, iri, c)
	case "unpin":
		a := streams.NewActivityStreamsRemove()
		iri := r.address(a, c, th)
		a.SetActivityStreamsObject(op)
		a.SetActivityStreamsTarget(target)
		return r.finish(a, iri, c)
	case "remove":
		a := streams.NewActivityStreamsDelete()
		iri := r.address(a, c, th)
		a.SetActivityStreamsObject(op)
		return r.finish(a, iri, c)
	case "lock", "unlock":
		// streams has no Lock type: Lemmy's Lock is an extension. It is
		// built as an Activity whose type we rename, so the vocabulary
		// still writes every other property.
		lock := streams.NewActivityStreamsActivity()
		iri := r.address(lock, c, th)
		lock.SetActivityStreamsObject(op)
		m, err := serialize(lock)
		if err != nil {
			return storage.OutboxActivity{}, err
		}
		m["type"] = "Lock"
		if action == "unlock" {
			undo := streams.NewActivityStreamsUndo()
			uiri := r.address(undo, c, th)
			um, err := serialize(undo)
			if err != nil {
				return storage.OutboxActivity{}, err
			}
			delete(m, "@context")
			um["object"] = m
			return marshalActivity(um, uiri, "Undo", r.iris.CommunityKey(c.Name))
		}
		return marshalActivity(m, iri, "Lock", r.iris.CommunityKey(c.Name))
	}
	return storage.OutboxActivity{}, fmt.Errorf("unknown moderation action %q", action)
}

func marshalActivity(m map[string]any, iri *url.URL, typ string, key *url.URL) (storage.OutboxActivity, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	return storage.OutboxActivity{IRI: iri.String(), Type: typ, KeyID: key.String(), Body: body}, nil
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err) // only called with constants
	}
	return u
}
