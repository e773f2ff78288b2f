package federation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/go-fed/activity/streams/vocab"
)

// postTypes are the object types a member can post into a community.
func isPostType(name string) bool {
	switch name {
	case "Note", "Page", "Article", "Question":
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

// noteFromAS reads a post object. raw is the object's JSON for audit.
func noteFromAS(t vocab.Type, raw []byte) (community.Note, []string, error) {
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
		var authors []string
		for it := p.Begin(); it != p.End(); it = it.Next() {
			// Lemmy and PeerTube also list the group in attributedTo;
			// the author is the one that is not a Group.
			if t := it.GetType(); t != nil && t.GetTypeName() == "Group" {
				continue
			}
			if s := iriOf(it); s != "" {
				authors = append(authors, s)
			}
		}
		if len(authors) != 1 {
			return community.Note{}, nil, errors.New("object must have one attributedTo")
		}
		n.AuthorIRI = authors[0]
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
		t, err := parseAS(ctx, body)
		if err != nil {
			break
		}
		p, audience, err := noteFromAS(t, body)
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
