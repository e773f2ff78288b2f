package federation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// isPostType reports whether a member can post an object of this type into
// a community: Mastodon's Note, Lemmy's Page, blog engines' Article, polls,
// and PeerTube's Video.
func isPostType(name string) bool {
	switch name {
	case "Note", "Page", "Article", "Question", "Video":
		return true
	}
	return false
}

// objectLike is what Note, Page, Article and Question share in streams.
type objectLike interface {
	vocab.Type
	GetActivityStreamsAttributedTo() vocab.ActivityStreamsAttributedToProperty
	GetActivityStreamsInReplyTo() vocab.ActivityStreamsInReplyToProperty
	GetActivityStreamsName() vocab.ActivityStreamsNameProperty
	GetActivityStreamsContent() vocab.ActivityStreamsContentProperty
	GetActivityStreamsSummary() vocab.ActivityStreamsSummaryProperty
	GetActivityStreamsUrl() vocab.ActivityStreamsUrlProperty
	GetActivityStreamsPublished() vocab.ActivityStreamsPublishedProperty
	GetActivityStreamsTo() vocab.ActivityStreamsToProperty
	GetActivityStreamsCc() vocab.ActivityStreamsCcProperty
	GetActivityStreamsAudience() vocab.ActivityStreamsAudienceProperty
	GetActivityStreamsTag() vocab.ActivityStreamsTagProperty
}

// iriIter is the iterator shape of streams' multi-valued properties that
// hold IRIs or objects with ids.
type iriIter interface {
	IsIRI() bool
	GetIRI() *url.URL
	GetType() vocab.Type
}

func iriOf(it iriIter) string {
	if it.IsIRI() && it.GetIRI() != nil {
		return it.GetIRI().String()
	}
	if t := it.GetType(); t != nil && t.GetJSONLDId() != nil && t.GetJSONLDId().Get() != nil {
		return t.GetJSONLDId().Get().String()
	}
	return ""
}

// postProperties are the properties of a post that noteFromAS reads.
var postProperties = [...]string{
	"@context", "id", "type", "attributedTo", "inReplyTo",
	"name", "nameMap", "content", "contentMap", "summary", "summaryMap",
	"url", "published", "to", "cc", "audience",
}

// resolvePost resolves a post object with streams for noteFromAS: streams
// is given only the properties noteFromAS reads, and of the tags only
// the Mentions, each resolved on its own. Reading a tag list, streams
// tries the vocabulary's types one after the other for every tag and
// builds an error for each miss (a Mention is the 34th try); with one
// Mention that was 6% of the inbox's CPU at BM-1 (issue 13), and a
// Mastodon post's hashtags, emoji, attachments and replies collection,
// none of which noteFromAS reads, cost more. m is not changed.
func resolvePost(ctx context.Context, m map[string]any) (vocab.Type, error) {
	p := make(map[string]any, len(postProperties))
	for _, k := range postProperties {
		if v, ok := m[k]; ok {
			p[k] = v
		}
	}
	t, err := toType(ctx, p)
	if err != nil {
		return nil, err
	}
	if o, ok := t.(interface {
		SetActivityStreamsTag(vocab.ActivityStreamsTagProperty)
	}); ok {
		if tags := mentions(ctx, m["tag"], p["@context"]); tags != nil {
			o.SetActivityStreamsTag(tags)
		}
	}
	return t, nil
}

// parsePost decodes and resolves a post object (resolvePost).
func parsePost(ctx context.Context, body []byte) (vocab.Type, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	return resolvePost(ctx, m)
}

