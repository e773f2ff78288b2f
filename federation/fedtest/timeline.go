package fedtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
)

// Shown is a post on an instance's home timeline: the object shown and the
// Announce that brought it, by whom.
type Shown struct {
	Object   string // the post's id
	Announce string // the id of the Announce that put it there
	By       string // the actor that announced it
}

// Timeline returns the instance's home timeline: what its users would see
// from the communities they follow, after the instance applied every
// verified delivery the way the software it plays does (see GroupAware).
func (in *Instance) Timeline() []Shown {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.timeline)
}

// Shows reports whether the timeline shows the post objectIRI.
func (in *Instance) Shows(objectIRI string) bool {
	for _, s := range in.Timeline() {
		if s.Object == objectIRI {
			return true
		}
	}
	return false
}

// GroupAware makes the instance apply deliveries as Lemmy does (a
// FEP-1b12 group-aware server) instead of as Mastodon does, and report
// "lemmy" in NodeInfo.
func GroupAware() Option {
	return func(c *config) { c.groupAware, c.software = true, "lemmy" }
}

// Software makes the instance report name as its software in NodeInfo.
// Without it (or GroupAware) the instance serves no NodeInfo, as a server
// whose software is not known: it gets every Announce shape.
func Software(name string) Option { return func(c *config) { c.software = name } }

// nodeInfo answers the NodeInfo discovery document and the 2.0 document,
// when the instance has a software name.
func (in *Instance) nodeInfo(w http.ResponseWriter, r *http.Request) {
	if in.software == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/.well-known/nodeinfo" {
		_ = json.NewEncoder(w).Encode(map[string]any{"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": in.URL + "/nodeinfo/2.0"},
		}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"version": "2.0", "software": map[string]string{"name": in.software, "version": "fedtest"},
		"protocols": []string{"activitypub"}, "openRegistrations": false,
	})
}

// apply changes the home timeline for a verified activity.
//
// As Mastodon and GoToSocial: an Announce of an object (by IRI, or an
// embedded post) shows the object; an Announce of an activity is ignored;
// Undo{Announce} hides the boost when it comes from the actor that
// announced; a Delete hides a post only when it comes from the post's own
// server (a community cannot delete a member's status there).
//
// As Lemmy (GroupAware): Announce{Create} shows the post, Announce{Delete}
// and a community's own Delete hide it; an Announce of a bare object and
// Undo{Announce} are ignored.
func (in *Instance) apply(act map[string]any) {
	actor, _ := act["actor"].(string)
	typ, _ := act["type"].(string)
	id, _ := act["id"].(string)
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case typ == "Announce" && !in.groupAware:
		if obj, ok := objectID(act["object"]); ok && !isActivity(act["object"]) {
			in.show(Shown{Object: obj, Announce: id, By: actor})
		}
	case typ == "Announce" && in.groupAware:
		inner, _ := act["object"].(map[string]any)
		innerType, _ := inner["type"].(string)
		obj, ok := objectID(inner["object"])
		switch {
		case !ok:
		case innerType == "Create":
			in.show(Shown{Object: obj, Announce: id, By: actor})
		case innerType == "Delete":
			in.hide(func(s Shown) bool { return s.Object == obj })
		}
	case typ == "Undo" && !in.groupAware:
		inner, ok := act["object"].(map[string]any)
		if !ok || inner["type"] != "Announce" {
			return
		}
		announce, _ := inner["id"].(string)
		in.hide(func(s Shown) bool { return s.Announce == announce && s.By == actor })
	case typ == "Delete":
		obj, ok := objectID(act["object"])
		if !ok {
			return
		}
		if in.groupAware || sameHost(obj, actor) {
			in.hide(func(s Shown) bool { return s.Object == obj })
		}
	}
}

// show adds s to the timeline; mu must be held.
func (in *Instance) show(s Shown) {
	in.timeline = append(in.timeline, s)
}

// hide drops what match selects from the timeline; mu must be held.
func (in *Instance) hide(match func(Shown) bool) {
	in.timeline = slices.DeleteFunc(in.timeline, match)
}

func objectID(v any) (string, bool) {
	switch o := v.(type) {
	case string:
		return o, o != ""
	case map[string]any:
		id, _ := o["id"].(string)
		return id, id != ""
	}
	return "", false
}

// isActivity reports whether an embedded object is an activity, which
// microblog servers do not show when it is announced.
func isActivity(v any) bool {
	o, ok := v.(map[string]any)
	if !ok {
		return false
	}
	switch o["type"] {
	case "Note", "Page", "Article", "Question", "Video", "Event":
		return false
	}
	_, hasObject := o["object"]
	return hasObject || o["type"] != nil
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && ua.Host == ub.Host
}
