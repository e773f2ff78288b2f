package federation

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Renderer builds the activities communities send. It implements
// community.Renderer.
type Renderer struct {
	iris IRIs
}

// NewRenderer returns the renderer of the instance with the given IRIs.
func NewRenderer(iris IRIs) *Renderer { return &Renderer{iris: iris} }

// activityIRI makes a fresh, unguessable id under a community's actor.
func (r *Renderer) activityIRI(community string) *url.URL {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on Linux
	return r.iris.CommunityCollection(community, "activities/"+hex.EncodeToString(b[:]))
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
