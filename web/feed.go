package web

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Atom feed (RFC 4287) of a community: its most recently active threads,
// each with its first post.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomEntry struct {
	Title   string     `xml:"title"`
	ID      string     `xml:"id"`
	Updated string     `xml:"updated"`
	Links   []atomLink `xml:"link"`
	Author  atomAuthor `xml:"author"`
	Content atomText   `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// Feed serves /c/{name}/feed.atom.
func (s *Site) Feed() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		_, threads, err := s.community.Threads(r.Context(), c, 0, 30)
		if err != nil {
			return err
		}
		v := s.view(c)
		feed := atomFeed{
			Title:   c.Title,
			ID:      v.URL,
			Updated: c.UpdatedAt.UTC().Format(time.RFC3339),
			Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: v.URL}, {Rel: "self", Type: "application/atom+xml", Href: v.URL + "/feed.atom"}},
			Author:  atomAuthor{Name: c.Title, URI: v.URL},
		}
		for _, t := range threads {
			tv, err := s.community.Thread(r.Context(), c.Name, t.ID)
			if err != nil {
				return err
			}
			e := atomEntry{Title: t.Title, ID: s.threadURL(c.Name, t.ID), Updated: t.LastActivityAt.UTC().Format(time.RFC3339),
				Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: s.threadURL(c.Name, t.ID)}}}
			if len(tv.Posts) > 0 {
				p := tv.Posts[0]
				a := tv.Authors[p.AuthorIRI]
				e.Author = atomAuthor{Name: displayName(a, p.AuthorIRI), URI: p.AuthorIRI}
				// Sanitized on ingest; Atom carries it escaped as type html.
				e.Content = atomText{Type: "html", Body: p.Content}
			} else {
				e.Author = atomAuthor{Name: c.Title}
			}
			if e.Updated > feed.Updated { // same RFC 3339 UTC layout: text order is time order
				feed.Updated = e.Updated
			}
			feed.Entries = append(feed.Entries, e)
		}
		b, err := xml.MarshalIndent(feed, "", "  ")
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		_, err = w.Write(append([]byte(xml.Header), b...))
		return err
	})
}

// hostRE is what a visitor may type as their server: a host name with an
// optional port, nothing else.
var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]{1,5})?$`)

// RemoteFollow sends a visitor to the follow page of their own server
// (Mastodon's and most others' /authorize_interaction) for this community.
// Only a bare host name is accepted, and the target URL is built here, so
// this is not an open redirect to arbitrary URLs (FET-12).
func (s *Site) RemoteFollow() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		host := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("server")))
		host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "@")
		if i := strings.LastIndex(host, "@"); i >= 0 {
			host = host[i+1:] // a handle such as @me@example.social
		}
		host = strings.TrimSuffix(host, "/")
		if !hostRE.MatchString(host) {
			v := s.view(c)
			return s.render(w, r, http.StatusBadRequest, "error", map[string]any{"Title": "Which server?",
				"Message": "Type the name of your server, such as mastodon.social, or your handle, such as @you@mastodon.social. Or search for " + v.Handle + " there."})
		}
		target := url.URL{Scheme: "https", Host: host, Path: "/authorize_interaction", RawQuery: url.Values{"uri": {s.view(c).URL}}.Encode()}
		http.Redirect(w, r, target.String(), http.StatusSeeOther)
		return nil
	})
}
