package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/coppice-dev/coppice/storage"
)

type contributorView struct {
	Handle  string
	IRI     string
	Page    string
	Total   int
	Summary string
	Role    string
}

var kindLabels = []struct{ kind, one, many string }{
	{storage.ContribThread, "thread", "threads"},
	{storage.ContribReply, "reply", "replies"},
	{storage.ContribLikeReceived, "like received", "likes received"},
	{storage.ContribResourceProposed, "resource proposed", "resources proposed"},
	{storage.ContribResourcePublished, "resource published", "resources published"},
	{storage.ContribMeetingAttended, "meeting", "meetings"},
}

func summarize(byKind map[string]int) string {
	var parts []string
	for _, k := range kindLabels {
		n := byKind[k.kind]
		switch {
		case n == 1:
			parts = append(parts, "1 "+k.one)
		case n > 1:
			parts = append(parts, itoa(n)+" "+k.many)
		}
	}
	return strings.Join(parts, " · ")
}

func memberPage(iri string) string {
	return "/members?actor=" + url.QueryEscape(iri)
}

// Member shows a person's contributions and roles across the instance's
// communities.
func (s *Site) Member() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		iri := r.URL.Query().Get("actor")
		if iri == "" || len(iri) > 1000 {
			return errNotFound
		}
		cs, err := s.community.Contributions(r.Context(), iri)
		if err != nil {
			return err
		}
		communities, err := s.community.Communities(r.Context())
		if err != nil {
			return err
		}
		byID := map[int64]storage.Community{}
		for _, c := range communities {
			byID[c.ID] = c
		}
		type row struct {
			Name, Title, Role, Summary string
		}
		var rows []row
		seen := map[int64]bool{}
		for _, ctb := range cs {
			c := byID[ctb.CommunityID]
			role, _ := s.community.Role(r.Context(), c, iri)
			rows = append(rows, row{Name: c.Name, Title: c.Title, Role: role, Summary: summarize(ctb.ByKind)})
			seen[c.ID] = true
		}
		for _, c := range communities {
			if seen[c.ID] {
				continue
			}
			if role, _ := s.community.Role(r.Context(), c, iri); role != "" && role != storage.RoleMember {
				rows = append(rows, row{Name: c.Name, Title: c.Title, Role: role})
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Summary > rows[j].Summary })
		a, _ := s.community.KnownActor(r.Context(), iri)
		return s.render(w, r, http.StatusOK, "member", map[string]any{
			"Title": displayName(a, iri), "Handle": handleOf(a, iri), "IRI": iri, "Communities": rows,
		})
	})
}

func displayName(a storage.Actor, iri string) string {
	if a.Name != "" {
		return a.Name
	}
	return handleOf(a, iri)
}

// ModerationLog shows a community's public moderation log.
func (s *Site) ModerationLog() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		log, err := s.community.ModerationLog(r.Context(), c)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "modlog", map[string]any{"Title": "Moderation log of " + c.Title, "Community": s.view(c), "Entries": log})
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// peopleView is the people side of a community page: roles, the most
// active members of the last 90 days, related communities and shares.
type peopleView struct {
	Stewards     []contributorView
	Contributors []contributorView
	Related      []string
	Shares       []storage.Share
}

func (s *Site) people(r *http.Request, c storage.Community) (peopleView, error) {
	ctx := r.Context()
	var pv peopleView
	_, members, err := s.community.Members(ctx, c, 0, 200)
	if err != nil {
		return pv, err
	}
	var iris []string
	for _, m := range members {
		if m.Role != storage.RoleMember {
			iris = append(iris, m.ActorIRI)
		}
	}
	top, err := s.community.TopContributors(ctx, c, 10)
	if err != nil {
		return pv, err
	}
	for _, t := range top {
		iris = append(iris, t.ActorIRI)
	}
	actors, err := s.community.KnownActors(ctx, iris)
	if err != nil {
		return pv, err
	}
	for _, m := range members {
		if m.Role == storage.RoleMember {
			continue
		}
		a := actors[m.ActorIRI]
		pv.Stewards = append(pv.Stewards, contributorView{Handle: handleOf(a, m.ActorIRI), IRI: m.ActorIRI, Page: memberPage(m.ActorIRI), Role: m.Role})
	}
	for _, t := range top {
		a := actors[t.ActorIRI]
		pv.Contributors = append(pv.Contributors, contributorView{Handle: handleOf(a, t.ActorIRI), IRI: t.ActorIRI, Page: memberPage(t.ActorIRI),
			Total: t.Total, Summary: summarize(t.ByKind)})
	}
	rel, err := s.community.RelatedCommunities(ctx, c)
	if err != nil {
		return pv, err
	}
	for _, x := range rel {
		if x.State == "accepted" {
			pv.Related = append(pv.Related, x.RemoteIRI)
		}
	}
	pv.Shares, err = s.community.Shares(ctx, c)
	return pv, err
}
