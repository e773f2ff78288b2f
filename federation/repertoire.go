package federation

import (
	"fmt"
	"html"
	"net/url"
	"strings"

	"github.com/coppice-dev/coppice/storage"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// NewIRI makes a fresh IRI for an object of community c in collection
// which ("resources", "events").
func (r *Renderer) NewIRI(c storage.Community, which string) string {
	u := r.activityIRI(c.Name)
	u.Path = strings.Replace(u.Path, "/activities/", "/"+which+"/", 1)
	return u.String()
}

// MediaURL is where an uploaded file is served.
func (i IRIs) MediaURL(hash, ext string) *url.URL { return i.at("/media/" + hash + ext) }

type postObject interface {
	vocab.Type
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsName(vocab.ActivityStreamsNameProperty)
	SetActivityStreamsContent(vocab.ActivityStreamsContentProperty)
	SetActivityStreamsUrl(vocab.ActivityStreamsUrlProperty)
	SetActivityStreamsAttributedTo(vocab.ActivityStreamsAttributedToProperty)
	SetActivityStreamsTo(vocab.ActivityStreamsToProperty)
	SetActivityStreamsCc(vocab.ActivityStreamsCcProperty)
	SetActivityStreamsAudience(vocab.ActivityStreamsAudienceProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
	SetActivityStreamsAttachment(vocab.ActivityStreamsAttachmentProperty)
}

// publicObject sets what every object a community publishes carries.
func (r *Renderer) publicObject(o postObject, c storage.Community, iri, name, content string) error {
	id, err := url.Parse(iri)
	if err != nil {
		return err
	}
	idp := streams.NewJSONLDIdProperty()
	idp.Set(id)
	o.SetJSONLDId(idp)
	np := streams.NewActivityStreamsNameProperty()
	np.AppendXMLSchemaString(name)
	o.SetActivityStreamsName(np)
	cp := streams.NewActivityStreamsContentProperty()
	cp.AppendXMLSchemaString(content)
	o.SetActivityStreamsContent(cp)
	community := r.iris.Community(c.Name)
	ap := streams.NewActivityStreamsAttributedToProperty()
	ap.AppendIRI(community)
	o.SetActivityStreamsAttributedTo(ap)
	to := streams.NewActivityStreamsToProperty()
	to.AppendIRI(mustParse(nsPublic))
	o.SetActivityStreamsTo(to)
	cc := streams.NewActivityStreamsCcProperty()
	cc.AppendIRI(r.iris.CommunityCollection(c.Name, "followers"))
	o.SetActivityStreamsCc(cc)
	aud := streams.NewActivityStreamsAudienceProperty()
	aud.AppendIRI(community)
	o.SetActivityStreamsAudience(aud)
	return nil
}

// ResourceObject renders a resource: a Document for an uploaded file, a
// Page otherwise, so Mastodon shows its title, summary and link.
func (r *Renderer) ResourceObject(c storage.Community, res storage.Resource) (vocab.Type, error) {
	var o interface {
		postObject
		SetActivityStreamsSummary(vocab.ActivityStreamsSummaryProperty)
		SetActivityStreamsMediaType(vocab.ActivityStreamsMediaTypeProperty)
	}
	if res.FileHash != "" {
		o = streams.NewActivityStreamsDocument()
	} else {
		o = streams.NewActivityStreamsPage()
	}
	link := res.URL
	if res.FileHash != "" {
		link = r.iris.MediaURL(res.FileHash, res.FileExt).String()
	}
	var b strings.Builder
	if res.Description != "" {
		b.WriteString(summaryHTML(res.Description))
	}
	if link != "" {
		fmt.Fprintf(&b, `<p><a href="%s">%s</a></p>`, html.EscapeString(link), html.EscapeString(linkText(res, link)))
	}
	var tags []any
	for _, t := range strings.Fields(res.Tags) {
		tagURL := r.iris.Community(c.Name)
		tagURL.Path += "/search"
		tagURL.RawQuery = url.Values{"q": {t}}.Encode()
		tags = append(tags, map[string]any{"type": "Hashtag", "name": "#" + t, "href": tagURL.String()})
		fmt.Fprintf(&b, ` <a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, html.EscapeString(tagURL.String()), html.EscapeString(t))
	}
	if err := r.publicObject(o, c, res.IRI, res.Title, b.String()); err != nil {
		return nil, err
	}
	// A resource a member proposed is published by the community, which
	// credits the member (we cannot sign as them).
	if u, err := checkHTTPURL(res.ProposedBy); err == nil {
		setExt(o, termContributor, u.String())
	}
	if res.Description != "" {
		sp := streams.NewActivityStreamsSummaryProperty()
		sp.AppendXMLSchemaString(res.Description)
		o.SetActivityStreamsSummary(sp)
	}
	if link != "" {
		u, err := url.Parse(link)
		if err == nil {
			up := streams.NewActivityStreamsUrlProperty()
			up.AppendIRI(u)
			o.SetActivityStreamsUrl(up)
			att := streams.NewActivityStreamsAttachmentProperty()
			l := streams.NewActivityStreamsLink()
			href := streams.NewActivityStreamsHrefProperty()
			href.Set(u)
			l.SetActivityStreamsHref(href)
			if res.FileType != "" {
				mt := streams.NewActivityStreamsMediaTypeProperty()
				mt.Set(res.FileType)
				l.SetActivityStreamsMediaType(mt)
			}
			name := streams.NewActivityStreamsNameProperty()
			name.AppendXMLSchemaString(linkText(res, link))
			l.SetActivityStreamsName(name)
			att.AppendActivityStreamsLink(l)
			o.SetActivityStreamsAttachment(att)
		}
	}
	if res.FileType != "" {
		mt := streams.NewActivityStreamsMediaTypeProperty()
		mt.Set(res.FileType)
		o.SetActivityStreamsMediaType(mt)
	}
	if len(tags) > 0 {
		setExt(o, "tag", tags)
	}
	pub := streams.NewActivityStreamsPublishedProperty()
	pub.Set(res.PublishedAt)
	o.SetActivityStreamsPublished(pub)
	setExt(o, "context", r.iris.CommunityCollection(c.Name, "resources").String())
	setExt(o, "mz:kind", res.Kind)
	return o, nil
}

func linkText(res storage.Resource, link string) string {
	if res.FileName != "" {
		return res.FileName
	}
	return link
}

// ResourcePublished renders Create of the resource, which timelines show,
// and Add of it to the community's resources collection.
func (r *Renderer) ResourcePublished(c storage.Community, res storage.Resource) ([]storage.OutboxActivity, error) {
	obj, err := r.ResourceObject(c, res)
	if err != nil {
		return nil, err
	}
	create := streams.NewActivityStreamsCreate()
	iri := r.address(create, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	if err := op.AppendType(obj); err != nil {
		return nil, err
	}
	create.SetActivityStreamsObject(op)
	a, err := r.finish(create, iri, c)
	if err != nil {
		return nil, err
	}
	add := streams.NewActivityStreamsAdd()
	addIRI := r.address(add, c, storage.Thread{})
	aop := streams.NewActivityStreamsObjectProperty()
	aop.AppendIRI(mustParse(res.IRI))
	add.SetActivityStreamsObject(aop)
	target := streams.NewActivityStreamsTargetProperty()
	target.AppendIRI(r.iris.CommunityCollection(c.Name, "resources"))
	add.SetActivityStreamsTarget(target)
	b, err := r.finish(add, addIRI, c)
	if err != nil {
		return nil, err
	}
	return []storage.OutboxActivity{a, b}, nil
}

// ResourceRemoved renders Remove of an archived resource from the
// collection.
func (r *Renderer) ResourceRemoved(c storage.Community, res storage.Resource) (storage.OutboxActivity, error) {
	rm := streams.NewActivityStreamsRemove()
	iri := r.address(rm, c, storage.Thread{})
	op := streams.NewActivityStreamsObjectProperty()
	op.AppendIRI(mustParse(res.IRI))
	rm.SetActivityStreamsObject(op)
	target := streams.NewActivityStreamsTargetProperty()
	target.AppendIRI(r.iris.CommunityCollection(c.Name, "resources"))
	rm.SetActivityStreamsTarget(target)
	return r.finish(rm, iri, c)
}
