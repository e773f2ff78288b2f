package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

type postView struct {
	IRI        string
	URL        string // the original, on the author's server
	Author     string
	AuthorURL  string
	Handle     string
	Name       string
	Content    template.HTML // sanitized on ingest
	Published  time.Time
	Deleted    bool
	IsReply    bool
	Likes      int
	Dislikes   int
	Anchor     string
	ReplyingTo string
}

type threadView struct {
	ID       int64
	Title    string
	URL      string
	Replies  int
	Last     time.Time
	Pinned   bool
	Locked   bool
	Author   string
	Starter  string // the author's handle
	Original string
}

// handleOf turns an actor into @name@host, or the IRI's host when we know
// nothing more.
func handleOf(a storage.Actor, iri string) string {
	if a.PreferredUsername != "" {
		return "@" + a.PreferredUsername + "@" + a.Host
	}
	if u, err := url.Parse(iri); err == nil {
		return strings.TrimPrefix(u.Path, "/") + " on " + u.Host
	}
	return iri
}

func (s *Site) threadURL(community string, id int64) string {
	u := *s.base
	u.Path = "/c/" + community + "/threads/" + strconv.FormatInt(id, 10)
	return u.String()
}

// Thread shows a discussion: its posts in order, each linking to its
// original.
func (s *Site) Thread() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseInt(pathVar(r, "id"), 10, 64)
		if err != nil {
			return errNotFound
		}
		tv, err := s.community.Thread(r.Context(), pathVar(r, "name"), id)
		if err != nil {
			return err
		}
		if tv.Thread.Removed {
			return s.render(w, r, http.StatusGone, "error", map[string]any{"Title": "Removed", "Message": "A moderator removed this discussion."})
		}
		var posts []postView
		for i, p := range tv.Posts {
			a := tv.Authors[p.AuthorIRI]
			original := p.URL
			if original == "" {
				original = p.IRI
			}
			name := a.Name
			if name == "" {
				name = handleOf(a, p.AuthorIRI)
			}
			posts = append(posts, postView{
				IRI: p.IRI, URL: original, Author: name, AuthorURL: p.AuthorIRI, Handle: handleOf(a, p.AuthorIRI),
				Name: p.Name, Content: template.HTML(p.Content), Published: p.Published, Deleted: !p.DeletedAt.IsZero(),
				IsReply: i > 0, Likes: p.Likes, Dislikes: p.Dislikes, Anchor: "post-" + strconv.FormatInt(p.ID, 10),
				ReplyingTo: p.InReplyTo,
			})
		}
		return s.render(w, r, http.StatusOK, "thread", map[string]any{
			"Title":     tv.Thread.Title,
			"Community": s.view(tv.Community),
			"Thread":    threadView{ID: tv.Thread.ID, Title: tv.Thread.Title, Locked: tv.Thread.Locked, Pinned: tv.Thread.Pinned, Replies: tv.Thread.Replies},
			"Posts":     posts,
		})
	})
}
