package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// PageSize is the number of items on one collection page.
const PageSize = 50

// maxInline bounds the items written inline in small collections.
const maxInline = 1000

// maxPage bounds ?page= so a crawler cannot ask for an absurd offset.
const maxPage = 1_000_000

// items is one page of a collection: its total size and the IRIs on it.
type items struct {
	total   int
	iris    []*url.URL
	objects []vocab.Type // embedded items, written as Member objects
}

// collectionSource returns one page (offset, limit) of a community
// collection.
type collectionSource func(ctx context.Context, c storage.Community, offset, limit int) (items, error)

// communityCollections are the collections every community serves, by the
// last path element of their IRI.
func (h *Handler) communityCollections(which string) (collectionSource, bool) {
	switch which {
	case "followers":
		return h.followers, true
	case "outbox":
		return h.outbox, true
	case "discussions":
		return h.discussions, true
	case "featured":
		return h.featured, true
	case "resources":
		return h.resources, true
	case "events":
		return h.events, true
	case "wiki":
		return h.wiki, true
	case "moderators":
		return h.moderators, true
	case "following":
		return h.following, true
	case "members":
		return h.members, true
	}
	return nil, false
}

func (h *Handler) followers(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, iris, err := h.community.Followers(ctx, c, offset, limit)
	return toIRIs(total, iris), err
}

func toIRIs(total int, list []string) items {
	it := items{total: total}
	for _, s := range list {
		if u, err := url.Parse(s); err == nil {
			it.iris = append(it.iris, u)
		}
	}
	return it
}

func (h *Handler) outbox(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, iris, err := h.community.Outbox(ctx, c, offset, limit)
	return toIRIs(total, iris), err
}

// discussions lists the threads of a community, most recently active first
// (pinned ones on top), by their context collection IRI.
func (h *Handler) discussions(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, ts, err := h.community.Threads(ctx, c, offset, limit)
	it := items{total: total}
	for _, t := range ts {
		it.iris = append(it.iris, h.iris.ThreadIRI(c.Name, t.ID))
	}
	return it, err
}

// featured lists the root posts of the pinned threads (Mastodon's and
// Lemmy's featured collection).
func (h *Handler) featured(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	ts, err := h.community.PinnedThreads(ctx, c)
	if err != nil {
		return items{}, err
	}
	var roots []string
	for _, t := range ts {
		roots = append(roots, t.RootIRI)
	}
	if offset > len(roots) {
		offset = len(roots)
	}
	end := min(len(roots), offset+limit)
	return toIRIs(len(roots), roots[offset:end]), nil
}

func (h *Handler) resources(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, rs, err := h.community.Resources(ctx, c, storage.ResourcePublished, offset, limit)
	it := items{total: total}
	for _, r := range rs {
		if u, err := url.Parse(r.IRI); err == nil {
			it.iris = append(it.iris, u)
		}
	}
	return it, err
}

func (h *Handler) events(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, ms, err := h.community.Meetings(ctx, c, offset, limit)
	it := items{total: total}
	for _, m := range ms {
		if u, err := url.Parse(m.Meeting.IRI); err == nil {
			it.iris = append(it.iris, u)
		}
	}
	return it, err
}

// following lists the communities a community follows and that accepted.
func (h *Handler) following(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	rs, err := h.community.RelatedCommunities(ctx, c)
	if err != nil {
		return items{}, err
	}
	var iris []string
	for _, r := range rs {
		if r.State == "accepted" {
			iris = append(iris, r.RemoteIRI)
		}
	}
	if offset > len(iris) {
		offset = len(iris)
	}
	return toIRIs(len(iris), iris[offset:min(len(iris), offset+limit)]), nil
}

// moderators lists the IRIs of a community's owners and moderators
// (Lemmy's moderators collection, which attributedTo points at).
func (h *Handler) moderators(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	mods, err := h.community.Moderators(ctx, c)
	if err != nil {
		return items{}, err
	}
	if offset > len(mods) {
		offset = len(mods)
	}
	return toIRIs(len(mods), mods[offset:min(len(mods), offset+limit)]), nil
}

// members lists the members as Mobilizon's Member objects with a role.
func (h *Handler) members(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, ms, err := h.community.Members(ctx, c, offset, limit)
	it := items{total: total}
	for _, m := range ms {
		actor, err := url.Parse(m.ActorIRI)
		if err != nil {
			continue
		}
		o := streams.NewActivityStreamsObject()
		setExt(o, "actor", actor.String())
		setExt(o, "object", h.iris.Community(c.Name).String())
		setExt(o, "role", mobilizonRole(m.Role))
		it.objects = append(it.objects, o)
	}
	return it, err
}

// mobilizonRole maps our roles onto Mobilizon's member roles.
func mobilizonRole(role string) string {
	switch role {
	case storage.RoleOwner:
		return "administrator"
	case storage.RoleModerator:
		return "moderator"
	}
	return "member"
}

