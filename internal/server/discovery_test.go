package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
)

// TestEveryActorRoundTripsWebFinger walks every actor the instance
// publishes — the instance actor and each community — the way Mastodon and
// GoToSocial check an actor that signs a request to them: fetch the actor,
// WebFinger acct:preferredUsername@host, and require the subject and the
// self link to lead back to the same actor; then the same by the actor's
// URL. GoToSocial refused our instance actor when this failed (issue 10).
func TestEveryActorRoundTripsWebFinger(t *testing.T) {
	ti := newInstance(t, true)
	if _, err := ti.svc.CreateCommunity(context.Background(), community.NewCommunity{
		Name: "river_keepers", Title: "River keepers", Summary: "Restoring small rivers.",
	}); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(ti.URL, "http://")
	actors := []string{ti.URL + "/actor"}
	cs, err := ti.svc.Communities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		actors = append(actors, ti.actor(c.Name))
	}
	if len(actors) != 3 {
		t.Fatalf("actors = %v, want the instance actor and two communities", actors)
	}
	for _, actor := range actors {
		t.Run(actor, func(t *testing.T) {
			res, body := get(t, actor, `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s = %d", actor, res.StatusCode)
			}
			doc := decode(t, body)
			if doc["id"] != actor {
				t.Fatalf("id = %v, want %s", doc["id"], actor)
			}
			user, _ := doc["preferredUsername"].(string)
			if user == "" || strings.ContainsAny(user, ":@/") {
				t.Fatalf("preferredUsername = %q: want a name that fits acct:NAME@HOST", user)
			}
			for _, resource := range []string{"acct:" + user + "@" + host, actor} {
				res, body := get(t, ti.URL+"/.well-known/webfinger?"+url.Values{"resource": {resource}}.Encode(), "application/jrd+json")
				if res.StatusCode != 200 {
					t.Fatalf("WebFinger(%q) = %d %s", resource, res.StatusCode, body)
				}
				jrd := decode(t, body)
				if jrd["subject"] != "acct:"+user+"@"+host {
					t.Errorf("WebFinger(%q).subject = %v, want acct:%s@%s", resource, jrd["subject"], user, host)
				}
				if self := selfLink(jrd); self != actor {
					t.Errorf("WebFinger(%q) self = %q, want %s", resource, self, actor)
				}
			}
		})
	}
}

// selfLink returns the href of the ActivityPub self link of a JRD, read as
// GoToSocial reads it: rel self with an ActivityStreams type.
func selfLink(jrd map[string]any) string {
	links, _ := jrd["links"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		typ, _ := m["type"].(string)
		if m["rel"] == "self" && (typ == "application/activity+json" || typ == `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`) {
			href, _ := m["href"].(string)
			return href
		}
	}
	return ""
}

// TestNodeInfoAsGoToSocialReadsIt follows the discovery document the way
// GoToSocial does: the last link whose rel is a 2.x schema, then a content
// type of plain JSON or the 2.0 profile. With 2.1 last it logged "non
// nodeinfo schema 2.0 response" and never learned our software.
func TestNodeInfoAsGoToSocialReadsIt(t *testing.T) {
	ti := newInstance(t, true)
	res, body := get(t, ti.URL+"/.well-known/nodeinfo", "application/json")
	if res.StatusCode != 200 {
		t.Fatalf("discovery: %d", res.StatusCode)
	}
	var href string
	var rels []string
	for _, l := range decode(t, body)["links"].([]any) {
		m := l.(map[string]any)
		rel, _ := m["rel"].(string)
		rels = append(rels, rel)
		if strings.HasPrefix(rel, "http://nodeinfo.diaspora.software/ns/schema/2") {
			href, _ = m["href"].(string)
		}
	}
	if len(rels) != 2 {
		t.Errorf("discovery rels = %v, want 2.0 and 2.1", rels)
	}
	res, body = get(t, href, "application/json")
	ct := res.Header.Get("Content-Type")
	if res.StatusCode != 200 || (ct != "application/json" && ct != `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"`) {
		t.Fatalf("GET %s = %d %q, want 200 with a NodeInfo 2.0 content type", href, res.StatusCode, ct)
	}
	if sw := decode(t, body)["software"].(map[string]any); sw["name"] != "coppice" {
		t.Errorf("software = %v", sw)
	}
}
