package federation

import (
	"net/url"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
)

// CommunityIRI is the actor IRI of a local community.
func (r *Renderer) CommunityIRI(name string) string { return r.iris.Community(name).String() }

// FollowGroup renders Follow{object: another community} by community c.
func (r *Renderer) FollowGroup(c storage.Community, targetIRI string) (storage.OutboxActivity, error) {
	target, err := url.Parse(targetIRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	f := streams.NewActivityStreamsFollow()
	iri := r.activityIRI(c.Name)
	id := streams.NewJSONLDIdProperty()
	id.Set(iri)
	f.SetJSONLDId(id)
	ap := streams.NewActivityStreamsActorProperty()
	ap.AppendIRI(r.iris.Community(c.Name))
	f.SetActivityStreamsActor(ap)
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(target)
	f.SetActivityStreamsObject(op)
	to := streams.NewActivityStreamsToProperty()
	to.AppendIRI(target)
	f.SetActivityStreamsTo(to)
	return r.finish(f, iri, c)
}

// Share renders the Announce of an object a broker shares into community
// c. Provenance: origin is the community it comes from (AS2 origin: "the
// context from which the object was moved"), and the broker is tagged as
// a Mention and named in the summary.
func (r *Renderer) Share(c storage.Community, objectIRI, sourceIRI, brokerIRI string) (storage.OutboxActivity, error) {
	obj, err := url.Parse(objectIRI)
	if err != nil {
		return storage.OutboxActivity{}, err
	}
	a := streams.NewActivityStreamsAnnounce()
	iri := r.address(a, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(obj)
	a.SetActivityStreamsObject(op)
	summary := "Shared by " + brokerIRI
	if sourceIRI != "" {
		if src, err := url.Parse(sourceIRI); err == nil {
			origin := streams.NewActivityStreamsOriginProperty()
			origin.AppendIRI(src)
			a.SetActivityStreamsOrigin(origin)
			summary += " from " + sourceIRI
		}
	}
	if broker, err := url.Parse(brokerIRI); err == nil && broker.Scheme != "" {
		tag := streams.NewActivityStreamsTagProperty()
		m := streams.NewActivityStreamsMention()
		href := streams.NewActivityStreamsHrefProperty()
		href.Set(broker)
		m.SetActivityStreamsHref(href)
		tag.AppendActivityStreamsMention(m)
		a.SetActivityStreamsTag(tag)
	}
	sp := streams.NewActivityStreamsSummaryProperty()
	sp.AppendXMLSchemaString(summary)
	a.SetActivityStreamsSummary(sp)
	return r.finish(a, iri, c)
}