// Collection serves /c/{name}/{collection}: an OrderedCollection with
// totalItems and first, or with ?page=N one OrderedCollectionPage.
func (h *Handler) Collection() http.Handler {
	return h.serveFetch(func(w http.ResponseWriter, r *http.Request) error {
		which, name := pathVar(r, "collection"), pathVar(r, "name")
		src, ok := h.communityCollections(which)
		if !ok {
			return reject(http.StatusNotFound, "not found")
		}
		if which == "outbox" {
			return h.outboxDocument(w, r, name, src)
		}
		c, err := h.community.Community(r.Context(), name)
		if err != nil {
			return err
		}
		page, err := pageNumber(r)
		if err != nil {
			return err
		}
		body, err := h.collection(r.Context(), c, which, src, page)
		if err != nil {
			return err
		}
		return writeDocument(w, r, body)
	})
}

// outboxDocument serves the outbox of community name. The collection and
// its first page, which peers fetch with the actor, come from h.documents
// while what the outbox lists is unchanged.
func (h *Handler) outboxDocument(w http.ResponseWriter, r *http.Request, name string, src collectionSource) error {
	v, err := h.community.CommunityVersion(r.Context(), name)
	if err != nil {
		return err
	}
	page, err := pageNumber(r)
	if err != nil {
		return err
	}
	render := func() ([]byte, error) {
		c, err := h.community.Community(r.Context(), name)
		if err != nil {
			return nil, err
		}
		return h.collection(r.Context(), c, "outbox", src, page)
	}
	var body []byte
	if page <= 1 {
		body, err = h.documents.body(documentKey{community: name, name: "outbox?page=" + itoa(page)}, outboxStamp(v), render)
	} else {
		body, err = render()
	}
	if err != nil {
		return err
	}
	return writeDocument(w, r, body)
}

// collection renders page (0: the collection itself) of collection which
// of community c, whose items come from src, as JSON.
func (h *Handler) collection(ctx context.Context, c storage.Community, which string, src collectionSource, page int) ([]byte, error) {
	id := h.iris.CommunityCollection(c.Name, which)
	if page == 0 {
		if which == "moderators" || which == "featured" {
			// Small collections come with their items inline: Lemmy
			// reads the moderators and featured collections only so,
			// and Mastodon reads featured from orderedItems too.
			it, err := src(ctx, c, 0, maxInline)
			if err != nil {
				return nil, err
			}
			oc := orderedCollection(id, it.total)
			oi := streams.NewActivityStreamsOrderedItemsProperty()
			for _, u := range it.iris {
				oi.AppendIRI(u)
			}
			oc.SetActivityStreamsOrderedItems(oi)
			return Marshal(oc)
		}
		it, err := src(ctx, c, 0, 0)
		if err != nil {
			return nil, err
		}
		return Marshal(orderedCollection(id, it.total))
	}
	it, err := src(ctx, c, (page-1)*PageSize, PageSize)
	if err != nil {
		return nil, err
	}
	m, err := serialize(orderedCollectionPage(id, page, it))
	if err != nil {
		return nil, err
	}
	// streams has no Member type: embedded members are built as
	// Objects and named here (Mobilizon's vocabulary).
	if list, ok := m["orderedItems"].([]any); ok {
		for _, item := range list {
			if o, ok := item.(map[string]any); ok && o["role"] != nil {
				o["type"] = "Member"
			}
		}
	}
	return json.Marshal(m)
}

// InstanceOutbox serves the instance actor's outbox, which stays empty:
// the instance actor only signs fetches.
func (h *Handler) InstanceOutbox() http.Handler {
	return h.serveFetch(func(w http.ResponseWriter, r *http.Request) error {
		return writeAS(w, r, orderedCollection(h.iris.at("/actor/outbox"), 0))
	})
}

// pageNumber reads ?page=N; 0 means the collection itself.
func pageNumber(r *http.Request) (int, error) {
	s := r.URL.Query().Get("page")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPage {
		return 0, reject(http.StatusBadRequest, "page must be a number from 1")
	}
	return n, nil
}

func orderedCollection(id *url.URL, total int) vocab.ActivityStreamsOrderedCollection {
	c := streams.NewActivityStreamsOrderedCollection()
	idp := streams.NewJSONLDIdProperty()
	idp.Set(id)
	c.SetJSONLDId(idp)
	t := streams.NewActivityStreamsTotalItemsProperty()
	t.Set(total)
	c.SetActivityStreamsTotalItems(t)
	first := streams.NewActivityStreamsFirstProperty()
	first.SetIRI(Page(id, 1))
	c.SetActivityStreamsFirst(first)
	if total > 0 {
		last := streams.NewActivityStreamsLastProperty()
		last.SetIRI(Page(id, (total+PageSize-1)/PageSize))
		c.SetActivityStreamsLast(last)
	}
	return c
}

