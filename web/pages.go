package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// communityView is what the community templates show.
type communityView struct {
	Name     string
	Title    string
	Summary  []string // paragraphs
	Rules    []string // paragraphs
	Icon     string   // URL of the icon, "" for none
	Handle   string   // @name@host
	URL      string   // the actor URL, which is also this page
	JoinMode string
}

func paragraphs(text string) []string {
	var paras []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return paras
}

func (s *Site) view(c storage.Community) communityView {
	paras := paragraphs(c.Summary)
	u := *s.base
	u.Path = "/c/" + c.Name
	return communityView{
		Name:     c.Name,
		Title:    c.Title,
		Summary:  paras,
		Rules:    paragraphs(c.Rules),
		Icon:     iconURL(c.IconHash, c.IconExt),
		Handle:   "@" + c.Name + "@" + s.base.Host,
		URL:      u.String(),
		JoinMode: c.JoinMode,
	}
}

// Home lists the communities of this instance.
func (s *Site) Home() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		cs, err := s.community.Communities(r.Context())
		if err != nil {
			return err
		}
		views := make([]communityView, 0, len(cs))
		for _, c := range cs {
			views = append(views, s.view(c))
		}
		return s.render(w, r, http.StatusOK, "home", map[string]any{
			"Title":       "Communities on " + s.base.Host,
			"Host":        s.base.Host,
			"Communities": views,
		})
	})
}

// Community shows a community's page: its domain and how to follow it.
func (s *Site) Community() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		v := s.view(c)
		total, ts, err := s.community.Threads(r.Context(), c, 0, 50)
		if err != nil {
			return err
		}
		var threads []threadView
		for _, t := range ts {
			threads = append(threads, threadView{ID: t.ID, Title: t.Title, URL: s.threadURL(c.Name, t.ID), Replies: t.Replies,
				Last: t.LastActivityAt, Pinned: t.Pinned, Locked: t.Locked})
		}
		_, rs, err := s.community.Resources(r.Context(), c, storage.ResourcePublished, 0, 20)
		if err != nil {
			return err
		}
		var resources []resourceView
		for _, res := range rs {
			resources = append(resources, s.resourceView(res))
		}
		_, ms, err := s.community.Meetings(r.Context(), c, 0, 20)
		if err != nil {
			return err
		}
		var meetings []meetingView
		for _, mv := range ms {
			meetings = append(meetings, toMeetingView(mv, time.Now()))
		}
		people, err := s.people(r, c)
		if err != nil {
			return err
		}
		ds, err := s.community.Decisions(r.Context(), c, 20)
		if err != nil {
			return err
		}
		var decisions []decisionView
		for _, d := range ds {
			decisions = append(decisions, decisionOf(d, time.Now()))
		}
		wikiCount, wikiPages, err := s.community.WikiPages(r.Context(), c, 0, 10)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "community", map[string]any{"Title": v.Title, "Community": v, "Threads": threads, "ThreadCount": total,
			"Resources": resources, "Meetings": meetings, "People": people, "Decisions": decisions, "WikiPages": wikiPages, "WikiCount": wikiCount})
	})
}

func iconURL(hash, ext string) string {
	if hash == "" {
		return ""
	}
	return "/media/" + hash + ext
}
