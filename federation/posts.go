package federation

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
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

// embeddedObject returns the object of an activity as a streams type and
// its JSON. An object given only by IRI is fetched from its origin.
func (h *Handler) embeddedObject(ctx context.Context, act activity) (objectLike, []byte, []string, error) {
	var raw []byte
	var t vocab.Type
	switch o := act.object.(type) {
	case map[string]any:
		b, err := json.Marshal(o)
		if err != nil {
			return nil, nil, nil, reject(http.StatusBadRequest, "object is not JSON")
		}
		raw = b
		// The object was decoded with the activity: resolve that copy
		// rather than decode its JSON once more (issue 13). toType adds an
		// @context, so it gets a copy of its own.
		if t, err = toType(ctx, maps.Clone(o)); err != nil {
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
		if t, err = parseAS(ctx, raw); err != nil {
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

// create handles Create of a post. A post lives in one community: the one
// of the thread it replies into, else the first community it names, else
// the community whose inbox received it.
func (h *Handler) create(ctx context.Context, pathName string, act activity, in community.Incoming) error {
	n, audience, ok, err := h.readNote(ctx, act)
	if err != nil {
		return err
	}
	if !ok {
		return h.community.Record(ctx, 0, in) // an object type we do not host
	}
	// A vote in a meeting's poll (Mastodon sends a Note named after the
	// option, replying to the Question, addressed to its author only).
	if n.InReplyTo != "" && n.Name != "" {
		// A vote in a community's decision, the same way.
		if h.community.IsDecision(ctx, n.InReplyTo) {
			return h.community.VoteDecision(ctx, community.Member(in.Actor.IRI), in, n.InReplyTo, []string{n.Name})
		}
		if mv, err := h.community.Meeting(ctx, n.InReplyTo); err == nil && n.InReplyTo == mv.Meeting.PollIRI {
			answer, ok := PollAnswer(n.Name)
			if !ok {
				return reject(http.StatusBadRequest, "not an option of the poll")
			}
			return h.community.RSVP(ctx, in, mv.Meeting.IRI, answer)
		}
	}
	addressed := h.addressedCommunities(audience)
	var name string
	var ancestors []community.Note
	if n.InReplyTo != "" {
		if c, err := h.community.PostCommunity(ctx, n.InReplyTo); err == nil {
			name = c
		} else if errors.Is(err, community.ErrNotFound) {
			ancestors = h.fetchAncestors(ctx, n)
			for _, a := range ancestors {
				if c, err := h.community.PostCommunity(ctx, a.InReplyTo); err == nil {
					name = c
					break
				}
			}
		}
	}
	if name == "" && len(addressed) > 0 {
		name = addressed[0]
	}
	if name == "" {
		name = pathName
	}
	if name == "" {
		return h.community.Record(ctx, 0, in) // not for any community here
	}
	n.ToCommunity = contains(addressed, name)
	if link, ok := resourceProposal(n); ok && n.InReplyTo == "" && n.ToCommunity && n.Public {
		return h.community.Propose(ctx, name, in, n, link)
	}
	return h.community.Submit(ctx, name, community.Submission{Activity: in, Note: n, Ancestors: ancestors})
}

// update handles an author's Update of a post.
func (h *Handler) update(ctx context.Context, pathName string, act activity, in community.Incoming) error {
	n, _, ok, err := h.readNote(ctx, act)
	if err != nil {
		return err
	}
	if !ok {
		return h.community.Record(ctx, 0, in)
	}
	name, err := h.community.PostCommunity(ctx, n.IRI)
	if errors.Is(err, community.ErrNotFound) {
		return h.community.Record(ctx, 0, in) // GRP-09: never announced, ignored
	}
	if err != nil {
		return err
	}
	return h.community.Edit(ctx, name, in, n)
}

// delete handles an author's Delete of a post (object IRI or Tombstone).
func (h *Handler) delete(ctx context.Context, act activity, in community.Incoming) error {
	obj, ok := singleIRI(act.object)
	if !ok {
		return reject(http.StatusBadRequest, "object must be one IRI")
	}
	name, err := h.community.PostCommunity(ctx, obj)
	if errors.Is(err, community.ErrNotFound) {
		return h.community.Record(ctx, 0, in)
	}
	if err != nil {
		return err
	}
	return h.community.Delete(ctx, name, in, obj)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
