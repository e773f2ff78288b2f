package federation

import (
	"net/http"
)

// nodeinfo schema namespaces (https://nodeinfo.diaspora.software/protocol).
const (
	nodeinfoRel20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
	nodeinfoRel21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
)

// NodeInfoDiscovery answers /.well-known/nodeinfo with links to the 2.1 and
// 2.0 documents. The 2.0 link comes last: GoToSocial takes the last link
// whose rel starts with the 2.x schema and then accepts only a 2.0 (or plain
// JSON) content type, so with 2.1 last it logs "non nodeinfo schema 2.0
// response" and never learns what we run.
func (h *Handler) NodeInfoDiscovery() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, mediaJSON, map[string]any{
			"links": []jrdLink{
				{Rel: nodeinfoRel21, Href: h.iris.at("/nodeinfo/2.1").String()},
				{Rel: nodeinfoRel20, Href: h.iris.at("/nodeinfo/2.0").String()},
			},
		})
		return nil
	})
}

// NodeInfo answers /nodeinfo/{version} for versions 2.0 and 2.1.
func (h *Handler) NodeInfo() http.Handler {
	return h.serve(func(w http.ResponseWriter, r *http.Request) error {
		version := pathVar(r, "version")
		if version != "2.0" && version != "2.1" {
			return reject(http.StatusNotFound, "not found")
		}
		u, err := h.community.Usage(r.Context())
		if err != nil {
			return err
		}
		software := map[string]any{"name": "coppice", "version": h.version}
		if version == "2.1" {
			software["repository"] = "https://github.com/coppice-dev/coppice"
			software["homepage"] = "https://github.com/coppice-dev/coppice"
		}
		doc := map[string]any{
			"version":           version,
			"software":          software,
			"protocols":         []string{"activitypub"},
			"services":          map[string]any{"inbound": []string{}, "outbound": []string{}},
			"openRegistrations": false,
			// Coppice has no local person accounts: members live on their
			// own servers. Communities are counted in metadata.
			"usage": map[string]any{
				"users":      map[string]int{"total": 0, "activeMonth": 0, "activeHalfyear": 0},
				"localPosts": 0,
			},
			"metadata": map[string]any{
				"nodeName":    h.iris.Host(),
				"communities": u.Communities,
				// posts members sent into the communities, all remote
				"posts": u.Posts,
			},
		}
		schema := nodeinfoRel20
		if version == "2.1" {
			schema = nodeinfoRel21
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, http.StatusOK, `application/json; profile="`+schema+`#"`, doc)
		return nil
	})
}