// mentions resolves the Mentions of a post's tag value (one tag or a
// list), each with the post's @context; other tags are left out.
func mentions(ctx context.Context, tag, jsonldContext any) vocab.ActivityStreamsTagProperty {
	list, ok := tag.([]any)
	if !ok {
		list = []any{tag}
	}
	var p vocab.ActivityStreamsTagProperty
	for _, v := range list {
		m, ok := v.(map[string]any)
		if !ok || !mentionTyped(m["type"]) {
			continue
		}
		m = maps.Clone(m)
		m["@context"] = jsonldContext
		t, err := streams.ToType(ctx, m)
		mention, ok := t.(vocab.ActivityStreamsMention)
		if err != nil || !ok {
			continue
		}
		if p == nil {
			p = streams.NewActivityStreamsTagProperty()
		}
		p.AppendActivityStreamsMention(mention)
	}
	return p
}

// mentionTyped reports whether a type value may name Mention (plain,
// prefixed or in a list), the only tags streams is asked to resolve.
func mentionTyped(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.HasSuffix(x, "Mention")
	case []any:
		return slices.ContainsFunc(x, mentionTyped)
	}
	return false
}

// noteFromAS reads a post object. raw is the object's JSON for audit;
// actorIRI is the actor of the activity that carried it ("" for a post we
// fetched), which picks the author when attributedTo names several.
func noteFromAS(t vocab.Type, raw []byte, actorIRI string) (community.Note, []string, error) {
	o, ok := t.(objectLike)
	if !ok || !isPostType(t.GetTypeName()) {
		return community.Note{}, nil, fmt.Errorf("%s is not a post type", t.GetTypeName())
	}
	id, err := httpIRI(t.GetJSONLDId())
	if err != nil {
		return community.Note{}, nil, fmt.Errorf("object id: %w", err)
	}
	n := community.Note{IRI: id.String(), Type: t.GetTypeName(), Raw: raw}
	if p := o.GetActivityStreamsAttributedTo(); p != nil {
		author, err := authorOf(p, actorIRI)
		if err != nil {
			return community.Note{}, nil, err
		}
		n.AuthorIRI = author
	}
	if p := o.GetActivityStreamsInReplyTo(); p != nil && p.Len() > 0 {
		n.InReplyTo = iriOf(p.At(0))
	}
	if p := o.GetActivityStreamsName(); p != nil && p.Len() > 0 {
		n.Name = langValue(p.At(0))
	}
	if p := o.GetActivityStreamsContent(); p != nil && p.Len() > 0 {
		n.Content = langValue(p.At(0))
	}
	if p := o.GetActivityStreamsSummary(); p != nil && p.Len() > 0 {
		n.Summary = langValue(p.At(0))
	}
	if p := o.GetActivityStreamsUrl(); p != nil {
		for it := p.Begin(); it != p.End(); it = it.Next() {
			if it.IsIRI() {
				if u, err := checkHTTPURL(it.GetIRI().String()); err == nil {
					n.URL = u.String()
					break
				}
			} else if it.IsActivityStreamsLink() {
				if h := it.GetActivityStreamsLink().GetActivityStreamsHref(); h != nil && h.Get() != nil {
					if u, err := checkHTTPURL(h.Get().String()); err == nil {
						n.URL = u.String()
						break
					}
				}
			}
		}
	}
	if p := o.GetActivityStreamsPublished(); p != nil && p.IsXMLSchemaDateTime() {
		n.Published = p.Get().UTC()
	}
	var audience []string
	if p := o.GetActivityStreamsTo(); p != nil {
		for it := p.Begin(); it != p.End(); it = it.Next() {
			audience = append(audience, iriOf(it))
		}
	}
	if p := o.GetActivityStreamsCc(); p != nil {
		for it := p.Begin(); it != p.End(); it = it.Next() {
			audience = append(audience, iriOf(it))
		}
	}
	if p := o.GetActivityStreamsAudience(); p != nil {
		for it := p.Begin(); it != p.End(); it = it.Next() {
			audience = append(audience, iriOf(it))
		}
	}
	if p := o.GetActivityStreamsTag(); p != nil {
		for it := p.Begin(); it != p.End(); it = it.Next() {
			if it.IsActivityStreamsMention() {
				if h := it.GetActivityStreamsMention().GetActivityStreamsHref(); h != nil && h.Get() != nil {
					audience = append(audience, h.Get().String())
				}
			}
		}
	}
	return n, audience, nil
}

