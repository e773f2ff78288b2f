package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/textdiff"
)

// Wiki lists a community's wiki pages.
func (s *Site) Wiki() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.community.Community(r.Context(), pathVar(r, "name"))
		if err != nil {
			return err
		}
		_, pages, err := s.community.WikiPages(r.Context(), c, 0, 500)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "wiki", map[string]any{"Title": "Wiki of " + c.Title, "Community": s.view(c), "Pages": pages})
	})
}

// WikiPage shows a wiki page at its current revision, or at ?revision=N.
func (s *Site) WikiPage() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		n := 0
		if q := r.URL.Query().Get("revision"); q != "" {
			v, err := strconv.Atoi(q)
			if err != nil || v < 1 {
				return errNotFound
			}
			n = v
		}
		v, err := s.community.WikiPage(r.Context(), pathVar(r, "name"), pathVar(r, "slug"), n)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "wiki_page", map[string]any{
			"Title": v.Page.Title, "Community": s.view(v.Community), "Page": v.Page, "Revision": v.Revision,
			"By": s.editors(r, []string{v.Revision.Author})[v.Revision.Author],
			// The HTML was rendered from Markdown and sanitized when saved.
			"Body": template.HTML(v.Revision.HTML), "Old": n != 0 && n != v.Page.Revision,
		})
	})
}

// WikiHistory lists every revision of a page, who made it and why.
func (s *Site) WikiHistory() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		v, revs, err := s.community.WikiHistory(r.Context(), pathVar(r, "name"), pathVar(r, "slug"))
		if err != nil {
			return err
		}
		authors := make([]string, len(revs))
		for i, rev := range revs {
			authors[i] = rev.Author
		}
		return s.render(w, r, http.StatusOK, "wiki_history", map[string]any{"Title": "History of " + v.Page.Title, "Community": s.view(v.Community),
			"Page": v.Page, "Revisions": revs, "By": s.editors(r, authors)})
	})
}

// WikiDiff shows what changed between two revisions (?from=N&to=M).
func (s *Site) WikiDiff() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		from, err1 := strconv.Atoi(r.URL.Query().Get("from"))
		to, err2 := strconv.Atoi(r.URL.Query().Get("to"))
		if err1 != nil || err2 != nil || from < 1 || to < 1 {
			return badRequest("give two revisions: ?from=N&to=M")
		}
		v, diff, err := s.community.WikiDiff(r.Context(), pathVar(r, "name"), pathVar(r, "slug"), from, to)
		if err != nil {
			return err
		}
		return s.render(w, r, http.StatusOK, "wiki_diff", map[string]any{"Title": v.Page.Title + ": revisions " + strconv.Itoa(from) + " to " + strconv.Itoa(to),
			"Community": s.view(v.Community), "Page": v.Page, "From": from, "To": to, "Diff": diffView(diff)})
	})
}

// editors maps the authors of wiki revisions to what a reader sees: a
// member as @name@host, a console user or the operator as "the stewards".
func (s *Site) editors(r *http.Request, authors []string) map[string]string {
	var actors []string
	for _, a := range authors {
		if strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "http://") {
			actors = append(actors, a)
		}
	}
	known, err := s.community.KnownActors(r.Context(), actors)
	if err != nil {
		known = nil
	}
	out := map[string]string{}
	for _, a := range authors {
		if strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "http://") {
			out[a] = handleOf(known[a], a)
		} else {
			out[a] = "the community's stewards"
		}
	}
	return out
}

// badRequest is a request the visitor can fix, with what to fix.
func badRequest(msg string) error { return &statusError{status: http.StatusBadRequest, msg: msg} }

type diffLine struct {
	Class, Sign, Text string
}

func diffView(d []textdiff.Line) []diffLine {
	out := make([]diffLine, len(d))
	for i, l := range d {
		switch l.Op {
		case textdiff.Added:
			out[i] = diffLine{"added", "+", l.Text}
		case textdiff.Removed:
			out[i] = diffLine{"removed", "−", l.Text}
		default:
			out[i] = diffLine{"same", " ", l.Text}
		}
	}
	return out
}

type decisionView struct {
	community.DecisionView
	Open    bool
	Options []optionView
	Closes  string
}

type optionView struct {
	Name    string
	Votes   int
	Percent int
}

func decisionOf(v community.DecisionView, now time.Time) decisionView {
	dv := decisionView{DecisionView: v, Open: v.Open(now)}
	loc, err := time.LoadLocation(v.Decision.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	dv.Closes = v.Decision.ClosesAt.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
	total := 0
	for _, n := range v.Tally.Votes {
		total += n
	}
	for i, o := range v.Decision.Options {
		ov := optionView{Name: o}
		if i < len(v.Tally.Votes) {
			ov.Votes = v.Tally.Votes[i]
		}
		if total > 0 {
			ov.Percent = ov.Votes * 100 / total
		}
		dv.Options = append(dv.Options, ov)
	}
	return dv
}

// Decision shows a decision: its options, votes and turnout.
func (s *Site) Decision() http.Handler {
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.community.Decision(r.Context(), s.objectIRI(r))
		if err != nil {
			return err
		}
		u, _ := url.Parse(v.Decision.IRI)
		return s.render(w, r, http.StatusOK, "decision", map[string]any{"Title": v.Decision.Question, "Community": s.view(v.Community),
			"Decision": decisionOf(v, time.Now()), "VotePath": u.Path + "/vote"})
	})
}
