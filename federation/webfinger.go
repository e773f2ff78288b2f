package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coppice-dev/coppice/internal/community"
)

// maxResource bounds the WebFinger resource parameter.
const maxResource = 512

// jrd is a JSON Resource Descriptor (RFC 7033 §4.4). It is not an
// ActivityStreams document, so a plain struct is right here.
type jrd struct {
	Subject string    `json:"subject"`
	Aliases []string  `json:"aliases,omitempty"`
	Links   []jrdLink `json:"links"`
}

type jrdLink struct {
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Href     string `json:"href,omitempty"`
	Template string `json:"template,omitempty"`
}

// errMalformed marks a resource that is not a URI we can read.
var errMalformed = errors.New("malformed resource")

// parseResource reads a WebFinger resource: acct:NAME@HOST (also NAME@HOST
// and @NAME@HOST, which some clients send) or an http(s) URL. It returns
// either user and host, or a URL.
func parseResource(s string) (user, host string, u *url.URL, err error) {
	if s == "" || len(s) > maxResource || strings.ContainsAny(s, " \t\r\n") {
		return "", "", nil, errMalformed
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", "", nil, errMalformed
		}
		return "", "", u, nil
	}
	acct := strings.TrimPrefix(s, "acct:")
	acct = strings.TrimPrefix(acct, "@")
	user, host, ok := strings.Cut(acct, "@")
	// A colon in the user part is a scheme other than acct:, such as mailto:.
	if !ok || user == "" || host == "" || strings.ContainsAny(user, ":/") || strings.ContainsAny(host, "@/?#") {
		return "", "", nil, errMalformed
	}
	if un, err := url.PathUnescape(user); err == nil {
		user = un
	}
	return strings.ToLower(user), strings.ToLower(host), nil, nil
}

// WebFinger answers /.well-known/webfinger (RFC 7033) for every actor we
// publish — each community and the instance actor — by acct:NAME@HOST and
// by the actor's URL. The subject is always acct:preferredUsername@HOST and
// the self link the actor's id, so the round trip that Mastodon and
// GoToSocial check (subject ↔ self) holds whichever way they ask.
func (h *Handler) WebFinger() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		res := r.URL.Query().Get("resource")
		user, host, u, err := parseResource(res)
		if err != nil {
			return reject(http.StatusBadRequest, fmt.Sprintf("resource %q: want acct:name@host or an actor URL", truncate(res, 100)))
		}
		name, actor, err := h.webFingerActor(r.Context(), user, host, u)
		if err != nil {
			return err
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, http.StatusOK, mediaJRD, jrd{
			Subject: "acct:" + name + "@" + h.iris.Host(),
			Aliases: []string{actor},
			Links: []jrdLink{
				{Rel: "self", Type: mediaAS, Href: actor},
				{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: actor},
			},
		})
		return nil
	})
}

// webFingerActor finds the actor a WebFinger resource names: by user and
// host, or by the actor's URL. It returns the actor's preferredUsername and
// id.
func (h *Handler) webFingerActor(ctx context.Context, user, host string, u *url.URL) (string, string, error) {
	notFound := reject(http.StatusNotFound, "not found")
	var name string
	switch {
	case u != nil && sameOrigin(u, h.iris.InstanceActor()) && u.Path == h.iris.InstanceActor().Path && u.RawQuery == "":
		return InstanceActorName, h.iris.InstanceActor().String(), nil
	case u != nil:
		n, ok := h.iris.CommunityName(u)
		if !ok {
			return "", "", notFound
		}
		name = n
	case host != strings.ToLower(h.iris.Host()):
		return "", "", notFound
	case user == InstanceActorName:
		return InstanceActorName, h.iris.InstanceActor().String(), nil
	default:
		name = user
	}
	c, err := h.community.Community(ctx, name)
	if errors.Is(err, community.ErrNotFound) {
		return "", "", notFound
	}
	if err != nil {
		return "", "", err
	}
	return c.Name, h.iris.Community(c.Name).String(), nil
}

// HostMeta answers /.well-known/host-meta with the XRD that points at our
// WebFinger endpoint (RFC 6415), which older peers still ask for.
func (h *Handler) HostMeta() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		tmpl := h.iris.at("/.well-known/webfinger").String() + "?resource={uri}"
		if strings.Contains(r.Header.Get("Accept"), "json") || strings.HasSuffix(r.URL.Path, ".json") {
			writeJSON(w, http.StatusOK, mediaJRD, map[string]any{
				"links": []jrdLink{{Rel: "lrdd", Type: mediaJRD, Template: tmpl}},
			})
			return nil
		}
		w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
		_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" type="application/xrd+xml" template="%s"/>
</XRD>
`, xmlEscape(tmpl))
		return err
	})
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
