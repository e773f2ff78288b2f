package federation

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
)

// targetURL is an activity's target when it is one IRI.
func targetURL(v any) (*url.URL, bool) {
	s, ok := singleIRI(v)
	if !ok {
		return nil, false
	}
	u, err := url.Parse(s)
	return u, err == nil
}

// resourcesTarget reports whether v names the resources collection of one
// of our communities.
func (h *Handler) resourcesTarget(v any) (string, bool) { return h.collectionTarget(v, "resources") }

// moderatorsTarget reports whether v names the moderators collection of
// one of our communities.
func (h *Handler) moderatorsTarget(v any) (string, bool) { return h.collectionTarget(v, "moderators") }

// collectionTarget returns the community whose collection which v names.
func (h *Handler) collectionTarget(v any, which string) (string, bool) {
	u, ok := targetURL(v)
	if !ok {
		return "", false
	}
	path, ok := cutSuffix(u.Path, "/"+which)
	if !ok {
		return "", false
	}
	u.Path = path
	return h.iris.CommunityName(u)
}

// featuredTarget reports whether v names the featured collection of one
// of our communities.
func (h *Handler) featuredTarget(v any) bool {
	u, ok := targetURL(v)
	if !ok {
		return false
	}
	path, ok := cutSuffix(u.Path, "/featured")
	if !ok {
		return false
	}
	u.Path = path
	_, ok = h.iris.CommunityName(u)
	return ok
}

// groupTarget returns the community a target names: its actor, or one of
// its collections (moderators, featured, followers…).
func (h *Handler) groupTarget(v any) (string, bool) {
	u, ok := targetURL(v)
	if !ok {
		return "", false
	}
	if name, ok := h.iris.CommunityName(u); ok {
		return name, true
	}
	i := strings.LastIndexByte(u.Path, '/')
	if i <= 0 {
		return "", false
	}
	u.Path = u.Path[:i]
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
