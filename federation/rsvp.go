package federation

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// rsvpAnswer maps an answering activity to an RSVP answer ("" removes it).
func rsvpAnswer(typ string) string {
	switch typ {
	case "Join", "Accept":
		return storage.RSVPGoing
	case "TentativeAccept":
		return storage.RSVPMaybe
	case "Reject":
		return storage.RSVPDeclined
	}
	return "" // Leave
}

// resourcesTarget reports whether v names the resources collection of one
// of our communities.
func (h *Handler) resourcesTarget(v any) (string, bool) {
	s, ok := singleIRI(v)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	path, ok := cutSuffix(u.Path, "/resources")
	if !ok {
		return "", false
	}
	u.Path = path
	return h.iris.CommunityName(u)
}

// proposeAdded handles Mobilizon's Add of a resource to a community's
// collection: a proposal with the resource's link.
func (h *Handler) proposeAdded(ctx context.Context, name string, act activity, in community.Incoming) error {
	obj, ok := act.object.(map[string]any)
	if !ok {
		return reject(http.StatusBadRequest, "Add of a resource must embed it")
	}
	id, _ := obj["id"].(string)
	idURL, err := checkHTTPURL(id)
	if err != nil || !sameOrigin(idURL, act.id) {
		return reject(http.StatusForbidden, "resource id is not on the actor's host")
	}
	link, _ := singleIRI(obj["url"])
	if link == "" {
		link = id
	}
	if _, err := checkHTTPURL(link); err != nil {
		return reject(http.StatusBadRequest, "resource has no http(s) url")
	}
	title, _ := obj["name"].(string)
	summary, _ := obj["summary"].(string)
	n := community.Note{IRI: id, Type: "Document", AuthorIRI: act.actor, Name: title, Content: summary, Public: true}
	return h.community.Propose(ctx, name, in, n, link)
}

var (
	anchorRE = regexp.MustCompile(`(?is)<a\s[^>]*>`)
	hrefRE   = regexp.MustCompile(`(?is)\bhref\s*=\s*"([^"]+)"`)
	classRE  = regexp.MustCompile(`(?is)\b(class\s*=\s*"[^"]*\b(mention|hashtag)\b[^"]*"|rel\s*=\s*"[^"]*\btag\b[^"]*")`)
	resTagRE = regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}_])#resource\b`)
)

// resourceProposal reports whether a post proposes a resource (it carries
// #resource) and returns the first link in it that is not a mention or a
// hashtag.
func resourceProposal(n community.Note) (string, bool) {
	text := anchorRE.ReplaceAllStringFunc(n.Content, func(a string) string {
		if classRE.MatchString(a) && strings.Contains(strings.ToLower(a), "/tags/resource") {
			return " #resource "
		}
		return a
	})
	if !resTagRE.MatchString(text) && !resTagRE.MatchString(stripTags(n.Content)) {
		return "", false
	}
	for _, a := range anchorRE.FindAllString(n.Content, -1) {
		if classRE.MatchString(a) {
			continue
		}
		if m := hrefRE.FindStringSubmatch(a); m != nil {
			if _, err := checkHTTPURL(m[1]); err == nil {
				return m[1], true
			}
		}
	}
	if n.URL != "" && n.URL != n.IRI {
		return n.URL, true
	}
	return "", false
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return tagRE.ReplaceAllString(s, " ") }
