package federation

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// WikiIRI is the id of a community's wiki page: its page for browsers, its
// Article for peers.
func (r *Renderer) WikiIRI(c storage.Community, slug string) string {
	return r.iris.CommunityCollection(c.Name, "wiki/"+slug).String()
}

// WikiObject renders a wiki page as an Article from the community: the
// current revision's HTML, updated, a link to its history, and the member
// who last edited it as contributor.
func (r *Renderer) WikiObject(c storage.Community, page storage.WikiPage, rev storage.WikiRevision, contributor string) (vocab.ActivityStreamsArticle, error) {
	a := streams.NewActivityStreamsArticle()
	if err := r.publicObject(a, c, page.IRI, page.Title, rev.HTML); err != nil {
		return nil, err
	}
	id := mustParse(page.IRI)
	history := *id
	history.Path += "/history"
	u := streams.NewActivityStreamsUrlProperty()
	u.AppendIRI(id)
	link := streams.NewActivityStreamsLink()
	href := streams.NewActivityStreamsHrefProperty()
	href.Set(&history)
	link.SetActivityStreamsHref(href)
	rel := streams.NewActivityStreamsRelProperty()
	rel.AppendRFCRfc5988("history")
	link.SetActivityStreamsRel(rel)
	mt := streams.NewActivityStreamsMediaTypeProperty()
	mt.Set("text/html")
	link.SetActivityStreamsMediaType(mt)
	u.AppendActivityStreamsLink(link)
	a.SetActivityStreamsUrl(u)
	pub := streams.NewActivityStreamsPublishedProperty()
	pub.Set(page.CreatedAt)
	a.SetActivityStreamsPublished(pub)
	if page.Revision > 1 {
		upd := streams.NewActivityStreamsUpdatedProperty()
		upd.Set(page.UpdatedAt)
		a.SetActivityStreamsUpdated(upd)
	}
	if contributor != "" {
		setExt(a, termContributor, contributor)
	}
	return a, nil
}

// WikiArticle renders Create or Update of a wiki page's Article.
func (r *Renderer) WikiArticle(c storage.Community, page storage.WikiPage, rev storage.WikiRevision, verb, contributor string) (storage.OutboxActivity, error) {
	obj, err := r.WikiObject(c, page, rev, contributor)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	var act announceLike
	if verb == "Create" {
		act = streams.NewActivityStreamsCreate()
	} else {
		act = streams.NewActivityStreamsUpdate()
	}
	iri := r.address(act, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	if err := op.AppendType(obj); err != nil {
		return storage.OutboxActivity{}, err
	}
	act.SetActivityStreamsObject(op)
	return r.finish(act, iri, c)
}

// DecisionObject renders a decision as a Question from the community:
// oneOf (or anyOf), each option with replies.totalItems, votersCount,
// endTime, and closed once it closed.
func (r *Renderer) DecisionObject(c storage.Community, d storage.Decision, t storage.Tally) (vocab.ActivityStreamsQuestion, error) {
	q := streams.NewActivityStreamsQuestion()
	content := fmt.Sprintf("<p>%s</p>", html.EscapeString(d.Question))
	if err := r.publicObject(q, c, d.IRI, d.Question, content); err != nil {
		return nil, err
	}
	options := make([]vocab.ActivityStreamsNote, len(d.Options))
	for i, o := range d.Options {
		note := streams.NewActivityStreamsNote()
		name := streams.NewActivityStreamsNameProperty()
		name.AppendXMLSchemaString(o)
		note.SetActivityStreamsName(name)
		replies := streams.NewActivityStreamsCollection()
		total := streams.NewActivityStreamsTotalItemsProperty()
		if i < len(t.Votes) {
			total.Set(t.Votes[i])
		}
		replies.SetActivityStreamsTotalItems(total)
		rp := streams.NewActivityStreamsRepliesProperty()
		rp.SetActivityStreamsCollection(replies)
		note.SetActivityStreamsReplies(rp)
		options[i] = note
	}
	if d.Multiple {
		any := streams.NewActivityStreamsAnyOfProperty()
		for _, n := range options {
			any.AppendActivityStreamsNote(n)
		}
		q.SetActivityStreamsAnyOf(any)
	} else {
		one := streams.NewActivityStreamsOneOfProperty()
		for _, n := range options {
			one.AppendActivityStreamsNote(n)
		}
		q.SetActivityStreamsOneOf(one)
	}
	end := streams.NewActivityStreamsEndTimeProperty()
	end.Set(d.ClosesAt)
	q.SetActivityStreamsEndTime(end)
	if !d.ClosedAt.IsZero() {
		closed := streams.NewActivityStreamsClosedProperty()
		closed.AppendXMLSchemaDateTime(d.ClosedAt)
		q.SetActivityStreamsClosed(closed)
	}
	pub := streams.NewActivityStreamsPublishedProperty()
	pub.Set(d.CreatedAt)
	q.SetActivityStreamsPublished(pub)
	voters := streams.NewTootVotersCountProperty()
	voters.Set(t.Voters)
	q.SetTootVotersCount(voters)
	return q, nil
}

// Decision renders Create or Update of a decision's Question.
func (r *Renderer) Decision(c storage.Community, d storage.Decision, t storage.Tally, verb string) (storage.OutboxActivity, error) {
	q, err := r.DecisionObject(c, d, t)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	var act announceLike
	if verb == "Create" {
		act = streams.NewActivityStreamsCreate()
	} else {
		act = streams.NewActivityStreamsUpdate()
	}
	iri := r.address(act, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	if err := op.AppendType(q); err != nil {
		return storage.OutboxActivity{}, err
	}
	act.SetActivityStreamsObject(op)
	return r.finish(act, iri, c)
}

// WikiPage serves a wiki page's Article (GET /c/NAME/wiki/SLUG).
func (h *Handler) WikiPage() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		v, err := h.community.WikiPage(r.Context(), pathVar(r, "name"), pathVar(r, "slug"), 0)
		if err != nil {
			return err
		}
		contributor := ""
		if u, err := url.Parse(v.Revision.Author); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			contributor = v.Revision.Author
		}
		a, err := NewRenderer(h.iris).WikiObject(v.Community, v.Page, v.Revision, contributor)
		if err != nil {
			return err
		}
		return writeAS(w, r, a)
	})
}

// Decision serves a decision's Question (GET /c/NAME/decisions/ID).
func (h *Handler) Decision() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		iri := h.iris.Base()
		iri.Path = r.URL.Path
		v, err := h.community.Decision(r.Context(), iri.String())
		if err != nil {
			return err
		}
		q, err := NewRenderer(h.iris).DecisionObject(v.Community, v.Decision, v.Tally)
		if err != nil {
			return err
		}
		return writeAS(w, r, q)
	})
}

func (h *Handler) wiki(ctx context.Context, c storage.Community, offset, limit int) (items, error) {
	total, ps, err := h.community.WikiPages(ctx, c, offset, limit)
	it := items{total: total}
	for _, p := range ps {
		if u, err := url.Parse(p.IRI); err == nil {
			it.iris = append(it.iris, u)
		}
	}
	return it, err
}