// authorOf picks the author of a post from its attributedTo. Several
// servers name more than the author there: PeerTube videos name the account
// and its channel (a Group), Lemmy posts the community, blog engines such as
// Plume the author and the blog. The author is the entry that is the
// activity's actor; failing that, the one entry that is not a Group, or
// the one embedded Person or Service.
func authorOf(p vocab.ActivityStreamsAttributedToProperty, actorIRI string) (string, error) {
	var all, notGroups, people []string
	for it := p.Begin(); it != p.End(); it = it.Next() {
		s := iriOf(it)
		if s == "" {
			continue
		}
		all = append(all, s)
		typ := ""
		if t := it.GetType(); t != nil {
			typ = t.GetTypeName()
		}
		if typ != "Group" {
			notGroups = append(notGroups, s)
		}
		if typ == "Person" || typ == "Service" {
			people = append(people, s)
		}
	}
	for _, s := range all {
		if actorIRI != "" && s == actorIRI {
			return s, nil
		}
	}
	switch {
	case len(all) == 0:
		return "", errors.New("object has no attributedTo")
	case len(notGroups) == 1:
		return notGroups[0], nil
	case len(people) == 1:
		return people[0], nil
	case len(all) == 1:
		return all[0], nil
	}
	return "", errors.New("attributedTo names several actors and none of them is the activity's actor")
}

// langValue reads a string or the first value of a language map.
func langValue(it interface {
	IsXMLSchemaString() bool
	GetXMLSchemaString() string
	IsRDFLangString() bool
	GetRDFLangString() map[string]string
}) string {
	if it.IsXMLSchemaString() {
		return it.GetXMLSchemaString()
	}
	if it.IsRDFLangString() {
		return firstLang(it.GetRDFLangString())
	}
	return ""
}

// isPublic reports whether an audience list holds the public collection,
// in any of the spellings peers use.
func isPublic(audience []string) bool {
	for _, a := range audience {
		if a == nsPublic || a == "as:Public" || a == "Public" {
			return true
		}
	}
	return false
}

// addressedCommunities returns the names of our communities an audience
// list names: the actor, its followers collection, or a mention.
func (h *Handler) addressedCommunities(audience []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range audience {
		u, err := url.Parse(a)
		if err != nil {
			continue
		}
		if path, ok := cutSuffix(u.Path, "/followers"); ok {
			u.Path = path
		}
		if name, ok := h.iris.CommunityName(u); ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// maxAncestors bounds how far up a reply chain we fetch missing parents
// (FET-08).
const maxAncestors = 20

// fetchAncestors fetches the parents of n that we do not have, nearest
// first, until it reaches one we have, a post without parent, maxAncestors
// or a fetch that fails. Each URL is fetched at most once (FET-09).
func (h *Handler) fetchAncestors(ctx context.Context, n community.Note) []community.Note {
	var chain []community.Note
	seen := map[string]bool{n.IRI: true}
	next := n.InReplyTo
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for len(chain) < maxAncestors && next != "" && !seen[next] {
		seen[next] = true
		if _, err := h.community.PostCommunity(ctx, next); err == nil {
			break
		}
		body, _, err := h.keys.fetcher.Fetch(ctx, next)
		if err != nil {
			h.log.InfoContext(ctx, "fetch ancestor", "activity_iri", next, "err", err)
			break
		}
		t, err := parsePost(ctx, body)
		if err != nil {
			break
		}
		p, audience, err := noteFromAS(t, body, "")
		if err != nil || !isPublic(audience) {
			break // a non-public parent is never shown by the community
		}
		author, err := url.Parse(p.AuthorIRI)
		id, _ := url.Parse(p.IRI)
		if err != nil || !sameOrigin(author, id) {
			break // ORI-02: a post whose author is on another host
		}
		chain = append(chain, p)
		next = p.InReplyTo
	}
	return chain
}
