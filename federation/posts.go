package federation

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/go-fed/activity/streams/vocab"
)

func voteKind(typ string) string {
	if typ == "Dislike" {
		return "dislike"
	}
	return "like"
}

// embeddedObject returns the object of an activity as a streams type and,
// when it was fetched, its JSON. An object given only by IRI is fetched
// from its origin. An object embedded in the activity has no JSON of its
// own: the activity's raw JSON, kept in the raw log that the post's row
// points to (posts.activity_id), holds it as the peer sent it; a copy
// re-encoded from the decoded map cost a json.Marshal and ~600 bytes of
// every post (issue 13).
func (h *Handler) embeddedObject(ctx context.Context, act activity) (objectLike, []byte, []string, error) {
	var raw []byte
	var t vocab.Type
	switch o := act.object.(type) {
	case map[string]any:
		// The object was decoded with the activity: resolve that copy
		// rather than decode its JSON once more (issue 13).
		var err error
		if t, err = resolvePost(ctx, o); err != nil {
			return nil, nil, nil, reject(http.StatusBadRequest, "object: "+err.Error())
		}
	case string:
		// Some peers send Create with the object by reference: fetch it
		// from its origin, which must be the actor's (ORI-02).
		u, err := checkHTTPURL(o)
		actor, _ := url.Parse(act.actor)
		if err != nil || !sameOrigin(u, actor) {
			return nil, nil, nil, reject(http.StatusForbidden, "object is not on the actor's host")
		}
		b, _, err := h.keys.fetcher.Fetch(ctx, o)
		if err != nil {
			return nil, nil, nil, reject(http.StatusBadRequest, "cannot fetch the object")
		}
		raw = b
		if t, err = parsePost(ctx, raw); err != nil {
			return nil, nil, nil, reject(http.StatusBadRequest, "object: "+err.Error())
		}
	default:
		return nil, nil, nil, reject(http.StatusBadRequest, "object must be one object or IRI")
	}
	o, ok := t.(objectLike)
	if !ok || !isPostType(t.GetTypeName()) {
		return nil, raw, nil, nil
	}
	return o, raw, nil, nil
}

// readNote parses the post of a Create or Update and checks its origin:
// its id on the actor's host (ORI-02) and the actor as its author (ORI-01).
func (h *Handler) readNote(ctx context.Context, act activity) (community.Note, []string, bool, error) {
	o, raw, _, err := h.embeddedObject(ctx, act)
	if err != nil || o == nil {
		return community.Note{}, nil, false, err
	}
	n, audience, err := noteFromAS(o, raw, act.actor)
	if err != nil {
		return community.Note{}, nil, false, reject(http.StatusBadRequest, err.Error())
	}
	id, _ := url.Parse(n.IRI)
	if !sameOrigin(id, act.id) {
		return community.Note{}, nil, false, reject(http.StatusForbidden, "object id is not on the actor's host")
	}
	if n.AuthorIRI != act.actor {
		return community.Note{}, nil, false, reject(http.StatusForbidden, "the actor is not the object's author")
	}
	// The activity's own addressing counts too (Lemmy puts the community
	// in the Create's cc and audience).
	for _, k := range []string{"to", "cc", "audience"} {
		audience = append(audience, stringsOf(act.raw[k])...)
	}
	n.Public = isPublic(audience)
	return n, audience, true, nil
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := singleIRI(e); ok {
				out = append(out, s)
			}
		}
		return out
	case map[string]any:
		if s, ok := singleIRI(x); ok {
			return []string{s}
		}
	}
	return nil
}

// create translates a Create of a post for the community layer, which
// decides what it means (a post, a reply, a vote, a resource proposal) and
// where it goes. Federation's part is the network: the object, the
// communities of ours it names, and the missing parents, fetched from
// their origins.
func (h *Handler) create(ctx context.Context, pathName string, act activity, in community.Incoming) error {
	n, audience, ok, err := h.readNote(ctx, act)
	if err != nil {
		return err
	}
	if !ok {
		return h.community.Record(ctx, 0, in) // an object type we do not host
	}
	c := community.Created{In: in, Note: n, Addressed: h.addressedCommunities(audience), Inbox: pathName}
	// A parent of ours (a post we host, a meeting's poll, a decision) is
	// never fetched; a missing remote one is, with its own parents.
	if parent, err := url.Parse(n.InReplyTo); err == nil && n.InReplyTo != "" && !sameOrigin(parent, h.iris.base) {
		if _, err := h.community.PostCommunity(ctx, n.InReplyTo); errors.Is(err, community.ErrNotFound) {
			c.Ancestors = h.fetchAncestors(ctx, n)
		}
	}
	return h.community.Receive(ctx, c)
}

// update translates an author's Update of a post.
func (h *Handler) update(ctx context.Context, act activity, in community.Incoming) error {
	n, _, ok, err := h.readNote(ctx, act)
	if err != nil {
		return err
	}
	if !ok {
		return h.community.Record(ctx, 0, in)
	}
	return h.community.Receive(ctx, community.Edited{In: in, Note: n})
}

// delete translates a Delete of a post (object IRI or Tombstone).
func (h *Handler) delete(ctx context.Context, act activity, in community.Incoming) error {
	obj, ok := singleIRI(act.object)
	if !ok {
		return reject(http.StatusBadRequest, "object must be one IRI")
	}
	return h.community.Receive(ctx, community.Deleted{In: in, ObjectIRI: obj})
}