func orderedCollectionPage(collection *url.URL, page int, it items) vocab.ActivityStreamsOrderedCollectionPage {
	p := streams.NewActivityStreamsOrderedCollectionPage()
	idp := streams.NewJSONLDIdProperty()
	idp.Set(Page(collection, page))
	p.SetJSONLDId(idp)
	part := streams.NewActivityStreamsPartOfProperty()
	part.SetIRI(collection)
	p.SetActivityStreamsPartOf(part)
	t := streams.NewActivityStreamsTotalItemsProperty()
	t.Set(it.total)
	p.SetActivityStreamsTotalItems(t)
	oi := streams.NewActivityStreamsOrderedItemsProperty()
	for _, u := range it.iris {
		oi.AppendIRI(u)
	}
	for _, o := range it.objects {
		if err := oi.AppendType(o); err != nil {
			continue
		}
	}
	p.SetActivityStreamsOrderedItems(oi)
	if page*PageSize < it.total {
		next := streams.NewActivityStreamsNextProperty()
		next.SetIRI(Page(collection, page+1))
		p.SetActivityStreamsNext(next)
	}
	if page > 1 {
		prev := streams.NewActivityStreamsPrevProperty()
		prev.SetIRI(Page(collection, page-1))
		p.SetActivityStreamsPrev(prev)
	}
	return p
}

// Activity serves an activity a community sent, at its id.
func (h *Handler) Activity() http.Handler {
	return h.serveFetch(func(w http.ResponseWriter, r *http.Request) error {
		iri := h.iris.CommunityCollection(pathVar(r, "name"), "activities/"+pathVar(r, "id"))
		a, err := h.community.SentActivity(r.Context(), iri.String())
		if errors.Is(err, community.ErrGone) {
			// An announce of a post since deleted or removed (issue 17).
			return tombstone(w, r, iri)
		}
		if err != nil {
			return err
		}
		w.Header().Set("Vary", "Accept")
		w.Header().Set("Content-Type", responseMediaType(r))
		_, err = w.Write(a.Body)
		return err
	})
}

// Thread serves a thread's context collection (FEP-7888): every post of
// the thread in order, so peers can backfill the conversation. A removed
// thread answers 410 with a Tombstone.
func (h *Handler) Thread() http.Handler {
	return h.serveFetch(func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseInt(pathVar(r, "id"), 10, 64)
		if err != nil {
			return reject(http.StatusNotFound, "not found")
		}
		tv, err := h.community.Thread(r.Context(), pathVar(r, "name"), id)
		if err != nil {
			return err
		}
		iri := h.iris.ThreadIRI(tv.Community.Name, tv.Thread.ID)
		if tv.Thread.Removed {
			return tombstone(w, r, iri)
		}
		c := streams.NewActivityStreamsOrderedCollection()
		idp := streams.NewJSONLDIdProperty()
		idp.Set(iri)
		c.SetJSONLDId(idp)
		name := streams.NewActivityStreamsNameProperty()
		name.AppendXMLSchemaString(tv.Thread.Title)
		c.SetActivityStreamsName(name)
		attr := streams.NewActivityStreamsAttributedToProperty()
		attr.AppendIRI(h.iris.Community(tv.Community.Name))
		c.SetActivityStreamsAttributedTo(attr)
		aud := streams.NewActivityStreamsAudienceProperty()
		aud.AppendIRI(h.iris.Community(tv.Community.Name))
		c.SetActivityStreamsAudience(aud)
		total := streams.NewActivityStreamsTotalItemsProperty()
		total.Set(len(tv.Posts))
		c.SetActivityStreamsTotalItems(total)
		oi := streams.NewActivityStreamsOrderedItemsProperty()
		for _, p := range tv.Posts {
			if u, err := url.Parse(p.IRI); err == nil && p.DeletedAt.IsZero() {
				oi.AppendIRI(u)
			}
		}
		c.SetActivityStreamsOrderedItems(oi)
		return writeAS(w, r, c)
	})
}

// Object serves a community's resource, meeting Event or meeting poll at
// its id.
func (h *Handler) Object() http.Handler {
	return h.serveFetch(func(w http.ResponseWriter, r *http.Request) error {
		iri := h.iris.Base()
		iri.Path = r.URL.Path
		render := NewRenderer(h.iris)
		if res, c, err := h.community.Resource(r.Context(), iri.String()); err == nil {
			if res.State != storage.ResourcePublished {
				return tombstone(w, r, iri)
			}
			o, err := render.ResourceObject(c, res)
			if err != nil {
				return err
			}
			return writeAS(w, r, o)
		}
		mv, err := h.community.Meeting(r.Context(), iri.String())
		if err != nil {
			return err
		}
		if iri.String() == mv.Meeting.PollIRI {
			q, err := render.PollObject(mv.Community, mv.Meeting, mv.Counts)
			if err != nil {
				return err
			}
			return writeAS(w, r, q)
		}
		e, err := render.EventObject(mv.Community, mv.Meeting, mv.Counts)
		if err != nil {
			return err
		}
		return writeAS(w, r, e)
	})
}

// tombstone answers 410 with a Tombstone for something that was here.
func tombstone(w http.ResponseWriter, r *http.Request, iri *url.URL) error {
	ts := streams.NewActivityStreamsTombstone()
	idp := streams.NewJSONLDIdProperty()
	idp.Set(iri)
	ts.SetJSONLDId(idp)
	m, err := serialize(ts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusGone, responseMediaType(r), m)
	return nil
}
